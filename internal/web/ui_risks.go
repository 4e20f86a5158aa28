package web

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/risk"
)

// riskListData is the register's page: the heat map of the risks that match and the
// prioritized list, narrowed to one cell when the reader drilled down.
type riskListData struct {
	Status, Level string
	Rating        string // residual or inherent
	Cell          string // "l-i" of a drilled-down cell
	Statuses      []string
	Heat          risk.HeatMap
	Risks         []risk.Risk
	Total         int
	Now           time.Time
}

func (s *Server) uiRiskList(w http.ResponseWriter, r *http.Request) error {
	reg, err := s.risks()
	if err != nil {
		return err
	}
	p := s.newPage(r, w, "risk.list.title", "risks")
	q := r.URL.Query()
	d := riskListData{Status: q.Get("status"), Level: q.Get("level"), Rating: q.Get("rating"), Cell: q.Get("cell"),
		Statuses: append([]string{"active"}, risk.Statuses...), Now: time.Now()}
	if d.Status == "" {
		d.Status = "active"
	}
	if d.Rating == "" {
		d.Rating = "residual"
	}
	err = func() error {
		if d.Rating != "residual" && d.Rating != "inherent" {
			return problem.OneOf("rating", "residual", "inherent")
		}
		rq := risk.Query{Status: d.Status, Level: d.Level, Rating: d.Rating, Text: q.Get("q")}
		var err error
		if d.Heat, err = reg.HeatMap(r.Context(), reqActor(r), rq); err != nil {
			return err
		}
		rq.Limit = 500
		if d.Risks, d.Total, err = reg.Risks(r.Context(), reqActor(r), rq); err != nil {
			return err
		}
		if d.Cell != "" {
			var ids []int64
			var l, i int
			if _, err := fmt.Sscanf(d.Cell, "%d-%d", &l, &i); err != nil || l < 1 || i < 1 || l > len(d.Heat.Cells) || i > len(d.Heat.Cells[l-1]) {
				return problem.Invalid("cell", "is not a cell of the matrix").WithMsg("risk.error.cell")
			}
			ids = d.Heat.Cells[l-1][i-1].RiskIDs
			d.Risks = slices.DeleteFunc(d.Risks, func(x risk.Risk) bool { return !slices.Contains(ids, x.ID) })
			d.Total = len(d.Risks)
		}
		return nil
	}()
	code, err := actionError(p, err)
	if err != nil {
		return err
	}
	p.Data = d
	return s.render(w, code, "risks.html", p)
}

// riskShowData is one risk's page.
type riskShowData struct {
	Risk        risk.Risk
	Matrix      *risk.Matrix
	SetStatuses []string // the statuses a person may set (accepted comes from an acceptance)
	Now         time.Time
}

func (s *Server) uiRiskShow(w http.ResponseWriter, r *http.Request) error {
	return s.showRisk(w, r, nil)
}

// showRisk renders risk {id}, with failed (the problem of an action on it) at the top.
func (s *Server) showRisk(w http.ResponseWriter, r *http.Request, failed error) error {
	reg, rk, err := s.visibleRisk(r)
	if err != nil {
		return err
	}
	p := s.newPage(r, w, "risk.show.title", "risks")
	code, err := actionError(p, failed)
	if err != nil {
		return err
	}
	p.Data = riskShowData{Risk: rk, Matrix: reg.Matrix(), Now: time.Now(),
		SetStatuses: []string{risk.StatusOpen, risk.StatusTreating, risk.StatusClosed}}
	return s.render(w, code, "risk.html", p)
}

// uiRiskAction runs do on risk {id}, which the reader must see, and returns to the risk
// with flash, or shows it with the problem.
func (s *Server) uiRiskAction(w http.ResponseWriter, r *http.Request, flash string, do func(reg *risk.Service, id int64) error) error {
	reg, rk, err := s.visibleRisk(r)
	if err != nil {
		return err
	}
	id := rk.ID
	if err := do(reg, id); err != nil {
		if _, ok := problem.As(err); !ok {
			return err
		}
		return s.showRisk(w, r, err)
	}
	return redirect(w, r, idPath("/risks/", id)+"?flash="+flash)
}

