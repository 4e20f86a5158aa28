package auth

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

func TestLoginAndLockout(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, generous(Options{}))
		u := e.mkUser(t, e.adminA.Actor(""), e.hospA.ID, "nurse.li", RoleITOps)

		res, err := e.svc.Login(ctx, "Nurse.Li ", testPassword, "10.0.0.1", "test-agent")
		if err != nil {
			t.Fatalf("login: %v", err)
		}
		if res.User.ID != u.ID || res.NeedMFA || res.NeedMFAEnrolment || !res.Session.MFAOK {
			t.Fatalf("login result = %+v", res)
		}
		if res.Token == "" || res.Session.ID != hashToken(res.Token) || len(res.Session.CSRFToken) < 40 {
			t.Fatalf("token/session id/csrf not as specified: %+v", res.Session)
		}
		if dbContains(t, db, "sessions", []string{"id", "csrf_token"}, res.Token) {
			t.Fatal("the sessions table holds the plaintext session token")
		}
		if _, su, err := e.svc.Session(ctx, res.Token); err != nil || su.ID != u.ID {
			t.Fatalf("Session = %v, %v", su, err)
		}

		// Failures that must all look alike.
		for _, tc := range []struct{ name, user, pw string }{
			{"unknown user", "nobody", testPassword},
			{"wrong password", "nurse.li", "Wrong-Horse-9-Battery"},
			{"empty password", "nurse.li", ""},
		} {
			_, err := e.svc.Login(ctx, tc.user, tc.pw, "10.0.0.1", "")
			wantProblem(t, err, problem.KindUnauthorized, "bad_credentials")
		}
		// A success resets the count: 2 failures above + 2 more + success + 4 → not locked.
		for range 2 {
			_, err := e.svc.Login(ctx, "nurse.li", "Wrong-Horse-9-Battery", "10.0.0.1", "")
			wantProblem(t, err, problem.KindUnauthorized, "bad_credentials")
		}
		if _, err := e.svc.Login(ctx, "nurse.li", testPassword, "10.0.0.1", ""); err != nil {
			t.Fatalf("login after 4 failures: %v", err)
		}
		for i := 1; i <= 4; i++ {
			_, err := e.svc.Login(ctx, "nurse.li", "Wrong-Horse-9-Battery", "10.0.0.1", "")
			wantProblem(t, err, problem.KindUnauthorized, "bad_credentials")
		}
		got, err := e.svc.User(ctx, e.adminA.Actor(""), u.ID)
		if err != nil || got.FailedLogins != 4 || got.LockedUntil != nil {
			t.Fatalf("after 4 failures: %+v, %v", got, err)
		}
		// The fifth consecutive failure locks the account.
		_, err = e.svc.Login(ctx, "nurse.li", "Wrong-Horse-9-Battery", "10.0.0.1", "")
		wantProblem(t, err, problem.KindTooMany, "locked")
		got, _ = e.svc.User(ctx, e.adminA.Actor(""), u.ID)
		if got.LockedUntil == nil || !got.LockedUntil.Equal(e.clk.Now().Add(15*time.Minute)) {
			t.Fatalf("locked_until = %v, want now+15m", got.LockedUntil)
		}
		// Even the right password is refused while locked.
		e.clk.Advance(15*time.Minute - time.Second)
		_, err = e.svc.Login(ctx, "nurse.li", testPassword, "10.0.0.1", "")
		wantProblem(t, err, problem.KindTooMany, "locked")
		e.clk.Advance(time.Second)
		res, err = e.svc.Login(ctx, "nurse.li", testPassword, "10.0.0.1", "")
		if err != nil {
			t.Fatalf("login after the lockout ended: %v", err)
		}
		if res.User.FailedLogins != 0 || res.User.LockedUntil != nil || res.User.LastLoginAt == nil {
			t.Fatalf("after success: %+v", res.User)
		}

		// A disabled account is indistinguishable from a wrong password.
		mustNotErr(t, e.svc.DisableUser(ctx, e.adminA.Actor(""), u.ID))
		_, err = e.svc.Login(ctx, "nurse.li", testPassword, "10.0.0.1", "")
		wantProblem(t, err, problem.KindUnauthorized, "bad_credentials")
		if _, _, err := e.svc.Session(ctx, res.Token); err == nil {
			t.Fatal("a disabled user's session still works")
		}
		mustNotErr(t, e.svc.EnableUser(ctx, e.adminA.Actor(""), u.ID))
		if _, err := e.svc.Login(ctx, "nurse.li", testPassword, "10.0.0.1", ""); err != nil {
			t.Fatalf("login after enable: %v", err)
		}

		// A password typed into the username field must not reach the trail.
		_, err = e.svc.Login(ctx, "Secret-Passw0rd!", "x", "10.0.0.1", "")
		wantProblem(t, err, problem.KindUnauthorized, "bad_credentials")
		if e.svc.dummyHash == "" {
			t.Fatal("no Argon2 work was done for an unknown username (timing oracle)")
		}
		for _, secret := range []string{testPassword, "Wrong-Horse-9-Battery", "Secret-Passw0rd!"} {
			if dbContains(t, db, "trail", trailTextColumns, secret) {
				t.Fatalf("the trail contains %q", secret)
			}
		}
		acts := trailActions(t, db)
		for _, a := range []string{"auth.login", "auth.login_failed", "auth.locked", "user.create", "user.disable", "user.enable"} {
			if acts[a] == 0 {
				t.Errorf("no %s entry in the trail (have %v)", a, acts)
			}
		}
		if acts["auth.locked"] != 1 {
			t.Errorf("auth.locked entries = %d, want 1", acts["auth.locked"])
		}
	})
}

