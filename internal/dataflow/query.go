package dataflow

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
)

const flowColumns = `f.id, f.org_id, o.name, f.name, f.recipient_name, f.recipient_kind, f.level, f.purpose, f.legal_basis,
	f.agreement_ref, f.agreement_signed, f.agreement_expires, f.deident, f.deident_note, f.transfer, f.frequency, f.volume,
	f.retention, f.status, f.ended_at, f.destroyed_by, f.destroyed_at, f.destruction_verification, f.created_by, f.created_at, f.updated_at`

func scanFlow(sc store.Scanner) (Flow, error) {
	var f Flow
	var signed, expires, ended, destroyedAt, created, updated store.Time
	var dBy, dVer string
	if err := sc.Scan(&f.ID, &f.OrgID, &f.OrgName, &f.Name, &f.RecipientName, &f.RecipientKind, &f.Level, &f.Purpose, &f.LegalBasis,
		&f.AgreementRef, &signed, &expires, &f.Deident, &f.DeidentNote, &f.Transfer, &f.Frequency, &f.Volume,
		&f.Retention, &f.Status, &ended, &dBy, &destroyedAt, &dVer, &f.CreatedBy, &created, &updated); err != nil {
		return Flow{}, err
	}
	f.AgreementSigned, f.AgreementExpires, f.EndedAt = signed.Ptr(), expires.Ptr(), ended.Ptr()
	f.CreatedAt, f.UpdatedAt = created.Time, updated.Time
	if destroyedAt.Valid {
		f.Destruction = &Destruction{By: dBy, At: destroyedAt.Time, Verification: dVer}
	}
	f.SourceAssetIDs, f.Categories = []int64{}, []Category{}
	return f, nil
}

