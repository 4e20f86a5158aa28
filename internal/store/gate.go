package store

import (
	"context"
	"slices"
	"sync"
)

// writeGate orders the transactions waiting for SQLite's one writer connection. Left to
// database/sql, a connection given back goes to a waiter picked at random, so a small
// transaction could lose to a run of ingest batches again and again: the detection
// runner's alerts waited up to a second behind them at 50,000 events/s
// (bench/RESULTS.md). Here waiters are served in the order they came, those that asked
// to go first (InTxFirst) ahead of the others.
type writeGate struct {
	mu          sync.Mutex
	busy        bool
	first, rest []chan struct{}
}

// acquire waits for the gate (ahead of the rest when first) or for ctx to end.
func (g *writeGate) acquire(ctx context.Context, first bool) error {
	g.mu.Lock()
	if !g.busy {
		g.busy = true
		g.mu.Unlock()
		return nil
	}
	ch := make(chan struct{})
	if first {
		g.first = append(g.first, ch)
	} else {
		g.rest = append(g.rest, ch)
	}
	g.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
	}
	g.mu.Lock()
	if i := slices.Index(g.first, ch); i >= 0 {
		g.first = slices.Delete(g.first, i, i+1)
	} else if i := slices.Index(g.rest, ch); i >= 0 {
		g.rest = slices.Delete(g.rest, i, i+1)
	} else { // handed over while ctx ended: pass it on
		g.mu.Unlock()
		g.release()
		return ctx.Err()
	}
	g.mu.Unlock()
	return ctx.Err()
}

// release hands the gate to the next waiter, or opens it.
func (g *writeGate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case len(g.first) > 0:
		close(g.first[0])
		g.first = g.first[1:]
	case len(g.rest) > 0:
		close(g.rest[0])
		g.rest = g.rest[1:]
	default:
		g.busy = false
	}
}
