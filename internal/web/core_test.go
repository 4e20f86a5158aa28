package web

import (
	"context"
	"encoding/json"
	"github.com/medguard/medguard/internal/alert"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/asset"
	"github.com/medguard/medguard/internal/auth"
	dlpsvc "github.com/medguard/medguard/internal/dlp/service"
	"github.com/medguard/medguard/internal/notify"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/reference"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
	"github.com/medguard/medguard/internal/supply"
	"github.com/medguard/medguard/internal/trail"
	"github.com/medguard/medguard/internal/trail/trailtest"
	"github.com/medguard/medguard/internal/vuln"
)

// TestOpenAPIMatchesRoutes checks that every API route is documented and every
// documented operation is a route, and that the served document is OpenAPI 3.1.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	e := newTestEnv(t, storetest.Open(t, store.SQLite))
	code, body := e.api("GET", "/api/v1/openapi.json", "", nil)
	if code != http.StatusOK {
		t.Fatalf("openapi.json: %d", code)
	}
	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
		Comps   struct {
			Schemas map[string]any `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q", doc.OpenAPI)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			documented[strings.ToUpper(method)+" "+path] = true
			if s, _ := op["summary"].(string); s == "" {
				t.Errorf("%s %s has no summary", method, path)
			}
			if _, ok := op["responses"]; !ok {
				t.Errorf("%s %s has no responses", method, path)
			}
		}
	}
	registered := map[string]bool{}
	for _, r := range e.srv.Routes() {
		if !r.API || r.Pattern == "/api/" {
			continue
		}
		k := r.Method + " " + r.Pattern
		registered[k] = true
		if !documented[k] {
			t.Errorf("route %s is not in the OpenAPI document", k)
		}
	}
	var extra []string
	for k := range documented {
		if !registered[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	for _, k := range extra {
		t.Errorf("the OpenAPI document describes %s, which is not a route", k)
	}
	// Every $ref resolves.
	for _, m := range regexp.MustCompile(`"#/components/schemas/([A-Za-z0-9]+)"`).FindAllSubmatch(body, -1) {
		if _, ok := doc.Comps.Schemas[string(m[1])]; !ok {
			t.Errorf("dangling $ref %s", m[1])
		}
	}
	// No schema exposes secrets.
	for _, secret := range []string{"password_hash", "mfa_secret", "token_hash", "csrf_token"} {
		if strings.Contains(string(body), `"`+secret+`"`) {
			t.Errorf("OpenAPI document exposes %s", secret)
		}
	}
}

func TestAPIErrorsAndHeaders(t *testing.T) {
	e := newTestEnv(t, storetest.Open(t, store.SQLite))
	tests := []struct {
		name, method, path, user string
		body                     any
		status                   int
		code                     string
	}{
		{"no credentials", "GET", "/api/v1/assets", "", nil, 401, "login_required"},
		{"unknown api path", "GET", "/api/v1/nothing", "admin", nil, 404, "not_found"},
		{"bad json", "POST", "/api/v1/orgs", "admin", "{", 400, "bad_json"},
		{"unknown field", "POST", "/api/v1/orgs", "admin", `{"name":"x","kind":"department","parent_id":1,"colour":"red"}`, 400, "bad_json"},
		{"validation", "POST", "/api/v1/orgs", "admin", `{"name":"","kind":"department"}`, 400, "invalid"},
		{"forbidden", "POST", "/api/v1/orgs", "auditor", `{}`, 403, "permission_denied"},
		{"bad id", "GET", "/api/v1/assets/abc", "admin", nil, 404, "not_found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := e.api(tc.method, tc.path, tc.user, tc.body)
			if code != tc.status {
				t.Fatalf("status %d, want %d: %s", code, tc.status, body)
			}
			var eb errorBody
			if err := json.Unmarshal(body, &eb); err != nil || eb.Error.Code != tc.code || eb.Error.Message == "" {
				t.Fatalf("body %s, want error code %s", body, tc.code)
			}
			for _, leak := range []string{"sql", "SQL", "goroutine", ".go:", "pgx", "sqlite"} {
				if strings.Contains(string(body), leak) {
					t.Errorf("error body leaks %q: %s", leak, body)
				}
			}
		})
	}
	// Bad bearer tokens.
	for _, h := range []string{"Bearer nope", "Basic YWRtaW46eA==", "Bearer "} {
		req, _ := http.NewRequest("GET", e.URL+"/api/v1/me", nil)
		req.Header.Set("Authorization", h)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("Authorization %q: %d", h, resp.StatusCode)
		}
	}
	// Security headers on every kind of response.
	for _, p := range []string{"/login", "/api/v1/me", "/static/app.css", "/healthz"} {
		resp, err := http.Get(e.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		csp := resp.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("%s: CSP %q", p, csp)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no nosniff", p)
		}
		if resp.Header.Get("Strict-Transport-Security") != "" {
			t.Errorf("%s: HSTS sent over plain HTTP", p)
		}
	}
	// Health, readiness and metrics.
	for p, want := range map[string]string{"/healthz": "ok", "/readyz": "ready", "/metrics": "medguard_http_requests_total"} {
		resp, err := http.Get(e.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Errorf("%s: %d %.200s", p, resp.StatusCode, b)
		}
	}
	// A read-only token can read but not write.
	ro, _, err := e.Auth.CreateToken(context.Background(), actor.System(), e.Users["admin"].ID, "ro", "read", 0)
	if err != nil {
		t.Fatal(err)
	}
	e.Tokens["admin-ro"] = ro
	if code, body := e.api("GET", "/api/v1/assets", "admin-ro", nil); code != http.StatusOK {
		t.Errorf("read with a read-only token: %d %s", code, body)
	}
	code, body := e.api("POST", "/api/v1/orgs", "admin-ro", `{"name":"X","kind":"department","parent_id":1}`)
	var eb errorBody
	_ = json.Unmarshal(body, &eb)
	if code != http.StatusForbidden || eb.Error.Code != "read_only_token" {
		t.Errorf("write with a read-only token: %d %s", code, body)
	}
}

func TestTLSCookiesAndHSTS(t *testing.T) {
	e := newTestEnv(t, storetest.Open(t, store.SQLite))
	e.srv.TLS = true
	ts := httptest.NewTLSServer(e.srv.Handler())
	defer ts.Close()
	client := ts.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Get(ts.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(resp.Header.Get("Strict-Transport-Security"), "max-age=") {
		t.Error("no HSTS under TLS")
	}
	csrf := csrfRe.FindSubmatch(body)
	if csrf == nil {
		t.Fatal("no csrf on login page")
	}
	req, _ := http.NewRequest("POST", ts.URL+"/login", strings.NewReader(url.Values{"csrf": {string(csrf[1])},
		"username": {"admin"}, "password": {testPassword}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, c := range resp.Cookies() {
		req.AddCookie(c)
	}
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie {
			session = c
		}
	}
	if session == nil {
		t.Fatalf("no session cookie (status %d)", resp.StatusCode)
	}
	if !session.Secure || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode {
		t.Errorf("session cookie %+v: want Secure, HttpOnly, SameSite=Strict", session)
	}
}

func TestBrowserFlows(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db)
		ctx := context.Background()

		// CSRF: a form post without the token is refused and changes nothing.
		b := e.newBrowser()
		b.login("admin")
		code, _, _ := b.post("/orgs", url.Values{"csrf": {"forged"}, "parent_id": {"1"}, "kind": {"department"}, "name": {"Forged"}})
		if code != http.StatusForbidden {
			t.Errorf("post with a forged CSRF token: %d", code)
		}
		nodes, _ := e.Orgs.List(ctx, actor.System())
		for _, n := range nodes {
			if n.Name == "Forged" {
				t.Error("forged form created an organisation")
			}
		}
		// A cross-site Origin is refused even with the right token.
		req, _ := http.NewRequest("POST", e.URL+"/orgs", strings.NewReader(url.Values{"csrf": {b.csrf}, "name": {"X"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "https://evil.example")
		resp, err := b.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("cross-origin post: %d", resp.StatusCode)
		}

		// Language: the switch is stored on the account.
		code, _, h := b.post("/lang", url.Values{"lang": {"zh-CN"}})
		if code != http.StatusSeeOther {
			t.Fatalf("lang: %d", code)
		}
		_, body, _ := b.get("/orgs")
		if !strings.Contains(body, `lang="zh-CN"`) || !strings.Contains(body, "组织机构") {
			t.Errorf("page is not in Chinese after switching (%s)", h.Get("Location"))
		}
		b2 := e.newBrowser()
		b2.login("admin")
		if _, body, _ := b2.get("/"); !strings.Contains(body, `lang="zh-CN"`) {
			t.Error("language choice not kept on the account")
		}
		// Accept-Language picks Chinese for a user without a setting.
		req, _ = http.NewRequest("GET", e.URL+"/login", nil)
		req.Header.Set("Accept-Language", "zh-CN,zh;q=0.9")
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		lb, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(lb), "登录") {
			t.Error("Accept-Language zh-CN did not give a Chinese login page")
		}

		// Wrong password: the page says so, in the user's language, without detail.
		anon := e.newBrowser()
		anon.get("/login")
		code, body, _ = anon.post("/login", url.Values{"username": {"auditor"}, "password": {"wrong-password-1A"}})
		if code != http.StatusUnauthorized || !strings.Contains(body, "Wrong username or password") {
			t.Errorf("bad login: %d", code)
		}
		// Open redirects are refused.
		anon.get("/login")
		code, _, h = anon.post("/login", url.Values{"username": {"auditor"}, "password": {testPassword}, "next": {"//evil.example/"}})
		if code != http.StatusSeeOther || h.Get("Location") != "/" {
			t.Errorf("next=//evil.example: %d → %q", code, h.Get("Location"))
		}

		// An organisation that requires MFA forces enrolment before anything else.
		if _, err := e.Orgs.Update(ctx, actor.System(), e.HospA.ID, org.Input{Name: e.HospA.Name, Code: e.HospA.Code, MFARequired: true}); err != nil {
			t.Fatal(err)
		}
		it := e.newBrowser()
		it.get("/login")
		code, _, h = it.post("/login", url.Values{"username": {"itops"}, "password": {testPassword}, "next": {"/assets"}})
		if code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/account/mfa") {
			t.Fatalf("login under MFA policy: %d → %q", code, h.Get("Location"))
		}
		if code, _, h := it.get("/assets"); code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/account/mfa") {
			t.Fatalf("assets before enrolment: %d → %q", code, h.Get("Location"))
		}
		_, body, _ = it.get("/account/mfa")
		m := regexp.MustCompile(`id="mfa-secret">([A-Z2-7]+)<`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no secret on the enrolment page: %.500s", body)
		}
		codeNow, _ := totp.GenerateCode(m[1], time.Now())
		code, body, _ = it.post("/account/mfa", url.Values{"code": {codeNow}})
		if code != http.StatusOK || strings.Count(body, "<li>") < 10 {
			t.Fatalf("enrolment: %d", code)
		}
		if code, _, _ := it.get("/assets"); code != http.StatusOK {
			t.Fatalf("assets after enrolment: %d", code)
		}
		// Next sign-in asks for the second factor.
		it2 := e.newBrowser()
		it2.get("/login")
		code, _, h = it2.post("/login", url.Values{"username": {"itops"}, "password": {testPassword}})
		if code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/login/mfa") {
			t.Fatalf("second login: %d → %q", code, h.Get("Location"))
		}
		if code, _, h := it2.get("/assets"); code != http.StatusSeeOther || h.Get("Location") != "/login/mfa" {
			t.Fatalf("assets before the MFA step: %d → %q", code, h.Get("Location"))
		}
		it2.get("/login/mfa")
		code, _, _ = it2.post("/login/mfa", url.Values{"code": {"000000"}})
		if code != http.StatusUnauthorized {
			t.Errorf("wrong MFA code: %d", code)
		}
		next, _ := totp.GenerateCode(m[1], time.Now().Add(30*time.Second))
		code, _, _ = it2.post("/login/mfa", url.Values{"code": {next}})
		if code != http.StatusSeeOther {
			t.Fatalf("MFA step: %d", code)
		}
		if code, _, _ := it2.get("/assets"); code != http.StatusOK {
			t.Fatalf("assets after the MFA step: %d", code)
		}
		// Sign-out ends the session on the server.
		it2.post("/logout", nil)
		if code, _, _ := it2.get("/assets"); code != http.StatusSeeOther {
			t.Errorf("after logout: %d", code)
		}

		// The trail recorded all of it and still verifies.
		rep, err := trailtest.New(t, trail.SHA256).Verify(ctx, db)
		if err != nil || !rep.OK {
			t.Fatalf("trail: %+v %v", rep, err)
		}
		seen := map[string]bool{}
		entries, _ := trail.List(ctx, db, actor.System(), trail.Filter{Limit: 500})
		for _, en := range entries {
			seen[en.Action] = true
		}
		for _, want := range []string{"auth.login", "auth.login_failed", "auth.logout", "auth.mfa_verified", "auth.mfa_failed", "user.mfa_enrol", "org.update", "org.create", "user.create", "asset.create"} {
			if !seen[want] {
				t.Errorf("trail has no %s entry", want)
			}
		}
	})
}

func TestSetupCreatesFirstAdministrator(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		tl := trailtest.New(t, trail.SM3)
		e := &testEnv{t: t, db: db, Trail: tl}
		e.Orgs = org.NewService(db, tl)
		e.Auth = auth.NewService(db, tl, auth.Options{MFAPolicy: e.Orgs})
		e.Assets = asset.NewService(db, tl)
		e.Vulns = vuln.Open(db)
		var err error
		if e.Alerts, err = alert.New(db, tl); err != nil {
			t.Fatal(err)
		}
		e.Supply = supply.NewService(db, tl, e.Vulns, e.Alerts, nil)
		dlpSvc, err := dlpsvc.New(db, tl, dlpsvc.Options{Key: []byte("test-key-16bytes")})
		if err != nil {
			t.Fatal(err)
		}
		ref, err := reference.New(db, tl, reference.Options{Key: make([]byte, reference.KeySize)})
		if err != nil {
			t.Fatal(err)
		}
		srv, err := New(Deps{DB: db, Trail: tl, Orgs: e.Orgs, Auth: e.Auth, Assets: e.Assets, Supply: e.Supply, Vulns: e.Vulns,
			DLP: dlpSvc, Notify: notify.New(db, tl, notify.Options{Key: make([]byte, notify.KeySize)}), Alerts: e.Alerts, Reference: ref, Version: "test"})
		if err != nil {
			t.Fatal(err)
		}
		ts := httptest.NewServer(srv.Handler())
		defer ts.Close()
		e.URL, e.srv = ts.URL, srv
		tok, err := e.Auth.IssueSetupToken(ctx)
		if err != nil {
			t.Fatal(err)
		}
		b := e.newBrowser()
		if code, _, _ := b.get("/setup?token=" + tok); code != 200 {
			t.Fatalf("setup page: %d", code)
		}
		form := url.Values{"token": {"wrong"}, "org_name": {"Demo Hospital"}, "org_kind": {"hospital"}, "username": {"secadmin"},
			"password": {"Chief-Of-Security-2026"}, "password2": {"Chief-Of-Security-2026"}}
		if code, _, _ := b.post("/setup", form); code != http.StatusUnauthorized {
			t.Errorf("wrong setup token: %d", code)
		}
		form.Set("token", tok)
		if code, _, h := b.post("/setup", form); code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/login") {
			t.Fatalf("setup: %d %q", code, h.Get("Location"))
		}
		if code, _, _ := b.post("/setup", form); code == http.StatusSeeOther {
			t.Error("the setup token worked twice")
		}
		if code, _, _ := b.get("/setup"); code != http.StatusNotFound {
			t.Errorf("setup page after setup: %d", code)
		}
		b.get("/login")
		code, _, h := b.post("/login", url.Values{"username": {"secadmin"}, "password": {"Chief-Of-Security-2026"}})
		if code != http.StatusSeeOther || h.Get("Location") != "/" {
			t.Fatalf("first admin login: %d %q", code, h.Get("Location"))
		}
		if rep, _ := trailtest.New(t, trail.SHA256).Verify(ctx, db); !rep.OK {
			t.Fatalf("trail: %+v", rep)
		}
	})
}

func sessionValue(b *browser, base string) string {
	u, _ := url.Parse(base)
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == sessionCookie {
			return c.Value
		}
	}
	return ""
}

func TestSessionRotationAndPasswordChange(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db)
		ctx := context.Background()
		// Enrol privacy in MFA through the service, then sign in through the browser.
		p := e.Users["privacy"]
		a := p.Actor("127.0.0.1")
		en, err := e.Auth.BeginMFAEnrolment(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		c0, _ := totp.GenerateCode(en.Secret, time.Now().Add(-30*time.Second))
		if _, err := e.Auth.ConfirmMFAEnrolment(ctx, a, c0); err != nil {
			t.Fatal(err)
		}
		b := e.newBrowser()
		b.get("/login")
		if code, _, h := b.post("/login", url.Values{"username": {"privacy"}, "password": {testPassword}}); code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/login/mfa") {
			t.Fatalf("login: %d %q", code, h.Get("Location"))
		}
		before := sessionValue(b, e.URL)
		b.get("/login/mfa")
		c1, _ := totp.GenerateCode(en.Secret, time.Now())
		if code, _, _ := b.post("/login/mfa", url.Values{"code": {c1}}); code != http.StatusSeeOther {
			t.Fatalf("mfa: %d", code)
		}
		after := sessionValue(b, e.URL)
		if after == "" || after == before {
			t.Fatal("the session token was not rotated after the MFA step")
		}
		if code, _, _ := b.get("/assets"); code != http.StatusOK {
			t.Fatalf("new session: %d", code)
		}
		old := e.newBrowser()
		u, _ := url.Parse(e.URL)
		old.client.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: before, Path: "/"}})
		if code, _, _ := old.get("/assets"); code != http.StatusSeeOther {
			t.Errorf("the pre-MFA token still works: %d", code)
		}

		// Changing one's own password signs out the user's other sessions, not this one.
		one, two := e.newBrowser(), e.newBrowser()
		one.login("auditor")
		two.login("auditor")
		one.get("/account")
		newPW := "Another-Long-Passw0rd"
		if code, body, _ := one.post("/account/password", url.Values{"old_password": {testPassword}, "new_password": {newPW}, "new_password2": {newPW}}); code != http.StatusSeeOther {
			t.Fatalf("change password: %d %.300s", code, body)
		}
		if code, _, _ := one.get("/assets"); code != http.StatusOK {
			t.Errorf("the session that changed the password was signed out: %d", code)
		}
		if code, _, _ := two.get("/assets"); code != http.StatusSeeOther {
			t.Errorf("another session survived the password change: %d", code)
		}
	})
}

func TestErrorTextUsesEveryCatalogueArea(t *testing.T) {
	e := newTestEnv(t, storetest.Open(t, store.SQLite))
	s := e.srv
	// A module's own code is found under its area.
	if got := s.errorText("en", problem.Conflict("x").WithCode("stale_version")); !strings.Contains(got, "Someone else changed") {
		t.Errorf("asset code: %q", got)
	}
	// A field of a module is labelled once, from the module's labels.
	got := s.errorText("zh-CN", problem.Invalid("zone", "zone must be one of ..."))
	if strings.Count(got, "网络区域") != 1 || !strings.HasPrefix(got, "请检查") {
		t.Errorf("asset field: %q", got)
	}
	if got := s.errorText("en", &problem.Error{Kind: problem.KindInternal, Code: "internal", Message: "pq: secret detail"}); strings.Contains(got, "secret") {
		t.Errorf("internal error leaked: %q", got)
	}
}
