package events_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/events"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
	"github.com/medguard/medguard/internal/trail"
	"github.com/medguard/medguard/internal/trail/trailtest"
)

type world struct {
	svc          *events.Service
	prov         org.Node
	hospA, hospB org.Node
	deptA        org.Node
	now          time.Time
}

func testKey(t testing.TB) []byte {
	k := make([]byte, events.KeySize)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func newWorld(t testing.TB, db *store.DB) *world {
	t.Helper()
	ctx := context.Background()
	tl, err := trail.New(trail.SHA256, trailtest.Key(t))
	if err != nil {
		t.Fatal(err)
	}
	orgs := org.NewService(db, tl)
	mk := func(parent int64, kind, name string) org.Node {
		n, err := orgs.Create(ctx, actor.System(), org.Input{ParentID: parent, Kind: kind, Name: name})
		if err != nil {
			t.Fatalf("create org %s: %v", name, err)
		}
		return n
	}
	w := &world{now: time.Date(2026, 4, 1, 8, 0, 0, 0, time.UTC)}
	w.svc, err = events.New(db, events.Options{Key: testKey(t), Now: func() time.Time { return w.now }})
	if err != nil {
		t.Fatal(err)
	}
	w.prov = mk(0, org.KindProvince, "省")
	w.hospA = mk(w.prov.ID, org.KindHospital, "A")
	w.deptA = mk(w.hospA.ID, org.KindDepartment, "A1")
	w.hospB = mk(w.prov.ID, org.KindHospital, "B")
	return w
}

func ev(id string, min int, account, patient string) events.Event {
	return events.Event{ID: id, Time: time.Date(2026, 3, 31, 9, min, 0, 0, time.UTC), System: "EMR", Account: account,
		Action: events.ActionView, PatientID: patient, Raw: "raw " + patient, SourceIP: "10.0.0.1"}
}

func who(n org.Node) actor.Actor {
	return actor.Actor{Username: "u", Role: "auditor", OrgID: n.ID, OrgPath: n.Path}
}

// TestAppendDropsDuplicates: an event whose system, id and time are stored already, or
// came earlier in the batch, is dropped and counted, never an error; the same id from
// another system, another organisation or at another time is a different event; invalid
// events are rejected with their index and field, the rest of the batch stored.
func TestAppendDropsDuplicates(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		r, err := w.svc.Append(ctx, w.hospA.ID, []events.Event{ev("1", 0, "doc", "P1"), ev("2", 1, "doc", "P2"), ev("1", 0, "doc", "P1")})
		if err != nil {
			t.Fatal(err)
		}
		if r.Accepted != 2 || r.Duplicates != 1 || len(r.Rejected) != 0 {
			t.Fatalf("first batch: %+v", r)
		}
		other := ev("1", 3, "doc", "P1")
		other.System = "HIS"
		bad := ev("", 4, "doc", "")
		badAction := ev("9", 4, "doc", "")
		badAction.Action = "peek"
		r, err = w.svc.Append(ctx, w.hospA.ID, []events.Event{ev("1", 0, "doc", "P1"), ev("2", 1, "doc", "P2"), other, bad, badAction, ev("3", 5, "nurse", "")})
		if err != nil {
			t.Fatal(err)
		}
		want := []events.Rejection{{Index: 3, Field: "id", Reason: "required"}, {Index: 4, Field: "action", Reason: "unknown action"}}
		if r.Accepted != 2 || r.Duplicates != 2 || fmt.Sprint(r.Rejected) != fmt.Sprint(want) {
			t.Fatalf("second batch: %+v", r)
		}
		// The same id at another time is another event.
		if r, err = w.svc.Append(ctx, w.hospA.ID, []events.Event{ev("1", 2, "doc", "P1"), ev("1", 2, "doc", "P1")}); err != nil ||
			r.Accepted != 1 || r.Duplicates != 1 {
			t.Fatalf("id at another time: %+v %v", r, err)
		}
		// The same id in another hospital is that hospital's own event.
		if r, err = w.svc.Append(ctx, w.hospB.ID, []events.Event{ev("1", 0, "doc", "P1")}); err != nil || r.Accepted != 1 {
			t.Fatalf("other hospital: %+v %v", r, err)
		}
		all, err := w.svc.List(ctx, actor.System(), events.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 6 {
			t.Fatalf("stored %d events, want 6", len(all))
		}
		if all[0].Outcome != events.OutcomeSuccess || all[0].PatientID != "P1" || all[0].Raw != "raw P1" {
			t.Errorf("first stored event: %+v", all[0])
		}
	})
}

