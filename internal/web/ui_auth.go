package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/auth"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
)

// safeNext keeps post-login redirects on this site.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	if u, err := url.Parse(next); err != nil || u.Host != "" || u.Scheme != "" {
		return "/"
	}
	return next
}

func (s *Server) setSessionCookie(w http.ResponseWriter, token string) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: "/", HttpOnly: true,
		Secure: s.TLS, SameSite: http.SameSiteStrictMode})
}

func (s *Server) clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: s.TLS, SameSite: http.SameSiteStrictMode})
}

type loginData struct {
	Username string
	Next     string
	NoUsers  bool
}

func (s *Server) uiLoginForm(w http.ResponseWriter, r *http.Request) error {
	if p := principalFrom(r.Context()); p != nil && !p.NeedMFA {
		return redirect(w, r, safeNext(r.URL.Query().Get("next")))
	}
	pg := s.newPage(r, w, "login.title", "")
	n, err := s.Auth.CountUsers(r.Context())
	if err != nil {
		return err
	}
	pg.Data = loginData{Next: safeNext(r.URL.Query().Get("next")), NoUsers: n == 0}
	return s.render(w, http.StatusOK, "login.html", pg)
}

func (s *Server) uiLogin(w http.ResponseWriter, r *http.Request) error {
	username := strings.TrimSpace(r.PostFormValue("username"))
	next := safeNext(r.PostFormValue("next"))
	res, err := s.Auth.Login(r.Context(), username, r.PostFormValue("password"), clientIP(r), r.UserAgent())
	if err != nil {
		pe, ok := problem.As(err)
		if !ok {
			return err
		}
		pg := s.newPage(r, w, "login.title", "")
		pg.fail(pe)
		pg.Data = loginData{Username: username, Next: next}
		return s.render(w, statusOf(pe.Kind), "login.html", pg)
	}
	s.setSessionCookie(w, res.Token)
	if res.User.Locale != "" {
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: res.User.Locale, Path: "/", SameSite: http.SameSiteLaxMode, Secure: s.TLS})
	}
	switch {
	case res.NeedMFA:
		return redirect(w, r, "/login/mfa?next="+url.QueryEscape(next))
	case res.NeedMFAEnrolment:
		return redirect(w, r, "/account/mfa?flash=flash.mfa_required")
	}
	return redirect(w, r, next)
}

func (s *Server) uiMFAForm(w http.ResponseWriter, r *http.Request) error {
	p := principalFrom(r.Context())
	if !p.NeedMFA {
		return redirect(w, r, "/")
	}
	pg := s.newPage(r, w, "mfa.title", "")
	pg.Data = loginData{Next: safeNext(r.URL.Query().Get("next"))}
	return s.render(w, http.StatusOK, "login_mfa.html", pg)
}

func (s *Server) uiMFAVerify(w http.ResponseWriter, r *http.Request) error {
	p := principalFrom(r.Context())
	next := safeNext(r.PostFormValue("next"))
	if !p.NeedMFA {
		return redirect(w, r, next)
	}
	if _, err := s.Auth.VerifyMFA(r.Context(), p.rawTok, strings.TrimSpace(r.PostFormValue("code")), clientIP(r)); err != nil {
		pe, ok := problem.As(err)
		if !ok {
			return err
		}
		pg := s.newPage(r, w, "mfa.title", "")
		pg.fail(pe)
		pg.Data = loginData{Next: next}
		return s.render(w, statusOf(pe.Kind), "login_mfa.html", pg)
	}
	// The session just gained privilege: give it a new token.
	fresh, err := s.Auth.RotateSession(r.Context(), p.rawTok)
	if err != nil {
		return err
	}
	s.setSessionCookie(w, fresh)
	return redirect(w, r, next)
}

func (s *Server) uiLogout(w http.ResponseWriter, r *http.Request) error {
	if p := principalFrom(r.Context()); p != nil && p.Session != nil {
		if err := s.Auth.Logout(r.Context(), p.rawTok, clientIP(r)); err != nil {
			return err
		}
	}
	s.clearSessionCookie(w)
	return redirect(w, r, "/login?flash=flash.logged_out")
}

// uiSetLang switches the language: saved on the account when signed in, and in a
// cookie for the sign-in pages.
func (s *Server) uiSetLang(w http.ResponseWriter, r *http.Request) error {
	lang := i18n.Normalize(r.PostFormValue("lang"))
	if lang == "" {
		return problem.Invalid("lang", "unsupported language").WithMsg("error.msg.unsupported_language")
	}
	if p := principalFrom(r.Context()); p != nil && !p.NeedMFA {
		if err := s.Auth.SetLocale(r.Context(), p.actor(r), lang); err != nil {
			return err
		}
	}
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600,
		SameSite: http.SameSiteLaxMode, Secure: s.TLS})
	back := "/"
	if ref, err := url.Parse(r.Referer()); err == nil && ref.Host == r.Host {
		back = safeNext(ref.RequestURI())
	}
	return redirect(w, r, back)
}

type setupData struct {
	Token, OrgName, OrgKind, Username string
	Kinds                             []string
}

func (s *Server) uiSetupForm(w http.ResponseWriter, r *http.Request) error {
	n, err := s.Auth.CountUsers(r.Context())
	if err != nil {
		return err
	}
	if n > 0 {
		return problem.NotFound("page")
	}
	pg := s.newPage(r, w, "setup.title", "")
	pg.Data = setupData{Token: r.URL.Query().Get("token"), OrgKind: org.KindHospital,
		Kinds: []string{org.KindProvince, org.KindRegion, org.KindHospital}}
	return s.render(w, http.StatusOK, "setup.html", pg)
}

// uiSetup creates the first organisation and administrator with the one-time setup
// token that `medguard serve` printed.
func (s *Server) uiSetup(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	d := setupData{Token: r.PostFormValue("token"), OrgName: strings.TrimSpace(r.PostFormValue("org_name")),
		OrgKind: r.PostFormValue("org_kind"), Username: strings.TrimSpace(strings.ToLower(r.PostFormValue("username"))),
		Kinds: []string{org.KindProvince, org.KindRegion, org.KindHospital}}
	password := r.PostFormValue("password")
	fail := func(err error) error {
		pe, ok := problem.As(err)
		if !ok {
			return err
		}
		pg := s.newPage(r, w, "setup.title", "")
		pg.fail(pe)
		pg.Data = d
		return s.render(w, statusOf(pe.Kind), "setup.html", pg)
	}
	if password != r.PostFormValue("password2") {
		return fail(problem.Invalid("password2", "the two passwords differ").WithCode("password_mismatch"))
	}
	if d.OrgName == "" {
		return fail(problem.Invalid("org_name", "organisation name is required").WithMsg("error.msg.required"))
	}
	if err := auth.ValidatePassword(password, d.Username); err != nil {
		return fail(err)
	}
	sys := actor.System()
	sys.IP = clientIP(r)
	// Token, organisation and administrator in one transaction: all or nothing.
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		if err := s.Auth.ConsumeSetupToken(ctx, tx, d.Token); err != nil {
			return err
		}
		node, err := s.Orgs.CreateTx(ctx, tx, sys, org.Input{Kind: d.OrgKind, Name: d.OrgName})
		if err != nil {
			return err
		}
		_, err = s.Auth.CreateUserTx(ctx, tx, sys, auth.UserInput{OrgID: node.ID, Username: d.Username, Role: auth.RoleAdmin,
			Password: password, DisplayName: d.Username})
		return err
	})
	if err != nil {
		return fail(err)
	}
	return redirect(w, r, "/login?flash=flash.setup_done")
}
