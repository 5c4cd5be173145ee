alter table participants drop column browser;
drop table account_links;
-- SQLite cannot drop a column with a foreign key, so api_tokens is rebuilt as 0002 made it.
create table api_tokens_before (
    id blob primary key not null,
    organizer_id blob not null references organizers (id) on delete cascade,
    kind text not null check (kind in ('login', 'api')),
    name text not null,
    token_hash blob not null,
    created_at text not null,
    last_used_at text,
    expires_at text
);
insert into api_tokens_before
    (id, organizer_id, kind, name, token_hash, created_at, last_used_at, expires_at)
select id, organizer_id, kind, name, token_hash, created_at, last_used_at, expires_at
from api_tokens;
drop table api_tokens;
alter table api_tokens_before rename to api_tokens;
create unique index api_tokens_token_hash_key on api_tokens (token_hash);
create index api_tokens_organizer_id_idx on api_tokens (organizer_id);
alter table organizers drop column disabled_at;
