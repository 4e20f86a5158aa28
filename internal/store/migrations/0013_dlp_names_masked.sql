-- Patient identifiers in the names of scanned files, texts and job paths are stored
-- masked, like findings, and their raw values sealed as findings of the file (field
-- "(path)"). Scans stored before this migration keep their names in clear until the
-- DLP service masks them (dlpsvc.MaskStoredNames, run when the server opens the
-- store); this flag says which scans have been through it.
ALTER TABLE dlp_scans ADD COLUMN names_masked BOOLEAN NOT NULL DEFAULT FALSE;
