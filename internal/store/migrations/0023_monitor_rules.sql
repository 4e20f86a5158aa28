-- Monitoring rules of an organisation tree (package rulestore). Every edit of a rule is a
-- new row: the YAML as saved (version field set to the row's version), who saved it and
-- when; old versions are kept. A rule stored at an organisation applies to its subtree
-- unless a deeper organisation stores its own. monitor_rule_state enables or disables a
-- rule (built-in or stored) for an organisation's subtree, the deepest row deciding.
CREATE TABLE monitor_rules (
    id {{pk}},
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    rule_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    yaml TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at {{ts}} NOT NULL,
    UNIQUE (org_id, rule_id, version)
);

CREATE TABLE monitor_rule_state (
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    rule_id TEXT NOT NULL,
    enabled BOOLEAN NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at {{ts}} NOT NULL,
    PRIMARY KEY (org_id, rule_id)
);
