package org_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
	"github.com/medguard/medguard/internal/trail"
	"github.com/medguard/medguard/internal/trail/trailtest"
)

func TestTreeRulesScopeAndMFA(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		tl := trailtest.New(t, trail.SHA256)
		s := org.NewService(db, tl)
		sys := actor.System()
		mk := func(a actor.Actor, parent int64, kind, name string) (org.Node, error) {
			return s.Create(ctx, a, org.Input{ParentID: parent, Kind: kind, Name: name})
		}
		must := func(n org.Node, err error) org.Node {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		prov := must(mk(sys, 0, org.KindProvince, "Province"))
		city := must(mk(sys, prov.ID, org.KindRegion, "City"))
		ha := must(mk(sys, city.ID, org.KindHospital, "Hospital A"))
		hb := must(mk(sys, city.ID, org.KindHospital, "Hospital B"))
		dept := must(mk(sys, ha.ID, org.KindDepartment, "ICU"))

		// Tree rules.
		bad := []struct {
			name         string
			parent       int64
			kind, wantIn string
		}{
			{"department at top", 0, org.KindDepartment, "kind"},
			{"hospital below department", dept.ID, org.KindHospital, "kind"},
			{"province below hospital", ha.ID, org.KindProvince, "kind"},
			{"unknown kind", ha.ID, "ward", "kind"},
		}
		for _, tc := range bad {
			_, err := mk(sys, tc.parent, tc.kind, "x")
			if pe, ok := problem.As(err); !ok || pe.Kind != problem.KindInvalid || pe.Field != tc.wantIn {
				t.Errorf("%s: %v, want invalid %s", tc.name, err, tc.wantIn)
			}
		}
		if _, err := s.Create(ctx, sys, org.Input{ParentID: ha.ID, Kind: org.KindDepartment, Name: "  "}); problem.KindOf(err) != problem.KindInvalid {
			t.Errorf("blank name: %v", err)
		}

		// Scope: hospital A's actor sees A and below, never B, and cannot create roots.
		a := actor.Actor{UserID: 9, Username: "a", Role: "admin", OrgID: ha.ID, OrgPath: ha.Path}
		nodes, err := s.List(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		if len(nodes) != 2 || nodes[0].ID != ha.ID || nodes[1].ID != dept.ID {
			t.Fatalf("A's list: %+v", nodes)
		}
		if _, err := s.Get(ctx, a, hb.ID); problem.KindOf(err) != problem.KindNotFound {
			t.Errorf("A reads B: %v", err)
		}
		// Visible is the check other packages use: own subtree yes, sibling and missing
		// nodes the same not-found problem.
		if n, err := org.Visible(ctx, db, a, dept.ID); err != nil || n.ID != dept.ID || n.Kind != org.KindDepartment || n.Name != "ICU" || n.Path != dept.Path {
			t.Errorf("A sees its department: %+v, %v", n, err)
		}
		for _, id := range []int64{hb.ID, prov.ID, 1 << 40} {
			if n, err := org.Visible(ctx, db, a, id); problem.KindOf(err) != problem.KindNotFound || n != (org.Node{}) {
				t.Errorf("A sees node %d: %+v, %v", id, n, err)
			}
		}
		if _, err := s.Update(ctx, a, hb.ID, org.Input{Name: "mine"}); problem.KindOf(err) != problem.KindNotFound {
			t.Errorf("A renames B: %v", err)
		}
		if _, err := mk(a, hb.ID, org.KindDepartment, "spy"); problem.KindOf(err) != problem.KindNotFound {
			t.Errorf("A creates below B: %v", err)
		}
		if _, err := mk(a, 0, org.KindHospital, "rogue"); problem.KindOf(err) != problem.KindForbidden {
			t.Errorf("A creates a root: %v", err)
		}
		if err := s.Delete(ctx, a, ha.ID); problem.KindOf(err) != problem.KindForbidden {
			t.Errorf("A deletes its own node: %v", err)
		}

		// MFA inherits down the tree.
		if req, _ := s.RequiresMFA(ctx, dept.ID); req {
			t.Fatal("MFA required before the switch")
		}
		if _, err := s.Update(ctx, sys, city.ID, org.Input{Name: "City", MFARequired: true}); err != nil {
			t.Fatal(err)
		}
		for _, n := range []org.Node{city, ha, hb, dept} {
			if req, err := s.RequiresMFA(ctx, n.ID); err != nil || !req {
				t.Errorf("%s: MFA required = %v, %v", n.Name, req, err)
			}
		}
		if req, _ := s.RequiresMFA(ctx, prov.ID); req {
			t.Error("the switch leaked upwards")
		}

		// Delete: a node with children is refused; an empty one goes.
		if err := s.Delete(ctx, sys, ha.ID); problem.KindOf(err) != problem.KindConflict {
			t.Errorf("delete non-empty: %v", err)
		}
		if err := s.Delete(ctx, sys, dept.ID); err != nil {
			t.Errorf("delete empty: %v", err)
		}
		if rep, _ := trailtest.New(t, trail.SHA256).Verify(ctx, db); !rep.OK || rep.Entries < 7 {
			t.Errorf("trail: %+v", rep)
		}
	})
}

