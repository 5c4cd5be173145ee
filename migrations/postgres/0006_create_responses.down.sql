-- Request ids reference participants and activities, responses reference both too.
drop table response_requests;
drop table responses;
