-- An activity is one step of a session (a poll, a word cloud, ...). `kind` names the module
-- that validates `config` (JSON text) and folds answers into results.
create table activities (
    id blob primary key not null,
    session_id blob not null references sessions (id) on delete cascade,
    kind text not null,
    title text not null,
    position integer not null,
    config text not null,
    -- Kind-specific run-time state changed by host commands (a poll's lock, a quiz's question).
    kind_state text not null default '{}',
    state text not null check (state in ('draft', 'published', 'active', 'closed')),
    -- Reopening a closed activity starts a new round; answers of each round are kept apart.
    round integer not null default 1,
    results_visibility text not null check (results_visibility in ('live', 'hidden')),
    results_revealed integer not null default 0,
    time_limit_seconds integer,
    activated_at text,
    deadline_at text,
    closed_at text,
    created_at text not null,
    updated_at text not null
);
-- At most one active activity per session, enforced by the database.
create unique index activities_one_active_key on activities (session_id) where state = 'active';
create index activities_session_position_idx on activities (session_id, position);
