package risk

import (
	"context"
	"fmt"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

// The states of an acceptance: created → submitted → accepted or rejected; an accepted
// one ends revoked (by a person) or expired (by Sweep).
const (
	AcceptCreated   = "created"
	AcceptSubmitted = "submitted"
	AcceptAccepted  = "accepted"
	AcceptRejected  = "rejected"
	AcceptRevoked   = "revoked"
	AcceptExpired   = "expired"
)

// Acceptance is a request to accept a risk as it is until ExpiresAt, and the approver's
// decision. The Snapshot* fields are the risk's current rating at the moment of the
// decision.
type Acceptance struct {
	ID                 int64      `json:"id"`
	RiskID             int64      `json:"risk_id"`
	Status             string     `json:"status"`
	Approver           string     `json:"approver"`
	Reason             string     `json:"reason"`
	ExpiresAt          time.Time  `json:"expires_at"`
	CreatedBy          string     `json:"created_by"`
	CreatedAt          time.Time  `json:"created_at"`
	SubmittedAt        *time.Time `json:"submitted_at"`
	DecidedBy          string     `json:"decided_by,omitempty"`
	DecidedAt          *time.Time `json:"decided_at"`
	DecisionReason     string     `json:"decision_reason,omitempty"`
	SnapshotLikelihood int        `json:"snapshot_likelihood,omitempty"`
	SnapshotImpact     int        `json:"snapshot_impact,omitempty"`
	SnapshotLevel      string     `json:"snapshot_level,omitempty"`
	SnapshotScore      int        `json:"snapshot_score,omitempty"`
	EndedBy            string     `json:"ended_by,omitempty"`
	EndedAt            *time.Time `json:"ended_at"`
	EndReason          string     `json:"end_reason,omitempty"`
}

// AcceptanceInput asks for a risk to be accepted: by whom (not the requester), why, and
// until when (in the future, at most three years ahead).
type AcceptanceInput struct {
	Approver  string    `json:"approver"`
	Reason    string    `json:"reason"`
	ExpiresAt time.Time `json:"expires_at"`
}

const acceptanceColumns = `id, risk_id, status, approver, reason, expires_at, created_by, created_at, submitted_at, decided_by,
	decided_at, decision_reason, snap_likelihood, snap_impact, snap_level, snap_score, ended_by, ended_at, end_reason`

func scanAcceptance(sc store.Scanner) (Acceptance, error) {
	var x Acceptance
	var exp, created, sub, dec, ended store.Time
	if err := sc.Scan(&x.ID, &x.RiskID, &x.Status, &x.Approver, &x.Reason, &exp, &x.CreatedBy, &created, &sub, &x.DecidedBy,
		&dec, &x.DecisionReason, &x.SnapshotLikelihood, &x.SnapshotImpact, &x.SnapshotLevel, &x.SnapshotScore,
		&x.EndedBy, &ended, &x.EndReason); err != nil {
		return x, err
	}
	x.ExpiresAt, x.CreatedAt, x.SubmittedAt, x.DecidedAt, x.EndedAt = exp.Time, created.Time, sub.Ptr(), dec.Ptr(), ended.Ptr()
	return x, nil
}

func (s *Service) acceptances(ctx context.Context, q store.Querier, riskID int64) ([]Acceptance, error) {
	out, err := store.Collect(ctx, q, scanAcceptance, `SELECT `+acceptanceColumns+` FROM risk_acceptances WHERE risk_id = ?
		ORDER BY id DESC`, riskID)
	if err != nil {
		return nil, fmt.Errorf("risk: acceptances: %w", err)
	}
	if out == nil {
		out = []Acceptance{}
	}
	return out, nil
}

// acceptance reads acceptance id of risk riskID, with the risk as a sees it.
func (s *Service) acceptance(ctx context.Context, q store.Querier, a actor.Actor, riskID, id int64) (Risk, Acceptance, error) {
	r, err := s.get(ctx, q, a, riskID)
	if err != nil {
		return Risk{}, Acceptance{}, err
	}
	x, err := scanAcceptance(q.QueryRowContext(ctx, `SELECT `+acceptanceColumns+` FROM risk_acceptances WHERE id = ? AND risk_id = ?`, id, riskID))
	if err != nil {
		return Risk{}, Acceptance{}, problem.NotFound("acceptance")
	}
	return r, x, nil
}

// CreateAcceptance drafts an acceptance of risk riskID (state created); the risk does
// not change until it is submitted and accepted. A risk has at most one acceptance in
// progress (created, submitted or accepted).
func (s *Service) CreateAcceptance(ctx context.Context, a actor.Actor, riskID int64, in AcceptanceInput) (Acceptance, error) {
	approver, err := s.username(ctx, a, "approver", in.Approver, true)
	if err != nil {
		return Acceptance{}, err
	}
	if approver == a.Username {
		return Acceptance{}, problem.Invalid("approver", "someone else approves an acceptance").WithMsg("risk.error.self_approval")
	}
	reason, err := text("reason", in.Reason, 2000, true)
	if err != nil {
		return Acceptance{}, err
	}
	now := s.now()
	exp := in.ExpiresAt.UTC().Truncate(time.Microsecond)
	if !exp.After(now) || exp.After(now.AddDate(3, 0, 0)) {
		return Acceptance{}, problem.Invalid("expires_at", "must be in the future and within three years").WithMsg("risk.error.expiry")
	}
	var id int64
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		r, err := s.get(ctx, tx, a, riskID)
		if err != nil {
			return err
		}
		if r.Status == StatusClosed {
			return problem.Conflict("a closed risk is not accepted").WithMsg("risk.error.closed")
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM risk_acceptances WHERE risk_id = ? AND status IN ('created', 'submitted', 'accepted')`,
			riskID).Scan(&n); err != nil {
			return fmt.Errorf("risk: acceptance: %w", err)
		}
		if n > 0 {
			return problem.Conflict("the risk has an acceptance in progress").WithMsg("risk.error.acceptance_exists")
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO risk_acceptances (risk_id, status, approver, reason, expires_at, created_by, created_at)
			VALUES (?, 'created', ?, ?, ?, ?, ?) RETURNING id`, riskID, approver, reason, exp, a.Username, now).Scan(&id); err != nil {
			return fmt.Errorf("risk: acceptance: %w", err)
		}
		return s.record(ctx, tx, a, r, "risk.acceptance_create",
			fmt.Sprintf("risk %d %s: acceptance %d drafted for %s until %s: %s", r.ID, r.Title, id, approver, exp.Format(time.DateOnly), reason),
			trail.Msg("trail.summary.risk.acceptance_create", r.ID, r.Title, approver, exp.Format(time.DateOnly), reason), nil, in)
	})
	if err != nil {
		return Acceptance{}, err
	}
	return s.Acceptance(ctx, a, riskID, id)
}

