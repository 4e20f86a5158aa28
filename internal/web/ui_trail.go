package web

import (
	"net/http"
	"strconv"

	"github.com/medguard/medguard/internal/trail"
)

type trailData struct {
	Entries []trail.Entry
	Filter  trail.Filter
	Older   int64 // seq to continue from, 0 when there is nothing older
	Report  *trail.Report
	Alg     string
}

func trailFilter(r *http.Request) trail.Filter {
	q := r.URL.Query()
	before, _ := strconv.ParseInt(q.Get("before"), 10, 64)
	return trail.Filter{Action: q.Get("action"), Actor: q.Get("actor"), ObjectType: q.Get("object_type"),
		ObjectID: q.Get("object_id"), BeforeSeq: before, Limit: 100}
}

func (s *Server) trailPage(w http.ResponseWriter, r *http.Request, rep *trail.Report) error {
	p := principalFrom(r.Context())
	f := trailFilter(r)
	entries, err := trail.List(r.Context(), s.DB, p.actor(r), f)
	if err != nil {
		return err
	}
	d := trailData{Entries: entries, Filter: f, Report: rep, Alg: s.Trail.Alg()}
	if len(entries) == f.Limit {
		d.Older = entries[len(entries)-1].Seq
	}
	pg := s.newPage(r, w, "trail.title", "trail")
	pg.Data = d
	return s.render(w, http.StatusOK, "trail.html", pg)
}

func (s *Server) uiTrail(w http.ResponseWriter, r *http.Request) error { return s.trailPage(w, r, nil) }

func (s *Server) uiTrailVerify(w http.ResponseWriter, r *http.Request) error {
	rep, err := s.Trail.Verify(r.Context(), s.DB)
	if err != nil {
		return err
	}
	return s.trailPage(w, r, &rep)
}
