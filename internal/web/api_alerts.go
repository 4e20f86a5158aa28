package web

import (
	"net/http"

	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/paging"
)

// The alert inbox of every module: alerts, cases and silences (package alert).

// Request bodies of the alert API that are not domain inputs.
type (
	alertIDsRequest struct {
		IDs []int64 `json:"ids"`
	}
	alertStatusRequest struct {
		IDs []int64 `json:"ids"`
		alert.Change
	}
	alertAssignRequest struct {
		IDs      []int64 `json:"ids"`
		Assignee string  `json:"assignee"`
	}
	assigneeRequest struct {
		Assignee string `json:"assignee"`
	}
	commentRequest struct {
		Body string `json:"body"`
	}
	alertCountsResponse struct {
		BySeverity []alert.Count `json:"by_severity"`
		BySource   []alert.Count `json:"by_source"`
	}
	slaRequest struct {
		Hours map[string]int `json:"hours"`
	}
	slaResponse struct {
		OrgID int64          `json:"org_id"`
		Hours map[string]int `json:"hours"`
	}
)

var alertQuery = []string{"source", "kind", "severity", "status", "case_id", "silenced", "overdue"}

func (s *Server) apiAlertsList(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	p, err := pageParams(r, paging.Standard)
	if err != nil {
		return err
	}
	f := alert.Filter{Source: q.Get("source"), Kind: q.Get("kind"), Severity: q.Get("severity"), Status: q.Get("status"),
		Limit: p.Limit, Offset: p.Offset}
	if f.CaseID, err = queryID(r, "case_id"); err != nil {
		return err
	}
	if q.Get("silenced") != "" {
		b, err := queryBool(r, "silenced")
		if err != nil {
			return err
		}
		f.Silenced = &b
	}
	if f.Overdue, err = queryBool(r, "overdue"); err != nil {
		return err
	}
	as, total, err := s.Alerts.List(r.Context(), reqActor(r), f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, paging.Page(r.URL, p, as, total))
}

func (s *Server) apiAlertsCounts(w http.ResponseWriter, r *http.Request) error {
	sev, src, err := s.Alerts.Counts(r.Context(), reqActor(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, alertCountsResponse{BySeverity: sev, BySource: src})
}

func (s *Server) apiAlertsGet(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	al, err := s.Alerts.Get(r.Context(), reqActor(r), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, al)
}

func (s *Server) apiAlertsAck(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	al, err := s.Alerts.Acknowledge(r.Context(), reqActor(r), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, al)
}

func (s *Server) apiAlertsStatus(w http.ResponseWriter, r *http.Request) error {
	var in alertStatusRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	as, err := s.Alerts.SetStatus(r.Context(), reqActor(r), in.IDs, in.Change)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, as)
}

func (s *Server) apiAlertsAssign(w http.ResponseWriter, r *http.Request) error {
	var in alertAssignRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	as, err := s.Alerts.Assign(r.Context(), reqActor(r), in.IDs, in.Assignee)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, as)
}

func (s *Server) apiCaseList(w http.ResponseWriter, r *http.Request) error {
	p, err := pageParams(r, paging.Standard)
	if err != nil {
		return err
	}
	q := alert.CaseQuery{Status: r.URL.Query().Get("status"), Assignee: r.URL.Query().Get("assignee"), Limit: p.Limit,
		Offset: p.Offset}
	if q.Overdue, err = queryBool(r, "overdue"); err != nil {
		return err
	}
	cs, total, err := s.Alerts.Cases(r.Context(), reqActor(r), q)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, paging.Page(r.URL, p, cs, total))
}

func (s *Server) apiCaseCreate(w http.ResponseWriter, r *http.Request) error {
	var in alert.CaseInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if in.OrgID == 0 {
		in.OrgID = principalFrom(r.Context()).User.OrgID
	}
	c, err := s.Alerts.CreateCase(r.Context(), reqActor(r), in)
	if err != nil {
		return err
	}
	return created(w, idPath("/api/v1/cases/", c.ID), c)
}

func (s *Server) apiCaseGet(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	c, err := s.Alerts.Case(r.Context(), reqActor(r), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, c)
}

func (s *Server) apiCaseAddAlerts(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in alertIDsRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	c, err := s.Alerts.AddToCase(r.Context(), reqActor(r), id, in.IDs)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, c)
}

func (s *Server) apiCaseStatus(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in alert.Change
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	c, err := s.Alerts.SetCaseStatus(r.Context(), reqActor(r), id, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, c)
}

func (s *Server) apiCaseAssign(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in assigneeRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	c, err := s.Alerts.AssignCase(r.Context(), reqActor(r), id, in.Assignee)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, c)
}

func (s *Server) apiCaseComment(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in commentRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	c, err := s.Alerts.CommentCase(r.Context(), reqActor(r), id, in.Body)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, c)
}

func (s *Server) apiSilenceList(w http.ResponseWriter, r *http.Request) error {
	p, err := pageParams(r, paging.Standard)
	if err != nil {
		return err
	}
	q := alert.SilenceQuery{Limit: p.Limit, Offset: p.Offset}
	if q.Active, err = queryBool(r, "active"); err != nil {
		return err
	}
	if q.Unused, err = queryBool(r, "unused"); err != nil {
		return err
	}
	ss, total, err := s.Alerts.Silences(r.Context(), reqActor(r), q)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, paging.Page(r.URL, p, ss, total))
}

func (s *Server) apiSilenceCreate(w http.ResponseWriter, r *http.Request) error {
	var in alert.SilenceInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if in.OrgID == 0 {
		in.OrgID = principalFrom(r.Context()).User.OrgID
	}
	sl, err := s.Alerts.CreateSilence(r.Context(), reqActor(r), in)
	if err != nil {
		return err
	}
	return created(w, idPath("/api/v1/silences/", sl.ID), sl)
}

func (s *Server) apiSilenceGet(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	sl, err := s.Alerts.Silence(r.Context(), reqActor(r), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, sl)
}

func (s *Server) apiSilenceExpire(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	sl, err := s.Alerts.ExpireSilence(r.Context(), reqActor(r), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, sl)
}

func (s *Server) apiAlertSLAGet(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	h, err := s.Alerts.SLA(r.Context(), reqActor(r), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, slaResponse{OrgID: id, Hours: h})
}

func (s *Server) apiAlertSLASet(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in slaRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	h, err := s.Alerts.SetSLA(r.Context(), reqActor(r), id, in.Hours)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, slaResponse{OrgID: id, Hours: h})
}
