package auth

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
	"github.com/medguard/medguard/internal/trail"
	"github.com/medguard/medguard/internal/trail/trailtest"
)

var recoveryCodeRE = regexp.MustCompile(`^[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$`)

func TestMFAEnrolmentAndVerification(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, generous(Options{}))
		u := e.mkUser(t, e.adminA.Actor(""), e.hospA.ID, "sec.chen", RoleSecurity)
		a := u.Actor("10.0.0.5")
		code := func() string {
			t.Helper()
			c, err := totp.GenerateCode(secretOf(t, db, u.ID), e.clk.Now())
			if err != nil {
				t.Fatal(err)
			}
			return c
		}

		_, err := e.svc.ConfirmMFAEnrolment(ctx, a, "123456")
		wantProblem(t, err, problem.KindConflict, "mfa_not_started")

		enr, err := e.svc.BeginMFAEnrolment(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		if enr.Secret == "" || enr.Secret != secretOf(t, db, u.ID) {
			t.Fatal("pending secret not stored")
		}
		if !strings.HasPrefix(enr.URL, "otpauth://totp/") || !strings.Contains(enr.URL, "issuer=medguard") || !strings.Contains(enr.URL, "sec.chen") {
			t.Fatalf("URL = %q", enr.URL)
		}
		if !bytes.HasPrefix(enr.QRPNG, []byte("\x89PNG\r\n\x1a\n")) {
			t.Fatal("QR code is not a PNG")
		}
		// Pending: MFA not on yet, login needs no code.
		if res, err := e.svc.Login(ctx, "sec.chen", testPassword, "10.0.0.5", ""); err != nil || res.NeedMFA {
			t.Fatalf("login with pending enrolment: %+v, %v", res, err)
		}

		wrong := "000000"
		if code() == wrong {
			wrong = "111111"
		}
		_, err = e.svc.ConfirmMFAEnrolment(ctx, a, wrong)
		wantProblem(t, err, problem.KindInvalid, "bad_mfa_code")
		enrolCode := code()
		codes, err := e.svc.ConfirmMFAEnrolment(ctx, a, " "+enrolCode[:3]+" "+enrolCode[3:]+" ")
		if err != nil {
			t.Fatalf("confirm: %v", err)
		}
		if len(codes) != 10 {
			t.Fatalf("%d recovery codes, want 10", len(codes))
		}
		seen := map[string]bool{}
		for _, c := range codes {
			if !recoveryCodeRE.MatchString(c) || seen[c] {
				t.Fatalf("recovery code %q malformed or repeated", c)
			}
			seen[c] = true
			if dbContains(t, db, "recovery_codes", []string{"code_hash"}, strings.ReplaceAll(c, "-", "")) {
				t.Fatal("recovery code stored in plaintext")
			}
		}
		if n, err := e.svc.RecoveryCodesLeft(ctx, u.ID); err != nil || n != 10 {
			t.Fatalf("RecoveryCodesLeft = %d, %v", n, err)
		}
		_, err = e.svc.BeginMFAEnrolment(ctx, a)
		wantProblem(t, err, problem.KindConflict, "mfa_enabled")

		// Login now needs the second factor.
		res, err := e.svc.Login(ctx, "sec.chen", testPassword, "10.0.0.5", "")
		if err != nil {
			t.Fatal(err)
		}
		if !res.NeedMFA || res.Session.MFAOK || !res.User.MFAEnabled {
			t.Fatalf("login result = %+v", res)
		}
		if ss, _, err := e.svc.Session(ctx, res.Token); err != nil || ss.MFAOK {
			t.Fatalf("session before MFA = %+v, %v", ss, err)
		}
		// The code used for enrolment cannot be used again.
		_, err = e.svc.VerifyMFA(ctx, res.Token, enrolCode, "10.0.0.5")
		wantProblem(t, err, problem.KindUnauthorized, "bad_mfa_code")
		e.clk.Advance(30 * time.Second)
		c := code()
		if _, err := e.svc.VerifyMFA(ctx, res.Token, c, "10.0.0.5"); err != nil {
			t.Fatalf("VerifyMFA: %v", err)
		}
		if ss, _, err := e.svc.Session(ctx, res.Token); err != nil || !ss.MFAOK {
			t.Fatalf("session after MFA = %+v, %v", ss, err)
		}
		// Nor can that one, on another session, nor the previous step's.
		res2, err := e.svc.Login(ctx, "sec.chen", testPassword, "10.0.0.5", "")
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.VerifyMFA(ctx, res2.Token, c, "10.0.0.5")
		wantProblem(t, err, problem.KindUnauthorized, "bad_mfa_code")
		// A code of the next step (clock skew) is accepted when not used before.
		e.clk.Advance(30 * time.Second)
		next, err := totp.GenerateCode(secretOf(t, db, u.ID), e.clk.Now().Add(30*time.Second))
		mustNotErr(t, err)
		if _, err := e.svc.VerifyMFA(ctx, res2.Token, next, "10.0.0.5"); err != nil {
			t.Fatalf("code of the next step: %v", err)
		}

		// A recovery code works once, typed in any case and with or without dashes.
		res3, err := e.svc.Login(ctx, "sec.chen", testPassword, "10.0.0.5", "")
		mustNotErr(t, err)
		if _, err := e.svc.VerifyMFA(ctx, res3.Token, strings.ToUpper(codes[3]), "10.0.0.5"); err != nil {
			t.Fatalf("recovery code: %v", err)
		}
		res4, err := e.svc.Login(ctx, "sec.chen", testPassword, "10.0.0.5", "")
		mustNotErr(t, err)
		_, err = e.svc.VerifyMFA(ctx, res4.Token, strings.ReplaceAll(codes[3], "-", ""), "10.0.0.5")
		wantProblem(t, err, problem.KindUnauthorized, "bad_mfa_code")
		if n, _ := e.svc.RecoveryCodesLeft(ctx, u.ID); n != 9 {
			t.Fatalf("RecoveryCodesLeft = %d, want 9", n)
		}
		if ss, _, _ := e.svc.Session(ctx, res4.Token); ss.MFAOK {
			t.Fatal("session marked MFA-verified after failures")
		}

		// Reset by an administrator: MFA off, codes gone, login needs no code.
		_, err = e.svc.VerifyMFA(ctx, res4.Token, "garbage", "10.0.0.5")
		wantProblem(t, err, problem.KindUnauthorized, "bad_mfa_code")
		wantProblem(t, e.svc.ResetMFA(ctx, e.adminB.Actor(""), u.ID), problem.KindNotFound, "")
		mustNotErr(t, e.svc.ResetMFA(ctx, e.adminA.Actor(""), u.ID))
		if n, _ := e.svc.RecoveryCodesLeft(ctx, u.ID); n != 0 {
			t.Fatalf("RecoveryCodesLeft after reset = %d", n)
		}
		if secretOf(t, db, u.ID) != "" {
			t.Fatal("secret kept after reset")
		}
		res5, err := e.svc.Login(ctx, "sec.chen", testPassword, "10.0.0.5", "")
		if err != nil || res5.NeedMFA || !res5.Session.MFAOK {
			t.Fatalf("login after reset: %+v, %v", res5, err)
		}
		_, err = e.svc.VerifyMFA(ctx, res5.Token, code(), "10.0.0.5")
		wantProblem(t, err, problem.KindConflict, "mfa_not_enabled")

		for _, s := range append([]string{enr.Secret}, codes...) {
			if dbContains(t, db, "trail", trailTextColumns, s) {
				t.Fatal("the trail contains an MFA secret or recovery code")
			}
		}
		acts := trailActions(t, db)
		if acts["user.mfa_enrol"] != 2 || acts["auth.mfa_verified"] != 3 || acts["auth.mfa_failed"] != 4 || acts["user.mfa_reset"] != 1 {
			t.Fatalf("trail actions = %v", acts)
		}
	})
}