func TestLoginRateLimit(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, Options{}) // default limits: 10/min per IP, 5/min per username
		e.mkUser(t, e.adminA.Actor(""), e.hospA.ID, "dr.zhao", RoleSecurity)

		// Per username: five attempts a minute, whatever the address.
		for i := range 5 {
			ip := "10.1.0." + itoa(int64(i))
			if _, err := e.svc.Login(ctx, "dr.zhao", testPassword, ip, ""); err != nil {
				t.Fatalf("attempt %d: %v", i+1, err)
			}
		}
		_, err := e.svc.Login(ctx, "dr.zhao", testPassword, "10.1.0.99", "")
		wantProblem(t, err, problem.KindTooMany, "rate_limited")
		e.clk.Advance(time.Minute)
		if _, err := e.svc.Login(ctx, "dr.zhao", testPassword, "10.1.0.99", ""); err != nil {
			t.Fatalf("after a minute: %v", err)
		}

		// Per address: ten attempts a minute, whatever the username.
		for i := range 10 {
			_, err := e.svc.Login(ctx, "ghost"+itoa(int64(i)), "x", "10.2.0.1", "")
			wantProblem(t, err, problem.KindUnauthorized, "bad_credentials")
		}
		_, err = e.svc.Login(ctx, "someone-else", "x", "10.2.0.1", "")
		wantProblem(t, err, problem.KindTooMany, "rate_limited")
		// Another address is not affected.
		_, err = e.svc.Login(ctx, "someone-else", "x", "10.2.0.2", "")
		wantProblem(t, err, problem.KindUnauthorized, "bad_credentials")
		// A rate-limited attempt is not a counted failure: no lockout happened.
		got, err := e.svc.UserByName(ctx, e.root.Actor(""), "dr.zhao")
		if err != nil || got.LockedUntil != nil || got.FailedLogins != 0 {
			t.Fatalf("dr.zhao = %+v, %v", got, err)
		}
	})
}

