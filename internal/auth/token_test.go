package auth

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

func TestTokens(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, generous(Options{}))
		// Created by the system: no temporary password to change first.
		ops := e.mkUser(t, actor.System(), e.hospA.ID, "ops.sun", RoleITOps)
		other := e.mkUser(t, actor.System(), e.hospA.ID, "ops.ma", RoleITOps)
		a := ops.Actor("10.0.0.9")

		plain, tok, err := e.svc.CreateToken(ctx, a, ops.ID, "  backup script ", ScopeRead, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(plain, "mgt_") || len(plain) != 44 || tok.Prefix != plain[:12] || tok.Name != "backup script" {
			t.Fatalf("token %q / %+v not as specified", plain, tok)
		}
		if tok.ExpiresAt == nil || !tok.ExpiresAt.Equal(e.clk.Now().Add(time.Hour)) {
			t.Fatalf("expires_at = %v", tok.ExpiresAt)
		}
		var stored string
		mustNotErr(t, db.QueryRowContext(ctx, `SELECT token_hash FROM api_tokens WHERE id = ?`, tok.ID).Scan(&stored))
		if stored != hashToken(plain) {
			t.Fatal("token_hash is not the SHA-256 hex of the token")
		}
		if dbContains(t, db, "api_tokens", []string{"name", "prefix", "token_hash"}, plain) ||
			dbContains(t, db, "api_tokens", []string{"token_hash"}, plain[4:20]) ||
			dbContains(t, db, "trail", trailTextColumns, plain[4:20]) {
			t.Fatal("the database contains the plaintext token")
		}

		for _, bearer := range []string{plain, "Bearer " + plain, " bearer " + plain + " "} {
			u, got, err := e.svc.Authenticate(ctx, bearer)
			if err != nil || u.ID != ops.ID || got.ID != tok.ID || got.Scope != ScopeRead {
				t.Fatalf("Authenticate(%q) = %v, %+v, %v", bearer, u.ID, got, err)
			}
		}
		_, got, _ := e.svc.Authenticate(ctx, plain)
		if got.LastUsedAt == nil || !got.LastUsedAt.Equal(e.clk.Now()) {
			t.Fatalf("last_used_at = %v", got.LastUsedAt)
		}
		for _, bad := range []string{"", "mgt_", plain[:43], plain + "x", "mgt_" + strings.Repeat("A", 40), strings.Replace(plain, "mgt_", "mgx_", 1), plain[:43] + "!"} {
			_, _, err := e.svc.Authenticate(ctx, bad)
			wantProblem(t, err, problem.KindUnauthorized, "bad_token")
		}

		// Listing: own, or with user.read in scope.
		if ts, err := e.svc.Tokens(ctx, a, ops.ID); err != nil || len(ts) != 1 || ts[0].ID != tok.ID {
			t.Fatalf("Tokens = %v, %v", ts, err)
		}
		_, err = e.svc.Tokens(ctx, other.Actor(""), ops.ID)
		wantProblem(t, err, problem.KindForbidden, "")
		_, err = e.svc.Tokens(ctx, e.adminB.Actor(""), ops.ID)
		wantProblem(t, err, problem.KindNotFound, "")

		// Creating for others needs user.manage in scope.
		_, _, err = e.svc.CreateToken(ctx, other.Actor(""), ops.ID, "x", ScopeWrite, 0)
		wantProblem(t, err, problem.KindForbidden, "")
		_, _, err = e.svc.CreateToken(ctx, e.adminB.Actor(""), ops.ID, "x", ScopeWrite, 0)
		wantProblem(t, err, problem.KindNotFound, "")
		plain2, tok2, err := e.svc.CreateToken(ctx, e.adminA.Actor(""), ops.ID, "ci", ScopeWrite, 0)
		if err != nil || tok2.ExpiresAt != nil {
			t.Fatalf("admin creates token: %+v, %v", tok2, err)
		}
		for _, tc := range []struct {
			name, tname, scope string
			ttl                time.Duration
			field              string
		}{
			{"no name", " ", ScopeRead, 0, "name"},
			{"long name", strings.Repeat("n", 101), ScopeRead, 0, "name"},
			{"bad scope", "x", "admin", 0, "scope"},
			{"negative ttl", "x", ScopeRead, -time.Second, "ttl"},
		} {
			_, _, err := e.svc.CreateToken(ctx, a, ops.ID, tc.tname, tc.scope, tc.ttl)
			pe, ok := problem.As(err)
			if !ok || pe.Kind != problem.KindInvalid || pe.Field != tc.field {
				t.Errorf("%s: error %v, want invalid %s", tc.name, err, tc.field)
			}
		}

		// Expiry.
		e.clk.Advance(time.Hour)
		_, _, err = e.svc.Authenticate(ctx, plain)
		wantProblem(t, err, problem.KindUnauthorized, "bad_token")
		if _, _, err := e.svc.Authenticate(ctx, plain2); err != nil {
			t.Fatalf("token without expiry: %v", err)
		}

		// Revocation: not by an outsider (NotFound), by the owner, idempotent.
		wantProblem(t, e.svc.RevokeToken(ctx, other.Actor(""), tok2.ID), problem.KindNotFound, "")
		wantProblem(t, e.svc.RevokeToken(ctx, e.adminB.Actor(""), tok2.ID), problem.KindNotFound, "")
		wantProblem(t, e.svc.RevokeToken(ctx, a, 99999), problem.KindNotFound, "")
		if _, _, err := e.svc.Authenticate(ctx, plain2); err != nil {
			t.Fatalf("token revoked by an outsider: %v", err)
		}
		mustNotErr(t, e.svc.RevokeToken(ctx, a, tok2.ID))
		mustNotErr(t, e.svc.RevokeToken(ctx, a, tok2.ID))
		_, _, err = e.svc.Authenticate(ctx, plain2)
		wantProblem(t, err, problem.KindUnauthorized, "bad_token")

		// A disabled user's tokens stop working, and work again once enabled.
		// A gateway's token: limited to the pre-send check, stored as a write token
		// with the permission beside it, read back with its own scope.
		plainGW, tokGW, err := e.svc.CreateToken(ctx, a, ops.ID, "mail gateway", ScopeDLPCheck, 0)
		if err != nil || tokGW.Scope != ScopeDLPCheck {
			t.Fatalf("gateway token %+v, %v", tokGW, err)
		}
		if _, got, err := e.svc.Authenticate(ctx, plainGW); err != nil || got.Scope != ScopeDLPCheck {
			t.Fatalf("Authenticate(gateway) = %+v, %v", got, err)
		}
		if toks, err := e.svc.Tokens(ctx, a, ops.ID); err != nil || !slices.ContainsFunc(toks, func(t Token) bool { return t.ID == tokGW.ID && t.Scope == ScopeDLPCheck }) {
			t.Fatalf("Tokens = %+v, %v", toks, err)
		}
		plain3, _, err := e.svc.CreateToken(ctx, a, ops.ID, "third", ScopeRead, 0)
		mustNotErr(t, err)
		mustNotErr(t, e.svc.DisableUser(ctx, e.adminA.Actor(""), ops.ID))
		_, _, err = e.svc.Authenticate(ctx, plain3)
		wantProblem(t, err, problem.KindUnauthorized, "bad_token")
		mustNotErr(t, e.svc.EnableUser(ctx, e.adminA.Actor(""), ops.ID))
		if _, _, err := e.svc.Authenticate(ctx, plain3); err != nil {
			t.Fatalf("after enable: %v", err)
		}

		acts := trailActions(t, db)
		if acts["token.create"] != 4 || acts["token.revoke"] != 1 {
			t.Fatalf("trail actions = %v", acts)
		}
	})
}

