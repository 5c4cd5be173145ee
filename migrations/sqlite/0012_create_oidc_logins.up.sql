-- Expand step (see docs/decisions/0002 and 0018): a company sign-in (OpenID Connect) in
-- progress. The browser holds the state in a cookie; this row holds what the callback needs
-- (the nonce and the PKCE verifier) under the state's SHA-256, and is deleted when it is used,
-- so a state works once on any instance. The previous release never reads it.
create table oidc_logins (
    state_hash blob primary key not null,
    nonce text not null,
    pkce_verifier text not null,
    next_path text not null,
    created_at text not null,
    expires_at text not null
);
create index oidc_logins_expires_at_idx on oidc_logins (expires_at);
