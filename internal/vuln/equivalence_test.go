package vuln_test

import (
	"archive/zip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
	"github.com/medguard/medguard/internal/vuln"
)

// EnvOSVScanner names an osv-scanner v2.4.0 binary for TestOSVScannerEquivalence.
const EnvOSVScanner = "MEDGUARD_OSV_SCANNER"

// TestOSVScannerEquivalence compares Match with osv-scanner run offline on the same
// shared OSV data and the same SBOM: packages named by the records' affected entries at
// versions on and around their range events. It runs only when MEDGUARD_OSV_SCANNER
// names an osv-scanner binary (build one from the module cache:
// go build -o /tmp/osv-scanner ./cmd/osv-scanner in github.com/google/osv-scanner/v2@v2.4.0).
// Every (package, id) pair the two disagree on must be explained by one of the
// documented deviations (see the package comment); the pairs are logged by reason.
func TestOSVScannerEquivalence(t *testing.T) {
	bin := os.Getenv(EnvOSVScanner)
	if bin == "" {
		t.Skipf("set %s to an osv-scanner v2.4.0 binary to compare with it", EnvOSVScanner)
	}
	dir := needShared(t)
	ctx := context.Background()
	tmp := t.TempDir()

	// osv-scanner's offline database: <cache>/osv-scanner/<Ecosystem>/all.zip.
	ecosystems := []string{"Go", "PyPI", "crates.io"}
	for _, eco := range ecosystems {
		d := filepath.Join(tmp, "cache", "osv-scanner", eco)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		// A copy: osv-scanner opens it through os.Root, which refuses symlinks out.
		b, err := os.ReadFile(filepath.Join(dir, eco, "all.zip"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "all.zip"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// Packages around every event of a sample of affected entries.
	rng := rand.New(rand.NewSource(1))
	type component struct {
		Type    string `json:"type"`
		BOMRef  string `json:"bom-ref"`
		Name    string `json:"name"`
		Version string `json:"version"`
		PURL    string `json:"purl"`
	}
	var comps []component
	seen := map[string]bool{}
	add := func(purl, name, version string) {
		if version == "" || seen[purl] {
			return
		}
		seen[purl] = true
		comps = append(comps, component{Type: "library", BOMRef: fmt.Sprintf("c%d", len(comps)), Name: name, Version: version, PURL: purl})
	}
	for _, eco := range ecosystems {
		recs := readZipRecords(t, filepath.Join(dir, eco, "all.zip"))
		rng.Shuffle(len(recs), func(i, j int) { recs[i], recs[j] = recs[j], recs[i] })
		limit := map[string]int{"Go": 700, "PyPI": 500, "crates.io": 300}[eco]
		for _, r := range recs[:min(limit, len(recs))] {
			for _, a := range r.Affected {
				var versions []string
				for _, rg := range a.Ranges {
					for _, e := range rg.Events {
						versions = append(versions, e.Introduced, e.Fixed, e.LastAffected, e.Limit)
					}
				}
				if n := len(a.Versions); n > 0 {
					versions = append(versions, a.Versions[0], a.Versions[n/2], a.Versions[n-1])
				}
				versions = append(versions, "0.0.1", "99.0.0")
				for _, v := range versions {
					if v == "0" || v == "" {
						continue
					}
					switch eco {
					case "Go":
						if a.Name == "stdlib" || a.Name == "toolchain" {
							add("pkg:golang/"+a.Name+"@go"+strings.TrimSuffix(v, ".0-0"), a.Name, "go"+v)
						} else {
							add("pkg:golang/"+a.Name+"@v"+v, a.Name, "v"+v)
						}
					case "PyPI":
						add("pkg:pypi/"+a.Name+"@"+v, a.Name, v)
					case "crates.io":
						add("pkg:cargo/"+a.Name+"@"+v, a.Name, v)
					}
				}
			}
		}
	}
	bom := map[string]any{"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1, "components": comps}
	bomPath := filepath.Join(tmp, "sbom.cdx.json")
	b, err := json.Marshal(bom)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bomPath, b, 0o644); err != nil {
		t.Fatal(err)
	}

	// osv-scanner's view.
	cmd := exec.Command(bin, "scan", "source", "--offline-vulnerabilities", "--format", "json", "-L", bomPath)
	cmd.Env = append(os.Environ(), "OSV_SCANNER_LOCAL_DB_CACHE_DIRECTORY="+filepath.Join(tmp, "cache"))
	out, err := cmd.Output()
	if err != nil && len(out) == 0 {
		t.Fatalf("osv-scanner: %v", err)
	}
	var report struct {
		Results []struct {
			Packages []struct {
				Package struct {
					Name, Version, Ecosystem string
				} `json:"package"`
				Vulnerabilities []struct {
					ID string `json:"id"`
				} `json:"vulnerabilities"`
			} `json:"packages"`
		} `json:"results"`
	}
	if err := json.Unmarshal(out, &report); err != nil {
		t.Fatalf("osv-scanner output: %v\n%.500s", err, out)
	}
	theirs := map[string]bool{} // "eco|lower(name)|version|id"
	for _, r := range report.Results {
		for _, p := range r.Packages {
			for _, v := range p.Vulnerabilities {
				theirs[p.Package.Ecosystem+"|"+strings.ToLower(p.Package.Name)+"|"+p.Package.Version+"|"+v.ID] = true
			}
		}
	}

	// medguard's view.
	db := storetest.Open(t, store.SQLite)
	v := vuln.Open(db)
	for _, eco := range ecosystems {
		if _, err := v.Import(ctx, filepath.Join(dir, eco), vuln.ImportOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	pkgs := make([]vuln.Package, len(comps))
	for i, c := range comps {
		p, err := vuln.PackageFromPURL(c.PURL)
		if err != nil {
			t.Fatalf("%s: %v", c.PURL, err)
		}
		pkgs[i] = p
	}
	ms, err := v.Match(ctx, pkgs)
	if err != nil {
		t.Fatal(err)
	}
	ours := map[string]bool{}
	for i, list := range ms {
		for _, m := range list {
			ours[pkgs[i].Ecosystem+"|"+strings.ToLower(pkgs[i].Name)+"|"+pkgs[i].Version+"|"+m.ID] = true
		}
	}

	// Explain each difference.
	byReason := map[string][]string{}
	for k := range theirs {
		if !ours[k] {
			byReason["osv-scanner only: "+explain(t, v, k, false)] = append(byReason["osv-scanner only: "+explain(t, v, k, false)], k)
		}
	}
	for k := range ours {
		if !theirs[k] {
			byReason["medguard only: "+explain(t, v, k, true)] = append(byReason["medguard only: "+explain(t, v, k, true)], k)
		}
	}
	both := 0
	for k := range ours {
		if theirs[k] {
			both++
		}
	}
	t.Logf("%d packages; %d pairs found by both, %d by osv-scanner, %d by medguard", len(comps), both, len(theirs), len(ours))
	reasons := make([]string, 0, len(byReason))
	for r := range byReason {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		list := byReason[r]
		sort.Strings(list)
		t.Logf("%s: %d pairs, e.g. %v", r, len(list), list[:min(3, len(list))])
		if strings.HasSuffix(r, "unexplained") {
			t.Errorf("%d unexplained differences: %v", len(list), list[:min(20, len(list))])
		}
	}
}

// explain names the documented deviation behind one pair found by only one side.
func explain(t *testing.T, v *vuln.DB, key string, oursOnly bool) string {
	t.Helper()
	parts := strings.SplitN(key, "|", 4)
	eco, name, version, id := parts[0], parts[1], parts[2], parts[3]
	r, err := v.Record(context.Background(), id)
	if err != nil {
		return "record not stored: unexplained"
	}
	var raw struct {
		Affected []struct {
			Package  struct{ Name string }   `json:"package"`
			Ranges   []struct{ Type string } `json:"ranges"`
			Versions []string                `json:"versions"`
		} `json:"affected"`
	}
	if err := json.Unmarshal(r.Raw, &raw); err != nil {
		t.Fatal(err)
	}
	for _, a := range raw.Affected {
		if strings.ToLower(a.Package.Name) != name {
			continue
		}
		switch {
		case eco == "Go" && a.Package.Name != name && oursOnly:
			return "Go module path with upper case, lowercased by osv-scanner's purl parsing"
		case eco == "Go" && (name == "stdlib" || name == "toolchain") && strings.HasPrefix(version, "go"):
			return "Go toolchain version compared as go1.x.y by osv-scanner (below every release)"
		case oursOnly && len(a.Ranges) > 1 && a.Ranges[0].Type == "GIT" && !contains(a.Versions, version):
			return "GIT range listed first hides the ECOSYSTEM range in osv-scanner"
		}
	}
	return "unexplained"
}

// readZipRecords parses every record of an OSV zip export.
func readZipRecords(t *testing.T, path string) []*vuln.Record {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var out []*vuln.Record
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		r, err := vuln.ParseRecord(b, f.Name)
		if err != nil {
			t.Fatal(err)
		}
		if r.Withdrawn == nil {
			out = append(out, r)
		}
	}
	return out
}
