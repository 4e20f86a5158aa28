-- Notifications: channels (where messages go), routes (which alerts go where), the outbox
-- (one row per alert × channel, written in the transaction that raises the alert), the
-- deliveries that group outbox rows of one channel into one message (each with an
-- idempotency key fixed before its first attempt), the sends of rate-limited channels, and
-- the in-app inbox of each user. Alerts belong to package alert; the outbox keeps its own
-- copy of what a message shows, so that no foreign key ties the two packages together.

CREATE TABLE notify_channels (
    id {{pk}},
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('webhook', 'smtp', 'wecom', 'dingtalk', 'feishu')),
    url TEXT NOT NULL,
    -- Webhook HMAC secret, DingTalk/Feishu signing secret, SMTP password. Stored as given:
    -- the platform has no sealing key service outside the DLP package yet.
    secret TEXT NOT NULL DEFAULT '',
    smtp_username TEXT NOT NULL DEFAULT '',
    smtp_from TEXT NOT NULL DEFAULT '',
    smtp_to TEXT NOT NULL DEFAULT '',  -- comma-separated addresses
    smtp_starttls BOOLEAN NOT NULL DEFAULT TRUE,
    lang TEXT NOT NULL DEFAULT 'zh-CN',
    enabled BOOLEAN NOT NULL DEFAULT TRUE,
    created_at {{ts}} NOT NULL,
    updated_at {{ts}} NOT NULL,
    UNIQUE (org_id, name)
);

-- A route sends the alerts of its organisation (and, with subtree, of the organisations
-- below it) that match source, kind and minimum severity ('' matches all) to one
-- receiver: a channel, a user's inbox or the inboxes of every user with a role who sees
-- the alert. Quiet hours (minutes of the day in the route's time zone; -1: none) hold
-- non-critical messages to the route's channel until they end. Escalation: a critical
-- alert not acknowledged within escalate_minutes goes to escalate_channel_id as well.
CREATE TABLE notify_routes (
    id {{pk}},
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    channel_id BIGINT REFERENCES notify_channels(id) ON DELETE CASCADE,
    user_id BIGINT REFERENCES users(id) ON DELETE CASCADE,
    role TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL DEFAULT '',
    min_severity TEXT NOT NULL DEFAULT '' CHECK (min_severity IN ('', 'critical', 'high', 'medium', 'low', 'info')),
    subtree BOOLEAN NOT NULL DEFAULT TRUE,
    quiet_start INTEGER NOT NULL DEFAULT -1,
    quiet_end INTEGER NOT NULL DEFAULT -1,
    time_zone TEXT NOT NULL DEFAULT 'Asia/Shanghai',
    escalate_minutes INTEGER NOT NULL DEFAULT 0,
    escalate_channel_id BIGINT REFERENCES notify_channels(id) ON DELETE SET NULL,
    created_at {{ts}} NOT NULL,
    CHECK ((channel_id IS NOT NULL) OR (user_id IS NOT NULL) OR (role <> ''))
);
CREATE INDEX notify_routes_org ON notify_routes (org_id);

-- A delivery is one message to one channel; its key is the idempotency key a receiver
-- sees on every attempt (webhook: X-Medguard-Delivery).
CREATE TABLE notify_deliveries (
    id {{pk}},
    channel_id BIGINT NOT NULL REFERENCES notify_channels(id) ON DELETE CASCADE,
    delivery_key TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'dead')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at {{ts}} NOT NULL,
    last_attempt_at {{ts}},
    last_error TEXT NOT NULL DEFAULT '',
    created_at {{ts}} NOT NULL,
    sent_at {{ts}}
);
CREATE INDEX notify_deliveries_due ON notify_deliveries (channel_id, state, next_attempt_at);

-- One row per alert × channel. state: waiting (for a delivery), queued (in delivery_id),
-- skipped (an escalation whose alert was acknowledged in time).
CREATE TABLE notify_outbox (
    id {{pk}},
    channel_id BIGINT NOT NULL REFERENCES notify_channels(id) ON DELETE CASCADE,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    alert_id BIGINT NOT NULL DEFAULT 0,  -- 0: a test message
    source TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL DEFAULT '',
    severity TEXT NOT NULL DEFAULT '',
    title TEXT NOT NULL DEFAULT '',      -- i18n.Message as JSON
    subject TEXT NOT NULL DEFAULT '',    -- masked
    first_seen {{ts}},
    last_seen {{ts}},
    alert_count INTEGER NOT NULL DEFAULT 1,
    test BOOLEAN NOT NULL DEFAULT FALSE,
    escalation BOOLEAN NOT NULL DEFAULT FALSE,
    state TEXT NOT NULL DEFAULT 'waiting' CHECK (state IN ('waiting', 'queued', 'skipped')),
    not_before {{ts}} NOT NULL,
    delivery_id BIGINT REFERENCES notify_deliveries(id) ON DELETE SET NULL,
    created_at {{ts}} NOT NULL
);
CREATE INDEX notify_outbox_waiting ON notify_outbox (channel_id, state, not_before);
CREATE INDEX notify_outbox_delivery ON notify_outbox (delivery_id);

-- The attempts of rate-limited channels in the last minutes: the dispatcher counts them
-- before it sends, so that a restart does not reset a vendor's limit.
CREATE TABLE notify_sends (
    id {{pk}},
    channel_id BIGINT NOT NULL REFERENCES notify_channels(id) ON DELETE CASCADE,
    sent_at {{ts}} NOT NULL
);
CREATE INDEX notify_sends_channel ON notify_sends (channel_id, sent_at);

-- The in-app inbox: the bell shows the count of rows without read_at.
CREATE TABLE notify_inbox (
    id {{pk}},
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    alert_id BIGINT NOT NULL,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    severity TEXT NOT NULL DEFAULT '',
    title TEXT NOT NULL DEFAULT '',
    created_at {{ts}} NOT NULL,
    read_at {{ts}},
    UNIQUE (user_id, alert_id)
);
CREATE INDEX notify_inbox_unread ON notify_inbox (user_id, read_at);
