package web

import (
	"bytes"
	"mime"
	"net/http"
	"strconv"

	"github.com/medguard/medguard/internal/incident"
	"github.com/medguard/medguard/internal/paging"
	"github.com/medguard/medguard/internal/problem"
)

// maxAttachmentUpload bounds an uploaded evidence file: the incidents' own limit.
const maxAttachmentUpload = incident.DefaultMaxAttachment

// Request bodies of the incident API that are not domain inputs.
type (
	// incidentOpenRequest is the body of POST /api/v1/incidents: an incident, opened
	// under emergency plan plan_id (its checklist started) when one is named.
	incidentOpenRequest struct {
		incident.Input
		PlanID int64 `json:"plan_id"`
	}
	// incidentLevelRequest is the body of POST /api/v1/incidents/{id}/level.
	incidentLevelRequest struct {
		Level  string `json:"level"`
		Reason string `json:"reason"`
	}
	// incidentStatusRequest is the body of POST /api/v1/incidents/{id}/status.
	incidentStatusRequest struct {
		Status string `json:"status"`
		Note   string `json:"note"`
	}
	// incidentNoteRequest is the body of POST /api/v1/incidents/{id}/notes.
	incidentNoteRequest struct {
		Note string `json:"note"`
	}
	// checklistStartRequest is the body of POST /api/v1/incidents/{id}/checklists.
	checklistStartRequest struct {
		PlanID int64 `json:"plan_id"`
	}
	// tickRequest is the body of POST /api/v1/checklists/{id}/items/{item}.
	tickRequest struct {
		Done bool   `json:"done"`
		Note string `json:"note"`
	}
)

// openedIncident answers POST /api/v1/incidents: the incident and, opened under a plan,
// the plan's checklist.
type openedIncident struct {
	incident.Incident
	Checklist *incident.ChecklistRun `json:"checklist,omitempty"`
}

// clockRow is one reporting deadline of the clock table: within how many minutes of
// detection an incident of level must be reported by an operator of type operator
// under regime, and passed on after its report (0: need not be).
type clockRow struct {
	Regime        string `json:"regime"`
	OperatorType  string `json:"operator_type"`
	Level         string `json:"level"`
	ReportMinutes int64  `json:"report_minutes"`
	PassOnMinutes int64  `json:"pass_on_minutes"`
	WarnMinutes   int64  `json:"warn_minutes"`
}

// incidentChoices is what a form that opens or edits an incident offers: the categories
// and levels of GB/T 20986-2023, the states, the operator types, the regimes and the
// clock table in force.
type incidentChoices struct {
	Categories    []incident.Category `json:"categories"`
	Levels        []incident.Level    `json:"levels"`
	Statuses      []string            `json:"statuses"`
	OperatorTypes []string            `json:"operator_types"`
	Regimes       []string            `json:"regimes"`
	Clocks        []clockRow          `json:"clocks"`
}

func (s *Server) incidents() (*incident.Service, error) {
	if s.Incidents == nil {
		return nil, problem.NotFound("incidents")
	}
	return s.Incidents, nil
}

func (s *Server) plans() (*incident.Plans, error) {
	if s.Plans == nil {
		return nil, problem.NotFound("emergency plans")
	}
	return s.Plans, nil
}

func (s *Server) apiIncidentList(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.incidents()
	if err != nil {
		return err
	}
	v := r.URL.Query()
	q := incident.Query{Status: v.Get("status"), Level: v.Get("level"), Category: v.Get("category"),
		SourceModule: v.Get("source_module"), SourceID: v.Get("source_id")}
	if q.Overdue, err = queryBool(r, "overdue"); err != nil {
		return err
	}
	all, err := svc.Incidents(r.Context(), reqActor(r), q)
	if err != nil {
		return err
	}
	return writeList(w, r, paging.Standard, all)
}

// apiIncidentOpen answers POST /api/v1/incidents: an incident opened (org_id defaults to
// the caller's organisation), under plan_id when one is named — the plan is checked
// before anything is opened, and its checklist starts with the incident.
func (s *Server) apiIncidentOpen(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.incidents()
	if err != nil {
		return err
	}
	var in incidentOpenRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if in.OrgID == 0 {
		in.OrgID = principalFrom(r.Context()).User.OrgID
	}
	var out openedIncident
	if in.PlanID == 0 {
		if out.Incident, err = svc.Open(r.Context(), reqActor(r), in.Input); err != nil {
			return err
		}
		return created(w, idPath("/api/v1/incidents/", out.ID), out)
	}
	pl, err := s.plans()
	if err != nil {
		return err
	}
	if _, err := pl.Plan(r.Context(), reqActor(r), in.PlanID); err != nil {
		return err
	}
	inc, run, err := incident.OpenFromPlan(r.Context(), svc, pl, reqActor(r), in.Input, in.PlanID)
	if err != nil {
		return err
	}
	out.Incident, out.Checklist = inc, &run
	return created(w, idPath("/api/v1/incidents/", inc.ID), out)
}

