// Package appscore is the security evaluation model (安全评价模型) of internet-hospital
// apps: a 100-point score, a grade and its consequence, each point lost explained.
//
// Score = 100 − Σ deductions, never below 0. Every finding takes off the deduction its
// type's rule sets for its severity; a type takes off at most its cap in all. The model
// (a Model, loadable from YAML) is data: deductions, caps, grade thresholds (A ≥ 85,
// B ≥ 70, else C by default) and the days of a rectification order.
//
// Unlike MobSF's security score — a ratio of findings, which more findings can raise
// and which fixing a medium finding may leave where it was — this score is additive
// (the deductions add up, capped per type, floored at 0), monotonic (adding a finding
// never raises it, fixing one never lowers it) and explained (Result lists every point
// lost with its finding, type, severity, deduction and whether a cap or the floor
// clipped it). The tests hold it to all three.
package appscore

import (
	"slices"
	"time"
)

// Finding is a finding about an app, as the scorer sees it.
type Finding struct {
	// Type is the finding type id, such as "apk.debuggable"; types the model does not
	// list are scored by its Other rule.
	Type string `json:"type"`
	// Severity is the finding's severity; a severity the model does not know is scored as
	// critical, so that bad data never makes an app look better.
	Severity Severity `json:"severity"`
	// Ref identifies the finding where it is kept (an id, a URL); Title says what it is.
	Ref   string `json:"ref,omitempty"`
	Title string `json:"title,omitempty"`
	// Deadline is when the finding must be fixed by, if it has been given one.
	Deadline time.Time `json:"deadline,omitzero"`
}

// Grade is A, B or C.
type Grade string

// The grades.
const (
	GradeA Grade = "A"
	GradeB Grade = "B"
	GradeC Grade = "C"
)

// Deduction is what one finding took off.
type Deduction struct {
	Finding Finding `json:"finding"`
	// Severity is the severity scored: the finding's, or critical when that is unknown
	// (SeverityUnknown).
	Severity        Severity `json:"severity"`
	SeverityUnknown bool     `json:"severity_unknown,omitempty"`
	// Points is the rule's deduction for the severity; Taken is what was taken off
	// after the type's cap, Clipped whether the cap took some or all of Points away.
	Points  int  `json:"points"`
	Taken   int  `json:"taken"`
	Clipped bool `json:"clipped"`
}

// TypeTotal is what the findings of one type took off.
type TypeTotal struct {
	Type string `json:"type"`
	// Listed is false when the model does not list the type and its Other rule applied.
	Listed bool `json:"listed"`
	// Label is the model's text for the type (its Other rule's for an unlisted type),
	// in both languages; it is what a page shows. LabelKey ("appscore.type." + Type, or
	// "appscore.type.other") is the key under which a message catalogue may override it;
	// the i18n catalogue holds no such keys yet.
	Label    Label  `json:"label"`
	LabelKey string `json:"label_key"`
	// Points is the sum of the deductions before the cap, Taken after it (at most Cap).
	Points  int  `json:"points"`
	Cap     int  `json:"cap"`
	Taken   int  `json:"taken"`
	Clipped bool `json:"clipped"`
	// Deductions are the type's findings, most severe first, then in the order given.
	Deductions []Deduction `json:"deductions"`
}

// Result is an evaluation: the score and grade and every point lost.
type Result struct {
	Score int   `json:"score"`
	Grade Grade `json:"grade"`
	// Lost is the sum of the types' Taken; Score is MaxScore − Lost, or 0 when Lost is
	// more than MaxScore (Floored).
	Lost    int  `json:"lost"`
	Floored bool `json:"floored"`
	// Types are the finding types that took points off or had findings, those that took
	// most first, then by type id.
	Types []TypeTotal `json:"types"`
	// RectificationDays is the model's, kept for Consequence.
	RectificationDays int `json:"rectification_days"`
}

// LabelKeyPrefix begins the message key of a finding type's label.
const LabelKeyPrefix = "appscore.type."

