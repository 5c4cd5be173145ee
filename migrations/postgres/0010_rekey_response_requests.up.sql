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
alter table response_requests
    drop constraint response_requests_participant_id_fkey,
    drop constraint response_requests_pkey,
    add primary key (client_request_id, participant_id);
create index response_requests_activity_id_idx on response_requests (activity_id);
