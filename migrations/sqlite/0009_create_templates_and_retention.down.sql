drop index sessions_retention_idx;
alter table sessions drop column anonymized_at;
alter table activities drop column template_key;
drop index sessions_template_idx;
alter table sessions drop column template_variant;
alter table sessions drop column template_version;
alter table sessions drop column template_id;
drop table template_versions;
drop table templates;
