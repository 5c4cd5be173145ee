-- Emoji reactions, counted per session, per minute and per emoji: enough for live totals
-- and per-minute sentiment, without a row per tap.
create table reaction_counts (
    session_id blob not null references sessions (id) on delete cascade,
    minute text not null,
    emoji text not null,
    count bigint not null,
    primary key (session_id, minute, emoji)
);
