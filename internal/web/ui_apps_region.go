package web

import (
	"context"
	"net/http"
	"slices"

	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/upstream"
)

// appRegionData is the page of the apps the hospitals below report to this medguard.
type appRegionData struct {
	Status, Grade string
	Statuses      []string
	Grades        []string
	Apps          []upstream.RemoteApp
	Hospitals     int // how many hospitals the list holds
}

// uiAppRegion shows, on a regional medguard, every app its hospital nodes reported
// (GET /region/apps): the same list as GET /api/v1/upstream/apps.
func (s *Server) uiAppRegion(w http.ResponseWriter, r *http.Request) error {
	reg, err := s.region()
	if err != nil {
		return err
	}
	p := s.newPage(r, w, "app.region.title", "apps")
	d := appRegionData{Status: r.URL.Query().Get("status"), Grade: r.URL.Query().Get("grade"), Statuses: appStatuses, Grades: appGrades}
	err = func() error {
		if d.Status != "" && !slices.Contains(appStatuses, d.Status) {
			return problem.OneOf("status", appStatuses...)
		}
		if d.Grade != "" && !slices.Contains(appGrades, d.Grade) {
			return problem.OneOf("grade", appGrades...)
		}
		d.Apps, err = reg.Apps(r.Context(), reqActor(r), upstream.Query{Status: d.Status, Grade: d.Grade})
		return err
	}()
	code, err := actionError(p, err)
	if err != nil {
		return err
	}
	seen := map[int64]bool{}
	for _, a := range d.Apps {
		seen[a.OrgID] = true
	}
	d.Hospitals = len(seen)
	p.Data = d
	return s.render(w, code, "apps_region.html", p)
}

// uiAppRegionShow shows one reported app with its open findings, codes and incidents
// (GET /region/apps/{id}).
func (s *Server) uiAppRegionShow(w http.ResponseWriter, r *http.Request) error {
	ap, err := s.regionApp(r)
	if err != nil {
		return err
	}
	p := s.newPage(r, w, "app.region.title", "apps")
	p.Data = ap
	return s.render(w, http.StatusOK, "app_region.html", p)
}

// IncidentKind is the name of a reported incident's kind in the page's language.
func (p *page) IncidentKind(kind string) string {
	if key := "app.region.incident." + kind; p.s.I18n.Has(p.Lang, key) {
		return p.T(key)
	}
	return kind
}

// Regional reports whether the reader's organisation is above hospitals (a province or a
// region) on a medguard that receives upward reports: the apps pages then link to the
// apps its hospitals report.
func (p *page) Regional() bool {
	if p.s.Upstream == nil || p.User == nil {
		return false
	}
	var kind string
	if err := p.s.DB.QueryRowContext(context.Background(), `SELECT kind FROM orgs WHERE id = ?`, p.User.OrgID).Scan(&kind); err != nil {
		return false
	}
	return kind == org.KindProvince || kind == org.KindRegion
}
