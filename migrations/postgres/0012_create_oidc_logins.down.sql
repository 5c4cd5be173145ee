drop table oidc_logins;
