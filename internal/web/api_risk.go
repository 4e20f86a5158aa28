package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/medguard/medguard/internal/paging"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/risk"
)

// Request bodies of the risk API that are not domain inputs.
type (
	// riskStatusRequest is the body of POST /api/v1/risks/{id}/status.
	riskStatusRequest struct {
		Status string `json:"status"`
		Reason string `json:"reason"`
	}
	// riskReviewRequest is the body of POST /api/v1/risks/{id}/review.
	riskReviewRequest struct {
		Note string `json:"note"`
	}
	// taskDoneRequest is the body of the …/tasks/{task}/done routes: done (default true)
	// or, false, not done again.
	taskDoneRequest struct {
		Done *bool `json:"done"`
	}
	// acceptanceDecision is the body of POST …/acceptances/{acceptance}/decide.
	acceptanceDecision struct {
		Accept bool   `json:"accept"`
		Reason string `json:"reason"`
	}
	// revokeRequest is the body of POST …/acceptances/{acceptance}/revoke.
	revokeRequest struct {
		Reason string `json:"reason"`
	}
)

// riskFromSource answers POST /api/v1/risks/from-source: the risk and whether it is new.
type riskFromSource struct {
	risk.Risk
	Created bool `json:"created"`
}

// done is the state a taskDoneRequest asks for.
func (t taskDoneRequest) done() bool { return t.Done == nil || *t.Done }

func (s *Server) risks() (*risk.Service, error) {
	if s.Risks == nil {
		return nil, problem.NotFound("risk register")
	}
	return s.Risks, nil
}

// pathInt parses the path segment name as a positive identifier; anything else names
// no object.
func pathInt(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, problem.NotFound("object")
	}
	return id, nil
}

// decodeOptionalJSON is decodeJSON for a body that may be left out (nothing sent).
func decodeOptionalJSON(r *http.Request, dst any) error {
	if r.ContentLength == 0 {
		return nil
	}
	return decodeJSON(r, dst)
}

// riskQuery reads the filters of the risk list and heat map.
func riskQuery(r *http.Request) (risk.Query, error) {
	v := r.URL.Query()
	q := risk.Query{Status: v.Get("status"), Level: v.Get("level"), Owner: strings.TrimSpace(v.Get("owner")),
		Text: v.Get("q"), Rating: v.Get("rating")}
	var err error
	q.OrgID, err = queryID(r, "org_id")
	return q, err
}

func (s *Server) apiRiskList(w http.ResponseWriter, r *http.Request) error {
	reg, err := s.risks()
	if err != nil {
		return err
	}
	q, err := riskQuery(r)
	if err != nil {
		return err
	}
	p, err := pageParams(r, paging.Standard)
	if err != nil {
		return err
	}
	q.Limit, q.Offset = p.Limit, p.Offset
	page, total, err := reg.Risks(r.Context(), reqActor(r), q)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, paging.Page(r.URL, p, page, total))
}

func (s *Server) apiRiskCreate(w http.ResponseWriter, r *http.Request) error {
	reg, err := s.risks()
	if err != nil {
		return err
	}
	var in risk.Input
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if in.OrgID == 0 {
		in.OrgID = principalFrom(r.Context()).User.OrgID
	}
	rk, err := reg.Create(r.Context(), reqActor(r), in)
	if err != nil {
		return err
	}
	return created(w, idPath("/api/v1/risks/", rk.ID), rk)
}

