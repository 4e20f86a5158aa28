package web

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// fullToken matches a whole API token (lists show only the first 12 characters).
var fullToken = regexp.MustCompile(`mgt_[0-9A-Za-z]{40}`)

// sessionAPI calls the JSON API with b's session cookie and CSRF token.
func (b *browser) sessionAPI(method, path, body string) (int, []byte) {
	b.e.t.Helper()
	req, err := http.NewRequest(method, b.e.URL+path, strings.NewReader(body))
	if err != nil {
		b.e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(csrfHeader, b.csrf)
	code, out, _ := do(b.e.t, b.client, req)
	return code, out
}

// TestTokensNeedCompletedSteps: over real HTTP, an API token is no way around a forced
// password change or a required MFA enrolment.
func TestTokensNeedCompletedSteps(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db)
		ctx := context.Background()
		const tokenReq = `{"name":"sneaky","scope":"write"}`

		// An administrator resets the auditor's password: the auditor's token dies.
		code, body := e.api("GET", "/api/v1/assets", "auditor", nil)
		if code != http.StatusOK {
			t.Fatalf("auditor's token before the reset: %d %s", code, body)
		}
		auditorID := strconv.FormatInt(e.Users["auditor"].ID, 10)
		code, body = e.api("POST", "/api/v1/users/"+auditorID+"/password", "admin", map[string]string{"password": "Temporary-Passw0rd-55"})
		if code != http.StatusNoContent {
			t.Fatalf("reset: %d %s", code, body)
		}
		code, body = e.api("GET", "/api/v1/assets", "auditor", nil)
		wantAPIError(t, code, body, http.StatusUnauthorized, "bad_token")

		// Signed in with the temporary password, the auditor gets no new token: not from
		// the account page, not from the API.
		b := e.newBrowser()
		b.get("/login")
		if code, _, _ := b.post("/login", url.Values{"username": {"auditor"}, "password": {"Temporary-Passw0rd-55"}}); code != http.StatusSeeOther {
			t.Fatalf("sign-in with the temporary password: %d", code)
		}
		if code, _, h := b.get("/assets"); code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/account") {
			t.Fatalf("assets with a temporary password: %d %q", code, h.Get("Location"))
		}
		b.get("/account")
		code, page, _ := b.post("/account/tokens", url.Values{"name": {"sneaky"}, "scope": {"write"}, "days": {"0"}})
		if code != http.StatusForbidden || fullToken.MatchString(page) || !strings.Contains(page, "new password") {
			t.Fatalf("token from the account page with a temporary password: %d %.400s", code, page)
		}
		code, body = b.sessionAPI("POST", "/api/v1/tokens", tokenReq)
		wantAPIError(t, code, body, http.StatusForbidden, "password_change_required")
		toks, err := e.Auth.Tokens(ctx, actor.System(), e.Users["auditor"].ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, tk := range toks {
			if tk.RevokedAt == nil {
				t.Fatalf("the auditor holds a live token %q", tk.Name)
			}
		}

		// A token from before a reset (older versions kept it) is refused, on every
		// route, while the change is pending.
		if _, err := db.ExecContext(ctx, `UPDATE users SET must_change_password = ? WHERE id = ?`, true, e.Users["privacy"].ID); err != nil {
			t.Fatal(err)
		}
		for _, path := range []string{"/api/v1/assets", "/api/v1/tokens"} {
			code, body = e.api("GET", path, "privacy", nil)
			wantAPIError(t, code, body, http.StatusForbidden, "password_change_required")
		}
		code, body = e.api("POST", "/api/v1/tokens", "privacy", tokenReq)
		wantAPIError(t, code, body, http.StatusForbidden, "password_change_required")

		// Hospital A requires MFA: IT operations' token stops until it enrols, and its
		// enrolment-pending session gets no token.
		if _, err := e.Orgs.Update(ctx, actor.System(), e.HospA.ID, org.Input{Name: e.HospA.Name, Code: e.HospA.Code, MFARequired: true}); err != nil {
			t.Fatal(err)
		}
		for _, path := range []string{"/api/v1/assets", "/api/v1/tokens"} {
			code, body = e.api("GET", path, "itops", nil)
			wantAPIError(t, code, body, http.StatusForbidden, "mfa_enrolment_required")
		}
		it := e.newBrowser()
		it.get("/login")
		if code, _, h := it.post("/login", url.Values{"username": {"itops"}, "password": {testPassword}}); code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/account/mfa") {
			t.Fatalf("sign-in under the MFA policy: %d %q", code, h.Get("Location"))
		}
		it.get("/account")
		code, page, _ = it.post("/account/tokens", url.Values{"name": {"sneaky"}, "scope": {"write"}, "days": {"0"}})
		if code != http.StatusForbidden || fullToken.MatchString(page) || !strings.Contains(page, "requires two-step verification") {
			t.Fatalf("token from the account page before enrolment: %d %.400s", code, page)
		}
		code, body = it.sessionAPI("POST", "/api/v1/tokens", tokenReq)
		wantAPIError(t, code, body, http.StatusForbidden, "mfa_enrolment_required")
		// Hospital B has no such policy: its token still works.
		if code, body := e.api("GET", "/api/v1/assets", "secofficer_b", nil); code != http.StatusOK {
			t.Fatalf("hospital B's token: %d %s", code, body)
		}
	})
}