func TestSessionExpiry(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, generous(Options{}))
		login := func() string {
			t.Helper()
			res, err := e.svc.Login(ctx, "admin-a", testPassword, "10.0.0.1", "ua")
			if err != nil {
				t.Fatal(err)
			}
			return res.Token
		}
		lastSeen := func(tok string) time.Time {
			t.Helper()
			var ts time.Time
			if err := db.QueryRowContext(ctx, `SELECT last_seen_at FROM sessions WHERE id = ?`, hashToken(tok)).Scan(&ts); err != nil {
				t.Fatal(err)
			}
			return ts.UTC()
		}

		// Idle timeout, sliding.
		tok := login()
		start := e.clk.Now()
		e.clk.Advance(30 * time.Second)
		if _, _, err := e.svc.Session(ctx, tok); err != nil {
			t.Fatal(err)
		}
		if !lastSeen(tok).Equal(start) {
			t.Fatalf("last_seen_at written after 30 s (at most once a minute)")
		}
		e.clk.Advance(29 * time.Minute)
		if _, _, err := e.svc.Session(ctx, tok); err != nil {
			t.Fatalf("after 29m30s idle: %v", err)
		}
		if !lastSeen(tok).Equal(e.clk.Now()) {
			t.Fatalf("last_seen_at not slid")
		}
		e.clk.Advance(29 * time.Minute)
		if _, _, err := e.svc.Session(ctx, tok); err != nil {
			t.Fatalf("29 min after the last request: %v", err)
		}
		e.clk.Advance(30 * time.Minute)
		_, _, err := e.svc.Session(ctx, tok)
		wantProblem(t, err, problem.KindUnauthorized, "no_session")
		var n int
		mustNotErr(t, db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sessions WHERE id = ?`, hashToken(tok)).Scan(&n))
		if n != 0 {
			t.Fatal("expired session row not deleted")
		}

		// Absolute lifetime: 12 h even when active.
		tok = login()
		for elapsed := time.Duration(0); elapsed < 12*time.Hour-20*time.Minute; elapsed += 20 * time.Minute {
			e.clk.Advance(20 * time.Minute)
			if _, _, err := e.svc.Session(ctx, tok); err != nil {
				t.Fatalf("active session died after %v: %v", elapsed+20*time.Minute, err)
			}
		}
		e.clk.Advance(20 * time.Minute) // now exactly 12 h
		_, _, err = e.svc.Session(ctx, tok)
		wantProblem(t, err, problem.KindUnauthorized, "no_session")

		// Logout ends the session and is recorded; an unknown token is a no-op.
		tok = login()
		mustNotErr(t, e.svc.Logout(ctx, tok, "10.0.0.1"))
		if _, _, err := e.svc.Session(ctx, tok); err == nil {
			t.Fatal("session alive after logout")
		}
		mustNotErr(t, e.svc.Logout(ctx, tok, "10.0.0.1"))
		mustNotErr(t, e.svc.Logout(ctx, "never-issued", "10.0.0.1"))

		// LogoutAll: own sessions, or another's with user.manage in scope.
		t1, t2 := login(), login()
		mustNotErr(t, e.svc.LogoutAll(ctx, e.adminA.Actor(""), e.adminA.ID))
		for _, tk := range []string{t1, t2} {
			if _, _, err := e.svc.Session(ctx, tk); err == nil {
				t.Fatal("session alive after LogoutAll")
			}
		}
		t3 := login()
		wantProblem(t, e.svc.LogoutAll(ctx, e.adminB.Actor(""), e.adminA.ID), problem.KindNotFound, "")
		if _, _, err := e.svc.Session(ctx, t3); err != nil {
			t.Fatal("another hospital's admin ended the session")
		}
		mustNotErr(t, e.svc.LogoutAll(ctx, e.root.Actor(""), e.adminA.ID))
		if _, _, err := e.svc.Session(ctx, t3); err == nil {
			t.Fatal("session alive after the root admin's LogoutAll")
		}
		if acts := trailActions(t, db); acts["auth.logout"] != 3 {
			t.Fatalf("auth.logout entries = %d, want 3", acts["auth.logout"])
		}
	})
}

func TestJSONHidesSecrets(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, generous(Options{}))
		a := e.adminA.Actor("")
		enr, err := e.svc.BeginMFAEnrolment(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		res, err := e.svc.Login(ctx, "admin-a", testPassword, "10.0.0.1", "")
		if err != nil {
			t.Fatal(err)
		}
		var hash string
		mustNotErr(t, db.QueryRowContext(ctx, `SELECT password_hash FROM users WHERE id = ?`, e.adminA.ID).Scan(&hash))
		b, err := json.Marshal(res)
		if err != nil {
			t.Fatal(err)
		}
		u, _ := json.Marshal(res.User)
		for _, secret := range []string{hash, enr.Secret, res.Session.CSRFToken, res.Session.ID, "password_hash", "mfa_secret", `"secret"`, "csrf"} {
			if strings.Contains(string(u), secret) {
				t.Errorf("user JSON contains %q: %s", secret, u)
			}
		}
		for _, secret := range []string{hash, enr.Secret, res.Session.CSRFToken, res.Session.ID} {
			if strings.Contains(string(b), secret) {
				t.Errorf("login result JSON contains a secret")
			}
		}
		if !strings.Contains(string(u), `"username":"admin-a"`) {
			t.Errorf("user JSON lacks the username: %s", u)
		}
	})
}
