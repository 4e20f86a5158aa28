package notify

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/notify/channel"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

// Delivery states.
const (
	StatePending = "pending"
	StateSent    = "sent"
	StateDead    = "dead"
)

// Delivery is one message to one channel, grouping one or more outbox rows.
type Delivery struct {
	ID            int64      `json:"id"`
	ChannelID     int64      `json:"channel_id"`
	ChannelName   string     `json:"channel"`
	Key           string     `json:"key"`
	State         string     `json:"state"`
	Attempts      int        `json:"attempts"`
	NextAttemptAt time.Time  `json:"next_attempt_at"`
	LastAttemptAt *time.Time `json:"last_attempt_at,omitempty"`
	LastError     string     `json:"last_error,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	SentAt        *time.Time `json:"sent_at,omitempty"`
}

// Wake makes Run start its next pass now (after an enqueue in this process).
func (s *Service) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run dispatches until ctx ends: a pass, then another every Poll (or at Wake). It is the
// work of the lease LeaseName: the application runs it only while it holds the lease, and
// ctx ends when the lease is lost.
func (s *Service) Run(ctx context.Context) {
	for {
		if _, err := s.Pass(ctx); err != nil && ctx.Err() == nil {
			s.opt.Logger.Error("dispatch notifications", "err", err)
		}
		t := time.NewTimer(s.opt.Poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		case <-s.wake:
			t.Stop()
		}
	}
}

// Pass reads the enabled channels and, for each (several at once), sends what is due as
// far as the channel's rate limit allows. It returns how many deliveries it sent.
func (s *Service) Pass(ctx context.Context) (int, error) {
	chs, err := s.enabledChannels(ctx)
	if err != nil {
		return 0, err
	}
	if now := s.now(); s.pruneDue(now) {
		if err := s.prune(ctx, now); err != nil {
			return 0, err
		}
	}
	var (
		mu    sync.Mutex
		total int
		errs  []error
		wg    sync.WaitGroup
		sem   = make(chan struct{}, s.opt.Concurrency)
	)
	for _, c := range chs {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			n, err := s.dispatch(ctx, c)
			mu.Lock()
			defer mu.Unlock()
			total += n
			if err != nil && ctx.Err() == nil {
				errs = append(errs, fmt.Errorf("channel %d: %w", c.ID, err))
			}
		})
	}
	wg.Wait()
	return total, errors.Join(errs...)
}

// DispatchChannel is Pass for one channel: `notify test` runs it when no server holds
// the dispatcher's lease.
func (s *Service) DispatchChannel(ctx context.Context, id int64) (int, error) {
	c, err := scanChannel(s.db.QueryRowContext(ctx, `SELECT `+channelCols+` FROM notify_channels c WHERE c.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return 0, problem.NotFound("channel")
	}
	if err != nil {
		return 0, fmt.Errorf("notify: channel: %w", err)
	}
	return s.dispatch(ctx, c)
}

// pruneDue reports whether the sends of rate-limited channels are due to be pruned
// (once a minute), and if so notes that they are being.
func (s *Service) pruneDue(now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Sub(s.pruned) < time.Minute {
		return false
	}
	s.pruned = now
	return true
}

// prune drops the sends of rate-limited channels older than ten minutes, and the sent
// deliveries and skipped escalations older than the retention, with their outbox rows.
// Dead letters and what still waits are kept.
func (s *Service) prune(ctx context.Context, now time.Time) error {
	old := now.Add(-s.opt.Retention)
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		for _, q := range []struct {
			sql string
			at  time.Time
		}{
			{`DELETE FROM notify_sends WHERE sent_at < ?`, now.Add(-10 * time.Minute)},
			{`DELETE FROM notify_outbox WHERE delivery_id IN (SELECT id FROM notify_deliveries WHERE state = 'sent' AND sent_at < ?)`, old},
			{`DELETE FROM notify_deliveries WHERE state = 'sent' AND sent_at < ?`, old},
			{`DELETE FROM notify_outbox WHERE state = 'skipped' AND not_before < ?`, old},
		} {
			if _, err := tx.ExecContext(ctx, q.sql, q.at); err != nil {
				return fmt.Errorf("notify: prune: %w", err)
			}
		}
		return nil
	})
}

