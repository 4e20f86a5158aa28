package appreg

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/store"
)

// Exported is an app as an upward report (package upstream) carries it: the app, its
// open findings, its codes and the time of its last evaluation.
type Exported struct {
	App         App
	Findings    []Finding
	Codes       []Code
	EvaluatedAt *time.Time
}

// The kinds of incident an upward report carries.
const (
	IncidentEvicted         = "app.evicted"           // an app was evicted (清出)
	IncidentEvictionPropose = "app.eviction_proposed" // the evaluation proposed an eviction
	IncidentCriticalFinding = "finding.critical"      // a critical finding was opened
)

// Incident is something that happened to an app that a region is told about once.
type Incident struct {
	// Key identifies the incident at this registry, so that a region that is told twice
	// keeps it once: "alert:ID:COUNT" for an eviction (each raise of its alert is one),
	// "alert:ID" for an eviction proposal (one while its alert is open), "finding:ID" for
	// a critical finding.
	Key      string
	AppID    int64
	Kind     string
	Severity string
	Subject  string
	Detail   string
	At       time.Time
}

// Export returns every app of the registry with its open findings, codes and last
// evaluation, and the incidents since since (all of them for the zero time). It reads
// on the platform's behalf: the caller decides who may see the result.
func (s *Service) Export(ctx context.Context, since time.Time) ([]Exported, []Incident, error) {
	apps, err := s.Apps(ctx, actor.System(), Query{})
	if err != nil {
		return nil, nil, err
	}
	out := make([]Exported, 0, len(apps))
	for _, ap := range apps {
		e := Exported{App: ap}
		if e.Findings, err = findings(ctx, s.db, ap.ID, true); err != nil {
			return nil, nil, err
		}
		if e.Codes, err = s.Codes(ctx, actor.System(), ap.ID); err != nil {
			return nil, nil, err
		}
		var at store.Time
		if err := s.db.QueryRowContext(ctx, `SELECT MAX(evaluated_at) FROM app_scores WHERE app_id = ?`, ap.ID).Scan(&at); err != nil {
			return nil, nil, fmt.Errorf("appreg: export: %w", err)
		}
		e.EvaluatedAt = at.Ptr()
		out = append(out, e)
	}
	inc, err := s.incidents(ctx, since.UTC())
	if err != nil {
		return nil, nil, err
	}
	return out, inc, nil
}

// incidents reads the evictions and eviction proposals (alerts of source apps) raised
// since since, and the critical findings opened since then, oldest first.
func (s *Service) incidents(ctx context.Context, since time.Time) ([]Incident, error) {
	var out []Incident
	rows, err := s.db.QueryContext(ctx, `SELECT id, count, kind, severity, subject, evidence, last_seen FROM alerts
		WHERE source = 'apps' AND kind IN (?, ?) AND last_seen > ? ORDER BY last_seen, id`,
		IncidentEvicted, IncidentEvictionPropose, since)
	if err != nil {
		return nil, fmt.Errorf("appreg: incidents: %w", err)
	}
	for rows.Next() {
		var id, count int64
		var in Incident
		var evidence string
		var at store.Time
		if err := rows.Scan(&id, &count, &in.Kind, &in.Severity, &in.Subject, &evidence, &at); err != nil {
			rows.Close()
			return nil, fmt.Errorf("appreg: incidents: %w", err)
		}
		var ev struct {
			AppID  int64  `json:"app_id"`
			Reason string `json:"reason"`
		}
		_ = json.Unmarshal([]byte(evidence), &ev) // an alert of this registry always has app_id
		in.Key = "alert:" + strconv.FormatInt(id, 10)
		if in.Kind == IncidentEvicted {
			// An eviction is an event: the same open alert raised again (re-admitted and
			// evicted again) is another one. A proposal is raised at every evaluation
			// while it holds: it is one incident for as long as its alert is open.
			in.Key += ":" + strconv.FormatInt(count, 10)
		}
		in.AppID, in.Detail, in.At = ev.AppID, ev.Reason, at.Time
		if in.AppID != 0 {
			out = append(out, in)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("appreg: incidents: %w", err)
	}
	rows, err = s.db.QueryContext(ctx, `SELECT f.id, f.app_id, f.type, f.subject, f.evidence, f.opened_at, a.name FROM app_findings f
		JOIN apps a ON a.id = f.app_id WHERE f.severity = 'critical' AND f.opened_at > ? ORDER BY f.opened_at, f.id`, since)
	if err != nil {
		return nil, fmt.Errorf("appreg: incidents: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, appID int64
		var typ, subject, evidence, name string
		var at store.Time
		if err := rows.Scan(&id, &appID, &typ, &subject, &evidence, &at, &name); err != nil {
			return nil, fmt.Errorf("appreg: incidents: %w", err)
		}
		in := Incident{Key: "finding:" + strconv.FormatInt(id, 10), AppID: appID, Kind: IncidentCriticalFinding, Severity: "critical",
			Subject: name, Detail: typ + ": " + evidence, At: at.Time}
		if subject != "" {
			in.Subject += " · " + subject
		}
		out = append(out, in)
	}
	return out, rows.Err()
}
