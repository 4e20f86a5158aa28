package auth

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

// API token scopes. A "dlp.check" token may call the pre-send check of
// patient data and nothing else: what a mail or file-transfer gateway holds. An
// "events.ingest" token may send audit events and nothing else: what a hospital system
// (HIS, EMR, PACS …) holds.
const (
	ScopeRead         = "read"
	ScopeWrite        = "write"
	ScopeDLPCheck     = string(PermDLPCheck)
	ScopeEventsIngest = string(PermEventsIngest)
	// ScopeAppReport may push upstream app reports and nothing else: what a hospital's
	// medguard holds for its regional medguard (package upstream).
	ScopeAppReport = string(PermAppReport)
)

// Scopes lists the token scopes, in the order the user interface offers them.
var Scopes = []string{ScopeRead, ScopeWrite, ScopeDLPCheck, ScopeEventsIngest, ScopeAppReport}

// TokenPrefix starts every API token, so that leaked tokens are easy to recognise.
const TokenPrefix = "mgt_"

// tokenRandLen is the number of random base62 characters after TokenPrefix.
const tokenRandLen = 40

// Token is an API token's metadata; the secret itself is shown once, at creation.
type Token struct {
	ID         int64      `json:"id"`
	UserID     int64      `json:"user_id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	Scope      string     `json:"scope"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
}

// Permits reports whether a request made with the token by a user holding role may use
// permission p: the role must allow it and a "read" token only allows reading.
func (t Token) Permits(role string, p Permission) bool {
	if !Allowed(role, p) {
		return false
	}
	return t.Covers(p, !p.ReadOnly())
}

// Covers reports whether the token's scope covers a request that needs permission p and
// writes (write) or only reads: a "write" token covers everything its user's role
// allows, a "read" token only reading, a "dlp.check" token only the pre-send check.
func (t Token) Covers(p Permission, write bool) bool {
	switch t.Scope {
	case ScopeWrite:
		return true
	case ScopeRead:
		return !write
	case ScopeDLPCheck:
		return p == PermDLPCheck
	case ScopeEventsIngest:
		return p == PermEventsIngest
	case ScopeAppReport:
		return p == PermAppReport
	}
	return false
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// newAPIToken returns TokenPrefix followed by tokenRandLen uniformly random base62
// characters.
func newAPIToken() (string, error) {
	out := make([]byte, 0, len(TokenPrefix)+tokenRandLen)
	out = append(out, TokenPrefix...)
	buf := make([]byte, 64)
	for len(out) < cap(out) {
		if _, err := rand.Read(buf); err != nil {
			return "", fmt.Errorf("auth: random: %w", err)
		}
		for _, b := range buf {
			if b < 248 && len(out) < cap(out) { // 248 = 4*62: reject to avoid modulo bias
				out = append(out, base62[b%62])
			}
		}
	}
	return string(out), nil
}

// parseBearer checks that s (optionally "Bearer "-prefixed) looks like an API token and
// returns it.
func parseBearer(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if len(s) > 7 && strings.EqualFold(s[:7], "bearer ") {
		s = strings.TrimSpace(s[7:])
	}
	if len(s) != len(TokenPrefix)+tokenRandLen || !strings.HasPrefix(s, TokenPrefix) {
		return "", false
	}
	for _, c := range []byte(s[len(TokenPrefix):]) {
		if strings.IndexByte(base62, c) < 0 {
			return "", false
		}
	}
	return s, true
}

// tokenColumns are read by scanToken. A token limited to one permission is stored with
// scope "write" and the permission in only_permission (migration 0008), and has that
// permission as its Scope.
const tokenColumns = `id, user_id, name, prefix, scope, only_permission, expires_at, last_used_at, revoked_at, created_at`

func scanToken(sc interface{ Scan(...any) error }) (Token, error) {
	var t Token
	var only string
	var exp, used, rev sql.NullTime
	if err := sc.Scan(&t.ID, &t.UserID, &t.Name, &t.Prefix, &t.Scope, &only, &exp, &used, &rev, &t.CreatedAt); err != nil {
		return Token{}, err
	}
	if only != "" {
		t.Scope = only
	}
	t.ExpiresAt, t.LastUsedAt, t.RevokedAt = timePtr(exp), timePtr(used), timePtr(rev)
	t.CreatedAt = t.CreatedAt.UTC()
	return t, nil
}

// CreateToken issues an API token for user userID — a's own, or, with user.manage, one
// of a user in a's subtree — and returns the plaintext (shown once) and its metadata.
// scope is "read", "write", "dlp.check", "events.ingest" or "app.report"; ttl 0 means no expiry. A user who must
// still change a temporary password or enrol in MFA gets no token, whoever asks
// (Forbidden, code "password_change_required" or "mfa_enrolment_required").
func (s *Service) CreateToken(ctx context.Context, a actor.Actor, userID int64, name, scope string, ttl time.Duration) (string, Token, error) {
	name, err := cleanText("name", name, 100)
	if err != nil {
		return "", Token{}, err
	}
	if name == "" {
		return "", Token{}, problem.Invalid("name", "name is required").WithMsg("error.msg.required")
	}
	if !slices.Contains(Scopes, scope) {
		return "", Token{}, problem.Invalid("scope", "scope must be \"read\", \"write\", \"dlp.check\", \"events.ingest\" or \"app.report\"").WithMsg("error.msg.one_of", strings.Join(Scopes, ", "))
	}
	if ttl < 0 {
		return "", Token{}, problem.Invalid("ttl", "the lifetime must not be negative").WithMsg("error.msg.not_negative")
	}
	plain, err := newAPIToken()
	if err != nil {
		return "", Token{}, err
	}
	now := s.now()
	t := Token{UserID: userID, Name: name, Prefix: plain[:12], Scope: scope, CreatedAt: now}
	if ttl > 0 {
		exp := now.Add(ttl)
		t.ExpiresAt = &exp
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		u, err := scopedUser(ctx, tx, a, userID, PermUserManage)
		if err != nil {
			return err
		}
		if err := s.pendingStep(ctx, u.User, "before an API token can be created for it"); err != nil {
			return err
		}
		stored, only := t.Scope, ""
		if t.Scope == ScopeDLPCheck || t.Scope == ScopeEventsIngest || t.Scope == ScopeAppReport {
			stored, only = ScopeWrite, t.Scope
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO api_tokens (user_id, name, prefix, token_hash, scope, only_permission, expires_at, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			userID, t.Name, t.Prefix, hashToken(plain), stored, only, store.NullTime(t.ExpiresAt), now).Scan(&t.ID); err != nil {
			return fmt.Errorf("auth: create token: %w", err)
		}
		_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: "token.create", ObjectType: "token", ObjectID: itoa(t.ID),
			OrgID: u.OrgID, Summary: fmt.Sprintf("%s for %s (%s)", t.Name, u.Username, t.Scope),
			Msg: trail.Msg("trail.summary.token.create", t.Name, u.Username, scopeWord(t.Scope)), After: t})
		return err
	})
	if err != nil {
		return "", Token{}, err
	}
	return plain, t, nil
}

