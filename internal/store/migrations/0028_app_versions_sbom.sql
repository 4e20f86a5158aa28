-- An official version of an internet-hospital app may name the software version of the
-- supply chain that holds its SBOM: the open vulnerabilities of its components are then
-- findings of the app (package appreg).
ALTER TABLE app_versions ADD COLUMN supply_version_id BIGINT NOT NULL DEFAULT 0;
