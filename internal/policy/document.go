package policy

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

// Policy is a policy document. Status, Version and the text are those of its latest
// version; ApprovedVersion is the one in force (0: none yet). Versions and Reviews are
// filled by Policy, not by lists.
type Policy struct {
	ID              int64      `json:"id"`
	OrgID           int64      `json:"org_id"`
	OrgName         string     `json:"hospital"`
	Title           string     `json:"title"`
	Category        string     `json:"category"`
	Owner           string     `json:"owner"`
	Status          string     `json:"status"`
	Version         int        `json:"version"`
	ApprovedVersion int        `json:"approved_version"`
	ReviewMonths    int        `json:"review_months"`
	EffectiveAt     *time.Time `json:"effective_at"`
	NextReviewAt    *time.Time `json:"next_review_at"`
	LastReviewedAt  *time.Time `json:"last_reviewed_at"`
	CreatedBy       string     `json:"created_by"`
	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at"`

	Versions []Version `json:"versions,omitempty"`
	Reviews  []Review  `json:"reviews,omitempty"`
}

// Overdue reports whether p, in force, has passed its review date at now.
func (p Policy) Overdue(now time.Time) bool {
	return p.Status != StatusRetired && p.NextReviewAt != nil && p.NextReviewAt.Before(now)
}

// Version is one revision of a policy, with its approval trail and attached document
// (File.Content is filled by Service.File only).
type Version struct {
	Version     int        `json:"version"`
	Status      string     `json:"status"`
	Body        string     `json:"body"`
	Note        string     `json:"note"`
	Author      string     `json:"author"`
	CreatedAt   time.Time  `json:"created_at"`
	SubmittedBy string     `json:"submitted_by"`
	SubmittedAt *time.Time `json:"submitted_at"`
	ApprovedBy  string     `json:"approved_by"`
	ApprovedAt  *time.Time `json:"approved_at"`
	EffectiveAt *time.Time `json:"effective_at"`
	File        *File      `json:"file"`
}

// File is a document attached to a policy version or a self-check report.
type File struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	// ContentType is the type to serve it as (with Content-Disposition: attachment and
	// X-Content-Type-Options: nosniff); never text/html.
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
	Content     []byte `json:"-"`
}

// Input is what a person writes of a policy: a new policy, or the next version of one
// (OrgID is then ignored). ReviewMonths defaults to 12.
type Input struct {
	OrgID        int64  `json:"org_id"`
	Title        string `json:"title"`
	Category     string `json:"category"`
	Owner        string `json:"owner"`
	Body         string `json:"body"`
	Note         string `json:"note"`
	ReviewMonths int    `json:"review_months"`
}

func (in Input) check() (Input, error) {
	var err error
	if in.Title, err = text("title", in.Title, 200, true); err != nil {
		return in, err
	}
	if err := oneOf("category", in.Category, Categories); err != nil {
		return in, err
	}
	if in.Body, err = text("body", in.Body, 200000, false); err != nil {
		return in, err
	}
	if in.Note, err = text("note", in.Note, 2000, false); err != nil {
		return in, err
	}
	if in.ReviewMonths == 0 {
		in.ReviewMonths = 12
	}
	if in.ReviewMonths < 1 || in.ReviewMonths > 60 {
		return in, problem.Invalid("review_months", "must be 1 to 60").WithMsg("policy.error.review_months", 60)
	}
	return in, nil
}

const policyColumns = `p.id, p.org_id, o.name, p.title, p.category, p.owner, p.status, p.version, p.approved_version,
	p.review_months, p.effective_at, p.next_review_at, p.last_reviewed_at, p.created_by, p.created_at, p.updated_at`

func scanPolicy(sc store.Scanner) (Policy, error) {
	var p Policy
	var eff, next, last, created, updated store.Time
	if err := sc.Scan(&p.ID, &p.OrgID, &p.OrgName, &p.Title, &p.Category, &p.Owner, &p.Status, &p.Version, &p.ApprovedVersion,
		&p.ReviewMonths, &eff, &next, &last, &p.CreatedBy, &created, &updated); err != nil {
		return p, err
	}
	p.EffectiveAt, p.NextReviewAt, p.LastReviewedAt, p.CreatedAt, p.UpdatedAt = eff.Ptr(), next.Ptr(), last.Ptr(), created.Time, updated.Time
	return p, nil
}