// apiRiskFromSource answers POST /api/v1/risks/from-source: a risk raised from a finding,
// an alert, a case, a scan, an app or a delivery (201), or the open risk already linked
// to it updated (200); a new risk is written in the caller's language.
func (s *Server) apiRiskFromSource(w http.ResponseWriter, r *http.Request) error {
	reg, err := s.risks()
	if err != nil {
		return err
	}
	var in risk.SourceInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if in.Module == "" {
		return problem.Required("module")
	}
	if in.ID == 0 {
		return problem.Required("id")
	}
	if in.Lang == "" {
		in.Lang = s.callerLang(r)
	}
	rk, isNew, err := reg.FromSource(r.Context(), reqActor(r), in)
	if err != nil {
		return err
	}
	out := riskFromSource{Risk: rk, Created: isNew}
	if isNew {
		return created(w, idPath("/api/v1/risks/", rk.ID), out)
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiRiskHeatMap(w http.ResponseWriter, r *http.Request) error {
	reg, err := s.risks()
	if err != nil {
		return err
	}
	q, err := riskQuery(r)
	if err != nil {
		return err
	}
	hm, err := reg.HeatMap(r.Context(), reqActor(r), q)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, hm)
}

// apiRisksOf answers GET /api/v1/risks/of?module=…&id=…: the risks linked to a record of
// another module, the back-link its page shows.
func (s *Server) apiRisksOf(w http.ResponseWriter, r *http.Request) error {
	reg, err := s.risks()
	if err != nil {
		return err
	}
	module := r.URL.Query().Get("module")
	switch {
	case module == "":
		return problem.Required("module")
	case !slices.Contains(risk.Modules, module):
		return problem.OneOf("module", risk.Modules...)
	}
	id, err := queryID(r, "id")
	if err != nil {
		return err
	}
	if id == 0 {
		return problem.Required("id")
	}
	rs, err := reg.RisksOf(r.Context(), reqActor(r), module, id)
	if err != nil {
		return err
	}
	return writeList(w, r, paging.Standard, rs)
}

// visibleRisk returns the register and risk {id} if the caller sees it: another
// hospital's risk is not found before the body is even read.
func (s *Server) visibleRisk(r *http.Request) (*risk.Service, risk.Risk, error) {
	reg, err := s.risks()
	if err != nil {
		return nil, risk.Risk{}, err
	}
	id, err := pathID(r)
	if err != nil {
		return nil, risk.Risk{}, err
	}
	rk, err := reg.Risk(r.Context(), reqActor(r), id)
	return reg, rk, err
}

func (s *Server) apiRiskGet(w http.ResponseWriter, r *http.Request) error {
	_, rk, err := s.visibleRisk(r)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rk)
}

// riskAction reads the body into body and runs do on risk {id}, answering what do
// returns with status code.
func riskAction[T any](s *Server, w http.ResponseWriter, r *http.Request, code int, body any,
	do func(reg *risk.Service, id int64) (T, error)) error {
	reg, rk, err := s.visibleRisk(r)
	if err != nil {
		return err
	}
	id := rk.ID
	if body != nil {
		if err := decodeJSON(r, body); err != nil {
			return err
		}
	}
	out, err := do(reg, id)
	if err != nil {
		return err
	}
	return writeJSON(w, code, out)
}

func (s *Server) apiRiskUpdate(w http.ResponseWriter, r *http.Request) error {
	var in risk.Input
	return riskAction(s, w, r, http.StatusOK, &in, func(reg *risk.Service, id int64) (risk.Risk, error) {
		return reg.Update(r.Context(), reqActor(r), id, in)
	})
}

func (s *Server) apiRiskStatus(w http.ResponseWriter, r *http.Request) error {
	var in riskStatusRequest
	return riskAction(s, w, r, http.StatusOK, &in, func(reg *risk.Service, id int64) (risk.Risk, error) {
		if in.Status == "" {
			return risk.Risk{}, problem.Required("status")
		}
		return reg.SetStatus(r.Context(), reqActor(r), id, in.Status, in.Reason)
	})
}

func (s *Server) apiRiskReview(w http.ResponseWriter, r *http.Request) error {
	var in riskReviewRequest
	return riskAction(s, w, r, http.StatusOK, &in, func(reg *risk.Service, id int64) (risk.Risk, error) {
		return reg.Review(r.Context(), reqActor(r), id, in.Note)
	})
}

func (s *Server) apiRiskLinkSource(w http.ResponseWriter, r *http.Request) error {
	var in risk.Source
	return riskAction(s, w, r, http.StatusOK, &in, func(reg *risk.Service, id int64) (risk.Risk, error) {
		if in.Module == "" {
			return risk.Risk{}, problem.Required("module")
		}
		return reg.LinkSource(r.Context(), reqActor(r), id, in)
	})
}

func (s *Server) apiRiskAddTask(w http.ResponseWriter, r *http.Request) error {
	var in risk.TaskInput
	return riskAction(s, w, r, http.StatusCreated, &in, func(reg *risk.Service, id int64) (risk.Task, error) {
		return reg.AddTask(r.Context(), reqActor(r), id, in)
	})
}

