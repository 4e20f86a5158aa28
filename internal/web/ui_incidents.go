package web

import (
	"bytes"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/incident"
	"github.com/medguard/medguard/internal/problem"
)

// incidentServices returns the incidents and the plans, or 404 when the server has none.
func (s *Server) incidentServices() (*incident.Service, *incident.Plans, error) {
	svc, err := s.incidents()
	if err != nil {
		return nil, nil, err
	}
	plans, err := s.plans()
	return svc, plans, err
}

// incidentListData is the incidents' page.
type incidentListData struct {
	Status, Level string
	Overdue       bool
	Statuses      []string
	Levels        []incident.Level
	Incidents     []incident.Incident
	Now           time.Time
}

func (s *Server) uiIncidentList(w http.ResponseWriter, r *http.Request) error {
	svc, _, err := s.incidentServices()
	if err != nil {
		return err
	}
	p := s.newPage(r, w, "incident.list.title", "risks")
	q := r.URL.Query()
	d := incidentListData{Status: q.Get("status"), Level: q.Get("level"), Overdue: q.Get("overdue") == "1",
		Statuses: incident.Statuses, Levels: incident.Levels, Now: time.Now()}
	d.Incidents, err = svc.Incidents(r.Context(), reqActor(r), incident.Query{Status: d.Status, Level: d.Level, Overdue: d.Overdue})
	code, err := actionError(p, err)
	if err != nil {
		return err
	}
	p.Data = d
	return s.render(w, code, "incidents.html", p)
}

// clockView is the state of an incident's running clock as the page shows it.
type clockView struct {
	Stage   string // report or pass_on
	Due     time.Time
	Left    time.Duration
	Warning bool // within the regime's warning time
	Overdue bool
}

// incidentShowData is one incident's page.
type incidentShowData struct {
	Incident   incident.Incident
	Clock      *clockView
	Checklists []incident.ChecklistRun
	Plans      []incident.Plan // plans whose checklist may be started for it
	Statuses   []string
	Levels     []incident.Level
	Now        time.Time
}

func (s *Server) uiIncidentShow(w http.ResponseWriter, r *http.Request) error {
	return s.showIncident(w, r, nil)
}

// showIncident renders incident {id} with failed (the problem of an action) at the top.
func (s *Server) showIncident(w http.ResponseWriter, r *http.Request, failed error) error {
	svc, in, err := s.visibleIncident(r)
	if err != nil {
		return err
	}
	plans, err := s.plans()
	if err != nil {
		return err
	}
	ctx, a, id := r.Context(), reqActor(r), in.ID
	p := s.newPage(r, w, "incident.show.title", "risks")
	code, err := actionError(p, failed)
	if err != nil {
		return err
	}
	now := time.Now()
	d := incidentShowData{Incident: in, Statuses: incident.Statuses, Levels: incident.Levels, Now: now}
	warn := svc.Clocks().WarnBefore(in.Regime)
	switch {
	case in.ReportDue != nil && in.ReportedAt == nil:
		d.Clock = &clockView{Stage: incident.StageReport, Due: *in.ReportDue}
	case in.PassOnDue != nil && in.PassedOnAt == nil:
		d.Clock = &clockView{Stage: incident.StagePassOn, Due: *in.PassOnDue}
	}
	if c := d.Clock; c != nil {
		c.Left = c.Due.Sub(now)
		c.Overdue = c.Left <= 0
		c.Warning = !c.Overdue && c.Left <= warn
	}
	if d.Checklists, err = plans.ChecklistOf(ctx, a, id); err != nil {
		return err
	}
	if d.Plans, err = plans.Plans(ctx, a, incident.PlanQuery{}); err != nil {
		return err
	}
	p.Data = d
	return s.render(w, code, "incident.html", p)
}

// uiIncidentAction runs do on incident {id}, which the reader must see, and returns to
// the incident with flash, or shows it with the problem.
func (s *Server) uiIncidentAction(w http.ResponseWriter, r *http.Request, flash string, do func(svc *incident.Service, plans *incident.Plans, id int64) error) error {
	svc, in, err := s.visibleIncident(r)
	if err != nil {
		return err
	}
	plans, err := s.plans()
	if err != nil {
		return err
	}
	id := in.ID
	if err := do(svc, plans, id); err != nil {
		if _, ok := problem.As(err); !ok {
			return err
		}
		return s.showIncident(w, r, err)
	}
	return redirect(w, r, idPath("/incidents/", id)+"?flash="+flash)
}

