-- One alert model for every module (package alert): alerts with their dedup key and
-- counts, cases grouping them, comments, silences and the per-severity SLA of each
-- organisation. The supply chain's own supply_alerts table is moved into alerts and
-- dropped.

CREATE TABLE alert_silences (
    id {{pk}},
    -- The silence applies to alerts of this organisation and its subtree.
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    -- Matchers; '' matches anything.
    source TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL DEFAULT '',
    severity TEXT NOT NULL DEFAULT '',
    subject TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at {{ts}} NOT NULL,
    expires_at {{ts}} NOT NULL,
    matched BIGINT NOT NULL DEFAULT 0,
    last_matched_at {{ts}}
);
CREATE INDEX alert_silences_expires ON alert_silences (expires_at);

CREATE TABLE alert_cases (
    id {{pk}},
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    title TEXT NOT NULL,
    severity TEXT NOT NULL CHECK (severity IN ('critical', 'high', 'medium', 'low', 'info')),
    status TEXT NOT NULL CHECK (status IN ('new', 'investigating', 'resolved', 'closed')),
    resolution TEXT NOT NULL DEFAULT '' CHECK (resolution IN ('', 'confirmed', 'false_positive', 'risk_accepted')),
    resolution_reason TEXT NOT NULL DEFAULT '',
    accepted_until {{ts}},
    assignee TEXT NOT NULL DEFAULT '',
    due_at {{ts}},
    created_by TEXT NOT NULL,
    created_at {{ts}} NOT NULL,
    updated_at {{ts}} NOT NULL
);
CREATE INDEX alert_cases_org ON alert_cases (org_id, status);

CREATE TABLE alert_case_comments (
    id {{pk}},
    case_id BIGINT NOT NULL REFERENCES alert_cases(id) ON DELETE CASCADE,
    author TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at {{ts}} NOT NULL
);
CREATE INDEX alert_case_comments_case ON alert_case_comments (case_id, id);

-- Hours from first seen to due, per organisation and severity; the deepest organisation
-- on an alert's path with a row decides, the built-in defaults otherwise.
CREATE TABLE alert_sla (
    org_id BIGINT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    severity TEXT NOT NULL CHECK (severity IN ('critical', 'high', 'medium', 'low', 'info')),
    hours INTEGER NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at {{ts}} NOT NULL,
    PRIMARY KEY (org_id, severity)
);

CREATE TABLE alerts (
    id {{pk}},
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    source TEXT NOT NULL,
    kind TEXT NOT NULL,
    severity TEXT NOT NULL CHECK (severity IN ('critical', 'high', 'medium', 'low', 'info')),
    -- The severity before the last raise counted the alert ('' until then): notify
    -- notifies a counted alert again only when its severity rose.
    prev_severity TEXT NOT NULL DEFAULT '',
    -- The title as a catalogue key and arguments (JSON), '' for alerts raised before
    -- titles were stored that way; title is it rendered in English.
    title_msg TEXT NOT NULL DEFAULT '',
    title TEXT NOT NULL,
    -- Subjects; all optional. subject is a short label of what the alert is about (an
    -- advisory id, a masked file name), never a raw patient value.
    subject TEXT NOT NULL DEFAULT '',
    asset_id BIGINT,
    product_id BIGINT,
    version_id BIGINT,
    account TEXT NOT NULL DEFAULT '',
    patient_id TEXT NOT NULL DEFAULT '',
    app TEXT NOT NULL DEFAULT '',
    evidence TEXT NOT NULL DEFAULT '{}',
    dedup_key TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'investigating', 'resolved', 'closed')),
    resolution TEXT NOT NULL DEFAULT '' CHECK (resolution IN ('', 'confirmed', 'false_positive', 'risk_accepted')),
    resolution_reason TEXT NOT NULL DEFAULT '',
    accepted_until {{ts}},
    silence_id BIGINT REFERENCES alert_silences(id) ON DELETE SET NULL,
    case_id BIGINT REFERENCES alert_cases(id) ON DELETE SET NULL,
    assignee TEXT NOT NULL DEFAULT '',
    due_at {{ts}},
    first_seen {{ts}} NOT NULL,
    last_seen {{ts}} NOT NULL,
    count BIGINT NOT NULL DEFAULT 1,
    acknowledged_at {{ts}},
    acknowledged_by TEXT NOT NULL DEFAULT '',
    updated_at {{ts}} NOT NULL
);
-- One open alert per organisation and dedup key: raising it again counts it.
CREATE UNIQUE INDEX alerts_open_dedup ON alerts (org_id, dedup_key) WHERE status IN ('new', 'investigating');
CREATE INDEX alerts_org_seen ON alerts (org_id, last_seen);
CREATE INDEX alerts_source ON alerts (source, status);
CREATE INDEX alerts_case ON alerts (case_id);
CREATE INDEX alerts_due ON alerts (due_at);

-- Every supply-chain alert becomes an alert of source supply, oldest first. Severity:
-- an advisory's level is kept; 'unknown' (no CVSS score) becomes medium, so that it
-- still has a due date without paging anyone as critical or high would. An
-- acknowledged alert becomes 'investigating' (someone has seen it, nobody has decided
-- it), with who acknowledged it and when; the others are 'new'. The newest alert of an
-- organisation and advisory keeps the dedup key new raises use, so that the advisory
-- hitting again counts it; older ones, and failed deliveries, get a key of their own.
-- Migrated alerts have no due date: an SLA applied after the fact would make them all
-- overdue at once.
INSERT INTO alerts (org_id, source, kind, severity, title_msg, title, subject, evidence, dedup_key, status,
    first_seen, last_seen, count, acknowledged_at, acknowledged_by, updated_at)
SELECT sa.org_id, 'supply', sa.kind,
    CASE sa.severity WHEN 'critical' THEN 'critical' WHEN 'high' THEN 'high' WHEN 'medium' THEN 'medium'
        WHEN 'low' THEN 'low' ELSE 'medium' END,
    sa.title_msg, sa.title, sa.vuln_id, sa.detail,
    CASE WHEN sa.kind = 'new_vulnerability' AND sa.vuln_id <> '' AND NOT EXISTS (SELECT 1 FROM supply_alerts n
            WHERE n.org_id = sa.org_id AND n.kind = sa.kind AND n.vuln_id = sa.vuln_id AND n.id > sa.id)
        THEN 'new_vulnerability:' || sa.vuln_id
        ELSE 'supply_alert:' || CAST(sa.id AS TEXT) END,
    CASE WHEN sa.acknowledged_at IS NULL THEN 'new' ELSE 'investigating' END,
    sa.created_at, sa.created_at, 1, sa.acknowledged_at, sa.acknowledged_by, COALESCE(sa.acknowledged_at, sa.created_at)
FROM supply_alerts sa ORDER BY sa.id;

DROP TABLE supply_alerts;
