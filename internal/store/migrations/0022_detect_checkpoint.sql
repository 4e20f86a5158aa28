-- The live detection runner's checkpoint (package detect): the sequence number (events.id)
-- of the last event it evaluated, moved in the same transaction as the alerts those
-- events raised, so that after a restart every event is evaluated exactly once.
CREATE TABLE detect_checkpoint (
    name TEXT PRIMARY KEY,
    seq BIGINT NOT NULL,
    updated_at {{ts}} NOT NULL
);
