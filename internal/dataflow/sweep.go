package dataflow

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/risk"
	"github.com/medguard/medguard/internal/store"
)

// SweepResult counts what a Sweep did: the open flows it judged, the risks it raised or
// updated (a flow whose deficiencies changed since its risk was last raised, such as an
// agreement that expired on a flow nobody touched) and the flows it found sound again.
// A second Sweep at the same time counts no raise.
type SweepResult struct {
	Checked int `json:"checked"`
	Raised  int `json:"raised"`
	Cleared int `json:"cleared"`
}

// Sweep judges, as the platform at time now, every flow still open (active, suspended,
// or ended without a destruction record): a flow deficient in a way its risk was not
// raised for raises or updates its risk through risk.Service.FromSource, once — the
// deficiencies raised for are kept with the flow, so that running Sweep again raises
// nothing new; a flow found sound forgets them, so a later deficiency raises again.
// Run it periodically (the scheduler in internal/app); without Options.Risks it only
// counts.
func (s *Service) Sweep(ctx context.Context, now time.Time) (SweepResult, error) {
	now = now.UTC().Truncate(time.Microsecond)
	sys := actor.System()
	flows, err := s.all(ctx, sys, Query{})
	if err != nil {
		return SweepResult{}, err
	}
	raised, err := s.raisedFor(ctx)
	if err != nil {
		return SweepResult{}, err
	}
	var res SweepResult
	var errs []error
	for _, f := range flows {
		if f.Status == StatusEnded && f.Destruction != nil {
			continue
		}
		res.Checked++
		key := strings.Join(Evaluate(f, now), ",")
		switch {
		case key == raised[f.ID]:
			continue
		case key == "":
			res.Cleared++
		default:
			if s.opt.Risks == nil {
				continue
			}
			if _, _, err := s.opt.Risks.FromSource(ctx, sys, risk.SourceInput{Module: Module, ID: f.ID}); err != nil {
				errs = append(errs, fmt.Errorf("dataflow: sweep: risk of flow %d: %w", f.ID, err))
				continue
			}
			res.Raised++
		}
		if err := s.setRaised(ctx, s.db, f.ID, key); err != nil {
			errs = append(errs, err)
		}
	}
	return res, errors.Join(errs...)
}

// raisedFor reads, for every flow, the deficiencies its risk was last raised for.
func (s *Service) raisedFor(ctx context.Context) (map[int64]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, raised FROM dataflows`)
	if err != nil {
		return nil, fmt.Errorf("dataflow: raised: %w", err)
	}
	defer rows.Close()
	out := map[int64]string{}
	for rows.Next() {
		var id int64
		var key string
		if err := rows.Scan(&id, &key); err != nil {
			return nil, fmt.Errorf("dataflow: raised: %w", err)
		}
		out[id] = key
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("dataflow: raised: %w", err)
	}
	return out, nil
}

// setRaised keeps the deficiencies (joined by ",") flow id's risk was raised for ("":
// none, the flow is sound).
func (s *Service) setRaised(ctx context.Context, q store.Querier, id int64, key string) error {
	if _, err := q.ExecContext(ctx, `UPDATE dataflows SET raised = ? WHERE id = ?`, key, id); err != nil {
		return fmt.Errorf("dataflow: raised %d: %w", id, err)
	}
	return nil
}
