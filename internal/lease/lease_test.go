package lease

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// clock is a settable clock for a Manager.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func managerAt(db *store.DB, holder string, c *clock) *Manager {
	m := New(db, holder, 10*time.Second, nil)
	m.SetClock(c.now)
	return m
}

func must(t *testing.T, ok bool, err error, want bool, what string) {
	t.Helper()
	if err != nil || ok != want {
		t.Fatalf("%s: %v %v, want %v", what, ok, err, want)
	}
}

func holderOf(t *testing.T, db *store.DB, name string) (holder string, acquired store.Time) {
	t.Helper()
	err := db.QueryRowContext(context.Background(), `SELECT holder, acquired_at FROM leases WHERE name = ?`, name).Scan(&holder, &acquired)
	if err != nil {
		t.Fatal(err)
	}
	return holder, acquired
}

// TestAcquire: a lease has one holder; its holder renews it, nobody else takes it until
// it expires, then the first to try does; a released lease is free at once.
func TestAcquire(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		t0 := time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)
		ca, cb := &clock{t0}, &clock{t0}
		a, b := managerAt(db, "node:a", ca), managerAt(db, "node:b", cb)

		ok, err := a.Acquire(ctx, "job")
		must(t, ok, err, true, "a takes the free lease")
		ok, err = b.Acquire(ctx, "job")
		must(t, ok, err, false, "b takes a's lease")
		ok, err = b.Renew(ctx, "job")
		must(t, ok, err, false, "b renews a's lease")

		ca.t = t0.Add(8 * time.Second)
		ok, err = a.Acquire(ctx, "job")
		must(t, ok, err, true, "a takes its own lease again")
		if h, at := holderOf(t, db, "job"); h != "node:a" || !at.Time.Equal(t0) {
			t.Fatalf("after a renewal: %s since %v, want node:a since %v", h, at.Time, t0)
		}
		// a's renewal at 8 s holds the lease until 18 s.
		cb.t = t0.Add(15 * time.Second)
		ok, err = b.Acquire(ctx, "job")
		must(t, ok, err, false, "b takes the renewed lease before it expires")
		cb.t = t0.Add(18*time.Second + time.Millisecond)
		ok, err = b.Acquire(ctx, "job")
		must(t, ok, err, true, "b takes the expired lease")
		if h, at := holderOf(t, db, "job"); h != "node:b" || !at.Time.Equal(cb.t) {
			t.Fatalf("after the takeover: %s since %v", h, at.Time)
		}
		ok, err = a.Renew(ctx, "job")
		must(t, ok, err, false, "a renews the lease b took over")
		ok, err = a.Acquire(ctx, "job")
		must(t, ok, err, false, "a takes b's live lease")

		if err := a.Release(ctx, "job"); err != nil {
			t.Fatal(err)
		}
		ok, err = a.Acquire(ctx, "job")
		must(t, ok, err, false, "a's release dropped b's lease")
		if err := b.Release(ctx, "job"); err != nil {
			t.Fatal(err)
		}
		ok, err = a.Acquire(ctx, "job")
		must(t, ok, err, true, "a takes the released lease")
	})
}

// TestAcquireConcurrently: of many processes trying at once, one takes the lease.
func TestAcquireConcurrently(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		var wg sync.WaitGroup
		var mu sync.Mutex
		won := 0
		for i := range 16 {
			wg.Go(func() {
				m := New(db, "node:"+string(rune('a'+i)), time.Minute, nil)
				ok, err := m.Acquire(context.Background(), "job")
				if err != nil {
					t.Error(err)
				}
				if ok {
					mu.Lock()
					won++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if won != 1 {
			t.Fatalf("%d processes hold the lease", won)
		}
	})
}

// TestLiveAndPrune: Live tells a held lease from an expired or missing one; Prune drops
// the long expired.
func TestLiveAndPrune(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		t0 := time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)
		c := &clock{t0}
		m := managerAt(db, "node:a", c)
		if ok, err := m.Acquire(ctx, "node:a"); err != nil || !ok {
			t.Fatal(ok, err)
		}
		live := func(name string) bool {
			cond, arg := m.Live("?")
			var n int
			if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM leases WHERE name = ? AND `+cond, name, name, arg).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n == 1
		}
		if !live("node:a") || live("node:b") {
			t.Fatal("live: a held lease is not live, or a missing one is")
		}
		c.t = t0.Add(11 * time.Second)
		if live("node:a") {
			t.Fatal("an expired lease is live")
		}
		if err := m.Prune(ctx); err != nil {
			t.Fatal(err)
		}
		if h, _ := holderOf(t, db, "node:a"); h != "node:a" {
			t.Fatal("pruned a lease just expired")
		}
		c.t = t0.Add(21 * time.Second)
		if err := m.Prune(ctx); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM leases`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("after pruning: %d leases %v", n, err)
		}
	})
}

// TestJobStep: a job runs on the process holding its lease, at once and then every
// interval; the other process runs it only once the holder stopped renewing, at once.
func TestJobStep(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		t0 := time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)
		ca, cb := &clock{t0}, &clock{t0}
		var ran []string
		job := func(m *Manager, who string) *Job {
			return m.Job("purge", time.Hour, func(ctx context.Context) {
				if ctx.Err() != nil {
					t.Errorf("%s ran with its lease lost", who)
				}
				ran = append(ran, who)
			})
		}
		a, b := job(managerAt(db, "node:a", ca), "a"), job(managerAt(db, "node:b", cb), "b")
		step := func(j *Job, c *clock, at time.Duration, want bool) {
			t.Helper()
			c.t = t0.Add(at)
			got, err := j.Step(ctx)
			if err != nil || got != want {
				t.Fatalf("step at %v: ran %v %v, want %v (ran so far %v)", at, got, err, want, ran)
			}
		}
		step(a, ca, 0, true)                          // a takes the lease: runs at once
		step(b, cb, time.Second, false)               // held by a
		step(a, ca, 5*time.Second, false)             // a renews: not due
		step(b, cb, 10*time.Second, false)            // a renewed at 5 s: live until 15 s
		step(a, ca, time.Hour, true)                  // due again
		step(b, cb, time.Hour+5*time.Second, false)   // a renewed at 1 h
		step(b, cb, time.Hour+11*time.Second, true)   // a stopped: b takes over and runs at once
		step(a, ca, time.Hour+12*time.Second, false)  // a comes back: b holds it
		step(b, cb, time.Hour+15*time.Second, false)  // b: not due
		step(b, cb, 2*time.Hour+11*time.Second, true) // b: due
		if want := []string{"a", "a", "b", "b"}; strings.Join(ran, " ") != strings.Join(want, " ") {
			t.Fatalf("ran %v, want %v", ran, want)
		}
	})
}
