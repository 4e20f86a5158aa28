-- A notification may go to addresses of its own instead of its channel's recipients: the
-- registered contacts of an internet-hospital app are mailed through the nearest SMTP
-- channel (package notify, EnqueueDirect). Comma-separated e-mail addresses; empty: the
-- channel's own recipients. Rows with different recipients never share a delivery.
ALTER TABLE notify_outbox ADD COLUMN recipients TEXT NOT NULL DEFAULT '';
ALTER TABLE notify_deliveries ADD COLUMN recipients TEXT NOT NULL DEFAULT '';
