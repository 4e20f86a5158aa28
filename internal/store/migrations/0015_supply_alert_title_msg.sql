-- An alert's title as a catalogue key and arguments (JSON), so that pages show it in the
-- reader's language. The English title column stays for the API and for alerts raised
-- before this migration, which have '' here.
ALTER TABLE supply_alerts ADD COLUMN title_msg TEXT NOT NULL DEFAULT '';
