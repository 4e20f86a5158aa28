package events_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/events"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// TestSince: events come back in storage order (not time order), bounded by sequence
// numbers, organisation, time and an explicit list, with patient ids opened and no raw.
func TestSince(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		base := time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)
		var evs []events.Event
		for i := range 6 {
			// Stored in reverse time order.
			evs = append(evs, events.Event{ID: fmt.Sprint(i), Time: base.Add(time.Duration(6-i) * time.Minute), System: "HIS",
				Account: "doc", Action: events.ActionView, PatientID: fmt.Sprint("P", i), Raw: "raw"})
		}
		if _, err := w.svc.Append(ctx, w.hospA.ID, evs[:4]); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.Append(ctx, w.hospB.ID, evs[4:]); err != nil {
			t.Fatal(err)
		}
		ids := func(f events.SeqFilter) string {
			got, err := w.svc.Since(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			s := ""
			for _, e := range got {
				if e.PatientID != "P"+e.ID || e.Raw != "" {
					t.Errorf("event %s: patient %q, raw %q", e.ID, e.PatientID, e.Raw)
				}
				s += e.ID
			}
			return s
		}
		all, err := w.svc.Since(ctx, events.SeqFilter{})
		if err != nil || len(all) != 6 {
			t.Fatalf("Since: %d events, %v", len(all), err)
		}
		last, err := w.svc.LastSeq(ctx)
		if err != nil || last != all[5].Seq {
			t.Errorf("LastSeq %d, %v; want %d", last, err, all[5].Seq)
		}
		for _, c := range []struct {
			f    events.SeqFilter
			want string
		}{
			{events.SeqFilter{}, "012345"},
			{events.SeqFilter{AfterSeq: all[1].Seq, UpToSeq: all[4].Seq}, "234"},
			{events.SeqFilter{OrgID: w.hospB.ID}, "45"},
			{events.SeqFilter{From: base.Add(3 * time.Minute), To: base.Add(5 * time.Minute)}, "23"},
			{events.SeqFilter{Seqs: []int64{all[5].Seq, all[0].Seq}}, "05"},
			{events.SeqFilter{Limit: 2}, "01"},
		} {
			if got := ids(c.f); got != c.want {
				t.Errorf("Since(%+v) = %s; want %s", c.f, got, c.want)
			}
		}
	})
}
