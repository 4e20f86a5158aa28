package report

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/store"
)

// The sections of BasicSource.
const (
	SectionRisks     = "risks"
	SectionIncidents = "incidents"
	SectionAlerts    = "alerts"
)

// basicTopRisks is how many open risks the risk section lists.
const basicTopRisks = 10

// BasicSource builds a report from the platform's own tables, for an organisation and
// everything below it: the risks open when the report is made (by current level, and
// the highest ones listed), the incidents detected in the period, and the alerts first
// seen in the period by severity, with a stacked bar chart of them by module. The
// reports' own announcements are not counted as alerts. The overview dashboard's Source
// replaces it where the platform wires one.
type BasicSource struct {
	DB  *store.DB
	Now func() time.Time // the clock, for incidents' overdue deadlines; nil: time.Now
}

// Sections lists the sections BasicSource makes, in report order.
func (BasicSource) Sections() []string {
	return []string{SectionRisks, SectionIncidents, SectionAlerts}
}

var basicCatalog = sync.OnceValues(i18n.Load)

// Build makes the document of organisation orgID (and its subtree) for period p, as a,
// with the sections asked for (all when none) in lang.
func (s BasicSource) Build(ctx context.Context, a actor.Actor, orgID int64, p Period, sections []string, lang string) (Document, error) {
	cat, err := basicCatalog()
	if err != nil {
		return Document{}, fmt.Errorf("report: %w", err)
	}
	node, err := org.Visible(ctx, s.DB, a, orgID)
	if err != nil {
		return Document{}, err
	}
	if len(sections) == 0 {
		sections = s.Sections()
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	b := basicBuild{db: s.DB, cat: cat, lang: lang, path: node.Path, p: p, now: now().UTC()}
	d := Document{Org: node.Name}
	for _, key := range s.Sections() {
		if !slices.Contains(sections, key) {
			continue
		}
		sec := Section{Key: key, Heading: cat.T(lang, "report.section."+key)}
		switch key {
		case SectionRisks:
			err = b.risks(ctx, &sec)
		case SectionIncidents:
			err = b.incidents(ctx, &sec)
		case SectionAlerts:
			err = b.alerts(ctx, &sec)
		}
		if err != nil {
			return Document{}, fmt.Errorf("report: %s: %w", key, err)
		}
		d.Sections = append(d.Sections, sec)
	}
	return d, nil
}

// basicBuild is one Build: the organisation's subtree, the period and the language.
type basicBuild struct {
	db   *store.DB
	cat  *i18n.Catalog
	lang string
	path string
	p    Period
	now  time.Time
}

func (b basicBuild) t(key string, args ...any) string { return b.cat.T(b.lang, key, args...) }

// label is the catalogue's name for key, or fallback when it has none.
func (b basicBuild) label(key, fallback string) string {
	if b.cat.Has(b.lang, key) {
		return b.cat.T(b.lang, key)
	}
	return fallback
}

// risks: the open (not closed) risks now, by current level, highest first, and the
// highest ones.
func (b basicBuild) risks(ctx context.Context, sec *Section) error {
	cond, arg := actor.SubtreeSQL("o.path", b.path)
	type count struct {
		level string
		n     int
	}
	counts, err := store.Collect(ctx, b.db, func(sc store.Scanner) (count, error) {
		var c count
		return c, sc.Scan(&c.level, &c.n)
	}, `SELECT r.level, COUNT(*) FROM risks r JOIN orgs o ON o.id = r.org_id WHERE r.status <> 'closed' AND `+cond+`
		GROUP BY r.level ORDER BY MAX(r.level_rank) DESC`, arg)
	if err != nil {
		return err
	}
	total := 0
	for _, c := range counts {
		total += c.n
	}
	if total == 0 {
		return nil
	}
	sec.Figures = append(sec.Figures, Figure{Label: b.t("report.basic.risks_open"), Value: strconv.Itoa(total)})
	for _, c := range counts {
		sec.Figures = append(sec.Figures, Figure{Label: b.t("report.basic.risks_level", b.label("risk.level."+c.level, c.level)), Value: strconv.Itoa(c.n)})
	}
	rows, err := store.Collect(ctx, b.db, func(sc store.Scanner) ([]string, error) {
		var id int64
		var title, level, status, hosp string
		var score int
		err := sc.Scan(&id, &title, &level, &score, &status, &hosp)
		return []string{strconv.FormatInt(id, 10), title, b.label("risk.level."+level, level), strconv.Itoa(score),
			b.label("risk.status."+status, status), hosp}, err
	}, `SELECT r.id, r.title, r.level, r.score, r.status, o.name FROM risks r JOIN orgs o ON o.id = r.org_id
		WHERE r.status <> 'closed' AND `+cond+` ORDER BY r.level_rank DESC, r.score DESC, r.id LIMIT ?`, arg, basicTopRisks)
	if err != nil {
		return err
	}
	sec.Tables = append(sec.Tables, Table{Title: b.t("report.basic.risks_top"), Rows: rows,
		Columns: []string{"ID", b.t("report.basic.col.title"), b.t("report.basic.col.level"), b.t("report.basic.col.score"),
			b.t("report.basic.col.status"), b.t("report.field.org")}})
	return nil
}

// incidents: those detected in the period, with how many were reported to the
// regulator and how many missed their reporting deadline (reported after it, or
// unreported when it passed before the period's end or now, whichever is first).
func (b basicBuild) incidents(ctx context.Context, sec *Section) error {
	cond, arg := actor.SubtreeSQL("o.path", b.path)
	type inc struct {
		row      []string
		reported bool
		overdue  bool
	}
	now := b.now
	if b.p.End.Before(now) {
		now = b.p.End
	}
	list, err := store.Collect(ctx, b.db, func(sc store.Scanner) (inc, error) {
		var id int64
		var title, level, status, hosp string
		var detected, due, reported store.Time
		if err := sc.Scan(&id, &detected, &title, &level, &status, &hosp, &due, &reported); err != nil {
			return inc{}, err
		}
		late := due.Valid && (reported.Valid && reported.Time.After(due.Time) || !reported.Valid && due.Time.Before(now))
		return inc{reported: reported.Valid, overdue: late, row: []string{strconv.FormatInt(id, 10), detected.Time.Format("2006-01-02 15:04"),
			title, b.label("incident.level."+level, level), b.label("incident.status."+status, status), hosp}}, nil
	}, `SELECT i.id, i.detected_at, i.title, i.level, i.status, o.name, i.report_due, i.reported_at FROM incidents i
		JOIN orgs o ON o.id = i.org_id WHERE i.detected_at >= ? AND i.detected_at < ? AND `+cond+` ORDER BY i.detected_at, i.id`,
		b.p.Start, b.p.End, arg)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		return nil
	}
	var reported, overdue int
	rows := make([][]string, len(list))
	for i, in := range list {
		rows[i] = in.row
		if in.reported {
			reported++
		}
		if in.overdue {
			overdue++
		}
	}
	sec.Figures = []Figure{
		{Label: b.t("report.basic.incidents_count"), Value: strconv.Itoa(len(list))},
		{Label: b.t("report.basic.incidents_reported"), Value: strconv.Itoa(reported)},
		{Label: b.t("report.basic.incidents_overdue"), Value: strconv.Itoa(overdue), Note: b.t("report.basic.incidents_overdue_note")},
	}
	sec.Tables = []Table{{Rows: rows, Columns: []string{"ID", b.t("report.basic.col.detected"), b.t("report.basic.col.title"),
		b.t("report.basic.col.level"), b.t("report.basic.col.status"), b.t("report.field.org")}}}
	return nil
}

