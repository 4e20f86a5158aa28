package alert

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

// MaxBulk bounds the alerts one bulk action changes.
const MaxBulk = 500

// MaxRiskAcceptance is the longest a risk may be accepted for.
const MaxRiskAcceptance = 366 * 24 * time.Hour

// Change is a move of an alert or case in the workflow: to Status, with a Resolution
// when it is resolved (a reason and an expiry when the risk is accepted).
type Change struct {
	Status        string     `json:"status"`
	Resolution    string     `json:"resolution,omitempty"`
	Reason        string     `json:"reason,omitempty"`
	AcceptedUntil *time.Time `json:"accepted_until,omitempty"`
}

// next lists the statuses each status may move to: new → investigating → resolved →
// closed, straight from new to resolved, and a resolved one reopened. Closed is final.
var next = map[string][]string{
	StatusNew:           {StatusInvestigating, StatusResolved},
	StatusInvestigating: {StatusResolved},
	StatusResolved:      {StatusClosed, StatusInvestigating},
	StatusClosed:        {},
}

// Next returns the statuses an alert or case in status may move to, in workflow order.
func Next(status string) []string { return append([]string(nil), next[status]...) }

func allowed(from, to string) bool {
	for _, s := range next[from] {
		if s == to {
			return true
		}
	}
	return false
}

// validate checks c on its own and normalises it.
func (c *Change) validate(now time.Time) error {
	c.Reason = strings.TrimSpace(c.Reason)
	if !validStatus(c.Status) {
		return problem.OneOf("status", Statuses...)
	}
	if len([]rune(c.Reason)) > 2000 {
		return problem.TooLong("reason", 2000)
	}
	if c.Status != StatusResolved {
		if c.Resolution != "" || c.AcceptedUntil != nil {
			return problem.Invalid("resolution", "only a resolved alert has a resolution").WithMsg("alert.error.resolution_when_open")
		}
		return nil
	}
	switch c.Resolution {
	case ResolutionConfirmed, ResolutionFalsePositive:
		if c.AcceptedUntil != nil {
			return problem.Invalid("accepted_until", "only an accepted risk has an expiry").WithMsg("alert.error.expiry_not_accepted")
		}
	case ResolutionRiskAccepted:
		switch {
		case c.Reason == "":
			return problem.Required("reason")
		case c.AcceptedUntil == nil:
			return problem.Required("accepted_until")
		case !c.AcceptedUntil.After(now):
			return problem.Invalid("accepted_until", "must be in the future").WithMsg("alert.error.future")
		case c.AcceptedUntil.Sub(now) > MaxRiskAcceptance:
			return problem.Invalid("accepted_until", "must be at most one year ahead").WithMsg("alert.error.within_year")
		}
		t := c.AcceptedUntil.UTC()
		c.AcceptedUntil = &t
	case "":
		return problem.Required("resolution")
	default:
		return problem.OneOf("resolution", Resolutions...)
	}
	return nil
}

// summary is the trail's words for c.
func (c Change) summary() string {
	s := c.Status
	if c.Resolution != "" {
		s += " (" + c.Resolution + ")"
	}
	if c.AcceptedUntil != nil {
		s += " until " + c.AcceptedUntil.Format("2006-01-02")
	}
	if c.Reason != "" {
		s += ": " + c.Reason
	}
	return s
}

func checkIDs(ids []int64) error {
	if len(ids) == 0 {
		return problem.Required("ids")
	}
	if len(ids) > MaxBulk {
		return problem.Invalid("ids", "at most %d alerts at once", MaxBulk).WithMsg("alert.error.bulk_max", MaxBulk)
	}
	return nil
}

// loadAll returns the alerts ids, each of which a must see (else not found), locked on
// PostgreSQL.
func (s *Service) loadAll(ctx context.Context, tx *store.Tx, a actor.Actor, ids []int64) ([]Alert, error) {
	seen := map[int64]bool{}
	out := make([]Alert, 0, len(ids))
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		al, err := s.get(ctx, tx, a, id)
		if err != nil {
			return nil, err
		}
		out = append(out, al)
	}
	return out, nil
}

// SetStatus moves each of the alerts ids, which a must all see, by c; every one must
// allow the move, or none changes. Each change is in the trail.
func (s *Service) SetStatus(ctx context.Context, a actor.Actor, ids []int64, c Change) ([]Alert, error) {
	if err := checkIDs(ids); err != nil {
		return nil, err
	}
	now := s.stamp()
	if err := c.validate(now); err != nil {
		return nil, err
	}
	var out []Alert
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		als, err := s.loadAll(ctx, tx, a, ids)
		if err != nil {
			return err
		}
		for _, al := range als {
			if !allowed(al.Status, c.Status) {
				return problem.Conflict("alert %d is %s and cannot become %s", al.ID, al.Status, c.Status).
					WithCode("alert_transition").WithMsg("alert.error.transition", al.ID, i18n.M("alert.status."+al.Status),
					i18n.M("alert.status."+c.Status))
			}
		}
		evs := make([]trail.Event, 0, len(als))
		for i := range als {
			al := &als[i]
			if err := s.move(ctx, tx, a, al, c, now); err != nil {
				return err
			}
			evs = append(evs, trail.Event{Action: "alert.status", ObjectType: "alert", ObjectID: idString(al.ID),
				OrgID: al.OrgID, Summary: al.Title + " → " + c.summary(), Msg: trail.Msg("trail.summary.alert.status", titleArg(*al), c.msg()), After: c})
		}
		out = als
		_, err = s.trail.AppendBatch(ctx, tx, a, evs)
		return err
	})
	return out, err
}

