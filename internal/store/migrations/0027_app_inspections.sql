-- APK inspections of internet-hospital apps (package appreg): the report of each uploaded
-- build (signatures verified as Android does, manifest, findings) as JSON, newest last.
-- The findings of the newest inspection are the app's "apk.*" findings.
CREATE TABLE app_inspections (
    id {{pk}},
    app_id BIGINT NOT NULL REFERENCES apps(id),
    file_name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    package TEXT NOT NULL,
    version TEXT NOT NULL,
    verified BOOLEAN NOT NULL,
    report TEXT NOT NULL,
    inspected_by TEXT NOT NULL,
    inspected_at {{ts}} NOT NULL
);
CREATE INDEX app_inspections_app ON app_inspections (app_id, id);
