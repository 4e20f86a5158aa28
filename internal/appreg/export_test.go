package appreg_test

import (
	"context"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/appreg"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// TestExport: every app with its open findings, codes and last evaluation, and the
// incidents since a time — an eviction and a critical finding — each under a key that
// stays the same however often it is exported.
func TestExport(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		since := w.now.Add(-time.Hour)
		admit := func(pkg string) appreg.App {
			in := input(w.hospA.ID)
			in.Package = pkg
			ap, err := w.reg.Apply(ctx, w.secA, in)
			if err != nil {
				t.Fatal(err)
			}
			if ap, err = w.reg.Review(ctx, w.secA, ap.ID, appreg.Decision{Approve: true}); err != nil {
				t.Fatal(err)
			}
			return ap
		}
		kept, gone := admit("cn.example.kept"), admit("cn.example.gone")
		if _, err := w.reg.Observe(ctx, w.secA, kept.ID, appreg.Observation{Channel: "appgallery", Version: "3.2.0", Signer: foreignSigner}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.reg.Evict(ctx, w.secA, gone.ID, "counterfeit builds"); err != nil {
			t.Fatal(err)
		}
		apps, incidents, err := w.reg.Export(ctx, since)
		if err != nil {
			t.Fatal(err)
		}
		if len(apps) != 2 {
			t.Fatalf("exported %d apps", len(apps))
		}
		for _, e := range apps {
			if e.EvaluatedAt == nil || len(e.Codes) == 0 {
				t.Errorf("app %s: evaluated %v, %d codes", e.App.Package, e.EvaluatedAt, len(e.Codes))
			}
			if e.App.ID == kept.ID && !hasFinding(e.Findings, appreg.FindingForeignSigner) {
				t.Errorf("the kept app's open findings %+v lack the foreign signer", e.Findings)
			}
			if e.App.ID == gone.ID && (e.App.Status != appreg.StatusEvicted || e.Codes[0].RevokedAt == nil) {
				t.Errorf("the evicted app: %s, codes %+v", e.App.Status, e.Codes)
			}
		}
		kinds := map[string]appreg.Incident{}
		for _, in := range incidents {
			kinds[in.Kind] = in
		}
		if ev := kinds[appreg.IncidentEvicted]; ev.AppID != gone.ID || ev.Detail != "counterfeit builds" || !strings.HasPrefix(ev.Key, "alert:") {
			t.Errorf("eviction incident %+v", ev)
		}
		if cf := kinds[appreg.IncidentCriticalFinding]; cf.AppID != kept.ID || !strings.HasPrefix(cf.Key, "finding:") || cf.Severity != "critical" {
			t.Errorf("critical finding incident %+v", cf)
		}
		// Observing again re-evaluates and raises the proposal again: same keys.
		if _, err := w.reg.Observe(ctx, w.secA, kept.ID, appreg.Observation{Channel: "appgallery", Version: "3.2.0", Signer: foreignSigner}); err != nil {
			t.Fatal(err)
		}
		_, again, err := w.reg.Export(ctx, since)
		if err != nil {
			t.Fatal(err)
		}
		keys := func(ins []appreg.Incident) map[string]bool {
			m := map[string]bool{}
			for _, in := range ins {
				m[in.Key] = true
			}
			return m
		}
		if a, b := keys(incidents), keys(again); !maps.Equal(a, b) {
			t.Errorf("incident keys changed: %v → %v", a, b)
		}
		if _, ok := kinds[appreg.IncidentEvictionPropose]; !ok {
			t.Errorf("no eviction proposal among %+v", incidents)
		}
		if _, later, err := w.reg.Export(ctx, time.Now().Add(time.Hour)); err != nil || len(later) != 0 {
			t.Errorf("incidents after now: %+v %v", later, err)
		}
	})
}

func hasFinding(fs []appreg.Finding, typ string) bool {
	for _, f := range fs {
		if f.Type == typ {
			return true
		}
	}
	return false
}
