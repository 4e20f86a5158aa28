package web

import (
	"net/http"
	"strconv"

	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/problem"
)

// slaData is the alert SLA page: the hours to resolve by severity in force at one
// organisation (its own, else inherited from above, else the defaults).
type slaData struct {
	OrgID      int64
	Orgs       []org.Node
	Severities []string
	Hours      map[string]int
}

// uiAlertSLA shows the SLA in force at the organisation of ?org_id (the reader's own by
// default).
func (s *Server) uiAlertSLA(w http.ResponseWriter, r *http.Request) error {
	return s.showSLA(w, r, 0, nil)
}

func (s *Server) showSLA(w http.ResponseWriter, r *http.Request, orgID int64, failed error) error {
	ctx, a := r.Context(), reqActor(r)
	p := s.alertPage(r, w, "alert.sla.title", "sla")
	if orgID == 0 {
		id, err := queryInt(r, "org_id", 0)
		if err != nil {
			return err
		}
		orgID = int64(id)
	}
	if orgID == 0 {
		orgID = principalFrom(ctx).User.OrgID
	}
	hours, err := s.Alerts.SLA(ctx, a, orgID)
	if err != nil {
		return err
	}
	d := slaData{OrgID: orgID, Severities: alert.Severities, Hours: hours}
	if d.Orgs, err = s.Orgs.List(ctx, a); err != nil {
		return err
	}
	code, err := actionError(p, failed)
	if err != nil {
		return err
	}
	p.Data = d
	return s.render(w, code, "alert_sla.html", p)
}

// uiAlertSLASet sets the hours of the severities the form names for one organisation.
func (s *Server) uiAlertSLASet(w http.ResponseWriter, r *http.Request) error {
	orgID, err := formID(r, "org_id")
	if err != nil {
		return err
	}
	if orgID == 0 {
		orgID = principalFrom(r.Context()).User.OrgID
	}
	hours := map[string]int{}
	for _, sev := range alert.Severities {
		v := r.PostFormValue("hours_" + sev)
		if v == "" {
			continue
		}
		h, err := strconv.Atoi(v)
		if err != nil {
			return s.showSLA(w, r, orgID, problem.Invalid("hours_"+sev, "hours must be a whole number").WithMsg("alert.error.sla_hours_number"))
		}
		hours[sev] = h
	}
	if _, err := s.Alerts.SetSLA(r.Context(), reqActor(r), orgID, hours); err != nil {
		if _, ok := problem.As(err); ok && problem.KindOf(err) == problem.KindInvalid {
			return s.showSLA(w, r, orgID, err)
		}
		return err
	}
	return redirect(w, r, "/alerts/sla?org_id="+strconv.FormatInt(orgID, 10)+"&flash=flash.alert.sla_set")
}
