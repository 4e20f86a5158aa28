package vuln_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
	"github.com/medguard/medguard/internal/vuln"
)

// sharedOSV is the OSV data kept next to the repository (../shared/data/osv, see its
// SOURCES.md); tests and benchmarks that need it skip when it is absent.
const sharedOSV = "../../../shared/data/osv"

func needShared(t testing.TB) string {
	t.Helper()
	if _, err := os.Stat(filepath.Join(sharedOSV, "Go", "all.zip")); err != nil {
		t.Skipf("shared OSV data not found at %s (it lives outside the repository): %v", sharedOSV, err)
	}
	return sharedOSV
}

// TestImportShared imports the whole shared OSV data set (Go, PyPI and crates.io
// exports, osv.dev's edge cases, the YAML sample) and checks the counts.
func TestImportShared(t *testing.T) {
	dir := needShared(t)
	if testing.Short() {
		t.Skip("imports ~8,000 records")
	}
	ctx := context.Background()
	db := storetest.Open(t, store.SQLite)
	v := vuln.Open(db)
	res, err := v.Import(ctx, dir, vuln.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// 4,291 Go + 2,661 PyPI + 1,206 crates.io + 26 edge cases; the 228 YAML records
	// repeat PyPI records with the same modified time.
	if res.Added != 8184 || res.Records != 8412 || res.Duplicates != 228 || len(res.Skipped) != 0 || res.Withdrawn != 40 ||
		res.GitRangesIgnored == 0 || len(res.Changed) != res.Added {
		t.Fatalf("import: files %d records %d added %d dup %d withdrawn %d git %d skipped %v", res.Files, res.Records,
			res.Added, res.Duplicates, res.Withdrawn, res.GitRangesIgnored, res.Skipped)
	}
	st, err := v.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, e := range st.Ecosystems {
		counts[e.Ecosystem] = e.Records
	}
	if st.Total != 8184 || counts["Go"] != 4291 || counts["PyPI"] != 2662 || counts["crates.io"] != 1206 {
		t.Fatalf("status: total %d, ecosystems %v", st.Total, counts)
	}
	res, err = v.Import(ctx, dir, vuln.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Unchanged != 8184 || res.Added+res.Updated != 0 {
		t.Fatalf("re-import: %+v", res)
	}
	got := matchIDs(t, v,
		vuln.Package{Ecosystem: "Go", Name: "stdlib", Version: "go1.20"},
		vuln.Package{Ecosystem: "PyPI", Name: "Django", Version: "1.2"},
		vuln.Package{Ecosystem: "crates.io", Name: "smallvec", Version: "1.6.0"})
	if len(got[0]) < 50 || len(got[1]) < 20 || len(got[2]) == 0 {
		t.Fatalf("matches: stdlib %d, Django %d, smallvec %d", len(got[0]), len(got[1]), len(got[2]))
	}
}

// BenchmarkImport imports the shared OSV data (else testdata/osv) into a fresh SQLite
// database per iteration. On the shared data, about 8,400 records in 2–3 s on the
// development machine.
func BenchmarkImport(b *testing.B) {
	dir := "testdata/osv"
	if _, err := os.Stat(filepath.Join(sharedOSV, "Go", "all.zip")); err == nil {
		dir = sharedOSV
	}
	records := 0
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		db := storetest.Open(b, store.SQLite)
		v := vuln.Open(db)
		b.StartTimer()
		res, err := v.Import(context.Background(), dir, vuln.ImportOptions{})
		if err != nil {
			b.Fatal(err)
		}
		records += res.Records
	}
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkMatch matches 3,000 packages — names taken from the database's affected
// entries, versions around their fixes — against the shared OSV data (else
// testdata/osv) in SQLite.
func BenchmarkMatch(b *testing.B) {
	dir := "testdata/osv"
	if _, err := os.Stat(filepath.Join(sharedOSV, "Go", "all.zip")); err == nil {
		dir = sharedOSV
	}
	ctx := context.Background()
	db := storetest.Open(b, store.SQLite)
	v := vuln.Open(db)
	res, err := v.Import(ctx, dir, vuln.ImportOptions{})
	if err != nil {
		b.Fatal(err)
	}
	aff, err := v.AffectedByVulns(ctx, res.Changed)
	if err != nil {
		b.Fatal(err)
	}
	pkgs := make([]vuln.Package, 0, 3000)
	for i := 0; len(pkgs) < 3000; i++ {
		a := aff[(i*7919)%len(aff)]
		version := "0.0.1"
		if f := a.FixedVersions(); len(f) > 0 {
			version = f[0]
		}
		if i%3 == 0 {
			version = "0.1.0"
		}
		pkgs = append(pkgs, vuln.Package{Ecosystem: a.Ecosystem, Name: a.Name, Version: version})
	}
	b.ResetTimer()
	matches := 0
	for i := 0; i < b.N; i++ {
		ms, err := v.Match(ctx, pkgs)
		if err != nil {
			b.Fatal(err)
		}
		matches = 0
		for _, m := range ms {
			matches += len(m)
		}
	}
	b.ReportMetric(float64(matches), "matches")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(pkgs)), "ns/package")
}
