package web

import (
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/medguard/medguard/internal/appreg"
	"github.com/medguard/medguard/internal/appscore"
)

// The score page of an app: 100 minus every point lost, per finding type and finding,
// with the caps that clipped them, the grade thresholds, what the grade leads to, and
// the history of the evaluations.

// scoreType is a finding type's deductions with its label in the page's language.
type scoreType struct {
	appscore.TypeTotal
	Label string
}

// scoreRow is one evaluation of the history.
type scoreRow struct {
	Score int
	Grade string
	At    time.Time
}

// appScoreData is what app_score.html shows.
type appScoreData struct {
	App         appreg.App
	Evaluated   bool // the app has been evaluated at least once
	Result      appscore.Result
	Types       []scoreType
	Sum         string // 100 − 40 − 4 = 56
	Max         int
	Grades      appscore.Grades
	Action      string // none, rectify, evict
	Reason      string // the consequence in the page's language
	Findings    map[string]appreg.Finding
	History     []scoreRow // newest first
	Board       board      // the history chart
	EvaluatedAt time.Time
}

// appModel is the scoring model the registry evaluates with.
func (s *Server) appModel() appscore.Model {
	if s.AppModel != nil {
		return *s.AppModel
	}
	return defaultAppModel()
}

// defaultAppModel is the built-in model, parsed once.
var defaultAppModel = sync.OnceValue(appscore.DefaultModel)

// scoreLabel is a finding type's label in the page's language: the catalogue's
// override when it has one, else the model's text.
func (p *page) scoreLabel(key string, l appscore.Label) string {
	if key != "" && p.s.I18n.Has(p.Lang, key) {
		return p.T(key)
	}
	if p.Lang == "zh-CN" && l.ZhCN != "" {
		return l.ZhCN
	}
	return l.EN
}

// AppFindingType is a finding type's label in the page's language, from the scoring
// model (its Other rule's, with the type id, for a type the model does not list).
func (p *page) AppFindingType(typ string) string {
	m := p.s.appModel()
	if rule, ok := m.Types[typ]; ok {
		return p.scoreLabel(appscore.LabelKeyPrefix+typ, rule.Label)
	}
	return p.scoreLabel(appscore.LabelKeyPrefix+"other", m.Other.Label) + " (" + typ + ")"
}

// scoreLineSpec is the JSON data block of a line chart of scores: one line per series
// over the category labels X, a point drawn at each value (a history may hold one), the
// value axis from 0 to YMax. A null value leaves a gap.
type scoreLineSpec struct {
	Type    string        `json:"type"` // "line"
	X       []string      `json:"x"`
	Series  []scoreSeries `json:"series"`
	Symbols bool          `json:"symbols"`
	YMax    int           `json:"ymax,omitempty"`
}

// scoreSeries is one line of a scoreLineSpec.
type scoreSeries struct {
	Name string     `json:"name"`
	Data []*float64 `json:"data"`
}

// makeScoreChart encodes spec as a chart as wide as the page.
func makeScoreChart(id, title string, spec scoreLineSpec) (chart, error) {
	b, err := json.Marshal(spec) // escapes <, > and & as \u00XX
	if err != nil {
		return chart{}, fmt.Errorf("web: chart %s: %w", id, err)
	}
	empty := true
	for _, s := range spec.Series {
		for _, v := range s.Data {
			empty = empty && v == nil
		}
	}
	return chart{ID: id + "-chart", Data: "chart-" + id, Title: title, JSON: template.JS(b), Empty: empty, Wide: true}, nil
}

func (s *Server) uiAppScore(w http.ResponseWriter, r *http.Request) error {
	reg, err := s.apps()
	if err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	ctx, a := r.Context(), reqActor(r)
	ap, err := reg.App(ctx, a, id)
	if err != nil {
		return err
	}
	scores, err := reg.Scores(ctx, a, id)
	if err != nil {
		return err
	}
	fs, err := reg.Findings(ctx, a, id, false)
	if err != nil {
		return err
	}
	p := s.newPage(r, w, "app.score.title", "apps")
	d := appScoreData{App: ap, Max: appscore.MaxScore, Grades: s.appModel().Grades, Findings: map[string]appreg.Finding{}}
	for _, f := range fs {
		d.Findings[strconv.FormatInt(f.ID, 10)] = f
	}
	if n := len(scores); n > 0 {
		last := scores[n-1]
		if err := json.Unmarshal(last.Details, &d.Result); err != nil {
			return fmt.Errorf("web: score details of app %d: %w", id, err)
		}
		d.Evaluated, d.EvaluatedAt = true, last.EvaluatedAt
		parts := []string{strconv.Itoa(appscore.MaxScore)}
		for _, t := range d.Result.Types {
			d.Types = append(d.Types, scoreType{TypeTotal: t, Label: p.scoreLabel(t.LabelKey, t.Label)})
			if t.Taken > 0 {
				parts = append(parts, strconv.Itoa(t.Taken))
			}
		}
		d.Sum = strings.Join(parts, " − ") + " = " + strconv.Itoa(d.Result.Score)
		if d.Result.Floored {
			d.Sum = strings.Join(parts, " − ") + " < 0 → 0"
		}
		c := d.Result.Consequence(time.Now())
		d.Action = string(c.Action)
		if l, ok := appscore.ReasonLabel(c.Reason); ok {
			d.Reason = p.scoreLabel("", l)
		}
	}
	spec := scoreLineSpec{Type: "line", X: []string{}, Series: []scoreSeries{{Name: p.T("app.score.series"), Data: []*float64{}}},
		Symbols: true, YMax: appscore.MaxScore}
	for i := len(scores) - 1; i >= 0; i-- {
		sc := scores[i]
		d.History = append(d.History, scoreRow{Score: sc.Score, Grade: sc.Grade, At: sc.EvaluatedAt})
	}
	for _, sc := range scores {
		spec.X = append(spec.X, sc.EvaluatedAt.Local().Format("2006-01-02 15:04"))
		v := float64(sc.Score)
		spec.Series[0].Data = append(spec.Series[0].Data, &v)
	}
	ch, err := makeScoreChart("app-score", "app.score.history", spec)
	if err != nil {
		return err
	}
	d.Board.Charts = []chart{ch}
	p.Data = d
	return s.render(w, http.StatusOK, "app_score.html", p)
}
