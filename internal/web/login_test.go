package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

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
