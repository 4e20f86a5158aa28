-- Periodic reports (package report): templates choosing the sections of a weekly or
-- monthly report for a hospital or a region, their schedules, and the reports made,
-- with their rendered files (PDF, HTML) and digests. schedule_key makes a scheduled
-- report unique per template and period, so that a sweep makes each once.
CREATE TABLE report_templates (
    id {{pk}},
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    scope TEXT NOT NULL CHECK (scope IN ('org', 'region')),
    name TEXT NOT NULL,
    sections TEXT NOT NULL,                     -- JSON array of section keys
    kind TEXT NOT NULL CHECK (kind IN ('weekly', 'monthly')),
    lang TEXT NOT NULL,
    formats TEXT NOT NULL,                      -- "pdf,html"
    recipients TEXT NOT NULL DEFAULT '',        -- extra e-mail addresses, comma separated
    created_by TEXT NOT NULL,
    created_at {{ts}} NOT NULL,
    updated_at {{ts}} NOT NULL
);
CREATE INDEX report_templates_org ON report_templates (org_id);

CREATE TABLE report_schedules (
    template_id BIGINT PRIMARY KEY REFERENCES report_templates(id) ON DELETE CASCADE,
    enabled BOOLEAN NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at {{ts}} NOT NULL
);

CREATE TABLE reports (
    id {{pk}},
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    template_id BIGINT REFERENCES report_templates(id) ON DELETE SET NULL,
    period TEXT NOT NULL,
    kind TEXT NOT NULL,
    lang TEXT NOT NULL,
    title TEXT NOT NULL,
    sections TEXT NOT NULL,
    empty BOOLEAN NOT NULL,
    generated_at {{ts}} NOT NULL,
    generated_by TEXT NOT NULL,                 -- the user, or "schedule"
    schedule_key TEXT UNIQUE                    -- "template:period" for a scheduled report
);
CREATE INDEX reports_org ON reports (org_id, generated_at);

CREATE TABLE report_files (
    report_id BIGINT NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    format TEXT NOT NULL CHECK (format IN ('pdf', 'html')),
    content {{blob}} NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    PRIMARY KEY (report_id, format)
);
