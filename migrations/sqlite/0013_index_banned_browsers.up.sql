-- Expand step (see docs/decisions/0002): the index a ban's browser check uses.
create index participants_banned_browser_idx on participants (session_id, browser)
    where status = 'banned';