func (s *Server) uiRiskStatus(w http.ResponseWriter, r *http.Request) error {
	return s.uiRiskAction(w, r, "flash.risk.status", func(reg *risk.Service, id int64) error {
		_, err := reg.SetStatus(r.Context(), reqActor(r), id, r.PostFormValue("status"), r.PostFormValue("reason"))
		return err
	})
}

func (s *Server) uiRiskReview(w http.ResponseWriter, r *http.Request) error {
	return s.uiRiskAction(w, r, "flash.risk.reviewed", func(reg *risk.Service, id int64) error {
		_, err := reg.Review(r.Context(), reqActor(r), id, r.PostFormValue("note"))
		return err
	})
}

func (s *Server) uiRiskTaskDone(w http.ResponseWriter, r *http.Request) error {
	return s.uiRiskAction(w, r, "flash.risk.task", func(reg *risk.Service, id int64) error {
		task, err := strconv.ParseInt(r.PathValue("task"), 10, 64)
		if err != nil {
			return problem.NotFound("task")
		}
		_, err = reg.CompleteTask(r.Context(), reqActor(r), id, task, r.PostFormValue("done") != "false")
		return err
	})
}

// uiRiskFromSource raises a risk from a record of another module (an alert, a supply
// finding …) in one action, or updates the risk already linked to it, and opens it.
func (s *Server) uiRiskFromSource(w http.ResponseWriter, r *http.Request) error {
	reg, err := s.risks()
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(r.PostFormValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return problem.NotFound("source")
	}
	p := s.newPage(r, nil, "", "")
	rk, created, err := reg.FromSource(r.Context(), reqActor(r), risk.SourceInput{Module: r.PostFormValue("module"), ID: id, Lang: p.Lang})
	if err != nil {
		return err
	}
	flash := "flash.risk.updated_from_source"
	if created {
		flash = "flash.risk.from_source"
	}
	return redirect(w, r, idPath("/risks/", rk.ID)+"?flash="+flash)
}

// RiskLevel is a level id's name in the page's language.
func (p *page) RiskLevel(id string) string {
	if key := "risk.level." + id; p.s.I18n.Has(p.Lang, key) {
		return p.T(key)
	}
	return id
}

// RiskStep is the label of likelihood (kind "l") or impact ("i") step n of the matrix.
func (p *page) RiskStep(m *risk.Matrix, kind string, n int) string {
	steps := m.Impact
	if kind == "l" {
		steps = m.Likelihood
	}
	if n < 1 || n > len(steps) {
		return strconv.Itoa(n)
	}
	return steps[n-1].Label(p.Lang)
}

// TaskTitle is a risk task's title in the page's language (a playbook task's from the
// catalogue).
func (p *page) TaskTitle(t risk.Task) string { return p.Msg(t.TitleMsg, t.Title) }

// SourceLink is the page of a risk's source record.
func (p *page) SourceLink(src risk.Source) string {
	id := strconv.FormatInt(src.ID, 10)
	switch src.Module {
	case risk.ModuleAlert:
		return "/alerts/" + id
	case risk.ModuleFinding:
		return "/supply/findings/" + id
	case risk.ModuleDLPScan:
		return "/dlp/scans/" + id
	case risk.ModuleCase:
		return "/cases/" + id
	case risk.ModuleApp:
		return "/apps/" + id
	case risk.ModuleSelfCheck:
		return "/selfchecks/" + id
	case risk.ModuleDataflow:
		return "/dataflows/" + id
	case risk.ModuleAssessItem:
		return "/compliance/items/" + id
	}
	return ""
}

// HistoryText is a history entry's summary in the page's language.
func (p *page) HistoryText(h risk.HistoryEntry) string { return p.Msg(h.Msg, h.Summary) }

