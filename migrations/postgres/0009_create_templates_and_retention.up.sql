-- Expand step (see docs/decisions/0002 and 0009): templates, their immutable numbered
-- versions, where a session came from, and when its personal data was removed. New columns
-- on existing tables are nullable, so the previous release keeps reading and writing those
-- tables as before; it never sees the template tables. oldest_compatible_version stays.
create table templates (
    id uuid primary key,
    organizer_id uuid not null references organizers (id) on delete cascade,
    name text not null,
    description text not null default '',
    created_at timestamptz not null,
    updated_at timestamptz not null
);
-- Names are unique per organizer; the application compares them case-sensitively.
create unique index templates_organizer_name_key on templates (organizer_id, name);

-- A version is never updated: each save inserts the next number. The definition is the
-- JSON document of docs/templates.md (activities, each with its key, and variants).
create table template_versions (
    template_id uuid not null references templates (id) on delete cascade,
    version integer not null,
    note text not null default '',
    definition text not null,
    -- The session it was saved from, if any; no foreign key, so deleting that session keeps
    -- the version.
    source_session_id uuid,
    created_at timestamptz not null,
    primary key (template_id, version)
);

-- The template version (and variant) a session was made from or last saved as. No foreign
-- key: a session keeps its history when the template is deleted.
alter table sessions add column template_id uuid;
alter table sessions add column template_version integer;
alter table sessions add column template_variant text;
create index sessions_template_idx on sessions (template_id, template_version);
-- The key of the template activity this activity came from, so saving the session again
-- tells edits from additions and removals.
alter table activities add column template_key text;

-- When the retention period (or the organizer) removed the session's nicknames and free
-- text; counts stay. The partial index finds the completed sessions still to do.
alter table sessions add column anonymized_at timestamptz;
create index sessions_retention_idx on sessions (completed_at) where anonymized_at is null;
