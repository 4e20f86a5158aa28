package web

import (
	"net/http"

	"github.com/medguard/medguard/internal/dataflow"
	"github.com/medguard/medguard/internal/risk"
)

// dataflowListData is the register's page: the flows, deficient first, and its figures.
type dataflowListData struct {
	Flows         []dataflow.Flow
	Total         int
	Counts        dataflow.Counts
	Kinds         []string
	Kind          string
	Level         string
	OnlyDeficient bool
	Levels        []string
}

func (s *Server) uiDataflowList(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.dataflows()
	if err != nil {
		return err
	}
	p := s.newPage(r, w, "dataflow.list.title", "compliance")
	p.Sub = "dataflows"
	q, qerr := dataflowQuery(r)
	d := dataflowListData{Kinds: dataflow.RecipientKinds, Kind: q.RecipientKind, Level: r.URL.Query().Get("level"),
		OnlyDeficient: q.Deficient != nil && *q.Deficient, Levels: []string{"1", "2", "3", "4", "5"}}
	err = func() error {
		if qerr != nil {
			return qerr
		}
		var err error
		if d.Counts, err = svc.Counts(r.Context(), reqActor(r), 0); err != nil {
			return err
		}
		q.Limit = 500
		d.Flows, d.Total, err = svc.Flows(r.Context(), reqActor(r), q)
		return err
	}()
	code, err := actionError(p, err)
	if err != nil {
		return err
	}
	p.Data = d
	return s.render(w, code, "dataflows.html", p)
}

// dataflowShowData is one flow's page: the flow with its deficiencies and linked risks.
type dataflowShowData struct {
	Flow  dataflow.Flow
	Risks []risk.Risk
}

func (s *Server) uiDataflowShow(w http.ResponseWriter, r *http.Request) error {
	_, f, err := s.visibleFlow(r)
	if err != nil {
		return err
	}
	p := s.newPage(r, w, "dataflow.show.title", "compliance")
	p.Sub = "dataflows"
	d := dataflowShowData{Flow: f, Risks: []risk.Risk{}}
	if s.Risks != nil {
		if d.Risks, err = s.Risks.RisksOf(r.Context(), reqActor(r), risk.ModuleDataflow, f.ID); err != nil {
			return err
		}
	}
	p.Data = d
	return s.render(w, http.StatusOK, "dataflow.html", p)
}
