-- Upward reporting of internet-hospital apps (package upstream): a hospital's medguard
-- pushes its apps, scores and incidents to a regional medguard, where the hospital is an
-- organisation node.

-- Regional side. A link joins a hospital node to the hospital's medguard: the API token
-- it holds (scope app.report, hashed in api_tokens like every token) and the key the
-- region signs its acknowledgements with (sealed with SM4-GCM under DATA/upstream.key).
-- One link per node; linking again replaces the token and the key.
CREATE TABLE upstream_links (
    org_id BIGINT PRIMARY KEY REFERENCES orgs(id),
    user_id BIGINT NOT NULL REFERENCES users(id),   -- the service account the token belongs to
    token_id BIGINT NOT NULL REFERENCES api_tokens(id),
    ack_key TEXT NOT NULL,                          -- sealed
    created_by TEXT NOT NULL,
    created_at {{ts}} NOT NULL
);

-- The last report accepted from each node: an older or the same report changes nothing.
CREATE TABLE upstream_reports (
    org_id BIGINT PRIMARY KEY REFERENCES orgs(id),
    report_id TEXT NOT NULL,
    generated_at {{ts}} NOT NULL,                   -- the hospital's clock
    received_at {{ts}} NOT NULL,                    -- the region's clock
    source TEXT NOT NULL DEFAULT ''                 -- the reporting instance's name
);

-- The apps a node reported, keyed by the node and the app's id at the hospital; a newer
-- report replaces them all. Findings and codes are kept as the report gave them (JSON).
CREATE TABLE upstream_apps (
    id {{pk}},
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    remote_id BIGINT NOT NULL,
    name TEXT NOT NULL,
    platform TEXT NOT NULL,
    package TEXT NOT NULL,
    operator TEXT NOT NULL,
    status TEXT NOT NULL,
    score INTEGER,
    grade TEXT NOT NULL DEFAULT '',
    rectify_by {{ts}},
    evaluated_at {{ts}},
    findings TEXT NOT NULL DEFAULT '[]',
    codes TEXT NOT NULL DEFAULT '[]',
    reported_at {{ts}} NOT NULL,                    -- generated_at of the report
    UNIQUE (org_id, remote_id)
);

-- Incidents (evictions, eviction proposals, critical findings) a node reported, each
-- once: keyed by the node and the hospital's own key of the incident.
CREATE TABLE upstream_incidents (
    id {{pk}},
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    remote_key TEXT NOT NULL,
    remote_app_id BIGINT NOT NULL,
    kind TEXT NOT NULL,                             -- app.evicted, app.eviction_proposed, finding.critical
    severity TEXT NOT NULL,
    subject TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT '',
    occurred_at {{ts}} NOT NULL,
    received_at {{ts}} NOT NULL,
    UNIQUE (org_id, remote_key)
);
CREATE INDEX upstream_incidents_app ON upstream_incidents (org_id, remote_app_id);

-- Hospital side: every push made, so that the next report carries the incidents since
-- the last acknowledged one.
CREATE TABLE upstream_pushes (
    id {{pk}},
    report_id TEXT NOT NULL,
    url TEXT NOT NULL,
    generated_at {{ts}} NOT NULL,
    status TEXT NOT NULL,                           -- acknowledged, failed
    error TEXT NOT NULL DEFAULT '',
    pushed_at {{ts}} NOT NULL
);
CREATE INDEX upstream_pushes_status ON upstream_pushes (status, generated_at);
