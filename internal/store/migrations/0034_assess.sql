-- Compliance assessments (package assess): an assessment of a hospital, or of one of its
-- business systems, against a control catalogue (MLPS level 3, GB/T 39725, HIPAA); the
-- status of each requirement item with its history; evidence per item (files, links to
-- platform records, results of automatic checks), each with an expiry; and the progress
-- records a chart draws week by week.
CREATE TABLE assessments (
    id {{pk}},
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    asset_id BIGINT REFERENCES assets(id),      -- the business system assessed (NULL: the whole hospital)
    catalogue TEXT NOT NULL,
    title TEXT NOT NULL,
    assessor TEXT NOT NULL DEFAULT '',
    starts_on {{ts}} NOT NULL,
    due_on {{ts}},
    checked_at {{ts}},                          -- when the automatic checks last ran
    created_by TEXT NOT NULL,
    created_at {{ts}} NOT NULL,
    updated_at {{ts}} NOT NULL
);
CREATE INDEX assessments_org ON assessments (org_id);

CREATE TABLE assess_items (
    id {{pk}},
    assessment_id BIGINT NOT NULL REFERENCES assessments(id) ON DELETE CASCADE,
    item TEXT NOT NULL,                         -- the catalogue item's id, e.g. 8.1.4.1.a
    status TEXT NOT NULL CHECK (status IN ('met', 'partly', 'not_met', 'not_applicable', 'unassessed')),
    note TEXT NOT NULL DEFAULT '',
    assessed_by TEXT NOT NULL DEFAULT '',
    assessed_at {{ts}},
    UNIQUE (assessment_id, item)
);

-- Every change of an item's status.
CREATE TABLE assess_item_history (
    id {{pk}},
    item_id BIGINT NOT NULL REFERENCES assess_items(id) ON DELETE CASCADE,
    status_from TEXT NOT NULL,
    status_to TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    changed_by TEXT NOT NULL,
    changed_at {{ts}} NOT NULL
);
CREATE INDEX assess_item_history_item ON assess_item_history (item_id);

-- Evidence of an item: a file (content kept here, like incident evidence), a link to a
-- platform record (module, record_id) or the result of an automatic check (one row per
-- item and check, replaced at each run; links JSON, message JSON catalogue message).
CREATE TABLE assess_evidence (
    id {{pk}},
    item_id BIGINT NOT NULL REFERENCES assess_items(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('file', 'link', 'check')),
    name TEXT NOT NULL DEFAULT '',
    file_kind TEXT NOT NULL DEFAULT '',
    content_type TEXT NOT NULL DEFAULT '',
    size BIGINT NOT NULL DEFAULT 0,
    sha256 TEXT NOT NULL DEFAULT '',
    content {{blob}},
    module TEXT NOT NULL DEFAULT '',
    record_id BIGINT NOT NULL DEFAULT 0,
    check_name TEXT NOT NULL DEFAULT '',
    outcome TEXT NOT NULL DEFAULT '' CHECK (outcome IN ('', 'pass', 'fail', 'unavailable')),
    message TEXT NOT NULL DEFAULT '',
    figures TEXT NOT NULL DEFAULT '',
    links TEXT NOT NULL DEFAULT '',
    expires_at {{ts}},
    added_by TEXT NOT NULL,
    added_at {{ts}} NOT NULL
);
CREATE INDEX assess_evidence_item ON assess_evidence (item_id);
CREATE INDEX assess_evidence_check ON assess_evidence (check_name);

-- Progress: counts by status after every change and at every sweep.
CREATE TABLE assess_progress (
    id {{pk}},
    assessment_id BIGINT NOT NULL REFERENCES assessments(id) ON DELETE CASCADE,
    at {{ts}} NOT NULL,
    met INTEGER NOT NULL,
    partly INTEGER NOT NULL,
    not_met INTEGER NOT NULL,
    not_applicable INTEGER NOT NULL,
    unassessed INTEGER NOT NULL,
    percent INTEGER NOT NULL                    -- met of the applicable items, 0–100
);
CREATE INDEX assess_progress_assessment ON assess_progress (assessment_id, at);
