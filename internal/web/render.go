package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/medguard/medguard/internal/auth"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/problem"
)

//go:embed templates/*.html
var templateFS embed.FS

// templates holds one parsed set per page, each with the shared layout.
type templates struct {
	pages map[string]*template.Template
}

// loadTemplates returns the page templates, parsed once per process: they are the same
// for every Server (embedded, with functions that hold no server state), html/template
// executes them concurrently, and parsing them took a seventh of the CPU of the web
// package's tests, which start a server per test.
var loadTemplates = sync.OnceValues(parseTemplates)

func parseTemplates() (*templates, error) {
	funcs := template.FuncMap{
		"add":   func(a, b int) int { return a + b },
		"sub":   func(a, b int) int { return a - b },
		"join":  strings.Join,
		"keep":  keepTokens,
		"kib":   func(n int64) string { return strconv.FormatFloat(float64(n)/1024, 'f', 1, 64) + " KiB" },
		"list4": func(a, b, c, d string) []string { return []string{a, b, c, d} },
		"part":  func(p *page, v any) part { return part{Page: p, V: v} },
		"ref":   func(module string, id int64) sourceRef { return sourceRef{Module: module, ID: id} },
		"date": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.Local().Format("2006-01-02 15:04")
		},
		"datep": func(t *time.Time) string {
			if t == nil || t.IsZero() {
				return ""
			}
			return t.Local().Format("2006-01-02 15:04")
		},
		// qs returns the current query string with key set to value (page, sort links).
		"qs": func(q url.Values, kv ...string) string {
			n := url.Values{}
			for k, v := range q {
				n[k] = v
			}
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i+1] == "" {
					n.Del(kv[i])
				} else {
					n.Set(kv[i], kv[i+1])
				}
			}
			return "?" + n.Encode()
		},
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	t := &templates{pages: map[string]*template.Template{}}
	for _, n := range names {
		base := strings.TrimPrefix(n, "templates/")
		if base == "layout.html" || strings.HasPrefix(base, "_") {
			continue
		}
		tm, err := template.New(base).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/_*.html", n)
		if err != nil {
			return nil, fmt.Errorf("web: parse %s: %w", base, err)
		}
		t.pages[base] = tm
	}
	return t, nil
}

// page is the data every template gets.
type page struct {
	s       *Server
	Lang    string
	Title   string // i18n key of the page title
	Nav     string // which navigation entry is current
	Sub     string // which entry of a section's own navigation is current
	User    *auth.User
	CSRF    string
	Flash   string // message key or text shown once at the top
	Error   string // already translated error text
	Field   string // field at fault, if any
	Query   url.Values
	Data    any
	Version string
	Langs   []string
	Unread  int // unread notifications of the signed-in user's in-app inbox (the bell)
	req     *http.Request
}

// part is what a shared template fragment gets from {{template "x" (part . value)}}: the
// page (for T, Can, CSRF and the field at fault) and its own value.
type part struct {
	Page *page
	V    any
}

// T translates key into the page's language.
func (p *page) T(key string, args ...any) string { return p.s.I18n.T(p.Lang, key, args...) }

// Msg renders a stored message in the page's language, or fallback (the stored English
// text) for records written before their message was stored as a key.
func (p *page) Msg(m *i18n.Message, fallback string) string {
	if m == nil || m.Key == "" || !p.s.I18n.Has(p.Lang, m.Key) {
		return fallback
	}
	return p.s.I18n.Render(p.Lang, *m)
}

// Msgs renders stored messages in the page's language, or fallback (the stored English
// texts) when they were not stored with one message each.
func (p *page) Msgs(ms []i18n.Message, fallback []string) []string {
	if len(ms) != len(fallback) {
		return fallback
	}
	out := make([]string, len(ms))
	for i := range ms {
		out[i] = p.Msg(&ms[i], fallback[i])
	}
	return out
}

// Can reports whether the signed-in user's role has permission perm.
func (p *page) Can(perm string) bool {
	return p.User != nil && auth.Allowed(p.User.Role, auth.Permission(perm))
}

// newPage prepares the data for a page in the caller's language.
func (s *Server) newPage(r *http.Request, w http.ResponseWriter, title, nav string) *page {
	p := &page{s: s, Title: title, Nav: nav, Query: r.URL.Query(), Version: s.Version, Langs: i18n.Languages, req: r}
	setting := ""
	if c, err := r.Cookie(langCookie); err == nil {
		setting = c.Value
	}
	if pr := principalFrom(r.Context()); pr != nil {
		u := pr.User
		p.User = &u
		if u.Locale != "" {
			setting = u.Locale
		}
		if pr.Session != nil {
			p.CSRF = pr.Session.CSRFToken
		}
		if s.Notify != nil {
			n, err := s.Notify.Unread(r.Context(), u.ID)
			if err != nil {
				s.Logger.Error("count unread notifications", "err", err)
			}
			p.Unread = n
		}
	}
	if p.CSRF == "" && w != nil {
		p.CSRF = s.preCSRF(w, r)
	}
	p.Lang = s.I18n.Pick(setting, r.Header.Get("Accept-Language"))
	if f := r.URL.Query().Get("flash"); f != "" && strings.HasPrefix(f, "flash.") {
		p.Flash = f
	}
	return p
}