// alerts: those first seen in the period by severity, and a bar chart of them by
// module (source), stacked by severity.
func (b basicBuild) alerts(ctx context.Context, sec *Section) error {
	cond, arg := actor.SubtreeSQL("o.path", b.path)
	type count struct {
		source, severity string
		n                int
	}
	counts, err := store.Collect(ctx, b.db, func(sc store.Scanner) (count, error) {
		var c count
		return c, sc.Scan(&c.source, &c.severity, &c.n)
	}, `SELECT a.source, a.severity, COUNT(*) FROM alerts a JOIN orgs o ON o.id = a.org_id
		WHERE a.source <> 'report' AND a.first_seen >= ? AND a.first_seen < ? AND `+cond+`
		GROUP BY a.source, a.severity ORDER BY a.source`, b.p.Start, b.p.End, arg)
	if err != nil {
		return err
	}
	if len(counts) == 0 {
		return nil
	}
	bySev := map[string]int{}
	var sources []string
	cell := map[[2]string]int{}
	total := 0
	for _, c := range counts {
		bySev[c.severity] += c.n
		total += c.n
		if !slices.Contains(sources, c.source) {
			sources = append(sources, c.source)
		}
		cell[[2]string{c.source, c.severity}] += c.n
	}
	sec.Figures = append(sec.Figures, Figure{Label: b.t("report.basic.alerts_count"), Value: strconv.Itoa(total)})
	type series struct {
		Type  string `json:"type"`
		Name  string `json:"name"`
		Stack string `json:"stack"`
		Data  []int  `json:"data"`
	}
	var ss []series
	var legend []string
	for _, sev := range alert.Severities {
		if bySev[sev] == 0 {
			continue
		}
		name := b.label("alert.severity."+sev, sev)
		sec.Figures = append(sec.Figures, Figure{Label: b.t("report.basic.alerts_severity", name), Value: strconv.Itoa(bySev[sev])})
		s := series{Type: "bar", Name: name, Stack: "severity"}
		for _, src := range sources {
			s.Data = append(s.Data, cell[[2]string{src, sev}])
		}
		ss = append(ss, s)
		legend = append(legend, name)
	}
	labels := make([]string, len(sources))
	for i, src := range sources {
		labels[i] = b.label("alert.source."+src, src)
	}
	opt, err := json.Marshal(map[string]any{
		"xAxis":  map[string]any{"data": labels},
		"yAxis":  map[string]any{},
		"legend": map[string]any{"data": legend},
		"series": ss,
	})
	if err != nil {
		return err
	}
	sec.Charts = []Chart{{Title: b.t("report.basic.alerts_chart"), Option: opt}}
	return nil
}
