package web

import (
	"net/http"
	"strconv"

	"github.com/medguard/medguard/internal/policy"
	"github.com/medguard/medguard/internal/problem"
)

// roleBookData is an organisation's role book with the forms to appoint, change and
// remove holders.
type roleBookData struct {
	OrgID int64
	Orgs  []orgOption
	Book  policy.RoleBook
	Roles []string
	Edit  int64            // the holder whose form was refused (0: the new holder's)
	In    policy.RoleInput // what was typed in the refused form
}

func (s *Server) uiRoleBook(w http.ResponseWriter, r *http.Request) error {
	return s.showRoleBook(w, r, 0, policy.RoleInput{}, nil)
}

// showRoleBook renders the role book of the organisation the query (or form) names, the
// reader's own by default, with failed, the problem of the form of holder edit, at the top.
func (s *Server) showRoleBook(w http.ResponseWriter, r *http.Request, edit int64, in policy.RoleInput, failed error) error {
	svc, err := s.policies()
	if err != nil {
		return err
	}
	p := s.policyPage(r, w, "policy.roles.title")
	d := roleBookData{Roles: policy.Roles, Edit: edit, In: in, OrgID: in.OrgID}
	if d.OrgID == 0 {
		if d.OrgID, err = strconv.ParseInt(r.URL.Query().Get("org_id"), 10, 64); err != nil || d.OrgID <= 0 {
			d.OrgID = reqActor(r).OrgID
		}
	}
	if d.Orgs, err = s.hospitalOptions(r); err != nil {
		return err
	}
	if d.Book, err = svc.RoleBook(r.Context(), reqActor(r), d.OrgID); err != nil {
		return err
	}
	code, err := actionError(p, failed)
	if err != nil {
		return err
	}
	p.Data = d
	return s.render(w, code, "policy_roles.html", p)
}

// roleForm reads the form of a role holder.
func roleForm(r *http.Request) (policy.RoleInput, error) {
	in := policy.RoleInput{Role: r.PostFormValue("role"), Username: r.PostFormValue("username"), Person: r.PostFormValue("person"),
		Phone: r.PostFormValue("phone"), Responsibilities: r.PostFormValue("responsibilities")}
	var err error
	if in.OrgID, err = formID(r, "org_id"); err != nil {
		return in, err
	}
	in.AppointedAt, err = formDate(r, "appointed_at")
	return in, err
}

// roleBookPath is the role book of organisation orgID with flash, at holder id.
func roleBookPath(orgID int64, flash string, id int64) string {
	u := "/policies/roles?org_id=" + strconv.FormatInt(orgID, 10) + "&flash=" + flash
	if id != 0 {
		u += "#role-" + strconv.FormatInt(id, 10)
	}
	return u
}

func (s *Server) uiRoleCreate(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.policies()
	if err != nil {
		return err
	}
	in, err := roleForm(r)
	if err == nil {
		var ro policy.Role
		if ro, err = svc.SaveRole(r.Context(), reqActor(r), 0, in); err == nil {
			return redirect(w, r, roleBookPath(ro.OrgID, "flash.role.appointed", ro.ID))
		}
	}
	if _, ok := problem.As(err); !ok {
		return err
	}
	if in.OrgID == 0 {
		in.OrgID = reqActor(r).OrgID
	}
	return s.showRoleBook(w, r, 0, in, err)
}

// visibleRole reads role holder {id} as the reader sees it.
func (s *Server) visibleRole(r *http.Request) (*policy.Service, policy.Role, error) {
	svc, err := s.policies()
	if err != nil {
		return nil, policy.Role{}, err
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return nil, policy.Role{}, problem.NotFound("role")
	}
	ro, err := svc.Role(r.Context(), reqActor(r), id)
	return svc, ro, err
}

func (s *Server) uiRoleSave(w http.ResponseWriter, r *http.Request) error {
	svc, before, err := s.visibleRole(r)
	if err != nil {
		return err
	}
	in, err := roleForm(r)
	in.OrgID = before.OrgID
	if err == nil {
		if _, err = svc.SaveRole(r.Context(), reqActor(r), before.ID, in); err == nil {
			return redirect(w, r, roleBookPath(before.OrgID, "flash.role.saved", before.ID))
		}
	}
	if _, ok := problem.As(err); !ok {
		return err
	}
	return s.showRoleBook(w, r, before.ID, in, err)
}

func (s *Server) uiRoleRemove(w http.ResponseWriter, r *http.Request) error {
	svc, before, err := s.visibleRole(r)
	if err != nil {
		return err
	}
	if err := svc.RemoveRole(r.Context(), reqActor(r), before.ID); err != nil {
		return err
	}
	return redirect(w, r, roleBookPath(before.OrgID, "flash.role.removed", 0))
}

// RoleNames are the names of role ids in the page's language, joined by "、".
func (p *page) RoleNames(ids []string) string {
	out := ""
	for i, id := range ids {
		if i > 0 {
			out += p.T("policy.ui.list_sep")
		}
		out += p.T("policy.role." + id)
	}
	return out
}
