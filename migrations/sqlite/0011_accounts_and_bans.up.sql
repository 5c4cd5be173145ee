-- Expand step (see docs/decisions/0002 and 0017): organizers can be disabled; tokens
-- record who made them (an API token made with another API token ends with it) and where
-- they were last used; one-time links invite an organizer or reset a password; and a
-- participant remembers the browser it joined from, so a ban can cover that browser for the
-- rest of the session. Every new column is nullable and every new table is new, so the
-- previous release keeps working. oldest_compatible_version stays.
alter table organizers add column disabled_at text;

alter table api_tokens add column parent_id blob references api_tokens (id) on delete cascade;
alter table api_tokens add column last_used_from text;
create index api_tokens_parent_id_idx on api_tokens (parent_id);

-- A one-time link: 'invite' makes a new organizer with `email`; 'reset' sets a new
-- password for `organizer_id`. Only a hash of the secret is stored.
create table account_links (
    id blob primary key not null,
    token_hash blob not null,
    purpose text not null check (purpose in ('invite', 'reset')),
    email text not null,
    organizer_id blob references organizers (id) on delete cascade,
    is_admin integer not null default 0,
    created_by blob references organizers (id) on delete set null,
    created_at text not null,
    expires_at text not null,
    used_at text
);
create unique index account_links_token_hash_key on account_links (token_hash);
create index account_links_organizer_id_idx on account_links (organizer_id);
create index account_links_created_by_idx on account_links (created_by);

-- SHA-256 of the browser's `conflicto_browser` cookie, hex. Its index is migration 0013.
alter table participants add column browser text;