func (s *Server) uiIncidentStatus(w http.ResponseWriter, r *http.Request) error {
	return s.uiIncidentAction(w, r, "flash.incident.status", func(svc *incident.Service, _ *incident.Plans, id int64) error {
		_, err := svc.SetStatus(r.Context(), reqActor(r), id, r.PostFormValue("status"), r.PostFormValue("note"))
		return err
	})
}

func (s *Server) uiIncidentLevel(w http.ResponseWriter, r *http.Request) error {
	return s.uiIncidentAction(w, r, "flash.incident.level", func(svc *incident.Service, _ *incident.Plans, id int64) error {
		_, err := svc.SetLevel(r.Context(), reqActor(r), id, r.PostFormValue("level"), r.PostFormValue("reason"))
		return err
	})
}

func (s *Server) uiIncidentNote(w http.ResponseWriter, r *http.Request) error {
	return s.uiIncidentAction(w, r, "flash.incident.note", func(svc *incident.Service, _ *incident.Plans, id int64) error {
		_, err := svc.AddNote(r.Context(), reqActor(r), id, r.PostFormValue("text"))
		return err
	})
}

func (s *Server) uiIncidentReport(w http.ResponseWriter, r *http.Request) error {
	return s.uiIncidentAction(w, r, "flash.incident.reported", func(svc *incident.Service, _ *incident.Plans, id int64) error {
		in := incident.ReportInput{To: r.PostFormValue("to"), Reference: r.PostFormValue("reference"), Text: r.PostFormValue("text")}
		if v := strings.TrimSpace(r.PostFormValue("at")); v != "" {
			t, err := time.ParseInLocation("2006-01-02T15:04", v, time.Local)
			if err != nil {
				return problem.Invalid("at", "is not a date and time").WithMsg("incident.error.at")
			}
			in.At = t
		}
		_, err := svc.RecordReport(r.Context(), reqActor(r), id, in)
		return err
	})
}

func (s *Server) uiIncidentChecklist(w http.ResponseWriter, r *http.Request) error {
	return s.uiIncidentAction(w, r, "flash.incident.checklist", func(_ *incident.Service, plans *incident.Plans, id int64) error {
		plan, err := strconv.ParseInt(r.PostFormValue("plan_id"), 10, 64)
		if err != nil {
			return problem.Invalid("plan_id", "choose a plan").WithMsg("incident.error.plan")
		}
		_, err = plans.StartPlanChecklist(r.Context(), reqActor(r), plan, id)
		return err
	})
}

// uiChecklistTick ticks (or unticks) an item of a checklist run of incident {id}.
func (s *Server) uiChecklistTick(w http.ResponseWriter, r *http.Request) error {
	return s.uiIncidentAction(w, r, "flash.incident.ticked", func(_ *incident.Service, plans *incident.Plans, id int64) error {
		run, err1 := strconv.ParseInt(r.PathValue("run"), 10, 64)
		item, err2 := strconv.ParseInt(r.PathValue("item"), 10, 64)
		if err1 != nil || err2 != nil {
			return problem.NotFound("checklist item")
		}
		runs, err := plans.ChecklistOf(r.Context(), reqActor(r), id)
		if err != nil {
			return err
		}
		found := false
		for _, ru := range runs {
			found = found || ru.ID == run
		}
		if !found {
			return problem.NotFound("checklist")
		}
		_, err = plans.TickItem(r.Context(), reqActor(r), run, item, r.PostFormValue("done") != "false", r.PostFormValue("note"))
		return err
	})
}

// incidentForm is the form that opens an incident, under a plan or not.
type incidentForm struct {
	In         incident.Input
	Detected   string // as typed (datetime-local)
	PlanID     int64
	Plans      []incident.Plan
	Orgs       []orgOption
	Categories []incident.Category
	Levels     []incident.Level
}

