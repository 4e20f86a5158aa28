// Package monitor computes the figures of the audit-event monitoring dashboard: the
// event rate of the hospital systems (per minute over the last hour, per hour over the
// range) and the monitoring alerts (source "monitor") by rule, department, severity and
// explanation class. It stores nothing: every figure is an aggregate of the events and
// alerts tables, limited to the organisations the actor sees.
package monitor

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/events"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
)

// Source is the alert source of the monitoring rules.
const Source = "monitor"

// DefaultRange is the range of Stats when none is given: two weeks.
const DefaultRange = 14 * 24 * time.Hour

// MaxRange is the longest range Stats accepts (its hourly series stays under
// events.MaxRateBuckets).
const MaxRange = 400 * 24 * time.Hour

// maxClassAlerts caps the alerts whose evidence is read for the explanation classes.
const maxClassAlerts = 50_000

// Count is one bar or slice: a key (a rule id, a department, a severity, a class) and
// how many alerts have it.
type Count struct {
	Key string `json:"key"`
	N   int64  `json:"n"`
}

// Stats are the figures of the monitoring dashboard for [From, To).
type Stats struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// PerMinute is the event rate per minute over the hour before To; PerHour per hour
	// over the range.
	PerMinute events.Rates `json:"per_minute"`
	PerHour   events.Rates `json:"per_hour"`
	// Alerts counts the monitoring alerts last seen in the range, broken down by rule
	// (the alert's kind), by the department of the account (as its events name it, ""
	// when none does), by severity and by the explanation class their evidence carries
	// (explained, flagged, unexplained; "" for alerts without one).
	Alerts       int64   `json:"alerts"`
	ByRule       []Count `json:"by_rule"`
	ByDepartment []Count `json:"by_department"`
	BySeverity   []Count `json:"by_severity"`
	ByClass      []Count `json:"by_class"`
}

// Service computes the dashboard's figures.
type Service struct {
	db     *store.DB
	events *events.Service
	now    func() time.Time
}

// New returns the statistics service over db and the event store evs.
func New(db *store.DB, evs *events.Service) *Service {
	return &Service{db: db, events: evs, now: time.Now}
}

// SetClock replaces the clock (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Stats computes the figures of [from, to) for actor a: to zero means now, from zero
// DefaultRange before to. A range that is empty or longer than MaxRange is refused
// (problem.Invalid).
func (s *Service) Stats(ctx context.Context, a actor.Actor, from, to time.Time) (Stats, error) {
	if to.IsZero() {
		to = s.now()
	}
	if from.IsZero() {
		from = to.Add(-DefaultRange)
	}
	from, to = from.UTC(), to.UTC()
	if !to.After(from) {
		return Stats{}, problem.Invalid("to", "must be after from").WithMsg("events.err.rate_range")
	}
	if to.Sub(from) > MaxRange {
		return Stats{}, problem.Invalid("from", "the range is longer than %d days", int(MaxRange/(24*time.Hour))).
			WithMsg("monitor.err.range", int(MaxRange/(24*time.Hour)))
	}
	st := Stats{From: from, To: to}
	var err error
	if st.PerMinute, err = s.events.Rates(ctx, a, to.Add(-time.Hour), to, time.Minute); err != nil {
		return Stats{}, err
	}
	if st.PerHour, err = s.events.Rates(ctx, a, from, to, time.Hour); err != nil {
		return Stats{}, err
	}
	if err := s.alertCounts(ctx, a, &st); err != nil {
		return Stats{}, err
	}
	if err := s.classes(ctx, a, &st); err != nil {
		return Stats{}, err
	}
	return st, nil
}

