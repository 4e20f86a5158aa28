-- Foundation: organisation tree, accounts, sessions, API tokens, the tamper-evident
-- trail, settings and the asset inventory. Portable SQL: {{pk}}, {{ts}} and {{blob}} are
-- translated per dialect by the store package.

CREATE TABLE orgs (
    id {{pk}},
    parent_id BIGINT REFERENCES orgs(id),
    kind TEXT NOT NULL CHECK (kind IN ('province', 'region', 'hospital', 'department')),
    name TEXT NOT NULL,
    code TEXT NOT NULL DEFAULT '',
    path TEXT NOT NULL DEFAULT '',
    mfa_required BOOLEAN NOT NULL DEFAULT FALSE,
    created_at {{ts}} NOT NULL,
    updated_at {{ts}} NOT NULL
);
CREATE INDEX orgs_parent ON orgs (parent_id);
CREATE INDEX orgs_path ON orgs (path);

CREATE TABLE users (
    id {{pk}},
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL DEFAULT '',
    email TEXT NOT NULL DEFAULT '',
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    locale TEXT NOT NULL DEFAULT '',
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    must_change_password BOOLEAN NOT NULL DEFAULT FALSE,
    mfa_secret TEXT NOT NULL DEFAULT '',
    mfa_enabled BOOLEAN NOT NULL DEFAULT FALSE,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until {{ts}},
    last_login_at {{ts}},
    password_changed_at {{ts}} NOT NULL,
    created_at {{ts}} NOT NULL,
    updated_at {{ts}} NOT NULL
);
CREATE INDEX users_org ON users (org_id);

CREATE TABLE recovery_codes (
    id {{pk}},
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at {{ts}}
);
CREATE INDEX recovery_codes_user ON recovery_codes (user_id);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    mfa_ok BOOLEAN NOT NULL DEFAULT FALSE,
    ip TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT '',
    created_at {{ts}} NOT NULL,
    last_seen_at {{ts}} NOT NULL,
    expires_at {{ts}} NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id {{pk}},
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    scope TEXT NOT NULL CHECK (scope IN ('read', 'write')),
    expires_at {{ts}},
    last_used_at {{ts}},
    revoked_at {{ts}},
    created_at {{ts}} NOT NULL
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at {{ts}} NOT NULL
);

CREATE TABLE trail (
    seq BIGINT PRIMARY KEY,
    at TEXT NOT NULL,
    actor_id BIGINT,
    actor TEXT NOT NULL,
    org_id BIGINT,
    action TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id TEXT NOT NULL,
    summary TEXT NOT NULL DEFAULT '',
    ip TEXT NOT NULL DEFAULT '',
    digest TEXT NOT NULL,
    alg TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX trail_org ON trail (org_id, seq);
CREATE INDEX trail_object ON trail (object_type, object_id);

CREATE TABLE trail_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);

CREATE TABLE assets (
    id {{pk}},
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('server', 'workstation', 'network', 'medical_device', 'business_system', 'internet_app', 'software')),
    subtype TEXT NOT NULL DEFAULT '',
    owner TEXT NOT NULL DEFAULT '',
    location TEXT NOT NULL DEFAULT '',
    zone TEXT NOT NULL CHECK (zone IN ('internal', 'external', 'dmz', 'medical')),
    mlps_level INTEGER CHECK (mlps_level BETWEEN 1 AND 4),
    ip TEXT NOT NULL DEFAULT '',
    mac TEXT NOT NULL DEFAULT '',
    vendor TEXT NOT NULL DEFAULT '',
    model TEXT NOT NULL DEFAULT '',
    serial TEXT NOT NULL DEFAULT '',
    lifecycle TEXT NOT NULL CHECK (lifecycle IN ('planned', 'procured', 'in_service', 'maintenance', 'retired')),
    procured_on TEXT NOT NULL DEFAULT '',
    in_service_on TEXT NOT NULL DEFAULT '',
    retired_on TEXT NOT NULL DEFAULT '',
    tags TEXT NOT NULL DEFAULT '',
    notes TEXT NOT NULL DEFAULT '',
    version INTEGER NOT NULL DEFAULT 1,
    created_at {{ts}} NOT NULL,
    updated_at {{ts}} NOT NULL,
    UNIQUE (org_id, code)
);
CREATE INDEX assets_org ON assets (org_id);
CREATE INDEX assets_kind ON assets (kind);
CREATE INDEX assets_zone ON assets (zone);
CREATE INDEX assets_lifecycle ON assets (lifecycle);
CREATE INDEX assets_name ON assets (name);
CREATE INDEX assets_updated ON assets (updated_at);

INSERT INTO trail_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
