drop index response_requests_activity_id_idx;
alter table response_requests
    drop constraint response_requests_pkey,
    add primary key (participant_id, client_request_id),
    add constraint response_requests_participant_id_fkey
        foreign key (participant_id) references participants (id) on delete cascade;
