alter table participants drop column browser;
drop table account_links;
alter table api_tokens drop column last_used_from, drop column parent_id;
alter table organizers drop column disabled_at;
