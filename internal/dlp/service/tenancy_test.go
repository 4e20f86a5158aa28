package dlpsvc

import (
	"context"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// TestNoOrganisationSeesNoScans lists scans and the summary as an actor whose
// organisation path is empty: it sees nothing. The old scope pattern of an empty path was
// "%", which matched every organisation, so this actor saw both hospitals' scans.
func TestNoOrganisationSeesNoScans(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		res, err := e.svc.ScanText(ctx, e.privacyA, e.hospA.ID, "ward note", clinicalNote)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.ScanText(ctx, e.officerB, e.hospB.ID, "memo", plainNote); err != nil {
			t.Fatal(err)
		}
		nobody := actor.Actor{Username: "dave", Role: "privacy_officer", OrgID: e.hospA.ID}

		if p, err := e.svc.Scans(ctx, e.privacyA, ScanQuery{}); err != nil || p.Total != 1 {
			t.Fatalf("hospital A's officer lists %d scans (%v), want 1", p.Total, err)
		}
		p, err := e.svc.Scans(ctx, nobody, ScanQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if p.Total != 0 || len(p.Items) != 0 {
			t.Errorf("Scans: total %d, %d items, want none", p.Total, len(p.Items))
		}
		sum, err := e.svc.Summary(ctx, nobody, time.Now().Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if sum.Scans != 0 {
			t.Errorf("Summary counts %d scans, want none", sum.Scans)
		}
		_, err = e.svc.Scan(ctx, nobody, res.Scan.ID)
		wantProblem(t, err, problem.KindNotFound, "")
		_, err = e.svc.Finding(ctx, nobody, res.Findings[0].ID)
		wantProblem(t, err, problem.KindNotFound, "")
	})
}