// render executes page template name with status code.
func (s *Server) render(w http.ResponseWriter, code int, name string, p *page) error {
	t, ok := s.tmpl.pages[name]
	if !ok {
		return fmt.Errorf("web: no template %q", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		return fmt.Errorf("web: render %s: %w", name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, err := buf.WriteTo(w)
	return err
}

// uiError answers a browser request that failed: sign-in problems redirect, others show
// the error page in the user's language.
func (s *Server) uiError(w http.ResponseWriter, r *http.Request, pe *problem.Error) {
	switch pe.Code {
	case errLogin.Code:
		next := r.URL.RequestURI()
		if r.Method != http.MethodGet {
			next = "/"
		}
		http.Redirect(w, r, "/login?next="+url.QueryEscape(next), http.StatusSeeOther)
		return
	case errMFA.Code:
		http.Redirect(w, r, "/login/mfa", http.StatusSeeOther)
		return
	case errChangePassword.Code:
		http.Redirect(w, r, "/account?flash=flash.must_change_password", http.StatusSeeOther)
		return
	case errEnrol.Code:
		http.Redirect(w, r, "/account/mfa?flash=flash.mfa_required", http.StatusSeeOther)
		return
	}
	p := s.newPage(r, w, "error.title", "")
	p.Error = s.errorText(p.Lang, pe)
	p.Data = statusOf(pe.Kind)
	if err := s.render(w, statusOf(pe.Kind), "error.html", p); err != nil {
		s.Logger.Error("render error page", "err", err)
		http.Error(w, pe.Message, statusOf(pe.Kind))
	}
}

// catalogueAreas are the prefixes under which message catalogues keep error texts
// ("<area>error.<code>") and field labels ("<area>field.<name>"): the core area first,
// then each module's.
var catalogueAreas = []string{"", "asset.", "supply.", "dlp.", "notify.", "app."}

// errorText translates a problem: for invalid input "Please check <field label>:
// <message>"; otherwise the problem's own message when it names a catalogue key, else the
// first "<area>error.<code>" entry of the catalogue, else its (English, client-safe)
// message.
func (s *Server) errorText(lang string, pe *problem.Error) string {
	if pe.Kind != problem.KindInvalid && pe.Kind != problem.KindInternal && pe.Msg != nil && s.I18n.Has(lang, pe.Msg.Key) {
		return s.I18n.Render(lang, *pe.Msg)
	}
	if pe.Code != "invalid" {
		for _, area := range catalogueAreas {
			if key := area + "error." + pe.Code; s.I18n.Has(lang, key) {
				return s.I18n.T(lang, key)
			}
		}
	}
	if pe.Kind == problem.KindInvalid && pe.Field != "" {
		label := pe.Field
		for _, area := range catalogueAreas {
			if key := area + "field." + pe.Field; s.I18n.Has(lang, key) {
				label = s.I18n.T(lang, key)
				break
			}
		}
		return s.I18n.T(lang, "error.invalid_field", label) + ": " + s.problemMessage(lang, pe)
	}
	if pe.Kind == problem.KindInternal {
		return s.I18n.T(lang, "error.internal")
	}
	return s.problemMessage(lang, pe)
}

// problemMessage is a problem's own message in lang: its catalogue key when it has one
// (and the catalogue knows it), otherwise its English message.
func (s *Server) problemMessage(lang string, pe *problem.Error) string {
	if pe.Msg != nil && s.I18n.Has(lang, pe.Msg.Key) {
		return s.I18n.Render(lang, *pe.Msg)
	}
	return pe.Message
}

// fail shows pe at the top of the page and marks its field; it returns the status code
// the page should be served with.
func (p *page) fail(pe *problem.Error) int {
	p.Error, p.Field = p.s.errorText(p.Lang, pe), pe.Field
	return statusOf(pe.Kind)
}

// redirect sends the browser to target after a successful form post.
func redirect(w http.ResponseWriter, r *http.Request, target string) error {
	http.Redirect(w, r, target, http.StatusSeeOther)
	return nil
}

// asciiRun is a run of printable ASCII without spaces: a file name, an identifier, a
// version.
var asciiRun = regexp.MustCompile(`[\x21-\x7e]+`)

// keepTokens is s escaped for HTML with each short run of printable ASCII (a file name,
// an identifier, a date; up to 40 characters) that a browser could break — at a hyphen or
// a slash — kept on one line, so that a cell breaks between words, not inside
// "MB-1.8.0-2" or "2026-12-28" (template func keep).
func keepTokens(s string) template.HTML {
	var b strings.Builder
	last := 0
	for _, m := range asciiRun.FindAllStringIndex(s, -1) {
		if m[1]-m[0] > 40 || m[1]-m[0] < 2 || !strings.ContainsAny(s[m[0]:m[1]], "-/|?!") {
			continue // too long to keep, or without a place a browser would break it
		}
		b.WriteString(template.HTMLEscapeString(s[last:m[0]]))
		b.WriteString(`<span class="nowrap">` + template.HTMLEscapeString(s[m[0]:m[1]]) + `</span>`)
		last = m[1]
	}
	b.WriteString(template.HTMLEscapeString(s[last:]))
	return template.HTML(b.String())
}