// TestMFAStepThrottled: wrong codes at the MFA step slow down the account (whatever
// the address: whoever is there knows the password) with growing delays; an attempt
// during the wait is refused unchecked; nothing locks the account or ends the session.
func TestMFAStepThrottled(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, Options{})
		a := e.adminA.Actor("")
		_, err := e.svc.BeginMFAEnrolment(ctx, a)
		mustNotErr(t, err)
		secret := secretOf(t, db, e.adminA.ID)
		c, _ := totp.GenerateCode(secret, e.clk.Now())
		_, err = e.svc.ConfirmMFAEnrolment(ctx, a, c)
		mustNotErr(t, err)
		res, err := e.svc.Login(ctx, "admin-a", testPassword, "10.0.0.1", "")
		mustNotErr(t, err)
		other, err := e.svc.Login(ctx, "admin-a", testPassword, "10.0.0.2", "")
		mustNotErr(t, err)
		for range 5 {
			_, err := e.svc.VerifyMFA(ctx, res.Token, "999999", "10.0.0.1")
			wantProblem(t, err, problem.KindUnauthorized, "bad_mfa_code")
		}
		// The right code is refused unchecked during the wait, from any session and address.
		next, _ := totp.GenerateCode(secret, e.clk.Now().Add(30*time.Second))
		for _, tok := range []string{res.Token, other.Token} {
			_, err = e.svc.VerifyMFA(ctx, tok, next, "10.0.0.2")
			wantProblem(t, err, problem.KindTooMany, "rate_limited")
		}
		var step int64
		mustNotErr(t, db.QueryRowContext(ctx, `SELECT mfa_last_step FROM users WHERE id = ?`, e.adminA.ID).Scan(&step))
		if step != e.clk.Now().Unix()/30 {
			t.Fatal("a refused code was checked (its time step was claimed)")
		}
		// The session is not ended, the password still works, and after the wait the
		// right code completes the sign-in.
		if _, _, err := e.svc.Session(ctx, res.Token); err != nil {
			t.Fatalf("session after wrong codes: %v", err)
		}
		if _, err := e.svc.Login(ctx, "admin-a", testPassword, "10.0.0.1", ""); err != nil {
			t.Fatalf("password after wrong codes: %v", err)
		}
		e.clk.Advance(5*time.Second - time.Millisecond)
		_, err = e.svc.VerifyMFA(ctx, res.Token, next, "10.0.0.1")
		wantProblem(t, err, problem.KindTooMany, "rate_limited")
		e.clk.Advance(time.Millisecond)
		if _, err := e.svc.VerifyMFA(ctx, res.Token, next, "10.0.0.1"); err != nil {
			t.Fatalf("the right code after the wait: %v", err)
		}
		// The success cleared the account's count: five wrong codes are checked again.
		for range 5 {
			_, err := e.svc.VerifyMFA(ctx, other.Token, "999999", "10.0.0.2")
			wantProblem(t, err, problem.KindUnauthorized, "bad_mfa_code")
		}
		_, err = e.svc.VerifyMFA(ctx, other.Token, "999999", "10.0.0.2")
		wantProblem(t, err, problem.KindTooMany, "rate_limited")
		acts := trailActions(t, db)
		if acts["auth.mfa_failed"] != 10 || acts["auth.locked"] != 0 {
			t.Fatalf("trail actions = %v", acts)
		}
	})
}

