package detect

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/explain"
	"github.com/medguard/medguard/internal/reference"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// fixtureExplainer is the real explainer over the reference data of
// testdata/reference (staff, patients, encounters) imported for organisation 1, the
// organisation of the fixtures' events.
func fixtureExplainer(t *testing.T) Explainer {
	t.Helper()
	ctx := context.Background()
	db := storetest.Open(t, store.SQLite)
	w := newWorld(t, db)
	if w.hosp.ID != 1 {
		t.Fatalf("the fixtures' organisation is 1, the new hospital %d", w.hosp.ID)
	}
	ref, err := reference.New(db, w.tl, reference.Options{Key: make([]byte, reference.KeySize)})
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range reference.Kinds {
		b, err := os.ReadFile(filepath.Join("testdata", "reference", kind+".csv"))
		if err != nil {
			t.Fatal(err)
		}
		rep, err := ref.Import(ctx, actor.System(), 1, kind, bytes.NewReader(b))
		if err != nil || rep.ErrorCount != 0 {
			t.Fatalf("import %s: %v %+v", kind, err, rep.Errors)
		}
	}
	return explain.New(ref, explain.Options{})
}
