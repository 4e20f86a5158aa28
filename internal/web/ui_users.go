package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/medguard/medguard/internal/auth"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/problem"
)

// pager is the pagination state the "pager" template shows.
type pager struct {
	Page, Pages, Total, PerPage int
}

func newPager(page, perPage, total int) pager {
	if perPage <= 0 {
		perPage = 50
	}
	pages := (total + perPage - 1) / perPage
	if pages == 0 {
		pages = 1
	}
	return pager{Page: page, Pages: pages, Total: total, PerPage: perPage}
}

type userListData struct {
	pager
	Users []auth.User
	Roles []string
	Q     string
	Role  string
}

func (s *Server) uiUserList(w http.ResponseWriter, r *http.Request) error {
	p := principalFrom(r.Context())
	page, err := queryInt(r, "page", 1)
	if err != nil {
		return err
	}
	q := auth.UserQuery{Q: r.URL.Query().Get("q"), Role: r.URL.Query().Get("role"), Page: page, PerPage: 50}
	users, total, err := s.Auth.Users(r.Context(), p.actor(r), q)
	if err != nil {
		return err
	}
	pg := s.newPage(r, w, "user.list.title", "users")
	pg.Data = userListData{pager: newPager(max(page, 1), 50, total), Users: users, Roles: auth.Roles, Q: q.Q, Role: q.Role}
	return s.render(w, http.StatusOK, "users.html", pg)
}

type userFormData struct {
	User  auth.User
	Orgs  []org.Node
	Roles []string
	New   bool
}

func (s *Server) userForm(w http.ResponseWriter, r *http.Request, code int, pe *problem.Error, d userFormData) error {
	ctx := r.Context()
	p := principalFrom(ctx)
	orgs, err := s.Orgs.List(ctx, p.actor(r))
	if err != nil {
		return err
	}
	d.Orgs, d.Roles = orgs, auth.Roles
	title := "user.show.title"
	if d.New {
		title = "user.new.title"
	}
	pg := s.newPage(r, w, title, "users")
	if pe != nil {
		pg.fail(pe)
	}
	pg.Data = d
	return s.render(w, code, "user_form.html", pg)
}

func (s *Server) uiUserNew(w http.ResponseWriter, r *http.Request) error {
	p := principalFrom(r.Context())
	return s.userForm(w, r, http.StatusOK, nil, userFormData{New: true, User: auth.User{OrgID: p.User.OrgID, Role: auth.RoleAuditor}})
}

func (s *Server) uiUserCreate(w http.ResponseWriter, r *http.Request) error {
	p := principalFrom(r.Context())
	orgID, _ := strconv.ParseInt(r.PostFormValue("org_id"), 10, 64)
	in := auth.UserInput{OrgID: orgID, Username: strings.TrimSpace(r.PostFormValue("username")),
		DisplayName: r.PostFormValue("display_name"), Email: r.PostFormValue("email"), Role: r.PostFormValue("role"),
		Password: r.PostFormValue("password"), Locale: r.PostFormValue("locale")}
	u, err := s.Auth.CreateUser(r.Context(), p.actor(r), in)
	if pe, ok := problem.As(err); ok && pe.Kind != problem.KindInternal {
		back := auth.User{OrgID: in.OrgID, Username: in.Username, DisplayName: in.DisplayName, Email: in.Email, Role: in.Role, Locale: in.Locale}
		return s.userForm(w, r, statusOf(pe.Kind), pe, userFormData{New: true, User: back})
	} else if err != nil {
		return err
	}
	return redirect(w, r, "/users/"+strconv.FormatInt(u.ID, 10)+"?flash=flash.user_saved")
}

func (s *Server) uiUserShow(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	u, err := s.Auth.User(r.Context(), principalFrom(r.Context()).actor(r), id)
	if err != nil {
		return err
	}
	return s.userForm(w, r, http.StatusOK, nil, userFormData{User: u})
}

func (s *Server) uiUserUpdate(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	a := principalFrom(ctx).actor(r)
	id, err := pathID(r)
	if err != nil {
		return err
	}
	cur, err := s.Auth.User(ctx, a, id)
	if err != nil {
		return err
	}
	orgID, _ := strconv.ParseInt(r.PostFormValue("org_id"), 10, 64)
	in := auth.UserUpdate{OrgID: orgID, DisplayName: r.PostFormValue("display_name"), Email: r.PostFormValue("email"),
		Role: r.PostFormValue("role"), Locale: r.PostFormValue("locale"), Disabled: cur.Disabled}
	if _, err := s.Auth.UpdateUser(ctx, a, id, in); err != nil {
		if pe, ok := problem.As(err); ok && pe.Kind != problem.KindInternal && pe.Kind != problem.KindNotFound {
			cur.OrgID, cur.DisplayName, cur.Email, cur.Role, cur.Locale = in.OrgID, in.DisplayName, in.Email, in.Role, in.Locale
			return s.userForm(w, r, statusOf(pe.Kind), pe, userFormData{User: cur})
		}
		return err
	}
	return redirect(w, r, "/users/"+strconv.FormatInt(id, 10)+"?flash=flash.user_saved")
}

// userAction runs one of the buttons on the user page and shows the outcome there.
func (s *Server) userAction(w http.ResponseWriter, r *http.Request, flash string, do func(id int64) error) error {
	ctx := r.Context()
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := do(id); err != nil {
		if pe, ok := problem.As(err); ok && (pe.Kind == problem.KindInvalid || pe.Kind == problem.KindForbidden) {
			u, gerr := s.Auth.User(ctx, principalFrom(ctx).actor(r), id)
			if gerr != nil {
				return gerr
			}
			return s.userForm(w, r, statusOf(pe.Kind), pe, userFormData{User: u})
		}
		return err
	}
	return redirect(w, r, "/users/"+strconv.FormatInt(id, 10)+"?flash="+flash)
}

func (s *Server) uiUserPassword(w http.ResponseWriter, r *http.Request) error {
	a := principalFrom(r.Context()).actor(r)
	return s.userAction(w, r, "flash.password_reset", func(id int64) error {
		return s.Auth.SetPassword(r.Context(), a, id, r.PostFormValue("password"))
	})
}

func (s *Server) uiUserDisable(w http.ResponseWriter, r *http.Request) error {
	a := principalFrom(r.Context()).actor(r)
	return s.userAction(w, r, "flash.user_disabled", func(id int64) error { return s.Auth.DisableUser(r.Context(), a, id) })
}

func (s *Server) uiUserEnable(w http.ResponseWriter, r *http.Request) error {
	a := principalFrom(r.Context()).actor(r)
	return s.userAction(w, r, "flash.user_enabled", func(id int64) error { return s.Auth.EnableUser(r.Context(), a, id) })
}

func (s *Server) uiUserResetMFA(w http.ResponseWriter, r *http.Request) error {
	a := principalFrom(r.Context()).actor(r)
	return s.userAction(w, r, "flash.mfa_reset", func(id int64) error { return s.Auth.ResetMFA(r.Context(), a, id) })
}