// get reads flow id as a sees it, with its categories and sources, judged at now
// (another organisation's flow is not found).
func (s *Service) get(ctx context.Context, q store.Querier, a actor.Actor, id int64) (Flow, error) {
	cond, arg := a.SeesSQL("o.path")
	f, err := scanFlow(q.QueryRowContext(ctx, `SELECT `+flowColumns+` FROM dataflows f JOIN orgs o ON o.id = f.org_id
		WHERE f.id = ? AND `+cond, id, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return Flow{}, problem.NotFound("data flow")
	}
	if err != nil {
		return Flow{}, fmt.Errorf("dataflow: flow %d: %w", id, err)
	}
	list := []Flow{f}
	if err := s.fill(ctx, q, list); err != nil {
		return Flow{}, err
	}
	return list[0], nil
}

// fill reads the categories and sources of fs and judges them.
func (s *Service) fill(ctx context.Context, q store.Querier, fs []Flow) error {
	byID := map[int64]*Flow{}
	ids := make([]any, len(fs))
	for i := range fs {
		byID[fs[i].ID], ids[i] = &fs[i], fs[i].ID
	}
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		in := `(` + store.Placeholders(len(chunk)) + `)`
		rows, err := q.QueryContext(ctx, `SELECT flow_id, category, level FROM dataflow_categories WHERE flow_id IN `+in, chunk...)
		if err != nil {
			return fmt.Errorf("dataflow: categories: %w", err)
		}
		for rows.Next() {
			var id int64
			var c Category
			if err := rows.Scan(&id, &c.Category, &c.Level); err != nil {
				rows.Close()
				return fmt.Errorf("dataflow: categories: %w", err)
			}
			byID[id].Categories = append(byID[id].Categories, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("dataflow: categories: %w", err)
		}
		rows, err = q.QueryContext(ctx, `SELECT flow_id, asset_id FROM dataflow_sources WHERE flow_id IN `+in+` ORDER BY asset_id`, chunk...)
		if err != nil {
			return fmt.Errorf("dataflow: sources: %w", err)
		}
		for rows.Next() {
			var id, aid int64
			if err := rows.Scan(&id, &aid); err != nil {
				rows.Close()
				return fmt.Errorf("dataflow: sources: %w", err)
			}
			byID[id].SourceAssetIDs = append(byID[id].SourceAssetIDs, aid)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("dataflow: sources: %w", err)
		}
	}
	now := s.now()
	for i := range fs {
		slices.SortFunc(fs[i].Categories, func(a, b Category) int {
			return slices.Index(Categories, a.Category) - slices.Index(Categories, b.Category)
		})
		fs[i].Deficiencies = Evaluate(fs[i], now)
	}
	return nil
}

// Flow reads flow id as a sees it, with its attachments (without their content).
func (s *Service) Flow(ctx context.Context, a actor.Actor, id int64) (Flow, error) {
	f, err := s.get(ctx, s.db, a, id)
	if err != nil {
		return Flow{}, err
	}
	f.Attachments, err = store.Collect(ctx, s.db, scanAttachment, `SELECT `+attachmentColumns+` FROM dataflow_attachments
		WHERE flow_id = ? ORDER BY id`, id)
	if err != nil {
		return Flow{}, fmt.Errorf("dataflow: attachments of %d: %w", id, err)
	}
	if f.Attachments == nil {
		f.Attachments = []Attachment{}
	}
	return f, nil
}

// Query filters the register.
type Query struct {
	OrgID         int64  // this organisation and its subtree (0: all a sees)
	RecipientKind string // one of RecipientKinds
	Level         int    // flows of this level (1–5)
	Status        string // one of Statuses
	// Deficient, when set, keeps only deficient (true) or sound (false) flows.
	Deficient *bool
	Limit     int // default and at most 500
	Offset    int
}

// Flows lists the flows a sees that match q, deficient ones first, and how many match
// in all. It is the list reports use.
func (s *Service) Flows(ctx context.Context, a actor.Actor, q Query) ([]Flow, int, error) {
	all, err := s.all(ctx, a, q)
	if err != nil {
		return nil, 0, err
	}
	if q.Deficient != nil {
		all = slices.DeleteFunc(all, func(f Flow) bool { return f.Deficient() != *q.Deficient })
	}
	slices.SortStableFunc(all, func(x, y Flow) int {
		if x.Deficient() != y.Deficient() {
			if x.Deficient() {
				return -1
			}
			return 1
		}
		return 0
	})
	total := len(all)
	limit := q.Limit
	if limit <= 0 || limit > 500 {
		limit = 500
	}
	off := min(max(q.Offset, 0), total)
	out := all[off:min(off+limit, total)]
	return out, total, nil
}

// all reads every flow a sees that matches q's SQL filters, by level, highest first, then in the order registered.
func (s *Service) all(ctx context.Context, a actor.Actor, q Query) ([]Flow, error) {
	cond, arg := a.SeesSQL("o.path")
	where, args := []string{cond}, []any{arg}
	if q.OrgID != 0 {
		var path string
		if err := s.db.QueryRowContext(ctx, `SELECT path FROM orgs WHERE id = ?`, q.OrgID).Scan(&path); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return nil, problem.NotFound("organisation")
			}
			return nil, fmt.Errorf("dataflow: org %d: %w", q.OrgID, err)
		}
		c, p := actor.SubtreeSQL("o.path", path)
		where, args = append(where, c), append(args, p)
	}
	if q.RecipientKind != "" {
		if !slices.Contains(RecipientKinds, q.RecipientKind) {
			return nil, problem.OneOf("recipient_kind", RecipientKinds...)
		}
		where, args = append(where, `f.recipient_kind = ?`), append(args, q.RecipientKind)
	}
	if q.Level != 0 {
		if q.Level < 1 || q.Level > 5 {
			return nil, problem.Invalid("level", "a level is from 1 to 5").WithMsg("dataflow.error.level")
		}
		where, args = append(where, `f.level = ?`), append(args, q.Level)
	}
	if q.Status != "" {
		if !slices.Contains(Statuses, q.Status) {
			return nil, problem.OneOf("status", Statuses...)
		}
		where, args = append(where, `f.status = ?`), append(args, q.Status)
	}
	out, err := store.Collect(ctx, s.db, scanFlow, `SELECT `+flowColumns+` FROM dataflows f JOIN orgs o ON o.id = f.org_id
		WHERE `+strings.Join(where, " AND ")+` ORDER BY f.level DESC, f.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("dataflow: list: %w", err)
	}
	if out == nil {
		out = []Flow{}
	}
	if err := s.fill(ctx, s.db, out); err != nil {
		return nil, err
	}
	return out, nil
}

// Counts are the register's figures: flows by recipient kind and by level, and how many
// are deficient, for the flows that have not ended.
type Counts struct {
	Total     int            `json:"total"`
	Deficient int            `json:"deficient"`
	ByKind    map[string]int `json:"by_recipient_kind"`
	ByLevel   map[int]int    `json:"by_level"`
}

// Counts counts the flows a sees (in orgID's subtree when not 0) that have not ended,
// plus ended flows still deficient (their destruction is not recorded).
func (s *Service) Counts(ctx context.Context, a actor.Actor, orgID int64) (Counts, error) {
	all, err := s.all(ctx, a, Query{OrgID: orgID})
	if err != nil {
		return Counts{}, err
	}
	return count(all), nil
}

func count(all []Flow) Counts {
	c := Counts{ByKind: map[string]int{}, ByLevel: map[int]int{}}
	for _, f := range all {
		if f.Status == StatusEnded && !f.Deficient() {
			continue
		}
		c.Total++
		c.ByKind[f.RecipientKind]++
		c.ByLevel[f.Level]++
		if f.Deficient() {
			c.Deficient++
		}
	}
	return c
}

// Deficient is the automatic compliance check "dataflow.register": of the flows of
// organisation orgID and the organisations below it that are still open (active,
// suspended, or ended without a destruction record), how many there are and how many
// are deficient. It reads as the system.
func (s *Service) Deficient(ctx context.Context, orgID int64) (total, deficient int, err error) {
	c, err := s.Counts(ctx, actor.System(), orgID)
	if err != nil {
		return 0, 0, err
	}
	return c.Total, c.Deficient, nil
}
