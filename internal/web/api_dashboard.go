package web

import (
	"context"
	"net/http"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/asset"
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
