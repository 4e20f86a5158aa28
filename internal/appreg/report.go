package appreg

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
)

// StatusGrade counts the apps of one status and grade ("" before the first evaluation).
type StatusGrade struct {
	Status string `json:"status"`
	Grade  string `json:"grade"`
	N      int    `json:"n"`
}

// MonthScore is the average score at the end of a month (or of the period, for its
// last month) over the apps evaluated by then, each counted with its latest score.
type MonthScore struct {
	Month   string  `json:"month"` // YYYY-MM
	Average float64 `json:"average"`
	Apps    int     `json:"apps"`
}

// TypeCount counts the findings of one type: open now, opened and fixed in the period.
type TypeCount struct {
	Type   string `json:"type"`
	Open   int    `json:"open"`
	Opened int    `json:"opened"`
	Fixed  int    `json:"fixed"`
}

// Eviction is one eviction (清出) in the period.
type Eviction struct {
	AppID    int64     `json:"app_id"`
	App      string    `json:"app"`
	Hospital string    `json:"hospital"`
	At       time.Time `json:"at"`
	By       string    `json:"by"`
	Reason   string    `json:"reason"`
}

// IncidentCount counts the incidents of one kind and severity raised in the period: the
// alerts about apps their contacts were told of at once (a high or critical finding, a
// rectification ordered, an eviction proposed, an eviction).
type IncidentCount struct {
	Kind     string `json:"kind"`
	Severity string `json:"severity"`
	N        int    `json:"n"`
}

// Report is the registry's periodic statistics over the apps an actor sees: the apps by
// status and grade now, the average score per month, the findings by type, the
// evictions and the incidents in the period [From, To).
type Report struct {
	From      time.Time       `json:"from"`
	To        time.Time       `json:"to"`
	Apps      int             `json:"apps"`
	ByStatus  []StatusGrade   `json:"by_status_grade"`
	Months    []MonthScore    `json:"months"`
	Findings  []TypeCount     `json:"findings"`
	Evictions []Eviction      `json:"evictions"`
	Incidents []IncidentCount `json:"incidents"`
}

// MaxReportMonths bounds a report's period.
const MaxReportMonths = 120

// Report computes the statistics of the period [from, to) over the apps a sees.
func (s *Service) Report(ctx context.Context, a actor.Actor, from, to time.Time) (Report, error) {
	from, to = from.UTC(), to.UTC()
	if !from.Before(to) {
		return Report{}, problem.Invalid("to", "the period must end after it begins").WithMsg("app.error.period")
	}
	if to.Sub(from) > MaxReportMonths*31*24*time.Hour {
		return Report{}, problem.Invalid("from", "the period is longer than %d months", MaxReportMonths).WithMsg("app.error.period_long", MaxReportMonths)
	}
	rep := Report{From: from, To: to, ByStatus: []StatusGrade{}, Months: []MonthScore{}, Findings: []TypeCount{}, Evictions: []Eviction{},
		Incidents: []IncidentCount{}}
	cond, arg := a.SeesSQL("o.path")
	var err error
	if rep.ByStatus, rep.Apps, err = s.statusGrades(ctx, cond, arg); err != nil {
		return Report{}, err
	}
	if rep.Months, err = s.monthScores(ctx, cond, arg, from, to); err != nil {
		return Report{}, err
	}
	if rep.Findings, err = s.typeCounts(ctx, cond, arg, from, to); err != nil {
		return Report{}, err
	}
	if rep.Evictions, err = s.evictions(ctx, cond, arg, from, to); err != nil {
		return Report{}, err
	}
	if rep.Incidents, err = s.incidentCounts(ctx, cond, arg, from, to); err != nil {
		return Report{}, err
	}
	return rep, nil
}

