-- Expand step (see docs/decisions/0002 and 0022): a session runs live (the presenter paces
-- it) or self-paced (each participant goes through its activities alone), optionally
-- between an opening and a closing time. Each participant's first sight of each step (an
-- activity, or one question of a quiz) is recorded, since a self-paced quiz times each
-- question from it; and where each participant is now, for the organizer's progress view.
-- Every new column has a default or is nullable and every table is new, so the previous
-- release keeps working. oldest_compatible_version stays.
alter table sessions add column pace text not null default 'live' check (pace in ('live', 'self_paced'));
alter table sessions add column opens_at text;
alter table sessions add column closes_at text;

create table paced_steps (
    participant_id blob not null references participants (id) on delete cascade,
    activity_id blob not null references activities (id) on delete cascade,
    round integer not null,
    step integer not null,
    seen_at text not null,
    primary key (participant_id, activity_id, round, step)
);
create index paced_steps_activity_id_idx on paced_steps (activity_id);

create table paced_progress (
    participant_id blob primary key not null references participants (id) on delete cascade,
    session_id blob not null references sessions (id) on delete cascade,
    activity_id blob references activities (id) on delete set null,
    finished_at text,
    updated_at text not null
);
create index paced_progress_session_id_idx on paced_progress (session_id);
create index paced_progress_activity_id_idx on paced_progress (activity_id);
