package supply

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
	"github.com/medguard/medguard/internal/trail"
)

// The states of a finding. Open, accepted and false positive come from the decision on
// the product's component (so they carry over to later versions); fixed means a later
// version of the product no longer has the vulnerable component.
const (
	StateOpen          = "open"
	StateFixed         = "fixed"
	StateAccepted      = "accepted"
	StateFalsePositive = "false_positive"
)

// Severities in decreasing order.
var Severities = []string{"critical", "high", "medium", "low", "none", "unknown"}

// severityRank orders severities, higher is worse. Unknown ranks 0; a gate's severity
// rule treats it apart (Rules.UnknownSeverity), never as below its threshold.
func severityRank(s string) int {
	switch s {
	case "critical":
		return 5
	case "high":
		return 4
	case "medium":
		return 3
	case "low":
		return 2
	case "none":
		return 1
	}
	return 0
}

// openDecision is true for the joined decision alias d when no decision applies (none,
// or an acceptance that expired at or before the time argument).
const openDecision = `(d.id IS NULL OR (d.state = 'accepted' AND d.expires_at IS NOT NULL AND d.expires_at <= ?))`

// stateExpr computes a finding's state (alias f, decision alias d, one time argument).
const stateExpr = `CASE WHEN f.fixed_in <> '' THEN 'fixed'
	WHEN d.id IS NULL THEN 'open'
	WHEN d.state = 'accepted' AND d.expires_at IS NOT NULL AND d.expires_at <= ? THEN 'open'
	ELSE d.state END`

const joinDecision = ` LEFT JOIN finding_decisions d ON d.product_id = f.product_id AND d.ecosystem = f.ecosystem
	AND d.pkg_name = f.pkg_name AND d.vuln_group = f.vuln_group`

// Finding is a vulnerability in a component of a product version.
type Finding struct {
	ID            int64      `json:"id"`
	OrgID         int64      `json:"org_id"`
	ProductID     int64      `json:"product_id"`
	ProductName   string     `json:"product_name"`
	VersionID     int64      `json:"version_id"`
	Version       string     `json:"version"`
	VendorID      int64      `json:"vendor_id"`
	VendorName    string     `json:"vendor_name"`
	ComponentID   int64      `json:"component_id"`
	VulnID        string     `json:"vuln_id"`
	Group         string     `json:"group"`
	Ecosystem     string     `json:"ecosystem"`
	Package       string     `json:"package"`
	PkgVersion    string     `json:"package_version"`
	PURL          string     `json:"purl"`
	Severity      string     `json:"severity"`
	Score         float64    `json:"score"`
	FixedVersions []string   `json:"fixed_versions"`
	FixedIn       string     `json:"fixed_in"`
	State         string     `json:"state"`
	Reason        string     `json:"reason"`
	ExpiresAt     *time.Time `json:"expires_at"`
	DecidedBy     string     `json:"decided_by"`
	FirstSeen     time.Time  `json:"first_seen"`
	AgeDays       int        `json:"age_days"`
}

// FindingQuery filters Findings.
type FindingQuery struct {
	ProductID int64
	VersionID int64
	VendorID  int64
	VulnID    string // also matches the vulnerability group (aliases)
	Severity  string
	State     string // "" = open and accepted (not fixed, not false positive); "all" = every state
	Limit     int
	Offset    int
}

// FindingPage is one page of findings and the number of findings matching the query.
type FindingPage struct {
	Items []Finding `json:"items"`
	Total int       `json:"total"`
}

const findingColumns = `f.id, f.org_id, f.product_id, p.name, f.version_id, pv.version, COALESCE(p.vendor_id, 0),
	COALESCE(v.name, ''), f.component_id, f.vuln_id, f.vuln_group, f.ecosystem, f.pkg_name, f.pkg_version, f.purl,
	f.severity, f.score, f.fixed_versions, f.fixed_in, ` + stateExpr + `, COALESCE(d.reason, ''), d.expires_at,
	COALESCE(d.decided_by, ''), f.first_seen`