// incidentCounts counts the app incidents raised in [from, to) in the hospitals the
// condition admits; the copies escalated to a supervising organisation are not counted
// again.
func (s *Service) incidentCounts(ctx context.Context, cond string, arg any, from, to time.Time) ([]IncidentCount, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT al.kind, al.severity, COUNT(*) FROM alerts al JOIN orgs o ON o.id = al.org_id
		WHERE al.source = 'apps' AND al.kind <> 'app.escalated' AND (al.severity IN ('high', 'critical') OR al.kind LIKE 'app.%')
		AND al.first_seen >= ? AND al.first_seen < ? AND `+cond+` GROUP BY al.kind, al.severity`, from, to, arg)
	if err != nil {
		return nil, fmt.Errorf("appreg: report incidents: %w", err)
	}
	defer rows.Close()
	out := []IncidentCount{}
	for rows.Next() {
		var c IncidentCount
		if err := rows.Scan(&c.Kind, &c.Severity, &c.N); err != nil {
			return nil, fmt.Errorf("appreg: report incidents: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("appreg: report incidents: %w", err)
	}
	rank := map[string]int{"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}
	sort.SliceStable(out, func(i, j int) bool {
		if rank[out[i].Severity] != rank[out[j].Severity] {
			return rank[out[i].Severity] < rank[out[j].Severity]
		}
		return out[i].Kind < out[j].Kind
	})
	return out, nil
}

func (s *Service) statusGrades(ctx context.Context, cond string, arg any) ([]StatusGrade, int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT a.status, a.grade, COUNT(*) FROM apps a JOIN orgs o ON o.id = a.org_id
		WHERE `+cond+` GROUP BY a.status, a.grade ORDER BY a.status, a.grade`, arg)
	if err != nil {
		return nil, 0, fmt.Errorf("appreg: report: %w", err)
	}
	defer rows.Close()
	out, total := []StatusGrade{}, 0
	for rows.Next() {
		var c StatusGrade
		if err := rows.Scan(&c.Status, &c.Grade, &c.N); err != nil {
			return nil, 0, fmt.Errorf("appreg: report: %w", err)
		}
		out = append(out, c)
		total += c.N
	}
	return out, total, rows.Err()
}

// monthScores walks the evaluations up to to in time order, keeping each app's latest
// score, and averages them at the end of every month of the period.
func (s *Service) monthScores(ctx context.Context, cond string, arg any, from, to time.Time) ([]MonthScore, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT sc.app_id, sc.score, sc.evaluated_at FROM app_scores sc
		JOIN apps a ON a.id = sc.app_id JOIN orgs o ON o.id = a.org_id
		WHERE `+cond+` AND sc.evaluated_at < ? ORDER BY sc.evaluated_at, sc.id`, arg, to)
	if err != nil {
		return nil, fmt.Errorf("appreg: report scores: %w", err)
	}
	type eval struct {
		app   int64
		score int
		at    time.Time
	}
	var evals []eval
	for rows.Next() {
		var e eval
		var at store.Time
		if err := rows.Scan(&e.app, &e.score, &at); err != nil {
			rows.Close()
			return nil, fmt.Errorf("appreg: report scores: %w", err)
		}
		e.at = at.Time
		evals = append(evals, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("appreg: report scores: %w", err)
	}
	latest := map[int64]int{}
	out := []MonthScore{}
	i := 0
	for m := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, time.UTC); m.Before(to); m = m.AddDate(0, 1, 0) {
		end := m.AddDate(0, 1, 0)
		if end.After(to) {
			end = to
		}
		for ; i < len(evals) && evals[i].at.Before(end); i++ {
			latest[evals[i].app] = evals[i].score
		}
		ms := MonthScore{Month: m.Format("2006-01"), Apps: len(latest)}
		if len(latest) > 0 {
			sum := 0
			for _, v := range latest {
				sum += v
			}
			ms.Average = float64(int(float64(sum)/float64(len(latest))*10+0.5)) / 10
		}
		out = append(out, ms)
	}
	return out, nil
}

func (s *Service) typeCounts(ctx context.Context, cond string, arg any, from, to time.Time) ([]TypeCount, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT f.type,
		SUM(CASE WHEN f.status = 'open' THEN 1 ELSE 0 END),
		SUM(CASE WHEN f.opened_at >= ? AND f.opened_at < ? THEN 1 ELSE 0 END),
		SUM(CASE WHEN f.fixed_at >= ? AND f.fixed_at < ? THEN 1 ELSE 0 END)
		FROM app_findings f JOIN apps a ON a.id = f.app_id JOIN orgs o ON o.id = a.org_id
		WHERE `+cond+` GROUP BY f.type ORDER BY f.type`, from, to, from, to, arg)
	if err != nil {
		return nil, fmt.Errorf("appreg: report findings: %w", err)
	}
	defer rows.Close()
	out := []TypeCount{}
	for rows.Next() {
		var c TypeCount
		if err := rows.Scan(&c.Type, &c.Open, &c.Opened, &c.Fixed); err != nil {
			return nil, fmt.Errorf("appreg: report findings: %w", err)
		}
		if c.Open+c.Opened+c.Fixed > 0 {
			out = append(out, c)
		}
	}
	return out, rows.Err()
}

