package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/auth"
	"github.com/medguard/medguard/internal/dlp"
	"github.com/medguard/medguard/internal/dlp/mask"
	"github.com/medguard/medguard/internal/problem"
)

// Cookie names.
const (
	sessionCookie = "mg_session"
	preCSRFCookie = "mg_csrf" // double-submit token for forms shown before sign-in
	langCookie    = "mg_lang"
	csrfField     = "csrf"
	csrfHeader    = "X-CSRF-Token"
)

// maxUpload bounds a multipart body on routes that do not set their own limit.
const maxUpload = 65 << 20

// multipartOverhead is room for the other form fields and part headers on top of a
// route's upload limit.
const multipartOverhead = 1 << 20

// multipartMemory is how much of a multipart body is kept in memory; larger file parts
// are written to temporary files.
const multipartMemory = 32 << 20

// principal is the authenticated caller of a request.
type principal struct {
	User    auth.User
	Session *auth.Session // browser session (nil for API tokens)
	Token   *auth.Token   // API token (nil for sessions)
	rawTok  string        // session token, for logout
	NeedMFA bool          // session has not passed its MFA step
	Enrol   bool          // MFA is required by policy but not set up yet
}

func (p *principal) actor(r *http.Request) actor.Actor { return p.User.Actor(clientIP(r)) }

type ctxKey int

const principalKey ctxKey = 1

func principalFrom(ctx context.Context) *principal {
	p, _ := ctx.Value(principalKey).(*principal)
	return p
}

// clientIP is the peer address. medguard does not trust X-Forwarded-For: behind a
// proxy, the proxy's address is what gets recorded.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// wrap is the one gate every route passes: it authenticates the caller, checks the
// route's permission with auth.Allowed, checks CSRF on unsafe browser requests, runs
// the handler and maps its error to a response.
func (s *Server) wrap(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				s.Logger.Error("panic in handler", "route", rt.Pattern, "panic", v)
				if sw.code == 0 {
					s.fail(sw, r, rt, errors.New("panic"))
				}
			}
			s.observe(rt.Method+" "+rt.Pattern, start, sw.code)
		}()
		// net/http removes the temporary files of the multipart form of the request it
		// passed in, not of the copy made below: remove those of whichever request was
		// parsed (r as it is when the handler returns), on every path.
		defer func() { s.removeUploads(r, rt) }()
		if isMultipart(r) {
			// Whoever reads the form (the CSRF check, an upload helper, FormValue in a
			// handler), its file parts go to disk: bound the body once for all of them.
			r.Body = http.MaxBytesReader(sw, r.Body, uploadLimit(rt)+multipartOverhead)
		}
		p, err := s.authenticate(r, rt)
		if err != nil {
			s.fail(sw, r, rt, err)
			return
		}
		if p != nil {
			r = r.WithContext(context.WithValue(r.Context(), principalKey, p))
		}
		if err := s.authorize(r, rt, p); err != nil {
			s.fail(sw, r, rt, err)
			return
		}
		if err := rt.h(sw, r); err != nil {
			s.fail(sw, r, rt, err)
		}
	})
}

// uploadLimit is the largest upload route rt accepts.
func uploadLimit(rt route) int64 {
	if rt.Upload > 0 {
		return rt.Upload
	}
	return maxUpload
}

// removeUploads deletes the temporary files of r's parsed multipart form, if any.
func (s *Server) removeUploads(r *http.Request, rt route) {
	if r.MultipartForm == nil {
		return
	}
	if err := r.MultipartForm.RemoveAll(); err != nil {
		s.Logger.Warn("removing uploaded files", "route", rt.Pattern, "err", err)
	}
}

// errLogin is returned when a browser must sign in (the UI redirects to /login).
var errLogin = problem.Unauthorized("sign-in required").WithCode("login_required")

// errMFA is returned when a session must complete its MFA step first.
var errMFA = problem.Unauthorized("multi-factor authentication required").WithCode("mfa_required")

// errChangePassword is returned when an administrator has reset the user's password and
// the user must choose a new one before doing anything else.
var errChangePassword = problem.Forbidden("you must change your password first").WithCode("password_change_required")

// errEnrol is returned when policy requires MFA and the user has not enrolled.
var errEnrol = problem.Forbidden("your organisation requires multi-factor authentication: set it up first").WithCode("mfa_enrolment_required")

func (s *Server) authenticate(r *http.Request, rt route) (*principal, error) {
	ctx := r.Context()
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
			return nil, problem.Unauthorized("the Authorization header must be \"Bearer <token>\"").WithCode("bad_authorization")
		}
		if !rt.API {
			return nil, problem.Unauthorized("API tokens are accepted under /api/v1 only").WithCode("bad_authorization")
		}
		// Authenticate also refuses (403) the token of a user who must change its
		// password or enrol in MFA: a token gets none of the PermSelf leeway a
		// session has to complete those steps.
		u, t, err := s.Auth.Authenticate(ctx, strings.TrimSpace(tok))
		if err != nil {
			return nil, err
		}
		return &principal{User: u, Token: &t}, nil
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil, nil
	}
	sess, u, err := s.Auth.Session(ctx, c.Value)
	if err != nil {
		// An expired or unknown session is the same as none.
		return nil, nil
	}
	p := &principal{User: u, Session: &sess, rawTok: c.Value}
	if u.MFAEnabled && !sess.MFAOK {
		p.NeedMFA = true
	}
	if !u.MFAEnabled && s.Orgs != nil {
		req, err := s.Orgs.RequiresMFA(ctx, u.OrgID)
		if err != nil {
			return nil, err
		}
		p.Enrol = req
	}
	return p, nil
}

