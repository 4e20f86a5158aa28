-- OSV vulnerability database (package internal/vuln): one row per record with its
-- headline severity and canonical JSON, its aliases/related/upstream ids, one row per
-- affected package (base ecosystem without release suffix + normalised name, the
-- lookup key; ranges and versions as JSON), and one row per import run.
CREATE TABLE vulns (
    id TEXT PRIMARY KEY,
    modified {{ts}} NOT NULL,
    published {{ts}},
    withdrawn {{ts}},
    summary TEXT NOT NULL DEFAULT '',
    details TEXT NOT NULL DEFAULT '',
    severity_type TEXT NOT NULL DEFAULT '',
    severity_vector TEXT NOT NULL DEFAULT '',
    severity_score DOUBLE PRECISION NOT NULL DEFAULT 0,
    severity_level TEXT NOT NULL DEFAULT 'unknown',
    ecosystems TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '',
    raw TEXT NOT NULL,
    imported_at {{ts}} NOT NULL
);

CREATE TABLE vuln_aliases (
    vuln_id TEXT NOT NULL REFERENCES vulns(id) ON DELETE CASCADE,
    alias TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('alias', 'related', 'upstream')),
    PRIMARY KEY (vuln_id, kind, alias)
);
CREATE INDEX vuln_aliases_alias ON vuln_aliases (alias);

CREATE TABLE vuln_affected (
    id {{pk}},
    vuln_id TEXT NOT NULL REFERENCES vulns(id) ON DELETE CASCADE,
    ecosystem TEXT NOT NULL,
    name TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX vuln_affected_package ON vuln_affected (ecosystem, name);
CREATE INDEX vuln_affected_vuln ON vuln_affected (vuln_id);

CREATE TABLE vuln_imports (
    id {{pk}},
    started_at {{ts}} NOT NULL,
    finished_at {{ts}} NOT NULL,
    source TEXT NOT NULL DEFAULT '',
    files INTEGER NOT NULL DEFAULT 0,
    records INTEGER NOT NULL DEFAULT 0,
    added INTEGER NOT NULL DEFAULT 0,
    updated INTEGER NOT NULL DEFAULT 0,
    unchanged INTEGER NOT NULL DEFAULT 0,
    withdrawn INTEGER NOT NULL DEFAULT 0,
    skipped INTEGER NOT NULL DEFAULT 0,
    git_ranges_ignored INTEGER NOT NULL DEFAULT 0,
    notes TEXT NOT NULL DEFAULT ''
);
