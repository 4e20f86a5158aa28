// Package reportsrc is the platform's source of the periodic reports: the sections of a
// report are built from the overview dashboard (the same figures, and the same chart
// definitions the pages hand to ECharts), the compliance modules (assessment progress,
// training, self-checks, the data-flow register) and, for what happened in the period,
// the incidents and alerts of report.BasicSource.
package reportsrc

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/overview"
	"github.com/medguard/medguard/internal/policy"
	"github.com/medguard/medguard/internal/report"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/training"
)

// The sections this source adds to report.BasicSource's (risks, incidents, alerts).
const (
	SectionSummary    = "summary"    // the security score, what lowered it, its trend
	SectionFindings   = "findings"   // open findings by module and severity
	SectionCompliance = "compliance" // progress of the compliance assessments
	SectionApps       = "apps"       // internet-hospital apps by grade
	SectionPrivacy    = "privacy"    // patient-record access alerts by state
	SectionTraining   = "training"   // required training completed, overdue people
	SectionSelfChecks = "selfchecks" // self-checks performed or due in the period
	SectionDataflows  = "dataflows"  // outbound data flows and the deficient ones
)

// Training is what the report reads of the training module (training.Service).
type Training interface {
	Completion(ctx context.Context, orgID int64) (required, done int, err error)
	Overdue(ctx context.Context, a actor.Actor, orgID int64) ([]training.OverdueItem, error)
}

// SelfChecks is what the report reads of the self-checks (policy.Service).
type SelfChecks interface {
	SelfChecks(ctx context.Context, a actor.Actor, orgID int64, from, to time.Time) ([]policy.SelfCheck, error)
}

// Dataflows is what the report reads of the data-flow register (dataflow.Service).
type Dataflows interface {
	Deficient(ctx context.Context, orgID int64) (total, deficient int, err error)
}

// Source implements report.Source. Overview and DB are required; a nil module leaves
// its section out of the report.
type Source struct {
	DB         *store.DB
	Overview   *overview.Service
	Training   Training
	SelfChecks SelfChecks
	Dataflows  Dataflows
	I18n       *i18n.Catalog
	Now        func() time.Time // nil: time.Now
}

// Sections lists the sections a template may choose, in report order.
func (s Source) Sections() []string {
	out := []string{SectionSummary, SectionFindings, report.SectionRisks, report.SectionIncidents, report.SectionAlerts,
		SectionCompliance, SectionApps, SectionPrivacy}
	if s.Training != nil {
		out = append(out, SectionTraining)
	}
	if s.SelfChecks != nil {
		out = append(out, SectionSelfChecks)
	}
	if s.Dataflows != nil {
		out = append(out, SectionDataflows)
	}
	return out
}

func (s Source) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// Build makes the report of organisation orgID (a hospital, or a region: then its
// hospitals' totals) for period p as a sees it, with the sections asked for (all when
// none) in lang.
func (s Source) Build(ctx context.Context, a actor.Actor, orgID int64, p report.Period, sections []string, lang string) (report.Document, error) {
	if s.DB == nil || s.Overview == nil || s.I18n == nil {
		return report.Document{}, fmt.Errorf("reportsrc: DB, Overview and I18n are required")
	}
	node, err := org.Visible(ctx, s.DB, a, orgID)
	if err != nil {
		return report.Document{}, err
	}
	all := s.Sections()
	if len(sections) == 0 {
		sections = all
	}
	for _, k := range sections {
		if !slices.Contains(all, k) {
			return report.Document{}, fmt.Errorf("reportsrc: unknown section %q", k)
		}
	}
	now := s.now()
	b := build{s: s, ctx: ctx, a: a, node: node, p: p, lang: lang, now: now}
	// What happened in the period comes from the records themselves.
	var basic report.Document
	if want := intersect(sections, report.BasicSource{}.Sections()); len(want) > 0 {
		if basic, err = (report.BasicSource{DB: s.DB, Now: s.Now}).Build(ctx, a, orgID, p, want, lang); err != nil {
			return report.Document{}, err
		}
	}
	// What stands now comes from the overview, the same figures as the dashboard's.
	if node.Kind == org.KindHospital || node.Kind == org.KindDepartment {
		b.o, err = s.Overview.Hospital(ctx, a, orgID, now)
	} else {
		var r overview.RegionOverview
		r, err = s.Overview.Region(ctx, a, orgID, now)
		b.o, b.region = r.Total, &r
	}
	if err != nil {
		return report.Document{}, err
	}
	b.charts = map[string]overview.Chart{}
	for _, c := range overview.Charts(b.o, b.t) {
		b.charts[c.ID] = c
	}
	d := report.Document{Org: node.Name}
	for _, key := range all {
		if !slices.Contains(sections, key) {
			continue
		}
		if i := slices.IndexFunc(basic.Sections, func(x report.Section) bool { return x.Key == key }); i >= 0 {
			sec := basic.Sections[i]
			if key == report.SectionRisks {
				if err := b.chart(&sec, "overview-risks"); err != nil {
					return report.Document{}, err
				}
			}
			d.Sections = append(d.Sections, sec)
			continue
		}
		sec := report.Section{Key: key, Heading: b.t("report.section." + key)}
		if err := b.section(&sec); err != nil {
			return report.Document{}, fmt.Errorf("reportsrc: %s: %w", key, err)
		}
		d.Sections = append(d.Sections, sec)
	}
	return d, nil
}

