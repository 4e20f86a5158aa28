package policy

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
)

// Policy returns policy id with its versions (latest first) and reviews (latest first).
func (s *Service) Policy(ctx context.Context, a actor.Actor, id int64) (Policy, error) {
	p, err := s.get(ctx, s.db, a, id)
	if err != nil {
		return Policy{}, err
	}
	p.Versions, err = store.Collect(ctx, s.db, func(sc store.Scanner) (Version, error) {
		var v Version
		var created, sub, appr, eff store.Time
		var f File
		if err := sc.Scan(&v.Version, &v.Status, &v.Body, &v.Note, &v.Author, &created, &v.SubmittedBy, &sub, &v.ApprovedBy, &appr, &eff,
			&f.Name, &f.Kind, &f.ContentType, &f.Size, &f.SHA256); err != nil {
			return v, err
		}
		v.CreatedAt, v.SubmittedAt, v.ApprovedAt, v.EffectiveAt = created.Time, sub.Ptr(), appr.Ptr(), eff.Ptr()
		if f.Name != "" {
			v.File = &f
		}
		return v, nil
	}, `SELECT version, status, body, note, author, created_at, submitted_by, submitted_at, approved_by, approved_at, effective_at,
		file_name, file_kind, file_type, file_size, file_sha256 FROM policy_versions WHERE policy_id = ? ORDER BY version DESC`, id)
	if err != nil {
		return Policy{}, fmt.Errorf("policy: versions: %w", err)
	}
	if p.Reviews, err = store.Collect(ctx, s.db, scanReview, `SELECT `+reviewColumns+` FROM policy_reviews
		WHERE policy_id = ? ORDER BY due_at DESC, id DESC`, id); err != nil {
		return Policy{}, fmt.Errorf("policy: reviews: %w", err)
	}
	if p.Reviews == nil {
		p.Reviews = []Review{}
	}
	return p, nil
}

// Query narrows Policies. Empty fields match everything.
type Query struct {
	OrgID    int64 // this organisation and its subtree
	Status   string
	Category string
	// Overdue keeps the policies in force whose review date has passed at Now.
	Overdue bool
	Now     time.Time
	Text    string // in the title
	Limit   int    // default and at most 500
	Offset  int
}

// Policies lists the policies a sees that match q, the next review soonest first (those
// without one last), and the number of matches.
func (s *Service) Policies(ctx context.Context, a actor.Actor, q Query) ([]Policy, int, error) {
	cond, arg := a.SeesSQL("o.path")
	where, args := []string{cond}, []any{arg}
	if q.OrgID != 0 {
		c, v, err := s.subtree(ctx, a, q.OrgID)
		if err != nil {
			return nil, 0, err
		}
		where, args = append(where, c), append(args, v)
	}
	if q.Status != "" {
		if err := oneOf("status", q.Status, Statuses); err != nil {
			return nil, 0, err
		}
		where, args = append(where, "p.status = ?"), append(args, q.Status)
	}
	if q.Category != "" {
		if err := oneOf("category", q.Category, Categories); err != nil {
			return nil, 0, err
		}
		where, args = append(where, "p.category = ?"), append(args, q.Category)
	}
	if q.Overdue {
		where, args = append(where, "p.status <> 'retired' AND p.next_review_at < ?"), append(args, q.Now.UTC())
	}
	if t := strings.TrimSpace(q.Text); t != "" {
		where, args = append(where, `LOWER(p.title) LIKE ? ESCAPE '\'`), append(args, "%"+actor.EscapeLike(strings.ToLower(t))+"%")
	}
	w := strings.Join(where, " AND ")
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM policies p JOIN orgs o ON o.id = p.org_id WHERE `+w, args...).Scan(&n); err != nil {
		return nil, 0, fmt.Errorf("policy: policies: %w", err)
	}
	if q.Limit <= 0 || q.Limit > 500 {
		q.Limit = 500
	}
	out, err := store.Collect(ctx, s.db, scanPolicy, `SELECT `+policyColumns+` FROM policies p JOIN orgs o ON o.id = p.org_id WHERE `+w+`
		ORDER BY CASE WHEN p.next_review_at IS NULL THEN 1 ELSE 0 END, p.next_review_at, p.id LIMIT ? OFFSET ?`,
		append(args, q.Limit, max(q.Offset, 0))...)
	if err != nil {
		return nil, 0, fmt.Errorf("policy: policies: %w", err)
	}
	if out == nil {
		out = []Policy{}
	}
	return out, n, nil
}

// subtree returns the condition on o.path for organisation id's subtree, which a must
// see (else not found).
func (s *Service) subtree(ctx context.Context, a actor.Actor, id int64) (string, any, error) {
	var p string
	err := s.db.QueryRowContext(ctx, `SELECT path FROM orgs WHERE id = ?`, id).Scan(&p)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !a.Sees(p)) {
		return "", nil, problem.NotFound("organisation")
	}
	if err != nil {
		return "", nil, fmt.Errorf("policy: organisation: %w", err)
	}
	c, v := actor.SubtreeSQL("o.path", p)
	return c, v, nil
}

// OverdueReviews counts, for organisation orgID and its subtree, the policies in force
// (approved at least once and not retired) and those of them whose review date has
// passed at now: the automatic compliance check "policy.reviews" (met when overdue is 0
// and total is not). An unknown organisation is not found.
func (s *Service) OverdueReviews(ctx context.Context, orgID int64, now time.Time) (total, overdue int, err error) {
	c, v, err := s.subtree(ctx, actor.System(), orgID)
	if err != nil {
		return 0, 0, err
	}
	err = s.db.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN p.next_review_at < ? THEN 1 ELSE 0 END), 0)
		FROM policies p JOIN orgs o ON o.id = p.org_id WHERE p.approved_version > 0 AND p.status <> 'retired' AND `+c,
		now.UTC(), v).Scan(&total, &overdue)
	if err != nil {
		return 0, 0, fmt.Errorf("policy: overdue reviews: %w", err)
	}
	return total, overdue, nil
}