const fromFindings = ` FROM findings f JOIN products p ON p.id = f.product_id JOIN product_versions pv ON pv.id = f.version_id
	JOIN orgs o ON o.id = f.org_id LEFT JOIN vendors v ON v.id = p.vendor_id` + joinDecision

func (s *Service) scanFinding(sc interface{ Scan(...any) error }) (Finding, error) {
	var f Finding
	var fixed string
	var exp sql.NullTime
	err := sc.Scan(&f.ID, &f.OrgID, &f.ProductID, &f.ProductName, &f.VersionID, &f.Version, &f.VendorID, &f.VendorName,
		&f.ComponentID, &f.VulnID, &f.Group, &f.Ecosystem, &f.Package, &f.PkgVersion, &f.PURL, &f.Severity, &f.Score,
		&fixed, &f.FixedIn, &f.State, &f.Reason, &exp, &f.DecidedBy, &f.FirstSeen)
	f.FixedVersions = splitList(fixed)
	if exp.Valid && f.State != StateFixed {
		t := exp.Time.UTC()
		f.ExpiresAt = &t
	}
	f.FirstSeen = f.FirstSeen.UTC()
	f.AgeDays = int(s.now().Sub(f.FirstSeen).Hours() / 24)
	return f, err
}

func splitList(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, "\n")
}

