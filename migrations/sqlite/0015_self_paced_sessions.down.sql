drop table paced_progress;
drop table paced_steps;
alter table sessions drop column closes_at;
alter table sessions drop column opens_at;
alter table sessions drop column pace;
