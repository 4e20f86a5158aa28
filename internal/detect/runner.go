package detect

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/medguard/medguard/internal/events"
	"github.com/medguard/medguard/internal/store"
)

// DefaultPoll is how often the live runner looks for new events when nobody woke it.
const DefaultPoll = 200 * time.Millisecond

// RunnerOptions configure a Runner.
type RunnerOptions struct {
	// Name of the checkpoint (default "live").
	Name string
	// Rules returns the rules to evaluate: read at start and after Reload (default the
	// built-in library).
	Rules func(ctx context.Context) ([]Rule, error)
	// RulesFor, when set, returns the rules of one organisation instead (each hospital
	// may edit its own library): the runner then keeps one engine per organisation,
	// built when the organisation's first event after a start or Reload comes, its state
	// rebuilt from that organisation's stored events.
	RulesFor func(ctx context.Context, orgID int64) ([]Rule, error)
	// Env of the engine.
	Env Env
	// Poll is the polling interval (default DefaultPoll).
	Poll time.Duration
	// Batch is how many events one step evaluates at most (default 5000).
	Batch  int
	Logger *slog.Logger
}

// Runner is the live detection: it reads the events stored after its checkpoint in
// sequence order, evaluates them, raises their alerts and moves the checkpoint in the
// same transaction as the raises. It builds its engine on the first step (and after an
// error or Reload), its state rebuilt from the stored events up to the checkpoint
// (Prepare). The first time it runs (no checkpoint) it starts after the last stored
// event: history is for `medguard detect run`.
type Runner struct {
	db     *store.DB
	evs    *events.Service
	al     Raiser
	opt    RunnerOptions
	wake   chan struct{}
	reload chan struct{}

	eng  *Engine
	engs map[int64]*Engine // with RulesFor: per organisation
	cp   int64
}

