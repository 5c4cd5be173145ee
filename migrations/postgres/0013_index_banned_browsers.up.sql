-- no-transaction
-- Expand step (see docs/decisions/0002): the index a ban's browser check uses. Built
-- concurrently, so joins keep going into `participants` while it is built under the serving
-- release; that cannot run in a transaction, hence the directive above. `if not exists` lets
-- a build that was interrupted be run again (drop an invalid leftover first: see
-- docs/runbooks/database.md).
create index concurrently if not exists participants_banned_browser_idx
    on participants (session_id, browser) where status = 'banned';
