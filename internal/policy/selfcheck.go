package policy

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

// The kinds of self-check; each has a catalogue key "selfcheck.kind.<id>".
var CheckKinds = []string{"vuln_scan", "pentest", "document_check", "config_check", "other"}

// The results of a performed self-check ("" while it is planned).
const (
	ResultPass   = "pass"
	ResultIssues = "issues" // issues found
	ResultFailed = "failed"
)

// Results lists the results.
var Results = []string{ResultPass, ResultIssues, ResultFailed}

// SelfCheck is a periodic self-check (定期自查): planned, then performed with a result.
// A recurring one (RecurMonths > 0) plans its successor, NextID, when it is performed.
type SelfCheck struct {
	ID          int64      `json:"id"`
	OrgID       int64      `json:"org_id"`
	OrgName     string     `json:"hospital"`
	Kind        string     `json:"kind"`
	Title       string     `json:"title"`
	PlannedAt   time.Time  `json:"planned_at"`
	PerformedAt *time.Time `json:"performed_at"`
	Performer   string     `json:"performer"`
	ThirdParty  string     `json:"third_party"`
	AssetIDs    []int64    `json:"asset_ids"`
	Result      string     `json:"result"`
	Findings    int        `json:"findings"`
	Summary     string     `json:"summary"`
	RecurMonths int        `json:"recur_months"`
	NextID      int64      `json:"next_id,omitempty"`
	Report      *File      `json:"report"`
	CreatedBy   string     `json:"created_by"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
}

// Overdue reports whether c, planned before now, is not yet performed.
func (c SelfCheck) Overdue(now time.Time) bool {
	return c.PerformedAt == nil && c.PlannedAt.Before(now)
}

// CheckInput is what a person writes of a self-check: its plan, and once performed the
// date, performer (a user or a third party), result, findings and summary.
type CheckInput struct {
	OrgID       int64      `json:"org_id"`
	Kind        string     `json:"kind"`
	Title       string     `json:"title"`
	PlannedAt   time.Time  `json:"planned_at"`
	PerformedAt *time.Time `json:"performed_at"`
	Performer   string     `json:"performer"`
	ThirdParty  string     `json:"third_party"`
	AssetIDs    []int64    `json:"asset_ids"`
	Result      string     `json:"result"`
	Findings    int        `json:"findings"`
	Summary     string     `json:"summary"`
	RecurMonths int        `json:"recur_months"`
}

func (in CheckInput) check() (CheckInput, error) {
	var err error
	if err := oneOf("kind", in.Kind, CheckKinds); err != nil {
		return in, err
	}
	if in.Title, err = text("title", in.Title, 200, true); err != nil {
		return in, err
	}
	if in.PlannedAt.IsZero() {
		return in, problem.Required("planned_at")
	}
	in.PlannedAt = in.PlannedAt.UTC().Truncate(time.Microsecond)
	if in.ThirdParty, err = text("third_party", in.ThirdParty, 200, false); err != nil {
		return in, err
	}
	if in.Summary, err = text("summary", in.Summary, 10000, false); err != nil {
		return in, err
	}
	if in.RecurMonths < 0 || in.RecurMonths > 60 {
		return in, problem.Invalid("recur_months", "must be 0 to 60").WithMsg("selfcheck.error.recur", 60)
	}
	if in.Findings < 0 || in.Findings > 1000000 {
		return in, problem.Invalid("findings", "is not a count").WithMsg("selfcheck.error.findings")
	}
	if in.PerformedAt != nil {
		t := in.PerformedAt.UTC().Truncate(time.Microsecond)
		in.PerformedAt = &t
		if err := oneOf("result", in.Result, Results); err != nil {
			return in, err
		}
		if in.Result == ResultPass && in.Findings > 0 || in.Result == ResultIssues && in.Findings == 0 {
			return in, problem.Invalid("findings", "disagrees with the result").WithMsg("selfcheck.error.result_findings")
		}
	} else if in.Result != "" {
		return in, problem.Invalid("performed_at", "a result needs the date it was performed").WithMsg("selfcheck.error.performed")
	}
	if len(in.AssetIDs) > 500 {
		return in, problem.Invalid("asset_ids", "at most 500 assets").WithMsg("selfcheck.error.too_many_assets", 500)
	}
	ids := []int64{}
	for _, id := range in.AssetIDs {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	in.AssetIDs = ids
	return in, nil
}

const checkColumns = `c.id, c.org_id, o.name, c.kind, c.title, c.planned_at, c.performed_at, c.performer, c.third_party, c.result,
	c.findings, c.summary, c.recur_months, c.next_id, c.report_name, c.report_kind, c.report_type, c.report_size, c.report_sha256,
	c.created_by, c.created_at, c.updated_at`

func scanCheck(sc store.Scanner) (SelfCheck, error) {
	var c SelfCheck
	var planned, performed, created, updated store.Time
	var next sql.NullInt64
	var f File
	if err := sc.Scan(&c.ID, &c.OrgID, &c.OrgName, &c.Kind, &c.Title, &planned, &performed, &c.Performer, &c.ThirdParty, &c.Result,
		&c.Findings, &c.Summary, &c.RecurMonths, &next, &f.Name, &f.Kind, &f.ContentType, &f.Size, &f.SHA256,
		&c.CreatedBy, &created, &updated); err != nil {
		return c, err
	}
	c.PlannedAt, c.PerformedAt, c.CreatedAt, c.UpdatedAt, c.NextID = planned.Time, performed.Ptr(), created.Time, updated.Time, next.Int64
	if f.Name != "" {
		c.Report = &f
	}
	c.AssetIDs = []int64{}
	return c, nil
}

func (s *Service) getCheck(ctx context.Context, q store.Querier, a actor.Actor, id int64) (SelfCheck, string, error) {
	cond, arg := a.SeesSQL("o.path")
	var path string
	c, err := scanCheck(scanAlso{q.QueryRowContext(ctx, `SELECT `+checkColumns+`, o.path FROM selfchecks c JOIN orgs o ON o.id = c.org_id
		WHERE c.id = ? AND `+cond, id, arg), &path})
	if errors.Is(err, sql.ErrNoRows) {
		return SelfCheck{}, "", problem.NotFound("self-check")
	}
	if err != nil {
		return SelfCheck{}, "", fmt.Errorf("policy: self-check %d: %w", id, err)
	}
	cs := []SelfCheck{c}
	if err := s.checkAssets(ctx, q, cs); err != nil {
		return SelfCheck{}, "", err
	}
	return cs[0], path, nil
}

func (s *Service) checkAssets(ctx context.Context, q store.Querier, cs []SelfCheck) error {
	if len(cs) == 0 {
		return nil
	}
	byID, ids := map[int64]*SelfCheck{}, []any{}
	for i := range cs {
		byID[cs[i].ID] = &cs[i]
		ids = append(ids, cs[i].ID)
	}
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		rows, err := q.QueryContext(ctx, `SELECT selfcheck_id, asset_id FROM selfcheck_assets WHERE selfcheck_id IN (`+
			store.Placeholders(len(chunk))+`) ORDER BY asset_id`, chunk...)
		if err != nil {
			return fmt.Errorf("policy: self-check assets: %w", err)
		}
		for rows.Next() {
			var cid, aid int64
			if err := rows.Scan(&cid, &aid); err != nil {
				rows.Close()
				return fmt.Errorf("policy: self-check assets: %w", err)
			}
			byID[cid].AssetIDs = append(byID[cid].AssetIDs, aid)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return fmt.Errorf("policy: self-check assets: %w", err)
		}
	}
	return nil
}

// storeAssets checks that every asset of ids is in organisation path's subtree and
// stores them as check id's scope.
func (s *Service) storeAssets(ctx context.Context, tx *store.Tx, id int64, path string, ids []int64) error {
	if len(ids) > 0 {
		args := []any{}
		for _, aid := range ids {
			args = append(args, aid)
		}
		c, v := actor.SubtreeSQL("ao.path", path)
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM assets s JOIN orgs ao ON ao.id = s.org_id
			WHERE s.id IN (`+store.Placeholders(len(ids))+`) AND `+c, append(args, v)...).Scan(&n); err != nil {
			return fmt.Errorf("policy: self-check assets: %w", err)
		}
		if n != len(ids) {
			return problem.Invalid("asset_ids", "names an asset that is not this organisation's").WithMsg("selfcheck.error.asset")
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM selfcheck_assets WHERE selfcheck_id = ?`, id); err != nil {
		return fmt.Errorf("policy: self-check assets: %w", err)
	}
	for _, aid := range ids {
		if _, err := tx.ExecContext(ctx, `INSERT INTO selfcheck_assets (selfcheck_id, asset_id) VALUES (?, ?)`, id, aid); err != nil {
			return fmt.Errorf("policy: self-check assets: %w", err)
		}
	}
	return nil
}

func (s *Service) recordCheck(ctx context.Context, tx *store.Tx, a actor.Actor, c SelfCheck, action, summary string, args []any, after any) error {
	_, err := s.trail.Append(ctx, tx, a, trail.Event{Action: action, ObjectType: "selfcheck", ObjectID: itoa(c.ID), OrgID: c.OrgID,
		Summary: summary, Msg: trail.Msg("trail.summary."+action, args...), After: after})
	return err
}

// SaveCheck plans a self-check (id 0) or rewrites check id (in.OrgID is then ignored).
// When a recurring check is first recorded as performed, its successor is planned
// RecurMonths after this one's planned date.
func (s *Service) SaveCheck(ctx context.Context, a actor.Actor, id int64, in CheckInput) (SelfCheck, error) {
	in, err := in.check()
	if err != nil {
		return SelfCheck{}, err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		var path string
		before := SelfCheck{}
		if id != 0 {
			if before, path, err = s.getCheck(ctx, tx, a, id); err != nil {
				return err
			}
		} else {
			o, err := org.Visible(ctx, tx, a, in.OrgID)
			if err != nil {
				return err
			}
			if o.Kind != org.KindHospital && o.Kind != org.KindDepartment {
				return problem.Invalid("org_id", "a self-check belongs to a hospital or a department").WithMsg("selfcheck.error.org_kind")
			}
			path, before.OrgID = o.Path, o.ID
		}
		if in.Performer, err = userOf(ctx, tx, a, "performer", in.Performer, path, false); err != nil {
			return err
		}
		if in.PerformedAt != nil && in.Performer == "" && in.ThirdParty == "" {
			return problem.Invalid("performer", "a performed check names who performed it").WithMsg("selfcheck.error.performer")
		}
		now := s.now()
		action := "selfcheck.update"
		if id == 0 {
			action = "selfcheck.plan"
			if err := tx.QueryRowContext(ctx, `INSERT INTO selfchecks (org_id, kind, title, planned_at, performed_at, performer, third_party,
				result, findings, summary, recur_months, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
				RETURNING id`, before.OrgID, in.Kind, in.Title, in.PlannedAt, store.NullTime(in.PerformedAt), in.Performer, in.ThirdParty,
				in.Result, in.Findings, in.Summary, in.RecurMonths, a.Username, now, now).Scan(&id); err != nil {
				return fmt.Errorf("policy: self-check: %w", err)
			}
		} else if _, err := tx.ExecContext(ctx, `UPDATE selfchecks SET kind = ?, title = ?, planned_at = ?, performed_at = ?, performer = ?,
			third_party = ?, result = ?, findings = ?, summary = ?, recur_months = ?, updated_at = ? WHERE id = ?`,
			in.Kind, in.Title, in.PlannedAt, store.NullTime(in.PerformedAt), in.Performer, in.ThirdParty, in.Result, in.Findings,
			in.Summary, in.RecurMonths, now, id); err != nil {
			return fmt.Errorf("policy: self-check: %w", err)
		}
		if err := s.storeAssets(ctx, tx, id, path, in.AssetIDs); err != nil {
			return err
		}
		c := SelfCheck{ID: id, OrgID: before.OrgID}
		result := cmpOr(in.Result, "planned")
		if err := s.recordCheck(ctx, tx, a, c, action, fmt.Sprintf("self-check %d %s (%s): %s, %d findings", id, in.Title, in.Kind, result, in.Findings),
			[]any{id, in.Title, i18n.M("selfcheck.kind." + in.Kind), i18n.M("selfcheck.result." + result), in.Findings}, in); err != nil {
			return err
		}
		if in.PerformedAt == nil || in.RecurMonths == 0 || before.NextID != 0 {
			return nil
		}
		next := monthsAfter(in.PlannedAt, in.RecurMonths)
		var nid int64
		if err := tx.QueryRowContext(ctx, `INSERT INTO selfchecks (org_id, kind, title, planned_at, recur_months, created_by, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, 'system', ?, ?) RETURNING id`, before.OrgID, in.Kind, in.Title, next, in.RecurMonths, now, now).Scan(&nid); err != nil {
			return fmt.Errorf("policy: self-check: %w", err)
		}
		if err := s.storeAssets(ctx, tx, nid, path, in.AssetIDs); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE selfchecks SET next_id = ? WHERE id = ?`, nid, id); err != nil {
			return fmt.Errorf("policy: self-check: %w", err)
		}
		return s.recordCheck(ctx, tx, actor.System(), SelfCheck{ID: nid, OrgID: before.OrgID}, "selfcheck.plan",
			fmt.Sprintf("self-check %d %s (%s): planned", nid, in.Title, in.Kind),
			[]any{nid, in.Title, i18n.M("selfcheck.kind." + in.Kind), i18n.M("selfcheck.result.planned"), 0}, map[string]any{"after": id, "planned_at": next})
	})
	if err != nil {
		return SelfCheck{}, err
	}
	return s.SelfCheck(ctx, a, id)
}

