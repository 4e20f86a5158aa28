package delivery_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/delivery"
	"github.com/medguard/medguard/internal/problem"
)

// FuzzParseManifest feeds arbitrary bytes to ParseManifest, seeded with every manifest
// under testdata and every case of testdata/parse_cases.txt. It checks that parsing never
// panics and refuses only with a KindInvalid problem; that an accepted manifest has a
// deterministic canonical form which survives Marshal and ParseManifest unchanged, with
// Marshal a fixed point; and that verifying it (with no files received) does not panic.
//
// The message of a refusal never quotes the manifest: seeds in testdata/fuzz carry
// echoMarker in keys and values.
func FuzzParseManifest(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("testdata", "parse", "*.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, path := range append(seeds, sampleManifest) {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, c := range parseCases(f) {
		f.Add(c.input)
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := delivery.ParseManifest(data)
		if err != nil {
			pe, ok := problem.As(err)
			if !ok || pe.Kind != problem.KindInvalid {
				t.Fatalf("ParseManifest failed with %v, not a KindInvalid problem", err)
			}
			if bytes.Contains(data, []byte(echoMarker)) && strings.Contains(pe.Message, echoMarker) {
				t.Fatalf("the message quotes the manifest: %q", pe.Message)
			}
			return
		}
		canon := m.Canonical()
		if !bytes.Equal(canon, m.Canonical()) {
			t.Fatal("Canonical() is not deterministic")
		}
		out, err := m.Marshal()
		if err != nil {
			t.Fatalf("Marshal of a parsed manifest: %v", err)
		}
		back, err := delivery.ParseManifest(out)
		if err != nil {
			t.Fatalf("ParseManifest(Marshal()): %v\n%s", err, out)
		}
		if !bytes.Equal(canon, back.Canonical()) {
			t.Fatalf("canonical form changed through Marshal/ParseManifest:\n%s\n---\n%s", canon, back.Canonical())
		}
		again, err := back.Marshal()
		if err != nil || !bytes.Equal(out, again) {
			t.Fatalf("Marshal is not a fixed point (%v):\n%s\n---\n%s", err, out, again)
		}
		rep, err := delivery.Verify(ctx, m, nil, delivery.Trust{}, delivery.VerifyOptions{})
		if err != nil {
			t.Fatalf("Verify of a parsed manifest: %v", err)
		}
		if rep.OK || len(rep.Artifacts) != len(m.Artifacts) {
			t.Fatalf("nothing received, yet OK=%v with %d of %d artifacts", rep.OK, len(rep.Artifacts), len(m.Artifacts))
		}
	})
}

// echoMarker stands for a patient identifier a client may put anywhere in a manifest.
const echoMarker = "440305198807150031"
