// Package overview owns the overview dashboard's figures: a hospital's security score
// and its weekly trend, open findings by module and severity, top risks, incidents and
// their clocks, compliance progress, app grades and privacy alerts, each with the link
// of the list that reproduces it; a region's hospitals side by side with totals; and the
// chart definitions (ECharts options) the pages and the PDF reports draw them with.
//
// The figures are read through the modules' own services with the caller's actor
// narrowed to the hospital's subtree, so that the overview counts exactly what the lists
// it links to show, and one hospital's overview never counts another's records.
package overview

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/appreg"
	"github.com/medguard/medguard/internal/incident"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/risk"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/supply"
)

// Alerts lists alerts (alert.Service).
type Alerts interface {
	List(ctx context.Context, a actor.Actor, f alert.Filter) ([]alert.Alert, int, error)
}

// Findings lists supply-chain vulnerability findings (supply.Service).
type Findings interface {
	Findings(ctx context.Context, a actor.Actor, q supply.FindingQuery) (supply.FindingPage, error)
}

// Risks lists risks of the register (risk.Service) and names its matrix's levels.
type Risks interface {
	Risks(ctx context.Context, a actor.Actor, q risk.Query) ([]risk.Risk, int, error)
	Matrix() *risk.Matrix
}

// IncidentLister lists security incidents (incident.Service).
type IncidentLister interface {
	Incidents(ctx context.Context, a actor.Actor, q incident.Query) ([]incident.Incident, error)
}

// Apps lists the internet-hospital apps (appreg.Service).
type Apps interface {
	Apps(ctx context.Context, a actor.Actor, q appreg.Query) ([]appreg.App, error)
}

// Compliance reports the progress of an organisation's compliance assessments, one
// entry per assessment (the assessments module).
type Compliance interface {
	Progress(ctx context.Context, a actor.Actor, orgID int64) ([]Progress, error)
}

// Progress is how far one compliance assessment has come: Met of Total applicable
// requirement items met, Percent of them (0–100).
type Progress struct {
	Name      string  `json:"name"`
	Catalogue string  `json:"catalogue"`
	Percent   float64 `json:"percent"`
	Met       int     `json:"met"`
	Total     int     `json:"total"`
}

// Deps are the services the overview reads. Compliance may be nil until the
// assessments module is wired: the overview then says "no assessment yet".
type Deps struct {
	Alerts     Alerts
	Findings   Findings
	Risks      Risks
	Incidents  IncidentLister
	Apps       Apps
	Compliance Compliance
}

// Service computes overviews and stores the weekly score snapshots.
type Service struct {
	db *store.DB
	d  Deps
}

// New returns a Service reading db and the modules of d; every field of d but
// Compliance is required.
func New(db *store.DB, d Deps) (*Service, error) {
	if d.Alerts == nil || d.Findings == nil || d.Risks == nil || d.Incidents == nil || d.Apps == nil {
		return nil, errors.New("overview: alerts, findings, risks, incidents and apps are required")
	}
	return &Service{db: db, d: d}, nil
}

// Severities are the severities the findings are counted by, most serious first.
var Severities = []string{"critical", "high", "medium", "low"}

// Modules are the modules whose open findings the overview counts: supply-chain
// vulnerability findings, and the open alerts of the patient-data scans (dlp), the
// monitoring of patient-record access (monitor), the apps and the upstream reports.
// Reminders the platform raises about its own records (risks, incidents, plans) are not
// findings.
var Modules = []string{"supply", "dlp", "monitor", "apps", "upstream"}

// Figure is a number and the link of the list that shows the records it counts.
type Figure struct {
	N    int    `json:"n"`
	Link string `json:"link"`
}

// ModuleFindings counts a module's open findings by severity (in Severities order).
type ModuleFindings struct {
	Module     string   `json:"module"`
	BySeverity []Figure `json:"by_severity"`
	Total      int      `json:"total"`
}

// TopRisk is one of the most pressing active risks.
type TopRisk struct {
	ID     int64  `json:"id"`
	Title  string `json:"title"`
	Level  string `json:"level"`
	Score  int    `json:"score"`
	Status string `json:"status"`
	Owner  string `json:"owner"`
	Link   string `json:"link"`
}

// LevelCount counts the active risks at one level of the matrix.
type LevelCount struct {
	Level string `json:"level"`
	Figure
}

// Clock is an incident's running deadline: its report ("report") or the passing on of
// its report ("pass_on").
type Clock struct {
	IncidentID int64     `json:"incident_id"`
	Title      string    `json:"title"`
	Level      string    `json:"level"`
	Status     string    `json:"status"`
	Kind       string    `json:"kind"`
	Due        time.Time `json:"due"`
	Overdue    bool      `json:"overdue"`
	Link       string    `json:"link"`
}

// IncidentFigures are the incident figures: open ones (neither resolved nor closed), those a
// clock of which passed its deadline unstopped, and the running clocks soonest first.
type IncidentFigures struct {
	Open    Figure  `json:"open"`
	Overdue Figure  `json:"overdue"`
	Clocks  []Clock `json:"clocks"`
}

