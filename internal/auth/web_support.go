package auth

import (
	"context"
	"fmt"

	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
)

// MarkSessionMFA records that the session with token has passed its second factor; the
// web layer calls it right after a successful enrolment, which proves possession.
func (s *Service) MarkSessionMFA(ctx context.Context, token string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE sessions SET mfa_ok = ? WHERE id = ?`, true, hashToken(token))
		if err != nil {
			return fmt.Errorf("auth: mark session: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return problem.Unauthorized("session expired").WithCode("login_required")
		}
		return nil
	})
}

// RotateSession replaces the session with token by a new one with the same state and
// returns the new token; the old token stops working at once. The web layer calls it
// when a session gains privilege (after the MFA step), so that a token observed before
// that step is worthless afterwards.
func (s *Service) RotateSession(ctx context.Context, token string) (string, error) {
	fresh, err := randomToken(32)
	if err != nil {
		return "", err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE sessions SET id = ? WHERE id = ?`, hashToken(fresh), hashToken(token))
		if err != nil {
			return fmt.Errorf("auth: rotate session: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return problem.Unauthorized("session expired").WithCode("login_required")
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return fresh, nil
}

// EndOtherSessions signs the user out everywhere but in the session with token (after
// the user changed their own password, say).
func (s *Service) EndOtherSessions(ctx context.Context, userID int64, token string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ? AND id <> ?`, userID, hashToken(token)); err != nil {
			return fmt.Errorf("auth: end other sessions: %w", err)
		}
		return nil
	})
}
