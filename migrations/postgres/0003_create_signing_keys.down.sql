-- Dropping the key invalidates every participant token and CSRF token.
drop table signing_keys;