func FuzzParseBearer(f *testing.F) {
	f.Add("mgt_0123456789abcdefghijABCDEFGHIJ0123456789")
	f.Add("Bearer mgt_0123456789abcdefghijABCDEFGHIJ0123456789")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		tok, ok := parseBearer(s)
		if !ok {
			return
		}
		if len(tok) != 44 || !strings.HasPrefix(tok, TokenPrefix) || strings.Trim(tok[4:], base62) != "" {
			t.Fatalf("accepted %q as %q", s, tok)
		}
	})
}

func TestNewAPITokenAlphabet(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 200 {
		tok, err := newAPIToken()
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := parseBearer(tok); !ok || seen[tok] {
			t.Fatalf("bad or repeated token %q", tok)
		}
		seen[tok] = true
	}
}

// TestTokenCovers is the scope table: what each kind of token may do, given what the
// user's role allows.
func TestTokenCovers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		scope string
		perm  Permission
		write bool
		want  bool
	}{
		{ScopeWrite, PermAssetWrite, true, true},
		{ScopeWrite, PermDLPCheck, true, true},
		{ScopeRead, PermAssetRead, false, true},
		{ScopeRead, PermAssetWrite, true, false},
		{ScopeRead, PermDLPCheck, true, false},
		{ScopeDLPCheck, PermDLPCheck, true, true},
		{ScopeDLPCheck, PermDLPScan, true, false},
		{ScopeDLPCheck, PermDLPRead, false, false},
		{ScopeDLPCheck, PermSelf, false, false},
		{ScopeDLPCheck, PermEventsIngest, true, false},
		{ScopeEventsIngest, PermEventsIngest, true, true},
		{ScopeEventsIngest, PermDLPCheck, true, false},
		{ScopeEventsIngest, PermAssetRead, false, false},
		{ScopeRead, PermEventsIngest, true, false},
		{ScopeWrite, PermEventsIngest, true, true},
		{ScopeAppReport, PermAppReport, true, true},
		{ScopeAppReport, PermAppRead, false, false},
		{ScopeAppReport, PermAppObserve, true, false},
		{ScopeEventsIngest, PermAppReport, true, false},
		{"admin", PermAssetRead, false, false},
	}
	for _, tt := range tests {
		if got := (Token{Scope: tt.scope}).Covers(tt.perm, tt.write); got != tt.want {
			t.Errorf("%s token covers %s (write %v) = %v, want %v", tt.scope, tt.perm, tt.write, got, tt.want)
		}
	}
	if (Token{Scope: ScopeDLPCheck}).Permits(RoleAuditor, PermDLPCheck) {
		t.Error("a dlp.check token of an auditor permits the check: the role does not")
	}
	if !(Token{Scope: ScopeDLPCheck}).Permits(RoleITOps, PermDLPCheck) {
		t.Error("a dlp.check token of IT operations does not permit the check")
	}
}

