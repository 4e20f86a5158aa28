package web

import (
	"context"
	"net/http"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/asset"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/overview"
)

// dashboardKPI is one headline number of the home dashboard as the API serves it: the
// page's element id, the label in the caller's language, the count and the list it
// counts.
type dashboardKPI struct {
	ID    string `json:"id"`
	Label string `json:"label"`
	N     int    `json:"n"`
	Link  string `json:"link"`
}

// apiDashboard answers GET /api/v1/dashboard: the home dashboard's headline numbers
// (the same homeKPIs the page shows) and one section of figures per module
// (dashboardResponse, in openapi.go), only the asset inventory so far.
func (s *Server) apiDashboard(w http.ResponseWriter, r *http.Request) error {
	st, kpis, err := s.homeKPIs(r.Context(), principalFrom(r.Context()).actor(r))
	if err != nil {
		return err
	}
	p := s.newPage(r, nil, "", "")
	out := dashboardResponse{Assets: st, KPIs: make([]dashboardKPI, 0, len(kpis))}
	for _, k := range kpis {
		out.KPIs = append(out.KPIs, dashboardKPI{ID: k.ID, Label: p.T(k.Label), N: k.N, Link: k.Link})
	}
	return writeJSON(w, http.StatusOK, out)
}

// homeKPIs computes the home dashboard's headline numbers in a's scope, for the page
// (uiDashboard) and the API (apiDashboard) alike, with the inventory figures they come
// from.
func (s *Server) homeKPIs(ctx context.Context, a actor.Actor) (asset.Stats, []kpi, error) {
	st, err := s.Assets.Stats(ctx, a)
	if err != nil {
		return st, nil, err
	}
	// Business systems graded at MLPS level 3 or 4 are the ones regulators check first.
	// The KPI's link carries the same filter, so the list shows as many as it says.
	gpg, err := s.Assets.List(ctx, a, asset.Query{Kind: asset.KindBusinessSystem, MinMLPS: 3, PerPage: 1})
	if err != nil {
		return st, nil, err
	}
	graded := gpg.Total
	count := func(cs []asset.Count, key string) int {
		for _, c := range cs {
			if c.Key == key {
				return c.N
			}
		}
		return 0
	}
	return st, []kpi{
		{ID: "kpi-total", Label: "dashboard.kpi.total", N: st.Total, Link: "/assets"},
		{ID: "kpi-in-service", Label: "dashboard.kpi.in_service", N: count(st.ByLifecycle, asset.LifecycleInService), Link: "/assets?lifecycle=" + asset.LifecycleInService},
		{ID: "kpi-mlps3", Label: "dashboard.kpi.mlps3_systems", N: graded, Link: "/assets?kind=" + asset.KindBusinessSystem + "&mlps_min=3&sort=-mlps_level"},
		{ID: "kpi-medical", Label: "dashboard.kpi.medical_devices", N: count(st.ByKind, asset.KindMedicalDevice), Link: "/assets?kind=" + asset.KindMedicalDevice},
		{ID: "kpi-internet", Label: "dashboard.kpi.internet_apps", N: count(st.ByKind, asset.KindInternetApp), Link: "/assets?kind=" + asset.KindInternetApp},
	}, nil
}

// overviewOrg is the organisation an overview shows: the org query parameter, else
// the caller's own hospital (or department), else the first hospital the caller sees.
// It also returns the hospitals the caller sees, for the page's chooser.
func (s *Server) overviewOrg(r *http.Request, a actor.Actor) (int64, []org.Node, error) {
	id, err := queryID(r, "org")
	if err != nil {
		return 0, nil, err
	}
	hs, err := s.Overview.Hospitals(r.Context(), a)
	if err != nil {
		return 0, nil, err
	}
	if id != 0 {
		return id, hs, nil
	}
	for _, h := range hs {
		if h.ID == a.OrgID {
			return h.ID, hs, nil
		}
	}
	if len(hs) > 0 { // above the hospitals: the first registered (the list is by name)
		first := hs[0].ID
		for _, h := range hs {
			first = min(first, h.ID)
		}
		return first, hs, nil
	}
	return a.OrgID, hs, nil
}

// apiOverview answers GET /api/v1/overview: the overview of one hospital (?org=, by
// default the caller's), every figure with the link of the list that reproduces it.
func (s *Server) apiOverview(w http.ResponseWriter, r *http.Request) error {
	a := principalFrom(r.Context()).actor(r)
	id, _, err := s.overviewOrg(r, a)
	if err != nil {
		return err
	}
	o, err := s.Overview.Hospital(r.Context(), a, id, time.Now())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, o)
}

// apiOverviewRegion answers GET /api/v1/overview/region: each hospital of a region
// (?org=, by default the caller's organisation) side by side, with totals.
func (s *Server) apiOverviewRegion(w http.ResponseWriter, r *http.Request) error {
	a := principalFrom(r.Context()).actor(r)
	id, err := queryID(r, "org")
	if err != nil {
		return err
	}
	if id == 0 {
		id = a.OrgID
	}
	o, err := s.Overview.Region(r.Context(), a, id, time.Now())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, o)
}

func init() {
	org := map[string]qdoc{"org": id("Organisation: a hospital (or department) for /overview, a region, province or group for /overview/region; defaults to the caller's")}
	apiDocs["GET /api/v1/overview"] = apiOp{Summary: "The overview of one hospital: security score (100 less capped penalties, see package overview) " +
		"and its weekly trend, open findings by module and severity, active risks by level and the top five, incidents and their clocks, " +
		"compliance progress, app grades, privacy alerts; every figure with the link of the list that reproduces it",
		Tag: "dashboard", Response: overview.Overview{}, Status: 200, Query: []string{"org"}}
	opQueryDocs["GET /api/v1/overview"] = org
	apiDocs["GET /api/v1/overview/region"] = apiOp{Summary: "Each hospital of a region side by side (their overviews) with totals: " +
		"counts summed, the score and each week of the trend the hospitals' mean",
		Tag: "dashboard", Response: overview.RegionOverview{}, Status: 200, Query: []string{"org"}}
	opQueryDocs["GET /api/v1/overview/region"] = org
}