func TestMFAPolicyRequiresEnrolment(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, generous(Options{}))
		e.svc = NewService(db, e.tl, generous(Options{Now: e.clk.Now, MFAPolicy: e.orgs}))
		if _, err := e.orgs.Update(ctx, e.root.Actor(""), e.region.ID, org.Input{Name: "R", MFARequired: true}); err != nil {
			t.Fatal(err)
		}
		res, err := e.svc.Login(ctx, "admin-b", testPassword, "", "")
		if err != nil {
			t.Fatal(err)
		}
		if !res.NeedMFAEnrolment || res.NeedMFA {
			t.Fatalf("NeedMFAEnrolment = %v, NeedMFA = %v; want true, false", res.NeedMFAEnrolment, res.NeedMFA)
		}
		if req, err := e.svc.MFARequired(ctx, res.User); err != nil || !req {
			t.Fatalf("MFARequired = %v, %v", req, err)
		}
		if _, err := e.orgs.Update(ctx, e.root.Actor(""), e.region.ID, org.Input{Name: "R"}); err != nil {
			t.Fatal(err)
		}
		res, err = e.svc.Login(ctx, "admin-b", testPassword, "", "")
		if err != nil || res.NeedMFAEnrolment {
			t.Fatalf("policy off: %+v, %v", res, err)
		}
	})
}

