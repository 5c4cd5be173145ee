-- Expand step (see docs/decisions/0002 and 0011): the request log is keyed by
-- (client_request_id, participant_id) instead of (participant_id, client_request_id), so that
-- time-ordered ids (UUIDv7, which the web app and the load generator send) are appended at
-- one end of the key instead of landing on a random page each. Its rows now go with their
-- activity, through an index on activity_id, and no longer reference participants:
-- participants are only deleted with their session, whose activities take these rows along,
-- and an unindexed reference would make deleting a session scan this table once per
-- participant. The previous release keeps working on this table: its `on conflict` names
-- the same two columns, and neither engine minds their order. oldest_compatible_version
-- stays as it is.
create table response_requests_rekeyed (
    participant_id blob not null,
    client_request_id text not null,
    activity_id blob not null references activities (id) on delete cascade,
    round integer not null,
    slot text not null,
    created_at text not null,
    primary key (client_request_id, participant_id)
);
insert into response_requests_rekeyed
    (participant_id, client_request_id, activity_id, round, slot, created_at)
select participant_id, client_request_id, activity_id, round, slot, created_at
from response_requests;
drop table response_requests;
alter table response_requests_rekeyed rename to response_requests;
create index response_requests_activity_id_idx on response_requests (activity_id);
