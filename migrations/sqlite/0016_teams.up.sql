-- Expand step (see docs/decisions/0002 and 0023): a session may have teams for quizzes and
-- buzzers (JSON: names, how they are assigned, how the race ranks), and a participant a
-- team (an index into the names). Both nullable, so the previous release keeps working.
-- oldest_compatible_version stays.
alter table sessions add column teams text;
alter table participants add column team integer;
