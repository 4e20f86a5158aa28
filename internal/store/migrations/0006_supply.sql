-- Software supply chain: vendors, software products and versions with their SBOMs,
-- components and dependency graph, vulnerability findings with decisions that carry over
-- between versions, licence policy, gate policies and results, deliveries, alerts.
-- Every row belongs to an organisation node (hospital or department) so that access is
-- scoped like the asset inventory.

CREATE TABLE vendors (
    id {{pk}},
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    name TEXT NOT NULL,
    uscc TEXT NOT NULL DEFAULT '',
    contact_name TEXT NOT NULL DEFAULT '',
    contact_phone TEXT NOT NULL DEFAULT '',
    contact_email TEXT NOT NULL DEFAULT '',
    approved BOOLEAN NOT NULL DEFAULT FALSE,
    notes TEXT NOT NULL DEFAULT '',
    created_at {{ts}} NOT NULL,
    updated_at {{ts}} NOT NULL,
    UNIQUE (org_id, name)
);

CREATE TABLE vendor_contracts (
    id {{pk}},
    vendor_id BIGINT NOT NULL REFERENCES vendors(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    number TEXT NOT NULL DEFAULT '',
    starts_on TEXT NOT NULL DEFAULT '',
    ends_on TEXT NOT NULL DEFAULT '',
    notes TEXT NOT NULL DEFAULT '',
    created_at {{ts}} NOT NULL
);
CREATE INDEX vendor_contracts_vendor ON vendor_contracts (vendor_id);

-- Fingerprints (SHA-256 of the DER certificate or raw Ed25519 key) a vendor signs with.
CREATE TABLE vendor_keys (
    id {{pk}},
    vendor_id BIGINT NOT NULL REFERENCES vendors(id) ON DELETE CASCADE,
    fingerprint TEXT NOT NULL,
    label TEXT NOT NULL DEFAULT '',
    created_at {{ts}} NOT NULL,
    UNIQUE (vendor_id, fingerprint)
);

CREATE TABLE products (
    id {{pk}},
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    vendor_id BIGINT REFERENCES vendors(id),
    name TEXT NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('self_built', 'outsourced', 'purchased', 'co_developed')),
    description TEXT NOT NULL DEFAULT '',
    created_at {{ts}} NOT NULL,
    updated_at {{ts}} NOT NULL,
    UNIQUE (org_id, name)
);
CREATE INDEX products_vendor ON products (vendor_id);

CREATE TABLE product_versions (
    id {{pk}},
    product_id BIGINT NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    version TEXT NOT NULL,
    released_on TEXT NOT NULL DEFAULT '',
    notes TEXT NOT NULL DEFAULT '',
    created_at {{ts}} NOT NULL,
    UNIQUE (product_id, version)
);

-- Assets of the inventory that run a product version.
CREATE TABLE version_assets (
    version_id BIGINT NOT NULL REFERENCES product_versions(id) ON DELETE CASCADE,
    asset_id BIGINT NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
    PRIMARY KEY (version_id, asset_id)
);
CREATE INDEX version_assets_asset ON version_assets (asset_id);

CREATE TABLE sboms (
    id {{pk}},
    version_id BIGINT NOT NULL UNIQUE REFERENCES product_versions(id) ON DELETE CASCADE,
    format TEXT NOT NULL,
    spec_version TEXT NOT NULL DEFAULT '',
    serial TEXT NOT NULL DEFAULT '',
    doc_name TEXT NOT NULL DEFAULT '',
    filename TEXT NOT NULL DEFAULT '',
    sha256 TEXT NOT NULL,
    size BIGINT NOT NULL,
    components INTEGER NOT NULL DEFAULT 0,
    warnings TEXT NOT NULL DEFAULT '[]',
    document {{blob}},
    imported_by TEXT NOT NULL DEFAULT '',
    created_at {{ts}} NOT NULL
);

CREATE TABLE components (
    id {{pk}},
    sbom_id BIGINT NOT NULL REFERENCES sboms(id) ON DELETE CASCADE,
    ref TEXT NOT NULL,
    parent_ref TEXT NOT NULL DEFAULT '',
    type TEXT NOT NULL DEFAULT '',
    grp TEXT NOT NULL DEFAULT '',
    name TEXT NOT NULL,
    version TEXT NOT NULL DEFAULT '',
    purl TEXT NOT NULL DEFAULT '',
    ecosystem TEXT NOT NULL DEFAULT '',
    eco_base TEXT NOT NULL DEFAULT '',
    pkg_name TEXT NOT NULL DEFAULT '',
    pkg_version TEXT NOT NULL DEFAULT '',
    license TEXT NOT NULL DEFAULT '',
    license_verdict TEXT NOT NULL DEFAULT 'unknown',
    supplier TEXT NOT NULL DEFAULT '',
    hashes TEXT NOT NULL DEFAULT '',
    scope TEXT NOT NULL DEFAULT ''
);
CREATE INDEX components_sbom ON components (sbom_id);
-- Advisories are looked up by ecosystem without its release suffix ("Debian", not
-- "Debian:12"); the suffix is compared after the look-up.
CREATE INDEX components_package ON components (eco_base, pkg_name);

