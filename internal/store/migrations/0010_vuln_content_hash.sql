-- The hash of each OSV record's content: hex SHA-256 of vulns.raw, the canonical JSON
-- (keys sorted, compact). The Go vulnerability database's OSV export dates every record
-- 0001-01-01T00:00:00Z, so an import cannot tell a changed record from an unchanged one
-- by its modified time; when the times are equal it compares this hash. Rows stored
-- before this migration keep '' until their record is next imported, when the importer
-- computes their hash from raw.
ALTER TABLE vulns ADD COLUMN content_hash TEXT NOT NULL DEFAULT '';
