-- A session is one live event; participants join it with a code and a nickname.
create table sessions (
    id blob primary key not null,
    organizer_id blob not null references organizers (id) on delete cascade,
    title text not null,
    description text not null default '',
    status text not null check (status in ('draft', 'active', 'completed')),
    join_code text not null,
    max_participants integer not null,
    -- Active participants; updated with a conditional increment so capacity holds under races.
    participant_count integer not null default 0,
    settings text not null,
    created_at text not null,
    updated_at text not null,
    started_at text,
    completed_at text
);
-- Codes are reused once a session is completed, never while it is open.
create unique index sessions_open_join_code_key on sessions (join_code) where status <> 'completed';
create index sessions_organizer_id_idx on sessions (organizer_id, created_at);

create table participants (
    id blob primary key not null,
    session_id blob not null references sessions (id) on delete cascade,
    nickname text not null,
    -- The nickname case-folded and with inner spaces collapsed: uniqueness is on this.
    nickname_key text not null,
    status text not null check (status in ('active', 'removed', 'banned')),
    joined_at text not null,
    last_seen_at text not null
);
-- A removed participant frees the nickname; a banned one keeps it blocked.
create unique index participants_nickname_key on participants (session_id, nickname_key)
    where status <> 'removed';
create index participants_session_id_idx on participants (session_id, joined_at);
