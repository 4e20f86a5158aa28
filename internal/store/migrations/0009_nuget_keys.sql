-- NuGet package ids are case-insensitive ("Newtonsoft.Json" and "newtonsoft.json" are one
-- package), so their lookup keys are stored with ASCII letters lowered, as vuln.KeyOf
-- computes them: vuln_affected.name of NuGet entries, and the new components.pkg_key,
-- the key a stored component is found by when advisories change (pkg_name keeps the name
-- as shown). The nested REPLACE lowers A-Z only, identically on both engines (LOWER
-- folds beyond ASCII on PostgreSQL, depending on the collation, but not on SQLite).
UPDATE vuln_affected SET name = REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(name, 'A', 'a'), 'B', 'b'), 'C', 'c'), 'D', 'd'), 'E', 'e'), 'F', 'f'), 'G', 'g'), 'H', 'h'), 'I', 'i'), 'J', 'j'), 'K', 'k'), 'L', 'l'), 'M', 'm'), 'N', 'n'), 'O', 'o'), 'P', 'p'), 'Q', 'q'), 'R', 'r'), 'S', 's'), 'T', 't'), 'U', 'u'), 'V', 'v'), 'W', 'w'), 'X', 'x'), 'Y', 'y'), 'Z', 'z')
WHERE ecosystem = 'NuGet';

ALTER TABLE components ADD COLUMN pkg_key TEXT NOT NULL DEFAULT '';

UPDATE components SET pkg_key = CASE WHEN eco_base = 'NuGet'
    THEN REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(pkg_name, 'A', 'a'), 'B', 'b'), 'C', 'c'), 'D', 'd'), 'E', 'e'), 'F', 'f'), 'G', 'g'), 'H', 'h'), 'I', 'i'), 'J', 'j'), 'K', 'k'), 'L', 'l'), 'M', 'm'), 'N', 'n'), 'O', 'o'), 'P', 'p'), 'Q', 'q'), 'R', 'r'), 'S', 's'), 'T', 't'), 'U', 'u'), 'V', 'v'), 'W', 'w'), 'X', 'x'), 'Y', 'y'), 'Z', 'z')
    ELSE pkg_name END;

DROP INDEX components_package;
CREATE INDEX components_package_key ON components (eco_base, pkg_key);