// apiIncidentForm answers GET /api/v1/incidents/categories.
func (s *Server) apiIncidentForm(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.incidents()
	if err != nil {
		return err
	}
	c := svc.Clocks()
	f := incidentChoices{Categories: incident.Categories, Levels: incident.Levels, Statuses: incident.Statuses,
		OperatorTypes: incident.OperatorTypes, Regimes: c.RegimeNames(), Clocks: []clockRow{}}
	for _, reg := range f.Regimes {
		for _, op := range incident.OperatorTypes {
			for _, lv := range incident.LevelIDs() {
				rep, ok := c.ReportWithin(reg, op, lv)
				if !ok {
					continue
				}
				row := clockRow{Regime: reg, OperatorType: op, Level: lv, ReportMinutes: int64(rep.Minutes()),
					WarnMinutes: int64(c.WarnBefore(reg).Minutes())}
				if p, ok := c.PassOnWithin(reg, lv); ok {
					row.PassOnMinutes = int64(p.Minutes())
				}
				f.Clocks = append(f.Clocks, row)
			}
		}
	}
	return writeJSON(w, http.StatusOK, f)
}

// visibleIncident returns the incidents and incident {id} if the caller sees it:
// another hospital's incident is not found before the body is even read.
func (s *Server) visibleIncident(r *http.Request) (*incident.Service, incident.Incident, error) {
	svc, err := s.incidents()
	if err != nil {
		return nil, incident.Incident{}, err
	}
	id, err := pathID(r)
	if err != nil {
		return nil, incident.Incident{}, err
	}
	inc, err := svc.Incident(r.Context(), reqActor(r), id)
	if err != nil {
		return nil, incident.Incident{}, err
	}
	return svc, inc, nil
}

func (s *Server) apiIncidentGet(w http.ResponseWriter, r *http.Request) error {
	_, inc, err := s.visibleIncident(r)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, inc)
}

// incidentAction reads the body into body and runs do on incident {id}, answering what
// do returns with status code.
func incidentAction[T any](s *Server, w http.ResponseWriter, r *http.Request, code int, body any,
	do func(svc *incident.Service, id int64) (T, error)) error {
	svc, inc, err := s.visibleIncident(r)
	if err != nil {
		return err
	}
	if err := decodeJSON(r, body); err != nil {
		return err
	}
	out, err := do(svc, inc.ID)
	if err != nil {
		return err
	}
	return writeJSON(w, code, out)
}

func (s *Server) apiIncidentUpdate(w http.ResponseWriter, r *http.Request) error {
	var in incident.Details
	return incidentAction(s, w, r, http.StatusOK, &in, func(svc *incident.Service, id int64) (incident.Incident, error) {
		return svc.Update(r.Context(), reqActor(r), id, in)
	})
}

func (s *Server) apiIncidentLevel(w http.ResponseWriter, r *http.Request) error {
	var in incidentLevelRequest
	return incidentAction(s, w, r, http.StatusOK, &in, func(svc *incident.Service, id int64) (incident.Incident, error) {
		return svc.SetLevel(r.Context(), reqActor(r), id, in.Level, in.Reason)
	})
}

func (s *Server) apiIncidentStatus(w http.ResponseWriter, r *http.Request) error {
	var in incidentStatusRequest
	return incidentAction(s, w, r, http.StatusOK, &in, func(svc *incident.Service, id int64) (incident.Incident, error) {
		return svc.SetStatus(r.Context(), reqActor(r), id, in.Status, in.Note)
	})
}

func (s *Server) apiIncidentNote(w http.ResponseWriter, r *http.Request) error {
	var in incidentNoteRequest
	return incidentAction(s, w, r, http.StatusCreated, &in, func(svc *incident.Service, id int64) (incident.Entry, error) {
		return svc.AddNote(r.Context(), reqActor(r), id, in.Note)
	})
}

func (s *Server) apiIncidentReport(w http.ResponseWriter, r *http.Request) error {
	var in incident.ReportInput
	return incidentAction(s, w, r, http.StatusCreated, &in, func(svc *incident.Service, id int64) (incident.Report, error) {
		return svc.RecordReport(r.Context(), reqActor(r), id, in)
	})
}

func (s *Server) apiIncidentReview(w http.ResponseWriter, r *http.Request) error {
	var in incident.ReviewInput
	return incidentAction(s, w, r, http.StatusOK, &in, func(svc *incident.Service, id int64) (incident.Review, error) {
		return svc.SetReview(r.Context(), reqActor(r), id, in)
	})
}

