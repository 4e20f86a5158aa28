package web

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"strconv"

	"github.com/medguard/medguard/internal/trail"
)

type trailData struct {
	Entries    []trail.Entry
	Filter     trail.Filter
	Older      int64 // seq to continue from, 0 when there is nothing older
	Report     *trail.Report
	Alg        string
	Checkpoint *trail.Checkpoint // newest signed checkpoint, nil when none
	KeyID      string            // short name of the checkpoint's signing key
	CPError    bool              // the checkpoint file does not parse
	Actions    []actionOption    // the choices of the action filter
}

// actionOption is an action in the trail filter: its code and its label, the
// catalogue's "trail.act.<code>" when there is one, else the code.
type actionOption struct {
	Code, Label string
}

func trailFilter(r *http.Request) trail.Filter {
	q := r.URL.Query()
	before, _ := strconv.ParseInt(q.Get("before"), 10, 64)
	return trail.Filter{Action: q.Get("action"), Actor: q.Get("actor"), ObjectType: q.Get("object_type"),
		ObjectID: q.Get("object_id"), BeforeSeq: before, Limit: 100}
}

// errCheckpointFile is the client's account of a checkpoint file that does not parse.
var errCheckpointFile = errors.New("the checkpoint file in the data directory does not parse or its signatures do not verify")

// trailCheckpoints reads the checkpoint file; none when there is no file.
func (s *Server) trailCheckpoints() ([]trail.Checkpoint, error) {
	if s.TrailCheckpoints == "" {
		return nil, nil
	}
	f, err := os.Open(s.TrailCheckpoints)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cps, err := trail.ParseCheckpoints(f)
	if err != nil {
		s.Logger.Error("trail checkpoint file", "file", s.TrailCheckpoints, "err", err)
		return nil, errCheckpointFile
	}
	return cps, nil
}

// verifyTrail verifies the chain and that it extends every checkpoint of the file.
func (s *Server) verifyTrail(ctx context.Context) (trail.Report, error) {
	cps, err := s.trailCheckpoints()
	if errors.Is(err, errCheckpointFile) {
		return trail.Report{Problem: err.Error()}, nil
	}
	if err != nil {
		return trail.Report{}, err
	}
	return s.Trail.Verify(ctx, s.DB, cps...)
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
	if s.TrailCheckpoints != "" {
		cp, ok, err := trail.LastCheckpoint(s.TrailCheckpoints)
		switch {
		case err != nil:
			s.Logger.Error("trail checkpoint file", "file", s.TrailCheckpoints, "err", err)
			d.CPError = true
		case ok:
			d.Checkpoint = &cp
			if pub, err := cp.PublicKeyBytes(); err == nil {
				d.KeyID = trail.KeyID(pub)
			}
		}
	}
	pg := s.newPage(r, w, "trail.title", "trail")
	actions, err := trail.Actions(r.Context(), s.DB, p.actor(r))
	if err != nil {
		return err
	}
	for _, a := range actions {
		o := actionOption{Code: a, Label: a}
		if key := "trail.act." + a; s.I18n.Has(pg.Lang, key) {
			o.Label = s.I18n.T(pg.Lang, key)
		}
		d.Actions = append(d.Actions, o)
	}
	pg.Data = d
	return s.render(w, http.StatusOK, "trail.html", pg)
}

func (s *Server) uiTrail(w http.ResponseWriter, r *http.Request) error { return s.trailPage(w, r, nil) }

func (s *Server) uiTrailVerify(w http.ResponseWriter, r *http.Request) error {
	rep, err := s.verifyTrail(r.Context())
	if err != nil {
		return err
	}
	return s.trailPage(w, r, &rep)
}
