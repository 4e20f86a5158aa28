package risk_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/risk"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// raise raises a real supply-chain alert about CVE vuln on asset at hospital org.
func raise(t *testing.T, w *world, org, asset int64, vuln, severity string) alert.Alert {
	t.Helper()
	var al alert.Alert
	err := w.db.InTx(context.Background(), func(tx *store.Tx) error {
		var err error
		al, _, err = w.al.Raise(context.Background(), tx, alert.Input{OrgID: org, Source: "supply", Kind: "new_vulnerability",
			Severity: severity, Title: i18n.M("supply.alert.new_vulnerability", vuln, 1, 1), Subject: vuln, AssetID: asset})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return al
}

// TestAlertRiskRoundTrip: a real alert → a risk in one action, linked both ways; the
// same alert raised again at a higher severity updates that risk rather than adding
// one; another hospital can neither raise a risk from the alert nor see the back-link.
func TestAlertRiskRoundTrip(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db, risk.Options{})
		w.reg = mustNew(t, w, risk.Options{Sources: risk.SourceMux{risk.ModuleAlert: risk.AlertSource{Alerts: w.al}}})
		al := raise(t, w, w.hospA.ID, w.assetA, "CVE-2026-1234", alert.SeverityMedium)

		r, created, err := w.reg.FromSource(ctx, w.secA, risk.SourceInput{Module: risk.ModuleAlert, ID: al.ID, Owner: "sec-a", Lang: "en"})
		if err != nil || !created {
			t.Fatalf("from alert: %v created %v", err, created)
		}
		got := []any{r.OrgID, r.Title, r.Category, r.Vulnerability, r.AssetIDs, r.Likelihood, r.Impact, r.Level, r.Sources}
		want := []any{w.hospA.ID, al.Title, "supply_chain", "CVE-2026-1234", []int64{w.assetA}, 3, 3, "medium",
			[]risk.Source{{Module: "alert", ID: al.ID}}}
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("risk from the alert (-want +got):\n%s", d)
		}
		back, err := w.reg.RisksOf(ctx, w.secA, risk.ModuleAlert, al.ID)
		if err != nil || len(back) != 1 || back[0].ID != r.ID {
			t.Fatalf("back-link: %+v %v", back, err)
		}

		// The alert hits again, now critical: the same risk rises, no second one.
		if again := raise(t, w, w.hospA.ID, w.assetA, "CVE-2026-1234", alert.SeverityCritical); again.ID != al.ID {
			t.Fatalf("the raise made a new alert %d", again.ID)
		}
		r2, created, err := w.reg.FromSource(ctx, w.secA, risk.SourceInput{Module: risk.ModuleAlert, ID: al.ID})
		if err != nil || created || r2.ID != r.ID {
			t.Fatalf("again: %d created %v %v", r2.ID, created, err)
		}
		if r2.Likelihood != 4 || r2.Impact != 5 || r2.Level != "critical" || r2.InherentLevel != "critical" {
			t.Fatalf("updated rating %d×%d %s (inherent %s)", r2.Likelihood, r2.Impact, r2.Level, r2.InherentLevel)
		}
		if h := r2.History[len(r2.History)-2]; h.Action != "risk.from_source" || h.Changes["level"].To != "critical" {
			t.Fatalf("history %+v", h)
		}
		if _, n, _ := w.reg.Risks(ctx, w.secA, risk.Query{}); n != 1 {
			t.Fatalf("%d risks, want 1", n)
		}
		// Lowered by treatment, updating from the still-critical alert raises it back to
		// what the source suggests (an explicit action of a person).
		in := risk.Input{OrgID: r2.OrgID, Title: r2.Title, Category: r2.Category, AssetIDs: r2.AssetIDs, InherentLikelihood: 4,
			InherentImpact: 5, Likelihood: 2, Impact: 2, Owner: r2.Owner, Treatment: risk.TreatMitigate}
		if _, err := w.reg.Update(ctx, w.secA, r.ID, in); err != nil {
			t.Fatal(err)
		}
		r3, _, err := w.reg.FromSource(ctx, w.secA, risk.SourceInput{Module: risk.ModuleAlert, ID: al.ID})
		if err != nil || r3.Level != "critical" {
			t.Fatalf("after treatment the source still suggests critical: %s %v", r3.Level, err)
		}

		// Another hospital: the alert is not found, the back-link empty.
		if _, _, err := w.reg.FromSource(ctx, w.secB, risk.SourceInput{Module: risk.ModuleAlert, ID: al.ID}); problem.KindOf(err) != problem.KindNotFound {
			t.Fatalf("B from A's alert: %v", err)
		}
		if back, err := w.reg.RisksOf(ctx, w.secB, risk.ModuleAlert, al.ID); err != nil || len(back) != 0 {
			t.Fatalf("B's back-link: %v %v", back, err)
		}
		// A module without a reader, and an unknown module.
		if _, _, err := w.reg.FromSource(ctx, w.secA, risk.SourceInput{Module: risk.ModuleApp, ID: 1}); problem.KindOf(err) != problem.KindInvalid {
			t.Fatalf("app without a reader: %v", err)
		}
		if _, _, err := w.reg.FromSource(ctx, w.secA, risk.SourceInput{Module: "weather", ID: 1}); problem.KindOf(err) != problem.KindInvalid {
			t.Fatalf("unknown module: %v", err)
		}

		// Closed, the risk stays linked; the alert raises a new risk next time.
		if _, err := w.reg.SetStatus(ctx, w.secA, r.ID, risk.StatusClosed, "已修复"); err != nil {
			t.Fatal(err)
		}
		r4, created, err := w.reg.FromSource(ctx, w.secA, risk.SourceInput{Module: risk.ModuleAlert, ID: al.ID})
		if err != nil || !created || r4.ID == r.ID {
			t.Fatalf("after closing: %d created %v %v", r4.ID, created, err)
		}
		if back, _ := w.reg.RisksOf(ctx, w.secA, risk.ModuleAlert, al.ID); len(back) != 2 || back[0].ID != r4.ID {
			t.Fatalf("back-links %v", back)
		}
		// Asked in Chinese (the default), the title is the alert's, in Chinese.
		if !strings.Contains(r4.Title, "影响 1 个产品版本") || !strings.Contains(r4.Description, "软件供应链告警") {
			t.Errorf("the risk in Chinese: %q / %q", r4.Title, r4.Description)
		}

		// A second alert linked by hand; B's alert cannot be.
		al2 := raise(t, w, w.hospA.ID, 0, "CVE-2026-9999", alert.SeverityHigh)
		if r4, err = w.reg.LinkSource(ctx, w.secA, r4.ID, risk.Source{Module: "alert", ID: al2.ID}); err != nil || len(r4.Sources) != 2 {
			t.Fatalf("link: %+v %v", r4.Sources, err)
		}
		alB := raise(t, w, w.hospB.ID, 0, "CVE-2026-9999", alert.SeverityHigh)
		if _, err := w.reg.LinkSource(ctx, w.secA, r4.ID, risk.Source{Module: "alert", ID: alB.ID}); problem.KindOf(err) != problem.KindNotFound {
			t.Fatalf("link B's alert: %v", err)
		}
	})
}