// TestTokensNeedCompletedSteps: an API token is no way around a forced password change
// or a required MFA enrolment. Such a user cannot be given a token (by itself, an
// administrator or the CLI operator), an administrator's reset revokes the user's
// tokens, and a token of a user who has a step to complete is refused with the step's
// code.
func TestTokensNeedCompletedSteps(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, generous(Options{}))
		e.svc = NewService(db, e.tl, generous(Options{Now: e.clk.Now, MFAPolicy: e.orgs}))

		// A user an administrator created has a temporary password: no token for it.
		fresh := e.mkUser(t, e.adminA.Actor(""), e.hospA.ID, "nurse.wu", RoleITOps)
		if !fresh.MustChangePassword {
			t.Fatal("a user created by an administrator need not change the password")
		}
		for _, a := range []actor.Actor{fresh.Actor(""), e.adminA.Actor(""), actor.CLI()} {
			_, _, err := e.svc.CreateToken(ctx, a, fresh.ID, "x", ScopeRead, 0)
			wantProblem(t, err, problem.KindForbidden, "password_change_required")
		}

		// An administrator's reset revokes every live token of the user, trailed.
		ops := e.mkUser(t, actor.System(), e.hospA.ID, "ops.qin", RoleITOps)
		p1, t1, err := e.svc.CreateToken(ctx, ops.Actor(""), ops.ID, "one", ScopeWrite, 0)
		mustNotErr(t, err)
		p2, _, err := e.svc.CreateToken(ctx, e.adminA.Actor(""), ops.ID, "two", ScopeRead, time.Hour)
		mustNotErr(t, err)
		mustNotErr(t, e.svc.RevokeToken(ctx, ops.Actor(""), t1.ID))
		before := trailActions(t, db)["token.revoke"]
		mustNotErr(t, e.svc.SetPassword(ctx, e.adminA.Actor(""), ops.ID, "Temporary-Passw0rd-77"))
		for _, p := range []string{p1, p2} {
			_, _, err := e.svc.Authenticate(ctx, p)
			wantProblem(t, err, problem.KindUnauthorized, "bad_token")
		}
		toks, err := e.svc.Tokens(ctx, e.adminA.Actor(""), ops.ID)
		mustNotErr(t, err)
		for _, tk := range toks {
			if tk.RevokedAt == nil {
				t.Fatalf("token %q survived the reset", tk.Name)
			}
		}
		if got := trailActions(t, db)["token.revoke"] - before; got != 1 {
			t.Fatalf("token.revoke entries for the reset = %d, want 1 (one live token)", got)
		}
		_, _, err = e.svc.CreateToken(ctx, actor.CLI(), ops.ID, "after reset", ScopeRead, 0)
		wantProblem(t, err, problem.KindForbidden, "password_change_required")
		// A scripted password (the demo seeder's) is no reset: tokens stay.
		mustNotErr(t, e.svc.ChangeOwnPassword(ctx, ops.Actor(""), "Temporary-Passw0rd-77", testPassword))
		p3, _, err := e.svc.CreateToken(ctx, ops.Actor(""), ops.ID, "three", ScopeRead, 0)
		mustNotErr(t, err)
		mustNotErr(t, e.svc.SetPasswordNoChange(ctx, actor.System(), ops.ID, "Scripted-Passw0rd-88"))
		if _, _, err := e.svc.Authenticate(ctx, p3); err != nil {
			t.Fatalf("a scripted password revoked the token: %v", err)
		}

		// A token from before a reset (made by an older version) does not work while the
		// password must be changed, and is revoked when the user changes it.
		if _, err := db.ExecContext(ctx, `UPDATE users SET must_change_password = ? WHERE id = ?`, true, ops.ID); err != nil {
			t.Fatal(err)
		}
		_, _, err = e.svc.Authenticate(ctx, p3)
		wantProblem(t, err, problem.KindForbidden, "password_change_required")
		mustNotErr(t, e.svc.ChangeOwnPassword(ctx, ops.Actor(""), "Scripted-Passw0rd-88", testPassword))
		_, _, err = e.svc.Authenticate(ctx, p3)
		wantProblem(t, err, problem.KindUnauthorized, "bad_token")

		// MFA required by the organisation and not set up: no token, and an existing one
		// is refused until the user enrols.
		p4, _, err := e.svc.CreateToken(ctx, ops.Actor(""), ops.ID, "four", ScopeRead, 0)
		mustNotErr(t, err)
		if _, err := e.orgs.Update(ctx, e.root.Actor(""), e.hospA.ID, org.Input{Name: "A", MFARequired: true}); err != nil {
			t.Fatal(err)
		}
		_, _, err = e.svc.Authenticate(ctx, p4)
		wantProblem(t, err, problem.KindForbidden, "mfa_enrolment_required")
		for _, a := range []actor.Actor{ops.Actor(""), e.adminA.Actor(""), actor.CLI()} {
			_, _, err := e.svc.CreateToken(ctx, a, ops.ID, "x", ScopeRead, 0)
			wantProblem(t, err, problem.KindForbidden, "mfa_enrolment_required")
		}
		enr, err := e.svc.BeginMFAEnrolment(ctx, ops.Actor(""))
		mustNotErr(t, err)
		code, err := totp.GenerateCode(enr.Secret, e.clk.Now())
		mustNotErr(t, err)
		if _, err := e.svc.ConfirmMFAEnrolment(ctx, ops.Actor(""), code); err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.svc.Authenticate(ctx, p4); err != nil {
			t.Fatalf("token after enrolment: %v", err)
		}
		if _, _, err := e.svc.CreateToken(ctx, ops.Actor(""), ops.ID, "five", ScopeRead, 0); err != nil {
			t.Fatalf("token after enrolment: %v", err)
		}
	})
}
