package auth

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

func TestLoginAndFailures(t *testing.T) {
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
		// Failures are counted for administrators to see, and a success resets the count;
		// nothing locks the account.
		for range 20 {
			_, err := e.svc.Login(ctx, "nurse.li", "Wrong-Horse-9-Battery", "10.0.0.1", "")
			wantProblem(t, err, problem.KindUnauthorized, "bad_credentials")
		}
		got, err := e.svc.User(ctx, e.adminA.Actor(""), u.ID)
		if err != nil || got.FailedLogins != 22 || lockedUsers(t, db) != 0 {
			t.Fatalf("after 22 failures: %+v, %v", got, err)
		}
		res, err = e.svc.Login(ctx, "nurse.li", testPassword, "10.0.0.1", "")
		if err != nil {
			t.Fatalf("login after 22 failures: %v", err)
		}
		if res.User.FailedLogins != 0 || lockedUsers(t, db) != 0 || res.User.LastLoginAt == nil {
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
		for _, a := range []string{"auth.login", "auth.login_failed", "user.create", "user.disable", "user.enable"} {
			if acts[a] == 0 {
				t.Errorf("no %s entry in the trail (have %v)", a, acts)
			}
		}
		if acts["auth.login_failed"] != 25 || acts["auth.locked"] != 0 {
			t.Errorf("auth.login_failed = %d (want 25), auth.locked = %d (want 0)", acts["auth.login_failed"], acts["auth.locked"])
		}
	})
}

// throttleOpts are the sign-in throttle of TestLoginThrottle: the defaults, spelled out.
var throttleOpts = Options{LoginFree: 5, AddressFree: 20, ThrottleBase: 5 * time.Second, ThrottleMax: 15 * time.Minute, ThrottleForget: time.Hour}

