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

// DefaultGrace is how long a gap in the sequence numbers is waited for by default.
const DefaultGrace = time.Minute

// maxGaps bounds the open gaps; beyond it the oldest are given up. gapChecks is how
// many a step reads again.
const (
	maxGaps   = 4096
	gapChecks = 64
)

// DefaultPoll is how often the live runner looks for new events when nobody woke it.
const DefaultPoll = 200 * time.Millisecond

// DefaultBatch is how many events a step reads at most. Each step ends in a write
// transaction (its alerts and checkpoint), which on SQLite waits for the ingest batches
// ahead of it for the one writer — up to a second under load: with 5,000 events a step
// the runner fell behind an ingest of 46,000 events/s by seconds (bench/RESULTS.md).
const DefaultBatch = 50_000

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
	// Batch is how many events one step evaluates at most (default DefaultBatch).
	Batch int
	// Grace is how long a gap in the sequence numbers is waited for before the
	// runner moves past it (default DefaultGrace): longer than any ingest transaction.
	Grace time.Duration
	// Raised, when set, is called after a step's alerts were committed (at least one):
	// the notification dispatcher is woken this way instead of at its next poll.
	Raised func()
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
	cp   int64             // the stored checkpoint: every event up to it was evaluated
	// read is the last sequence number read; gaps are the numbers in (cp, read] not seen
	// yet — taken by a transaction still in flight (PostgreSQL hands out identities at
	// insert, and they show at commit, out of order), or never to come (a duplicate, a
	// rollback). A gap is read again at every step until it fills or its grace period
	// passes; the checkpoint stays below the oldest open gap, so that a restart reads
	// it again too.
	read int64
	gaps []gap
	now  func() time.Time
}

// gap is a run [lo, hi] of sequence numbers not seen yet, and when it was noticed.
type gap struct {
	lo, hi int64
	since  time.Time
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
		opt.Batch = DefaultBatch
	}
	if opt.Grace <= 0 {
		opt.Grace = DefaultGrace
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	return &Runner{db: db, evs: evs, al: al, opt: opt, wake: make(chan struct{}, 1), reload: make(chan struct{}, 1), now: time.Now}
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
	now := r.now()
	late, err := r.fillGaps(ctx, now)
	if err != nil {
		return 0, err
	}
	// What this process committed itself lately is read from memory; the rest (another
	// node's batches, a batch with duplicates, what came before a restart) from the store.
	page, ok, more := r.evs.Recent(r.read, r.opt.Batch)
	if !ok || more {
		after := r.read
		if len(page) > 0 {
			after = page[len(page)-1].Seq
		}
		rest, err := r.evs.Since(ctx, events.SeqFilter{AfterSeq: after, Limit: r.opt.Batch - len(page)})
		if err != nil {
			return 0, err
		}
		page = append(page, rest...)
	}
	// Numbers skipped between what was read before and this page are gaps — on
	// PostgreSQL, where a batch's numbers are taken before it commits. On SQLite they are
	// given inside the one writer's transaction, so a number missing below the last one
	// read (an event dropped as a duplicate) never comes.
	prev := r.read
	pg := r.db.Dialect() == store.Postgres
	for i := range page {
		if q := page[i].Seq; q > prev+1 && pg {
			r.gaps = append(r.gaps, gap{lo: prev + 1, hi: q - 1, since: now})
		}
		prev = page[i].Seq
	}
	if len(r.gaps) > maxGaps {
		r.gaps = r.gaps[len(r.gaps)-maxGaps:]
	}
	page = append(late, page...)
	if len(page) == 0 && r.cp == r.safe(prev) {
		return 0, nil
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
	last := r.safe(prev)
	err = r.db.InTxFirst(ctx, func(tx *store.Tx) error {
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
	r.read = prev
	r.cp = last
	if len(hits) > 0 && r.opt.Raised != nil {
		r.opt.Raised()
	}
	return len(page), nil
}

// safe is the checkpoint that may be stored after reading up to read: just below the
// oldest open gap, or read itself.
func (r *Runner) safe(read int64) int64 {
	cp := read
	for _, g := range r.gaps {
		cp = min(cp, g.lo-1)
	}
	return max(cp, r.cp)
}

// fillGaps reads the events that have come into the open gaps since (committed late),
// gives up the gaps older than the grace period, and returns the late events in sequence
// order.
func (r *Runner) fillGaps(ctx context.Context, now time.Time) ([]events.Stored, error) {
	var late []events.Stored
	open := r.gaps[:0]
	for i, g := range r.gaps {
		if i >= gapChecks { // the rest wait for the next steps (or their grace)
			open = append(open, r.gaps[i:]...)
			break
		}
		got, err := r.evs.Since(ctx, events.SeqFilter{AfterSeq: g.lo - 1, UpToSeq: g.hi, Limit: int(min(g.hi-g.lo+1, 100_000))})
		if err != nil {
			r.gaps = append(open, r.gaps[len(open):]...)
			return nil, err
		}
		late = append(late, got...)
		// What is left of the gap around the events found.
		lo := g.lo
		for _, e := range got {
			if e.Seq > lo {
				open = append(open, gap{lo: lo, hi: e.Seq - 1, since: g.since})
			}
			lo = e.Seq + 1
		}
		if lo <= g.hi {
			open = append(open, gap{lo: lo, hi: g.hi, since: g.since})
		}
	}
	// Given up: the gaps older than the grace period.
	kept := open[:0]
	for _, g := range open {
		if now.Sub(g.since) < r.opt.Grace {
			kept = append(kept, g)
		}
	}
	r.gaps = kept
	return late, nil
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
		r.engs, r.cp, r.read, r.gaps = map[int64]*Engine{}, cp, cp, nil
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
	r.eng, r.cp, r.read, r.gaps = eng, cp, cp, nil
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
