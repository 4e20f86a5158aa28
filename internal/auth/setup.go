package auth

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

// setupKey is the settings key holding the pending setup token as "sha256hex|expiry".
const setupKey = "setup_token"

// SetupTokenTTL is how long a setup token stays valid.
const SetupTokenTTL = 24 * time.Hour

// IssueSetupToken creates the one-time token that lets the first administrator be
// created, replacing any earlier one. Only the token's hash is stored. Conflict once any
// user exists.
func (s *Service) IssueSetupToken(ctx context.Context) (string, error) {
	tok, err := randomToken(32)
	if err != nil {
		return "", err
	}
	now := s.now()
	exp := now.Add(SetupTokenTTL)
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n); err != nil {
			return fmt.Errorf("auth: setup token: %w", err)
		}
		if n > 0 {
			return problem.Conflict("the platform is already set up").WithCode("already_set_up").WithMsg("error.msg.already_set_up")
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
			setupKey, hashToken(tok)+"|"+exp.Format(time.RFC3339), now); err != nil {
			return fmt.Errorf("auth: setup token: %w", err)
		}
		_, err := s.trail.Append(ctx, tx, actor.System(), trail.Event{Action: "auth.setup_token", ObjectType: "setting",
			ObjectID: setupKey, Summary: "setup token issued, valid until " + exp.Format(time.RFC3339),
			Msg: trail.Msg("trail.summary.auth.setup_token", exp.Format(time.RFC3339))})
		return err
	})
	if err != nil {
		return "", err
	}
	return tok, nil
}

// parseSetupValue splits a stored setup value "sha256hex|RFC3339 expiry".
func parseSetupValue(v string) (hash string, exp time.Time, err error) {
	hash, ts, ok := strings.Cut(v, "|")
	if !ok || len(hash) != 64 || strings.Trim(hash, "0123456789abcdef") != "" {
		return "", time.Time{}, errors.New("auth: malformed setup token record")
	}
	exp, err = time.Parse(time.RFC3339, ts)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("auth: malformed setup token expiry: %w", err)
	}
	return hash, exp, nil
}

// ConsumeSetupToken checks token against the pending setup token inside the caller's
// transaction and deletes it. It fails with Unauthorized (code "bad_setup_token") unless
// the token matches, has not expired and no user exists yet.
func (s *Service) ConsumeSetupToken(ctx context.Context, tx *store.Tx, token string) error {
	bad := problem.Unauthorized("the setup token is wrong or has expired").WithCode("bad_setup_token")
	if token == "" || len(token) > 256 {
		return bad
	}
	var v string
	err := tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`+tx.Dialect().ForUpdate(), setupKey).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return bad
	}
	if err != nil {
		return fmt.Errorf("auth: setup token: %w", err)
	}
	hash, exp, err := parseSetupValue(v)
	if err != nil {
		return bad
	}
	if subtle.ConstantTimeCompare([]byte(hash), []byte(hashToken(token))) != 1 || !s.now().Before(exp) {
		return bad
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n); err != nil {
		return fmt.Errorf("auth: setup token: %w", err)
	}
	if n > 0 {
		return bad
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM settings WHERE key = ?`, setupKey); err != nil {
		return fmt.Errorf("auth: setup token: %w", err)
	}
	return nil
}
