-- Internet-hospital apps (package appreg): the registry of what each hospital runs for
-- patients (Android/iOS/HarmonyOS apps, mini-programs, H5 portals), their admission
-- (事前备案), authorization codes, what the distribution channels are seen to serve
-- (事中监测), findings, scores and evictions (清出).
CREATE TABLE apps (
    id {{pk}},
    org_id BIGINT NOT NULL REFERENCES orgs(id),  -- the hospital that runs the app
    name TEXT NOT NULL,
    platform TEXT NOT NULL,                     -- android, ios, harmonyos, wechat_mini, alipay_mini, h5
    package TEXT NOT NULL,                      -- package name, bundle id, mini-program appid or portal URL
    operator TEXT NOT NULL,                     -- the company that operates it
    purpose TEXT NOT NULL,
    status TEXT NOT NULL,                       -- pending, admitted, rejected, evicted
    score INTEGER,                              -- the latest evaluation (NULL before the first)
    grade TEXT NOT NULL DEFAULT '',
    rectify_by {{ts}},                          -- grade B: the rectification deadline
    created_by TEXT NOT NULL,
    created_at {{ts}} NOT NULL,
    updated_at {{ts}} NOT NULL,
    UNIQUE (org_id, platform, package)
);

-- Contacts, channels and official versions are part of an application and replaced with it.
CREATE TABLE app_contacts (
    app_id BIGINT NOT NULL REFERENCES apps(id),
    role TEXT NOT NULL,                         -- security, technical, management
    name TEXT NOT NULL,
    phone TEXT NOT NULL,
    email TEXT NOT NULL
);
CREATE INDEX app_contacts_app ON app_contacts (app_id);

CREATE TABLE app_channels (
    app_id BIGINT NOT NULL REFERENCES apps(id),
    name TEXT NOT NULL,                         -- e.g. huawei-appgallery, official-site, wechat
    url TEXT NOT NULL,
    PRIMARY KEY (app_id, name)
);

CREATE TABLE app_versions (
    id {{pk}},
    app_id BIGINT NOT NULL REFERENCES apps(id),
    version TEXT NOT NULL,
    version_code BIGINT NOT NULL DEFAULT 0,
    sha256 TEXT NOT NULL DEFAULT '',
    sm3 TEXT NOT NULL DEFAULT '',
    signers TEXT NOT NULL DEFAULT '',           -- signing-certificate SHA-256 fingerprints, comma-separated
    current BOOLEAN NOT NULL DEFAULT FALSE,     -- the version channels should serve now
    created_at {{ts}} NOT NULL,
    UNIQUE (app_id, version)
);

-- An application for admission or re-admission, and the reviewer's decision.
CREATE TABLE app_applications (
    id {{pk}},
    app_id BIGINT NOT NULL REFERENCES apps(id),
    kind TEXT NOT NULL,                         -- admission, readmission
    status TEXT NOT NULL,                       -- pending, approved, rejected
    evidence TEXT NOT NULL DEFAULT '',          -- re-admission: the hardening done
    submitted_by TEXT NOT NULL,
    submitted_at {{ts}} NOT NULL,
    decided_by TEXT NOT NULL DEFAULT '',
    decided_at {{ts}},
    comment TEXT NOT NULL DEFAULT ''
);
CREATE INDEX app_applications_app ON app_applications (app_id);

-- Authorization codes (授权码) issued on approval; revoked on eviction or rotation.
CREATE TABLE app_codes (
    code_id TEXT PRIMARY KEY,
    app_id BIGINT NOT NULL REFERENCES apps(id),
    kid TEXT NOT NULL,
    alg TEXT NOT NULL,
    code TEXT NOT NULL,
    issued_at {{ts}} NOT NULL,
    expires_at {{ts}} NOT NULL,
    revoked_at {{ts}},
    revoke_reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX app_codes_app ON app_codes (app_id);

-- What a channel was seen serving (a crawler, an app-store check, an operator).
CREATE TABLE app_observations (
    id {{pk}},
    app_id BIGINT NOT NULL REFERENCES apps(id),
    channel TEXT NOT NULL,
    version TEXT NOT NULL DEFAULT '',
    sha256 TEXT NOT NULL DEFAULT '',
    signer TEXT NOT NULL DEFAULT '',
    observed_at {{ts}} NOT NULL,
    reported_by TEXT NOT NULL
);
CREATE INDEX app_observations_app ON app_observations (app_id, channel, observed_at);

-- Findings about an app; one open finding per app, type and subject (a channel, a
-- component …); fixed when the condition is gone.
CREATE TABLE app_findings (
    id {{pk}},
    app_id BIGINT NOT NULL REFERENCES apps(id),
    type TEXT NOT NULL,
    subject TEXT NOT NULL DEFAULT '',
    severity TEXT NOT NULL,
    evidence TEXT NOT NULL,
    status TEXT NOT NULL,                       -- open, fixed
    opened_at {{ts}} NOT NULL,
    fixed_at {{ts}}
);
CREATE INDEX app_findings_app ON app_findings (app_id, status);

-- Every evaluation: the score, the grade and the points lost, as JSON.
CREATE TABLE app_scores (
    id {{pk}},
    app_id BIGINT NOT NULL REFERENCES apps(id),
    score INTEGER NOT NULL,
    grade TEXT NOT NULL,
    details TEXT NOT NULL,
    evaluated_at {{ts}} NOT NULL
);
CREATE INDEX app_scores_app ON app_scores (app_id, evaluated_at);
