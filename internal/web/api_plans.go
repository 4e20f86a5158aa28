package web

import (
	"net/http"
	"slices"

	"github.com/medguard/medguard/internal/incident"
	"github.com/medguard/medguard/internal/paging"
	"github.com/medguard/medguard/internal/problem"
)

// Request bodies of the plans API that are not domain inputs.
type (
	// adoptRequest is the body of POST /api/v1/plans.
	adoptRequest struct {
		OrgID      int64  `json:"org_id"`
		TemplateID string `json:"template_id"`
	}
	// approveRequest is the body of POST /api/v1/plans/{id}/approve: the version read.
	approveRequest struct {
		Version int `json:"version"`
	}
)

// planDetail is a plan with its approved versions, newest first.
type planDetail struct {
	incident.Plan
	Versions []incident.PlanVersion `json:"versions"`
}

func (s *Server) apiPlanTemplates(w http.ResponseWriter, r *http.Request) error {
	pl, err := s.plans()
	if err != nil {
		return err
	}
	return writeList(w, r, paging.Standard, pl.Templates())
}

func (s *Server) apiPlanList(w http.ResponseWriter, r *http.Request) error {
	pl, err := s.plans()
	if err != nil {
		return err
	}
	q := incident.PlanQuery{Status: r.URL.Query().Get("status"), TemplateID: r.URL.Query().Get("template_id")}
	if q.OrgID, err = queryID(r, "org_id"); err != nil {
		return err
	}
	all, err := pl.Plans(r.Context(), reqActor(r), q)
	if err != nil {
		return err
	}
	return writeList(w, r, paging.Standard, all)
}

// apiPlanAdopt answers POST /api/v1/plans: a template adopted as a draft plan of
// org_id (default the caller's organisation).
func (s *Server) apiPlanAdopt(w http.ResponseWriter, r *http.Request) error {
	pl, err := s.plans()
	if err != nil {
		return err
	}
	var in adoptRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if in.TemplateID == "" {
		return problem.Required("template_id")
	}
	if in.OrgID == 0 {
		in.OrgID = principalFrom(r.Context()).User.OrgID
	}
	p, err := pl.AdoptTemplate(r.Context(), reqActor(r), in.OrgID, in.TemplateID)
	if err != nil {
		return err
	}
	return created(w, idPath("/api/v1/plans/", p.ID), p)
}

// visiblePlan returns the plans and plan {id} if the caller sees it.
func (s *Server) visiblePlan(r *http.Request) (*incident.Plans, incident.Plan, error) {
	pl, err := s.plans()
	if err != nil {
		return nil, incident.Plan{}, err
	}
	id, err := pathID(r)
	if err != nil {
		return nil, incident.Plan{}, err
	}
	p, err := pl.Plan(r.Context(), reqActor(r), id)
	return pl, p, err
}

func (s *Server) apiPlanGet(w http.ResponseWriter, r *http.Request) error {
	pl, p, err := s.visiblePlan(r)
	if err != nil {
		return err
	}
	vs, err := pl.PlanVersions(r.Context(), reqActor(r), p.ID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, planDetail{Plan: p, Versions: vs})
}

// planAction reads the body into body and runs do on plan {id}, answering what do
// returns with status code.
func planAction[T any](s *Server, w http.ResponseWriter, r *http.Request, code int, body any,
	do func(pl *incident.Plans, id int64) (T, error)) error {
	pl, p, err := s.visiblePlan(r)
	if err != nil {
		return err
	}
	if err := decodeJSON(r, body); err != nil {
		return err
	}
	out, err := do(pl, p.ID)
	if err != nil {
		return err
	}
	return writeJSON(w, code, out)
}

func (s *Server) apiPlanUpdate(w http.ResponseWriter, r *http.Request) error {
	var in incident.PlanUpdate
	return planAction(s, w, r, http.StatusOK, &in, func(pl *incident.Plans, id int64) (incident.Plan, error) {
		return pl.UpdatePlan(r.Context(), reqActor(r), id, in)
	})
}

func (s *Server) apiPlanApprove(w http.ResponseWriter, r *http.Request) error {
	var in approveRequest
	return planAction(s, w, r, http.StatusOK, &in, func(pl *incident.Plans, id int64) (incident.Plan, error) {
		if in.Version == 0 {
			return incident.Plan{}, problem.Required("version")
		}
		return pl.ApprovePlan(r.Context(), reqActor(r), id, in.Version)
	})
}

func (s *Server) apiPlanDrills(w http.ResponseWriter, r *http.Request) error {
	pl, p, err := s.visiblePlan(r)
	if err != nil {
		return err
	}
	ds, err := pl.Drills(r.Context(), reqActor(r), incident.DrillQuery{PlanID: p.ID})
	if err != nil {
		return err
	}
	return writeList(w, r, paging.Standard, ds)
}

