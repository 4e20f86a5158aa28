-- Audit events of hospital systems (package events), one row per event. A source's event
-- id is unique per organisation and system: a second event with it is dropped. The
-- patient identifier is never stored in clear: patient_sealed holds it sealed with SM4-GCM
-- under events.key (outside the database) and patient_hash a keyed hash (HMAC-SHA256 under
-- the same file) that finds a patient's events without opening every row; both are empty
-- for an event without a patient. The raw original (which names the patient too) is kept
-- sealed in raw_sealed under the same key; NULL when there was none.
CREATE TABLE events (
    id {{pk}},
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    system TEXT NOT NULL,
    event_id TEXT NOT NULL,
    time {{ts}} NOT NULL,
    account TEXT NOT NULL,
    staff_id TEXT NOT NULL DEFAULT '',
    department TEXT NOT NULL DEFAULT '',
    action TEXT NOT NULL,
    outcome TEXT NOT NULL DEFAULT 'success',
    patient_sealed {{blob}},
    patient_hash TEXT NOT NULL DEFAULT '',
    record_type TEXT NOT NULL DEFAULT '',
    record_count INTEGER NOT NULL DEFAULT 0,
    source_ip TEXT NOT NULL DEFAULT '',
    terminal TEXT NOT NULL DEFAULT '',
    raw_sealed {{blob}},
    received_at {{ts}} NOT NULL,
    UNIQUE (org_id, system, event_id)
);

CREATE INDEX events_org_time ON events (org_id, time);
CREATE INDEX events_account_time ON events (account, time);
CREATE INDEX events_patient ON events (patient_hash, time);
CREATE INDEX events_time ON events (time);
