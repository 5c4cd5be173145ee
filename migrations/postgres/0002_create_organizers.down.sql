-- Tokens reference organizers, so they go first.
drop table api_tokens;
drop table organizers;
