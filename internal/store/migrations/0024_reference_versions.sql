-- A change counter of each organisation's reference data: every reference import adds
-- one in its transaction, so that the in-memory snapshots of the explanation engine
-- (package explain) know cheaply when to reload.

CREATE TABLE reference_versions (
    org_id BIGINT NOT NULL PRIMARY KEY REFERENCES orgs(id),
    version BIGINT NOT NULL
);