// SelfCheck returns self-check id as a sees it.
func (s *Service) SelfCheck(ctx context.Context, a actor.Actor, id int64) (SelfCheck, error) {
	c, _, err := s.getCheck(ctx, s.db, a, id)
	return c, err
}

// CheckQuery narrows SelfCheckList. Empty fields match everything.
type CheckQuery struct {
	OrgID int64
	Kind  string
	// Overdue keeps the checks planned before Now and not performed.
	Overdue bool
	Now     time.Time
	Limit   int // default and at most 500
	Offset  int
}

// SelfCheckList lists the self-checks a sees that match q, latest planned first, and the
// number of matches.
func (s *Service) SelfCheckList(ctx context.Context, a actor.Actor, q CheckQuery) ([]SelfCheck, int, error) {
	cond, arg := a.SeesSQL("o.path")
	where, args := []string{cond}, []any{arg}
	if q.OrgID != 0 {
		c, v, err := s.subtree(ctx, a, q.OrgID)
		if err != nil {
			return nil, 0, err
		}
		where, args = append(where, c), append(args, v)
	}
	if q.Kind != "" {
		if err := oneOf("kind", q.Kind, CheckKinds); err != nil {
			return nil, 0, err
		}
		where, args = append(where, "c.kind = ?"), append(args, q.Kind)
	}
	if q.Overdue {
		where, args = append(where, "c.performed_at IS NULL AND c.planned_at < ?"), append(args, q.Now.UTC())
	}
	return s.listChecks(ctx, strings.Join(where, " AND "), args, "c.planned_at DESC, c.id DESC", q.Limit, q.Offset)
}