// sourceRef names a record of another module a risk may come from (template func ref).
type sourceRef struct {
	Module string
	ID     int64
}

// RisksOf lists the risks linked to a record, for the back-link its page shows (nil
// when the reader may not read risks).
func (p *page) RisksOf(ref sourceRef) []risk.Risk {
	s := p.s
	if s.Risks == nil || p.req == nil || !p.Can("risk.read") {
		return nil
	}
	rs, err := s.Risks.RisksOf(p.req.Context(), reqActor(p.req), ref.Module, ref.ID)
	if err != nil {
		s.Logger.Error("risks of a record", "module", ref.Module, "id", ref.ID, "err", err)
		return nil
	}
	return rs
}

// HeatRows are the heat map's rows, the most likely first (the matrix reads bottom-left
// low, top-right high).
func (p *page) HeatRows(h risk.HeatMap) [][]risk.Cell {
	rows := slices.Clone(h.Cells)
	slices.Reverse(rows)
	return rows
}

// uiRiskAccept asks for the risk's acceptance: the request is made and submitted to the
// named approver at once.
func (s *Server) uiRiskAccept(w http.ResponseWriter, r *http.Request) error {
	return s.uiRiskAction(w, r, "flash.risk.acceptance_requested", func(reg *risk.Service, id int64) error {
		in := risk.AcceptanceInput{Approver: r.PostFormValue("approver"), Reason: r.PostFormValue("reason")}
		if v := r.PostFormValue("expires_at"); v != "" {
			t, err := time.ParseInLocation(time.DateOnly, v, time.Local)
			if err != nil {
				return problem.NotDate("expires_at")
			}
			in.ExpiresAt = t.Add(24*time.Hour - time.Second)
		}
		acc, err := reg.CreateAcceptance(r.Context(), reqActor(r), id, in)
		if err != nil {
			return err
		}
		_, err = reg.SubmitAcceptance(r.Context(), reqActor(r), id, acc.ID)
		return err
	})
}

// uiRiskAcceptanceDecide records the approver's decision, or revokes an acceptance.
func (s *Server) uiRiskAcceptanceDecide(w http.ResponseWriter, r *http.Request) error {
	return s.uiRiskAction(w, r, "flash.risk.acceptance_decided", func(reg *risk.Service, id int64) error {
		acc, err := strconv.ParseInt(r.PathValue("acceptance"), 10, 64)
		if err != nil {
			return problem.NotFound("acceptance")
		}
		reason := r.PostFormValue("reason")
		switch r.PostFormValue("decision") {
		case "accept":
			_, err = reg.DecideAcceptance(r.Context(), reqActor(r), id, acc, true, reason)
		case "reject":
			_, err = reg.DecideAcceptance(r.Context(), reqActor(r), id, acc, false, reason)
		case "revoke":
			_, err = reg.RevokeAcceptance(r.Context(), reqActor(r), id, acc, reason)
		default:
			err = problem.OneOf("decision", "accept", "reject", "revoke")
		}
		return err
	})
}

// uiRiskCreate records a risk written by hand from the register's form.
func (s *Server) uiRiskCreate(w http.ResponseWriter, r *http.Request) error {
	reg, err := s.risks()
	if err != nil {
		return err
	}
	in := risk.Input{Title: r.PostFormValue("title"), Description: r.PostFormValue("description"), Category: r.PostFormValue("category"),
		Threat: r.PostFormValue("threat"), Vulnerability: r.PostFormValue("vulnerability"), Owner: r.PostFormValue("owner"),
		Treatment: r.PostFormValue("treatment")}
	in.OrgID, _ = strconv.ParseInt(r.PostFormValue("org_id"), 10, 64)
	in.InherentLikelihood, _ = strconv.Atoi(r.PostFormValue("likelihood"))
	in.InherentImpact, _ = strconv.Atoi(r.PostFormValue("impact"))
	rk, err := reg.Create(r.Context(), reqActor(r), in)
	if err != nil {
		if _, ok := problem.As(err); !ok {
			return err
		}
		p := s.newPage(r, w, "risk.new.title", "risks")
		code, err := actionError(p, err)
		if err != nil {
			return err
		}
		f, err := s.riskForm(r, in)
		if err != nil {
			return err
		}
		p.Data = f
		return s.render(w, code, "risk_new.html", p)
	}
	return redirect(w, r, idPath("/risks/", rk.ID)+"?flash=flash.risk.created")
}

