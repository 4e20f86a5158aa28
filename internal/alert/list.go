package alert

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

// Filter selects alerts; zero fields select everything.
type Filter struct {
	Source   string
	Kind     string
	Severity string
	// Status is one status, or "open" for new and investigating.
	Status string
	CaseID int64
	// Silenced keeps silenced alerts only (true) or unsilenced ones only (false).
	Silenced *bool
	// Overdue keeps open alerts past their due date.
	Overdue bool
	// Assignee keeps the alerts assigned to this user name.
	Assignee string
	// Text keeps the alerts whose title, subject, account, app or kind contains it
	// (case as stored).
	Text   string
	Limit  int
	Offset int
}

// StatusOpen is the Filter.Status of new and investigating alerts.
const StatusOpen = "open"

func (f Filter) validate() error {
	switch {
	case f.Severity != "" && !ValidSeverity(f.Severity):
		return problem.OneOf("severity", Severities...)
	case f.Status != "" && f.Status != StatusOpen && !validStatus(f.Status):
		return problem.OneOf("status", append([]string{StatusOpen}, Statuses...)...)
	case len(f.Source) > maxName:
		return problem.TooLong("source", maxName)
	case len(f.Kind) > maxName:
		return problem.TooLong("kind", maxName)
	case len([]rune(f.Text)) > maxSubject:
		return problem.TooLong("q", maxSubject)
	case len(f.Assignee) > maxSubject:
		return problem.TooLong("assignee", maxSubject)
	}
	return nil
}

func validStatus(s string) bool {
	for _, v := range Statuses {
		if v == s {
			return true
		}
	}
	return false
}

// List returns the page of alerts a sees that match f, most recently seen first, and
// how many match in all.
func (s *Service) List(ctx context.Context, a actor.Actor, f Filter) ([]Alert, int, error) {
	return s.list(ctx, s.db, a, f)
}

func (s *Service) list(ctx context.Context, q store.Querier, a actor.Actor, f Filter) ([]Alert, int, error) {
	if err := f.validate(); err != nil {
		return nil, 0, err
	}
	cond, arg := a.SeesSQL("o.path")
	args := []any{arg}
	add := func(c string, v any) {
		cond += ` AND ` + c
		args = append(args, v)
	}
	if f.Source != "" {
		add(`al.source = ?`, f.Source)
	}
	if f.Kind != "" {
		add(`al.kind = ?`, f.Kind)
	}
	if f.Severity != "" {
		add(`al.severity = ?`, f.Severity)
	}
	switch f.Status {
	case "":
	case StatusOpen:
		cond += ` AND al.status IN ('new', 'investigating')`
	default:
		add(`al.status = ?`, f.Status)
	}
	if f.CaseID != 0 {
		add(`al.case_id = ?`, f.CaseID)
	}
	if f.Silenced != nil {
		if *f.Silenced {
			cond += ` AND al.silence_id IS NOT NULL`
		} else {
			cond += ` AND al.silence_id IS NULL`
		}
	}
	if f.Assignee != "" {
		add(`al.assignee = ?`, f.Assignee)
	}
	if t := strings.TrimSpace(f.Text); t != "" {
		pat := "%" + actor.EscapeLike(t) + "%"
		cond += ` AND (al.title LIKE ? ESCAPE '\' OR al.subject LIKE ? ESCAPE '\' OR al.account LIKE ? ESCAPE '\'
			OR al.app LIKE ? ESCAPE '\' OR al.kind LIKE ? ESCAPE '\')`
		args = append(args, pat, pat, pat, pat, pat)
	}
	if f.Overdue {
		add(`al.status IN ('new', 'investigating') AND al.due_at < ?`, s.stamp())
	}
	return list(ctx, q, `FROM alerts al JOIN orgs o ON o.id = al.org_id WHERE `+cond, `al.last_seen DESC, al.id DESC`,
		qualified("al")+`, o.name`, args, f.Limit, f.Offset, scanNamed)
}

func scanNamed(sc scanner) (Alert, error) {
	var name string
	al, err := scanAlert(sc, &name)
	al.OrgName = name
	return al, err
}

