-- Security incidents (package incident): category and level per GB/T 20986-2023, the
-- regulatory reporting clock, a time-stamped timeline, evidence attachments and the
-- post-incident review with its follow-up tasks.
CREATE TABLE incidents (
    id {{pk}},
    org_id BIGINT NOT NULL REFERENCES orgs(id),  -- the hospital (or department) it happened at
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    category TEXT NOT NULL,                     -- GB/T 20986-2023 category id (incident.Categories)
    level TEXT NOT NULL CHECK (level IN ('extraordinary', 'major', 'large', 'general')),
    status TEXT NOT NULL CHECK (status IN ('open', 'contained', 'resolved', 'closed')),
    regime TEXT NOT NULL,                       -- reporting regime of the clocks: cn, hipaa …
    operator_type TEXT NOT NULL,                -- cii, state_organ, other
    detected_at {{ts}} NOT NULL,
    occurred_at {{ts}},
    patients_affected BIGINT NOT NULL DEFAULT 0,
    data_involved TEXT NOT NULL DEFAULT '[]',   -- JSON list of data categories
    source_module TEXT NOT NULL DEFAULT '',     -- opened from: alerts, alert_cases, … ('' none)
    source_id TEXT NOT NULL DEFAULT '',
    -- The reporting clock: due from detected_at by level, operator type and regime (NULL:
    -- the level need not be reported); reported_at stops it. The pass-on clock of the
    -- most serious levels runs from the report until passed_on_at.
    report_due {{ts}},
    reported_at {{ts}},
    pass_on_due {{ts}},
    passed_on_at {{ts}},
    -- When the sweep warned of and escalated each clock (NULL: not yet), so that a
    -- repeated sweep raises nothing new.
    report_warned_at {{ts}},
    report_escalated_at {{ts}},
    pass_on_warned_at {{ts}},
    pass_on_escalated_at {{ts}},
    root_cause TEXT NOT NULL DEFAULT '',
    lessons TEXT NOT NULL DEFAULT '',
    reviewed_by TEXT NOT NULL DEFAULT '',
    reviewed_at {{ts}},
    created_by TEXT NOT NULL,
    created_at {{ts}} NOT NULL,
    updated_at {{ts}} NOT NULL
);
CREATE INDEX incidents_org ON incidents (org_id, status);
CREATE INDEX incidents_source ON incidents (source_module, source_id);

CREATE TABLE incident_assets (
    incident_id BIGINT NOT NULL REFERENCES incidents(id),
    asset_id BIGINT NOT NULL REFERENCES assets(id),
    PRIMARY KEY (incident_id, asset_id)
);
CREATE INDEX incident_assets_asset ON incident_assets (asset_id);

-- The timeline: every change, note, report and piece of evidence, in order.
CREATE TABLE incident_timeline (
    id {{pk}},
    incident_id BIGINT NOT NULL REFERENCES incidents(id),
    at {{ts}} NOT NULL,
    by_user TEXT NOT NULL,
    kind TEXT NOT NULL,                         -- created, note, edit, status, level, report, evidence, clock, review, task
    text TEXT NOT NULL,                         -- as written (a note) or in English
    text_msg TEXT NOT NULL DEFAULT ''           -- the platform's own text as a catalogue message (JSON), '' for a person's note
);
CREATE INDEX incident_timeline_incident ON incident_timeline (incident_id, id);

-- Reports made to the authorities: stage report (the operator's) or pass_on.
CREATE TABLE incident_reports (
    id {{pk}},
    incident_id BIGINT NOT NULL REFERENCES incidents(id),
    stage TEXT NOT NULL,
    to_whom TEXT NOT NULL,
    at {{ts}} NOT NULL,
    reference TEXT NOT NULL DEFAULT '',
    text TEXT NOT NULL DEFAULT '',
    recorded_by TEXT NOT NULL,
    recorded_at {{ts}} NOT NULL
);
CREATE INDEX incident_reports_incident ON incident_reports (incident_id);

-- Evidence files, content in the database so that both engines hold it.
CREATE TABLE incident_attachments (
    id {{pk}},
    incident_id BIGINT NOT NULL REFERENCES incidents(id),
    name TEXT NOT NULL,
    kind TEXT NOT NULL,                         -- pdf, png, jpeg, text, csv, docx, xlsx, pptx, pcap
    content_type TEXT NOT NULL,                 -- the safe type it is served as
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    content {{blob}} NOT NULL,
    added_by TEXT NOT NULL,
    added_at {{ts}} NOT NULL
);
CREATE INDEX incident_attachments_incident ON incident_attachments (incident_id);

-- Follow-up tasks of the post-incident review.
CREATE TABLE incident_tasks (
    id {{pk}},
    incident_id BIGINT NOT NULL REFERENCES incidents(id),
    title TEXT NOT NULL,
    assignee TEXT NOT NULL DEFAULT '',
    due {{ts}},
    done BOOLEAN NOT NULL DEFAULT FALSE,
    done_at {{ts}},
    created_by TEXT NOT NULL,
    created_at {{ts}} NOT NULL
);
CREATE INDEX incident_tasks_incident ON incident_tasks (incident_id);
