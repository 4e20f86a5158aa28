package detect

import (
	"context"
	"testing"

	"github.com/medguard/medguard/internal/explain"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// benchExplainer is the real explainer over the simulated hospital's reference data
// (imported into SQLite as organisation 1), its snapshot loaded before the timing.
func benchExplainer(b *testing.B) Explainer {
	sim, evs := benchEvents(b)
	w := newWorld(b, storetest.Open(b, store.SQLite))
	if w.hosp.ID != 1 {
		b.Fatalf("the hospital is %d, the events' organisation 1", w.hosp.ID)
	}
	x := explain.New(w.importReference(b, sim), explain.Options{})
	for i := range evs {
		if explain.IsPatientAccess(&evs[i].Event) {
			if _, err := x.Explain(context.Background(), 1, &evs[i].Event); err != nil {
				b.Fatal(err)
			}
			break
		}
	}
	return x
}
