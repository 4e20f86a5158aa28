package auth

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"fmt"
	"image/png"
	"net/url"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

// RecoveryCodeCount is how many recovery codes an enrolment issues.
const RecoveryCodeCount = 10

// totpPeriod is the TOTP time step.
const totpPeriod = 30

var totpOpts = totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// Enrolment is a pending TOTP secret to show the user: as text, as an otpauth:// URL
// and as a QR code (PNG).
type Enrolment struct {
	Secret string `json:"secret"`
	URL    string `json:"url"`
	QRPNG  []byte `json:"-"`
}

// BeginMFAEnrolment generates and stores a pending TOTP secret for a's own account
// (replacing any earlier pending one). Conflict if MFA is already on.
func (s *Service) BeginMFAEnrolment(ctx context.Context, a actor.Actor) (Enrolment, error) {
	if a.UserID == 0 {
		return Enrolment{}, problem.Unauthorized("sign in first")
	}
	var key *otp.Key
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		u, err := loadUser(ctx, tx, "id", a.UserID)
		if err != nil {
			return err
		}
		if u.MFAEnabled {
			return problem.Conflict("multi-factor authentication is already on").WithCode("mfa_enabled").WithMsg("error.msg.mfa_enabled")
		}
		if u.secret != "" {
			// An enrolment is already pending: show the same secret again, so that a
			// reload (or a second tab) does not invalidate what the user has scanned.
			key, err = pendingKey(s.opts.Issuer, u.Username, u.secret)
			return err
		}
		key, err = totp.Generate(totp.GenerateOpts{Issuer: s.opts.Issuer, AccountName: u.Username, Period: totpPeriod})
		if err != nil {
			return fmt.Errorf("auth: generate totp secret: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET mfa_secret = ?, updated_at = ? WHERE id = ?`, key.Secret(), s.now(), u.ID); err != nil {
			return fmt.Errorf("auth: store totp secret: %w", err)
		}
		_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: "user.mfa_enrol", ObjectType: "user", ObjectID: itoa(u.ID),
			OrgID: u.OrgID, Summary: "enrolment started", Msg: trail.Msg("trail.summary.user.mfa_enrol_started")})
		return err
	})
	if err != nil {
		return Enrolment{}, err
	}
	img, err := key.Image(200, 200)
	if err != nil {
		return Enrolment{}, fmt.Errorf("auth: qr code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return Enrolment{}, fmt.Errorf("auth: qr code: %w", err)
	}
	return Enrolment{Secret: key.Secret(), URL: key.URL(), QRPNG: buf.Bytes()}, nil
}

// ConfirmMFAEnrolment checks a code from the authenticator against the pending secret,
// switches MFA on and returns RecoveryCodeCount recovery codes, shown once (only their
// hashes are stored).
func (s *Service) ConfirmMFAEnrolment(ctx context.Context, a actor.Actor, code string) ([]string, error) {
	if a.UserID == 0 {
		return nil, problem.Unauthorized("sign in first")
	}
	if !s.mfaLimits.allow(itoa(a.UserID), s.opts.Now()) {
		return nil, rateLimited()
	}
	u, err := loadUser(ctx, s.db, "id", a.UserID)
	if err != nil {
		return nil, err
	}
	if u.MFAEnabled {
		return nil, problem.Conflict("multi-factor authentication is already on").WithCode("mfa_enabled").WithMsg("error.msg.mfa_enabled")
	}
	if u.secret == "" {
		return nil, problem.Conflict("start the enrolment first").WithCode("mfa_not_started").WithMsg("error.msg.mfa_not_started")
	}
	if ok, err := s.checkTOTP(ctx, u.ID, u.secret, normalizeCode(code), s.now()); err != nil {
		return nil, err
	} else if !ok {
		return nil, problem.Invalid("code", "the code is wrong or has expired").WithCode("bad_mfa_code")
	}
	codes := make([]string, RecoveryCodeCount)
	for i := range codes {
		if codes[i], err = newRecoveryCode(); err != nil {
			return nil, err
		}
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET mfa_enabled = ?, updated_at = ? WHERE id = ? AND mfa_secret = ? AND NOT mfa_enabled`,
			true, s.now(), u.ID, u.secret)
		if err != nil {
			return fmt.Errorf("auth: enable mfa: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return problem.Conflict("the enrolment changed meanwhile; start again").WithCode("mfa_not_started").WithMsg("error.msg.mfa_changed")
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE user_id = ?`, u.ID); err != nil {
			return fmt.Errorf("auth: recovery codes: %w", err)
		}
		for _, c := range codes {
			if _, err := tx.ExecContext(ctx, `INSERT INTO recovery_codes (user_id, code_hash) VALUES (?, ?)`,
				u.ID, hashToken(strings.ReplaceAll(c, "-", ""))); err != nil {
				return fmt.Errorf("auth: recovery codes: %w", err)
			}
		}
		_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: "user.mfa_enrol", ObjectType: "user", ObjectID: itoa(u.ID),
			OrgID: u.OrgID, Summary: "enabled", Msg: trail.Msg("trail.summary.user.mfa_enabled")})
		return err
	})
	if err != nil {
		return nil, err
	}
	return codes, nil
}

