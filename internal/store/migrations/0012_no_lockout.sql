-- Sign-in throttling (growing delays per username and address, kept in memory) replaces
-- the lockout that any anonymous client could trigger. Nothing sets or reads
-- users.locked_until for sign-in any more; clear what earlier versions left, so that no
-- account is still shown as locked.
UPDATE users SET locked_until = NULL WHERE locked_until IS NOT NULL;
