-- One lower-cased search text per asset (name, code, IP, owner, vendor, model, serial,
-- tags), kept by the asset service on every write, so that a search is one LIKE per row
-- instead of eight LOWER() calls. Existing rows are filled here.
ALTER TABLE assets ADD COLUMN search TEXT NOT NULL DEFAULT '';
UPDATE assets SET search = LOWER(name || ' ' || code || ' ' || ip || ' ' || owner || ' ' || vendor || ' ' || model || ' ' || serial || ' ' || tags);
CREATE INDEX assets_updated_id ON assets (updated_at, id);
