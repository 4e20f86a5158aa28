-- Patient-data detection (DLP): scans of pasted text, uploaded files, server-side paths
-- and the pre-send policy checks of mail or file-transfer gateways, each with its files
-- (per-file verdicts and problems) and findings (masked previews; the raw value only
-- sealed with SM4-GCM, NULL once purged), and the per-organisation policy with its
-- site-specific identifiers. Every scan belongs to an organisation node, so access is
-- scoped like the asset inventory.

CREATE TABLE dlp_scans (
    id {{pk}},
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    kind TEXT NOT NULL CHECK (kind IN ('text', 'upload', 'job', 'check')),
    source TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    created_by_id BIGINT,
    created_by TEXT NOT NULL DEFAULT '',
    created_at {{ts}} NOT NULL,
    started_at {{ts}},
    finished_at {{ts}},
    bytes BIGINT NOT NULL DEFAULT 0,
    files INTEGER NOT NULL DEFAULT 0,
    files_total INTEGER NOT NULL DEFAULT 0,
    files_done INTEGER NOT NULL DEFAULT 0,
    findings INTEGER NOT NULL DEFAULT 0,
    problems INTEGER NOT NULL DEFAULT 0,
    highest_level INTEGER NOT NULL DEFAULT 0,
    identifies_person BOOLEAN NOT NULL DEFAULT FALSE,
    counts TEXT NOT NULL DEFAULT '{}',
    decision TEXT NOT NULL DEFAULT '' CHECK (decision IN ('', 'allow', 'alert', 'block')),
    error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX dlp_scans_org ON dlp_scans (org_id, created_at);
CREATE INDEX dlp_scans_status ON dlp_scans (status);

CREATE TABLE dlp_files (
    id {{pk}},
    scan_id BIGINT NOT NULL REFERENCES dlp_scans(id) ON DELETE CASCADE,
    path TEXT NOT NULL,
    kind TEXT NOT NULL DEFAULT '',
    encoding TEXT NOT NULL DEFAULT '',
    size BIGINT NOT NULL DEFAULT 0,
    findings INTEGER NOT NULL DEFAULT 0,
    highest_level INTEGER NOT NULL DEFAULT 0,
    counts TEXT NOT NULL DEFAULT '{}',
    identifies_person BOOLEAN NOT NULL DEFAULT FALSE,
    problem TEXT NOT NULL DEFAULT ''
);
CREATE INDEX dlp_files_scan ON dlp_files (scan_id, id);

CREATE TABLE dlp_findings (
    id {{pk}},
    scan_id BIGINT NOT NULL REFERENCES dlp_scans(id) ON DELETE CASCADE,
    file_id BIGINT NOT NULL REFERENCES dlp_files(id) ON DELETE CASCADE,
    type TEXT NOT NULL,
    start_offset BIGINT NOT NULL,
    end_offset BIGINT NOT NULL,
    line INTEGER NOT NULL,
    confidence DOUBLE PRECISION NOT NULL,
    category TEXT NOT NULL DEFAULT '',
    level INTEGER NOT NULL DEFAULT 0,
    field TEXT NOT NULL DEFAULT '',
    preview TEXT NOT NULL DEFAULT '',
    sealed {{blob}}
);
CREATE INDEX dlp_findings_scan ON dlp_findings (scan_id, file_id, id);

-- The pre-send policy and site identifiers of an organisation; a node without a row
-- inherits its nearest ancestor's, and the defaults apply when none has one.
CREATE TABLE dlp_policies (
    org_id BIGINT NOT NULL PRIMARY KEY REFERENCES orgs(id),
    policy TEXT NOT NULL,
    updated_by TEXT NOT NULL DEFAULT '',
    updated_at {{ts}} NOT NULL
);