// Tokens lists user userID's API tokens, newest first: a's own, or, with user.read, a
// user in a's subtree.
func (s *Service) Tokens(ctx context.Context, a actor.Actor, userID int64) ([]Token, error) {
	if _, err := scopedUser(ctx, s.db, a, userID, PermUserRead); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE user_id = ? ORDER BY created_at DESC, id DESC`, userID)
	if err != nil {
		return nil, fmt.Errorf("auth: list tokens: %w", err)
	}
	defer rows.Close()
	out := []Token{}
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("auth: list tokens: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeToken revokes API token id: a's own, or, with user.manage, one of a user in a's
// subtree (NotFound otherwise). Revoking a revoked token does nothing.
func (s *Service) RevokeToken(ctx context.Context, a actor.Actor, id int64) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		t, err := scanToken(tx.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return problem.NotFound("token")
		}
		if err != nil {
			return fmt.Errorf("auth: revoke token: %w", err)
		}
		u, err := loadUser(ctx, tx, "id", t.UserID)
		if err != nil {
			return err
		}
		self := a.UserID != 0 && a.UserID == t.UserID
		if !self && (!can(a, PermUserManage) || !a.Sees(u.OrgPath)) {
			return problem.NotFound("token")
		}
		if t.RevokedAt != nil {
			return nil
		}
		now := s.now()
		if _, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = ? WHERE id = ?`, now, id); err != nil {
			return fmt.Errorf("auth: revoke token: %w", err)
		}
		after := t
		after.RevokedAt = &now
		_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: "token.revoke", ObjectType: "token", ObjectID: itoa(id),
			OrgID: u.OrgID, Summary: fmt.Sprintf("%s of %s", t.Name, u.Username),
			Msg: trail.Msg("trail.summary.token.revoke", t.Name, u.Username), Before: t, After: after})
		return err
	})
}

