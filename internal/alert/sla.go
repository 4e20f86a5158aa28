package alert

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

// DefaultSLA is the time to resolve an alert, in hours by severity, where no
// organisation on its path has set its own: critical 24 h, high 72 h, medium 7 days,
// low 30 days; info has no due date (0).
func DefaultSLA() map[string]int {
	return map[string]int{SeverityCritical: 24, SeverityHigh: 72, SeverityMedium: 7 * 24, SeverityLow: 30 * 24, SeverityInfo: 0}
}

// MaxSLAHours bounds one SLA entry (a year).
const MaxSLAHours = 366 * 24

// slaHours returns the SLA in hours for severity at organisation orgID: the entry of the
// deepest organisation on its path that set one, else the default.
func slaHours(ctx context.Context, q store.Querier, orgID int64, severity string) (int, error) {
	var h int
	err := q.QueryRowContext(ctx, slaSQL, orgID, severity).Scan(&h)
	if errors.Is(err, sql.ErrNoRows) {
		return DefaultSLA()[severity], nil
	}
	if err != nil {
		return 0, fmt.Errorf("alert: read SLA: %w", err)
	}
	return h, nil
}

// slaTTL is how long a raise reuses the SLA hours it read for an organisation and
// severity: a change made by another process applies to alerts raised from a minute
// later at the latest (this process's own changes at once).
const slaTTL = time.Minute

type slaKey struct {
	org      int64
	severity string
}

type slaEntry struct {
	hours int
	read  time.Time
}

// slaCache keeps the SLA hours raises read, so that a raise costs one statement.
type slaCache struct {
	mu sync.Mutex
	m  map[slaKey]slaEntry
}

func (c *slaCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.m)
}

// slaFor is slaHours through the service's cache.
func (s *Service) slaFor(ctx context.Context, q store.Querier, orgID int64, severity string) (int, error) {
	k := slaKey{orgID, severity}
	s.sla.mu.Lock()
	e, ok := s.sla.m[k]
	s.sla.mu.Unlock()
	if ok && time.Since(e.read) < slaTTL {
		return e.hours, nil
	}
	h, err := slaHours(ctx, q, orgID, severity)
	if err != nil {
		return 0, err
	}
	s.sla.mu.Lock()
	if s.sla.m == nil || len(s.sla.m) > 10000 {
		s.sla.m = map[slaKey]slaEntry{}
	}
	s.sla.m[k] = slaEntry{hours: h, read: time.Now()}
	s.sla.mu.Unlock()
	return h, nil
}

// SLA returns the SLA in force at organisation orgID, in hours by severity.
func (s *Service) SLA(ctx context.Context, a actor.Actor, orgID int64) (map[string]int, error) {
	if _, err := org.Visible(ctx, s.db, a, orgID); err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, sev := range Severities {
		h, err := slaHours(ctx, s.db, orgID, sev)
		if err != nil {
			return nil, err
		}
		out[sev] = h
	}
	return out, nil
}

// SetSLA stores the SLA of organisation orgID (and so of its subtree, unless a node
// below sets its own) for the severities in hours; 0 means no due date. It applies to
// alerts raised from now on.
func (s *Service) SetSLA(ctx context.Context, a actor.Actor, orgID int64, hours map[string]int) (map[string]int, error) {
	// Another organisation is not found, whatever the input.
	before, err := s.SLA(ctx, a, orgID)
	if err != nil {
		return nil, err
	}
	if len(hours) == 0 {
		return nil, problem.Required("hours")
	}
	for sev, h := range hours {
		if !ValidSeverity(sev) {
			return nil, problem.OneOf("severity", Severities...)
		}
		if h < 0 || h > MaxSLAHours {
			return nil, problem.Invalid("hours", "must be between 0 (no due date) and %d", MaxSLAHours).
				WithMsg("alert.error.sla_hours", MaxSLAHours)
		}
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		now := s.stamp()
		var parts []string
		for _, sev := range Severities {
			h, ok := hours[sev]
			if !ok {
				continue
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM alert_sla WHERE org_id = ? AND severity = ?`, orgID, sev); err != nil {
				return fmt.Errorf("alert: set SLA: %w", err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO alert_sla (org_id, severity, hours, updated_by, updated_at) VALUES (?, ?, ?, ?, ?)`,
				orgID, sev, h, a.Username, now); err != nil {
				return fmt.Errorf("alert: set SLA: %w", err)
			}
			parts = append(parts, fmt.Sprintf("%s %dh", sev, h))
		}
		after := maps.Clone(before)
		maps.Copy(after, hours)
		_, err := s.trail.Append(ctx, tx, a, trail.Event{Action: "alert.sla_set", ObjectType: "org", ObjectID: idString(orgID),
			OrgID: orgID, Summary: "alert SLA: " + strings.Join(parts, ", "),
			Msg: trail.Msg("trail.summary.alert.sla_set", strings.Join(parts, ", ")), Before: before, After: after})
		return err
	})
	s.sla.clear()
	if err != nil {
		return nil, err
	}
	return s.SLA(ctx, a, orgID)
}