// Evaluate scores findings with a valid model (see Model.Validate; an invalid model's
// numbers are used as they are). Within a type the most severe findings take their
// points first, so that when the cap clips, it clips the least severe.
func Evaluate(findings []Finding, m Model) Result {
	byType := map[string][]Deduction{}
	var order []string
	for _, f := range findings {
		d := Deduction{Finding: f, Severity: f.Severity}
		if !f.Severity.Valid() {
			d.Severity, d.SeverityUnknown = Critical, true
		}
		if _, seen := byType[f.Type]; !seen {
			order = append(order, f.Type)
		}
		byType[f.Type] = append(byType[f.Type], d)
	}
	res := Result{RectificationDays: m.RectificationDays}
	for _, typ := range order {
		rule, listed := m.rule(typ)
		ds := byType[typ]
		slices.SortStableFunc(ds, func(a, b Deduction) int { return a.Severity.rank() - b.Severity.rank() })
		t := TypeTotal{Type: typ, Listed: listed, Label: rule.Label, LabelKey: LabelKeyPrefix + typ, Cap: max(rule.Cap, 0)}
		if !listed {
			t.LabelKey = LabelKeyPrefix + "other"
		}
		for i := range ds {
			d := &ds[i]
			d.Points = max(rule.Deductions[d.Severity], 0)
			d.Taken = min(d.Points, t.Cap-t.Taken)
			d.Clipped = d.Taken < d.Points
			t.Points += d.Points
			t.Taken += d.Taken
			t.Clipped = t.Clipped || d.Clipped
		}
		t.Deductions = ds
		res.Lost += t.Taken
		res.Types = append(res.Types, t)
	}
	slices.SortStableFunc(res.Types, func(a, b TypeTotal) int {
		if a.Taken != b.Taken {
			return b.Taken - a.Taken
		}
		if a.Type < b.Type {
			return -1
		}
		if a.Type > b.Type {
			return 1
		}
		return 0
	})
	res.Score = MaxScore - res.Lost
	if res.Score < 0 {
		res.Score, res.Floored = 0, true
	}
	res.Grade = m.Grades.grade(res.Score)
	return res
}

// grade returns the grade of a score.
func (g Grades) grade(score int) Grade {
	switch {
	case score >= g.A:
		return GradeA
	case score >= g.B:
		return GradeB
	}
	return GradeC
}

// Action is what a grade leads to.
type Action string

// The actions, mildest first.
const (
	// ActionNone: grade A and nothing overdue.
	ActionNone Action = "none"
	// ActionRectify: grade B; a rectification order (整改通知) with a deadline.
	ActionRectify Action = "rectify"
	// ActionEvict: grade C, or a critical finding open past its deadline; eviction
	// (下架) is proposed to the people who decide it.
	ActionEvict Action = "evict"
)

// Consequence is what an evaluation leads to at a time.
type Consequence struct {
	Action Action `json:"action"`
	// Deadline is the rectification order's deadline (ActionRectify only).
	Deadline time.Time `json:"deadline,omitzero"`
	// Overdue are the critical findings open past their deadlines.
	Overdue []Finding `json:"overdue,omitempty"`
	// Reason is a message key: appscore.consequence.grade_a, .grade_b, .grade_c or
	// .critical_overdue.
	Reason string `json:"reason"`
}

// Consequence returns what the evaluation leads to at now: eviction proposed for grade C
// or for a critical finding whose deadline has passed; otherwise a rectification order
// due RectificationDays from now for grade B; otherwise nothing.
func (r Result) Consequence(now time.Time) Consequence {
	var overdue []Finding
	for _, t := range r.Types {
		for _, d := range t.Deductions {
			if d.Severity == Critical && !d.Finding.Deadline.IsZero() && now.After(d.Finding.Deadline) {
				overdue = append(overdue, d.Finding)
			}
		}
	}
	switch {
	case r.Grade == GradeC:
		return Consequence{Action: ActionEvict, Overdue: overdue, Reason: "appscore.consequence.grade_c"}
	case len(overdue) > 0:
		return Consequence{Action: ActionEvict, Overdue: overdue, Reason: "appscore.consequence.critical_overdue"}
	case r.Grade == GradeB:
		return Consequence{Action: ActionRectify, Deadline: now.AddDate(0, 0, r.RectificationDays),
			Reason: "appscore.consequence.grade_b"}
	}
	return Consequence{Action: ActionNone, Reason: "appscore.consequence.grade_a"}
}

// reasons are the consequence reasons' texts.
var reasons = map[string]Label{
	"appscore.consequence.grade_a": {EN: "Grade A: no action", ZhCN: "评级 A：无需处置"},
	"appscore.consequence.grade_b": {EN: "Grade B: rectification ordered", ZhCN: "评级 B：责令限期整改"},
	"appscore.consequence.grade_c": {EN: "Grade C: eviction proposed", ZhCN: "评级 C：建议下架"},
	"appscore.consequence.critical_overdue": {EN: "A critical finding is open past its deadline: eviction proposed",
		ZhCN: "严重问题逾期未整改：建议下架"},
}

// ReasonLabel returns the English and Chinese text of a Consequence's Reason key.
func ReasonLabel(key string) (Label, bool) {
	l, ok := reasons[key]
	return l, ok
}
