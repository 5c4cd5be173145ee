-- no-transaction
drop index concurrently if exists participants_banned_browser_idx;