func badToken() error {
	return problem.Unauthorized("the API token is not valid").WithCode("bad_token")
}

// Authenticate resolves an API token (optionally "Bearer "-prefixed) to its user. An
// unknown, revoked or expired token, or a disabled user, is Unauthorized (code
// "bad_token"). The token of a user who must change its password or enrol in MFA is
// Forbidden (code "password_change_required" or "mfa_enrolment_required"), as a
// session of that user would be. last_used_at is updated at most once a minute.
func (s *Service) Authenticate(ctx context.Context, bearer string) (User, Token, error) {
	plain, ok := parseBearer(bearer)
	if !ok {
		return User{}, Token{}, badToken()
	}
	t, err := scanToken(s.db.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE token_hash = ?`, hashToken(plain)))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, Token{}, badToken()
	}
	if err != nil {
		return User{}, Token{}, fmt.Errorf("auth: authenticate: %w", err)
	}
	now := s.now()
	if t.RevokedAt != nil || (t.ExpiresAt != nil && !now.Before(*t.ExpiresAt)) {
		return User{}, Token{}, badToken()
	}
	u, err := loadUser(ctx, s.db, "id", t.UserID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.Disabled) {
		return User{}, Token{}, badToken()
	}
	if err != nil {
		return User{}, Token{}, err
	}
	if err := s.pendingStep(ctx, u.User, "before its API tokens work"); err != nil {
		return User{}, Token{}, err
	}
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) >= slideEvery {
		if _, err := s.db.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = ? WHERE id = ?`, now, t.ID); err != nil {
			return User{}, Token{}, fmt.Errorf("auth: touch token: %w", err)
		}
		t.LastUsedAt = &now
	}
	return u.User, t, nil
}

// PasswordChangeRequired is the refusal for a user who must replace a temporary
// password (set by an administrator) before doing anything else; what says so is
// appended to the message.
func PasswordChangeRequired(what string) *problem.Error {
	return problem.Forbidden("the user must change the temporary password set by an administrator %s", what).
		WithCode("password_change_required")
}

// MFAEnrolmentRequired is the refusal for a user whose organisation requires MFA and
// who has not enrolled yet.
func MFAEnrolmentRequired(what string) *problem.Error {
	return problem.Forbidden("the user's organisation requires multi-factor authentication: the user must set it up %s", what).
		WithCode("mfa_enrolment_required")
}

// pendingStep returns the refusal for a user with a step to complete (a forced
// password change, a required MFA enrolment), or nil.
func (s *Service) pendingStep(ctx context.Context, u User, what string) error {
	if u.MustChangePassword {
		return PasswordChangeRequired(what)
	}
	req, err := s.MFARequired(ctx, u)
	if err != nil {
		return err
	}
	if req {
		return MFAEnrolmentRequired(what)
	}
	return nil
}

// revokeTokensTx revokes every live API token of user u in tx, one trail entry each,
// and returns how many it revoked.
func (s *Service) revokeTokensTx(ctx context.Context, tx *store.Tx, a actor.Actor, u User, why string) (int, error) {
	rows, err := tx.QueryContext(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE user_id = ? AND revoked_at IS NULL ORDER BY id`, u.ID)
	if err != nil {
		return 0, fmt.Errorf("auth: revoke tokens: %w", err)
	}
	var live []Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			rows.Close()
			return 0, fmt.Errorf("auth: revoke tokens: %w", err)
		}
		live = append(live, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("auth: revoke tokens: %w", err)
	}
	now := s.now()
	for _, t := range live {
		if _, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = ? WHERE id = ?`, now, t.ID); err != nil {
			return 0, fmt.Errorf("auth: revoke tokens: %w", err)
		}
		after := t
		after.RevokedAt = &now
		if _, err := s.trail.Append(ctx, tx, a, trail.Event{Action: "token.revoke", ObjectType: "token", ObjectID: itoa(t.ID),
			OrgID: u.OrgID, Summary: fmt.Sprintf("%s of %s (%s)", t.Name, u.Username, why),
			Msg: trail.Msg("trail.summary.token.revoke_all", t.Name, u.Username, revokeReasonMsg(why)), Before: t, After: after}); err != nil {
			return 0, err
		}
	}
	return len(live), nil
}