func (s *Server) apiIncidentAddTask(w http.ResponseWriter, r *http.Request) error {
	var in incident.TaskInput
	return incidentAction(s, w, r, http.StatusCreated, &in, func(svc *incident.Service, id int64) (incident.Task, error) {
		return svc.AddTask(r.Context(), reqActor(r), id, in)
	})
}

func (s *Server) apiIncidentTaskDone(w http.ResponseWriter, r *http.Request) error {
	svc, inc, err := s.visibleIncident(r)
	if err != nil {
		return err
	}
	task, err := pathInt(r, "task")
	if err != nil {
		return err
	}
	var in taskDoneRequest
	if err := decodeOptionalJSON(r, &in); err != nil {
		return err
	}
	t, err := svc.SetTaskDone(r.Context(), reqActor(r), inc.ID, task, in.done())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, t)
}

// apiIncidentAttach answers POST /api/v1/incidents/{id}/attachments: an evidence file
// (the multipart field "file", or the raw body named by the query's name), checked by
// its content and hashed by the incidents.
func (s *Server) apiIncidentAttach(w http.ResponseWriter, r *http.Request) error {
	svc, inc, err := s.visibleIncident(r)
	if err != nil {
		return err
	}
	data, name, err := uploadedDocument(w, r, "file", "attachment_too_large", "attachment_required", maxAttachmentUpload)
	if err != nil {
		return err
	}
	if name == "" {
		name = r.URL.Query().Get("name")
	}
	att, err := svc.AddAttachment(r.Context(), reqActor(r), inc.ID, name, bytes.NewReader(data))
	if err != nil {
		return err
	}
	return created(w, idPath("/api/v1/incidents/"+strconv.FormatInt(inc.ID, 10)+"/attachments/", att.ID), att)
}

// apiIncidentAttachment answers GET /api/v1/incidents/{id}/attachments/{attachment}:
// the evidence file as a download, never rendered by the browser.
func (s *Server) apiIncidentAttachment(w http.ResponseWriter, r *http.Request) error {
	svc, inc, err := s.visibleIncident(r)
	if err != nil {
		return err
	}
	aid, err := pathInt(r, "attachment")
	if err != nil {
		return err
	}
	att, err := svc.Attachment(r.Context(), reqActor(r), inc.ID, aid)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", att.ContentType)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": att.Name}))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(att.Content)))
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(att.Content)
	return err
}

func (s *Server) apiIncidentChecklists(w http.ResponseWriter, r *http.Request) error {
	_, inc, err := s.visibleIncident(r)
	if err != nil {
		return err
	}
	pl, err := s.plans()
	if err != nil {
		return err
	}
	runs, err := pl.ChecklistOf(r.Context(), reqActor(r), inc.ID)
	if err != nil {
		return err
	}
	return writeList(w, r, paging.Standard, runs)
}

// apiIncidentChecklistStart answers POST /api/v1/incidents/{id}/checklists: the
// checklist of plan plan_id started for an incident the caller sees.
func (s *Server) apiIncidentChecklistStart(w http.ResponseWriter, r *http.Request) error {
	_, inc, err := s.visibleIncident(r)
	if err != nil {
		return err
	}
	pl, err := s.plans()
	if err != nil {
		return err
	}
	var in checklistStartRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if in.PlanID == 0 {
		return problem.Required("plan_id")
	}
	run, err := pl.StartPlanChecklist(r.Context(), reqActor(r), in.PlanID, inc.ID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, run)
}

// apiChecklistTick answers POST /api/v1/checklists/{id}/items/{item}.
func (s *Server) apiChecklistTick(w http.ResponseWriter, r *http.Request) error {
	pl, err := s.plans()
	if err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	item, err := pathInt(r, "item")
	if err != nil {
		return err
	}
	var in tickRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	run, err := pl.TickItem(r.Context(), reqActor(r), id, item, in.Done, in.Note)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, run)
}