func intersect(a, b []string) []string {
	var out []string
	for _, x := range a {
		if slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// build is one Build: the organisation, its overview and the language.
type build struct {
	s      Source
	ctx    context.Context
	a      actor.Actor
	node   org.Node
	p      report.Period
	lang   string
	now    time.Time
	o      overview.Overview
	region *overview.RegionOverview
	charts map[string]overview.Chart
}

func (b *build) t(key string, args ...any) string { return b.s.I18n.T(b.lang, key, args...) }

func n(v int) string { return strconv.Itoa(v) }

// chart adds the overview's chart id to sec (the same option the page draws).
func (b *build) chart(sec *report.Section, id string) error {
	c, ok := b.charts[id]
	if !ok {
		return nil
	}
	opt, err := json.Marshal(c.Option)
	if err != nil {
		return err
	}
	sec.Charts = append(sec.Charts, report.Chart{Title: c.Title, Option: opt})
	return nil
}

func (b *build) section(sec *report.Section) error {
	o := b.o
	switch sec.Key {
	case SectionSummary:
		sec.Figures = append(sec.Figures, report.Figure{Label: b.t("overview.score"), Value: n(o.Score) + " / 100"})
		if b.region != nil {
			sec.Figures = append(sec.Figures, report.Figure{Label: b.t("reportsrc.hospitals"), Value: n(len(b.region.Hospitals))})
		}
		if b.region == nil { // a region's score is its hospitals' average: their own penalties explain it
			t := report.Table{Title: b.t("reportsrc.penalties"), Columns: []string{b.t("reportsrc.col.term"), b.t("reportsrc.col.count"),
				b.t("reportsrc.col.points")}}
			for _, p := range o.Penalties {
				t.Rows = append(t.Rows, []string{b.t("reportsrc.penalty." + p.Name), n(p.N),
					strconv.FormatFloat(p.Points, 'f', 1, 64) + " / " + strconv.FormatFloat(p.Cap, 'f', 0, 64)})
			}
			sec.Tables = append(sec.Tables, t)
		} else {
			h := report.Table{Title: b.t("reportsrc.region_table"), Columns: []string{b.t("overview.hospital"), b.t("overview.score"),
				b.t("overview.kpi.findings"), b.t("overview.kpi.risks"), b.t("overview.kpi.incidents_overdue")}}
			for _, x := range b.region.Hospitals {
				h.Rows = append(h.Rows, []string{x.OrgName, n(x.Score), n(findings(x)), n(risksHigh(x)), n(x.Incidents.Overdue.N)})
			}
			sec.Tables = append(sec.Tables, h)
		}
		return b.chart(sec, "overview-trend")
	case SectionFindings:
		sec.Figures = append(sec.Figures, report.Figure{Label: b.t("overview.kpi.findings"), Value: n(findings(o))},
			report.Figure{Label: b.t("overview.kpi.overdue"), Value: n(o.Overdue.N)})
		t := report.Table{Columns: []string{b.t("reportsrc.col.module")}}
		for _, sv := range overview.Severities {
			t.Columns = append(t.Columns, b.t("overview.severity."+sv))
		}
		t.Columns = append(t.Columns, b.t("reportsrc.col.total"))
		for _, m := range o.Findings {
			row := []string{b.t("overview.module." + m.Module)}
			for _, f := range m.BySeverity {
				row = append(row, n(f.N))
			}
			t.Rows = append(t.Rows, append(row, n(m.Total)))
		}
		sec.Tables = append(sec.Tables, t)
		return b.chart(sec, "overview-findings")
	case SectionCompliance:
		if !o.Assessed || len(o.Compliance) == 0 {
			sec.Paragraphs = append(sec.Paragraphs, b.t("overview.no_assessment"))
			return nil
		}
		t := report.Table{Columns: []string{b.t("overview.col.assessment"), b.t("reportsrc.col.catalogue"), b.t("reportsrc.col.met"),
			b.t("overview.col.progress")}}
		for _, p := range o.Compliance {
			t.Rows = append(t.Rows, []string{p.Name, p.Catalogue, n(p.Met) + " / " + n(p.Total), strconv.FormatFloat(p.Percent, 'f', 1, 64) + "%"})
		}
		sec.Tables = append(sec.Tables, t)
		return b.chart(sec, "overview-compliance")
	case SectionApps:
		total := 0
		for _, g := range o.Apps {
			total += g.N
		}
		sec.Figures = append(sec.Figures, report.Figure{Label: b.t("reportsrc.apps_total"), Value: n(total)})
		if total == 0 {
			return nil
		}
		return b.chart(sec, "overview-apps")
	case SectionPrivacy:
		total := 0
		for _, st := range o.Privacy {
			total += st.N
		}
		sec.Figures = append(sec.Figures, report.Figure{Label: b.t("reportsrc.privacy_total"), Value: n(total)})
		if total == 0 {
			return nil
		}
		return b.chart(sec, "overview-privacy")
	case SectionTraining:
		required, done, err := b.s.Training.Completion(b.ctx, b.node.ID)
		if err != nil {
			return err
		}
		rate := "—"
		if required > 0 {
			rate = strconv.FormatFloat(100*float64(done)/float64(required), 'f', 1, 64) + "%"
		}
		sec.Figures = append(sec.Figures, report.Figure{Label: b.t("reportsrc.training_required"), Value: n(required)},
			report.Figure{Label: b.t("reportsrc.training_done"), Value: n(done)},
			report.Figure{Label: b.t("reportsrc.training_rate"), Value: rate})
		over, err := b.s.Training.Overdue(b.ctx, b.a, b.node.ID)
		if err != nil {
			return err
		}
		if len(over) > 0 {
			t := report.Table{Title: b.t("reportsrc.training_overdue"), Columns: []string{b.t("reportsrc.col.person"),
				b.t("reportsrc.col.course"), b.t("reportsrc.col.due_since")}}
			for _, x := range over {
				t.Rows = append(t.Rows, []string{cmp.Or(x.DisplayName, x.Username), x.CourseTitle, x.DueSince.Format("2006-01-02")})
			}
			sec.Tables = append(sec.Tables, t)
		}
		return nil
	case SectionSelfChecks:
		cs, err := b.s.SelfChecks.SelfChecks(b.ctx, b.a, b.node.ID, b.p.Start, b.p.End)
		if err != nil {
			return err
		}
		done, issues := 0, 0
		t := report.Table{Columns: []string{b.t("reportsrc.col.selfcheck"), b.t("reportsrc.col.kind"), b.t("reportsrc.col.date"),
			b.t("reportsrc.col.result"), b.t("reportsrc.col.findings")}}
		for _, c := range cs {
			date, result := c.PlannedAt.Format("2006-01-02"), b.t("selfcheck.result.planned")
			if c.PerformedAt != nil {
				done++
				date = c.PerformedAt.Format("2006-01-02")
				result = b.t("selfcheck.result." + c.Result)
				if c.Result != "pass" {
					issues++
				}
			} else if c.Overdue(b.now) {
				result = b.t("reportsrc.selfcheck_overdue")
			}
			t.Rows = append(t.Rows, []string{c.Title, b.t("selfcheck.kind." + c.Kind), date, result, n(c.Findings)})
		}
		sec.Figures = append(sec.Figures, report.Figure{Label: b.t("reportsrc.selfchecks_done"), Value: n(done)},
			report.Figure{Label: b.t("reportsrc.selfchecks_issues"), Value: n(issues)})
		if len(t.Rows) > 0 {
			sec.Tables = append(sec.Tables, t)
		}
		return nil
	case SectionDataflows:
		total, deficient, err := b.s.Dataflows.Deficient(b.ctx, b.node.ID)
		if err != nil {
			return err
		}
		sec.Figures = append(sec.Figures, report.Figure{Label: b.t("reportsrc.dataflows_total"), Value: n(total)},
			report.Figure{Label: b.t("reportsrc.dataflows_deficient"), Value: n(deficient), Note: b.t("reportsrc.dataflows_note")})
		return nil
	}
	return fmt.Errorf("no such section")
}

// findings is the number of open findings of o.
func findings(o overview.Overview) int {
	t := 0
	for _, m := range o.Findings {
		t += m.Total
	}
	return t
}

// risksHigh is the number of risks of o's two most serious levels.
func risksHigh(o overview.Overview) int {
	t := 0
	for i, l := range o.RiskLevels {
		if i < 2 {
			t += l.N
		}
	}
	return t
}