// VerifyMFA completes the sign-in of the session token with a TOTP code or an unused
// recovery code, and marks the session MFA-verified. A TOTP code is accepted once: a
// code (or an earlier one) that was used before is refused. Wrong codes are throttled
// like sign-ins, per account and per address (see Options): an attempt during a wait
// is refused unchecked (TooMany, code "rate_limited").
func (s *Service) VerifyMFA(ctx context.Context, token, code, ip string) (User, error) {
	ss, u, err := s.session(ctx, token)
	if err != nil {
		return User{}, err
	}
	if !u.MFAEnabled {
		return User{}, problem.Conflict("multi-factor authentication is not on for this account").WithCode("mfa_not_enabled").WithMsg("error.msg.mfa_not_enabled")
	}
	addr := addressKey(ip)
	acct, whole := gate{s.mfaUsers, itoa(u.ID)}, gate{s.addresses, addr}
	ok, wait := admit(s.now(), acct, whole)
	if !ok {
		// Refused without looking at the code. Whoever gets here knows the password, so
		// saying why tells nothing about the account.
		return User{}, rateLimited()
	}
	code = normalizeCode(code)
	how := ""
	var recoveryHash string
	if len(code) == 6 {
		ok, err := s.checkTOTP(ctx, u.ID, u.secret, code, s.now())
		if err != nil {
			return User{}, err
		}
		if ok {
			how = "authenticator code"
		}
	}
	switch {
	case len(code) != 6:
		if rc, ok := normalizeRecoveryCode(code); ok {
			recoveryHash = hashToken(rc)
		}
	}
	verified := false
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if recoveryHash != "" {
			res, err := tx.ExecContext(ctx, `UPDATE recovery_codes SET used_at = ? WHERE user_id = ? AND code_hash = ? AND used_at IS NULL`,
				s.now(), u.ID, recoveryHash)
			if err != nil {
				return fmt.Errorf("auth: use recovery code: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 1 {
				how = "recovery code"
			}
		}
		if how == "" {
			return nil
		}
		verified = true
		if _, err := tx.ExecContext(ctx, `UPDATE sessions SET mfa_ok = ?, last_seen_at = ? WHERE id = ?`, true, s.now(), ss.ID); err != nil {
			return fmt.Errorf("auth: verify mfa: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET failed_logins = 0 WHERE id = ?`, u.ID); err != nil {
			return fmt.Errorf("auth: verify mfa: %w", err)
		}
		_, err := s.trail.Append(ctx, tx, u.Actor(ip), trail.Event{Action: "auth.mfa_verified", ObjectType: "user",
			ObjectID: itoa(u.ID), OrgID: u.OrgID, Summary: how, Msg: mfaHowMsg(how)})
		return err
	})
	if err != nil {
		return User{}, err
	}
	if !verified {
		reason := "wrong code"
		if wait > 0 {
			reason += fmt.Sprintf("; next attempt delayed %s", wait)
		}
		if err := s.recordFailure(ctx, u, ip, "auth.mfa_failed", reason,
			wrongCodeMsg(wait)); err != nil {
			return User{}, err
		}
		return User{}, problem.Unauthorized("the code is wrong, expired or already used").WithCode("bad_mfa_code")
	}
	s.mfaUsers.clear(acct.key)
	s.addresses.refund(whole.key)
	u.FailedLogins = 0
	return u.User, nil
}

