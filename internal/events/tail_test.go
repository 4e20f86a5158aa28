package events_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/events"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// TestRecentSameAsSince: what Recent returns from memory is what Since reads from the
// store — every field, times at the store's precision — for every starting point and
// limit, and never past what it holds; a batch with a duplicate of a stored event is not held, and Recent then says it
// cannot tell (ok false) from the start of that batch on, until a later batch is held; a
// second service on the same store (another node) holds nothing of the first's.
func TestRecentSameAsSince(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		w.svc.Recent(0, 1) // as the live detection does before ingest: from now on batches are held
		w.now = time.Date(2026, 4, 1, 8, 0, 0, 123456789, time.UTC)
		var batch []events.Event
		for i := range 25 {
			e := ev(fmt.Sprint(i), i, fmt.Sprintf("doc%d", i%3), fmt.Sprintf("P%d", i%4))
			e.Time = e.Time.Add(time.Duration(i*1001) * time.Nanosecond) // below a microsecond
			e.StaffID, e.Department, e.Terminal, e.RecordType, e.RecordCount = "S1", "心内科", "T-1", "emr", i
			if i%5 == 0 {
				e.PatientID, e.Outcome, e.Action = "", events.OutcomeFailure, events.ActionLogin
			}
			batch = append(batch, e)
		}
		app := func(org int64, evs []events.Event) events.Result {
			t.Helper()
			r, err := w.svc.Append(ctx, org, evs)
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		app(w.hospA.ID, batch[:10])
		app(w.hospB.ID, batch[10:12])
		app(w.hospA.ID, batch[12:25])
		last, err := w.svc.LastSeq(ctx)
		if err != nil {
			t.Fatal(err)
		}
		first := last - 24
		for after := first - 1; after < last; after++ {
			for _, limit := range []int{1, 3, 10, 1000} {
				got, ok, more := w.svc.Recent(after, limit)
				if !ok || more {
					t.Fatalf("Recent(%d, %d): ok %v, more %v", after, limit, ok, more)
				}
				want, err := w.svc.Since(ctx, events.SeqFilter{AfterSeq: after, Limit: limit})
				if err != nil {
					t.Fatal(err)
				}
				if len(got) == 0 && len(want) == 0 {
					continue
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("Recent(%d, %d):\n%+v\nSince:\n%+v", after, limit, got, want)
				}
			}
		}
		if _, ok, _ := w.svc.Recent(first-2, 10); ok {
			t.Error("Recent before the first held batch: ok")
		}
		if _, ok, _ := w.svc.Recent(last, 10); ok { // the next number may be another node's
			t.Error("Recent after the last held event: ok")
		}
		// A batch with a duplicate of a stored event is not held. Its duplicate comes last:
		// its number is not used by the next batch either (ranges never overlap).
		r := app(w.hospA.ID, []events.Event{ev("new1", 40, "doc", "P9"), batch[0]})
		if r.Accepted != 1 || r.Duplicates != 1 {
			t.Fatalf("duplicate batch: %+v", r)
		}
		if got, ok, _ := w.svc.Recent(last, 10); ok {
			t.Errorf("Recent over a batch with a duplicate: %+v", got)
		}
		// What comes before it is still told, and ends before it, saying the store has more.
		if got, ok, more := w.svc.Recent(last-2, 10); !ok || !more || len(got) != 2 || got[1].Seq != last {
			t.Errorf("Recent up to the batch with a duplicate: %v %v %+v", ok, more, got)
		}
		app(w.hospA.ID, []events.Event{ev("new2", 41, "doc", "P9")})
		now, err := w.svc.LastSeq(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if now != last+3 { // 1 stored, 1 left unused, 1 stored
			t.Fatalf("last sequence number %d, want %d: a batch's range is not used again", now, last+3)
		}
		if got, ok, _ := w.svc.Recent(now-1, 10); !ok || len(got) != 1 || got[0].ID != "new2" {
			t.Errorf("Recent after the batch with a duplicate: %v %+v", ok, got)
		}
		// A batch of duplicates only takes its numbers too (on SQLite, AUTOINCREMENT counts
		// the numbers given to rows it then skipped): Recent stops before it.
		if r := app(w.hospA.ID, []events.Event{batch[1]}); r.Accepted != 0 || r.Duplicates != 1 {
			t.Fatalf("batch of a duplicate: %+v", r)
		}
		app(w.hospA.ID, []events.Event{ev("new3", 42, "doc", "P9")})
		if got, ok, more := w.svc.Recent(now-1, 10); !ok || !more || len(got) != 1 {
			t.Errorf("Recent up to a batch of duplicates: %v %v %+v", ok, more, got)
		}
		if got, ok, more := w.svc.Recent(now+1, 10); !ok || more || len(got) != 1 || got[0].ID != "new3" {
			t.Errorf("Recent after a batch of duplicates: %v %v %+v", ok, more, got)
		}
		// Another service on the store holds none of these.
		other, err := events.New(db, events.Options{Key: testKey(t)})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := other.Recent(first-1, 10); ok {
			t.Error("another service holds the first one's batches")
		}
	})
}