// Findings lists findings in a's scope, most severe and oldest first.
func (s *Service) Findings(ctx context.Context, a actor.Actor, q FindingQuery) (FindingPage, error) {
	now := s.stamp()
	cond, arg := a.SeesSQL("o.path")
	where, args := cond, []any{arg}
	add := func(c string, v ...any) { where += " AND " + c; args = append(args, v...) }
	if q.ProductID != 0 {
		add(`f.product_id = ?`, q.ProductID)
	}
	if q.VersionID != 0 {
		add(`f.version_id = ?`, q.VersionID)
	}
	if q.VendorID != 0 {
		add(`p.vendor_id = ?`, q.VendorID)
	}
	if q.VulnID != "" {
		add(`(f.vuln_id = ? OR f.vuln_group = ?)`, q.VulnID, q.VulnID)
	}
	if q.Severity != "" {
		if severityRank(q.Severity) == 0 && q.Severity != "unknown" {
			return FindingPage{}, problem.OneOf("severity", "critical", "high", "medium", "low", "none", "unknown")
		}
		add(`f.severity = ?`, q.Severity)
	}
	switch q.State {
	case "":
		add(`(`+stateExpr+`) IN ('open', 'accepted')`, now)
	case "all":
	case StateOpen, StateFixed, StateAccepted, StateFalsePositive:
		add(`(`+stateExpr+`) = ?`, now, q.State)
	default:
		return FindingPage{}, problem.OneOf("state", "open", "fixed", "accepted", "false_positive", "all")
	}
	if q.Limit <= 0 || q.Limit > 500 {
		q.Limit = 100
	}
	var page FindingPage
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*)`+fromFindings+` WHERE `+where, args...).Scan(&page.Total); err != nil {
		return FindingPage{}, fmt.Errorf("supply: count findings: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+findingColumns+fromFindings+` WHERE `+where+`
		ORDER BY f.score DESC, f.first_seen, f.id LIMIT ? OFFSET ?`, append(append([]any{now}, args...), q.Limit, q.Offset)...)
	if err != nil {
		return FindingPage{}, fmt.Errorf("supply: list findings: %w", err)
	}
	defer rows.Close()
	page.Items = []Finding{}
	for rows.Next() {
		f, err := s.scanFinding(rows)
		if err != nil {
			return FindingPage{}, fmt.Errorf("supply: list findings: %w", err)
		}
		page.Items = append(page.Items, f)
	}
	return page, rows.Err()
}

func (s *Service) getFinding(ctx context.Context, q store.Querier, a actor.Actor, id int64) (Finding, error) {
	cond, arg := a.SeesSQL("o.path")
	f, err := s.scanFinding(q.QueryRowContext(ctx, `SELECT `+findingColumns+fromFindings+` WHERE f.id = ? AND `+cond,
		s.stamp(), id, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return Finding{}, problem.NotFound("finding")
	}
	if err != nil {
		return Finding{}, fmt.Errorf("supply: read finding %d: %w", id, err)
	}
	return f, nil
}

// Finding returns finding id.
func (s *Service) Finding(ctx context.Context, a actor.Actor, id int64) (Finding, error) {
	return s.getFinding(ctx, s.db, a, id)
}

// Decision is a security officer's verdict on a finding.
type Decision struct {
	State     string     `json:"state"` // accepted, false_positive, or open (withdraws a decision)
	Reason    string     `json:"reason"`
	ExpiresAt *time.Time `json:"expires_at"` // required for accepted
}

// MaxAcceptance is the longest a risk may be accepted for.
const MaxAcceptance = 366 * 24 * time.Hour

// Decide records d for finding id. The decision is kept for the product, the package and
// the vulnerability (with its aliases), so it applies to every version of the product
// that still contains the package.
func (s *Service) Decide(ctx context.Context, a actor.Actor, id int64, d Decision) (Finding, error) {
	var err error
	now := s.stamp()
	switch d.State {
	case StateAccepted:
		if d.ExpiresAt == nil {
			return Finding{}, problem.Invalid("expires_at", "an accepted risk needs an expiry date").WithMsg("supply.error.msg.accept_needs_expiry")
		}
		if !d.ExpiresAt.After(now) {
			return Finding{}, problem.Invalid("expires_at", "must be in the future").WithMsg("supply.error.msg.in_future")
		}
		if d.ExpiresAt.Sub(now) > MaxAcceptance {
			return Finding{}, problem.Invalid("expires_at", "must be within a year").WithMsg("supply.error.msg.within_year")
		}
	case StateFalsePositive:
		d.ExpiresAt = nil
	case StateOpen:
	default:
		return Finding{}, problem.Invalid("state", "must be accepted, false_positive or open").WithMsg("error.msg.one_of", "accepted, false_positive, open")
	}
	if d.Reason, err = text("reason", d.Reason, 2000, d.State != StateOpen); err != nil {
		return Finding{}, err
	}
	var out Finding
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		before, err := s.getFinding(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if before.State == StateFixed {
			return problem.Conflict("the finding is fixed in version %s", before.FixedIn).WithCode("finding_fixed")
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM finding_decisions WHERE product_id = ? AND ecosystem = ? AND pkg_name = ?
			AND vuln_group = ?`, before.ProductID, before.Ecosystem, before.Package, before.Group); err != nil {
			return fmt.Errorf("supply: clear decision: %w", err)
		}
		if d.State != StateOpen {
			if _, err := tx.ExecContext(ctx, `INSERT INTO finding_decisions (product_id, ecosystem, pkg_name, vuln_group, state,
				reason, expires_at, decided_by, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, before.ProductID, before.Ecosystem,
				before.Package, before.Group, d.State, d.Reason, store.NullTime(d.ExpiresAt), a.Username, now); err != nil {
				return fmt.Errorf("supply: record decision: %w", err)
			}
		}
		if out, err = s.getFinding(ctx, tx, a, id); err != nil {
			return err
		}
		_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: "finding.decide", ObjectType: "finding",
			ObjectID: idString(id), OrgID: before.OrgID,
			Summary: fmt.Sprintf("%s in %s %s: %s", before.VulnID, before.Package, before.PkgVersion, d.State),
			Msg: trail.Msg("trail.summary.finding.decide", before.VulnID, before.Package, before.PkgVersion,
				stateWord(d.State)),
			Before: before, After: out})
		return err
	})
	return out, err
}
