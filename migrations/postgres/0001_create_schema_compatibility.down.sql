-- Nothing else depends on this table; dropping it returns the database to empty.
drop table schema_compatibility;