// GradeCount counts the apps of one grade ("" : not graded yet).
type GradeCount struct {
	Grade string `json:"grade"`
	Figure
}

// StatusCount counts the privacy alerts in one state.
type StatusCount struct {
	Status string `json:"status"`
	Figure
}

// Penalty is one term of the security score: N records cost Points (at most Cap).
type Penalty struct {
	Name   string  `json:"name"`
	N      int     `json:"n"`
	Points float64 `json:"points"`
	Cap    float64 `json:"cap"`
}

// TrendPoint is the score of one week (starting Monday, YYYY-MM-DD); Score is nil for a
// week with no snapshot.
type TrendPoint struct {
	Week  string `json:"week"`
	Score *int   `json:"score"`
}

// Overview is the overview of one hospital (or department) as an actor sees it.
type Overview struct {
	OrgID       int64            `json:"org_id"`
	OrgName     string           `json:"org_name"`
	At          time.Time        `json:"at"`
	Score       int              `json:"score"`
	Penalties   []Penalty        `json:"penalties"`
	Trend       []TrendPoint     `json:"trend"`
	Findings    []ModuleFindings `json:"findings"`
	Overdue     Figure           `json:"overdue_alerts"`
	RiskLevels  []LevelCount     `json:"risk_levels"`
	TopRisks    []TopRisk        `json:"top_risks"`
	Incidents   IncidentFigures  `json:"incidents"`
	Compliance  []Progress       `json:"compliance"`
	Assessed    bool             `json:"assessed"` // false: no compliance assessment yet
	Apps        []GradeCount     `json:"apps"`
	Privacy     []StatusCount    `json:"privacy"`
	ComplianceL string           `json:"compliance_link"`
}

// orgNode reads organisation id as a sees it; another's is not found.
func (s *Service) orgNode(ctx context.Context, a actor.Actor, id int64) (org.Node, error) {
	var n org.Node
	err := s.db.QueryRowContext(ctx, `SELECT id, name, kind, path FROM orgs WHERE id = ?`, id).Scan(&n.ID, &n.Name, &n.Kind, &n.Path)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !a.Sees(n.Path)) {
		return org.Node{}, problem.NotFound("organisation").WithMsg("overview.problem.org_not_found")
	}
	if err != nil {
		return org.Node{}, fmt.Errorf("overview: organisation %d: %w", id, err)
	}
	return n, nil
}

// Hospitals lists the hospitals a sees, by name.
func (s *Service) Hospitals(ctx context.Context, a actor.Actor) ([]org.Node, error) {
	cond, arg := a.SeesSQL("path")
	return s.nodes(ctx, `SELECT id, name, kind, path FROM orgs WHERE kind = ? AND `+cond+` ORDER BY name, id`, org.KindHospital, arg)
}

