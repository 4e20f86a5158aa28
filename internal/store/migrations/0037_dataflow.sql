-- The data-flow register (package dataflow, 数据共享登记): every interface that sends
-- patient data outside the hospital — its recipient, source systems, data categories and
-- GB/T 39725 levels, purpose and legal basis, agreement, de-identification, transfer
-- protection, retention, and the record of destruction when it ends — with the signed
-- agreement documents attached.
CREATE TABLE dataflows (
    id {{pk}},
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    name TEXT NOT NULL,
    recipient_name TEXT NOT NULL,
    recipient_kind TEXT NOT NULL CHECK (recipient_kind IN ('medical_insurance', 'social_security', 'insurer', 'pharmacy',
        'logistics', 'regional_platform', 'regulator', 'research', 'other')),
    level INTEGER NOT NULL,                     -- the highest GB/T 39725 level of its categories, 1–5
    purpose TEXT NOT NULL,
    legal_basis TEXT NOT NULL,
    agreement_ref TEXT NOT NULL DEFAULT '',
    agreement_signed {{ts}},
    agreement_expires {{ts}},
    deident TEXT NOT NULL CHECK (deident IN ('none', 'pseudonymised', 'anonymised', 'aggregated')),
    deident_note TEXT NOT NULL DEFAULT '',
    transfer TEXT NOT NULL,                     -- none, tls, vpn, sm4, dedicated_line
    frequency TEXT NOT NULL DEFAULT '',
    volume TEXT NOT NULL DEFAULT '',
    retention TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'ended')),
    ended_at {{ts}},
    destroyed_by TEXT NOT NULL DEFAULT '',      -- the record of destruction at the recipient
    destroyed_at {{ts}},
    destruction_verification TEXT NOT NULL DEFAULT '',
    raised TEXT NOT NULL DEFAULT '',            -- the deficiencies its risk was last raised for (Sweep raises once per change)
    created_by TEXT NOT NULL,
    created_at {{ts}} NOT NULL,
    updated_at {{ts}} NOT NULL
);
CREATE INDEX dataflows_org ON dataflows (org_id, status);

-- The data categories of a flow and their levels.
CREATE TABLE dataflow_categories (
    flow_id BIGINT NOT NULL REFERENCES dataflows(id) ON DELETE CASCADE,
    category TEXT NOT NULL CHECK (category IN ('personal', 'health', 'medical', 'payment', 'resource', 'public_health')),
    level INTEGER NOT NULL CHECK (level BETWEEN 1 AND 5),
    PRIMARY KEY (flow_id, category)
);

-- The systems (assets of the hospital) a flow takes its data from.
CREATE TABLE dataflow_sources (
    flow_id BIGINT NOT NULL REFERENCES dataflows(id) ON DELETE CASCADE,
    asset_id BIGINT NOT NULL REFERENCES assets(id),
    PRIMARY KEY (flow_id, asset_id)
);

-- Agreement documents and records of destruction, content-checked when uploaded.
CREATE TABLE dataflow_attachments (
    id {{pk}},
    flow_id BIGINT NOT NULL REFERENCES dataflows(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    content {{blob}} NOT NULL,
    added_by TEXT NOT NULL,
    added_at {{ts}} NOT NULL
);
CREATE INDEX dataflow_attachments_flow ON dataflow_attachments (flow_id);