// alertCounts fills the alert breakdowns of st. The department of an alert is that of
// the latest event of its account in its organisation up to the alert's last sighting.
func (s *Service) alertCounts(ctx context.Context, a actor.Actor, st *Stats) error {
	cond, arg := a.SeesSQL("o.path")
	rows, err := s.db.QueryContext(ctx, `SELECT x.kind, x.severity, x.dept, COUNT(*) FROM (
			SELECT al.kind, al.severity, COALESCE((SELECT e.department FROM event_parts p CROSS JOIN events e `+events.SearchByAccount(s.db.Dialect())+`
				WHERE p.org_id = al.org_id AND p.min_time <= al.last_seen AND e.part = p.part AND e.account = al.account
				AND e.org_id = al.org_id AND al.account <> '' AND e.time <= al.last_seen
				ORDER BY e.time DESC LIMIT 1), '') AS dept
			FROM alerts al JOIN orgs o ON o.id = al.org_id
			WHERE `+cond+` AND al.source = ? AND al.last_seen >= ? AND al.last_seen < ?) x
		GROUP BY x.kind, x.severity, x.dept`, arg, Source, st.From, st.To)
	if err != nil {
		return fmt.Errorf("monitor: alert counts: %w", err)
	}
	defer rows.Close()
	byRule, byDept, bySev := map[string]int64{}, map[string]int64{}, map[string]int64{}
	for rows.Next() {
		var kind, sev, dept string
		var n int64
		if err := rows.Scan(&kind, &sev, &dept, &n); err != nil {
			return fmt.Errorf("monitor: alert counts: %w", err)
		}
		byRule[kind] += n
		byDept[dept] += n
		bySev[sev] += n
		st.Alerts += n
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("monitor: alert counts: %w", err)
	}
	st.ByRule, st.ByDepartment = sorted(byRule), sorted(byDept)
	st.BySeverity = make([]Count, 0, len(severities))
	for _, sv := range severities {
		st.BySeverity = append(st.BySeverity, Count{Key: sv, N: bySev[sv]})
	}
	return nil
}

// severities in the order the chart shows them, highest first.
var severities = []string{"critical", "high", "medium", "low", "info"}

// Classes of an explanation, in the order the chart shows them.
var Classes = []string{"explained", "flagged", "unexplained"}

// classes fills st.ByClass from the explanation each monitoring alert's evidence
// carries ({"explanation": {"class": …}}); an alert without one counts under "".
func (s *Service) classes(ctx context.Context, a actor.Actor, st *Stats) error {
	cond, arg := a.SeesSQL("o.path")
	rows, err := s.db.QueryContext(ctx, `SELECT al.evidence FROM alerts al JOIN orgs o ON o.id = al.org_id
		WHERE `+cond+` AND al.source = ? AND al.last_seen >= ? AND al.last_seen < ?
		ORDER BY al.last_seen DESC LIMIT `+fmt.Sprint(maxClassAlerts), arg, Source, st.From, st.To)
	if err != nil {
		return fmt.Errorf("monitor: classes: %w", err)
	}
	defer rows.Close()
	n := map[string]int64{}
	for rows.Next() {
		var ev string
		if err := rows.Scan(&ev); err != nil {
			return fmt.Errorf("monitor: classes: %w", err)
		}
		n[ClassOf([]byte(ev))]++
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("monitor: classes: %w", err)
	}
	st.ByClass = make([]Count, 0, len(Classes)+1)
	for _, c := range Classes {
		st.ByClass = append(st.ByClass, Count{Key: c, N: n[c]})
	}
	if n[""] > 0 {
		st.ByClass = append(st.ByClass, Count{Key: "", N: n[""]})
	}
	return nil
}

// ClassOf returns the explanation class an alert's evidence carries, "" when it has
// none or an unknown one.
func ClassOf(evidence []byte) string {
	var e struct {
		Explanation struct {
			Class string `json:"class"`
		} `json:"explanation"`
	}
	if json.Unmarshal(evidence, &e) != nil || !slices.Contains(Classes, e.Explanation.Class) {
		return ""
	}
	return e.Explanation.Class
}

// sorted returns the counts of m, largest first, then by key.
func sorted(m map[string]int64) []Count {
	out := make([]Count, 0, len(m))
	for k, v := range m {
		out = append(out, Count{Key: k, N: v})
	}
	slices.SortFunc(out, func(x, y Count) int {
		if x.N != y.N {
			if x.N > y.N {
				return -1
			}
			return 1
		}
		return strings.Compare(x.Key, y.Key)
	})
	return out
}

// RuleAlerts counts the monitoring alerts a sees that were last seen at or after since,
// by rule (the alert's kind).
func (s *Service) RuleAlerts(ctx context.Context, a actor.Actor, since time.Time) (map[string]int64, error) {
	cond, arg := a.SeesSQL("o.path")
	rows, err := s.db.QueryContext(ctx, `SELECT al.kind, COUNT(*) FROM alerts al JOIN orgs o ON o.id = al.org_id
		WHERE `+cond+` AND al.source = ? AND al.last_seen >= ? GROUP BY al.kind`, arg, Source, since.UTC())
	if err != nil {
		return nil, fmt.Errorf("monitor: alerts by rule: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var k string
		var n int64
		if err := rows.Scan(&k, &n); err != nil {
			return nil, fmt.Errorf("monitor: alerts by rule: %w", err)
		}
		out[k] = n
	}
	return out, rows.Err()
}