func (s *Service) listChecks(ctx context.Context, where string, args []any, order string, limit, offset int) ([]SelfCheck, int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM selfchecks c JOIN orgs o ON o.id = c.org_id WHERE `+where, args...).Scan(&n); err != nil {
		return nil, 0, fmt.Errorf("policy: self-checks: %w", err)
	}
	if limit <= 0 || limit > 500 {
		limit = 500
	}
	out, err := store.Collect(ctx, s.db, scanCheck, `SELECT `+checkColumns+` FROM selfchecks c JOIN orgs o ON o.id = c.org_id WHERE `+where+`
		ORDER BY `+order+` LIMIT ? OFFSET ?`, append(args, limit, max(offset, 0))...)
	if err != nil {
		return nil, 0, fmt.Errorf("policy: self-checks: %w", err)
	}
	if out == nil {
		out = []SelfCheck{}
	}
	return out, n, s.checkAssets(ctx, s.db, out)
}

// SelfChecks lists, for reports, the self-checks of organisation orgID and its subtree
// planned or performed in [from, to), oldest first.
func (s *Service) SelfChecks(ctx context.Context, a actor.Actor, orgID int64, from, to time.Time) ([]SelfCheck, error) {
	c, v, err := s.subtree(ctx, a, orgID)
	if err != nil {
		return nil, err
	}
	cond, arg := a.SeesSQL("o.path")
	from, to = from.UTC(), to.UTC()
	out, _, err := s.listChecks(ctx, cond+` AND `+c+` AND ((c.performed_at >= ? AND c.performed_at < ?)
		OR (c.performed_at IS NULL AND c.planned_at >= ? AND c.planned_at < ?))`,
		[]any{arg, v, from, to, from, to}, "COALESCE(c.performed_at, c.planned_at), c.id", 500, 0)
	return out, err
}

// AttachReport attaches the report of self-check id (replacing the one before).
func (s *Service) AttachReport(ctx context.Context, a actor.Actor, id int64, name string, r io.Reader) (SelfCheck, error) {
	if _, _, err := s.getCheck(ctx, s.db, a, id); err != nil { // before reading a stranger's upload
		return SelfCheck{}, err
	}
	f, err := s.readFile(name, r)
	if err != nil {
		return SelfCheck{}, err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		c, _, err := s.getCheck(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE selfchecks SET report_name = ?, report_kind = ?, report_type = ?, report_size = ?,
			report_sha256 = ?, report_content = ?, updated_at = ? WHERE id = ?`, f.Name, f.Kind, f.ContentType, f.Size, f.SHA256, f.Content,
			s.now(), id); err != nil {
			return fmt.Errorf("policy: report: %w", err)
		}
		return s.recordCheck(ctx, tx, a, c, "selfcheck.report", fmt.Sprintf("self-check %d %s: report %s (%s, %d bytes, SHA-256 %s)",
			id, c.Title, f.Name, f.Kind, f.Size, f.SHA256), []any{id, c.Title, f.Name, f.SHA256},
			map[string]any{"name": f.Name, "kind": f.Kind, "size": f.Size, "sha256": f.SHA256})
	})
	if err != nil {
		return SelfCheck{}, err
	}
	return s.SelfCheck(ctx, a, id)
}

// Report returns the report of self-check id with its content.
func (s *Service) Report(ctx context.Context, a actor.Actor, id int64) (File, error) {
	if _, _, err := s.getCheck(ctx, s.db, a, id); err != nil {
		return File{}, err
	}
	var f File
	if err := s.db.QueryRowContext(ctx, `SELECT report_name, report_kind, report_type, report_size, report_sha256, report_content
		FROM selfchecks WHERE id = ?`, id).Scan(&f.Name, &f.Kind, &f.ContentType, &f.Size, &f.SHA256, &f.Content); err != nil {
		return File{}, fmt.Errorf("policy: report: %w", err)
	}
	if f.Name == "" {
		return File{}, problem.NotFound("report")
	}
	return served(f), nil
}
