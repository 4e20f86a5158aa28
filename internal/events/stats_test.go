package events_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/events"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// rateString renders r as "bucket-time system=count …" lines of the non-empty buckets,
// then the totals.
func rateString(r events.Rates) string {
	var b strings.Builder
	for i, t := range r.Buckets {
		var parts []string
		for _, s := range r.Systems {
			if s.Counts[i] > 0 {
				parts = append(parts, fmt.Sprintf("%s=%d", s.System, s.Counts[i]))
			}
		}
		if len(parts) > 0 {
			fmt.Fprintf(&b, "%s %s\n", t.Format("01-02T15:04"), strings.Join(parts, " "))
		}
	}
	fmt.Fprintf(&b, "buckets=%d total=%d", len(r.Buckets), r.Total)
	return b.String()
}

// TestRates: events are counted per system in buckets aligned on the step (minutes, hours),
// by event time in [from, to), every bucket present; a hospital's auditor counts its own
// subtree only, an actor with no organisation nothing; bad steps and ranges are refused.
func TestRates(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		at := func(id, system string, t0 time.Time) events.Event {
			return events.Event{ID: id, Time: t0, System: system, Account: "doc", Action: events.ActionLogin}
		}
		base := time.Date(2026, 3, 31, 9, 0, 0, 0, time.UTC)
		if _, err := w.svc.Append(ctx, w.hospA.ID, []events.Event{
			at("1", "EMR", base.Add(10*time.Second)),
			at("2", "EMR", base.Add(59*time.Second+999*time.Millisecond)),
			at("3", "HIS", base.Add(61*time.Second)),
			at("4", "EMR", base.Add(2*time.Hour+5*time.Minute)),
			at("5", "EMR", base.Add(-time.Second)), // before the range
			at("6", "EMR", base.Add(3*time.Hour)),  // at its end: outside
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.Append(ctx, w.deptA.ID, []events.Event{at("d", "LIS", base.Add(90*time.Second))}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.Append(ctx, w.hospB.ID, []events.Event{at("b", "EMR", base.Add(30*time.Second))}); err != nil {
			t.Fatal(err)
		}
		get := func(a actor.Actor, from, to time.Time, step time.Duration) string {
			t.Helper()
			r, err := w.svc.Rates(ctx, a, from, to, step)
			if err != nil {
				t.Fatal(err)
			}
			return rateString(r)
		}
		cases := []struct {
			name     string
			a        actor.Actor
			from, to time.Time
			step     time.Duration
			want     string
		}{
			{"minutes, hospital A", who(w.hospA), base, base.Add(3 * time.Minute), time.Minute,
				"03-31T09:00 EMR=2\n03-31T09:01 HIS=1 LIS=1\nbuckets=3 total=4"},
			{"minutes, all", actor.System(), base, base.Add(3 * time.Minute), time.Minute,
				"03-31T09:00 EMR=3\n03-31T09:01 HIS=1 LIS=1\nbuckets=3 total=5"},
			{"hours, from moved to the hour", who(w.hospA), base.Add(30 * time.Minute), base.Add(3 * time.Hour), time.Hour,
				"03-31T09:00 EMR=2 HIS=1 LIS=1\n03-31T11:00 EMR=1\nbuckets=3 total=5"},
			{"department only", who(w.deptA), base, base.Add(time.Hour), time.Minute,
				"03-31T09:01 LIS=1\nbuckets=60 total=1"},
			{"no organisation", actor.Actor{Username: "x", Role: "auditor"}, base, base.Add(time.Hour), time.Minute,
				"buckets=60 total=0"},
		}
		for _, c := range cases {
			if got := get(c.a, c.from, c.to, c.step); got != c.want {
				t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
			}
		}
		bad := []struct {
			name     string
			from, to time.Time
			step     time.Duration
		}{
			{"step under a minute", base, base.Add(time.Hour), time.Second},
			{"empty range", base, base, time.Minute},
			{"too many buckets", base, base.Add(8 * 24 * time.Hour), time.Minute},
		}
		for _, c := range bad {
			_, err := w.svc.Rates(ctx, actor.System(), c.from, c.to, c.step)
			if problem.KindOf(err) != problem.KindInvalid {
				t.Errorf("%s: got %v, want an invalid-input problem", c.name, err)
			}
		}
	})
}
