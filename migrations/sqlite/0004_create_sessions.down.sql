-- Participants reference sessions, so they go first.
drop table participants;
drop table sessions;
