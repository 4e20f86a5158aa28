-- Leases share background work among the processes serving one database (package
-- lease): a lease names a job, the process holding it and when it expires; the holder
-- renews it (heartbeat) well before then, and another process takes it only once it has
-- expired. Each serving process also holds a lease of its own, "node:…", for as long as
-- it lives.
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    acquired_at {{ts}} NOT NULL,
    heartbeat {{ts}} NOT NULL,
    expires_at {{ts}} NOT NULL
);
CREATE INDEX leases_expires ON leases (expires_at);
-- The lease of the process that runs a path job: a job is taken over (marked failed as
-- interrupted) only when that lease has expired. Empty for scans stored before, which
-- no live process owns.
ALTER TABLE dlp_scans ADD COLUMN owner TEXT NOT NULL DEFAULT '';