// TestListByPatientAndTenancy: the keyed hash finds a patient's events; a hospital's
// auditor sees its own events (and its departments'), never another hospital's; an actor
// with no organisation sees nothing.
func TestListByPatientAndTenancy(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		mustAppend := func(orgID int64, evs ...events.Event) {
			t.Helper()
			if _, err := w.svc.Append(ctx, orgID, evs); err != nil {
				t.Fatal(err)
			}
		}
		mustAppend(w.hospA.ID, ev("a1", 0, "doc", "P1"), ev("a2", 1, "doc", "P2"), ev("a3", 2, "nurse", "P1"))
		mustAppend(w.deptA.ID, ev("d1", 3, "doc", "P1"))
		mustAppend(w.hospB.ID, ev("b1", 4, "doc", "P1"))
		ids := func(a actor.Actor, f events.Filter) string {
			t.Helper()
			l, err := w.svc.List(ctx, a, f)
			if err != nil {
				t.Fatal(err)
			}
			s := ""
			for _, e := range l {
				s += e.ID + " "
			}
			return s
		}
		cases := []struct {
			name string
			a    actor.Actor
			f    events.Filter
			want string
		}{
			{"patient in hospital A", who(w.hospA), events.Filter{PatientID: "P1"}, "a1 a3 d1 "},
			{"patient across province", who(w.prov), events.Filter{PatientID: "P1"}, "a1 a3 d1 b1 "},
			{"hospital B", who(w.hospB), events.Filter{}, "b1 "},
			{"account", who(w.hospA), events.Filter{Account: "nurse"}, "a3 "},
			{"time range", who(w.prov), events.Filter{From: time.Date(2026, 3, 31, 9, 1, 0, 0, time.UTC), To: time.Date(2026, 3, 31, 9, 3, 0, 0, time.UTC)}, "a2 a3 "},
			{"action", who(w.prov), events.Filter{Action: events.ActionLogin}, ""},
			{"subtree", who(w.prov), events.Filter{OrgPath: w.deptA.Path}, "d1 "},
			{"subtree not seen", who(w.hospB), events.Filter{OrgPath: w.hospA.Path}, ""},
			{"no organisation", actor.Actor{Username: "x"}, events.Filter{}, ""},
			{"unknown patient", who(w.prov), events.Filter{PatientID: "P9"}, ""},
		}
		for _, c := range cases {
			if got := ids(c.a, c.f); got != c.want {
				t.Errorf("%s: got %q, want %q", c.name, got, c.want)
			}
		}
	})
}

// TestPatientSealedInFile: neither the patient id nor the raw original is anywhere in
// the SQLite files, yet listing opens both.
func TestPatientSealedInFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "e.db")
	db, err := store.OpenSQLiteFile(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	w := newWorld(t, db)
	const patient = "PATIENT-330102199001011234"
	e := ev("s1", 0, "doc", patient)
	e.Raw = "<AuditMessage>raw-secret-original</AuditMessage>"
	if _, err := w.svc.Append(ctx, w.hospA.ID, []events.Event{e}); err != nil {
		t.Fatal(err)
	}
	l, err := w.svc.List(ctx, actor.System(), events.Filter{PatientID: patient})
	if err != nil || len(l) != 1 || l[0].PatientID != patient || l[0].Raw != e.Raw {
		t.Fatalf("list: %+v %v", l, err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(path + "*")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{patient, "raw-secret-original"} {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s holds %q in clear", filepath.Base(f), s)
			}
		}
	}
}

// TestPurgeKeepsRetention: Purge deletes the events older than the retention only, and a
// retention under six months is refused.
func TestPurgeKeepsRetention(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		old, recent := ev("old", 0, "doc", ""), ev("new", 0, "doc", "")
		old.Time = w.now.Add(-events.DefaultRetention - time.Hour)
		recent.Time = w.now.Add(-events.DefaultRetention + time.Hour)
		if _, err := w.svc.Append(ctx, w.hospA.ID, []events.Event{old, recent}); err != nil {
			t.Fatal(err)
		}
		n, err := w.svc.Purge(ctx)
		if err != nil || n != 1 {
			t.Fatalf("purge: %d %v", n, err)
		}
		l, _ := w.svc.List(ctx, actor.System(), events.Filter{})
		if len(l) != 1 || l[0].ID != "new" {
			t.Fatalf("left: %+v", l)
		}
		if _, err := events.New(db, events.Options{Key: testKey(t), Retention: 30 * 24 * time.Hour}); err == nil {
			t.Error("a 30-day retention was accepted")
		}
	})
}