// Acceptance returns acceptance id of risk riskID.
func (s *Service) Acceptance(ctx context.Context, a actor.Actor, riskID, id int64) (Acceptance, error) {
	_, x, err := s.acceptance(ctx, s.db, a, riskID, id)
	return x, err
}

// SubmitAcceptance submits a drafted acceptance to its approver.
func (s *Service) SubmitAcceptance(ctx context.Context, a actor.Actor, riskID, id int64) (Acceptance, error) {
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		r, x, err := s.acceptance(ctx, tx, a, riskID, id)
		if err != nil {
			return err
		}
		if x.Status != AcceptCreated {
			return problem.Conflict("only a drafted acceptance is submitted (it is %s)", x.Status).WithMsg("risk.error.acceptance_state")
		}
		if !x.ExpiresAt.After(s.now()) {
			return problem.Invalid("expires_at", "must be in the future and within three years").WithMsg("risk.error.expiry")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE risk_acceptances SET status = 'submitted', submitted_at = ? WHERE id = ?`, s.now(), id); err != nil {
			return fmt.Errorf("risk: acceptance: %w", err)
		}
		return s.record(ctx, tx, a, r, "risk.acceptance_submit", fmt.Sprintf("risk %d %s: acceptance %d submitted to %s", r.ID, r.Title, id, x.Approver),
			trail.Msg("trail.summary.risk.acceptance_submit", r.ID, r.Title, x.Approver), nil, nil)
	})
	if err != nil {
		return Acceptance{}, err
	}
	return s.Acceptance(ctx, a, riskID, id)
}

// DecideAcceptance is the approver's decision on a submitted acceptance (only the
// named approver decides; a rejection needs a reason). Accepting keeps the risk's
// current rating as the snapshot and sets the risk accepted (treatment accept) until the
// expiry.
func (s *Service) DecideAcceptance(ctx context.Context, a actor.Actor, riskID, id int64, accept bool, reason string) (Acceptance, error) {
	reason, err := text("reason", reason, 2000, !accept)
	if err != nil {
		return Acceptance{}, err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		r, x, err := s.acceptance(ctx, tx, a, riskID, id)
		if err != nil {
			return err
		}
		if x.Status != AcceptSubmitted {
			return problem.Conflict("only a submitted acceptance is decided (it is %s)", x.Status).WithMsg("risk.error.acceptance_state")
		}
		if a.Username != x.Approver {
			return problem.Forbidden("only %s decides this acceptance", x.Approver).WithMsg("risk.error.not_approver", x.Approver)
		}
		now := s.now()
		status, action := AcceptRejected, "risk.acceptance_reject"
		if accept {
			if !x.ExpiresAt.After(now) {
				return problem.Invalid("expires_at", "must be in the future and within three years").WithMsg("risk.error.expiry")
			}
			status, action = AcceptAccepted, "risk.acceptance_accept"
		}
		if _, err := tx.ExecContext(ctx, `UPDATE risk_acceptances SET status = ?, decided_by = ?, decided_at = ?, decision_reason = ?,
			snap_likelihood = ?, snap_impact = ?, snap_level = ?, snap_score = ? WHERE id = ?`,
			status, a.Username, now, reason, r.Likelihood, r.Impact, r.Level, r.Score, id); err != nil {
			return fmt.Errorf("risk: acceptance: %w", err)
		}
		var ch map[string]Change
		if accept {
			if _, err := tx.ExecContext(ctx, `UPDATE risks SET status = 'accepted', treatment = 'accept', updated_at = ? WHERE id = ?`, now, riskID); err != nil {
				return fmt.Errorf("risk: acceptance: %w", err)
			}
			ch = map[string]Change{"status": {From: r.Status, To: StatusAccepted}}
			if r.Treatment != TreatAccept {
				ch["treatment"] = Change{From: r.Treatment, To: TreatAccept}
			}
		}
		return s.record(ctx, tx, a, r, action,
			fmt.Sprintf("risk %d %s: acceptance %d %s at %s (likelihood %d, impact %d) until %s: %s", r.ID, r.Title, id, status, r.Level,
				r.Likelihood, r.Impact, x.ExpiresAt.Format(time.DateOnly), reason),
			trail.Msg("trail.summary."+action, r.ID, r.Title, s.levelMsg(r.Level), x.ExpiresAt.Format(time.DateOnly), reason), ch, nil)
	})
	if err != nil {
		return Acceptance{}, err
	}
	return s.Acceptance(ctx, a, riskID, id)
}

// RevokeAcceptance ends an accepted acceptance (or withdraws one in progress) with a
// reason; an accepted risk is open again.
func (s *Service) RevokeAcceptance(ctx context.Context, a actor.Actor, riskID, id int64, reason string) (Acceptance, error) {
	reason, err := text("reason", reason, 2000, true)
	if err != nil {
		return Acceptance{}, err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		r, x, err := s.acceptance(ctx, tx, a, riskID, id)
		if err != nil {
			return err
		}
		if x.Status != AcceptCreated && x.Status != AcceptSubmitted && x.Status != AcceptAccepted {
			return problem.Conflict("the acceptance has ended already (it is %s)", x.Status).WithMsg("risk.error.acceptance_state")
		}
		return s.end(ctx, tx, a, r, x, AcceptRevoked, reason)
	})
	if err != nil {
		return Acceptance{}, err
	}
	return s.Acceptance(ctx, a, riskID, id)
}

// end ends acceptance x of risk r as status (revoked or expired); the risk, if it was
// accepted, is open again.
func (s *Service) end(ctx context.Context, tx *store.Tx, a actor.Actor, r Risk, x Acceptance, status, reason string) error {
	now := s.now()
	if _, err := tx.ExecContext(ctx, `UPDATE risk_acceptances SET status = ?, ended_by = ?, ended_at = ?, end_reason = ? WHERE id = ?`,
		status, a.Username, now, reason, x.ID); err != nil {
		return fmt.Errorf("risk: acceptance: %w", err)
	}
	var ch map[string]Change
	if x.Status == AcceptAccepted && r.Status == StatusAccepted {
		if _, err := tx.ExecContext(ctx, `UPDATE risks SET status = 'open', updated_at = ? WHERE id = ?`, now, r.ID); err != nil {
			return fmt.Errorf("risk: acceptance: %w", err)
		}
		ch = map[string]Change{"status": {From: StatusAccepted, To: StatusOpen}}
	}
	action := "risk.acceptance_" + map[string]string{AcceptRevoked: "revoke", AcceptExpired: "expire"}[status]
	return s.record(ctx, tx, a, r, action, fmt.Sprintf("risk %d %s: acceptance %d %s: %s", r.ID, r.Title, x.ID, status, reason),
		trail.Msg("trail.summary."+action, r.ID, r.Title, x.ExpiresAt.Format(time.DateOnly), reason), ch, nil)
}