// move applies c to al in the database and in memory (the caller checked the move).
func (s *Service) move(ctx context.Context, tx *store.Tx, a actor.Actor, al *Alert, c Change, now time.Time) error {
	if c.Status == StatusClosed {
		// Closing keeps the resolution.
		c.Resolution, c.Reason, c.AcceptedUntil = al.Resolution, al.ResolutionReason, al.AcceptedUntil
	}
	ackAt, ackBy := al.AcknowledgedAt, al.AcknowledgedBy
	if ackAt == nil && c.Status != StatusNew {
		ackAt, ackBy = &now, a.Username
	}
	_, err := tx.ExecContext(ctx, `UPDATE alerts SET status = ?, resolution = ?, resolution_reason = ?, accepted_until = ?,
		acknowledged_at = ?, acknowledged_by = ?, updated_at = ? WHERE id = ?`, c.Status, c.Resolution, c.Reason,
		store.NullTime(c.AcceptedUntil), store.NullTime(ackAt), ackBy, now, al.ID)
	if store.IsUniqueViolation(err) {
		// Reopening while a newer alert with the same key is open.
		return problem.Conflict("alert %d cannot be reopened: a newer alert with the same key is open", al.ID).
			WithCode("alert_reopen_duplicate").WithMsg("alert.error.reopen_duplicate", al.ID)
	}
	if err != nil {
		return fmt.Errorf("alert: change alert %d: %w", al.ID, err)
	}
	al.Status, al.Resolution, al.ResolutionReason, al.AcceptedUntil = c.Status, c.Resolution, c.Reason, c.AcceptedUntil
	al.AcknowledgedAt, al.AcknowledgedBy = ackAt, ackBy
	return nil
}

// maxUsername bounds an assignee's user name.
const maxUsername = 64

func checkAssignee(u string) (string, error) {
	u = strings.TrimSpace(u)
	if len(u) > maxUsername {
		return "", problem.TooLong("assignee", maxUsername)
	}
	if strings.ContainsAny(u, " \t\r\n\x00") {
		return "", problem.Invalid("assignee", "is not a user name").WithMsg("alert.error.assignee")
	}
	return u, nil
}

// checkUser checks that assignee ("" = nobody) is a user a may see.
func (s *Service) checkUser(ctx context.Context, a actor.Actor, assignee string) error {
	if assignee == "" || s.users == nil {
		return nil
	}
	err := s.users(ctx, a, assignee)
	if k := problem.KindOf(err); k == problem.KindNotFound || k == problem.KindForbidden {
		return problem.Invalid("assignee", "is not a user of your organisation").WithMsg("alert.error.assignee_unknown")
	}
	return err
}

// Assign gives the alerts ids, which a must all see, to the user named assignee ("" to
// nobody). Each change is in the trail.
func (s *Service) Assign(ctx context.Context, a actor.Actor, ids []int64, assignee string) ([]Alert, error) {
	if err := checkIDs(ids); err != nil {
		return nil, err
	}
	assignee, err := checkAssignee(assignee)
	if err != nil {
		return nil, err
	}
	if err := s.checkUser(ctx, a, assignee); err != nil {
		return nil, err
	}
	var out []Alert
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		als, err := s.loadAll(ctx, tx, a, ids)
		if err != nil {
			return err
		}
		now := s.stamp()
		var evs []trail.Event
		for i := range als {
			al := &als[i]
			if al.Assignee == assignee {
				continue
			}
			if _, err := tx.ExecContext(ctx, `UPDATE alerts SET assignee = ?, updated_at = ? WHERE id = ?`, assignee, now, al.ID); err != nil {
				return fmt.Errorf("alert: assign alert %d: %w", al.ID, err)
			}
			evs = append(evs, trail.Event{Action: "alert.assign", ObjectType: "alert", ObjectID: idString(al.ID), OrgID: al.OrgID,
				Summary: al.Title + " → " + orNobody(assignee), Msg: trail.Msg("trail.summary.alert.assign", titleArg(*al), nobodyArg(assignee)),
				Before: map[string]string{"assignee": al.Assignee},
				After:  map[string]string{"assignee": assignee}})
			al.Assignee = assignee
		}
		out = als
		if len(evs) == 0 {
			return nil
		}
		_, err = s.trail.AppendBatch(ctx, tx, a, evs)
		return err
	})
	return out, err
}

func orNobody(u string) string {
	if u == "" {
		return "(nobody)"
	}
	return u
}
