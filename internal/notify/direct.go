package notify

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/notify/channel"
	"github.com/medguard/medguard/internal/store"
)

// ErrNoMailChannel is returned by EnqueueDirect when neither the alert's organisation nor
// any above it has an enabled e-mail channel to send through.
var ErrNoMailChannel = errors.New("notify: no enabled e-mail channel for the organisation or those above it")

// maxRecipients bounds the addresses of one direct notification.
const maxRecipients = 20

// EnqueueDirect writes, in tx (the transaction that raised the alert), a notification of
// ev to the addresses to — people who are not users of medguard, such as the registered
// contacts of an internet-hospital app. It is sent at once (no quiet hours) by e-mail
// through the enabled SMTP channel nearest to the alert's organisation (its own, else the
// closest organisation above it; the oldest channel of that organisation), with to in
// place of the channel's own recipients. It returns the channel's name, or
// ErrNoMailChannel. Invalid and repeated addresses are dropped; none left is an error.
func (s *Service) EnqueueDirect(ctx context.Context, tx *store.Tx, ev Event, to []string) (string, error) {
	var addrs []string
	for _, t := range to {
		a, err := mail.ParseAddress(strings.TrimSpace(t))
		if err != nil || slices.Contains(addrs, a.Address) {
			continue
		}
		addrs = append(addrs, a.Address)
	}
	if len(addrs) == 0 {
		return "", errors.New("notify: no valid e-mail address to notify")
	}
	if len(addrs) > maxRecipients {
		addrs = addrs[:maxRecipients]
	}
	id, name, err := s.mailChannel(ctx, tx, ev.OrgID)
	if err != nil {
		return "", err
	}
	title, err := json.Marshal(ev.Title)
	if err != nil {
		return "", fmt.Errorf("notify: title: %w", err)
	}
	now := s.now()
	if _, err := tx.ExecContext(ctx, `INSERT INTO notify_outbox (channel_id, org_id, alert_id, source, kind, severity, title, subject,
		first_seen, last_seen, alert_count, escalation, not_before, created_at, recipients) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		id, ev.OrgID, ev.AlertID, ev.Source, ev.Kind, ev.Severity, string(title), ev.Subject,
		utcOrNil(ev.FirstSeen), utcOrNil(ev.LastSeen), max(ev.Count, 1), false, now, now, strings.Join(addrs, ",")); err != nil {
		return "", fmt.Errorf("notify: enqueue: %w", err)
	}
	return name, nil
}

// MailChannel names the channel EnqueueDirect would send a notification of organisation
// orgID's alerts through, or returns ErrNoMailChannel.
func (s *Service) MailChannel(ctx context.Context, tx *store.Tx, orgID int64) (string, error) {
	_, name, err := s.mailChannel(ctx, tx, orgID)
	return name, err
}

// mailChannel finds the enabled SMTP channel nearest to organisation orgID: its own, else
// the closest organisation's above it; the oldest of that organisation.
func (s *Service) mailChannel(ctx context.Context, tx *store.Tx, orgID int64) (int64, string, error) {
	var id int64
	var name string
	err := tx.QueryRowContext(ctx, `SELECT c.id, c.name FROM notify_channels c JOIN orgs co ON co.id = c.org_id JOIN orgs ao ON ao.id = ?
		WHERE c.kind = ? AND c.enabled AND `+actor.ContainsSQL("co.path", "ao.path")+`
		ORDER BY LENGTH(co.path) DESC, c.id LIMIT 1`, orgID, channel.KindSMTP).Scan(&id, &name)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", ErrNoMailChannel
	}
	if err != nil {
		return 0, "", fmt.Errorf("notify: mail channel: %w", err)
	}
	return id, name, nil
}
