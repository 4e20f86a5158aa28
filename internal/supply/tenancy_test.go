package supply_test

import (
	"context"
	"testing"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
	"github.com/medguard/medguard/internal/supply"
)

// TestNoOrganisationSeesNoSupplyRecords lists vendors, products, findings and the risk
// view as an actor whose organisation path is empty: it sees nothing. The old scope
// pattern of an empty path was "%", which matched every organisation.
func TestNoOrganisationSeesNoSupplyRecords(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := context.Background()
		w.version(t, "1.0", "app-1.0.cdx.json")
		nobody := actor.Actor{UserID: 9, Username: "dave", Role: "security_officer", OrgID: w.hospA.ID}

		if ps, err := w.svc.Products(ctx, w.actorA, supply.ProductQuery{}); err != nil || len(ps) != 1 {
			t.Fatalf("hospital A's officer lists %d products (%v), want 1", len(ps), err)
		}
		if fs, err := w.svc.Findings(ctx, w.actorA, supply.FindingQuery{}); err != nil || fs.Total == 0 {
			t.Fatalf("hospital A's officer lists %d findings (%v), want some", fs.Total, err)
		}
		ps, err := w.svc.Products(ctx, nobody, supply.ProductQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) != 0 {
			t.Errorf("Products: %d, want none", len(ps))
		}
		vs, err := w.svc.Vendors(ctx, nobody)
		if err != nil {
			t.Fatal(err)
		}
		if len(vs) != 0 {
			t.Errorf("Vendors: %d, want none", len(vs))
		}
		fs, err := w.svc.Findings(ctx, nobody, supply.FindingQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if fs.Total != 0 || len(fs.Items) != 0 {
			t.Errorf("Findings: total %d, want none", fs.Total)
		}
		rv, err := w.svc.Risk(ctx, nobody)
		if err != nil {
			t.Fatal(err)
		}
		if rv.Vendors != 0 || rv.Products != 0 {
			t.Errorf("Risk: %d vendors, %d products, want none", rv.Vendors, rv.Products)
		}
		_, err = w.svc.Product(ctx, nobody, w.product.ID)
		if pe, ok := problem.As(err); !ok || pe.Kind != problem.KindNotFound {
			t.Errorf("Product: %v, want not found", err)
		}
		_, err = w.svc.Gates(ctx, nobody, w.hospA.ID)
		if pe, ok := problem.As(err); !ok || pe.Kind != problem.KindNotFound {
			t.Errorf("Gates: %v, want not found", err)
		}
	})
}