func (s *Server) incidentFormData(r *http.Request, f *incidentForm) error {
	_, plans, err := s.incidentServices()
	if err != nil {
		return err
	}
	f.Categories, f.Levels = incident.Categories, incident.Levels
	if f.Plans, err = plans.Plans(r.Context(), reqActor(r), incident.PlanQuery{}); err != nil {
		return err
	}
	f.Orgs, err = s.hospitalOptions(r)
	return err
}

func (s *Server) uiIncidentNew(w http.ResponseWriter, r *http.Request) error {
	p := s.newPage(r, w, "incident.new.title", "risks")
	f := incidentForm{In: incident.Input{Level: incident.LevelGeneral}, Detected: time.Now().Format("2006-01-02T15:04")}
	if v, err := strconv.ParseInt(r.URL.Query().Get("plan"), 10, 64); err == nil {
		f.PlanID = v
	}
	if m, id := r.URL.Query().Get("source"), r.URL.Query().Get("source_id"); (m == incident.SourceAlert || m == incident.SourceCase) && id != "" {
		f.In.SourceModule, f.In.SourceID = m, id
	}
	if err := s.incidentFormData(r, &f); err != nil {
		return err
	}
	if f.PlanID != 0 {
		for _, pl := range f.Plans {
			if pl.ID == f.PlanID {
				f.In.OrgID = pl.OrgID
			}
		}
	}
	p.Data = f
	return s.render(w, http.StatusOK, "incident_new.html", p)
}

func (s *Server) uiIncidentCreate(w http.ResponseWriter, r *http.Request) error {
	svc, plans, err := s.incidentServices()
	if err != nil {
		return err
	}
	f := incidentForm{Detected: r.PostFormValue("detected_at")}
	f.In.OrgID, _ = strconv.ParseInt(r.PostFormValue("org_id"), 10, 64)
	f.PlanID, _ = strconv.ParseInt(r.PostFormValue("plan_id"), 10, 64)
	f.In.Title, f.In.Description = r.PostFormValue("title"), r.PostFormValue("description")
	f.In.Category, f.In.Level = r.PostFormValue("category"), r.PostFormValue("level")
	f.In.SourceModule, f.In.SourceID = r.PostFormValue("source_module"), r.PostFormValue("source_id")
	if n, err := strconv.ParseInt(strings.TrimSpace(r.PostFormValue("patients_affected")), 10, 64); err == nil {
		f.In.PatientsAffected = n
	}
	err = func() error {
		if f.Detected != "" {
			t, err := time.ParseInLocation("2006-01-02T15:04", f.Detected, time.Local)
			if err != nil {
				return problem.Invalid("detected_at", "is not a date and time").WithMsg("incident.error.at")
			}
			f.In.DetectedAt = t
		}
		var in incident.Incident
		var err error
		if f.PlanID != 0 {
			in, _, err = incident.OpenFromPlan(r.Context(), svc, plans, reqActor(r), f.In, f.PlanID)
			if err != nil && in.ID != 0 {
				return redirect(w, r, idPath("/incidents/", in.ID)+"?flash=flash.incident.opened")
			}
		} else {
			in, err = svc.Open(r.Context(), reqActor(r), f.In)
		}
		if err != nil {
			return err
		}
		return redirect(w, r, idPath("/incidents/", in.ID)+"?flash=flash.incident.opened")
	}()
	if err == nil {
		return nil
	}
	if _, ok := problem.As(err); !ok {
		return err
	}
	p := s.newPage(r, w, "incident.new.title", "risks")
	code, err := actionError(p, err)
	if err != nil {
		return err
	}
	if err := s.incidentFormData(r, &f); err != nil {
		return err
	}
	p.Data = f
	return s.render(w, code, "incident_new.html", p)
}

// planListData is the emergency plans' page: the hospital's plans and the templates it
// may adopt.
type planListData struct {
	Plans     []incident.Plan
	Templates []incident.Template
	Orgs      []orgOption
}

func (s *Server) uiPlanList(w http.ResponseWriter, r *http.Request) error {
	_, plans, err := s.incidentServices()
	if err != nil {
		return err
	}
	return s.showPlans(w, r, plans, nil)
}

