package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
	"github.com/medguard/medguard/internal/trail"
)

// TestTrailPageShowsCheckpointAndVerify: the trail page names the newest signed
// checkpoint, and verifying from the page or the API checks the chain extends the
// checkpoint file — so that cutting the newest entries and moving the head is reported.
func TestTrailPageShowsCheckpointAndVerify(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newTestEnv(t, db)
		b := e.newBrowser()
		b.login("auditor")
		if code, body, _ := b.get("/trail"); code != http.StatusOK || !strings.Contains(body, "No signed checkpoint yet") {
			t.Fatalf("trail page before any checkpoint: %d", code)
		}
		signer, err := trail.LoadOrCreateSigner(filepath.Join(t.TempDir(), "trail-sign.key"))
		if err != nil {
			t.Fatal(err)
		}
		pub := &trail.Publisher{Log: e.Trail, DB: db, Signer: signer, File: e.TrailCheckpoints}
		cp, err := pub.Publish(ctx)
		if err != nil {
			t.Fatal(err)
		}
		_, body, _ := b.get("/trail")
		if want := fmt.Sprintf("Latest signed checkpoint: entry %d,", cp.Seq); !strings.Contains(body, want) ||
			!strings.Contains(body, trail.KeyID(signer.PublicKey())) {
			t.Fatalf("trail page does not show the checkpoint (%q)", want)
		}
		_, body, _ = b.post("/trail/verify", nil)
		if !strings.Contains(body, `id="trail-report"`) || !strings.Contains(body, "Chain intact") ||
			!strings.Contains(body, "extends the 1 signed checkpoints") {
			t.Fatalf("verify from the page: %.2000s", body[strings.Index(body, "<main"):])
		}

		// Cut the two newest entries and move the head onto the new last one: the chain
		// alone still looks whole, the checkpoint does not.
		for _, q := range []string{
			fmt.Sprintf(`DELETE FROM trail WHERE seq > %d`, cp.Seq-2),
			fmt.Sprintf(`UPDATE trail_head SET seq = %d, hash = (SELECT hash FROM trail WHERE seq = %d)`, cp.Seq-2, cp.Seq-2),
		} {
			if _, err := db.ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		_, body, _ = b.post("/trail/verify", nil)
		if !strings.Contains(body, fmt.Sprintf("Chain broken at entry %d", cp.Seq-1)) {
			t.Errorf("cut trail verified from the page")
		}
		code, raw := e.api("POST", "/api/v1/trail/verify", "auditor", nil)
		var rep trail.Report
		if err := json.Unmarshal(raw, &rep); code != http.StatusOK || err != nil || rep.OK || rep.BadSeq != cp.Seq-1 {
			t.Errorf("API verify of the cut trail: %d %s", code, raw)
		}
	})
}
