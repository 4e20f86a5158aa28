// Package policy owns the policies and people of a hospital's security management: its
// policy documents (安全管理制度) in the MLPS hierarchy — strategy, rules, procedures,
// record forms — each revision a version, approved by someone other than its author and
// reviewed on a cadence (Sweep opens the reviews as they come due and marks the overdue
// ones); the security roles and who holds them (安全管理机构), with the separation of the
// system, audit and security administrators (三员分立) checked; and the periodic
// self-checks (定期自查: vulnerability scans, penetration tests, document and
// configuration checks) with their results, reports and recurring schedule.
//
// Every change is in the trail; every read and write is limited to the actor's subtree
// (another hospital's record is not found).
package policy

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

// The categories of a policy document: the MLPS document hierarchy.
const (
	CategoryStrategy  = "strategy"  // 总体方针策略
	CategoryRule      = "rule"      // 管理制度
	CategoryProcedure = "procedure" // 操作规程
	CategoryRecord    = "record"    // 记录表单
)

// Categories lists the categories, top of the hierarchy first; each has a catalogue key
// "policy.category.<id>".
var Categories = []string{CategoryStrategy, CategoryRule, CategoryProcedure, CategoryRecord}

// The states of a policy (those of its latest version).
const (
	StatusDraft    = "draft"
	StatusInReview = "in_review"
	StatusApproved = "approved"
	StatusRetired  = "retired"
	// StatusSuperseded is a version replaced by a later approved one.
	StatusSuperseded = "superseded"
)

// Statuses lists the states of a policy in workflow order.
var Statuses = []string{StatusDraft, StatusInReview, StatusApproved, StatusRetired}

// Alert kinds the service raises (source "policy").
const (
	KindReviewDue     = "policy.review_due"
	KindReviewOverdue = "policy.review_overdue"
)

// Raiser raises alerts (alert.Service) inside the caller's transaction.
type Raiser interface {
	Raise(ctx context.Context, tx *store.Tx, in alert.Input) (alert.Alert, bool, error)
}

// Options configures a Service.
type Options struct {
	// MaxFile bounds an attached document or report (default 20 MiB).
	MaxFile int64
	// RemindBefore is how long before a review's date Sweep opens it (default 30 days).
	RemindBefore time.Duration
	Now          func() time.Time
}

// Service keeps the policies, roles and self-checks.
type Service struct {
	db     *store.DB
	trail  *trail.Log
	alerts Raiser
	opt    Options
}

// New returns the service on db; changes are trailed in tl and reminders raised through
// alerts (nil: none).
func New(db *store.DB, tl *trail.Log, alerts Raiser, opt Options) *Service {
	if opt.MaxFile <= 0 {
		opt.MaxFile = 20 << 20
	}
	if opt.RemindBefore <= 0 {
		opt.RemindBefore = 30 * 24 * time.Hour
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Service{db: db, trail: tl, alerts: alerts, opt: opt}
}

func (s *Service) now() time.Time { return s.opt.Now().UTC().Truncate(time.Microsecond) }

// text checks a required or optional text field (problem.Text).
var text = problem.Text

// userOf checks that username (required or not) is a user of organisation orgPath's
// subtree or of one of its ancestors, that a may see.
func userOf(ctx context.Context, q store.Querier, a actor.Actor, field, username, orgPath string, required bool) (string, error) {
	v, err := text(field, username, 100, required)
	if err != nil || v == "" {
		return v, err
	}
	var p string
	err = q.QueryRowContext(ctx, `SELECT uo.path FROM users u JOIN orgs uo ON uo.id = u.org_id
		WHERE u.username = ? AND NOT u.disabled`, v).Scan(&p)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("policy: user: %w", err)
	}
	n := 0
	if err == nil && a.Sees(p) && (strings.HasPrefix(orgPath, p) || strings.HasPrefix(p, orgPath)) {
		n = 1
	}
	if n == 0 {
		return "", problem.Invalid(field, "is not a user of this organisation").WithMsg("policy.error.user")
	}
	return v, nil
}

// monthsAfter returns t plus n months.
func monthsAfter(t time.Time, n int) time.Time { return t.AddDate(0, n, 0) }

func itoa(id int64) string { return strconv.FormatInt(id, 10) }

func oneOf(field, v string, allowed []string) error {
	if !slices.Contains(allowed, v) {
		return problem.OneOf(field, allowed...)
	}
	return nil
}