// newBrowserFrom is newBrowser with connections from the loopback address ip, so that
// the server sees another client (all of 127.0.0.0/8 is loopback on Linux). The test is
// skipped where such an address cannot be used, and fails under CI=true.
func (e *testEnv) newBrowserFrom(ip string) *browser {
	e.t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}
	c, err := d.Dial("tcp", strings.TrimPrefix(e.URL, "http://"))
	if err != nil {
		if os.Getenv("CI") == "true" {
			e.t.Fatalf("cannot connect from %s: %v (CI must run the throttle test from several addresses)", ip, err)
		}
		e.t.Skipf("cannot connect from %s: %v", ip, err)
	}
	c.Close()
	b := e.newBrowser()
	b.client.Transport = &http.Transport{DialContext: d.DialContext}
	return b
}

// TestLoginThrottleOverHTTP: an attacker guessing an account's password from one
// address neither locks the account nor learns anything: the refused attempt, an
// unknown username and a wrong password get the same answer, and the user signs in
// from another address at once.
func TestLoginThrottleOverHTTP(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db)
		const wrong = "Wrong-Password-99"
		post := func(b *browser, user, pw string) (int, string, http.Header) {
			t.Helper()
			return b.post("/login", url.Values{"username": {user}, "password": {pw}, "next": {"/"}})
		}
		attacker := e.newBrowserFrom("127.0.0.2")
		attacker.get("/login")
		for range 5 {
			if code, _, _ := post(attacker, "secofficer", wrong); code != http.StatusUnauthorized {
				t.Fatalf("wrong password: %d", code)
			}
		}
		type answer struct {
			code int
			body string
			h    http.Header
		}
		ask := func(user, pw string) answer {
			t.Helper()
			code, body, h := post(attacker, user, pw)
			// The form shows the username typed back: the one part allowed to differ.
			return answer{code, strings.ReplaceAll(body, `value="`+user+`"`, `value="USER"`), h}
		}
		answers := map[string]answer{
			"refused (right password)": ask("secofficer", testPassword),
			"unknown username":         ask("zz.nobody", wrong),
			"wrong password":           ask("auditor", wrong),
		}
		want := answers["wrong password"]
		if want.code != http.StatusUnauthorized || !strings.Contains(want.body, "Wrong username or password") || !strings.Contains(want.body, `value="USER"`) {
			t.Fatalf("wrong password: %d %.300s", want.code, want.body)
		}
		for name, a := range answers {
			if a.code != want.code || a.body != want.body {
				t.Errorf("%s: status %d, body differs from a wrong password's: %v", name, a.code, a.body != want.body)
			}
			for _, h := range []string{"Retry-After", "Set-Cookie", "Location"} {
				if a.h.Get(h) != "" {
					t.Errorf("%s: %s header %q", name, h, a.h.Get(h))
				}
			}
		}

		// The security officer, at the hospital, signs in at once; the attacker still
		// cannot, even with the right password.
		e.newBrowserFrom("127.0.0.3").login("secofficer")
		if code, _, _ := post(attacker, "secofficer", testPassword); code != http.StatusUnauthorized {
			t.Fatalf("the attacker's address with the right password: %d", code)
		}

		// Twenty failures from one address, whatever the usernames: the address waits.
		sprayer := e.newBrowserFrom("127.0.0.4")
		sprayer.get("/login")
		for i := range 20 {
			if code, _, _ := post(sprayer, "guess"+strconv.Itoa(i), wrong); code != http.StatusUnauthorized {
				t.Fatalf("spray %d: %d", i, code)
			}
		}
		if code, _, _ := post(sprayer, "auditor", testPassword); code != http.StatusUnauthorized {
			t.Fatalf("a throttled address signed in: %d", code)
		}
		e.newBrowserFrom("127.0.0.5").login("auditor")

		// The trail has every checked failure and no lockout.
		acts := map[string]int{}
		rows, err := db.QueryContext(context.Background(), `SELECT action FROM trail`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var a string
			if err := rows.Scan(&a); err != nil {
				t.Fatal(err)
			}
			acts[a]++
		}
		if acts["auth.login_failed"] != 5+2+20 || acts["auth.locked"] != 0 {
			t.Fatalf("auth.login_failed = %d (want 27), auth.locked = %d", acts["auth.login_failed"], acts["auth.locked"])
		}
	})
}
