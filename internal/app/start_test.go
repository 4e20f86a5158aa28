package app

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/lease"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/store/storetest"
)

// eachEngine runs fn with a configuration of a fresh store of each engine.
func eachEngine(t *testing.T, fn func(t *testing.T, cfg Config)) {
	t.Run("sqlite", func(t *testing.T) {
		cfg := Defaults()
		cfg.DataDir = t.TempDir()
		fn(t, cfg)
	})
	t.Run("postgres", func(t *testing.T) {
		cfg := Defaults()
		cfg.DataDir, cfg.DB = t.TempDir(), storetest.FreshPostgresURL(t)
		fn(t, cfg)
	})
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestRetentionRunsOnASchedule: the raw values of a scan are purged by the retention job
// of the serving process once they pass their retention — at the job's next run, not at
// the next restart — and the job runs at start, then every dlp.purge_interval. The
// clocks are the test's: nothing sleeps.
func TestRetentionRunsOnASchedule(t *testing.T) {
	eachEngine(t, func(t *testing.T, cfg Config) {
		ctx := context.Background()
		cfg.DLP.RawRetentionDays = 1
		a, err := Open(ctx, cfg, quiet())
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		t0 := time.Now()
		now := t0
		clock := func() time.Time { return now }
		a.DLP.SetClock(clock)
		a.leases = lease.New(a.DB, "node:test", time.Minute, quiet())
		a.leases.SetClock(clock)
		jobs, err := a.backgroundJobs()
		if err != nil {
			t.Fatal(err)
		}
		var retention *lease.Job
		for _, j := range jobs {
			if j.Name() == LeaseDLPRetention {
				retention = j
			}
		}
		if retention == nil {
			t.Fatal("no retention job")
		}
		step := func(at time.Duration, want bool) {
			t.Helper()
			now = t0.Add(at)
			if ran, err := retention.Step(ctx); err != nil || ran != want {
				t.Fatalf("retention at %v: ran %v %v, want %v", at, ran, err, want)
			}
		}
		sealed := func() int {
			t.Helper()
			var n int
			if err := a.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM dlp_findings WHERE sealed IS NOT NULL`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}

		step(0, true) // at start
		sys := actor.System()
		region, err := a.Orgs.Create(ctx, sys, org.Input{Kind: org.KindRegion, Name: "Test City", Code: "CITY"})
		if err != nil {
			t.Fatal(err)
		}
		h, err := a.Orgs.Create(ctx, sys, org.Input{ParentID: region.ID, Kind: org.KindHospital, Name: "Hospital", Code: "H"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.DLP.ScanText(ctx, sys, h.ID, "", "患者王小明，身份证号440306199003071232，手机13812345678。"); err != nil {
			t.Fatal(err)
		}
		if sealed() == 0 {
			t.Fatal("the scan sealed no raw values")
		}
		step(30*time.Minute, false) // not due
		step(time.Hour, true)       // due: nothing expired yet
		if sealed() == 0 {
			t.Fatal("raw values purged before their retention")
		}
		step(24*time.Hour+30*time.Minute, true) // a day later, still serving
		if n := sealed(); n != 0 {
			t.Fatalf("%d raw values outlived their retention", n)
		}
	})
}

// TestOpenIsNotServing: Open takes no lease and starts no background work; Start does,
// and Close releases what it took.
func TestOpenIsNotServing(t *testing.T) {
	eachEngine(t, func(t *testing.T, cfg Config) {
		ctx := context.Background()
		leases := func(a *App) int {
			t.Helper()
			var n int
			if err := a.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM leases`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		a, err := Open(ctx, cfg, quiet())
		if err != nil {
			t.Fatal(err)
		}
		if n := leases(a); n != 0 {
			t.Fatalf("Open took %d leases", n)
		}
		if _, err := os.Stat(filepath.Join(cfg.DataDir, TrailCheckpointFile)); err == nil {
			t.Fatal("Open signed a checkpoint")
		}
		if err := a.Start(ctx); err != nil {
			t.Fatal(err)
		}
		// The process's own lease and those of the nine jobs (the notification
		// dispatcher's, the audit events' retention, the live detection and the apps'
		// evaluation, the incidents' clocks, the risk sweep and the compliance sweep
		// among them).
		if n := leases(a); n != 10 {
			t.Fatalf("Start took %d leases, want 10", n)
		}
		if st, err := os.Stat(filepath.Join(cfg.DataDir, EventsKeyFile)); err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("events.key: %v %v", st, err)
		}
		if _, err := os.Stat(filepath.Join(cfg.DataDir, TrailCheckpointFile)); err != nil {
			t.Fatalf("Start signed no checkpoint: %v", err)
		}
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
		b, err := Open(ctx, cfg, quiet())
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		if n := leases(b); n != 0 {
			t.Fatalf("%d leases left after Close", n)
		}
	})
}