func (s *Server) showPlans(w http.ResponseWriter, r *http.Request, plans *incident.Plans, failed error) error {
	p := s.newPage(r, w, "plan.list.title", "risks")
	code, err := actionError(p, failed)
	if err != nil {
		return err
	}
	d := planListData{Templates: plans.Templates()}
	if d.Plans, err = plans.Plans(r.Context(), reqActor(r), incident.PlanQuery{}); err != nil {
		return err
	}
	if d.Orgs, err = s.hospitalOptions(r); err != nil {
		return err
	}
	p.Data = d
	return s.render(w, code, "plans.html", p)
}

func (s *Server) uiPlanAdopt(w http.ResponseWriter, r *http.Request) error {
	_, plans, err := s.incidentServices()
	if err != nil {
		return err
	}
	org, _ := strconv.ParseInt(r.PostFormValue("org_id"), 10, 64)
	pl, err := plans.AdoptTemplate(r.Context(), reqActor(r), org, r.PostFormValue("template_id"))
	if err != nil {
		if _, ok := problem.As(err); !ok {
			return err
		}
		return s.showPlans(w, r, plans, err)
	}
	return redirect(w, r, idPath("/plans/", pl.ID)+"?flash=flash.plan.adopted")
}

// planShowData is one plan's page: its content, its drills and the way to open an
// incident under it.
type planShowData struct {
	Plan   incident.Plan
	Drills []incident.Drill
}

func (s *Server) uiPlanShow(w http.ResponseWriter, r *http.Request) error {
	return s.showPlan(w, r, nil)
}

func (s *Server) showPlan(w http.ResponseWriter, r *http.Request, failed error) error {
	plans, pl, err := s.visiblePlan(r)
	if err != nil {
		return err
	}
	id := pl.ID
	p := s.newPage(r, w, "plan.show.title", "risks")
	code, err := actionError(p, failed)
	if err != nil {
		return err
	}
	d := planShowData{Plan: pl}
	if d.Drills, err = plans.Drills(r.Context(), reqActor(r), incident.DrillQuery{PlanID: id}); err != nil {
		return err
	}
	p.Data = d
	return s.render(w, code, "plan.html", p)
}

func (s *Server) uiPlanApprove(w http.ResponseWriter, r *http.Request) error {
	plans, pl, err := s.visiblePlan(r)
	if err != nil {
		return err
	}
	id := pl.ID
	version, _ := strconv.Atoi(r.PostFormValue("version"))
	if _, err := plans.ApprovePlan(r.Context(), reqActor(r), id, version); err != nil {
		if _, ok := problem.As(err); !ok {
			return err
		}
		return s.showPlan(w, r, err)
	}
	return redirect(w, r, idPath("/plans/", id)+"?flash=flash.plan.approved")
}

// PlanText is a plan's text in the page's language (the other language when it has
// only that one).
func (p *page) PlanText(t incident.Text) string { return t.In(p.Lang) }

// IncidentLevel is an incident level's name in the page's language.
func (p *page) IncidentLevel(id string) string { return p.T("incident.level." + id) }

// IncidentCategory is a GB/T 20986-2023 category's name in the page's language.
func (p *page) IncidentCategory(id string) string { return p.T("incident.category." + id) }

// EntryText is a timeline entry's text in the page's language.
func (p *page) EntryText(e incident.Entry) string { return p.Msg(e.TextMsg, e.Text) }

// Duration says d in hours and minutes (days for long ones).
func (p *page) Duration(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	switch {
	case d >= 48*time.Hour:
		return p.T("time.days", int(d/(24*time.Hour)))
	case d >= time.Hour:
		return p.T("time.hours_minutes", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
	return p.T("time.minutes", int(d/time.Minute))
}

// Secs says a drill's timing (seconds from its start) as Duration does; "" for none.
func (p *page) Secs(s *int64) string {
	if s == nil {
		return ""
	}
	return p.Duration(time.Duration(*s) * time.Second)
}

// maxEvidenceUpload is the largest evidence file a page or the API accepts (the
// incident service's default limit).
const maxEvidenceUpload = 20 << 20

func (s *Server) uiIncidentAttach(w http.ResponseWriter, r *http.Request) error {
	return s.uiIncidentAction(w, r, "flash.incident.attached", func(svc *incident.Service, _ *incident.Plans, id int64) error {
		data, name, err := uploadedDocument(w, r, "file", "file_too_large", "file_required", maxEvidenceUpload)
		if err != nil {
			return err
		}
		_, err = svc.AddAttachment(r.Context(), reqActor(r), id, name, bytes.NewReader(data))
		return err
	})
}

// uiIncidentAttachment serves an evidence file of incident {id} as a download, never
// inline: Content-Disposition attachment, the service's safe type, nosniff.
func (s *Server) uiIncidentAttachment(w http.ResponseWriter, r *http.Request) error {
	svc, in, err := s.visibleIncident(r)
	if err != nil {
		return err
	}
	id := in.ID
	att, err := strconv.ParseInt(r.PathValue("attachment"), 10, 64)
	if err != nil {
		return problem.NotFound("attachment")
	}
	a, err := svc.Attachment(r.Context(), reqActor(r), id, att)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", a.ContentType)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": a.Name}))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(a.Content)))
	_, err = w.Write(a.Content)
	return err
}

