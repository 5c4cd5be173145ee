-- Expand step (see docs/decisions/0002): how long after its round opened an answer first
-- came, in milliseconds. Nullable, so the previous release keeps writing responses without
-- it; analytics treat NULL as unknown. oldest_compatible_version stays as it is.
alter table responses add column answer_ms integer;
