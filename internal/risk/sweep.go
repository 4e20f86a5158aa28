package risk

import (
	"context"
	"fmt"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/store"
)

// SweepResult counts what a Sweep did: acceptances expired (their risks re-opened) and
// reminders raised. A second Sweep at the same time counts nothing.
type SweepResult struct {
	Expired        int `json:"expired"`
	ReviewsDue     int `json:"reviews_due"`
	ReviewsOverdue int `json:"reviews_overdue"`
	TasksDue       int `json:"tasks_due"`
	TasksOverdue   int `json:"tasks_overdue"`
}

// Alert kinds the register raises (source "risk").
const (
	KindAcceptanceExpired = "risk.acceptance_expired"
	KindReviewDue         = "risk.review_due"
	KindReviewOverdue     = "risk.review_overdue"
	KindTaskDue           = "risk.task_due"
	KindTaskOverdue       = "risk.task_overdue"
)

// Sweep does, as the platform at time now, for every organisation: it expires the
// accepted acceptances whose expiry has come, re-opening their risks and raising a
// "risk acceptance expired" alert; and it raises a reminder for every review of a risk
// that is not closed and every task not done that falls due within
// Options.RemindBefore, or an overdue alert once the date has passed. Each reminder is
// raised once (by its dedup key, kept in risk_reminders), so that running Sweep again
// raises nothing new. Run it periodically (the scheduler in internal/app).
func (s *Service) Sweep(ctx context.Context, now time.Time) (SweepResult, error) {
	now = now.UTC().Truncate(time.Microsecond)
	sw := *s
	sw.opt.Now = func() time.Time { return now }
	var res SweepResult
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := sw.expire(ctx, tx, now, &res); err != nil {
			return err
		}
		if err := sw.remindReviews(ctx, tx, now, &res); err != nil {
			return err
		}
		return sw.remindTasks(ctx, tx, now, &res)
	})
	return res, err
}

func (s *Service) expire(ctx context.Context, tx *store.Tx, now time.Time, res *SweepResult) error {
	due, err := store.Collect(ctx, tx, scanAcceptance, `SELECT `+acceptanceColumns+` FROM risk_acceptances
		WHERE status = 'accepted' AND expires_at <= ? ORDER BY id`, now)
	if err != nil {
		return fmt.Errorf("risk: sweep: %w", err)
	}
	sys := actor.System()
	for _, x := range due {
		r, err := s.get(ctx, tx, sys, x.RiskID)
		if err != nil {
			return err
		}
		if err := s.end(ctx, tx, sys, r, x, AcceptExpired, "expiry "+x.ExpiresAt.Format(time.DateOnly)); err != nil {
			return err
		}
		raised, err := s.remind(ctx, tx, r, alertSeverity(r.Level), KindAcceptanceExpired,
			fmt.Sprintf("%s:%d", KindAcceptanceExpired, x.ID), i18n.M("risk.alert.acceptance_expired", r.ID, r.Title),
			map[string]any{"risk_id": r.ID, "acceptance_id": x.ID, "expires_at": x.ExpiresAt, "approver": x.Approver, "level": x.SnapshotLevel})
		if err != nil {
			return err
		}
		if raised {
			res.Expired++
		}
	}
	return nil
}

func (s *Service) remindReviews(ctx context.Context, tx *store.Tx, now time.Time, res *SweepResult) error {
	rs, err := store.Collect(ctx, tx, scanRisk, `SELECT `+riskColumns+` FROM risks r JOIN orgs o ON o.id = r.org_id
		WHERE r.status <> 'closed' AND r.next_review_at <= ? ORDER BY r.id`, now.Add(s.opt.RemindBefore))
	if err != nil {
		return fmt.Errorf("risk: sweep: %w", err)
	}
	for _, r := range rs {
		date := r.NextReviewAt.Format(time.DateOnly)
		kind, sev, n := KindReviewDue, alert.SeverityLow, &res.ReviewsDue
		if !r.NextReviewAt.After(now) {
			kind, sev, n = KindReviewOverdue, alert.SeverityMedium, &res.ReviewsOverdue
		}
		raised, err := s.remind(ctx, tx, r, sev, kind, fmt.Sprintf("%s:%d:%s", kind, r.ID, date),
			i18n.M("risk.alert."+kind[len("risk."):], r.ID, r.Title, date),
			map[string]any{"risk_id": r.ID, "next_review_at": r.NextReviewAt, "level": r.Level})
		if err != nil {
			return err
		}
		if raised {
			*n++
		}
	}
	return nil
}

func (s *Service) remindTasks(ctx context.Context, tx *store.Tx, now time.Time, res *SweepResult) error {
	ts, err := store.Collect(ctx, tx, scanTask, `SELECT `+taskColumns+` FROM risk_tasks
		WHERE done_at IS NULL AND due_at IS NOT NULL AND due_at <= ?
		AND risk_id IN (SELECT id FROM risks WHERE status <> 'closed') ORDER BY id`, now.Add(s.opt.RemindBefore))
	if err != nil {
		return fmt.Errorf("risk: sweep: %w", err)
	}
	sys := actor.System()
	for _, t := range ts {
		r, err := s.get(ctx, tx, sys, t.RiskID)
		if err != nil {
			return err
		}
		date := t.DueAt.Format(time.DateOnly)
		kind, sev, n := KindTaskDue, alert.SeverityLow, &res.TasksDue
		if !t.DueAt.After(now) {
			kind, sev, n = KindTaskOverdue, alert.SeverityMedium, &res.TasksOverdue
		}
		var title any = t.Title
		if t.TitleMsg != nil {
			title = *t.TitleMsg
		}
		raised, err := s.remind(ctx, tx, r, sev, kind, fmt.Sprintf("%s:%d:%s", kind, t.ID, date),
			i18n.M("risk.alert."+kind[len("risk."):], r.ID, r.Title, title, date),
			map[string]any{"risk_id": r.ID, "task_id": t.ID, "due_at": t.DueAt, "assignee": t.Assignee})
		if err != nil {
			return err
		}
		if raised {
			*n++
		}
	}
	return nil
}

// remind raises an alert about risk r once per key: it reports false, raising nothing,
// when key was raised before.
func (s *Service) remind(ctx context.Context, tx *store.Tx, r Risk, severity, kind, key string, title i18n.Message, evidence any) (bool, error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO risk_reminders (dedup_key, risk_id, raised_at) VALUES (?, ?, ?)
		ON CONFLICT (dedup_key) DO NOTHING`, key, r.ID, s.now())
	if err != nil {
		return false, fmt.Errorf("risk: reminder: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	if s.alerts == nil {
		return true, nil
	}
	_, _, err = s.alerts.Raise(ctx, tx, alert.Input{OrgID: r.OrgID, Source: "risk", Kind: kind, Severity: severity, Title: title,
		Subject: fmt.Sprintf("risk %d", r.ID), Evidence: evidence, DedupKey: key, At: s.now()})
	if err != nil {
		return false, fmt.Errorf("risk: reminder: %w", err)
	}
	return true, nil
}

// alertSeverity is the alert severity of a risk of level lvl: the level itself when it
// is a severity (the default matrix's are), medium otherwise.
func alertSeverity(lvl string) string {
	if alert.ValidSeverity(lvl) {
		return lvl
	}
	return alert.SeverityMedium
}
