drop table paced_progress;
drop table paced_steps;
alter table sessions drop column closes_at, drop column opens_at, drop column pace;
