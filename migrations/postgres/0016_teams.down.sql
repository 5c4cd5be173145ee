alter table participants drop column team;
alter table sessions drop column teams;
