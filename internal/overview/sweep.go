package overview

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/store"
)

// trend is the score of orgID over the last Weeks weeks up to now's: the snapshots
// Sweep stored, and current (the score just computed) for the current week. The score
// depends on records' states at a time (an alert's status, a risk's level), which the
// tables do not keep a history of, so past weeks come from snapshots only.
func (s *Service) trend(ctx context.Context, orgID int64, now time.Time, current int) ([]TrendPoint, error) {
	weeks := make([]string, Weeks)
	for i := range weeks {
		weeks[i] = weekOf(now.AddDate(0, 0, -7*(Weeks-1-i)))
	}
	rows, err := s.db.QueryContext(ctx, `SELECT week, score FROM overview_snapshots WHERE org_id = ? AND week >= ? AND week < ?`,
		orgID, weeks[0], weeks[len(weeks)-1])
	if err != nil {
		return nil, fmt.Errorf("overview: snapshots: %w", err)
	}
	defer rows.Close()
	got := map[string]int{}
	for rows.Next() {
		var w string
		var v int
		if err := rows.Scan(&w, &v); err != nil {
			return nil, fmt.Errorf("overview: snapshots: %w", err)
		}
		got[w] = v
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("overview: snapshots: %w", err)
	}
	out := make([]TrendPoint, len(weeks))
	for i, w := range weeks {
		out[i].Week = w
		if v, ok := got[w]; ok {
			out[i].Score = &v
		}
	}
	out[len(out)-1].Score = &current
	return out, nil
}

// Sweep stores the score of every hospital for now's week, replacing the week's earlier
// snapshot, and returns how many it stored. The integrator runs it daily: the last
// snapshot of a week is the week's point of the trend.
func (s *Service) Sweep(ctx context.Context, now time.Time) (int, error) {
	sys := actor.System()
	hs, err := s.Hospitals(ctx, sys)
	if err != nil {
		return 0, err
	}
	week, n := weekOf(now), 0
	for _, h := range hs {
		o, err := s.compute(ctx, sys, h, now)
		if err != nil {
			return n, fmt.Errorf("overview: sweep %s: %w", h.Name, err)
		}
		parts, err := json.Marshal(o.Penalties)
		if err != nil {
			return n, fmt.Errorf("overview: sweep: %w", err)
		}
		err = s.db.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO overview_snapshots (org_id, week, score, parts, taken_at) VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (org_id, week) DO UPDATE SET score = excluded.score, parts = excluded.parts, taken_at = excluded.taken_at`,
				h.ID, week, o.Score, string(parts), now.UTC())
			return err
		})
		if err != nil {
			return n, fmt.Errorf("overview: sweep %s: %w", h.Name, err)
		}
		n++
	}
	return n, nil
}