func (s *Service) nodes(ctx context.Context, q string, args ...any) ([]org.Node, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("overview: organisations: %w", err)
	}
	defer rows.Close()
	out := []org.Node{}
	for rows.Next() {
		var n org.Node
		if err := rows.Scan(&n.ID, &n.Name, &n.Kind, &n.Path); err != nil {
			return nil, fmt.Errorf("overview: organisations: %w", err)
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// Hospital computes the overview of hospital orgID (or a department) as a sees it at
// now: every figure counts the records of that organisation's subtree only.
func (s *Service) Hospital(ctx context.Context, a actor.Actor, orgID int64, now time.Time) (Overview, error) {
	n, err := s.orgNode(ctx, a, orgID)
	if err != nil {
		return Overview{}, err
	}
	if n.Kind != org.KindHospital && n.Kind != org.KindDepartment {
		return Overview{}, problem.Invalid("org", "not a hospital").WithMsg("overview.problem.not_hospital")
	}
	o, err := s.compute(ctx, a, n, now)
	if err != nil {
		return Overview{}, err
	}
	if o.Trend, err = s.trend(ctx, n.ID, now, o.Score); err != nil {
		return Overview{}, err
	}
	return o, nil
}

// narrow is a seeing only the subtree of n (which a sees): the modules' lists, read
// with it, count n's records and nothing else.
func narrow(a actor.Actor, n org.Node) actor.Actor {
	a.OrgPath = n.Path
	return a
}

// compute reads every figure of n's overview but the trend.
func (s *Service) compute(ctx context.Context, a actor.Actor, n org.Node, now time.Time) (Overview, error) {
	h := narrow(a, n)
	o := Overview{OrgID: n.ID, OrgName: n.Name, At: now.UTC(), ComplianceL: "/compliance"}
	count := func(f alert.Filter) (int, error) {
		f.Limit = 1
		_, total, err := s.d.Alerts.List(ctx, h, f)
		return total, err
	}
	for _, m := range Modules {
		mf := ModuleFindings{Module: m}
		for _, sev := range Severities {
			var fig Figure
			if m == "supply" {
				pg, err := s.d.Findings.Findings(ctx, h, supply.FindingQuery{Severity: sev, State: supply.StateOpen, Limit: 1})
				if err != nil {
					return o, err
				}
				fig = Figure{N: pg.Total, Link: "/supply/findings?severity=" + sev + "&state=" + supply.StateOpen}
			} else {
				c, err := count(alert.Filter{Source: m, Severity: sev, Status: alert.StatusOpen})
				if err != nil {
					return o, err
				}
				fig = Figure{N: c, Link: "/alerts?source=" + m + "&severity=" + sev + "&status=" + alert.StatusOpen}
			}
			mf.BySeverity = append(mf.BySeverity, fig)
			mf.Total += fig.N
		}
		o.Findings = append(o.Findings, mf)
	}
	// The alert inbox has no overdue filter: the link lists the open alerts, overdue
	// ones flagged among them.
	c, err := count(alert.Filter{Overdue: true})
	if err != nil {
		return o, err
	}
	o.Overdue = Figure{N: c, Link: "/alerts?status=" + alert.StatusOpen}

	levels := s.d.Risks.Matrix().Levels
	for i := len(levels) - 1; i >= 0; i-- { // most serious first
		_, total, err := s.d.Risks.Risks(ctx, h, risk.Query{Status: "active", Level: levels[i].ID, Limit: 1})
		if err != nil {
			return o, err
		}
		o.RiskLevels = append(o.RiskLevels, LevelCount{Level: levels[i].ID, Figure: Figure{N: total, Link: "/risks?status=active&level=" + levels[i].ID}})
	}
	top, _, err := s.d.Risks.Risks(ctx, h, risk.Query{Status: "active", Limit: 5})
	if err != nil {
		return o, err
	}
	o.TopRisks = []TopRisk{}
	for _, r := range top {
		o.TopRisks = append(o.TopRisks, TopRisk{ID: r.ID, Title: r.Title, Level: r.Level, Score: r.Score, Status: r.Status,
			Owner: r.Owner, Link: fmt.Sprintf("/risks/%d", r.ID)})
	}

	if o.Incidents, err = s.incidents(ctx, h, now); err != nil {
		return o, err
	}

	o.Compliance = []Progress{}
	if s.d.Compliance != nil {
		ps, err := s.d.Compliance.Progress(ctx, h, n.ID)
		if err != nil {
			return o, err
		}
		o.Compliance, o.Assessed = append(o.Compliance, ps...), len(ps) > 0
	}

	apps, err := s.d.Apps.Apps(ctx, h, appreg.Query{})
	if err != nil {
		return o, err
	}
	grades := map[string]int{}
	for _, ap := range apps {
		grades[ap.Grade]++
	}
	for _, g := range Grades {
		link := "/apps?grade=" + g
		if g == "" {
			link = "/apps" // the registry has no filter for apps not graded yet
		}
		o.Apps = append(o.Apps, GradeCount{Grade: g, Figure: Figure{N: grades[g], Link: link}})
	}

	for _, st := range alert.Statuses {
		c, err := count(alert.Filter{Source: PrivacySource, Status: st})
		if err != nil {
			return o, err
		}
		o.Privacy = append(o.Privacy, StatusCount{Status: st, Figure: Figure{N: c, Link: "/alerts?source=" + PrivacySource + "&status=" + st}})
	}
	o.Penalties = penalties(o)
	o.Score = score(o.Penalties)
	return o, nil
}

// Grades are the app grades counted, best first, and "" for apps not graded yet.
var Grades = []string{"A", "B", "C", ""}

// PrivacySource is the alert source of the monitoring of patient-record access.
const PrivacySource = "monitor"

// incidents reads the incident figures of h's scope at now.
func (s *Service) incidents(ctx context.Context, h actor.Actor, now time.Time) (IncidentFigures, error) {
	all, err := s.d.Incidents.Incidents(ctx, h, incident.Query{})
	if err != nil {
		return IncidentFigures{}, err
	}
	out := IncidentFigures{Open: Figure{Link: "/incidents?status=" + incident.StatusOpen}, Overdue: Figure{Link: "/incidents?overdue=1"}, Clocks: []Clock{}}
	for _, in := range all {
		if in.Status == incident.StatusOpen {
			out.Open.N++
		}
		if in.Overdue {
			out.Overdue.N++
		}
		add := func(kind string, due, stopped *time.Time) {
			if due != nil && stopped == nil {
				out.Clocks = append(out.Clocks, Clock{IncidentID: in.ID, Title: in.Title, Level: in.Level, Status: in.Status,
					Kind: kind, Due: due.UTC(), Overdue: !now.Before(*due), Link: fmt.Sprintf("/incidents/%d", in.ID)})
			}
		}
		add("report", in.ReportDue, in.ReportedAt)
		add("pass_on", in.PassOnDue, in.PassedOnAt)
	}
	sortClocks(out.Clocks)
	return out, nil
}
