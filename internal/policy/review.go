package policy

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
)

// The states of a review.
const (
	ReviewOpen      = "open"
	ReviewOverdue   = "overdue"
	ReviewDone      = "done"
	ReviewCancelled = "cancelled" // its policy was retired
)

// The outcomes of a review.
const (
	OutcomeNoChange = "no_change" // the policy stands as it is
	OutcomeRevised  = "revised"   // a new draft version is written
)

// Review is a periodic review of a policy.
type Review struct {
	ID       int64      `json:"id"`
	PolicyID int64      `json:"policy_id"`
	DueAt    time.Time  `json:"due_at"`
	Status   string     `json:"status"`
	Outcome  string     `json:"outcome"`
	Note     string     `json:"note"`
	OpenedBy string     `json:"opened_by"`
	OpenedAt time.Time  `json:"opened_at"`
	DoneBy   string     `json:"done_by"`
	DoneAt   *time.Time `json:"done_at"`
}

const reviewColumns = `id, policy_id, due_at, status, outcome, note, opened_by, opened_at, done_by, done_at`

func scanReview(sc store.Scanner) (Review, error) {
	var r Review
	var due, opened, done store.Time
	if err := sc.Scan(&r.ID, &r.PolicyID, &due, &r.Status, &r.Outcome, &r.Note, &r.OpenedBy, &opened, &r.DoneBy, &done); err != nil {
		return r, err
	}
	r.DueAt, r.OpenedAt, r.DoneAt = due.Time, opened.Time, done.Ptr()
	return r, nil
}

// SweepResult counts what a Sweep did; a second Sweep at the same time counts nothing.
type SweepResult struct {
	ReviewsOpened  int `json:"reviews_opened"`
	ReviewsOverdue int `json:"reviews_overdue"`
}