// TestAppendLargeBatch: 10,000 events in one call (several INSERT statements, one
// transaction) are all stored.
func TestAppendLargeBatch(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		evs := make([]events.Event, 10000)
		for i := range evs {
			evs[i] = ev(fmt.Sprint("big-", i), i%60, "doc", fmt.Sprint("P", i%100))
		}
		r, err := w.svc.Append(context.Background(), w.hospA.ID, evs)
		if err != nil || r.Accepted != 10000 {
			t.Fatalf("%+v %v", r, err)
		}
		var n int
		if err := db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM events`).Scan(&n); err != nil || n != 10000 {
			t.Fatalf("count %d %v", n, err)
		}
	})
}

// TestAppendOrderAndConcurrentDuplicates: a batch is stored in its order (sequence
// numbers follow the batch, though its values are sealed by several goroutines), every
// sealed value opens to its own event, and two batches appended at once that share
// events store each shared event once: the accepted counts add up to the distinct events.
func TestAppendOrderAndConcurrentDuplicates(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		const n = 3000 // several sealing chunks
		mk := func(from, to int) []events.Event {
			evs := make([]events.Event, 0, to-from)
			for i := from; i < to; i++ {
				evs = append(evs, ev(fmt.Sprint("c-", i), i%60, "doc", fmt.Sprint("P", i)))
			}
			return evs
		}
		a, b := mk(0, 2*n/3), mk(n/3, n) // n/3 events in both
		results := make(chan events.Result, 2)
		errs := make(chan error, 2)
		for _, batch := range [][]events.Event{a, b} {
			go func() {
				r, err := w.svc.Append(ctx, w.hospA.ID, batch)
				results <- r
				errs <- err
			}()
		}
		accepted, dups := 0, 0
		for range 2 {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
			r := <-results
			accepted, dups = accepted+r.Accepted, dups+r.Duplicates
		}
		if accepted != n || dups != n/3 {
			t.Fatalf("accepted %d, duplicates %d; want %d and %d", accepted, dups, n, n/3)
		}
		stored, err := w.svc.List(ctx, actor.System(), events.Filter{Limit: 2 * n})
		if err != nil {
			t.Fatal(err)
		}
		byID := map[string]events.Stored{}
		for _, e := range stored {
			byID[e.ID] = e
		}
		if len(byID) != n {
			t.Fatalf("stored %d distinct events, want %d", len(byID), n)
		}
		for i := range n {
			e := byID[fmt.Sprint("c-", i)]
			if e.PatientID != fmt.Sprint("P", i) || e.Raw != "raw P"+fmt.Sprint(i) {
				t.Fatalf("event c-%d opened to patient %q raw %q", i, e.PatientID, e.Raw)
			}
		}
		// Within each batch, the events only it holds follow its order.
		for _, r := range [][2]int{{0, n / 3}, {2 * n / 3, n}} {
			for i := r[0] + 1; i < r[1]; i++ {
				if byID[fmt.Sprint("c-", i-1)].Seq >= byID[fmt.Sprint("c-", i)].Seq {
					t.Fatalf("c-%d stored after c-%d", i-1, i)
				}
			}
		}
	})
}

// TestAppendFailureStoresNothing: a batch the database refuses (an organisation that
// does not exist) is an error and stores none of its events, and the next batch on the
// same pool is stored (on PostgreSQL the connection of the failed COPY is not left in an
// aborted transaction).
func TestAppendFailureStoresNothing(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		if _, err := w.svc.Append(ctx, 999999, []events.Event{ev("f1", 0, "doc", "P1"), ev("f2", 1, "doc", "P2")}); err == nil {
			t.Fatal("a batch of an unknown organisation was stored")
		}
		for i := range 3 { // more batches than one connection serves
			r, err := w.svc.Append(ctx, w.hospA.ID, []events.Event{ev(fmt.Sprint("ok-", i), 0, "doc", "P1")})
			if err != nil || r.Accepted != 1 {
				t.Fatalf("batch %d after the failure: %+v %v", i, r, err)
			}
		}
		var n int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM events`).Scan(&n); err != nil || n != 3 {
			t.Fatalf("stored %d events (%v), want 3", n, err)
		}
	})
}