// unusable records that channel id cannot send because of err (nil: it can) and reports
// whether that is news.
func (s *Service) unusable(id int64, err error) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil {
		delete(s.broken, id)
		return false
	}
	if s.broken[id] == err.Error() {
		return false
	}
	s.broken[id] = err.Error()
	return true
}

// batchMost is how many deliveries of one channel are made, or attempted, at once.
const batchMost = 200

// dispatch sends the due deliveries of channel c, oldest first, grouping waiting rows into
// new deliveries, until nothing is due, the rate limit is reached or an attempt fails
// (the rest waits for the failed delivery's next attempt, and is then grouped).
func (s *Service) dispatch(ctx context.Context, c Channel) (int, error) {
	if !c.Enabled {
		return 0, nil // what waits for a disabled channel is sent once it is enabled again
	}
	limit, most := s.opt.Limit(c.Kind)
	cfg := c.config()
	secret, err := s.openSecret(c.OrgID, c.Name, c.Secret)
	var sender channel.Sender
	if err == nil {
		cfg.Secret = secret
		sender, err = channel.New(cfg, channel.Options{HTTP: s.opt.HTTP, Now: s.opt.Now})
	}
	if err != nil {
		// A channel this build cannot send to (or whose configuration its sender refuses)
		// keeps its rows waiting; said once, not at every pass.
		if s.unusable(c.ID, err) {
			s.opt.Logger.Error("a notification channel cannot send: its messages wait", "channel", c.Name, "kind", c.Kind, "err", err)
		}
		return 0, nil
	}
	s.unusable(c.ID, nil)
	sent := 0
	for ctx.Err() == nil {
		now := s.now()
		budget, err := s.budget(ctx, c.ID, limit, now)
		if err != nil || budget == 0 {
			return sent, err
		}
		ids, err := s.dueDeliveries(ctx, c.ID, max(most, 1), budget, now)
		if err != nil || len(ids) == 0 {
			return sent, err
		}
		n, failed, err := s.attempt(ctx, c, sender, ids, limit != channel.Limit{})
		sent += n
		if err != nil || failed {
			return sent, err
		}
	}
	return sent, nil
}

