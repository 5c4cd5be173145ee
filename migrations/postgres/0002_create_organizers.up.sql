-- Organizers are the only accounts: they own sessions. API tokens let scripts act for one
-- organizer; only a hash of each token is stored.
create table organizers (
    id uuid primary key,
    email text not null,
    password_hash text not null,
    is_admin boolean not null default false,
    created_at timestamptz not null
);
-- Emails are compared case-insensitively; the application stores them lowercased.
create unique index organizers_email_key on organizers (email);

create table api_tokens (
    id uuid primary key,
    organizer_id uuid not null references organizers (id) on delete cascade,
    -- 'login': made by signing in, short-lived, also sent as a cookie; 'api': for scripts.
    kind text not null check (kind in ('login', 'api')),
    name text not null,
    token_hash bytea not null,
    created_at timestamptz not null,
    last_used_at timestamptz,
    expires_at timestamptz
);
create unique index api_tokens_token_hash_key on api_tokens (token_hash);
create index api_tokens_organizer_id_idx on api_tokens (organizer_id);