// TestRecentBounded: the memory holds at most TailCap events, dropping the oldest
// batches first.
func TestRecentBounded(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	ctx := context.Background()
	w := newWorld(t, db)
	w.svc.Recent(0, 1)
	const n = 40_000
	var firsts []int64
	for b := range 3 {
		evs := make([]events.Event, n)
		for i := range evs {
			evs[i] = ev(fmt.Sprintf("%d-%d", b, i), 0, "doc", "")
			evs[i].Time = evs[i].Time.Add(time.Duration(i) * time.Millisecond)
		}
		if r, err := w.svc.Append(ctx, w.hospA.ID, evs); err != nil || r.Accepted != n {
			t.Fatalf("batch %d: %+v %v", b, r, err)
		}
		last, err := w.svc.LastSeq(ctx)
		if err != nil {
			t.Fatal(err)
		}
		firsts = append(firsts, last-n+1)
	}
	if _, ok, _ := w.svc.Recent(firsts[0]-1, 10); ok {
		t.Error("the oldest batch is still held past TailCap")
	}
	got, ok, _ := w.svc.Recent(firsts[1]-1, events.TailCap)
	if !ok || len(got) != 2*n || got[0].Seq != firsts[1] {
		t.Fatalf("the two newest batches: ok %v, %d events", ok, len(got))
	}
}

// TestRecentWaitsForPending: a batch that has its numbers but has not committed is
// waited for (ok, nothing more to read) rather than read from the store — until it has
// been pending too long, when the store is asked; a batch that failed is forgotten, and
// its numbers left to the store.
func TestRecentWaitsForPending(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		w.svc.Recent(0, 1)
		clock := time.Date(2026, 4, 1, 8, 0, 0, 0, time.UTC)
		events.SetTailClock(w.svc, func() time.Time { return clock })
		if _, err := w.svc.Append(ctx, w.hospA.ID, []events.Event{ev("a", 1, "doc", "P1"), ev("b", 2, "doc", "P2")}); err != nil {
			t.Fatal(err)
		}
		last, err := w.svc.LastSeq(ctx)
		if err != nil {
			t.Fatal(err)
		}
		events.BeginPending(w.svc, last+1, 3)
		if got, ok, more := w.svc.Recent(last-1, 10); !ok || more || len(got) != 1 {
			t.Errorf("Recent up to a pending batch: %v %v %+v", ok, more, got)
		}
		if got, ok, more := w.svc.Recent(last, 10); !ok || more || len(got) != 0 {
			t.Errorf("Recent at a pending batch: %v %v %+v (want: wait for it)", ok, more, got)
		}
		clock = clock.Add(11 * time.Second)
		if _, ok, _ := w.svc.Recent(last, 10); ok {
			t.Error("Recent waits for a batch pending for eleven seconds")
		}
		if got, ok, more := w.svc.Recent(last-1, 10); !ok || !more || len(got) != 1 {
			t.Errorf("Recent up to a batch pending too long: %v %v %+v (want: read on from the store)", ok, more, got)
		}
		events.DropPending(w.svc, last+1)
		if _, ok, _ := w.svc.Recent(last, 10); ok {
			t.Error("Recent at a dropped batch: ok")
		}
		// A batch that fails (an organisation that does not exist) leaves nothing pending.
		if _, err := w.svc.Append(ctx, 1<<40, []events.Event{ev("c", 3, "doc", "P3")}); err == nil {
			t.Fatal("append to an organisation that does not exist: no error")
		}
		if _, ok, _ := w.svc.Recent(last, 10); ok {
			t.Error("Recent at the numbers of a failed batch: ok (want: the store tells)")
		}
		if r, err := w.svc.Append(ctx, w.hospA.ID, []events.Event{ev("d", 4, "doc", "P4")}); err != nil || r.Accepted != 1 {
			t.Fatalf("append after a failed one: %+v %v", r, err)
		}
		now, err := w.svc.LastSeq(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got, ok, more := w.svc.Recent(now-1, 10); !ok || more || len(got) != 1 || got[0].ID != "d" {
			t.Errorf("Recent after a failed batch: %v %v %+v", ok, more, got)
		}
	})
}

// TestRecentHoldsNothingUntilAsked: a service holds no batch before the first Recent (a
// process without the live detection, such as an import, pays nothing), and holds the
// batches committed after it.
func TestRecentHoldsNothingUntilAsked(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	ctx := context.Background()
	w := newWorld(t, db)
	if _, err := w.svc.Append(ctx, w.hospA.ID, []events.Event{ev("a", 1, "doc", "P1")}); err != nil {
		t.Fatal(err)
	}
	if got, ok, _ := w.svc.Recent(0, 10); ok {
		t.Fatalf("a batch committed before the first Recent is held: %+v", got)
	}
	if _, err := w.svc.Append(ctx, w.hospA.ID, []events.Event{ev("b", 2, "doc", "P2")}); err != nil {
		t.Fatal(err)
	}
	if got, ok, more := w.svc.Recent(1, 10); !ok || more || len(got) != 1 || got[0].ID != "b" {
		t.Errorf("the batch after the first Recent: %v %v %+v", ok, more, got)
	}
}