// Overdue lists the open alerts a sees whose due date has passed, most recent first.
func (s *Service) Overdue(ctx context.Context, a actor.Actor, limit, offset int) ([]Alert, int, error) {
	return s.List(ctx, a, Filter{Overdue: true, Limit: limit, Offset: offset})
}

// Get returns alert id if a sees it.
func (s *Service) Get(ctx context.Context, a actor.Actor, id int64) (Alert, error) {
	return s.get(ctx, s.db, a, id)
}

func (s *Service) get(ctx context.Context, q store.Querier, a actor.Actor, id int64) (Alert, error) {
	cond, arg := a.SeesSQL("o.path")
	al, err := scanNamed(q.QueryRowContext(ctx, `SELECT `+qualified("al")+`, o.name FROM alerts al JOIN orgs o ON o.id = al.org_id
		WHERE al.id = ? AND `+cond, id, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return Alert{}, problem.NotFound("alert")
	}
	if err != nil {
		return Alert{}, fmt.Errorf("alert: read alert %d: %w", id, err)
	}
	return al, nil
}

// Acknowledge records that a has seen alert id: a new alert becomes investigating. An
// alert acknowledged before is returned unchanged.
func (s *Service) Acknowledge(ctx context.Context, a actor.Actor, id int64) (Alert, error) {
	var out Alert
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		before, err := s.get(ctx, tx, a, id)
		if err != nil {
			return err
		}
		out = before
		if before.AcknowledgedAt != nil {
			return nil
		}
		now := s.stamp()
		status := before.Status
		if status == StatusNew {
			status = StatusInvestigating
		}
		if _, err := tx.ExecContext(ctx, `UPDATE alerts SET acknowledged_at = ?, acknowledged_by = ?, status = ?, updated_at = ?
			WHERE id = ?`, now, a.Username, status, now, id); err != nil {
			return fmt.Errorf("alert: acknowledge alert %d: %w", id, err)
		}
		out.AcknowledgedAt, out.AcknowledgedBy, out.Status = &now, a.Username, status
		_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: "alert.acknowledge", ObjectType: "alert",
			ObjectID: idString(id), OrgID: before.OrgID, Summary: before.Title, Msg: trail.Msg("trail.summary.alert.acknowledge", titleArg(before))})
		return err
	})
	return out, err
}

// Count is a number of alerts with one value of a field.
type Count struct {
	Key string `json:"key"`
	N   int    `json:"n"`
}

// Counts returns the open alerts a sees, counted by severity and by source.
func (s *Service) Counts(ctx context.Context, a actor.Actor) (bySeverity, bySource []Count, err error) {
	cond, arg := a.SeesSQL("o.path")
	for _, g := range []struct {
		col string
		out *[]Count
	}{{"al.severity", &bySeverity}, {"al.source", &bySource}} {
		rows, err := s.db.QueryContext(ctx, `SELECT `+g.col+`, COUNT(*) FROM alerts al JOIN orgs o ON o.id = al.org_id
			WHERE al.status IN ('new', 'investigating') AND `+cond+` GROUP BY `+g.col+` ORDER BY `+g.col, arg)
		if err != nil {
			return nil, nil, fmt.Errorf("alert: counts: %w", err)
		}
		*g.out = []Count{}
		for rows.Next() {
			var c Count
			if err := rows.Scan(&c.Key, &c.N); err != nil {
				rows.Close()
				return nil, nil, fmt.Errorf("alert: counts: %w", err)
			}
			*g.out = append(*g.out, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, nil, fmt.Errorf("alert: counts: %w", err)
		}
	}
	return bySeverity, bySource, nil
}

// Acknowledged reports whether alert id has been acknowledged or has left the "new"
// status (the notification dispatcher asks before it escalates). It is a system check,
// not an actor's read: it returns nothing but the answer.
func (s *Service) Acknowledged(ctx context.Context, id int64) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM alerts WHERE id = ? AND (status <> 'new' OR acknowledged_at IS NOT NULL)`, id).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("alert: acknowledged %d: %w", id, err)
	}
	return n > 0, nil
}
