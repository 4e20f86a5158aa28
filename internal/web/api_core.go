package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/medguard/medguard/internal/auth"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/paging"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/trail"
)

func (s *Server) apiNotFound(w http.ResponseWriter, r *http.Request) error {
	return problem.NotFound("API route")
}

// meResponse is the signed-in caller as the API shows it.
type meResponse struct {
	User        auth.User         `json:"user"`
	Permissions []auth.Permission `json:"permissions"`
	Version     string            `json:"version"`
	TokenScope  string            `json:"token_scope,omitempty"`
}

func (s *Server) apiMe(w http.ResponseWriter, r *http.Request) error {
	p := principalFrom(r.Context())
	resp := meResponse{User: p.User, Permissions: auth.Permissions(p.User.Role), Version: s.Version}
	if p.Token != nil {
		resp.TokenScope = p.Token.Scope
	}
	return writeJSON(w, http.StatusOK, resp)
}

type localeRequest struct {
	Locale string `json:"locale"`
}

func (s *Server) apiSetLocale(w http.ResponseWriter, r *http.Request) error {
	var req localeRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if req.Locale != "" && i18n.Normalize(req.Locale) == "" {
		return problem.Invalid("locale", "locale must be \"\", \"en\" or \"zh-CN\"").WithMsg("error.msg.locale")
	}
	p := principalFrom(r.Context())
	if err := s.Auth.SetLocale(r.Context(), p.actor(r), i18n.Normalize(req.Locale)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// Organisations.

func (s *Server) apiOrgList(w http.ResponseWriter, r *http.Request) error {
	nodes, err := s.Orgs.List(r.Context(), principalFrom(r.Context()).actor(r))
	if err != nil {
		return err
	}
	return writeList(w, r, paging.Standard, nodes)
}

func (s *Server) apiOrgCreate(w http.ResponseWriter, r *http.Request) error {
	var in org.Input
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	n, err := s.Orgs.Create(r.Context(), principalFrom(r.Context()).actor(r), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, n)
}

func (s *Server) apiOrgGet(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	n, err := s.Orgs.Get(r.Context(), principalFrom(r.Context()).actor(r), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, n)
}

func (s *Server) apiOrgUpdate(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in org.Input
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	n, err := s.Orgs.Update(r.Context(), principalFrom(r.Context()).actor(r), id, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, n)
}

func (s *Server) apiOrgDelete(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := s.Orgs.Delete(r.Context(), principalFrom(r.Context()).actor(r), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// Users.

func (s *Server) apiUserList(w http.ResponseWriter, r *http.Request) error {
	p, err := pageParams(r, paging.Standard)
	if err != nil {
		return err
	}
	q := auth.UserQuery{Q: r.URL.Query().Get("q"), Role: r.URL.Query().Get("role"), Page: 1, PerPage: p.Limit, Offset: p.Offset}
	users, total, err := s.Auth.Users(r.Context(), principalFrom(r.Context()).actor(r), q)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, paging.Page(r.URL, p, users, total))
}

func (s *Server) apiUserCreate(w http.ResponseWriter, r *http.Request) error {
	var in auth.UserInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	u, err := s.Auth.CreateUser(r.Context(), principalFrom(r.Context()).actor(r), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, u)
}

func (s *Server) apiUserGet(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	u, err := s.Auth.User(r.Context(), principalFrom(r.Context()).actor(r), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, u)
}

func (s *Server) apiUserUpdate(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in auth.UserUpdate
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	u, err := s.Auth.UpdateUser(r.Context(), principalFrom(r.Context()).actor(r), id, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, u)
}

type passwordRequest struct {
	Password string `json:"password"`
}

func (s *Server) apiUserPassword(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var req passwordRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if err := s.Auth.SetPassword(r.Context(), principalFrom(r.Context()).actor(r), id, req.Password); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiUserAction(w http.ResponseWriter, r *http.Request, do func(id int64) error) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := do(id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiUserDisable(w http.ResponseWriter, r *http.Request) error {
	a := principalFrom(r.Context()).actor(r)
	return s.apiUserAction(w, r, func(id int64) error { return s.Auth.DisableUser(r.Context(), a, id) })
}

func (s *Server) apiUserEnable(w http.ResponseWriter, r *http.Request) error {
	a := principalFrom(r.Context()).actor(r)
	return s.apiUserAction(w, r, func(id int64) error { return s.Auth.EnableUser(r.Context(), a, id) })
}

func (s *Server) apiUserResetMFA(w http.ResponseWriter, r *http.Request) error {
	a := principalFrom(r.Context()).actor(r)
	return s.apiUserAction(w, r, func(id int64) error { return s.Auth.ResetMFA(r.Context(), a, id) })
}

// API tokens.

type tokenRequest struct {
	Name      string `json:"name"`
	Scope     string `json:"scope"`
	ExpiresIn int    `json:"expires_in_days"`
	UserID    int64  `json:"user_id,omitempty"`
}

type tokenResponse struct {
	Token string     `json:"token"`
	Info  auth.Token `json:"info"`
}

func (s *Server) apiTokenList(w http.ResponseWriter, r *http.Request) error {
	p := principalFrom(r.Context())
	toks, err := s.Auth.Tokens(r.Context(), p.actor(r), p.User.ID)
	if err != nil {
		return err
	}
	return writeList(w, r, paging.Standard, toks)
}

func (s *Server) apiTokenCreate(w http.ResponseWriter, r *http.Request) error {
	p := principalFrom(r.Context())
	var req tokenRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if req.ExpiresIn < 0 || req.ExpiresIn > 3650 {
		return problem.Invalid("expires_in_days", "expires_in_days must be between 0 and 3650").WithMsg("error.msg.between", 0, 3650)
	}
	uid := p.User.ID
	if req.UserID != 0 {
		uid = req.UserID
	}
	plain, tok, err := s.Auth.CreateToken(r.Context(), p.actor(r), uid, req.Name, req.Scope, time.Duration(req.ExpiresIn)*24*time.Hour)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, tokenResponse{Token: plain, Info: tok})
}

func (s *Server) apiTokenRevoke(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := s.Auth.RevokeToken(r.Context(), principalFrom(r.Context()).actor(r), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// Trail.

// trailPaging is the page size of the audit trail, which is paged by sequence number
// (before=<seq>, carried in the envelope's next link) rather than by offset.
var trailPaging = paging.Spec{Default: 100, Max: 500}

func (s *Server) apiTrailList(w http.ResponseWriter, r *http.Request) error {
	f := trailFilter(r)
	if b := r.URL.Query().Get("before"); b != "" && f.BeforeSeq <= 0 {
		return problem.Invalid("before", "before must be a positive sequence number").WithMsg("error.msg.positive_seq")
	}
	p, err := pageParams(r, trailPaging)
	if err != nil {
		return err
	}
	if p.Offset != 0 {
		return problem.Invalid(paging.ParamOffset, "the trail is paged by before (follow next), not by offset").WithMsg("error.msg.trail_no_offset")
	}
	f.Limit = p.Limit
	entries, err := trail.List(r.Context(), s.DB, principalFrom(r.Context()).actor(r), f)
	if err != nil {
		return err
	}
	var cursor string
	if len(entries) > 0 {
		cursor = strconv.FormatInt(entries[len(entries)-1].Seq, 10)
	}
	return writeJSON(w, http.StatusOK, paging.Keyset(r.URL, p, entries, len(entries) == f.Limit, "before", cursor))
}

func (s *Server) apiTrailVerify(w http.ResponseWriter, r *http.Request) error {
	rep, err := s.verifyTrail(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rep)
}
