package auth

import (
	"context"
	"fmt"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
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

// SetPasswordNoChange sets a password without requiring a change at next sign-in. It is
// for scripted set-ups (the demo seeder's --admin-password), where the caller chose the
// password on purpose; people resetting someone else's password use SetPassword.
func (s *Service) SetPasswordNoChange(ctx context.Context, a actor.Actor, id int64, password string) error {
	u, err := scopedUser(ctx, s.db, a, id, PermUserManage)
	if err != nil {
		return err
	}
	if err := ValidatePassword(password, u.Username); err != nil {
		return err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		now := s.now()
		if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ?, must_change_password = ?, password_changed_at = ?,
			failed_logins = 0, locked_until = NULL, updated_at = ? WHERE id = ?`, hash, false, now, now, id); err != nil {
			return fmt.Errorf("auth: set password: %w", err)
		}
		_, err := s.trail.Append(ctx, tx, a, trail.Event{Action: "user.password_reset", ObjectType: "user", ObjectID: itoa(id),
			OrgID: u.OrgID, Summary: u.Username + " (scripted)"})
		return err
	})
}
