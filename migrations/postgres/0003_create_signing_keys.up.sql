-- The secret that signs participant tokens and CSRF tokens. It lives in the database so that
-- every instance shares it without configuration; the app creates row 1 on first start.
create table signing_keys (
    id integer primary key check (id = 1),
    secret bytea not null,
    created_at timestamptz not null
);
