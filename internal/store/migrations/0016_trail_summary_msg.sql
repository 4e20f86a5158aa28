-- A trail entry's summary as a catalogue key and arguments (JSON), so that pages show it
-- in the reader's language. The English summary column stays for syslog, exports and the
-- CLI. Entries written before this migration have '' here; the entry's MAC covers this
-- column only when it is not empty, so those entries verify unchanged.
ALTER TABLE trail ADD COLUMN summary_msg TEXT NOT NULL DEFAULT '';