// uiPlanDrill records a drill of plan {id} from its page: when, the kind, the scenario,
// who took part, the timings in minutes from the start, the findings and one
// improvement task.
func (s *Server) uiPlanDrill(w http.ResponseWriter, r *http.Request) error {
	plans, pl, err := s.visiblePlan(r)
	if err != nil {
		return err
	}
	id := pl.ID
	err = func() error {
		in := incident.DrillInput{Kind: r.PostFormValue("kind"), Scenario: r.PostFormValue("scenario"), Findings: r.PostFormValue("findings")}
		held, err := time.ParseInLocation("2006-01-02T15:04", r.PostFormValue("held_on"), time.Local)
		if err != nil {
			return problem.Invalid("held_on", "is not a date and time").WithMsg("incident.error.at")
		}
		in.HeldOn = held
		for _, p := range strings.Split(r.PostFormValue("participants"), ",") {
			if p = strings.TrimSpace(p); p != "" {
				in.Participants = append(in.Participants, p)
			}
		}
		at := func(field string) (*time.Time, error) {
			v := strings.TrimSpace(r.PostFormValue(field))
			if v == "" {
				return nil, nil
			}
			m, err := strconv.Atoi(v)
			if err != nil || m < 0 {
				return nil, problem.Invalid(field, "minutes from the start").WithMsg("plan.error.minutes")
			}
			t := held.Add(time.Duration(m) * time.Minute)
			return &t, nil
		}
		in.StartedAt = &held
		if in.DetectedAt, err = at("detected_min"); err != nil {
			return err
		}
		if in.ContainedAt, err = at("contained_min"); err != nil {
			return err
		}
		if in.RecoveredAt, err = at("recovered_min"); err != nil {
			return err
		}
		if t := strings.TrimSpace(r.PostFormValue("task")); t != "" {
			due, err := time.ParseInLocation(time.DateOnly, r.PostFormValue("task_due"), time.Local)
			if err != nil {
				return problem.NotDate("task_due")
			}
			in.Tasks = []incident.DrillTaskInput{{Title: t, Assignee: r.PostFormValue("task_assignee"), Due: due}}
		}
		_, err = plans.RecordDrill(r.Context(), reqActor(r), id, in)
		return err
	}()
	if err != nil {
		if _, ok := problem.As(err); !ok {
			return err
		}
		return s.showPlan(w, r, err)
	}
	return redirect(w, r, idPath("/plans/", id)+"?flash=flash.plan.drilled#plan-drills")
}

// uiDrillTaskDone closes (or opens again) an improvement task of a drill of plan {id}.
func (s *Server) uiDrillTaskDone(w http.ResponseWriter, r *http.Request) error {
	plans, pl, err := s.visiblePlan(r)
	if err != nil {
		return err
	}
	id := pl.ID
	task, err := strconv.ParseInt(r.PathValue("task"), 10, 64)
	if err != nil {
		return problem.NotFound("task")
	}
	drills, err := plans.Drills(r.Context(), reqActor(r), incident.DrillQuery{PlanID: id})
	if err != nil {
		return err
	}
	found := false
	for _, d := range drills {
		for _, t := range d.Tasks {
			found = found || t.ID == task
		}
	}
	if !found {
		return problem.NotFound("task")
	}
	if _, err := plans.CloseTask(r.Context(), reqActor(r), task, r.PostFormValue("done") != "false"); err != nil {
		if _, ok := problem.As(err); !ok {
			return err
		}
		return s.showPlan(w, r, err)
	}
	return redirect(w, r, idPath("/plans/", id)+"?flash=flash.plan.task#plan-drills")
}