// Sweep does, as the platform at time now, for every organisation: it opens a review of
// every policy in force whose review date falls within Options.RemindBefore, raising a
// "policy.review_due" alert (once: a review is opened once per due date), and marks the
// open reviews whose date has passed overdue, raising a "policy.review_overdue" alert
// (once: the mark is the memory). Run it periodically (the scheduler in internal/app).
func (s *Service) Sweep(ctx context.Context, now time.Time) (SweepResult, error) {
	now = now.UTC().Truncate(time.Microsecond)
	var res SweepResult
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		due, err := store.Collect(ctx, tx, scanPolicy, `SELECT `+policyColumns+` FROM policies p JOIN orgs o ON o.id = p.org_id
			WHERE p.approved_version > 0 AND p.status <> 'retired' AND p.next_review_at <= ?
			AND NOT EXISTS (SELECT 1 FROM policy_reviews r WHERE r.policy_id = p.id AND r.due_at = p.next_review_at)
			ORDER BY p.id`, now.Add(s.opt.RemindBefore))
		if err != nil {
			return fmt.Errorf("policy: sweep: %w", err)
		}
		for _, p := range due {
			var id int64
			if err := tx.QueryRowContext(ctx, `INSERT INTO policy_reviews (policy_id, due_at, status, opened_by, opened_at)
				VALUES (?, ?, 'open', 'system', ?) RETURNING id`, p.ID, *p.NextReviewAt, now).Scan(&id); err != nil {
				return fmt.Errorf("policy: sweep: %w", err)
			}
			date := p.NextReviewAt.Format(time.DateOnly)
			if err := s.raise(ctx, tx, p, alert.SeverityLow, KindReviewDue, fmt.Sprintf("%s:%d", KindReviewDue, id),
				i18n.M("policy.alert.review_due", p.ID, p.Title, date), now, id); err != nil {
				return err
			}
			if err := s.record(ctx, tx, actor.System(), p, "policy.review_open", fmt.Sprintf("policy %d %s: review due %s opened", p.ID, p.Title, date),
				[]any{p.ID, p.Title, date}, map[string]any{"review": id, "due_at": p.NextReviewAt}); err != nil {
				return err
			}
			res.ReviewsOpened++
		}
		late, err := store.Collect(ctx, tx, scanReview, `SELECT `+reviewColumns+` FROM policy_reviews
			WHERE status = 'open' AND due_at < ? ORDER BY id`, now)
		if err != nil {
			return fmt.Errorf("policy: sweep: %w", err)
		}
		for _, r := range late {
			p, err := s.get(ctx, tx, actor.System(), r.PolicyID)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE policy_reviews SET status = 'overdue' WHERE id = ? AND status = 'open'`, r.ID); err != nil {
				return fmt.Errorf("policy: sweep: %w", err)
			}
			date := r.DueAt.Format(time.DateOnly)
			if err := s.raise(ctx, tx, p, alert.SeverityMedium, KindReviewOverdue, fmt.Sprintf("%s:%d", KindReviewOverdue, r.ID),
				i18n.M("policy.alert.review_overdue", p.ID, p.Title, date), now, r.ID); err != nil {
				return err
			}
			res.ReviewsOverdue++
		}
		return nil
	})
	return res, err
}

func (s *Service) raise(ctx context.Context, tx *store.Tx, p Policy, severity, kind, key string, title i18n.Message, now time.Time, review int64) error {
	if s.alerts == nil {
		return nil
	}
	_, _, err := s.alerts.Raise(ctx, tx, alert.Input{OrgID: p.OrgID, Source: "policy", Kind: kind, Severity: severity, Title: title,
		Subject: fmt.Sprintf("policy %d", p.ID), DedupKey: key, At: now,
		Evidence: map[string]any{"policy_id": p.ID, "review_id": review, "next_review_at": p.NextReviewAt, "owner": p.Owner}})
	if err != nil {
		return fmt.Errorf("policy: alert: %w", err)
	}
	return nil
}

// ReviewInput completes a review: the outcome, a note, and for a revision the new
// version's text (empty: the text in force is copied into the new draft).
type ReviewInput struct {
	Outcome string `json:"outcome"`
	Note    string `json:"note"`
	Body    string `json:"body"`
}

// CompleteReview records that a reviewed policy id now: the open (or overdue) review
// is closed — or, when none is open, one is recorded for today. With no change the next
// review is due after the policy's interval; revised writes a new draft version (to be
// submitted and approved, which sets the next review from its effective date).
func (s *Service) CompleteReview(ctx context.Context, a actor.Actor, id int64, in ReviewInput) (Policy, error) {
	if err := oneOf("outcome", in.Outcome, []string{OutcomeNoChange, OutcomeRevised}); err != nil {
		return Policy{}, err
	}
	note, err := text("note", in.Note, 2000, false)
	if err != nil {
		return Policy{}, err
	}
	body, err := text("body", in.Body, 200000, false)
	if err != nil {
		return Policy{}, err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		p, err := s.get(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if p.ApprovedVersion == 0 || p.Status == StatusRetired {
			return problem.Conflict("only a policy in force is reviewed").WithMsg("policy.error.not_in_force")
		}
		if in.Outcome == OutcomeRevised && p.Status == StatusInReview {
			return problem.Conflict("the policy is in review").WithMsg("policy.error.in_review")
		}
		now := s.now()
		var rid int64
		err = tx.QueryRowContext(ctx, `SELECT id FROM policy_reviews WHERE policy_id = ? AND status IN ('open', 'overdue')
			ORDER BY due_at LIMIT 1`, id).Scan(&rid)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if err := tx.QueryRowContext(ctx, `INSERT INTO policy_reviews (policy_id, due_at, status, opened_by, opened_at)
				VALUES (?, ?, 'open', ?, ?) RETURNING id`, id, now, a.Username, now).Scan(&rid); err != nil {
				return fmt.Errorf("policy: review: %w", err)
			}
		case err != nil:
			return fmt.Errorf("policy: review: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE policy_reviews SET status = 'done', outcome = ?, note = ?, done_by = ?, done_at = ?
			WHERE id = ?`, in.Outcome, note, a.Username, now, rid); err != nil {
			return fmt.Errorf("policy: review: %w", err)
		}
		next := monthsAfter(now, p.ReviewMonths)
		if _, err := tx.ExecContext(ctx, `UPDATE policies SET last_reviewed_at = ?, next_review_at = ?, updated_at = ? WHERE id = ?`,
			now, next, now, id); err != nil {
			return fmt.Errorf("policy: review: %w", err)
		}
		if err := s.record(ctx, tx, a, p, "policy.review", fmt.Sprintf("policy %d %s reviewed (%s), next review %s: %s",
			id, p.Title, in.Outcome, next.Format(time.DateOnly), note),
			[]any{id, p.Title, i18n.M("policy.outcome." + in.Outcome), next.Format(time.DateOnly), note},
			map[string]any{"review": rid, "outcome": in.Outcome}); err != nil {
			return err
		}
		if in.Outcome == OutcomeNoChange {
			return nil
		}
		if body == "" {
			if err := tx.QueryRowContext(ctx, `SELECT body FROM policy_versions WHERE policy_id = ? AND version = ?`,
				id, p.ApprovedVersion).Scan(&body); err != nil {
				return fmt.Errorf("policy: review: %w", err)
			}
		}
		p.NextReviewAt = &next
		return s.revise(ctx, tx, a, p, Input{Title: p.Title, Category: p.Category, Owner: p.Owner, Body: body,
			Note: note, ReviewMonths: p.ReviewMonths})
	})
	if err != nil {
		return Policy{}, err
	}
	return s.Policy(ctx, a, id)
}
