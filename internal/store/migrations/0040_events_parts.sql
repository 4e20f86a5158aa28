-- Events stored for speed of ingest (issue 14). Each index of events is one more B-tree
-- an ingested event changes; the indexes keyed by patient hash (random 64-character keys)
-- and by account (thousands of insertion points) dirtied about one page per event, which
-- every commit wrote to the write-ahead log. Now:
-- * a duplicate is the same organisation, event time, system and id — what a source
--   re-sending an event sends; the unique index on them is also the (org_id, time) index,
--   and grows at its end because events come roughly in time order;
-- * the time index stays: a list of the events of many organisations walks it in time order;
-- * events are grouped into parts of 16,384 consecutive sequence numbers (part = id >> 14);
--   the account and patient indexes begin with the part, so an ingest touches only the end
--   of each index; a query by account or patient visits the parts whose time range
--   (event_parts, one row per organisation and part) meets the asked time range;
-- * pkey is the patient's keyed hash as a 64-bit integer (its first 16 hex digits, low bit
--   set; 0: no patient), a quarter of the index entry of the hash text; patient_hash stays
--   in the row and is compared too.
-- SQLite cannot drop the old inline unique constraint: the table is rebuilt there (ids,
-- and the sequence behind them, kept).
{{sqlite}} CREATE TABLE events_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    system TEXT NOT NULL,
    event_id TEXT NOT NULL,
    time TIMESTAMP NOT NULL,
    account TEXT NOT NULL,
    staff_id TEXT NOT NULL DEFAULT '',
    department TEXT NOT NULL DEFAULT '',
    action TEXT NOT NULL,
    outcome TEXT NOT NULL DEFAULT 'success',
    patient_sealed BLOB,
    patient_hash TEXT NOT NULL DEFAULT '',
    record_type TEXT NOT NULL DEFAULT '',
    record_count INTEGER NOT NULL DEFAULT 0,
    source_ip TEXT NOT NULL DEFAULT '',
    terminal TEXT NOT NULL DEFAULT '',
    raw_sealed BLOB,
    received_at TIMESTAMP NOT NULL,
    part BIGINT NOT NULL DEFAULT 0,
    pkey BIGINT NOT NULL DEFAULT 0
);
{{sqlite}} INSERT INTO events_new (id, org_id, system, event_id, time, account, staff_id, department, action, outcome, patient_sealed, patient_hash, record_type, record_count, source_ip, terminal, raw_sealed, received_at, part, pkey)
    SELECT id, org_id, system, event_id, time, account, staff_id, department, action, outcome, patient_sealed, patient_hash, record_type, record_count, source_ip, terminal, raw_sealed, received_at, id >> 14,
        CASE WHEN patient_hash = '' THEN 0 ELSE (((instr('0123456789abcdef', substr(patient_hash, 1, 1)) - 1) << 60) | ((instr('0123456789abcdef', substr(patient_hash, 2, 1)) - 1) << 56) | ((instr('0123456789abcdef', substr(patient_hash, 3, 1)) - 1) << 52) | ((instr('0123456789abcdef', substr(patient_hash, 4, 1)) - 1) << 48) | ((instr('0123456789abcdef', substr(patient_hash, 5, 1)) - 1) << 44) | ((instr('0123456789abcdef', substr(patient_hash, 6, 1)) - 1) << 40) | ((instr('0123456789abcdef', substr(patient_hash, 7, 1)) - 1) << 36) | ((instr('0123456789abcdef', substr(patient_hash, 8, 1)) - 1) << 32) | ((instr('0123456789abcdef', substr(patient_hash, 9, 1)) - 1) << 28) | ((instr('0123456789abcdef', substr(patient_hash, 10, 1)) - 1) << 24) | ((instr('0123456789abcdef', substr(patient_hash, 11, 1)) - 1) << 20) | ((instr('0123456789abcdef', substr(patient_hash, 12, 1)) - 1) << 16) | ((instr('0123456789abcdef', substr(patient_hash, 13, 1)) - 1) << 12) | ((instr('0123456789abcdef', substr(patient_hash, 14, 1)) - 1) << 8) | ((instr('0123456789abcdef', substr(patient_hash, 15, 1)) - 1) << 4) | ((instr('0123456789abcdef', substr(patient_hash, 16, 1)) - 1) << 0) | 1) END
    FROM events ORDER BY id;
{{sqlite}} DELETE FROM sqlite_sequence WHERE name = 'events_new';
{{sqlite}} INSERT INTO sqlite_sequence (name, seq) SELECT 'events_new', seq FROM sqlite_sequence WHERE name = 'events';
{{sqlite}} DROP TABLE events;
{{sqlite}} ALTER TABLE events_new RENAME TO events;
{{postgres}} ALTER TABLE events DROP CONSTRAINT events_org_id_system_event_id_key;
{{postgres}} DROP INDEX events_org_time;
{{postgres}} DROP INDEX events_account_time;
{{postgres}} DROP INDEX events_patient;
{{postgres}} ALTER TABLE events ADD COLUMN part BIGINT NOT NULL DEFAULT 0, ADD COLUMN pkey BIGINT NOT NULL DEFAULT 0;
{{postgres}} UPDATE events SET part = id >> 14,
    pkey = CASE WHEN patient_hash = '' THEN 0 ELSE (('x' || substr(patient_hash, 1, 16))::bit(64)::bigint | 1) END;
CREATE UNIQUE INDEX events_dedup ON events (org_id, time, system, event_id);
{{sqlite}} CREATE INDEX events_time ON events (time);
CREATE INDEX events_part_account ON events (part, account, time);
CREATE INDEX events_part_patient ON events (part, pkey, time) WHERE pkey <> 0;

CREATE TABLE event_parts (
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    part BIGINT NOT NULL,
    min_time {{ts}} NOT NULL,
    max_time {{ts}} NOT NULL,
    PRIMARY KEY (org_id, part)
);
INSERT INTO event_parts (org_id, part, min_time, max_time)
    SELECT org_id, part, MIN(time), MAX(time) FROM events GROUP BY org_id, part;