func (s *Server) apiRiskTaskDone(w http.ResponseWriter, r *http.Request) error {
	reg, rk, err := s.visibleRisk(r)
	if err != nil {
		return err
	}
	id := rk.ID
	task, err := pathInt(r, "task")
	if err != nil {
		return err
	}
	var in taskDoneRequest
	if err := decodeOptionalJSON(r, &in); err != nil {
		return err
	}
	t, err := reg.CompleteTask(r.Context(), reqActor(r), id, task, in.done())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, t)
}

func (s *Server) apiRiskAcceptanceCreate(w http.ResponseWriter, r *http.Request) error {
	var in risk.AcceptanceInput
	return riskAction(s, w, r, http.StatusCreated, &in, func(reg *risk.Service, id int64) (risk.Acceptance, error) {
		return reg.CreateAcceptance(r.Context(), reqActor(r), id, in)
	})
}

// acceptanceAction runs do on acceptance {acceptance} of risk {id}, with the body read
// into body (nil: none, or an empty one).
func (s *Server) acceptanceAction(w http.ResponseWriter, r *http.Request, body any,
	do func(reg *risk.Service, riskID, id int64) (risk.Acceptance, error)) error {
	reg, rk, err := s.visibleRisk(r)
	if err != nil {
		return err
	}
	riskID := rk.ID
	id, err := pathInt(r, "acceptance")
	if err != nil {
		return err
	}
	if _, err := reg.Acceptance(r.Context(), reqActor(r), riskID, id); err != nil {
		return err
	}
	if body != nil {
		if err := decodeJSON(r, body); err != nil {
			return err
		}
	}
	ac, err := do(reg, riskID, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, ac)
}

func (s *Server) apiRiskAcceptanceSubmit(w http.ResponseWriter, r *http.Request) error {
	return s.acceptanceAction(w, r, nil, func(reg *risk.Service, riskID, id int64) (risk.Acceptance, error) {
		return reg.SubmitAcceptance(r.Context(), reqActor(r), riskID, id)
	})
}

func (s *Server) apiRiskAcceptanceDecide(w http.ResponseWriter, r *http.Request) error {
	var in acceptanceDecision
	return s.acceptanceAction(w, r, &in, func(reg *risk.Service, riskID, id int64) (risk.Acceptance, error) {
		return reg.DecideAcceptance(r.Context(), reqActor(r), riskID, id, in.Accept, in.Reason)
	})
}

func (s *Server) apiRiskAcceptanceRevoke(w http.ResponseWriter, r *http.Request) error {
	var in revokeRequest
	return s.acceptanceAction(w, r, &in, func(reg *risk.Service, riskID, id int64) (risk.Acceptance, error) {
		return reg.RevokeAcceptance(r.Context(), reqActor(r), riskID, id, in.Reason)
	})
}

