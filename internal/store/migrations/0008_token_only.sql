-- An API token may be limited to one permission: a mail or file-transfer gateway holds a
-- token that may call the pre-send check of patient data (dlp.check) and nothing else.
-- Such a token is stored with scope 'write' and the permission here; '' = not limited.
ALTER TABLE api_tokens ADD COLUMN only_permission TEXT NOT NULL DEFAULT '';
