package assess

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/asset"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

// Input is what a person writes to start an assessment: the hospital, optionally one
// of its business systems, the catalogue, a title, the assessor and the dates.
type Input struct {
	OrgID     int64      `json:"org_id"`
	AssetID   int64      `json:"asset_id,omitempty"`
	Catalogue string     `json:"catalogue"`
	Title     string     `json:"title"`
	Assessor  string     `json:"assessor"`
	StartsOn  time.Time  `json:"starts_on"`
	DueOn     *time.Time `json:"due_on,omitempty"`
}

// StatusInput sets an item's status.
type StatusInput struct {
	Status string `json:"status"`
	Note   string `json:"note"`
}

// Create starts an assessment with every item of its catalogue unassessed, records its
// first progress point and trails it.
func (s *Service) Create(ctx context.Context, a actor.Actor, in Input) (Assessment, error) {
	var err error
	if in.Title, err = text("title", in.Title, 200, true); err != nil {
		return Assessment{}, err
	}
	if in.Assessor, err = text("assessor", in.Assessor, 100, false); err != nil {
		return Assessment{}, err
	}
	if !slices.Contains(s.cats.Names(), in.Catalogue) {
		return Assessment{}, problem.OneOf("catalogue", s.cats.Names()...)
	}
	items, err := s.cats.Items(in.Catalogue)
	if err != nil {
		return Assessment{}, fmt.Errorf("assess: items of %s: %w", in.Catalogue, err)
	}
	now := s.now()
	if in.StartsOn.IsZero() {
		in.StartsOn = now
	}
	if in.DueOn != nil && in.DueOn.Before(in.StartsOn) {
		return Assessment{}, problem.Invalid("due_on", "is before the start").WithMsg("assess.error.due_before_start")
	}
	var id int64
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		o, err := org.Visible(ctx, tx, a, in.OrgID)
		if err != nil {
			return err
		}
		if o.Kind != org.KindHospital && o.Kind != org.KindDepartment {
			return problem.Invalid("org_id", "an assessment belongs to a hospital or a department").WithMsg("assess.error.org_kind")
		}
		if in.AssetID != 0 {
			if err := s.checkSystem(ctx, tx, o, in.AssetID); err != nil {
				return err
			}
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO assessments (org_id, asset_id, catalogue, title, assessor, starts_on, due_on,
			created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, o.ID, store.NullID(in.AssetID),
			in.Catalogue, in.Title, in.Assessor, in.StartsOn.UTC(), store.NullTime(in.DueOn), a.Username, now, now).Scan(&id); err != nil {
			return fmt.Errorf("assess: create: %w", err)
		}
		for _, it := range items {
			if _, err := tx.ExecContext(ctx, `INSERT INTO assess_items (assessment_id, item, status) VALUES (?, ?, 'unassessed')`,
				id, it.ID); err != nil {
				return fmt.Errorf("assess: create item %s: %w", it.ID, err)
			}
		}
		if err := s.recordProgress(ctx, tx, id, now); err != nil {
			return err
		}
		_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: "assess.create", ObjectType: "assessment", ObjectID: itoa(id),
			OrgID: o.ID, Summary: fmt.Sprintf("assessment %d %s (%s, %d items)", id, in.Title, in.Catalogue, len(items)),
			Msg: trail.Msg("trail.summary.assess.create", id, in.Title, in.Catalogue, len(items)), After: in})
		return err
	})
	if err != nil {
		return Assessment{}, err
	}
	return s.Assessment(ctx, a, id)
}

// checkSystem checks that assetID is a business system of o or below.
func (s *Service) checkSystem(ctx context.Context, q store.Querier, o org.Node, assetID int64) error {
	var kind, path string
	err := q.QueryRowContext(ctx, `SELECT a.kind, ao.path FROM assets a JOIN orgs ao ON ao.id = a.org_id WHERE a.id = ?`,
		assetID).Scan(&kind, &path)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !(actor.Actor{OrgPath: o.Path}).Sees(path)) {
		return problem.Invalid("asset_id", "is not an asset of this organisation").WithMsg("assess.error.asset")
	}
	if err != nil {
		return fmt.Errorf("assess: asset: %w", err)
	}
	if kind != asset.KindBusinessSystem {
		return problem.Invalid("asset_id", "is not a business system").WithMsg("assess.error.asset_kind")
	}
	return nil
}

