package asset_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/asset"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// TestNoOrganisationSeesNoAssets lists, counts and exports assets as an actor whose
// organisation path is empty (a user record without a node, a token whose owner lost
// it): it sees nothing. The old scope pattern of an empty path was "%", which matched
// every organisation, so this actor saw both hospitals' assets.
func TestNoOrganisationSeesNoAssets(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := context.Background()
		a1 := mustCreate(t, w, w.actorA, input(w.deptA1.ID, "A-001"))
		mustCreate(t, w, w.actorB, input(w.deptB1.ID, "B-001"))
		nobody := actor.Actor{UserID: 14, Username: "dave", Role: "admin", OrgID: w.hospA.ID, OrgPath: ""}

		p, err := w.svc.List(ctx, nobody, asset.Query{})
		if err != nil {
			t.Fatal(err)
		}
		if p.Total != 0 || len(p.Items) != 0 {
			t.Errorf("List: total %d, %d items, want none", p.Total, len(p.Items))
		}
		st, err := w.svc.Stats(ctx, nobody)
		if err != nil {
			t.Fatal(err)
		}
		if st.Total != 0 || len(st.ByOrg) != 0 {
			t.Errorf("Stats: total %d, by org %v, want none", st.Total, st.ByOrg)
		}
		var buf bytes.Buffer
		if err := w.svc.Export(ctx, nobody, &buf, asset.Query{}, ""); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(buf.String(), "A-001") || strings.Contains(buf.String(), "B-001") {
			t.Errorf("Export carries assets:\n%s", buf.String())
		}
		_, err = w.svc.Get(ctx, nobody, a1.ID)
		wantProblem(t, err, problem.KindNotFound, "")
		_, err = w.svc.List(ctx, nobody, asset.Query{OrgID: w.hospA.ID})
		wantProblem(t, err, problem.KindNotFound, "")

		// The same lists still work for the people who do have a node.
		for _, c := range []struct {
			a    actor.Actor
			want int
		}{{w.actorA, 1}, {w.actorB, 1}, {w.prov1, 2}, {actor.System(), 2}} {
			p, err := w.svc.List(ctx, c.a, asset.Query{})
			if err != nil {
				t.Fatal(err)
			}
			if p.Total != c.want {
				t.Errorf("%s lists %d assets, want %d", c.a.Username, p.Total, c.want)
			}
		}
	})
}
