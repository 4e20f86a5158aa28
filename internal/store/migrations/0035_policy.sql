-- Policies and people (package policy): the security policy documents of a hospital
-- (安全管理制度) with their versions, approval and periodic reviews; the security roles
-- and who holds them (安全管理机构); and the periodic self-checks (定期自查) with their
-- results and reports.
CREATE TABLE policies (
    id {{pk}},
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    title TEXT NOT NULL,
    category TEXT NOT NULL CHECK (category IN ('strategy', 'rule', 'procedure', 'record')),
    owner TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'in_review', 'approved', 'retired')), -- of the latest version
    version INTEGER NOT NULL,                   -- the latest version's number
    approved_version INTEGER NOT NULL DEFAULT 0, -- the version in force, 0 none yet
    review_months INTEGER NOT NULL DEFAULT 12,
    effective_at {{ts}},
    next_review_at {{ts}},
    last_reviewed_at {{ts}},
    created_by TEXT NOT NULL,
    created_at {{ts}} NOT NULL,
    updated_at {{ts}} NOT NULL
);
CREATE INDEX policies_org ON policies (org_id, status);
CREATE INDEX policies_review ON policies (status, next_review_at);

-- Every revision is a version; a superseded one is kept with its approval.
CREATE TABLE policy_versions (
    id {{pk}},
    policy_id BIGINT NOT NULL REFERENCES policies(id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'in_review', 'approved', 'superseded', 'retired')),
    body TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT '',
    author TEXT NOT NULL,
    created_at {{ts}} NOT NULL,
    submitted_by TEXT NOT NULL DEFAULT '',
    submitted_at {{ts}},
    approved_by TEXT NOT NULL DEFAULT '',
    approved_at {{ts}},
    effective_at {{ts}},
    file_name TEXT NOT NULL DEFAULT '',
    file_kind TEXT NOT NULL DEFAULT '',
    file_type TEXT NOT NULL DEFAULT '',
    file_size BIGINT NOT NULL DEFAULT 0,
    file_sha256 TEXT NOT NULL DEFAULT '',
    file_content {{blob}},
    UNIQUE (policy_id, version)
);

-- Reviews, opened by the sweep when a review comes due (once per due date) or by a
-- person; open → overdue (its date passed) → done (no change, or revised: a new draft).
CREATE TABLE policy_reviews (
    id {{pk}},
    policy_id BIGINT NOT NULL REFERENCES policies(id) ON DELETE CASCADE,
    due_at {{ts}} NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'overdue', 'done', 'cancelled')),
    outcome TEXT NOT NULL DEFAULT '' CHECK (outcome IN ('', 'no_change', 'revised')),
    note TEXT NOT NULL DEFAULT '',
    opened_by TEXT NOT NULL,
    opened_at {{ts}} NOT NULL,
    done_by TEXT NOT NULL DEFAULT '',
    done_at {{ts}},
    UNIQUE (policy_id, due_at)
);
CREATE INDEX policy_reviews_status ON policy_reviews (status, due_at);

-- Who holds a security role of an organisation: a user, or a named person with phone.
CREATE TABLE compliance_roles (
    id {{pk}},
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    role TEXT NOT NULL,
    username TEXT NOT NULL DEFAULT '',
    person TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    responsibilities TEXT NOT NULL DEFAULT '',
    appointed_at {{ts}},
    created_by TEXT NOT NULL,
    created_at {{ts}} NOT NULL,
    updated_at {{ts}} NOT NULL
);
CREATE INDEX compliance_roles_org ON compliance_roles (org_id, role);

-- Periodic self-checks: planned, performed, their result and report; a recurring one
-- plans its successor (next_id) when it is performed.
CREATE TABLE selfchecks (
    id {{pk}},
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    kind TEXT NOT NULL CHECK (kind IN ('vuln_scan', 'pentest', 'document_check', 'config_check', 'other')),
    title TEXT NOT NULL,
    planned_at {{ts}} NOT NULL,
    performed_at {{ts}},
    performer TEXT NOT NULL DEFAULT '',         -- a user name
    third_party TEXT NOT NULL DEFAULT '',       -- or an outside firm
    result TEXT NOT NULL DEFAULT '' CHECK (result IN ('', 'pass', 'issues', 'failed')),
    findings INTEGER NOT NULL DEFAULT 0,
    summary TEXT NOT NULL DEFAULT '',
    recur_months INTEGER NOT NULL DEFAULT 0,
    next_id BIGINT,
    report_name TEXT NOT NULL DEFAULT '',
    report_kind TEXT NOT NULL DEFAULT '',
    report_type TEXT NOT NULL DEFAULT '',
    report_size BIGINT NOT NULL DEFAULT 0,
    report_sha256 TEXT NOT NULL DEFAULT '',
    report_content {{blob}},
    created_by TEXT NOT NULL,
    created_at {{ts}} NOT NULL,
    updated_at {{ts}} NOT NULL
);
CREATE INDEX selfchecks_org ON selfchecks (org_id, planned_at);

CREATE TABLE selfcheck_assets (
    selfcheck_id BIGINT NOT NULL REFERENCES selfchecks(id) ON DELETE CASCADE,
    asset_id BIGINT NOT NULL REFERENCES assets(id),
    PRIMARY KEY (selfcheck_id, asset_id)
);