// SetStatus sets the status of item itemID of assessment id, with a note; the change is
// in the item's history, the progress and the trail.
func (s *Service) SetStatus(ctx context.Context, a actor.Actor, id int64, itemID string, in StatusInput) (ItemStatus, error) {
	if !slices.Contains(Statuses, in.Status) {
		return ItemStatus{}, problem.OneOf("status", Statuses...)
	}
	note, err := text("note", in.Note, 2000, false)
	if err != nil {
		return ItemStatus{}, err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		as, err := s.get(ctx, tx, a, id)
		if err != nil {
			return err
		}
		it, err := s.item(ctx, tx, id, itemID)
		if err != nil {
			return err
		}
		now := s.now()
		if _, err := tx.ExecContext(ctx, `UPDATE assess_items SET status = ?, note = ?, assessed_by = ?, assessed_at = ? WHERE id = ?`,
			in.Status, note, a.Username, now, it.RowID); err != nil {
			return fmt.Errorf("assess: set status: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO assess_item_history (item_id, status_from, status_to, note, changed_by, changed_at)
			VALUES (?, ?, ?, ?, ?, ?)`, it.RowID, it.Status, in.Status, note, a.Username, now); err != nil {
			return fmt.Errorf("assess: history: %w", err)
		}
		if err := s.touch(ctx, tx, id, now); err != nil {
			return err
		}
		if err := s.recordProgress(ctx, tx, id, now); err != nil {
			return err
		}
		_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: "assess.status", ObjectType: "assessment", ObjectID: itoa(id),
			OrgID: as.OrgID, Summary: fmt.Sprintf("assessment %d %s: item %s %s → %s", id, as.Title, itemID, it.Status, in.Status),
			Msg: trail.Msg("trail.summary.assess.status", id, as.Title, itemID, i18n.M("assess.status."+it.Status),
				i18n.M("assess.status."+in.Status)),
			Before: map[string]any{"item": itemID, "status": it.Status, "note": it.Note},
			After:  map[string]any{"item": itemID, "status": in.Status, "note": note}})
		return err
	})
	if err != nil {
		return ItemStatus{}, err
	}
	return s.Item(ctx, a, id, itemID)
}

func (s *Service) touch(ctx context.Context, tx *store.Tx, id int64, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE assessments SET updated_at = ? WHERE id = ?`, now, id); err != nil {
		return fmt.Errorf("assess: touch: %w", err)
	}
	return nil
}

// recordProgress writes the counts by status of assessment id at now.
func (s *Service) recordProgress(ctx context.Context, tx *store.Tx, id int64, now time.Time) error {
	c, err := counts(ctx, tx, id)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO assess_progress (assessment_id, at, met, partly, not_met, not_applicable,
		unassessed, percent) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, id, now, c.Met, c.Partly, c.NotMet, c.NotApplicable,
		c.Unassessed, c.Percent()); err != nil {
		return fmt.Errorf("assess: progress: %w", err)
	}
	return nil
}

// counts counts the items of assessment id by status.
func counts(ctx context.Context, q store.Querier, id int64) (Counts, error) {
	rows, err := q.QueryContext(ctx, `SELECT status, COUNT(*) FROM assess_items WHERE assessment_id = ? GROUP BY status`, id)
	if err != nil {
		return Counts{}, fmt.Errorf("assess: counts: %w", err)
	}
	defer rows.Close()
	var c Counts
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return Counts{}, fmt.Errorf("assess: counts: %w", err)
		}
		c.add(st, n)
	}
	return c, rows.Err()
}
