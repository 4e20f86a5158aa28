package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

// Session is a signed-in browser. ID is the SHA-256 hex of the bearer token; the token
// itself is never stored.
type Session struct {
	ID         string    `json:"-"`
	UserID     int64     `json:"user_id"`
	CSRFToken  string    `json:"-"`
	MFAOK      bool      `json:"mfa_ok"`
	IP         string    `json:"ip"`
	UserAgent  string    `json:"user_agent"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	ExpiresAt  time.Time `json:"expires_at"`
}

// LoginResult is the outcome of a successful password check. Token is the session's
// bearer secret, returned only here. NeedMFA: the session is not usable until VerifyMFA
// succeeds. NeedMFAEnrolment: the user's org requires MFA and the user has none yet.
type LoginResult struct {
	User             User
	Token            string
	Session          Session
	NeedMFA          bool
	NeedMFAEnrolment bool
}

// slideEvery is how often Session writes last_seen_at (and Authenticate last_used_at).
const slideEvery = time.Minute

// badCredentials answers every failed sign-in alike: unknown username, wrong password,
// disabled account, and an attempt refused by the throttle. Nothing in it tells whether
// the account exists or the password was right.
func badCredentials() error {
	return problem.Unauthorized("wrong username or password; after repeated failures, wait a few minutes before trying again").
		WithCode("bad_credentials")
}

func rateLimited() error {
	return problem.TooMany("too many attempts; wait a few minutes and try again").WithCode("rate_limited")
}

// dummy returns a hash to check passwords of unknown users against, so that a failed
// login takes as long whether or not the user exists.
func (s *Service) dummy() string {
	s.dummyOnce.Do(func() {
		tok, _ := randomToken(16)
		s.dummyHash, _ = HashPassword(tok)
	})
	return s.dummyHash
}

// attemptedName is what the trail records for a login with an unknown username: the
// name if it looks like one, otherwise a placeholder (a password typed into the wrong
// field must not end up in the permanent trail).
func attemptedName(name string) string {
	n, err := NormalizeUsername(name)
	if err != nil {
		return "(invalid username)"
	}
	return n
}

// Login checks a username and password and opens a session. Every failure a client can
// cause is the same problem, bad_credentials: unknown user, wrong password, disabled
// account, or an attempt the throttle refused. The throttle (see Options) counts the
// username tried from the client's address and the address whatever the username,
// whether the account exists or not; a refused attempt is answered without loading the
// account or checking the password, so it is no oracle, and is not trailed (only
// checked attempts are). A success clears the username's count for that address.
func (s *Service) Login(ctx context.Context, username, password, ip, userAgent string) (LoginResult, error) {
	now := s.now()
	name := strings.ToLower(strings.TrimSpace(username))
	if len(userAgent) > 512 {
		userAgent = userAgent[:512]
	}
	addr := addressKey(ip)
	pair, whole := gate{s.loginPairs, pairKey(name, addr)}, gate{s.addresses, addr}
	ok, wait := admit(now, pair, whole)
	if !ok {
		return LoginResult{}, badCredentials()
	}
	delayed := ""
	if wait > 0 {
		delayed = fmt.Sprintf("; next attempt from this address delayed %s", wait)
	}
	u, err := loadUser(ctx, s.db, "username", name)
	if errors.Is(err, store.ErrNotFound) {
		_, _ = CheckPassword(s.dummy(), password)
		anon := actor.Actor{Username: "anonymous", IP: ip}
		if err := s.db.InTx(ctx, func(tx *store.Tx) error {
			_, err := s.trail.Append(ctx, tx, anon, trail.Event{Action: "auth.login_failed", ObjectType: "user",
				ObjectID: attemptedName(name), Summary: "unknown username" + delayed,
				Msg: unknownUserMsg(wait)})
			return err
		}); err != nil {
			return LoginResult{}, err
		}
		return LoginResult{}, badCredentials()
	}
	if err != nil {
		return LoginResult{}, err
	}
	ok, err = CheckPassword(u.hash, password)
	if err != nil {
		return LoginResult{}, fmt.Errorf("auth: login %d: %w", u.ID, err)
	}
	if !ok || u.Disabled {
		reason := "wrong password"
		if ok {
			reason = "account disabled"
		}
		if err := s.recordFailure(ctx, u, ip, "auth.login_failed", reason+delayed, passwordFailureMsg(ok, wait)); err != nil {
			return LoginResult{}, err
		}
		return LoginResult{}, badCredentials()
	}
	s.loginPairs.clear(pair.key)
	s.addresses.refund(whole.key)

	needEnrol := false
	if !u.MFAEnabled && s.opts.MFAPolicy != nil {
		if needEnrol, err = s.opts.MFAPolicy.RequiresMFA(ctx, u.OrgID); err != nil {
			return LoginResult{}, fmt.Errorf("auth: login: %w", err)
		}
	}
	token, err := randomToken(32)
	if err != nil {
		return LoginResult{}, err
	}
	csrf, err := randomToken(32)
	if err != nil {
		return LoginResult{}, err
	}
	sess := Session{ID: hashToken(token), UserID: u.ID, CSRFToken: csrf, MFAOK: !u.MFAEnabled, IP: ip, UserAgent: userAgent,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(s.opts.SessionTTL)}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET failed_logins = 0, last_login_at = ? WHERE id = ?`,
			now, u.ID); err != nil {
			return fmt.Errorf("auth: login: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO sessions (id, user_id, csrf_token, mfa_ok, ip, user_agent, created_at, last_seen_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			sess.ID, sess.UserID, sess.CSRFToken, sess.MFAOK, sess.IP, sess.UserAgent, sess.CreatedAt, sess.LastSeenAt, sess.ExpiresAt); err != nil {
			return fmt.Errorf("auth: create session: %w", err)
		}
		summary := "password"
		if u.MFAEnabled {
			summary = "password; MFA pending"
		}
		_, err := s.trail.Append(ctx, tx, u.Actor(ip), trail.Event{Action: "auth.login", ObjectType: "user",
			ObjectID: itoa(u.ID), OrgID: u.OrgID, Summary: summary, Msg: loginMsg(u.MFAEnabled)})
		return err
	})
	if err != nil {
		return LoginResult{}, err
	}
	u.FailedLogins, u.LastLoginAt = 0, &now
	return LoginResult{User: u.User, Token: token, Session: sess, NeedMFA: u.MFAEnabled, NeedMFAEnrolment: needEnrol}, nil
}