// TestRiskJSON: the CLI contract of `medguard risk list --format json`.
func TestRiskJSON(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db, risk.Options{})
		w.reg = mustNew(t, w, risk.Options{Sources: risk.SourceMux{risk.ModuleAlert: risk.AlertSource{Alerts: w.al}}})
		al := raise(t, w, w.hospA.ID, w.assetA, "CVE-2026-1234", alert.SeverityHigh)
		if _, _, err := w.reg.FromSource(ctx, w.secA, risk.SourceInput{Module: risk.ModuleAlert, ID: al.ID, Lang: "en"}); err != nil {
			t.Fatal(err)
		}
		list, _, err := w.reg.Risks(ctx, w.secA, risk.Query{})
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(list)
		if err != nil {
			t.Fatal(err)
		}
		var got []map[string]any
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 {
			t.Fatalf("%s", b)
		}
		want := map[string]any{"title": al.Title, "level": "high", "likelihood": float64(4), "impact": float64(4), "status": "open",
			"sources": []any{map[string]any{"module": "alert", "id": float64(al.ID)}}}
		for k, v := range want {
			if d := cmp.Diff(v, got[0][k]); d != "" {
				t.Errorf("%s (-want +got):\n%s", k, d)
			}
		}
		if _, ok := got[0]["id"].(float64); !ok {
			t.Errorf("no id: %s", b)
		}
		for _, k := range []string{"tasks", "history", "acceptances"} {
			if _, ok := got[0][k]; ok {
				t.Errorf("a list carries %s", k)
			}
		}
	})
}

func mustNew(t *testing.T, w *world, opt risk.Options) *risk.Service {
	t.Helper()
	opt.Now = func() time.Time { return w.now }
	s, err := risk.New(w.db, w.tl, w.al, opt)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