// DrillKinds are the kinds of drill, in the order the form offers them.
func (p *page) DrillKinds() []string { return incident.DrillKinds }

func (s *Server) uiIncidentReview(w http.ResponseWriter, r *http.Request) error {
	return s.uiIncidentAction(w, r, "flash.incident.reviewed", func(svc *incident.Service, _ *incident.Plans, id int64) error {
		_, err := svc.SetReview(r.Context(), reqActor(r), id, incident.ReviewInput{RootCause: r.PostFormValue("root_cause"),
			Lessons: r.PostFormValue("lessons")})
		return err
	})
}

func (s *Server) uiIncidentTask(w http.ResponseWriter, r *http.Request) error {
	return s.uiIncidentAction(w, r, "flash.incident.task", func(svc *incident.Service, _ *incident.Plans, id int64) error {
		in := incident.TaskInput{Title: r.PostFormValue("title"), Assignee: r.PostFormValue("assignee")}
		if v := r.PostFormValue("due"); v != "" {
			due, err := time.ParseInLocation(time.DateOnly, v, time.Local)
			if err != nil {
				return problem.NotDate("due")
			}
			in.Due = &due
		}
		_, err := svc.AddTask(r.Context(), reqActor(r), id, in)
		return err
	})
}

func (s *Server) uiIncidentTaskDone(w http.ResponseWriter, r *http.Request) error {
	return s.uiIncidentAction(w, r, "flash.incident.task", func(svc *incident.Service, _ *incident.Plans, id int64) error {
		task, err := strconv.ParseInt(r.PathValue("task"), 10, 64)
		if err != nil {
			return problem.NotFound("task")
		}
		_, err = svc.SetTaskDone(r.Context(), reqActor(r), id, task, r.PostFormValue("done") != "false")
		return err
	})
}

// IncidentsOf lists the incidents opened from a record (an alert or a case), for the
// back-link its page shows (nil when the reader may not read incidents).
func (p *page) IncidentsOf(ref sourceRef) []incident.Incident {
	s := p.s
	if s.Incidents == nil || p.req == nil || !p.Can("incident.read") {
		return nil
	}
	is, err := s.Incidents.IncidentsOf(p.req.Context(), reqActor(p.req), ref.Module, strconv.FormatInt(ref.ID, 10))
	if err != nil {
		s.Logger.Error("incidents of a record", "module", ref.Module, "id", ref.ID, "err", err)
		return nil
	}
	return is
}

// uiPlanPeople names who holds each role of plan {id}, in the order to call them: one
// line a person per role ("name, phone"), saved as a new version of the plan.
func (s *Server) uiPlanPeople(w http.ResponseWriter, r *http.Request) error {
	plans, pl, err := s.visiblePlan(r)
	if err != nil {
		return err
	}
	id := pl.ID
	c := pl.Content
	c.Roles = slices.Clone(c.Roles)
	for i := range c.Roles {
		var people []incident.Person
		for _, line := range strings.Split(r.PostFormValue("people_"+c.Roles[i].ID), "\n") {
			name, phone, _ := strings.Cut(line, ",")
			if name, phone = strings.TrimSpace(name), strings.TrimSpace(phone); name != "" {
				people = append(people, incident.Person{Name: name, Phone: phone})
			}
		}
		c.Roles[i].People = people
	}
	version, _ := strconv.Atoi(r.PostFormValue("version"))
	if _, err := plans.UpdatePlan(r.Context(), reqActor(r), id, incident.PlanUpdate{Version: version, Content: c}); err != nil {
		if _, ok := problem.As(err); !ok {
			return err
		}
		return s.showPlan(w, r, err)
	}
	return redirect(w, r, idPath("/plans/", id)+"?flash=flash.plan.people")
}

// PeopleLines are a role's people as the form edits them: "name, phone" a line.
func (p *page) PeopleLines(role incident.Role) string {
	var lines []string
	for _, x := range role.People {
		n := x.Name
		if n == "" {
			n = x.Username
		}
		if x.Phone != "" {
			n += ", " + x.Phone
		}
		lines = append(lines, n)
	}
	return strings.Join(lines, "\n")
}
