package supply_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
	"github.com/medguard/medguard/internal/supply"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// TestCheckGolden compares every output format of an SBOM check with the files in
// testdata/golden (one per case and format); run with -update to rewrite them.
// app-1.0 against the hospital's update gate has findings, a coverage gap and a
// failed gate; app-2.0 without a gate has neither verdict nor the 1.0 findings.
func TestCheckGolden(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, storetest.Open(t, store.SQLite))
	pol, err := w.svc.LicencePolicy(ctx, w.actorA, w.hospA.ID)
	if err != nil {
		t.Fatal(err)
	}
	g, err := w.svc.GateNamed(ctx, w.actorA, w.hospA.ID, "update")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, file string
		gate       *supply.Gate
	}{
		{"app-1.0-update", "app-1.0.cdx.json", &g},
		{"app-2.0", "app-2.0.cdx.json", nil},
	} {
		data, err := os.ReadFile(filepath.Join("testdata", c.file))
		if err != nil {
			t.Fatal(err)
		}
		chk, err := w.svc.Check(ctx, data, pol, c.gate)
		if err != nil {
			t.Fatal(err)
		}
		chk.Report.Elapsed = 0
		for _, format := range supply.CheckFormats {
			t.Run(c.name+"/"+format, func(t *testing.T) {
				var buf bytes.Buffer
				if err := supply.WriteCheck(&buf, chk, format, c.file); err != nil {
					t.Fatal(err)
				}
				file := filepath.Join("testdata", "golden", c.name+"."+format+".txt")
				if *update {
					if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(file)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(string(want), buf.String()); diff != "" {
					t.Errorf("%s output differs from %s (-want +got):\n%s", format, file, diff)
				}
			})
		}
	}
}