// RecoveryCodesLeft returns how many unused recovery codes user userID has.
func (s *Service) RecoveryCodesLeft(ctx context.Context, userID int64) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM recovery_codes WHERE user_id = ? AND used_at IS NULL`, userID).Scan(&n); err != nil {
		return 0, fmt.Errorf("auth: recovery codes: %w", err)
	}
	return n, nil
}

// checkTOTP reports whether code is the TOTP of secret for the time step of now or one
// step either side, and claims that step in the database: a step is accepted at most
// once per user (users.mfa_last_step only grows), so a code cannot be replayed, even
// after a restart or on another replica.
func (s *Service) checkTOTP(ctx context.Context, userID int64, secret, code string, now time.Time) (bool, error) {
	if len(code) != 6 || secret == "" {
		return false, nil
	}
	step := now.Unix() / totpPeriod
	for _, d := range []int64{-1, 0, 1} {
		st := step + d
		want, err := totp.GenerateCodeCustom(secret, time.Unix(st*totpPeriod, 0), totpOpts)
		if err != nil {
			return false, nil
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) != 1 {
			continue
		}
		var claimed int64
		err = s.db.InTx(ctx, func(tx *store.Tx) error {
			res, err := tx.ExecContext(ctx, `UPDATE users SET mfa_last_step = ? WHERE id = ? AND mfa_last_step < ?`, st, userID, st)
			if err != nil {
				return fmt.Errorf("auth: claim totp step: %w", err)
			}
			claimed, err = res.RowsAffected()
			return err
		})
		if err != nil {
			return false, err
		}
		return claimed == 1, nil
	}
	return false, nil
}

// normalizeCode drops spaces and lower-cases what the user typed.
func normalizeCode(code string) string {
	if len(code) > 64 {
		return ""
	}
	return strings.ToLower(strings.Join(strings.Fields(code), ""))
}

var recoveryEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// newRecoveryCode returns a code of 12 lower-case base32 characters as xxxx-xxxx-xxxx.
func newRecoveryCode() (string, error) {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("auth: random: %w", err)
	}
	c := strings.ToLower(recoveryEncoding.EncodeToString(b))[:12]
	return c[:4] + "-" + c[4:8] + "-" + c[8:], nil
}

// normalizeRecoveryCode turns a typed recovery code into its stored form (12 base32
// characters, no dashes), or reports that it cannot be one.
func normalizeRecoveryCode(code string) (string, bool) {
	c := strings.ReplaceAll(strings.ToLower(code), "-", "")
	if len(c) != 12 {
		return "", false
	}
	for _, r := range []byte(c) {
		if !(r >= 'a' && r <= 'z' || r >= '2' && r <= '7') {
			return "", false
		}
	}
	return c, true
}

// pendingKey rebuilds the otp key of a stored pending secret.
func pendingKey(issuer, account, secret string) (*otp.Key, error) {
	v := url.Values{}
	v.Set("secret", secret)
	v.Set("issuer", issuer)
	v.Set("period", "30")
	u := url.URL{Scheme: "otpauth", Host: "totp", Path: "/" + issuer + ":" + account, RawQuery: v.Encode()}
	key, err := otp.NewKeyFromURL(u.String())
	if err != nil {
		return nil, fmt.Errorf("auth: pending totp secret: %w", err)
	}
	return key, nil
}