// recordFailure counts a failed password or MFA check on the account (failed_logins,
// shown to administrators; it locks nothing) and trails it, in its own transaction.
func (s *Service) recordFailure(ctx context.Context, u userRow, ip, action, reason string, msg *i18n.Message) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET failed_logins = failed_logins + 1 WHERE id = ?`, u.ID); err != nil {
			return fmt.Errorf("auth: count failure: %w", err)
		}
		_, err := s.trail.Append(ctx, tx, u.Actor(ip), trail.Event{Action: action, ObjectType: "user",
			ObjectID: itoa(u.ID), OrgID: u.OrgID, Summary: reason, Msg: msg})
		return err
	})
}

const sessionColumns = `id, user_id, csrf_token, mfa_ok, ip, user_agent, created_at, last_seen_at, expires_at`

func scanSession(sc interface{ Scan(...any) error }) (Session, error) {
	var ss Session
	err := sc.Scan(&ss.ID, &ss.UserID, &ss.CSRFToken, &ss.MFAOK, &ss.IP, &ss.UserAgent, &ss.CreatedAt, &ss.LastSeenAt, &ss.ExpiresAt)
	ss.CreatedAt, ss.LastSeenAt, ss.ExpiresAt = ss.CreatedAt.UTC(), ss.LastSeenAt.UTC(), ss.ExpiresAt.UTC()
	return ss, err
}

func noSession() error {
	return problem.Unauthorized("your session has ended; sign in again").WithCode("no_session")
}

// session loads the live session for token with its user, deleting it if it expired.
func (s *Service) session(ctx context.Context, token string) (Session, userRow, error) {
	if token == "" || len(token) > 256 {
		return Session{}, userRow{}, noSession()
	}
	ss, err := scanSession(s.db.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE id = ?`, hashToken(token)))
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, userRow{}, noSession()
	}
	if err != nil {
		return Session{}, userRow{}, fmt.Errorf("auth: load session: %w", err)
	}
	now := s.now()
	if !now.Before(ss.ExpiresAt) || !now.Before(ss.LastSeenAt.Add(s.opts.IdleTimeout)) {
		if _, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE id = ?`, ss.ID); err != nil {
			return Session{}, userRow{}, fmt.Errorf("auth: end session: %w", err)
		}
		return Session{}, userRow{}, noSession()
	}
	u, err := loadUser(ctx, s.db, "id", ss.UserID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.Disabled) {
		return Session{}, userRow{}, noSession()
	}
	if err != nil {
		return Session{}, userRow{}, err
	}
	return ss, u, nil
}

// Session returns the live session for a bearer token and its user, sliding the idle
// timeout. Unknown, expired (absolute or idle) and disabled users' sessions are
// Unauthorized (code "no_session"). A session with MFAOK false is only good for
// VerifyMFA.
func (s *Service) Session(ctx context.Context, token string) (Session, User, error) {
	ss, u, err := s.session(ctx, token)
	if err != nil {
		return Session{}, User{}, err
	}
	now := s.now()
	if now.Sub(ss.LastSeenAt) >= slideEvery {
		if _, err := s.db.ExecContext(ctx, `UPDATE sessions SET last_seen_at = ? WHERE id = ?`, now, ss.ID); err != nil {
			return Session{}, User{}, fmt.Errorf("auth: touch session: %w", err)
		}
		ss.LastSeenAt = now
	}
	return ss, u.User, nil
}

// MFARequired reports whether u must enrol in MFA before using the platform: its org's
// policy requires MFA and it has none.
func (s *Service) MFARequired(ctx context.Context, u User) (bool, error) {
	if u.MFAEnabled || s.opts.MFAPolicy == nil {
		return false, nil
	}
	req, err := s.opts.MFAPolicy.RequiresMFA(ctx, u.OrgID)
	if err != nil {
		return false, fmt.Errorf("auth: mfa policy: %w", err)
	}
	return req, nil
}

// Logout ends the session of token (a no-op for an unknown token).
func (s *Service) Logout(ctx context.Context, token, ip string) error {
	if token == "" || len(token) > 256 {
		return nil
	}
	id := hashToken(token)
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		var userID int64
		err := tx.QueryRowContext(ctx, `SELECT user_id FROM sessions WHERE id = ?`, id).Scan(&userID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("auth: logout: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE id = ?`, id); err != nil {
			return fmt.Errorf("auth: logout: %w", err)
		}
		u, err := loadUser(ctx, tx, "id", userID)
		if err != nil {
			return err
		}
		_, err = s.trail.Append(ctx, tx, u.Actor(ip), trail.Event{Action: "auth.logout", ObjectType: "user",
			ObjectID: itoa(u.ID), OrgID: u.OrgID, Summary: "session", Msg: trail.Msg("trail.summary.auth.logout")})
		return err
	})
}

// LogoutAll ends every session of user userID: a's own, or, with user.manage, those of
// a user in a's subtree.
func (s *Service) LogoutAll(ctx context.Context, a actor.Actor, userID int64) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		u, err := scopedUser(ctx, tx, a, userID, PermUserManage)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, userID)
		if err != nil {
			return fmt.Errorf("auth: logout all: %w", err)
		}
		n, _ := res.RowsAffected()
		_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: "auth.logout", ObjectType: "user",
			ObjectID: itoa(u.ID), OrgID: u.OrgID, Summary: fmt.Sprintf("all sessions (%d)", n),
			Msg: trail.Msg("trail.summary.auth.logout_all", n)})
		return err
	})
}