func (s *Server) authorize(r *http.Request, rt route, p *principal) error {
	unsafe := r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodOptions
	if rt.Perm == public {
		if unsafe && !rt.API {
			return s.checkCSRF(r, rt, p)
		}
		return nil
	}
	if p == nil {
		return errLogin
	}
	if p.NeedMFA && !rt.PreMFA {
		return errMFA
	}
	if p.Enrol && rt.Perm != auth.PermSelf {
		return errEnrol
	}
	if p.Session != nil && p.User.MustChangePassword && rt.Perm != auth.PermSelf {
		return errChangePassword
	}
	if !auth.Allowed(p.User.Role, rt.Perm) {
		return problem.Forbidden("your role does not allow this").WithCode("permission_denied")
	}
	if p.Token != nil && !p.Token.Covers(rt.Perm, unsafe && !rt.ReadOnly) {
		if p.Token.Scope == auth.ScopeRead {
			return problem.Forbidden("this API token is read-only").WithCode("read_only_token")
		}
		return problem.Forbidden("this API token may only call the %s operations", p.Token.Scope).WithCode("limited_token")
	}
	if unsafe && p.Session != nil {
		return s.checkCSRF(r, rt, p)
	}
	return nil
}

// checkCSRF compares the request's CSRF token (form field or header) with the session's,
// or, before sign-in, with the double-submit cookie.
func (s *Server) checkCSRF(r *http.Request, rt route, p *principal) error {
	got := r.Header.Get(csrfHeader)
	if got == "" && !strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
		got = r.PostFormValue(csrfField)
	}
	if got == "" && strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
		// The token sits in a form field. wrap has bounded the body to the route's
		// limit; file parts beyond the memory bound go to temporary files, which wrap
		// removes when the handler returns.
		limit := uploadLimit(rt)
		err := r.ParseMultipartForm(multipartMemory)
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return problem.Invalid("file", "the upload is larger than %d MiB", limit>>20).WithCode("upload_too_large")
		}
		if err == nil {
			got = r.FormValue(csrfField)
		}
	}
	var want string
	if p != nil && p.Session != nil {
		want = p.Session.CSRFToken
	} else if c, err := r.Cookie(preCSRFCookie); err == nil {
		want = c.Value
	}
	if want == "" || got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return problem.Forbidden("the form has expired or did not come from this site; reload the page and try again").WithCode("csrf")
	}
	// Browsers send Origin on POST; when present it must be this host.
	if o := r.Header.Get("Origin"); o != "" {
		if u, err := url.Parse(o); err != nil || u.Host != r.Host {
			return problem.Forbidden("cross-origin request refused").WithCode("csrf")
		}
	}
	return nil
}

// preCSRF returns the double-submit token for forms shown before sign-in, setting the
// cookie if the browser has none.
func (s *Server) preCSRF(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(preCSRFCookie); err == nil && len(c.Value) >= 32 {
		return c.Value
	}
	tok := randomToken()
	http.SetCookie(w, &http.Cookie{Name: preCSRFCookie, Value: tok, Path: "/", HttpOnly: true,
		Secure: s.TLS, SameSite: http.SameSiteStrictMode})
	return tok
}

func randomToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// fail maps err to a response: problems keep their safe message; anything else is
// logged and answered with a generic 500.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, rt route, err error) {
	pe, ok := problem.As(err)
	if !ok {
		s.Logger.Error("request failed", "method", r.Method, "route", rt.Pattern, "err", err)
		pe = &problem.Error{Kind: problem.KindInternal, Code: "internal", Message: "internal error"}
	} else if pe.Kind == problem.KindInternal {
		s.Logger.Error("request failed", "method", r.Method, "route", rt.Pattern, "err", err)
	} else if pe.Err != nil {
		// The cause of a refusal (a parser's message quoting the input) is for the
		// operator, with the patient data in it masked.
		s.Logger.Info("request refused", "method", r.Method, "route", rt.Pattern, "code", pe.Code, slog.String("msg", pe.Message),
			slog.String("cause", s.maskLog(pe.Err.Error())))
	} else {
		s.Logger.Debug("request refused", "method", r.Method, "route", rt.Pattern, "code", pe.Code, slog.String("msg", pe.Message))
	}
	if rt.API || wantsJSON(r) {
		writeError(w, pe)
		return
	}
	s.uiError(w, r, pe)
}

// maskLog masks the patient data that the DLP detectors find in a text bound for the
// log. The masker is built on first use.
func (s *Server) maskLog(text string) string {
	s.logMaskOnce.Do(func() {
		sc, err := dlp.NewScanner(dlp.Config{})
		if err == nil {
			s.logMask, err = mask.New(sc, mask.DefaultPolicy(), nil)
		}
		if err != nil {
			s.Logger.Error("building the log masker", "err", err)
		}
	})
	if s.logMask == nil {
		return "(not logged: the masker is unavailable)"
	}
	return string(s.logMask.Text([]byte(text), nil))
}

func wantsJSON(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/api/") || strings.Contains(r.Header.Get("Accept"), "application/json") && !strings.Contains(r.Header.Get("Accept"), "text/html")
}

func statusOf(k problem.Kind) int {
	switch k {
	case problem.KindInvalid:
		return http.StatusBadRequest
	case problem.KindNotFound:
		return http.StatusNotFound
	case problem.KindConflict:
		return http.StatusConflict
	case problem.KindForbidden:
		return http.StatusForbidden
	case problem.KindUnauthorized:
		return http.StatusUnauthorized
	case problem.KindTooMany:
		return http.StatusTooManyRequests
	}
	return http.StatusInternalServerError
}

// securityHeaders sets CSP, nosniff, frame-ancestors and, under TLS, HSTS.
func (s *Server) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "+
			"connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if s.TLS {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		next.ServeHTTP(w, r)
	})
}
