-- Organizers are the only accounts: they own sessions. API tokens let scripts act for one
-- organizer; only a hash of each token is stored.
create table organizers (
    id blob primary key not null,
    email text not null,
    password_hash text not null,
    is_admin integer not null default 0,
    created_at text not null
);
-- Emails are compared case-insensitively; the application stores them lowercased.
create unique index organizers_email_key on organizers (email);

create table api_tokens (
    id blob primary key not null,
    organizer_id blob not null references organizers (id) on delete cascade,
    -- 'login': made by signing in, short-lived, also sent as a cookie; 'api': for scripts.
    kind text not null check (kind in ('login', 'api')),
    name text not null,
    token_hash blob not null,
    created_at text not null,
    last_used_at text,
    expires_at text
);
create unique index api_tokens_token_hash_key on api_tokens (token_hash);
create index api_tokens_organizer_id_idx on api_tokens (organizer_id);