// NewRunner returns a live runner.
func NewRunner(db *store.DB, evs *events.Service, al Raiser, opt RunnerOptions) *Runner {
	if opt.Name == "" {
		opt.Name = "live"
	}
	if opt.Rules == nil {
		opt.Rules = func(context.Context) ([]Rule, error) { return Builtin(), nil }
	}
	if opt.Poll <= 0 {
		opt.Poll = DefaultPoll
	}
	if opt.Batch <= 0 {
		opt.Batch = replayPage
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	return &Runner{db: db, evs: evs, al: al, opt: opt, wake: make(chan struct{}, 1), reload: make(chan struct{}, 1)}
}

// Notify wakes the runner: the ingest side calls it after it committed events. It never
// blocks.
func (r *Runner) Notify() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Reload makes the runner build its engine again from Rules before its next step (the
// rules changed). It never blocks.
func (r *Runner) Reload() {
	select {
	case r.reload <- struct{}{}:
	default:
	}
}

// Checkpoint returns the sequence number of the last event evaluated (0 before the
// first step).
func (r *Runner) Checkpoint() int64 { return r.cp }

// Run steps until ctx ends: at once while there are events waiting, else after Poll or
// when woken by Notify. Errors are logged and the engine is built again. It starts
// from the stored checkpoint each time it is called, so that it fits a lease job
// (lease.Manager.Job(name, every, r.Run)): the process that takes the lease over
// resumes where the last holder committed.
func (r *Runner) Run(ctx context.Context) {
	r.eng, r.engs = nil, nil
	t := time.NewTicker(r.opt.Poll)
	defer t.Stop()
	for {
		n, err := r.Step(ctx)
		if err != nil && ctx.Err() == nil {
			r.opt.Logger.Error("detection runner", "err", err)
		}
		if err == nil && n == r.opt.Batch {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-r.wake:
		case <-t.C:
		}
	}
}

// Step evaluates one batch of the events after the checkpoint and returns how many it
// evaluated.
func (r *Runner) Step(ctx context.Context) (int, error) {
	select {
	case <-r.reload:
		r.eng, r.engs = nil, nil
	default:
	}
	if r.eng == nil && r.engs == nil {
		if err := r.start(ctx); err != nil {
			return 0, err
		}
	}
	page, err := r.evs.Since(ctx, events.SeqFilter{AfterSeq: r.cp, Limit: r.opt.Batch})
	if err != nil || len(page) == 0 {
		return 0, err
	}
	var hits []Hit
	for i := range page {
		eng, err := r.engine(ctx, page[i].OrgID)
		if err == nil {
			err = eng.Evaluate(ctx, page[i].OrgID, &page[i], func(h Hit) { hits = append(hits, h) })
		}
		if err != nil {
			r.eng, r.engs = nil, nil // the state is no longer what the checkpoint says
			return 0, err
		}
	}
	last := page[len(page)-1].Seq
	err = r.db.InTx(ctx, func(tx *store.Tx) error {
		for _, h := range hits {
			if _, _, err := r.al.Raise(ctx, tx, h.AlertInput()); err != nil {
				return fmt.Errorf("detect: raise %s: %w", h.Rule.ID, err)
			}
		}
		res, err := tx.ExecContext(ctx, `UPDATE detect_checkpoint SET seq = ?, updated_at = ? WHERE name = ? AND seq = ?`,
			last, time.Now().UTC(), r.opt.Name, r.cp)
		if err != nil {
			return fmt.Errorf("detect: checkpoint: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return errors.New("detect: the checkpoint moved under the runner (two runners?)")
		}
		return nil
	})
	if err != nil {
		r.eng, r.engs = nil, nil
		return 0, err
	}
	r.cp = last
	return len(page), nil
}

// engine returns the engine that evaluates the events of organisation orgID.
func (r *Runner) engine(ctx context.Context, orgID int64) (*Engine, error) {
	if r.opt.RulesFor == nil {
		return r.eng, nil
	}
	if eng := r.engs[orgID]; eng != nil {
		return eng, nil
	}
	rules, err := r.opt.RulesFor(ctx, orgID)
	if err != nil {
		return nil, fmt.Errorf("detect: rules of organisation %d: %w", orgID, err)
	}
	eng, err := NewEngine(rules, r.opt.Env)
	if err != nil {
		return nil, err
	}
	if r.cp > 0 {
		if err := Prepare(ctx, r.evs, eng, orgID, r.cp, time.Time{}); err != nil {
			return nil, err
		}
	}
	r.engs[orgID] = eng
	return eng, nil
}

// start loads (or makes) the checkpoint and builds the engine with its state (with
// RulesFor, the engines are built per organisation as their events come).
func (r *Runner) start(ctx context.Context) error {
	if r.opt.RulesFor != nil {
		cp, err := r.checkpoint(ctx)
		if err != nil {
			return err
		}
		r.engs, r.cp = map[int64]*Engine{}, cp
		r.opt.Logger.Info("detection runner ready", "checkpoint", cp)
		return nil
	}
	rules, err := r.opt.Rules(ctx)
	if err != nil {
		return fmt.Errorf("detect: rules: %w", err)
	}
	eng, err := NewEngine(rules, r.opt.Env)
	if err != nil {
		return err
	}
	cp, err := r.checkpoint(ctx)
	if err != nil {
		return err
	}
	if cp > 0 { // (0: nothing was stored before the checkpoint, and 0 bounds nothing)
		if err := Prepare(ctx, r.evs, eng, 0, cp, time.Time{}); err != nil {
			return err
		}
	}
	r.eng, r.cp = eng, cp
	r.opt.Logger.Info("detection runner ready", "rules", len(rules), "checkpoint", cp)
	return nil
}

// Prime makes the checkpoint when there is none yet (at the last stored event), so that
// the events stored after it returns are evaluated live even if the runner's first step
// comes later. A serving process calls it before it accepts events.
func (r *Runner) Prime(ctx context.Context) error {
	_, err := r.checkpoint(ctx)
	return err
}

// checkpoint reads the checkpoint, made at the last stored event the first time.
func (r *Runner) checkpoint(ctx context.Context) (int64, error) {
	var cp int64
	err := r.db.QueryRowContext(ctx, `SELECT seq FROM detect_checkpoint WHERE name = ?`, r.opt.Name).Scan(&cp)
	if err == nil {
		return cp, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("detect: checkpoint: %w", err)
	}
	last, err := r.evs.LastSeq(ctx)
	if err != nil {
		return 0, err
	}
	if _, err := r.db.ExecContext(ctx, `INSERT INTO detect_checkpoint (name, seq, updated_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING`,
		r.opt.Name, last, time.Now().UTC()); err != nil {
		return 0, fmt.Errorf("detect: checkpoint: %w", err)
	}
	err = r.db.QueryRowContext(ctx, `SELECT seq FROM detect_checkpoint WHERE name = ?`, r.opt.Name).Scan(&cp)
	if err != nil {
		return 0, fmt.Errorf("detect: checkpoint: %w", err)
	}
	return cp, nil
}