// riskFormData is the form of a risk written by hand.
type riskFormData struct {
	ID         int64 // the risk edited (0: a new one)
	In         risk.Input
	Matrix     *risk.Matrix
	Orgs       []orgOption
	Categories []string
	Treatments []string
}

func (s *Server) riskForm(r *http.Request, in risk.Input) (riskFormData, error) {
	f := riskFormData{In: in, Matrix: s.Risks.Matrix(), Categories: risk.Categories, Treatments: risk.Treatments}
	var err error
	f.Orgs, err = s.hospitalOptions(r)
	return f, err
}

func (s *Server) uiRiskNew(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.risks(); err != nil {
		return err
	}
	p := s.newPage(r, w, "risk.new.title", "risks")
	f, err := s.riskForm(r, risk.Input{InherentLikelihood: 3, InherentImpact: 3})
	if err != nil {
		return err
	}
	p.Data = f
	return s.render(w, http.StatusOK, "risk_new.html", p)
}

// Steps numbers the steps of a matrix axis ("l" likelihood, "i" impact) from 1.
func (p *page) Steps(m *risk.Matrix, kind string) []int {
	n := len(m.Impact)
	if kind == "l" {
		n = len(m.Likelihood)
	}
	out := make([]int, n)
	for i := range out {
		out[i] = i + 1
	}
	return out
}

// uiRiskEdit shows the form of risk {id} filled with what it says now: its current
// (residual) rating is what a person revises after treatment.
func (s *Server) uiRiskEdit(w http.ResponseWriter, r *http.Request) error {
	_, rk, err := s.visibleRisk(r)
	if err != nil {
		return err
	}
	p := s.newPage(r, w, "risk.edit.title", "risks")
	f, err := s.riskForm(r, rk.Input())
	if err != nil {
		return err
	}
	f.ID = rk.ID
	p.Data = f
	return s.render(w, http.StatusOK, "risk_new.html", p)
}

// uiRiskUpdate saves the form of risk {id}.
func (s *Server) uiRiskUpdate(w http.ResponseWriter, r *http.Request) error {
	reg, before, err := s.visibleRisk(r)
	if err != nil {
		return err
	}
	id := before.ID
	in := risk.Input{OrgID: before.OrgID, Title: r.PostFormValue("title"), Description: r.PostFormValue("description"),
		Category: r.PostFormValue("category"), Threat: r.PostFormValue("threat"), Vulnerability: r.PostFormValue("vulnerability"),
		Owner: r.PostFormValue("owner"), Treatment: r.PostFormValue("treatment"), AssetIDs: before.AssetIDs}
	in.InherentLikelihood, _ = strconv.Atoi(r.PostFormValue("likelihood"))
	in.InherentImpact, _ = strconv.Atoi(r.PostFormValue("impact"))
	in.Likelihood, _ = strconv.Atoi(r.PostFormValue("residual_likelihood"))
	in.Impact, _ = strconv.Atoi(r.PostFormValue("residual_impact"))
	if _, err := reg.Update(r.Context(), reqActor(r), id, in); err != nil {
		if _, ok := problem.As(err); !ok {
			return err
		}
		p := s.newPage(r, w, "risk.edit.title", "risks")
		code, err := actionError(p, err)
		if err != nil {
			return err
		}
		f, err := s.riskForm(r, in)
		if err != nil {
			return err
		}
		f.ID = id
		p.Data = f
		return s.render(w, code, "risk_new.html", p)
	}
	return redirect(w, r, idPath("/risks/", id)+"?flash=flash.risk.updated")
}
