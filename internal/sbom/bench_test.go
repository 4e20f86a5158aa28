package sbom_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/medguard/medguard/internal/sbom"
)

// generatedBOM builds a CycloneDX 1.5 JSON document with n components, each with a purl,
// two hashes, a licence and a supplier, and a dependency graph.
func generatedBOM(tb testing.TB, n int) []byte {
	tb.Helper()
	licences := []string{"MIT", "Apache-2.0", "BSD-3-Clause", "ISC", "MPL-2.0"}
	comps := make([]map[string]any, n)
	deps := make([]map[string]any, 0, n+1)
	rootDeps := []string{}
	for i := range comps {
		ref := fmt.Sprintf("pkg:npm/%%40scope/package-%d@1.%d.%d", i, i%7, i%13)
		comps[i] = map[string]any{
			"bom-ref": ref, "type": "library", "group": "@scope",
			"name": fmt.Sprintf("package-%d", i), "version": fmt.Sprintf("1.%d.%d", i%7, i%13),
			"purl":     ref,
			"supplier": map[string]any{"name": fmt.Sprintf("Vendor %d", i%50)},
			"hashes": []map[string]any{
				{"alg": "SHA-256", "content": fmt.Sprintf("%064x", i*7919)},
				{"alg": "SHA-512", "content": fmt.Sprintf("%0128x", i*104729)},
			},
			"licenses": []map[string]any{{"license": map[string]any{"id": licences[i%len(licences)]}}},
		}
		if i < 50 {
			rootDeps = append(rootDeps, ref)
		}
		var on []string
		for j := 1; j <= 3 && i+j*37 < n; j++ {
			on = append(on, fmt.Sprintf("pkg:npm/%%40scope/package-%d@1.%d.%d", i+j*37, (i+j*37)%7, (i+j*37)%13))
		}
		deps = append(deps, map[string]any{"ref": ref, "dependsOn": on})
	}
	deps = append(deps, map[string]any{"ref": "root", "dependsOn": rootDeps})
	doc := map[string]any{
		"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
		"serialNumber": "urn:uuid:00000000-0000-4000-8000-000000000000",
		"metadata": map[string]any{
			"timestamp": "2024-01-01T00:00:00Z",
			"component": map[string]any{"bom-ref": "root", "type": "application", "name": "his", "version": "9.1"},
		},
		"components":   comps,
		"dependencies": deps,
	}
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// BenchmarkParse parses a generated 3,000-component CycloneDX JSON document.
func BenchmarkParse(b *testing.B) {
	data := generatedBOM(b, 3000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		doc, err := sbom.Parse(data)
		if err != nil {
			b.Fatal(err)
		}
		if len(doc.Components) != 3000 || len(doc.Warnings) != 0 {
			b.Fatalf("%d components, warnings %v", len(doc.Components), doc.Warnings)
		}
	}
}

func TestGeneratedBOM(t *testing.T) {
	t.Parallel()
	doc, err := sbom.Parse(generatedBOM(t, 300))
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Components) != 300 || len(doc.Warnings) != 0 || len(doc.Dependencies) != 301 {
		t.Fatalf("%d components, %d dependencies, warnings %v", len(doc.Components), len(doc.Dependencies), doc.Warnings)
	}
	checkInvariants(t, doc)
}
