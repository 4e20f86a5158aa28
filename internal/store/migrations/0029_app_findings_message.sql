-- A finding the registry derives itself keeps its evidence as a catalogue message (key
-- and arguments, JSON) as well, so that each reader sees it in their own language; empty
-- for the evidence of tools (APK inspection, portal checks), shown as they wrote it.
ALTER TABLE app_findings ADD COLUMN message TEXT NOT NULL DEFAULT '';