// evictions reads the evictions from the trail, where Evict records them with the
// reason as the third argument of the entry's message.
func (s *Service) evictions(ctx context.Context, cond string, arg any, from, to time.Time) ([]Eviction, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT a.id, a.name, o.name, t.at, t.actor, t.summary, t.summary_msg FROM trail t
		JOIN apps a ON t.object_id = CAST(a.id AS TEXT) JOIN orgs o ON o.id = a.org_id
		WHERE t.action = 'app.evict' AND t.object_type = 'app' AND `+cond+` ORDER BY t.seq`, arg)
	if err != nil {
		return nil, fmt.Errorf("appreg: report evictions: %w", err)
	}
	defer rows.Close()
	out := []Eviction{}
	for rows.Next() {
		var e Eviction
		var at store.Time
		var summary, msg string
		if err := rows.Scan(&e.AppID, &e.App, &e.Hospital, &at, &e.By, &summary, &msg); err != nil {
			return nil, fmt.Errorf("appreg: report evictions: %w", err)
		}
		if e.At = at.Time; e.At.Before(from) || !e.At.Before(to) {
			continue
		}
		e.Reason = summary
		var m struct {
			Args []any `json:"args"`
		}
		if json.Unmarshal([]byte(msg), &m) == nil && len(m.Args) == 3 {
			if r, ok := m.Args[2].(string); ok {
				e.Reason = r
			}
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("appreg: report evictions: %w", err)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out, nil
}

// LatestObservations returns the latest observation of each channel of app id, by
// channel name.
func (s *Service) LatestObservations(ctx context.Context, a actor.Actor, id int64) ([]Observation, error) {
	if _, err := s.get(ctx, s.db, a, id); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, app_id, channel, version, sha256, signer, observed_at, reported_by
		FROM app_observations o WHERE app_id = ?
		AND id = (SELECT MAX(id) FROM app_observations p WHERE p.app_id = o.app_id AND p.channel = o.channel)
		ORDER BY channel`, id)
	if err != nil {
		return nil, fmt.Errorf("appreg: observations: %w", err)
	}
	defer rows.Close()
	out := []Observation{}
	for rows.Next() {
		var o Observation
		var at store.Time
		if err := rows.Scan(&o.ID, &o.AppID, &o.Channel, &o.Version, &o.SHA256, &o.Signer, &at, &o.ReportedBy); err != nil {
			return nil, fmt.Errorf("appreg: observations: %w", err)
		}
		o.ObservedAt = at.Time
		out = append(out, o)
	}
	return out, rows.Err()
}

// Check validates an application's content as Apply and Readmit do, without filing it:
// a form uses it to find which of its rows a problem is about.
func Check(in Input) error {
	_, err := check(in)
	return err
}