// TestPatientHashAllocations: the keyed hash, computed for every event appended and
// every patient looked up, reuses its HMAC instead of building one per call: one
// allocation (the hex string) a call.
func TestPatientHashAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's sync.Pool drops values at random")
	}
	db := storetest.Open(t, store.SQLite)
	w := newWorld(t, db)
	want := w.svc.PatientHash("P1")
	if got := w.svc.PatientHash("P1"); got != want || len(got) != 64 {
		t.Fatalf("hash %q then %q", want, got)
	}
	if w.svc.PatientHash("P2") == want {
		t.Fatal("two patients share a hash")
	}
	if n := testing.AllocsPerRun(200, func() { w.svc.PatientHash("P1") }); n > 1 {
		t.Errorf("PatientHash allocates %.0f times a call, want at most 1", n)
	}
}

// BenchmarkAppend: durable appends of batches of 10,000 events; reports events/s of
// wall time and, because the machine may be shared, events per second of this process's
// CPU time (user + system). Building the events is not timed.
func BenchmarkAppend(b *testing.B) {
	for _, d := range storetest.Dialects {
		b.Run(string(d), func(b *testing.B) {
			if d == store.Postgres && os.Getenv(storetest.EnvPostgres) == "" {
				b.Skip("no PostgreSQL")
			}
			db := storetest.Open(b, d)
			w := newWorld(b, db)
			evs := make([]events.Event, 10000)
			var cpu time.Duration
			b.ResetTimer()
			for n := 0; n < b.N; n++ {
				b.StopTimer()
				for i := range evs {
					evs[i] = ev(fmt.Sprint(n, "-", i), i%60, "doc", fmt.Sprint("P", i%1000))
				}
				c0 := cpuTime()
				b.StartTimer()
				if _, err := w.svc.Append(context.Background(), w.hospA.ID, evs); err != nil {
					b.Fatal(err)
				}
				cpu += cpuTime() - c0
			}
			b.ReportMetric(float64(b.N*len(evs))/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(b.N*len(evs))/cpu.Seconds(), "events/cpu-s")
		})
	}
}

// cpuTime is the user and system CPU time this process used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestAppendConcurrentBatchesContiguous: batches stored at once each get one block of
// consecutive sequence numbers (no batch interleaves its numbers with another's), so
// that a batch still in flight leaves one gap in what the detection runner reads, not a
// gap per event; a batch of duplicates only takes no numbers away from the next.
func TestAppendConcurrentBatchesContiguous(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		const batches, size = 6, 1500
		errs := make(chan error, batches)
		for b := range batches {
			go func() {
				evs := make([]events.Event, size)
				for i := range evs {
					evs[i] = ev(fmt.Sprintf("b%d-%d", b, i), i%60, fmt.Sprint("acct", b), "")
				}
				_, err := w.svc.Append(ctx, w.hospA.ID, evs)
				errs <- err
			}()
		}
		for range batches {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		rows, err := db.QueryContext(ctx, `SELECT account, MIN(id), MAX(id), COUNT(*) FROM events GROUP BY account ORDER BY account`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			var acct string
			var lo, hi, c int64
			if err := rows.Scan(&acct, &lo, &hi, &c); err != nil {
				t.Fatal(err)
			}
			n++
			if c != size || hi-lo+1 != size {
				t.Errorf("batch of %s: %d events numbered %d…%d, not one block", acct, c, lo, hi)
			}
		}
		if n != batches {
			t.Fatalf("%d batches stored, want %d", n, batches)
		}
	})
}

// TestAppendMicroseconds: event times are kept to the microsecond on both engines, so two
// events differing below it are one event and a duplicate on SQLite as on PostgreSQL
// (which keeps microseconds), never two on one engine and one on the other.
func TestAppendMicroseconds(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		a, b := ev("1", 0, "doc", "P1"), ev("1", 0, "doc", "P1")
		a.Time = a.Time.Add(1500 * time.Nanosecond)
		b.Time = b.Time.Add(1900 * time.Nanosecond)
		r, err := w.svc.Append(ctx, w.hospA.ID, []events.Event{a, b})
		if err != nil || r.Accepted != 1 || r.Duplicates != 1 {
			t.Fatalf("append: %+v %v", r, err)
		}
		got, err := w.svc.List(ctx, actor.System(), events.Filter{})
		if err != nil || len(got) != 1 {
			t.Fatalf("list: %d events, %v", len(got), err)
		}
		if want := a.Time.Truncate(time.Microsecond); !got[0].Time.Equal(want) {
			t.Errorf("stored time %v, want %v", got[0].Time, want)
		}
	})
}