func (s *Server) apiPlanDrillRecord(w http.ResponseWriter, r *http.Request) error {
	pl, p, err := s.visiblePlan(r)
	if err != nil {
		return err
	}
	var in incident.DrillInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	d, err := pl.RecordDrill(r.Context(), reqActor(r), p.ID, in)
	if err != nil {
		return err
	}
	return created(w, idPath("/api/v1/drills/", d.ID), d)
}

// visibleDrill returns the plans and drill {id} if the caller sees it.
func (s *Server) visibleDrill(r *http.Request) (*incident.Plans, incident.Drill, error) {
	pl, err := s.plans()
	if err != nil {
		return nil, incident.Drill{}, err
	}
	id, err := pathID(r)
	if err != nil {
		return nil, incident.Drill{}, err
	}
	d, err := pl.Drill(r.Context(), reqActor(r), id)
	return pl, d, err
}

func (s *Server) apiDrillGet(w http.ResponseWriter, r *http.Request) error {
	_, d, err := s.visibleDrill(r)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, d)
}

func (s *Server) apiDrillAddTask(w http.ResponseWriter, r *http.Request) error {
	pl, d, err := s.visibleDrill(r)
	if err != nil {
		return err
	}
	var in incident.DrillTaskInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if d, err = pl.AddTask(r.Context(), reqActor(r), d.ID, in); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, d)
}

// apiDrillTaskDone answers POST /api/v1/drills/{id}/tasks/{task}/done: the task must be
// one of drill {id}'s.
func (s *Server) apiDrillTaskDone(w http.ResponseWriter, r *http.Request) error {
	pl, d, err := s.visibleDrill(r)
	if err != nil {
		return err
	}
	task, err := pathInt(r, "task")
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(d.Tasks, func(t incident.DrillTask) bool { return t.ID == task }) {
		return problem.NotFound("task")
	}
	var in taskDoneRequest
	if err := decodeOptionalJSON(r, &in); err != nil {
		return err
	}
	if d, err = pl.CloseTask(r.Context(), reqActor(r), task, in.done()); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, d)
}

func init() {
	apiDocs["GET /api/v1/plans/templates"] = apiOp{Summary: "The built-in emergency-plan templates (ransomware, patient-data leak, HIS outage, " +
		"medical-device compromise, internet-hospital app compromise, supply-chain compromise) with roles, steps and checklists",
		Tag: "plans", Response: listResponse[incident.Template]{}, Status: 200}
	apiDocs["GET /api/v1/plans"] = apiOp{Summary: "The emergency plans of the organisations the caller sees, by organisation and title",
		Tag: "plans", Response: listResponse[incident.Plan]{}, Status: 200, Query: []string{"org_id", "status", "template_id"}}
	opQueryDocs["GET /api/v1/plans"] = map[string]qdoc{
		"status":      oneOf("State of the plan", []string{incident.PlanDraft, incident.PlanApproved}),
		"template_id": str("The template the plan was adopted from"),
	}
	apiDocs["POST /api/v1/plans"] = apiOp{Summary: "Adopt a template as a draft plan of an organisation (org_id defaults to the caller's; once per template)",
		Tag: "plans", Request: adoptRequest{}, Response: incident.Plan{}, Status: 201}
	apiDocs["GET /api/v1/plans/{id}"] = apiOp{Summary: "A plan with its approved versions, newest first",
		Tag: "plans", Response: planDetail{}, Status: 200}
	apiDocs["PUT /api/v1/plans/{id}"] = apiOp{Summary: "Replace a plan's content (roles and their people, steps, checklist), sending the version read " +
		"(409 if it changed); the plan is a draft until approved again", Tag: "plans", Request: incident.PlanUpdate{}, Response: incident.Plan{}, Status: 200}
	apiDocs["POST /api/v1/plans/{id}/approve"] = apiOp{Summary: "Approve the version of a plan one read (another is a conflict)",
		Tag: "plans", Request: approveRequest{}, Response: incident.Plan{}, Status: 200}
	apiDocs["GET /api/v1/plans/{id}/drills"] = apiOp{Summary: "The drills of a plan, newest first, with their improvement tasks",
		Tag: "plans", Response: listResponse[incident.Drill]{}, Status: 200}
	apiDocs["POST /api/v1/plans/{id}/drills"] = apiOp{Summary: "Record a drill of a plan: day, kind, scenario, participants, timings, findings and improvement tasks",
		Tag: "plans", Request: incident.DrillInput{}, Response: incident.Drill{}, Status: 201}
	apiDocs["GET /api/v1/drills/{id}"] = apiOp{Summary: "A drill with its improvement tasks", Tag: "plans", Response: incident.Drill{}, Status: 200}
	apiDocs["POST /api/v1/drills/{id}/tasks"] = apiOp{Summary: "Add an improvement task to a drill; answers the drill",
		Tag: "plans", Request: incident.DrillTaskInput{}, Response: incident.Drill{}, Status: 201}
	apiDocs["POST /api/v1/drills/{id}/tasks/{task}/done"] = apiOp{Summary: "Close an improvement task of a drill (done: false opens it again; no body: done); answers the drill",
		Tag: "plans", Request: taskDoneRequest{}, Response: incident.Drill{}, Status: 200}
}