// budget returns how many messages channel c may send now under limit (at most
// batchMost): PerMinute less its sends in the last minute, PerSecond less those in the
// last second.
func (s *Service) budget(ctx context.Context, channelID int64, limit channel.Limit, now time.Time) (int, error) {
	budget := batchMost
	for _, w := range []struct {
		n    int
		span time.Duration
	}{{limit.PerMinute, time.Minute}, {limit.PerSecond, time.Second}} {
		if w.n <= 0 {
			continue
		}
		var n int
		if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM notify_sends WHERE channel_id = ? AND sent_at > ?`,
			channelID, now.Add(-w.span)).Scan(&n); err != nil {
			return 0, fmt.Errorf("notify: count sends: %w", err)
		}
		budget = min(budget, max(w.n-n, 0))
	}
	return budget, nil
}

// dueDeliveries returns up to budget deliveries of the channel to attempt now. Pending
// deliveries (new ones a crash interrupted, or ones waiting to be retried) come first,
// and while one waits for its next attempt no new one is made: the rows that arrive
// meanwhile are grouped into one message when it is done. Otherwise it drops the due
// escalations of acknowledged alerts and groups the waiting rows, up to most a delivery,
// into new deliveries, whose idempotency keys are fixed here, before any attempt.
func (s *Service) dueDeliveries(ctx context.Context, channelID int64, most, budget int, now time.Time) ([]int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, next_attempt_at FROM notify_deliveries WHERE channel_id = ? AND state = 'pending'
		ORDER BY next_attempt_at, id LIMIT ?`, channelID, budget)
	if err != nil {
		return nil, fmt.Errorf("notify: pending deliveries: %w", err)
	}
	var ids []int64
	pending := false
	for rows.Next() {
		var id int64
		var next store.Time
		if err := rows.Scan(&id, &next); err != nil {
			rows.Close()
			return nil, fmt.Errorf("notify: pending deliveries: %w", err)
		}
		pending = true
		if !next.Time.After(now) {
			ids = append(ids, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil || pending {
		return ids, err
	}
	if err := s.skipAcknowledged(ctx, channelID, now); err != nil {
		return nil, err
	}
	// Look before taking the write lock: most passes find nothing.
	var one int
	err = s.db.QueryRowContext(ctx, `SELECT 1 FROM notify_outbox WHERE channel_id = ? AND state = 'waiting' AND not_before <= ? LIMIT 1`,
		channelID, now).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("notify: waiting rows: %w", err)
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, recipients FROM notify_outbox WHERE channel_id = ? AND state = 'waiting' AND not_before <= ?
			ORDER BY id LIMIT ?`, channelID, now, most*budget)
		if err != nil {
			return err
		}
		// Rows addressed to recipients of their own are grouped only with rows for the
		// same recipients; the groups in the order of their first row.
		byTo := map[string][]any{}
		var order []string
		for rows.Next() {
			var r int64
			var to string
			if err := rows.Scan(&r, &to); err != nil {
				rows.Close()
				return err
			}
			if _, ok := byTo[to]; !ok {
				order = append(order, to)
			}
			byTo[to] = append(byTo[to], r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		type batch struct {
			to   string
			rows []any
		}
		var batches []batch
		for _, to := range order {
			waiting := byTo[to]
			for lo := 0; lo < len(waiting); lo += most {
				batches = append(batches, batch{to, waiting[lo:min(lo+most, len(waiting))]})
			}
		}
		if len(batches) > budget {
			batches = batches[:budget] // the rest waits for the next pass
		}
		for _, b := range batches {
			group := b.rows
			var id int64
			if err := tx.QueryRowContext(ctx, `INSERT INTO notify_deliveries (channel_id, delivery_key, state, next_attempt_at, created_at, recipients)
				VALUES (?, ?, 'pending', ?, ?, ?) RETURNING id`, channelID, newKey(), now, now, b.to).Scan(&id); err != nil {
				return err
			}
			res, err := tx.ExecContext(ctx, `UPDATE notify_outbox SET state = 'queued', delivery_id = ? WHERE state = 'waiting' AND id IN (`+
				store.Placeholders(len(group))+`)`, append([]any{id}, group...)...)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil || n != int64(len(group)) {
				return fmt.Errorf("grouped %d of %d rows: another dispatcher is at work (%v)", n, len(group), err)
			}
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("notify: group: %w", err)
	}
	return ids, nil
}

// newKey returns a new idempotency key.
func newKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "mgd-" + hex.EncodeToString(b[:])
}

// skipAcknowledged marks skipped the due escalations of this channel whose alert has
// been acknowledged; the others are sent like any row.
func (s *Service) skipAcknowledged(ctx context.Context, channelID int64, now time.Time) error {
	if s.opt.Acked == nil {
		return nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, alert_id FROM notify_outbox WHERE channel_id = ? AND state = 'waiting'
		AND escalation AND not_before <= ? ORDER BY id LIMIT 500`, channelID, now)
	if err != nil {
		return fmt.Errorf("notify: escalations: %w", err)
	}
	type esc struct{ id, alert int64 }
	var due []esc
	for rows.Next() {
		var e esc
		if err := rows.Scan(&e.id, &e.alert); err != nil {
			rows.Close()
			return fmt.Errorf("notify: escalations: %w", err)
		}
		due = append(due, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("notify: escalations: %w", err)
	}
	for _, e := range due {
		ok, err := s.opt.Acked.Acknowledged(ctx, e.alert)
		if err != nil {
			return fmt.Errorf("notify: is alert %d acknowledged: %w", e.alert, err)
		}
		if ok {
			if _, err := s.db.ExecContext(ctx, `UPDATE notify_outbox SET state = 'skipped' WHERE id = ? AND state = 'waiting'`, e.id); err != nil {
				return fmt.Errorf("notify: skip escalation: %w", err)
			}
		}
	}
	return nil
}

// attempt sends deliveries ids once each (several at once) and records the outcomes:
// sent; or, after a failure, another attempt after a back-off, or dead letters when the
// error is permanent or the attempts are used up. It returns how many were sent and
// whether any failed. When ctx ends during the attempts (shutdown, a lost lease)
// nothing is recorded: the deliveries stay pending and are sent again under the same
// keys.
func (s *Service) attempt(ctx context.Context, c Channel, sender channel.Sender, ids []int64, limited bool) (int, bool, error) {
	msgs, attempts, err := s.messages(ctx, c, ids)
	if err != nil {
		return 0, false, err
	}
	now := s.now()
	if limited {
		q := `INSERT INTO notify_sends (channel_id, sent_at) VALUES ` + strings.Repeat("(?, ?), ", len(ids)-1) + `(?, ?)`
		args := make([]any, 0, 2*len(ids))
		for range ids {
			args = append(args, c.ID, now)
		}
		if _, err := s.db.ExecContext(ctx, q, args...); err != nil {
			return 0, false, fmt.Errorf("notify: record sends: %w", err)
		}
	}
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := range ids {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			errs[i] = sender.Send(ctx, msgs[i])
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		return 0, false, ctx.Err()
	}
	var ok []any
	failed := false
	for i, id := range ids {
		if errs[i] == nil {
			ok = append(ok, id)
			continue
		}
		failed = true
		n := attempts[i] + 1
		var q string
		var args []any
		if channel.IsPermanent(errs[i]) || n >= s.opt.MaxAttempts {
			q, args = `UPDATE notify_deliveries SET state = 'dead', attempts = ?, last_attempt_at = ?, last_error = ? WHERE id = ?`,
				[]any{n, now, errText(errs[i]), id}
			s.opt.Logger.Warn("a notification went to dead letters", "channel", c.Name, "delivery", id, "attempts", n, "err", errText(errs[i]))
		} else {
			q, args = `UPDATE notify_deliveries SET attempts = ?, last_attempt_at = ?, next_attempt_at = ?, last_error = ? WHERE id = ?`,
				[]any{n, now, now.Add(s.Backoff(n)), errText(errs[i]), id}
		}
		if _, err := s.db.ExecContext(ctx, q, args...); err != nil {
			return 0, false, fmt.Errorf("notify: record an attempt: %w", err)
		}
	}
	if len(ok) > 0 {
		if _, err := s.db.ExecContext(ctx, `UPDATE notify_deliveries SET state = 'sent', attempts = attempts + 1, last_attempt_at = ?,
			sent_at = ?, last_error = '' WHERE id IN (`+store.Placeholders(len(ok))+`)`, append([]any{now, now}, ok...)...); err != nil {
			return 0, false, fmt.Errorf("notify: record sends: %w", err)
		}
	}
	return len(ok), failed, nil
}

func errText(err error) string {
	t := err.Error()
	if len(t) > 500 {
		t = t[:500]
	}
	return t
}

// messages builds the messages of deliveries ids in the channel's language, and returns
// the attempts each has had so far.
func (s *Service) messages(ctx context.Context, c Channel, ids []int64) ([]channel.Message, []int, error) {
	args := make([]any, len(ids))
	at := make(map[int64]int, len(ids))
	for i, id := range ids {
		args[i] = id
		at[id] = i
	}
	msgs := make([]channel.Message, len(ids))
	attempts := make([]int, len(ids))
	in := ` IN (` + store.Placeholders(len(ids)) + `)`
	rows, err := s.db.QueryContext(ctx, `SELECT id, delivery_key, attempts, recipients FROM notify_deliveries WHERE id`+in, args...)
	if err != nil {
		return nil, nil, fmt.Errorf("notify: deliveries: %w", err)
	}
	for rows.Next() {
		var id int64
		var key, to string
		var n int
		if err := rows.Scan(&id, &key, &n, &to); err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("notify: deliveries: %w", err)
		}
		msgs[at[id]] = channel.Message{Key: key, Lang: c.Lang}
		if to != "" {
			msgs[at[id]].To = strings.Split(to, ",")
		}
		attempts[at[id]] = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("notify: deliveries: %w", err)
	}
	rows, err = s.db.QueryContext(ctx, `SELECT x.delivery_id, x.alert_id, x.source, x.kind, x.severity, x.title, x.subject, x.first_seen,
		x.last_seen, x.alert_count, x.test, x.escalation, g.name FROM notify_outbox x JOIN orgs g ON g.id = x.org_id
		WHERE x.delivery_id`+in+` ORDER BY x.id`, args...)
	if err != nil {
		return nil, nil, fmt.Errorf("notify: delivery rows: %w", err)
	}
	defer rows.Close()
	base := strings.TrimRight(s.opt.BaseURL, "/")
	for rows.Next() {
		var a channel.Alert
		var id int64
		var title string
		var first, last store.Time
		var test, escalation bool
		if err := rows.Scan(&id, &a.ID, &a.Source, &a.Kind, &a.Severity, &title, &a.Subject, &first, &last, &a.Count, &test, &escalation, &a.Org); err != nil {
			return nil, nil, fmt.Errorf("notify: delivery rows: %w", err)
		}
		m := &msgs[at[id]]
		var tm i18n.Message
		if json.Unmarshal([]byte(title), &tm) == nil && tm.Key != "" {
			a.Title = s.opt.Catalog.Render(c.Lang, tm)
		}
		// The subject comes masked and the title's parameters are never raw values; the
		// masker stands behind both, since a message leaves the platform.
		a.Title, a.Subject = s.mask(a.Title), s.mask(a.Subject)
		a.FirstSeen, a.LastSeen = first.Time, last.Time
		a.Status = "open"
		if escalation {
			a.Status = "escalated"
		}
		if test {
			m.Test = true
			a.Status = "test"
		}
		if a.ID != 0 {
			a.URL = base + "/alerts/" + strconv.FormatInt(a.ID, 10)
		} else {
			a.URL = base + "/"
		}
		m.Alerts = append(m.Alerts, a)
	}
	return msgs, attempts, rows.Err()
}

const deliveryCols = `d.id, d.channel_id, c.name, d.delivery_key, d.state, d.attempts, d.next_attempt_at, d.last_attempt_at, d.last_error, d.created_at, d.sent_at`

func scanDelivery(sc interface{ Scan(...any) error }) (Delivery, error) {
	var d Delivery
	var next, last, created, sent store.Time
	err := sc.Scan(&d.ID, &d.ChannelID, &d.ChannelName, &d.Key, &d.State, &d.Attempts, &next, &last, &d.LastError, &created, &sent)
	d.NextAttemptAt, d.LastAttemptAt, d.CreatedAt, d.SentAt = next.Time, last.Ptr(), created.Time, sent.Ptr()
	return d, err
}

// Deliveries lists the deliveries in state ("" for all) of the channels of the
// organisations a sees, newest first, at most limit.
func (s *Service) Deliveries(ctx context.Context, a actor.Actor, state string, limit int) ([]Delivery, error) {
	cond, arg := a.SeesSQL("o.path")
	out, err := store.Collect(ctx, s.db, func(sc store.Scanner) (Delivery, error) { return scanDelivery(sc) },
		`SELECT `+deliveryCols+` FROM notify_deliveries d JOIN notify_channels c ON c.id = d.channel_id
		JOIN orgs o ON o.id = c.org_id WHERE `+cond+` AND (? = '' OR d.state = ?) ORDER BY d.id DESC LIMIT ?`, arg, state, state, limit)
	if err != nil {
		return nil, fmt.Errorf("notify: deliveries: %w", err)
	}
	return out, nil
}

// DeliveryOfOutbox returns the delivery an outbox row was grouped into; ok is false while
// the row still waits.
func (s *Service) DeliveryOfOutbox(ctx context.Context, outboxID int64) (d Delivery, ok bool, err error) {
	d, err = scanDelivery(s.db.QueryRowContext(ctx, `SELECT `+deliveryCols+` FROM notify_outbox x JOIN notify_deliveries d ON d.id = x.delivery_id
		JOIN notify_channels c ON c.id = d.channel_id WHERE x.id = ?`, outboxID))
	if errors.Is(err, sql.ErrNoRows) {
		return Delivery{}, false, nil
	}
	if err != nil {
		return Delivery{}, false, fmt.Errorf("notify: delivery of %d: %w", outboxID, err)
	}
	return d, true, nil
}

// Resend puts a dead delivery back to pending, due now, with its attempts reset; it keeps
// its idempotency key, so a receiver that got it after all can tell.
func (s *Service) Resend(ctx context.Context, a actor.Actor, id int64) error {
	cond, arg := a.SeesSQL("o.path")
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var orgID int64
		err := tx.QueryRowContext(ctx, `SELECT c.org_id FROM notify_deliveries d JOIN notify_channels c ON c.id = d.channel_id
			JOIN orgs o ON o.id = c.org_id WHERE d.id = ? AND `+cond, id, arg).Scan(&orgID)
		if errors.Is(err, sql.ErrNoRows) {
			return problem.NotFound("delivery")
		}
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE notify_deliveries SET state = 'pending', attempts = 0, next_attempt_at = ? WHERE id = ? AND state = 'dead'`,
			s.now(), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return problem.Conflict("only a dead letter can be sent again").WithMsg("notify.error.not_dead")
		}
		_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: "notify.resend", ObjectType: "notify_delivery",
			ObjectID: strconv.FormatInt(id, 10), OrgID: orgID,
			Summary: "dead letter sent again", Msg: trail.Msg("trail.summary.notify.resend")})
		return err
	})
	if _, ok := problem.As(err); err != nil && !ok {
		return fmt.Errorf("notify: resend %d: %w", id, err)
	}
	s.Wake()
	return err
}

// LastDeliveries returns the latest delivery of each channel of the organisations a sees,
// by channel id (a channel that never sent has none).
func (s *Service) LastDeliveries(ctx context.Context, a actor.Actor) (map[int64]Delivery, error) {
	cond, arg := a.SeesSQL("o.path")
	rows, err := s.db.QueryContext(ctx, `SELECT `+deliveryCols+` FROM notify_deliveries d JOIN notify_channels c ON c.id = d.channel_id
		JOIN orgs o ON o.id = c.org_id WHERE `+cond+` AND d.id = (SELECT MAX(l.id) FROM notify_deliveries l WHERE l.channel_id = d.channel_id)`, arg)
	if err != nil {
		return nil, fmt.Errorf("notify: last deliveries: %w", err)
	}
	defer rows.Close()
	out := map[int64]Delivery{}
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, fmt.Errorf("notify: last deliveries: %w", err)
		}
		out[d.ChannelID] = d
	}
	return out, rows.Err()
}

// Dispatching reports whether some process holds the dispatcher's lease now, that is
// whether a message put in the outbox is being sent.
func (s *Service) Dispatching(ctx context.Context) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM leases WHERE name = ? AND expires_at > ?`, LeaseName, s.now()).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("notify: dispatcher lease: %w", err)
	}
	return n > 0, nil
}
