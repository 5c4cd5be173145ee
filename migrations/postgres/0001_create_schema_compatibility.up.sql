-- Records the oldest schema version a running release may know and still be correct on
-- this database. Expand migrations leave it alone; a contract migration (one that drops or
-- renames something an older release still uses) raises it. `serve` reads it to decide
-- whether it may start on a schema newer than its own (see docs/decisions/0002).
create table schema_compatibility (
    id integer primary key check (id = 1),
    oldest_compatible_version bigint not null
);
insert into schema_compatibility (id, oldest_compatible_version) values (1, 1);
