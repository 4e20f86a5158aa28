package web

import (
	"context"
	"testing"

	"github.com/medguard/medguard/internal/delivery"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/risk"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
	"github.com/medguard/medguard/internal/supply"
)

// TestRiskFromEverySource: for each module a risk can come from — an alert, a
// supply-chain vulnerability finding, a patient-data scan, an alert case, an
// internet-hospital app, a delivery that failed its check — the record raises a risk in one action through the real
// module's service, the record's back-link finds it, the same record again updates that
// risk instead of adding one, and another hospital's officer can neither raise it nor
// see the back-link.
func TestRiskFromEverySource(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newSupplyEnv(t, db)
		ctx := context.Background()
		a, b := e.Users["secofficer"].Actor(""), e.Users["secofficer_b"].Actor("")
		// A delivery of version 1.0 whose file is not the one its manifest names.
		dl, err := e.Supply.VerifyDelivery(ctx, a, supply.DeliveryInput{VersionID: e.VersionA.ID,
			Manifest: mustManifest(t, "1.0", fileOf("app.bin", []byte("as built"))), Files: []delivery.File{fileOf("app.bin", []byte("tampered"))}})
		if err != nil || dl.OK {
			t.Fatalf("the failed delivery: ok %v, %v", dl.OK, err)
		}
		for _, c := range []struct {
			module   string
			id       int64
			category string
		}{
			{risk.ModuleAlert, e.AlertA.ID, "supply_chain"},
			{risk.ModuleFinding, e.FindingA.ID, "supply_chain"},
			{risk.ModuleDLPScan, e.DLPScanA.ID, "data_leak"},
			{risk.ModuleCase, e.CaseA.ID, "access"},
			{risk.ModuleApp, e.AppA.ID, "app"},
			{risk.ModuleDelivery, dl.ID, "supply_chain"},
		} {
			t.Run(c.module, func(t *testing.T) {
				in := risk.SourceInput{Module: c.module, ID: c.id, Lang: "en"}
				r, created, err := e.Risks.FromSource(ctx, a, in)
				if err != nil || !created {
					t.Fatalf("from %s %d: created %v, %v", c.module, c.id, created, err)
				}
				if r.OrgID != e.HospA.ID || r.Category != c.category || r.Title == "" || len(r.Sources) != 1 ||
					r.Sources[0] != (risk.Source{Module: c.module, ID: c.id}) {
					t.Fatalf("the risk: org %d category %q title %q sources %v", r.OrgID, r.Category, r.Title, r.Sources)
				}
				back, err := e.Risks.RisksOf(ctx, a, c.module, c.id)
				if err != nil || len(back) != 1 || back[0].ID != r.ID {
					t.Fatalf("back-link: %v %v", back, err)
				}
				again, created, err := e.Risks.FromSource(ctx, a, in)
				if err != nil || created || again.ID != r.ID {
					t.Fatalf("again: risk %d created %v %v, want risk %d updated", again.ID, created, err, r.ID)
				}
				if _, _, err := e.Risks.FromSource(ctx, b, in); problem.KindOf(err) != problem.KindNotFound {
					t.Errorf("another hospital raised it: %v", err)
				}
				if back, _ := e.Risks.RisksOf(ctx, b, c.module, c.id); len(back) != 0 {
					t.Errorf("another hospital sees the back-link: %v", back)
				}
			})
		}
	})
}