CREATE TABLE component_deps (
    sbom_id BIGINT NOT NULL REFERENCES sboms(id) ON DELETE CASCADE,
    ref TEXT NOT NULL,
    depends_on TEXT NOT NULL
);
CREATE INDEX component_deps_sbom ON component_deps (sbom_id);

-- A decision on a vulnerability in a product's component. It is keyed by product,
-- package and vulnerability group (aliases merged), not by version, so that it carries
-- over to every later version that still contains the component.
CREATE TABLE finding_decisions (
    id {{pk}},
    product_id BIGINT NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    ecosystem TEXT NOT NULL,
    pkg_name TEXT NOT NULL,
    vuln_group TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('accepted', 'false_positive')),
    reason TEXT NOT NULL,
    expires_at {{ts}},
    decided_by TEXT NOT NULL,
    decided_at {{ts}} NOT NULL,
    UNIQUE (product_id, ecosystem, pkg_name, vuln_group)
);

CREATE TABLE findings (
    id {{pk}},
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    product_id BIGINT NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    version_id BIGINT NOT NULL REFERENCES product_versions(id) ON DELETE CASCADE,
    component_id BIGINT NOT NULL REFERENCES components(id) ON DELETE CASCADE,
    vuln_id TEXT NOT NULL,
    vuln_group TEXT NOT NULL,
    ecosystem TEXT NOT NULL,
    pkg_name TEXT NOT NULL,
    pkg_version TEXT NOT NULL,
    purl TEXT NOT NULL DEFAULT '',
    severity TEXT NOT NULL DEFAULT 'unknown',
    score DOUBLE PRECISION NOT NULL DEFAULT 0,
    fixed_versions TEXT NOT NULL DEFAULT '',
    fixed_in TEXT NOT NULL DEFAULT '',
    first_seen {{ts}} NOT NULL,
    UNIQUE (component_id, vuln_id)
);
CREATE INDEX findings_org ON findings (org_id);
CREATE INDEX findings_vuln ON findings (vuln_id);
-- (version, package, group): a new version's findings are compared with the earlier
-- versions' by package and vulnerability group (fixed by upgrade, first seen).
CREATE INDEX findings_version ON findings (version_id, ecosystem, pkg_name, vuln_group);
CREATE INDEX findings_product ON findings (product_id, ecosystem, pkg_name, vuln_group);

CREATE TABLE licence_policies (
    org_id BIGINT PRIMARY KEY REFERENCES orgs(id) ON DELETE CASCADE,
    policy TEXT NOT NULL,
    updated_at {{ts}} NOT NULL
);

CREATE TABLE gates (
    id {{pk}},
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    name TEXT NOT NULL,
    stage TEXT NOT NULL CHECK (stage IN ('procurement', 'go_live', 'update', 'operation')),
    rules TEXT NOT NULL,
    -- A built-in gate gets a row the first time an organisation uses it, so that its
    -- results refer to a row; its rules stay those of the running release.
    built_in BOOLEAN NOT NULL DEFAULT FALSE,
    created_at {{ts}} NOT NULL,
    updated_at {{ts}} NOT NULL,
    UNIQUE (org_id, name)
);

CREATE TABLE gate_results (
    id {{pk}},
    gate_id BIGINT NOT NULL REFERENCES gates(id) ON DELETE CASCADE,
    version_id BIGINT NOT NULL REFERENCES product_versions(id) ON DELETE CASCADE,
    passed BOOLEAN NOT NULL,
    reasons TEXT NOT NULL,
    evaluated_by TEXT NOT NULL,
    evaluated_at {{ts}} NOT NULL
);
CREATE INDEX gate_results_version ON gate_results (version_id, evaluated_at);

CREATE TABLE deliveries (
    id {{pk}},
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    vendor_id BIGINT REFERENCES vendors(id),
    product_id BIGINT REFERENCES products(id),
    version_id BIGINT REFERENCES product_versions(id),
    delivery_ref TEXT NOT NULL DEFAULT '',
    manifest TEXT NOT NULL,
    ok BOOLEAN NOT NULL,
    signature_status TEXT NOT NULL,
    signer TEXT NOT NULL DEFAULT '',
    report TEXT NOT NULL,
    verified_by TEXT NOT NULL,
    verified_at {{ts}} NOT NULL
);
CREATE INDEX deliveries_version ON deliveries (version_id);
CREATE INDEX deliveries_vendor ON deliveries (vendor_id);

CREATE TABLE supply_alerts (
    id {{pk}},
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    kind TEXT NOT NULL,
    vuln_id TEXT NOT NULL DEFAULT '',
    severity TEXT NOT NULL DEFAULT 'unknown',
    title TEXT NOT NULL,
    detail TEXT NOT NULL,
    created_at {{ts}} NOT NULL,
    acknowledged_at {{ts}},
    acknowledged_by TEXT NOT NULL DEFAULT ''
);
CREATE INDEX supply_alerts_org ON supply_alerts (org_id, created_at);