func init() {
	apiDocs["GET /api/v1/incidents"] = apiOp{Summary: "The incidents the caller sees, newest detection first, with their reporting clocks " +
		"(report_due, overdue)", Tag: "incidents", Response: listResponse[incident.Incident]{}, Status: 200,
		Query: []string{"status", "level", "category", "overdue", "source_module", "source_id"}}
	opQueryDocs["GET /api/v1/incidents"] = map[string]qdoc{
		"status":        oneOf("State of the incident", incident.Statuses),
		"level":         oneOf("Level (GB/T 20986-2023)", incident.LevelIDs()),
		"category":      oneOf("Category (GB/T 20986-2023)", incident.CategoryIDs()),
		"overdue":       flag("Only incidents a clock of which passed its deadline unreported"),
		"source_module": oneOf("Only incidents opened from a record of this module", []string{incident.SourceAlert, incident.SourceCase}),
		"source_id":     str("The id of that record"),
	}
	apiDocs["POST /api/v1/incidents"] = apiOp{Summary: "Open an incident: category, level, detection time (the clock starts there), assets, " +
		"patients and data involved, operator type and regime (org_id defaults to the caller's organisation); with plan_id, under that " +
		"emergency plan, whose checklist starts with it", Tag: "incidents", Request: incidentOpenRequest{}, Response: openedIncident{}, Status: 201}
	apiDocs["GET /api/v1/incidents/categories"] = apiOp{Summary: "What a form needs: the categories and levels of GB/T 20986-2023, the states, " +
		"the operator types, the regimes and the reporting deadlines in force (minutes)", Tag: "incidents", Response: incidentChoices{}, Status: 200}
	apiDocs["GET /api/v1/incidents/{id}"] = apiOp{Summary: "An incident with its timeline, reports, attachments (metadata), review and tasks",
		Tag: "incidents", Response: incident.Incident{}, Status: 200}
	apiDocs["PUT /api/v1/incidents/{id}"] = apiOp{Summary: "Replace the description of an incident (not once closed)",
		Tag: "incidents", Request: incident.Details{}, Response: incident.Incident{}, Status: 200}
	apiDocs["POST /api/v1/incidents/{id}/level"] = apiOp{Summary: "Change the level of an incident, saying why; the running clock is computed again",
		Tag: "incidents", Request: incidentLevelRequest{}, Response: incident.Incident{}, Status: 200}
	apiDocs["POST /api/v1/incidents/{id}/status"] = apiOp{Summary: "Move an incident along open → contained → resolved → closed (or reopen it); " +
		"it is not closed while its reporting clock runs", Tag: "incidents", Request: incidentStatusRequest{}, Response: incident.Incident{}, Status: 200}
	apiDocs["POST /api/v1/incidents/{id}/notes"] = apiOp{Summary: "Add a note to an incident's timeline",
		Tag: "incidents", Request: incidentNoteRequest{}, Response: incident.Entry{}, Status: 201}
	apiDocs["POST /api/v1/incidents/{id}/reports"] = apiOp{Summary: "Record a report made to an authority, kept as evidence: the first stops the " +
		"reporting clock (and starts the pass-on clock of the levels that need it)", Tag: "incidents", Request: incident.ReportInput{},
		Response: incident.Report{}, Status: 201}
	apiDocs["POST /api/v1/incidents/{id}/attachments"] = apiOp{Summary: "Attach an evidence file (multipart field file, or the raw body named by " +
		"the query's name; at most 20 MiB): its type is checked by content — HTML, scripts, SVG, executables, macros and files whose name " +
		"disagrees with their content are refused — and its SHA-256 kept", Tag: "incidents", Body: "application/octet-stream",
		Response: incident.Attachment{}, Status: 201, Query: []string{"name"}}
	apiDocs["GET /api/v1/incidents/{id}/attachments/{attachment}"] = apiOp{Summary: "Download an evidence file (always as an attachment, " +
		"with its checked content type and nosniff)", Tag: "incidents", Status: 200, Produces: "application/octet-stream"}
	apiDocs["PUT /api/v1/incidents/{id}/review"] = apiOp{Summary: "Record or rewrite the post-incident review (root cause required; final once closed)",
		Tag: "incidents", Request: incident.ReviewInput{}, Response: incident.Review{}, Status: 200}
	apiDocs["POST /api/v1/incidents/{id}/tasks"] = apiOp{Summary: "Add a follow-up task to an incident",
		Tag: "incidents", Request: incident.TaskInput{}, Response: incident.Task{}, Status: 201}
	apiDocs["POST /api/v1/incidents/{id}/tasks/{task}/done"] = apiOp{Summary: "Mark a follow-up task done (done: false marks it not done again; no body: done)",
		Tag: "incidents", Request: taskDoneRequest{}, Response: incident.Task{}, Status: 200}
	apiDocs["GET /api/v1/incidents/{id}/checklists"] = apiOp{Summary: "The emergency-plan checklists run for an incident, in the order they started",
		Tag: "incidents", Response: listResponse[incident.ChecklistRun]{}, Status: 200}
	apiDocs["POST /api/v1/incidents/{id}/checklists"] = apiOp{Summary: "Start the checklist of an emergency plan for an incident (once per plan)",
		Tag: "incidents", Request: checklistStartRequest{}, Response: incident.ChecklistRun{}, Status: 201}
	apiDocs["POST /api/v1/checklists/{id}/items/{item}"] = apiOp{Summary: "Tick an item of a checklist done (or not done again), with an optional note",
		Tag: "incidents", Request: tickRequest{}, Response: incident.ChecklistRun{}, Status: 200}
}