func secretOf(t *testing.T, db *store.DB, id int64) string {
	t.Helper()
	var s string
	if err := db.QueryRowContext(context.Background(), `SELECT mfa_secret FROM users WHERE id = ?`, id).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

func FuzzNormalizeRecoveryCode(f *testing.F) {
	f.Add("abcd-efgh-2345")
	f.Add("ABCDEFGH2345")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		c, ok := normalizeRecoveryCode(normalizeCode(s))
		if !ok {
			return
		}
		if len(c) != 12 || strings.Trim(c, "abcdefghijklmnopqrstuvwxyz234567") != "" {
			t.Fatalf("normalised %q to invalid %q", s, c)
		}
	})
}

// TestTOTPReplayRefusedAcrossRestart uses a code, then builds a fresh Service on the same
// database (a restart, or another replica): the same code must still be refused.
func TestTOTPReplayRefusedAcrossRestart(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		tl := trailtest.New(t, trail.SHA256)
		orgs := org.NewService(db, tl)
		h, err := orgs.Create(ctx, actor.System(), org.Input{Kind: org.KindHospital, Name: "H"})
		if err != nil {
			t.Fatal(err)
		}
		s1 := NewService(db, tl, Options{})
		u, err := s1.CreateUser(ctx, actor.System(), UserInput{OrgID: h.ID, Username: "wang", Role: RoleAuditor, Password: "Correct-Horse-42-battery"})
		if err != nil {
			t.Fatal(err)
		}
		a := u.Actor("10.0.0.1")
		en, err := s1.BeginMFAEnrolment(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		enrolCode, _ := totp.GenerateCode(en.Secret, now.Add(-30*time.Second))
		if _, err := s1.ConfirmMFAEnrolment(ctx, a, enrolCode); err != nil {
			t.Fatal(err)
		}
		res, err := s1.Login(ctx, "wang", "Correct-Horse-42-battery", "10.0.0.1", "test")
		if err != nil {
			t.Fatal(err)
		}
		code, _ := totp.GenerateCode(en.Secret, now)
		if _, err := s1.VerifyMFA(ctx, res.Token, code, "10.0.0.1"); err != nil {
			t.Fatalf("first use: %v", err)
		}
		s2 := NewService(db, tl, Options{}) // a restart: no memory of the first use
		res2, err := s2.Login(ctx, "wang", "Correct-Horse-42-battery", "10.0.0.1", "test")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s2.VerifyMFA(ctx, res2.Token, code, "10.0.0.1"); err == nil {
			t.Fatal("a used TOTP code was accepted again after a restart")
		}
		next, _ := totp.GenerateCode(en.Secret, now.Add(30*time.Second))
		if _, err := s2.VerifyMFA(ctx, res2.Token, next, "10.0.0.1"); err != nil {
			t.Fatalf("next step refused: %v", err)
		}
	})
}
