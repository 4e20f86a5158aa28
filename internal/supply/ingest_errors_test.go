package supply_test

import (
	"context"
	"testing"

	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
	"github.com/medguard/medguard/internal/supply"
)

// TestSBOMDocumentDatabaseErrorIsNotNotFound: a version without an SBOM is "not
// found", but a database error while reading the document is an internal error, not a
// 404 that would hide it.
func TestSBOMDocumentDatabaseErrorIsNotNotFound(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		bare, err := w.svc.CreateVersion(ctx, w.actorA, w.product.ID, supply.VersionInput{Version: "0.9"})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := w.svc.SBOMDocument(ctx, w.actorA, bare.ID); problem.KindOf(err) != problem.KindNotFound {
			t.Fatalf("version without SBOM: err = %v (kind %v), want not found", err, problem.KindOf(err))
		}
		ver, _ := w.version(t, "1.0", "app-1.0.cdx.json")
		if _, _, err := w.svc.SBOMDocument(ctx, w.actorA, ver.ID); err != nil {
			t.Fatalf("SBOMDocument: %v", err)
		}
		// Break the query that reads the document (the version lookup before it does not
		// read that column): the error must come through as it is.
		if _, err := db.ExecContext(ctx, `ALTER TABLE sboms RENAME COLUMN document TO document_gone`); err != nil {
			t.Fatal(err)
		}
		_, _, err = w.svc.SBOMDocument(ctx, w.actorA, ver.ID)
		if err == nil {
			t.Fatal("SBOMDocument with a broken table: no error")
		}
		if k := problem.KindOf(err); k != problem.KindInternal {
			t.Errorf("database error: kind %v (%v), want internal", k, err)
		}
	})
}
