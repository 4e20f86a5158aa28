package overview

import (
	"math"
	"slices"
	"time"
)

// The security score is 100 less the penalties below, each capped, rounded to an
// integer and never below 0:
//
//	findings   open findings of every module: critical 10, high 5, medium 2, low 0.5 each, at most 40
//	overdue    open alerts past their due date: 2 each, at most 15
//	risks      active risks at the matrix's highest level 6 each, at the level below it 3 each, at most 20
//	incidents  incidents a clock of which passed its deadline unstopped: 10 each, at most 20
//	compliance (100 − the mean percentage of the assessments) / 10, at most 10; 0 with no assessment yet
//	apps       apps graded C 4 each, graded B 2 each, at most 10
//
// The caps add up to 115, so a hospital failing on every count scores 0, and no single
// count can take more than 40 points by itself.
const (
	capFindings   = 40
	capOverdue    = 15
	capRisks      = 20
	capIncidents  = 20
	capCompliance = 10
	capApps       = 10
)

// severityPoints are the points an open finding of each severity costs (Severities order).
var severityPoints = []float64{10, 5, 2, 0.5}

// penalties computes the score's terms from o's figures.
func penalties(o Overview) []Penalty {
	var nf int
	var pf float64
	for _, m := range o.Findings {
		for i, f := range m.BySeverity {
			nf += f.N
			pf += float64(f.N) * severityPoints[i]
		}
	}
	var nr int
	var pr float64
	for i, l := range o.RiskLevels { // most serious first
		switch i {
		case 0:
			nr, pr = nr+l.N, pr+6*float64(l.N)
		case 1:
			nr, pr = nr+l.N, pr+3*float64(l.N)
		}
	}
	var pc float64
	if len(o.Compliance) > 0 {
		var sum float64
		for _, p := range o.Compliance {
			sum += p.Percent
		}
		pc = (100 - sum/float64(len(o.Compliance))) / 10
	}
	var na int
	var pa float64
	for _, g := range o.Apps {
		switch g.Grade {
		case "C":
			na, pa = na+g.N, pa+4*float64(g.N)
		case "B":
			na, pa = na+g.N, pa+2*float64(g.N)
		}
	}
	capped := func(name string, n int, p, c float64) Penalty {
		return Penalty{Name: name, N: n, Points: math.Min(math.Max(p, 0), c), Cap: c}
	}
	return []Penalty{
		capped("findings", nf, pf, capFindings),
		capped("overdue", o.Overdue.N, 2*float64(o.Overdue.N), capOverdue),
		capped("risks", nr, pr, capRisks),
		capped("incidents", o.Incidents.Overdue.N, 10*float64(o.Incidents.Overdue.N), capIncidents),
		capped("compliance", len(o.Compliance), pc, capCompliance),
		capped("apps", na, pa, capApps),
	}
}

// score is 100 less the penalties, rounded, at least 0.
func score(ps []Penalty) int {
	s := 100.0
	for _, p := range ps {
		s -= p.Points
	}
	return int(math.Max(0, math.Round(s)))
}

// sortClocks orders running clocks by deadline, soonest (most overdue) first.
func sortClocks(cs []Clock) {
	slices.SortStableFunc(cs, func(a, b Clock) int { return a.Due.Compare(b.Due) })
}

// Weeks is how many weeks the score's trend covers, the current one included.
const Weeks = 12

// weekOf is the Monday (UTC) starting t's ISO week, as YYYY-MM-DD.
func weekOf(t time.Time) string {
	t = t.UTC()
	d := (int(t.Weekday()) + 6) % 7 // days since Monday
	return time.Date(t.Year(), t.Month(), t.Day()-d, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
}

// sortRisks orders risks by current score, highest first.
func sortRisks(rs []TopRisk) {
	slices.SortStableFunc(rs, func(a, b TopRisk) int { return b.Score - a.Score })
}
