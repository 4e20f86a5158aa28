-- The risk register (package risk, 风险管理): risks of a hospital or department rated on
-- a likelihood × impact matrix (inherent and current/residual), their assets, the
-- findings and alerts they came from, treatment tasks, acceptances with approver and
-- expiry, their history, and the reminders a sweep raised (so that it raises each once).
CREATE TABLE risks (
    id {{pk}},
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    category TEXT NOT NULL,
    threat TEXT NOT NULL DEFAULT '',
    vulnerability TEXT NOT NULL DEFAULT '',
    inherent_likelihood INTEGER NOT NULL,
    inherent_impact INTEGER NOT NULL,
    inherent_level TEXT NOT NULL,
    inherent_rank INTEGER NOT NULL,             -- the level's position in the matrix, 1 lowest
    inherent_score INTEGER NOT NULL,            -- likelihood × impact
    likelihood INTEGER NOT NULL,                -- the current (residual) rating
    impact INTEGER NOT NULL,
    level TEXT NOT NULL,
    level_rank INTEGER NOT NULL,
    score INTEGER NOT NULL,
    owner TEXT NOT NULL DEFAULT '',
    treatment TEXT NOT NULL DEFAULT '' CHECK (treatment IN ('', 'mitigate', 'transfer', 'avoid', 'accept')),
    status TEXT NOT NULL CHECK (status IN ('open', 'treating', 'accepted', 'closed')),
    next_review_at {{ts}} NOT NULL,
    last_reviewed_at {{ts}},
    created_by TEXT NOT NULL,
    created_at {{ts}} NOT NULL,
    updated_at {{ts}} NOT NULL
);
CREATE INDEX risks_org ON risks (org_id, status);
CREATE INDEX risks_review ON risks (status, next_review_at);

CREATE TABLE risk_assets (
    risk_id BIGINT NOT NULL REFERENCES risks(id) ON DELETE CASCADE,
    asset_id BIGINT NOT NULL REFERENCES assets(id),
    PRIMARY KEY (risk_id, asset_id)
);

-- What a risk came from: an alert, a supply-chain finding, a privacy case, an app …
CREATE TABLE risk_sources (
    risk_id BIGINT NOT NULL REFERENCES risks(id) ON DELETE CASCADE,
    module TEXT NOT NULL,
    source_id BIGINT NOT NULL,
    linked_by TEXT NOT NULL,
    linked_at {{ts}} NOT NULL,
    PRIMARY KEY (risk_id, module, source_id)
);
CREATE INDEX risk_sources_source ON risk_sources (module, source_id);

-- Treatment tasks; a playbook task's title is a catalogue key (title_msg, JSON).
CREATE TABLE risk_tasks (
    id {{pk}},
    risk_id BIGINT NOT NULL REFERENCES risks(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    title_msg TEXT NOT NULL DEFAULT '',
    link TEXT NOT NULL DEFAULT '',
    playbook TEXT NOT NULL DEFAULT '',          -- the level whose playbook added it, '' for a task added by hand
    assignee TEXT NOT NULL DEFAULT '',
    due_at {{ts}},
    done_at {{ts}},
    done_by TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL,
    created_at {{ts}} NOT NULL
);
CREATE INDEX risk_tasks_risk ON risk_tasks (risk_id);
CREATE INDEX risk_tasks_due ON risk_tasks (due_at);

-- Acceptances: created → submitted → accepted / rejected; accepted → revoked or expired.
-- The rating of the risk at the moment of decision is kept (snap_*).
CREATE TABLE risk_acceptances (
    id {{pk}},
    risk_id BIGINT NOT NULL REFERENCES risks(id) ON DELETE CASCADE,
    status TEXT NOT NULL CHECK (status IN ('created', 'submitted', 'accepted', 'rejected', 'revoked', 'expired')),
    approver TEXT NOT NULL,
    reason TEXT NOT NULL,
    expires_at {{ts}} NOT NULL,
    created_by TEXT NOT NULL,
    created_at {{ts}} NOT NULL,
    submitted_at {{ts}},
    decided_by TEXT NOT NULL DEFAULT '',
    decided_at {{ts}},
    decision_reason TEXT NOT NULL DEFAULT '',
    snap_likelihood INTEGER NOT NULL DEFAULT 0,
    snap_impact INTEGER NOT NULL DEFAULT 0,
    snap_level TEXT NOT NULL DEFAULT '',
    snap_score INTEGER NOT NULL DEFAULT 0,
    ended_by TEXT NOT NULL DEFAULT '',          -- revoked or expired: by whom ('system' for expiry)
    ended_at {{ts}},
    end_reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX risk_acceptances_risk ON risk_acceptances (risk_id);
CREATE INDEX risk_acceptances_expiry ON risk_acceptances (status, expires_at);

-- Every change of a risk: who, when, what (changes: JSON field → [before, after]).
CREATE TABLE risk_history (
    id {{pk}},
    risk_id BIGINT NOT NULL REFERENCES risks(id) ON DELETE CASCADE,
    at {{ts}} NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    summary TEXT NOT NULL,                      -- in English
    msg TEXT NOT NULL DEFAULT '',               -- the summary as a catalogue key and arguments (JSON)
    changes TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX risk_history_risk ON risk_history (risk_id, id);

-- The reminders a sweep raised, by dedup key: each is raised once.
CREATE TABLE risk_reminders (
    dedup_key TEXT PRIMARY KEY,
    risk_id BIGINT NOT NULL REFERENCES risks(id) ON DELETE CASCADE,
    raised_at {{ts}} NOT NULL
);
