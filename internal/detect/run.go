package detect

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/events"
	"github.com/medguard/medguard/internal/store"
)

// Raiser raises alerts inside the caller's transaction (*alert.Service).
type Raiser interface {
	Raise(ctx context.Context, tx *store.Tx, in alert.Input) (alert.Alert, bool, error)
}

// RunReport is what a Run did.
type RunReport struct {
	Events  int            `json:"events"`  // events evaluated
	Hits    int            `json:"hits"`    // hits (each one raise)
	Created int            `json:"created"` // alerts created (the others counted an open alert)
	PerRule map[string]int `json:"per_rule"`
	LastSeq int64          `json:"last_seq"`
}

// Span is what a Run or a Test evaluates: the events of [From, To) (zero: unbounded) of
// organisation OrgID (0: every organisation).
type Span struct {
	From, To time.Time
	OrgID    int64
}

// Run evaluates the stored events of span sp, in sequence order, through eng (the
// same engine as live) and raises their alerts, one transaction per page of events.
// The state before sp.From is built first (Prepare), so that windows that straddle it
// count the earlier events.
func Run(ctx context.Context, db *store.DB, evs *events.Service, al Raiser, eng *Engine, sp Span) (RunReport, error) {
	rep := RunReport{PerRule: map[string]int{}}
	err := walk(ctx, evs, eng, sp, func(page []events.Stored, hits []Hit) error {
		rep.Events += len(page)
		rep.LastSeq = page[len(page)-1].Seq
		if len(hits) == 0 {
			return nil
		}
		return db.InTx(ctx, func(tx *store.Tx) error {
			created := 0
			for _, h := range hits {
				_, c, err := al.Raise(ctx, tx, h.AlertInput())
				if err != nil {
					return fmt.Errorf("detect: raise %s: %w", h.Rule.ID, err)
				}
				if c {
					created++
				}
			}
			rep.Created += created
			for _, h := range hits {
				rep.Hits++
				rep.PerRule[h.Rule.ID]++
			}
			return nil
		})
	})
	return rep, err
}

// Test reports what rules would have fired on the stored events of sp, without raising
// anything.
func Test(ctx context.Context, evs *events.Service, rules []Rule, env Env, sp Span) ([]Hit, error) {
	eng, err := NewEngine(rules, env)
	if err != nil {
		return nil, err
	}
	var out []Hit
	err = walk(ctx, evs, eng, sp, func(_ []events.Stored, hits []Hit) error {
		out = append(out, hits...)
		return nil
	})
	return out, err
}

// walk prepares eng for sp and evaluates its events page by page.
func walk(ctx context.Context, evs *events.Service, eng *Engine, sp Span, page func([]events.Stored, []Hit) error) error {
	if !sp.From.IsZero() {
		if err := Prepare(ctx, evs, eng, sp.OrgID, 0, sp.From); err != nil {
			return err
		}
	}
	var after int64
	var hits []Hit
	emit := func(h Hit) { hits = append(hits, h) }
	for {
		evp, err := evs.Since(ctx, events.SeqFilter{AfterSeq: after, OrgID: sp.OrgID, From: sp.From, To: sp.To, Limit: replayPage})
		if err != nil {
			return fmt.Errorf("detect: %w", err)
		}
		if len(evp) == 0 {
			return nil
		}
		hits = hits[:0]
		for i := range evp {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := eng.Evaluate(ctx, evp[i].OrgID, &evp[i], emit); err != nil {
				return err
			}
		}
		if err := page(evp, slices.Clone(hits)); err != nil {
			return err
		}
		if len(evp) < replayPage {
			return nil
		}
		after = evp[len(evp)-1].Seq
	}
}

// Add adds the counts of o (another organisation's run) to r.
func (r *RunReport) Add(o RunReport) {
	r.Events += o.Events
	r.Hits += o.Hits
	r.Created += o.Created
	r.LastSeq = max(r.LastSeq, o.LastSeq)
	if r.PerRule == nil {
		r.PerRule = map[string]int{}
	}
	for k, v := range o.PerRule {
		r.PerRule[k] += v
	}
}
