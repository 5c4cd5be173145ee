create table response_requests_keyed_by_participant (
    participant_id blob not null references participants (id) on delete cascade,
    client_request_id text not null,
    activity_id blob not null references activities (id) on delete cascade,
    round integer not null,
    slot text not null,
    created_at text not null,
    primary key (participant_id, client_request_id)
);
insert into response_requests_keyed_by_participant
    (participant_id, client_request_id, activity_id, round, slot, created_at)
select participant_id, client_request_id, activity_id, round, slot, created_at
from response_requests;
drop table response_requests;
alter table response_requests_keyed_by_participant rename to response_requests;
