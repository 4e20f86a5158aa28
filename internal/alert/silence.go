package alert

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

// MaxSilence is the longest a silence may last.
const MaxSilence = 366 * 24 * time.Hour

// UnusedAfter is how long a silence may match nothing before it is listed as unused.
const UnusedAfter = 30 * 24 * time.Hour

// Silence keeps matching alerts from being notified until it expires: they are still
// stored, and shown as silenced. Every matcher that is set must match ("" matches
// anything); Subject matches an alert's subject, account or app.
type Silence struct {
	ID            int64      `json:"id"`
	OrgID         int64      `json:"org_id"`
	OrgName       string     `json:"org_name,omitempty"`
	Source        string     `json:"source"`
	Kind          string     `json:"kind"`
	Severity      string     `json:"severity"`
	Subject       string     `json:"subject"`
	Reason        string     `json:"reason"`
	CreatedBy     string     `json:"created_by"`
	CreatedAt     time.Time  `json:"created_at"`
	ExpiresAt     time.Time  `json:"expires_at"`
	Matched       int64      `json:"matched"`
	LastMatchedAt *time.Time `json:"last_matched_at"`
}

// Active reports whether the silence has not expired at now.
func (sl Silence) Active(now time.Time) bool { return now.Before(sl.ExpiresAt) }

// SilenceInput is a new silence. OrgID is the root of the subtree it covers.
type SilenceInput struct {
	OrgID     int64     `json:"org_id"`
	Source    string    `json:"source"`
	Kind      string    `json:"kind"`
	Severity  string    `json:"severity"`
	Subject   string    `json:"subject"`
	Reason    string    `json:"reason"`
	ExpiresAt time.Time `json:"expires_at"`
}

func (in *SilenceInput) validate(now time.Time) error {
	in.Source, in.Kind = strings.TrimSpace(in.Source), strings.TrimSpace(in.Kind)
	in.Severity, in.Subject = strings.TrimSpace(in.Severity), strings.TrimSpace(in.Subject)
	in.Reason = strings.TrimSpace(in.Reason)
	switch {
	case len(in.Source) > maxName:
		return problem.TooLong("source", maxName)
	case len(in.Kind) > maxName:
		return problem.TooLong("kind", maxName)
	case in.Severity != "" && !ValidSeverity(in.Severity):
		return problem.OneOf("severity", Severities...)
	case len([]rune(in.Subject)) > maxSubject:
		return problem.TooLong("subject", maxSubject)
	case in.Reason == "":
		return problem.Required("reason")
	case len([]rune(in.Reason)) > 1000:
		return problem.TooLong("reason", 1000)
	case in.ExpiresAt.IsZero():
		return problem.Required("expires_at")
	case !in.ExpiresAt.After(now):
		return problem.Invalid("expires_at", "must be in the future").WithMsg("alert.error.future")
	case in.ExpiresAt.Sub(now) > MaxSilence:
		return problem.Invalid("expires_at", "must be at most one year ahead").WithMsg("alert.error.within_year")
	case strings.ContainsRune(in.Source+in.Kind+in.Subject+in.Reason, 0):
		return problem.Invalid("reason", "contains a NUL character").WithMsg("alert.error.nul")
	}
	if in.Source == "" && in.Kind == "" && in.Severity == "" && in.Subject == "" {
		return problem.Invalid("source", "a silence needs at least one matcher besides the organisation").
			WithMsg("alert.error.silence_matcher")
	}
	return nil
}

// silenceSQL selects the id of the oldest active silence matching an alert: its
// arguments are the alert's organisation, the time, source, kind, severity, subject,
// account and app.
var silenceSQL = `SELECT s.id FROM alert_silences s JOIN orgs so ON so.id = s.org_id JOIN orgs ao ON ao.id = ?
	WHERE s.expires_at > ? AND ` + actor.ContainsSQL("so.path", "ao.path") + `
	AND (s.source = '' OR s.source = ?) AND (s.kind = '' OR s.kind = ?) AND (s.severity = '' OR s.severity = ?)
	AND (s.subject = '' OR s.subject = ? OR s.subject = ? OR s.subject = ?)
	ORDER BY s.id LIMIT 1`

// slaSQL selects the SLA hours stored for an organisation's path and a severity: its
// arguments are the organisation and the severity.
var slaSQL = `SELECT s.hours FROM alert_sla s JOIN orgs so ON so.id = s.org_id JOIN orgs ao ON ao.id = ?
	WHERE s.severity = ? AND ` + actor.ContainsSQL("so.path", "ao.path") + `
	ORDER BY LENGTH(so.path) DESC LIMIT 1`

const silenceColumns = `s.id, s.org_id, o.name, s.source, s.kind, s.severity, s.subject, s.reason, s.created_by, s.created_at,
	s.expires_at, s.matched, s.last_matched_at`

func scanSilence(sc scanner) (Silence, error) {
	var sl Silence
	var created, expires, last store.Time
	err := sc.Scan(&sl.ID, &sl.OrgID, &sl.OrgName, &sl.Source, &sl.Kind, &sl.Severity, &sl.Subject, &sl.Reason, &sl.CreatedBy,
		&created, &expires, &sl.Matched, &last)
	sl.CreatedAt, sl.ExpiresAt, sl.LastMatchedAt = created.Time, expires.Time, last.Ptr()
	return sl, err
}

