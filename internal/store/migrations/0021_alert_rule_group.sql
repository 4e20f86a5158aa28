-- Alerts raised by a detection rule (audit-event monitoring, source 'monitor') name the
-- rule, the event fields it grouped by (JSON array) with their values (JSON object; never
-- a patient identifier, which stays in patient_id), and the time range of the events that
-- fired it. Every other alert has '' and NULL here.
ALTER TABLE alerts ADD COLUMN rule TEXT NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN group_by TEXT NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN group_values TEXT NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN range_from {{ts}};
ALTER TABLE alerts ADD COLUMN range_to {{ts}};
CREATE INDEX alerts_rule ON alerts (org_id, rule, last_seen);
