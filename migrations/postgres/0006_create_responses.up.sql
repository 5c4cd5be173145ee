-- A response is one participant's answer in one slot of one round of an activity. The kind
-- decides the slot: a poll has one ("vote", replaced when the vote changes), a Q&A has one
-- per question asked. So (activity, round, participant, slot) is unique and votes are
-- counted per participant, never per row.
create table responses (
    id uuid primary key,
    activity_id uuid not null references activities (id) on delete cascade,
    session_id uuid not null references sessions (id) on delete cascade,
    participant_id uuid not null references participants (id) on delete cascade,
    round integer not null,
    slot text not null,
    answer text not null,
    client_request_id text,
    created_at timestamptz not null,
    updated_at timestamptz not null
);
create unique index responses_slot_key on responses (activity_id, round, participant_id, slot);
create index responses_participant_id_idx on responses (participant_id);
create index responses_session_id_idx on responses (session_id);

-- Every client_request_id ever accepted, so a retried submission is answered as a replay
-- and never applied twice, even after the vote it carried was changed.
create table response_requests (
    participant_id uuid not null references participants (id) on delete cascade,
    client_request_id text not null,
    activity_id uuid not null references activities (id) on delete cascade,
    round integer not null,
    slot text not null,
    created_at timestamptz not null,
    primary key (participant_id, client_request_id)
);
