package overview

import (
	"context"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/problem"
)

// RegionOverview is a region's (or province's, or group's) hospitals side by side, with
// totals: Total sums every count of the hospitals' overviews, its Score is their mean
// (rounded) and its TopRisks the most pressing of all.
type RegionOverview struct {
	OrgID     int64      `json:"org_id"`
	OrgName   string     `json:"org_name"`
	At        time.Time  `json:"at"`
	Hospitals []Overview `json:"hospitals"`
	Total     Overview   `json:"total"`
}

// Region computes the overview of every hospital below regionOrgID as a sees them at
// now, and their totals. A hospital's own id is refused: its overview is Hospital's.
func (s *Service) Region(ctx context.Context, a actor.Actor, regionOrgID int64, now time.Time) (RegionOverview, error) {
	n, err := s.orgNode(ctx, a, regionOrgID)
	if err != nil {
		return RegionOverview{}, err
	}
	if n.Kind == org.KindHospital || n.Kind == org.KindDepartment {
		return RegionOverview{}, problem.Invalid("org", "not a region").WithMsg("overview.problem.not_region")
	}
	cond, arg := actor.SubtreeSQL("path", n.Path)
	hs, err := s.nodes(ctx, `SELECT id, name, kind, path FROM orgs WHERE kind = ? AND `+cond+` ORDER BY name, id`, org.KindHospital, arg)
	if err != nil {
		return RegionOverview{}, err
	}
	out := RegionOverview{OrgID: n.ID, OrgName: n.Name, At: now.UTC(), Hospitals: []Overview{}}
	for _, h := range hs {
		if !a.Sees(h.Path) {
			continue
		}
		o, err := s.Hospital(ctx, a, h.ID, now)
		if err != nil {
			return RegionOverview{}, err
		}
		out.Hospitals = append(out.Hospitals, o)
	}
	out.Total = total(n, out.Hospitals, now)
	return out, nil
}

// total adds the hospitals' overviews up (the links are the hospitals', which list
// every record a sees).
func total(n org.Node, hs []Overview, now time.Time) Overview {
	t := Overview{OrgID: n.ID, OrgName: n.Name, At: now.UTC(), TopRisks: []TopRisk{}, Compliance: []Progress{},
		Incidents: IncidentFigures{Clocks: []Clock{}}, ComplianceL: "/compliance"}
	if len(hs) == 0 {
		return t
	}
	first := hs[0]
	t.Findings = make([]ModuleFindings, len(first.Findings))
	for i, m := range first.Findings {
		t.Findings[i] = ModuleFindings{Module: m.Module, BySeverity: make([]Figure, len(m.BySeverity))}
		for j, f := range m.BySeverity {
			t.Findings[i].BySeverity[j].Link = f.Link
		}
	}
	t.RiskLevels = append([]LevelCount(nil), first.RiskLevels...)
	t.Apps = append([]GradeCount(nil), first.Apps...)
	t.Privacy = append([]StatusCount(nil), first.Privacy...)
	for i := range t.RiskLevels {
		t.RiskLevels[i].N = 0
	}
	for i := range t.Apps {
		t.Apps[i].N = 0
	}
	for i := range t.Privacy {
		t.Privacy[i].N = 0
	}
	t.Overdue.Link, t.Incidents.Open.Link, t.Incidents.Overdue.Link = first.Overdue.Link, first.Incidents.Open.Link, first.Incidents.Overdue.Link
	t.Trend = make([]TrendPoint, len(first.Trend))
	sum := 0
	for _, h := range hs {
		sum += h.Score
		for i, m := range h.Findings {
			for j, f := range m.BySeverity {
				t.Findings[i].BySeverity[j].N += f.N
				t.Findings[i].Total += f.N
			}
		}
		t.Overdue.N += h.Overdue.N
		for i, l := range h.RiskLevels {
			t.RiskLevels[i].N += l.N
		}
		t.TopRisks = append(t.TopRisks, h.TopRisks...)
		t.Incidents.Open.N += h.Incidents.Open.N
		t.Incidents.Overdue.N += h.Incidents.Overdue.N
		t.Incidents.Clocks = append(t.Incidents.Clocks, h.Incidents.Clocks...)
		t.Compliance = append(t.Compliance, h.Compliance...)
		t.Assessed = t.Assessed || h.Assessed
		for i, g := range h.Apps {
			t.Apps[i].N += g.N
		}
		for i, p := range h.Privacy {
			t.Privacy[i].N += p.N
		}
	}
	t.Score = (sum + len(hs)/2) / len(hs)
	// The region's trend is the mean of the hospitals' scores of each week that has any.
	for i := range t.Trend {
		t.Trend[i].Week = first.Trend[i].Week
		s, k := 0, 0
		for _, h := range hs {
			if i < len(h.Trend) && h.Trend[i].Score != nil {
				s, k = s+*h.Trend[i].Score, k+1
			}
		}
		if k > 0 {
			v := (s + k/2) / k
			t.Trend[i].Score = &v
		}
	}
	sortRisks(t.TopRisks)
	if len(t.TopRisks) > 5 {
		t.TopRisks = t.TopRisks[:5]
	}
	sortClocks(t.Incidents.Clocks)
	t.Penalties = penalties(t)
	return t
}
