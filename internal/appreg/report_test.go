package appreg_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medguard/medguard/internal/appreg"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// TestReport: two apps of hospital A and one of hospital B over three months — A's
// first app loses 40 points in April to a foreign signer and is evicted; the report of
// hospital A counts its apps by status and grade, averages the latest scores at each
// month's end, counts the findings by type and lists the eviction with its reason;
// hospital B's app is in none of it.
func TestReport(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		w.now = time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
		one, err := w.reg.Apply(ctx, w.secA, input(w.hospA.ID))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.reg.Review(ctx, w.secA, one.ID, appreg.Decision{Approve: true}); err != nil {
			t.Fatal(err)
		}
		in2 := input(w.hospA.ID)
		in2.Package, in2.Contacts = "cn.example.second", in2.Contacts[:2] // no management contact: 4 points
		two, err := w.reg.Apply(ctx, w.secA, in2)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.reg.Review(ctx, w.secA, two.ID, appreg.Decision{Approve: true}); err != nil {
			t.Fatal(err)
		}
		b, err := w.reg.Apply(ctx, w.secB, input(w.hospB.ID))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.reg.Review(ctx, w.secB, b.ID, appreg.Decision{Approve: true}); err != nil {
			t.Fatal(err)
		}
		w.now = time.Date(2026, 4, 15, 9, 0, 0, 0, time.UTC)
		if _, err := w.reg.Observe(ctx, w.secA, one.ID, appreg.Observation{Channel: "appgallery", Version: "3.2.0",
			Signer: foreignSigner}); err != nil {
			t.Fatal(err)
		}
		evicted := time.Now()
		if _, err := w.reg.Evict(ctx, w.secA, one.ID, "仿冒包未下架"); err != nil {
			t.Fatal(err)
		}

		rep, err := w.reg.Report(ctx, w.secA, time.Date(2026, 2, 20, 0, 0, 0, 0, time.UTC), evicted.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]appreg.StatusGrade{{Status: "admitted", Grade: "A", N: 1}, {Status: "evicted", Grade: "C", N: 1}},
			rep.ByStatus); diff != "" || rep.Apps != 2 {
			t.Errorf("by status and grade (-want +got), %d apps:\n%s", rep.Apps, diff)
		}
		// February: nothing evaluated; March: 100 and 96; April on: 60 and 96.
		months := map[string]appreg.MonthScore{}
		for _, m := range rep.Months {
			months[m.Month] = m
		}
		if m := months["2026-02"]; m.Apps != 0 || m.Average != 0 {
			t.Errorf("February: %+v", m)
		}
		if m := months["2026-03"]; m.Apps != 2 || m.Average != 98 {
			t.Errorf("March: %+v, want 2 apps averaging 98", m)
		}
		if m := months["2026-04"]; m.Apps != 2 || m.Average != 78 {
			t.Errorf("April: %+v, want 2 apps averaging 78", m)
		}
		if rep.Months[0].Month != "2026-02" || len(rep.Months) < 3 {
			t.Errorf("months: %+v", rep.Months)
		}
		found := map[string]appreg.TypeCount{}
		for _, c := range rep.Findings {
			found[c.Type] = c
		}
		if c := found[appreg.FindingForeignSigner]; c.Open != 1 || c.Opened != 1 || c.Fixed != 0 {
			t.Errorf("foreign signer findings: %+v", c)
		}
		if c := found[appreg.FindingContactMissing]; c.Open != 1 || c.Opened != 1 {
			t.Errorf("missing contact findings: %+v (hospital B's app has all its contacts)", c)
		}
		if len(rep.Evictions) != 1 || rep.Evictions[0].AppID != one.ID || rep.Evictions[0].Reason != "仿冒包未下架" ||
			rep.Evictions[0].Hospital != "甲医院" || rep.Evictions[0].By != "sec-a" {
			t.Errorf("evictions: %+v", rep.Evictions)
		}

		// The incidents: the critical finding, the eviction proposed, the eviction; the
		// medium finding (a contact missing) is not one, nor are the escalated copies.
		if diff := cmp.Diff([]appreg.IncidentCount{{Kind: appreg.FindingForeignSigner, Severity: "critical", N: 1},
			{Kind: "app.evicted", Severity: "high", N: 1}, {Kind: "app.eviction_proposed", Severity: "high", N: 1}}, rep.Incidents); diff != "" {
			t.Errorf("incidents (-want +got):\n%s", diff)
		}

		// Hospital B sees only its own app; a period before the eviction lists none.
		rep, err = w.reg.Report(ctx, w.secB, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), evicted.Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if rep.Apps != 1 || len(rep.Evictions) != 0 || len(rep.Findings) != 0 || len(rep.Incidents) != 0 {
			t.Errorf("hospital B's report: %+v", rep)
		}

		// A period that ends before it begins, or is too long, is refused.
		for _, p := range [][2]time.Time{{w.now, w.now}, {w.now, w.now.Add(-time.Hour)}, {w.now.AddDate(-11, 0, 0), w.now}} {
			if _, err := w.reg.Report(ctx, w.secA, p[0], p[1]); problem.KindOf(err) != problem.KindInvalid {
				t.Errorf("period %v – %v: %v, want invalid", p[0], p[1], err)
			}
		}
	})
}