func TestListOrdersNumerically(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	ctx := context.Background()
	tl := trailtest.New(t, trail.SHA256)
	s := org.NewService(db, tl)
	root, err := s.Create(ctx, actor.System(), org.Input{Kind: org.KindRegion, Name: "R"})
	if err != nil {
		t.Fatal(err)
	}
	var hospitals []org.Node
	for i := 0; i < 12; i++ {
		h, err := s.Create(ctx, actor.System(), org.Input{ParentID: root.ID, Kind: org.KindHospital, Name: fmt.Sprint("H", i)})
		if err != nil {
			t.Fatal(err)
		}
		hospitals = append(hospitals, h)
	}
	// A department of the second hospital must come right after it, not after H11.
	d, err := s.Create(ctx, actor.System(), org.Input{ParentID: hospitals[1].ID, Kind: org.KindDepartment, Name: "D"})
	if err != nil {
		t.Fatal(err)
	}
	nodes, _ := s.List(ctx, actor.System())
	for i, n := range nodes {
		if n.ID == hospitals[1].ID {
			if i+1 >= len(nodes) || nodes[i+1].ID != d.ID {
				t.Fatalf("department not under its hospital: %+v", nodes)
			}
		}
	}
}

func TestContains(t *testing.T) {
	for _, c := range []struct {
		n, p string
		want bool
	}{
		{"/1/2/", "/1/2/", true},
		{"/1/2/", "/1/2/7/", true},
		{"/1/2/", "/1/3/", false},
		{"/1/2/", "/1/22/", false},
		{"/1/2/7/", "/1/2/", false},
		{"", "/1/", false},
	} {
		if got := org.Contains(c.n, c.p); got != c.want {
			t.Errorf("Contains(%q, %q) = %v, want %v", c.n, c.p, got, c.want)
		}
	}
}

// TestNoOrganisationSeesNoNodes lists the tree as an actor whose organisation path is
// empty: it sees no node. The old scope pattern of an empty path was "%", every node.
func TestNoOrganisationSeesNoNodes(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := org.NewService(db, trailtest.New(t, trail.SHA256))
		prov, err := s.Create(ctx, actor.System(), org.Input{Kind: org.KindProvince, Name: "Province"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Create(ctx, actor.System(), org.Input{ParentID: prov.ID, Kind: org.KindHospital, Name: "Hospital"}); err != nil {
			t.Fatal(err)
		}
		if ns, err := s.List(ctx, actor.System()); err != nil || len(ns) != 2 {
			t.Fatalf("the system lists %d nodes (%v), want 2", len(ns), err)
		}
		ns, err := s.List(ctx, actor.Actor{Username: "dave", Role: "admin", OrgID: prov.ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(ns) != 0 {
			t.Errorf("an actor without an organisation lists %d nodes, want none", len(ns))
		}
	})
}