// CreateSilence stores a silence over the subtree of in.OrgID, which a must see.
func (s *Service) CreateSilence(ctx context.Context, a actor.Actor, in SilenceInput) (Silence, error) {
	now := s.stamp()
	if err := in.validate(now); err != nil {
		return Silence{}, err
	}
	var out Silence
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := org.Visible(ctx, tx, a, in.OrgID); err != nil {
			return err
		}
		var id int64
		if err := tx.QueryRowContext(ctx, `INSERT INTO alert_silences (org_id, source, kind, severity, subject, reason, created_by,
			created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, in.OrgID, in.Source, in.Kind, in.Severity,
			in.Subject, in.Reason, a.Username, now, in.ExpiresAt.UTC()).Scan(&id); err != nil {
			return fmt.Errorf("alert: insert silence: %w", err)
		}
		var err error
		if out, err = s.silence(ctx, tx, a, id); err != nil {
			return err
		}
		_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: "alert.silence_create", ObjectType: "alert_silence",
			ObjectID: idString(id), OrgID: in.OrgID, Summary: "silence until " + out.ExpiresAt.Format(time.RFC3339) + ": " + out.Reason,
			Msg:   trail.Msg("trail.summary.alert.silence_create", out.ExpiresAt.Format("2006-01-02 15:04"), out.Reason),
			After: out})
		return err
	})
	return out, err
}

func (s *Service) silence(ctx context.Context, q store.Querier, a actor.Actor, id int64) (Silence, error) {
	cond, arg := a.SeesSQL("o.path")
	sl, err := scanSilence(q.QueryRowContext(ctx, `SELECT `+silenceColumns+` FROM alert_silences s JOIN orgs o ON o.id = s.org_id
		WHERE s.id = ? AND `+cond, id, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return Silence{}, problem.NotFound("silence")
	}
	if err != nil {
		return Silence{}, fmt.Errorf("alert: read silence %d: %w", id, err)
	}
	return sl, nil
}

// Silence returns silence id if a sees it.
func (s *Service) Silence(ctx context.Context, a actor.Actor, id int64) (Silence, error) {
	return s.silence(ctx, s.db, a, id)
}

// ExpireSilence ends silence id now.
func (s *Service) ExpireSilence(ctx context.Context, a actor.Actor, id int64) (Silence, error) {
	var out Silence
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		before, err := s.silence(ctx, tx, a, id)
		if err != nil {
			return err
		}
		now := s.stamp()
		if !before.Active(now) {
			out = before
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE alert_silences SET expires_at = ? WHERE id = ?`, now, id); err != nil {
			return fmt.Errorf("alert: expire silence %d: %w", id, err)
		}
		out = before
		out.ExpiresAt = now
		_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: "alert.silence_expire", ObjectType: "alert_silence",
			ObjectID: idString(id), OrgID: before.OrgID, Summary: "silence expired: " + before.Reason,
			Msg: trail.Msg("trail.summary.alert.silence_expire", before.Reason)})
		return err
	})
	return out, err
}

// SilenceQuery selects silences: the active ones only, or only those unused — active
// and matching nothing for UnusedAfter (counted from their creation when they never
// matched).
type SilenceQuery struct {
	Active bool
	Unused bool
	// Expired keeps the expired silences only.
	Expired bool
	Limit   int
	Offset  int
}

// Silences lists the silences a sees, newest first, and how many match in all.
func (s *Service) Silences(ctx context.Context, a actor.Actor, q SilenceQuery) ([]Silence, int, error) {
	cond, arg := a.SeesSQL("o.path")
	args := []any{arg}
	now := s.stamp()
	if q.Active || q.Unused {
		cond += ` AND s.expires_at > ?`
		args = append(args, now)
	}
	if q.Expired {
		cond += ` AND s.expires_at <= ?`
		args = append(args, now)
	}
	if q.Unused {
		cond += ` AND COALESCE(s.last_matched_at, s.created_at) < ?`
		args = append(args, now.Add(-UnusedAfter))
	}
	return list(ctx, s.db, `FROM alert_silences s JOIN orgs o ON o.id = s.org_id WHERE `+cond, `s.id DESC`, silenceColumns,
		args, q.Limit, q.Offset, scanSilence)
}

// list runs a counted, paged listing: SELECT COUNT(*) from, then the page.
func list[T any](ctx context.Context, q store.Querier, from, order, cols string, args []any, limit, offset int,
	scan func(scanner) (T, error)) ([]T, int, error) {
	var total int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) `+from, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("alert: count: %w", err)
	}
	out := []T{}
	if limit <= 0 || offset >= total {
		return out, total, nil
	}
	rows, err := q.QueryContext(ctx, `SELECT `+cols+` `+from+` ORDER BY `+order+` LIMIT ? OFFSET ?`,
		append(append([]any(nil), args...), limit, offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("alert: list: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("alert: list: %w", err)
		}
		out = append(out, v)
	}
	return out, total, rows.Err()
}
