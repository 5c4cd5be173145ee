-- Expand step (see docs/decisions/0002 and 0021): images organizers put in questions and
-- choices, re-encoded from their pixels on upload, kept in the database so that every
-- instance serves them. The previous release never reads it.
create table images (
    id blob primary key not null,
    organizer_id blob not null references organizers (id) on delete cascade,
    content_type text not null,
    bytes blob not null,
    sha256 text not null,
    width integer not null,
    height integer not null,
    created_at text not null
);
create index images_organizer_id_idx on images (organizer_id);
