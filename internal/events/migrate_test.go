package events_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/events"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// TestMigrateEventsParts stores events as schema 0039 held them — ids in three parts, the
// last ids already purged — and upgrades: every event keeps its id, gets its part and its
// patient key (the same as Append computes), the parts' time ranges are recorded, a
// patient's events are found across parts, a re-sent old event is still a duplicate and
// the next event's id follows the highest ever handed out.
func TestMigrateEventsParts(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			db := storetest.OpenAt(t, d, 39)
			t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
			var org int64
			if err := db.QueryRowContext(ctx, `INSERT INTO orgs (parent_id, kind, name, path, created_at, updated_at)
				VALUES (NULL, 'hospital', '第一人民医院', '', ?, ?) RETURNING id`, t0, t0).Scan(&org); err != nil {
				t.Fatal(err)
			}
			if _, err := db.ExecContext(ctx, `UPDATE orgs SET path = ? WHERE id = ?`, fmt.Sprintf("/%d/", org), org); err != nil {
				t.Fatal(err)
			}
			svc, err := events.New(db, events.Options{Key: testKey(t), Now: func() time.Time { return t0.Add(time.Hour) }})
			if err != nil {
				t.Fatal(err)
			}
			type row struct {
				id      int64
				patient string
				min     int
			}
			rows := []row{{5, "P1", 0}, {6, "", 1}, {20000, "P1", 2}, {40000, "P2", 3}, {40001, "P1", 4}, {50000, "P1", 5}}
			for _, r := range rows {
				h := svc.PatientHash(r.patient)
				if _, err := db.ExecContext(ctx, `INSERT INTO events (id, org_id, system, event_id, time, account, action,
					patient_hash, received_at) VALUES (?, ?, 'EMR', ?, ?, 'doc', 'view', ?, ?)`,
					r.id, org, fmt.Sprint("e", r.id), t0.Add(time.Duration(r.min)*time.Minute), h, t0); err != nil {
					t.Fatal(err)
				}
			}
			if d == "postgres" {
				if _, err := db.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence('events', 'id'), 50000)`); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := db.ExecContext(ctx, `DELETE FROM events WHERE id = 50000`); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Migrate(ctx); err != nil {
				t.Fatalf("migrate: %v", err)
			}

			for _, r := range rows[:len(rows)-1] {
				var part, pkey int64
				if err := db.QueryRowContext(ctx, `SELECT part, pkey FROM events WHERE id = ?`, r.id).Scan(&part, &pkey); err != nil {
					t.Fatalf("event %d: %v", r.id, err)
				}
				if want := r.id >> events.PartShift; part != want {
					t.Errorf("event %d: part %d, want %d", r.id, part, want)
				}
				if want := events.PkeyOf(svc.PatientHash(r.patient)); pkey != want {
					t.Errorf("event %d: pkey %d, want %d", r.id, pkey, want)
				}
			}
			var parts []string
			prs, err := db.QueryContext(ctx, `SELECT part, min_time, max_time FROM event_parts WHERE org_id = ? ORDER BY part`, org)
			if err != nil {
				t.Fatal(err)
			}
			for prs.Next() {
				var p int64
				var lo, hi store.Time
				if err := prs.Scan(&p, &lo, &hi); err != nil {
					t.Fatal(err)
				}
				parts = append(parts, fmt.Sprintf("%d %s-%s", p, lo.Time.Format("15:04"), hi.Time.Format("15:04")))
			}
			prs.Close()
			if got, want := fmt.Sprint(parts), "[0 09:00-09:01 1 09:02-09:02 2 09:03-09:04]"; got != want {
				t.Errorf("event_parts = %s, want %s", got, want)
			}

			got, err := svc.List(ctx, actor.System(), events.Filter{PatientID: "P1"})
			if err != nil {
				t.Fatal(err)
			}
			var seqs []int64
			for _, e := range got {
				seqs = append(seqs, e.Seq)
			}
			if fmt.Sprint(seqs) != "[5 20000 40001]" {
				t.Errorf("P1's events = %v, want [5 20000 40001]", seqs)
			}

			res, err := svc.Append(ctx, org, []events.Event{
				{ID: "e6", System: "EMR", Time: t0.Add(time.Minute), Account: "doc", Action: "view"},
				{ID: "new", System: "EMR", Time: t0.Add(time.Hour), Account: "doc", Action: "view", PatientID: "P1"},
			})
			if err != nil {
				t.Fatal(err)
			}
			if res.Accepted != 1 || res.Duplicates != 1 {
				t.Errorf("append after the migration = %+v, want 1 accepted, 1 duplicate", res)
			}
			var last int64
			if err := db.QueryRowContext(ctx, `SELECT MAX(id) FROM events`).Scan(&last); err != nil {
				t.Fatal(err)
			}
			if last <= 50000 {
				t.Errorf("the new event's id is %d, want one past the 50000 handed out before", last)
			}
		})
	}
}

// TestListAcrossParts stores events over several parts — in batches, some late (an event
// time older than those stored before it) — and lists them by patient, by account and by
// both, with and without a time range: every matching event, in time order, and nothing
// else, as a scan of all the events finds them.
func TestListAcrossParts(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
		const n = 2*(1<<events.PartShift) + 3000
		var all []events.Event
		for b := 0; b*10000 < n; b++ {
			batch := make([]events.Event, 0, 10000)
			for i := b * 10000; i < min(n, (b+1)*10000); i++ {
				at := t0.Add(time.Duration(i) * time.Second)
				if i%997 == 0 {
					at = t0.Add(time.Duration(i/3) * time.Second) // late
				}
				batch = append(batch, events.Event{ID: fmt.Sprint("e", i), System: "EMR", Time: at,
					Account: fmt.Sprint("u", i%50), Action: events.ActionView, PatientID: fmt.Sprint("P", i%400)})
			}
			if _, err := w.svc.Append(ctx, w.hospA.ID, batch); err != nil {
				t.Fatal(err)
			}
			all = append(all, batch...)
		}
		from, to := t0.Add(5000*time.Second), t0.Add(30000*time.Second)
		for _, f := range []events.Filter{
			{PatientID: "P7"},
			{Account: "u3"},
			{Account: "u7", PatientID: "P7"},
			{PatientID: "P7", From: from, To: to},
			{Account: "u3", From: from, To: to},
			{Account: "u3", From: to},
		} {
			f.Limit = 5000
			got, err := w.svc.List(ctx, actor.System(), f)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, e := range all {
				if (f.PatientID == "" || e.PatientID == f.PatientID) && (f.Account == "" || e.Account == f.Account) &&
					(f.From.IsZero() || !e.Time.Before(f.From)) && (f.To.IsZero() || e.Time.Before(f.To)) {
					want = append(want, e.ID)
				}
			}
			var ids []string
			var prev time.Time
			for _, e := range got {
				ids = append(ids, e.ID)
				if e.Time.Before(prev) {
					t.Errorf("%+v: not in time order at %s", f, e.ID)
				}
				prev = e.Time
			}
			if len(want) == 0 || len(ids) != len(want) || fmt.Sprint(sorted(ids)) != fmt.Sprint(sorted(want)) {
				t.Errorf("%+v: %d events, want %d", f, len(ids), len(want))
			}
		}
	})
}

func sorted(s []string) []string {
	s = append([]string(nil), s...)
	slices.Sort(s)
	return s
}