func init() {
	riskQueryDocs := map[string]qdoc{
		"status": oneOf("State of the risk; active = every state but closed", risk.Statuses, []string{"active"}),
		"level":  str("Level of the current (residual) rating: a level id of the matrix (low, medium, high, critical by default)"),
		"owner":  str("User name of the owner"),
		"q":      str("Text in the title, description, threat or vulnerability"),
	}
	apiDocs["GET /api/v1/risks"] = apiOp{Summary: "The risk register the caller sees, most pressing first (current level, score, next review)",
		Tag: "risks", Response: listResponse[risk.Risk]{}, Status: 200, Query: []string{"status", "level", "org_id", "owner", "q"}}
	opQueryDocs["GET /api/v1/risks"] = riskQueryDocs
	apiDocs["POST /api/v1/risks"] = apiOp{Summary: "Record a risk: category, assets, threat, vulnerability, inherent and current likelihood × impact " +
		"on the register's matrix, owner and treatment (org_id defaults to the caller's organisation); its level's playbook adds tasks",
		Tag: "risks", Request: risk.Input{}, Response: risk.Risk{}, Status: 201}
	apiDocs["POST /api/v1/risks/from-source"] = apiOp{Summary: "Raise a risk from a record of another module (alert, finding, dlp_scan, case, app, " +
		"delivery) in one action — 201 with the new risk, linked both ways — or update the open risk already linked to it (200); a new " +
		"risk is written in the caller's language", Tag: "risks", Request: risk.SourceInput{}, Response: riskFromSource{}, Status: 201}
	apiDocs["GET /api/v1/risks/heatmap"] = apiOp{Summary: "The matrix with the risks counted in each cell and their ids for drill-down " +
		"(closed risks are left out unless status asks for them)", Tag: "risks", Response: risk.HeatMap{}, Status: 200,
		Query: []string{"rating", "status", "level", "org_id", "owner", "q"}}
	hm := map[string]qdoc{"rating": oneOf("The rating counted (default residual)", []string{"residual", "inherent"})}
	for k, v := range riskQueryDocs {
		hm[k] = v
	}
	opQueryDocs["GET /api/v1/risks/heatmap"] = hm
	apiDocs["GET /api/v1/risks/of"] = apiOp{Summary: "The risks linked to a record of another module: the back-link its page shows, open ones first",
		Tag: "risks", Response: listResponse[risk.Risk]{}, Status: 200, Query: []string{"module", "id"}}
	opQueryDocs["GET /api/v1/risks/of"] = map[string]qdoc{
		"module": oneOf("The source's module", risk.Modules),
		"id":     id("The source record's id"),
	}
	apiDocs["GET /api/v1/risks/{id}"] = apiOp{Summary: "A risk with its assets, sources, tasks, acceptances and history",
		Tag: "risks", Response: risk.Risk{}, Status: 200}
	apiDocs["PUT /api/v1/risks/{id}"] = apiOp{Summary: "Replace what is written of a risk (org_id is ignored); a new current level resets the " +
		"review date and adds its playbook", Tag: "risks", Request: risk.Input{}, Response: risk.Risk{}, Status: 200}
	apiDocs["POST /api/v1/risks/{id}/status"] = apiOp{Summary: "Move a risk to open, treating or closed (accepted only through an acceptance); " +
		"closing and re-opening need a reason", Tag: "risks", Request: riskStatusRequest{}, Response: risk.Risk{}, Status: 200}
	apiDocs["POST /api/v1/risks/{id}/review"] = apiOp{Summary: "Record a review of a risk now (note optional): the next one is due after its level's cadence",
		Tag: "risks", Request: riskReviewRequest{}, Response: risk.Risk{}, Status: 200}
	apiDocs["POST /api/v1/risks/{id}/sources"] = apiOp{Summary: "Link a risk to one more record of another module (a second alert about it); " +
		"the record must be one the caller sees", Tag: "risks", Request: risk.Source{}, Response: risk.Risk{}, Status: 200}
	apiDocs["POST /api/v1/risks/{id}/tasks"] = apiOp{Summary: "Add a treatment task to a risk", Tag: "risks",
		Request: risk.TaskInput{}, Response: risk.Task{}, Status: 201}
	apiDocs["POST /api/v1/risks/{id}/tasks/{task}/done"] = apiOp{Summary: "Mark a task of a risk done (done: false marks it not done again; no body: done)",
		Tag: "risks", Request: taskDoneRequest{}, Response: risk.Task{}, Status: 200}
	apiDocs["POST /api/v1/risks/{id}/acceptances"] = apiOp{Summary: "Draft an acceptance of a risk: approver (not the requester), reason and expiry " +
		"(at most three years ahead); one acceptance at a time", Tag: "risks", Request: risk.AcceptanceInput{}, Response: risk.Acceptance{}, Status: 201}
	apiDocs["POST /api/v1/risks/{id}/acceptances/{acceptance}/submit"] = apiOp{Summary: "Submit a drafted acceptance to its approver",
		Tag: "risks", Response: risk.Acceptance{}, Status: 200}
	apiDocs["POST /api/v1/risks/{id}/acceptances/{acceptance}/decide"] = apiOp{Summary: "The named approver accepts or rejects a submitted acceptance " +
		"(a rejection needs a reason); accepting snapshots the current rating and sets the risk accepted until the expiry",
		Tag: "risks", Request: acceptanceDecision{}, Response: risk.Acceptance{}, Status: 200}
	apiDocs["POST /api/v1/risks/{id}/acceptances/{acceptance}/revoke"] = apiOp{Summary: "End an accepted acceptance, or withdraw one in progress, " +
		"with a reason; an accepted risk is open again", Tag: "risks", Request: revokeRequest{}, Response: risk.Acceptance{}, Status: 200}
}