// get reads policy id as a sees it (another organisation's policy is not found).
func (s *Service) get(ctx context.Context, q store.Querier, a actor.Actor, id int64) (Policy, error) {
	cond, arg := a.SeesSQL("o.path")
	p, err := scanPolicy(q.QueryRowContext(ctx, `SELECT `+policyColumns+` FROM policies p JOIN orgs o ON o.id = p.org_id
		WHERE p.id = ? AND `+cond, id, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return Policy{}, problem.NotFound("policy")
	}
	if err != nil {
		return Policy{}, fmt.Errorf("policy: policy %d: %w", id, err)
	}
	return p, nil
}

// record appends a trail entry about policy p.
func (s *Service) record(ctx context.Context, tx *store.Tx, a actor.Actor, p Policy, action, summary string, msgArgs []any, after any) error {
	_, err := s.trail.Append(ctx, tx, a, trail.Event{Action: action, ObjectType: "policy", ObjectID: itoa(p.ID), OrgID: p.OrgID,
		Summary: summary, Msg: trail.Msg("trail.summary."+action, msgArgs...), After: after})
	return err
}

// Create records a new policy of organisation in.OrgID (a hospital or department) as
// version 1, a draft, written by a.
func (s *Service) Create(ctx context.Context, a actor.Actor, in Input) (Policy, error) {
	in, err := in.check()
	if err != nil {
		return Policy{}, err
	}
	var id int64
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		o, err := org.Visible(ctx, tx, a, in.OrgID)
		if err != nil {
			return err
		}
		if o.Kind != org.KindHospital && o.Kind != org.KindDepartment {
			return problem.Invalid("org_id", "a policy belongs to a hospital or a department").WithMsg("policy.error.org_kind")
		}
		if in.Owner, err = userOf(ctx, tx, a, "owner", in.Owner, o.Path, true); err != nil {
			return err
		}
		now := s.now()
		if err := tx.QueryRowContext(ctx, `INSERT INTO policies (org_id, title, category, owner, status, version, review_months,
			created_by, created_at, updated_at) VALUES (?, ?, ?, ?, 'draft', 1, ?, ?, ?, ?) RETURNING id`,
			o.ID, in.Title, in.Category, in.Owner, in.ReviewMonths, a.Username, now, now).Scan(&id); err != nil {
			return fmt.Errorf("policy: create: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO policy_versions (policy_id, version, status, body, note, author, created_at)
			VALUES (?, 1, 'draft', ?, ?, ?, ?)`, id, in.Body, in.Note, a.Username, now); err != nil {
			return fmt.Errorf("policy: create: %w", err)
		}
		return s.record(ctx, tx, a, Policy{ID: id, OrgID: o.ID}, "policy.create", fmt.Sprintf("policy %d %s created (%s)", id, in.Title, in.Category),
			[]any{id, in.Title}, in)
	})
	if err != nil {
		return Policy{}, err
	}
	return s.Policy(ctx, a, id)
}

// Revise writes in as the next version of policy id: a draft or returned latest version
// is rewritten in place; an approved one gets a new draft version (the approved one
// stays in force until the new one is approved). A version in review or a retired
// policy is not revised.
func (s *Service) Revise(ctx context.Context, a actor.Actor, id int64, in Input) (Policy, error) {
	in, err := in.check()
	if err != nil {
		return Policy{}, err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		p, err := s.get(ctx, tx, a, id)
		if err != nil {
			return err
		}
		return s.revise(ctx, tx, a, p, in)
	})
	if err != nil {
		return Policy{}, err
	}
	return s.Policy(ctx, a, id)
}

func (s *Service) revise(ctx context.Context, tx *store.Tx, a actor.Actor, p Policy, in Input) error {
	switch p.Status {
	case StatusInReview:
		return problem.Conflict("the policy is in review").WithMsg("policy.error.in_review")
	case StatusRetired:
		return problem.Conflict("the policy is retired").WithMsg("policy.error.retired")
	}
	var path string
	if err := tx.QueryRowContext(ctx, `SELECT path FROM orgs WHERE id = ?`, p.OrgID).Scan(&path); err != nil {
		return fmt.Errorf("policy: revise: %w", err)
	}
	owner, err := userOf(ctx, tx, a, "owner", in.Owner, path, true)
	if err != nil {
		return err
	}
	now, v := s.now(), p.Version
	if p.Status == StatusDraft {
		if _, err := tx.ExecContext(ctx, `UPDATE policy_versions SET body = ?, note = ?, author = ? WHERE policy_id = ? AND version = ?`,
			in.Body, in.Note, a.Username, p.ID, v); err != nil {
			return fmt.Errorf("policy: revise: %w", err)
		}
	} else {
		v++
		if _, err := tx.ExecContext(ctx, `INSERT INTO policy_versions (policy_id, version, status, body, note, author, created_at)
			VALUES (?, ?, 'draft', ?, ?, ?, ?)`, p.ID, v, in.Body, in.Note, a.Username, now); err != nil {
			return fmt.Errorf("policy: revise: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE policies SET title = ?, category = ?, owner = ?, review_months = ?, status = 'draft',
		version = ?, updated_at = ? WHERE id = ?`, in.Title, in.Category, owner, in.ReviewMonths, v, now, p.ID); err != nil {
		return fmt.Errorf("policy: revise: %w", err)
	}
	return s.record(ctx, tx, a, p, "policy.revise", fmt.Sprintf("policy %d %s: version %d drafted", p.ID, in.Title, v),
		[]any{p.ID, in.Title, v}, in)
}

// Submit sends the latest version of policy id, a draft with a text or a document, for
// approval.
func (s *Service) Submit(ctx context.Context, a actor.Actor, id int64) (Policy, error) {
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		p, err := s.get(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if p.Status != StatusDraft {
			return problem.Conflict("only a draft is submitted").WithMsg("policy.error.state")
		}
		var body, file string
		if err := tx.QueryRowContext(ctx, `SELECT body, file_name FROM policy_versions WHERE policy_id = ? AND version = ?`,
			id, p.Version).Scan(&body, &file); err != nil {
			return fmt.Errorf("policy: submit: %w", err)
		}
		if body == "" && file == "" {
			return problem.Invalid("body", "a policy has a text or an attached document").WithMsg("policy.error.empty")
		}
		now := s.now()
		if _, err := tx.ExecContext(ctx, `UPDATE policy_versions SET status = 'in_review', submitted_by = ?, submitted_at = ?
			WHERE policy_id = ? AND version = ?`, a.Username, now, id, p.Version); err != nil {
			return fmt.Errorf("policy: submit: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE policies SET status = 'in_review', updated_at = ? WHERE id = ?`, now, id); err != nil {
			return fmt.Errorf("policy: submit: %w", err)
		}
		return s.record(ctx, tx, a, p, "policy.submit", fmt.Sprintf("policy %d %s: version %d submitted for approval", id, p.Title, p.Version),
			[]any{id, p.Title, p.Version}, nil)
	})
	if err != nil {
		return Policy{}, err
	}
	return s.Policy(ctx, a, id)
}

// Decision is an approver's answer to a version in review.
type Decision struct {
	// Approve: true approves, false returns the version to its author as a draft.
	Approve bool `json:"approve"`
	// EffectiveAt is when an approved version takes effect (zero: now).
	EffectiveAt time.Time `json:"effective_at"`
	Note        string    `json:"note"`
}

// Approve decides the version of policy id in review. The approver is not its author
// nor the one who submitted it. An approved version is in force from its effective date,
// supersedes the one before, and is due for review after the policy's review interval.
func (s *Service) Approve(ctx context.Context, a actor.Actor, id int64, d Decision) (Policy, error) {
	note, err := text("note", d.Note, 2000, false)
	if err != nil {
		return Policy{}, err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		p, err := s.get(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if p.Status != StatusInReview {
			return problem.Conflict("only a version in review is decided").WithMsg("policy.error.state")
		}
		var author, submitter string
		if err := tx.QueryRowContext(ctx, `SELECT author, submitted_by FROM policy_versions WHERE policy_id = ? AND version = ?`,
			id, p.Version).Scan(&author, &submitter); err != nil {
			return fmt.Errorf("policy: approve: %w", err)
		}
		if a.Username == author || a.Username == submitter {
			return problem.Forbidden("the author does not approve their own policy").WithMsg("policy.error.self_approval")
		}
		now := s.now()
		if !d.Approve {
			if _, err := tx.ExecContext(ctx, `UPDATE policy_versions SET status = 'draft', submitted_by = '', submitted_at = NULL,
				note = ? WHERE policy_id = ? AND version = ?`, note, id, p.Version); err != nil {
				return fmt.Errorf("policy: return: %w", err)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE policies SET status = 'draft', updated_at = ? WHERE id = ?`, now, id); err != nil {
				return fmt.Errorf("policy: return: %w", err)
			}
			return s.record(ctx, tx, a, p, "policy.return", fmt.Sprintf("policy %d %s: version %d returned: %s", id, p.Title, p.Version, note),
				[]any{id, p.Title, p.Version, note}, nil)
		}
		eff := d.EffectiveAt.UTC().Truncate(time.Microsecond)
		if d.EffectiveAt.IsZero() {
			eff = now
		}
		if eff.Before(now.AddDate(-1, 0, 0)) || eff.After(now.AddDate(1, 0, 0)) {
			return problem.Invalid("effective_at", "must be within a year of today").WithMsg("policy.error.effective")
		}
		next := monthsAfter(eff, p.ReviewMonths)
		if _, err := tx.ExecContext(ctx, `UPDATE policy_versions SET status = 'superseded' WHERE policy_id = ? AND status = 'approved'`, id); err != nil {
			return fmt.Errorf("policy: approve: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE policy_versions SET status = 'approved', approved_by = ?, approved_at = ?, effective_at = ?
			WHERE policy_id = ? AND version = ?`, a.Username, now, eff, id, p.Version); err != nil {
			return fmt.Errorf("policy: approve: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE policies SET status = 'approved', approved_version = version, effective_at = ?,
			next_review_at = ?, updated_at = ? WHERE id = ?`, eff, next, now, id); err != nil {
			return fmt.Errorf("policy: approve: %w", err)
		}
		return s.record(ctx, tx, a, p, "policy.approve", fmt.Sprintf("policy %d %s: version %d approved, effective %s, next review %s",
			id, p.Title, p.Version, eff.Format(time.DateOnly), next.Format(time.DateOnly)),
			[]any{id, p.Title, p.Version, eff.Format(time.DateOnly), next.Format(time.DateOnly)},
			map[string]any{"version": p.Version, "author": author, "approved_by": a.Username, "effective_at": eff, "next_review_at": next})
	})
	if err != nil {
		return Policy{}, err
	}
	return s.Policy(ctx, a, id)
}

// Retire withdraws policy id (reason required): it is no longer in force nor reviewed.
func (s *Service) Retire(ctx context.Context, a actor.Actor, id int64, reason string) (Policy, error) {
	reason, err := text("reason", reason, 2000, true)
	if err != nil {
		return Policy{}, err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		p, err := s.get(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if p.Status == StatusRetired {
			return problem.Conflict("the policy is retired").WithMsg("policy.error.retired")
		}
		now := s.now()
		if _, err := tx.ExecContext(ctx, `UPDATE policy_versions SET status = 'retired'
			WHERE policy_id = ? AND status IN ('approved', 'draft', 'in_review')`, id); err != nil {
			return fmt.Errorf("policy: retire: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE policy_reviews SET status = 'cancelled', done_at = ?
			WHERE policy_id = ? AND status IN ('open', 'overdue')`, now, id); err != nil {
			return fmt.Errorf("policy: retire: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE policies SET status = 'retired', next_review_at = NULL, updated_at = ?
			WHERE id = ?`, now, id); err != nil {
			return fmt.Errorf("policy: retire: %w", err)
		}
		return s.record(ctx, tx, a, p, "policy.retire", fmt.Sprintf("policy %d %s retired: %s", id, p.Title, reason),
			[]any{id, p.Title, reason}, nil)
	})
	if err != nil {
		return Policy{}, err
	}
	return s.Policy(ctx, a, id)
}