// TestLoginThrottle: failed sign-ins slow down the username tried from an address, and
// the address, with growing delays; nobody is locked out, the right password from
// another address works at once, and a refused attempt looks exactly like a wrong
// password or an unknown user.
func TestLoginThrottle(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, throttleOpts)
		const wrong = "Wrong-Horse-9-Battery"
		const attacker, home = "203.0.113.66", "10.0.0.1"
		login := func(name, pw, ip string) error {
			t.Helper()
			_, err := e.svc.Login(ctx, name, pw, ip, "")
			return err
		}
		failures := func() (int, int) {
			t.Helper()
			u, err := e.svc.UserByName(ctx, e.root.Actor(""), "admin-a")
			mustNotErr(t, err)
			return u.FailedLogins, trailActions(t, db)["auth.login_failed"]
		}

		// Five free guesses at admin-a from the attacker's address.
		for range 5 {
			wantProblem(t, login("admin-a", wrong, attacker), problem.KindUnauthorized, "bad_credentials")
		}
		// The sixth, even with the right password, is refused unchecked: not counted on
		// the account, not trailed.
		n, trailed := failures()
		locked := login("admin-a", testPassword, attacker)
		wantProblem(t, locked, problem.KindUnauthorized, "bad_credentials")
		if n2, t2 := failures(); n2 != n || t2 != trailed {
			t.Fatalf("a refused attempt was checked: failed_logins %d -> %d, trail %d -> %d", n, n2, trailed, t2)
		}
		// It looks exactly like an unknown user and a wrong password.
		unknown := login("no.such.user", wrong, attacker)
		bad := login("admin-b", wrong, attacker)
		lp, up, bp := problemOf(t, locked), problemOf(t, unknown), problemOf(t, bad)
		if *lp != *up || *lp != *bp {
			t.Fatalf("refused %+v, unknown %+v, wrong password %+v: not alike", lp, up, bp)
		}
		// The administrator, from the hospital, signs in at once.
		if err := login("admin-a", testPassword, home); err != nil {
			t.Fatalf("the right password from another address: %v", err)
		}
		// So does anyone else from the attacker's address (only 7 failures there so far).
		if err := login("admin-b", testPassword, attacker); err != nil {
			t.Fatalf("another account from the attacker's address: %v", err)
		}

		// The delay doubles with each checked failure, up to 15 minutes.
		wait := 5 * time.Second
		for i := range 12 {
			e.clk.Advance(wait - time.Millisecond)
			wantProblem(t, login("admin-a", testPassword, attacker), problem.KindUnauthorized, "bad_credentials")
			e.clk.Advance(time.Millisecond)
			before, _ := failures()
			wantProblem(t, login("admin-a", wrong, attacker), problem.KindUnauthorized, "bad_credentials")
			if after, _ := failures(); after != before+1 {
				t.Fatalf("step %d: the attempt after %v was not checked", i, wait)
			}
			wait = min(2*wait, 15*time.Minute)
		}
		if wait != 15*time.Minute {
			t.Fatalf("delay after 17 failures = %v", wait)
		}
		// Still waiting, and never a lock: after the wait the right password works.
		e.clk.Advance(wait - time.Millisecond)
		wantProblem(t, login("admin-a", testPassword, attacker), problem.KindUnauthorized, "bad_credentials")
		e.clk.Advance(time.Millisecond)
		if err := login("admin-a", testPassword, attacker); err != nil {
			t.Fatalf("after the last wait: %v", err)
		}
		// A success clears the username's count for that address: a user who mistyped
		// four times and then got in has five free attempts again.
		checked := func(name string) int {
			t.Helper()
			u, err := e.svc.UserByName(ctx, e.root.Actor(""), name)
			mustNotErr(t, err)
			return u.FailedLogins
		}
		for range 4 {
			wantProblem(t, login("admin-b", wrong, home), problem.KindUnauthorized, "bad_credentials")
		}
		if err := login("admin-b", testPassword, home); err != nil {
			t.Fatalf("after four mistakes: %v", err)
		}
		for range 5 {
			wantProblem(t, login("admin-b", wrong, home), problem.KindUnauthorized, "bad_credentials")
		}
		if n := checked("admin-b"); n != 5 {
			t.Fatalf("after a success, %d of 5 attempts were checked", n)
		}
		wantProblem(t, login("admin-b", testPassword, home), problem.KindUnauthorized, "bad_credentials")

		// An unknown username is throttled exactly like a real one.
		for range 5 {
			wantProblem(t, login("ghost", wrong, "198.51.100.7"), problem.KindUnauthorized, "bad_credentials")
		}
		before := trailActions(t, db)["auth.login_failed"]
		wantProblem(t, login("ghost", wrong, "198.51.100.7"), problem.KindUnauthorized, "bad_credentials")
		if trailActions(t, db)["auth.login_failed"] != before {
			t.Fatal("a refused attempt for an unknown username was checked")
		}

		// Spraying many usernames from one address: after 20 failures the address waits,
		// whatever the username; other addresses do not.
		const sprayer = "192.0.2.9"
		for i := range 20 {
			wantProblem(t, login("user"+itoa(int64(i)), wrong, sprayer), problem.KindUnauthorized, "bad_credentials")
		}
		wantProblem(t, login("admin-b", testPassword, sprayer), problem.KindUnauthorized, "bad_credentials")
		if err := login("admin-b", testPassword, "192.0.2.10"); err != nil {
			t.Fatalf("a neighbouring address: %v", err)
		}
		// One IPv6 host holds a whole /64: it is one address to the throttle.
		for i := range 20 {
			wantProblem(t, login("user"+itoa(int64(i)), wrong, "2001:db8:1:2::"+itoa(int64(i+1))), problem.KindUnauthorized, "bad_credentials")
		}
		wantProblem(t, login("admin-b", testPassword, "2001:db8:1:2:ffff::1"), problem.KindUnauthorized, "bad_credentials")
		if err := login("admin-b", testPassword, "2001:db8:1:3::1"); err != nil {
			t.Fatalf("another /64: %v", err)
		}
		// An hour without failures and the address starts afresh.
		e.clk.Advance(time.Hour)
		if err := login("admin-b", testPassword, sprayer); err != nil {
			t.Fatalf("an hour later: %v", err)
		}

		acts := trailActions(t, db)
		if acts["auth.locked"] != 0 {
			t.Errorf("auth.locked entries = %d", acts["auth.locked"])
		}
		if n := lockedUsers(t, db); n != 0 {
			t.Errorf("%d accounts have locked_until set", n)
		}
	})
}

// TestLoginThrottleParallel: attempts sent at once cannot all slip through before the
// first failure is recorded.
func TestLoginThrottleParallel(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, throttleOpts)
		var wg sync.WaitGroup
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _ = e.svc.Login(ctx, "admin-a", "Wrong-Horse-9-Battery", "203.0.113.66", "")
			}()
		}
		wg.Wait()
		u, err := e.svc.UserByName(ctx, e.root.Actor(""), "admin-a")
		mustNotErr(t, err)
		if u.FailedLogins != 5 {
			t.Fatalf("%d of 16 parallel guesses were checked, want 5", u.FailedLogins)
		}
	})
}

func problemOf(t *testing.T, err error) *problem.Error {
	t.Helper()
	pe, ok := problem.As(err)
	if !ok {
		t.Fatalf("not a problem: %v", err)
	}
	return pe
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

// lockedUsers counts the accounts whose locked_until column is set: only versions
// before the sign-in throttle wrote it, and nothing may lock an account now.
func lockedUsers(t *testing.T, db *store.DB) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM users WHERE locked_until IS NOT NULL`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
