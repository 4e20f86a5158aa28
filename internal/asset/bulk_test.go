package asset_test

import (
	"context"
	"math/rand"
	"reflect"
	"testing"

	"github.com/medguard/medguard/internal/asset"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

func demoOrgs(w *world) []asset.DemoOrg {
	return []asset.DemoOrg{
		{ID: w.hospA.ID, Code: "HA", Name: w.hospA.Name, Kind: "hospital"},
		{ID: w.deptA1.ID, Code: "HA-IT", Name: w.deptA1.Name, Kind: "department"},
		{ID: w.deptA2.ID, Code: "HA-RAD", Name: w.deptA2.Name, Kind: "department"},
		{ID: w.hospB.ID, Code: "HB", Name: w.hospB.Name, Kind: "hospital"},
		{ID: w.prov.ID, Code: "PROV", Name: w.prov.Name, Kind: "province"},
	}
}

func TestGenerateDeterministicAndValid(t *testing.T) {
	orgs := []asset.DemoOrg{{ID: 1, Kind: "hospital", Name: "H"}, {ID: 2, Kind: "department", Name: "D"}, {ID: 3, Kind: "province"}}
	a := asset.Generate(rand.New(rand.NewSource(7)), orgs, 2000)
	b := asset.Generate(rand.New(rand.NewSource(7)), orgs, 2000)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("Generate is not deterministic for a seed")
	}
	c := asset.Generate(rand.New(rand.NewSource(8)), orgs, 2000)
	if reflect.DeepEqual(a, c) {
		t.Fatal("different seeds gave the same assets")
	}
	codes := map[string]bool{}
	kinds := map[string]int{}
	for i, in := range a {
		if in.OrgID == 3 {
			t.Fatalf("asset %d placed in a province", i)
		}
		if codes[in.Code] {
			t.Fatalf("duplicate code %s", in.Code)
		}
		codes[in.Code] = true
		kinds[in.Kind]++
		if in.Kind == asset.KindMedicalDevice && in.Zone != asset.ZoneMedical {
			t.Errorf("medical device %s in zone %s", in.Code, in.Zone)
		}
		v := in
		if err := v.Validate(); err != nil {
			t.Fatalf("generated asset %d invalid: %v (%+v)", i, err, in)
		}
	}
	for _, k := range asset.Kinds {
		if kinds[k] == 0 {
			t.Errorf("no asset of kind %s in 2000", k)
		}
	}
}

func TestBulkCreate(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		in := asset.Generate(rand.New(rand.NewSource(1)), demoOrgs(w), 1200)
		n, err := w.svc.BulkCreate(ctx, w.prov1, in)
		if err != nil || n != 1200 {
			t.Fatalf("BulkCreate = %d, %v", n, err)
		}
		if got := countAssets(t, db); got != 1200 {
			t.Fatalf("assets = %d", got)
		}
		if got := countTrail(t, db, "asset.create"); got != 1200 {
			t.Fatalf("trail asset.create = %d", got)
		}
		verifyTrail(t, db)
		// Actor A may not create in hospital B: nothing written.
		more := asset.Generate(rand.New(rand.NewSource(2)), demoOrgs(w)[3:4], 3)
		for i := range more {
			more[i].Code += "-X"
		}
		if n, err := w.svc.BulkCreate(ctx, w.actorA, more); err == nil || n != 0 {
			t.Fatalf("out-of-scope BulkCreate = %d, %v", n, err)
		}
		if got := countAssets(t, db); got != 1200 {
			t.Fatalf("assets after refused bulk = %d", got)
		}
	})
}

// TestBulkCreateAllOrNothing checks that a code already in use late in the input
// leaves none of the input behind, not the batches before it.
func TestBulkCreateAllOrNothing(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		in := asset.Generate(rand.New(rand.NewSource(3)), demoOrgs(w)[:3], 2*asset.BatchSize+10)
		last := in[len(in)-1]
		mustCreate(t, w, w.prov1, last)
		before := countTrail(t, db, "asset.create")
		n, err := w.svc.BulkCreate(ctx, w.prov1, in)
		wantProblem(t, err, problem.KindConflict, "duplicate_code")
		if n != 0 {
			t.Fatalf("BulkCreate = %d, want 0", n)
		}
		if got := countAssets(t, db); got != 1 {
			t.Fatalf("assets = %d, want only the one created before", got)
		}
		if got := countTrail(t, db, "asset.create"); got != before {
			t.Fatalf("trail asset.create = %d, want %d", got, before)
		}
		verifyTrail(t, db)
	})
}
