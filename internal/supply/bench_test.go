package supply

// Benchmarks of SBOM import and re-matching (medguard issue 3). They run only with
// -bench (bench/supply/run.sh runs them) and do all their heavy setup inside the
// Benchmark functions, so `go test ./internal/supply/` does not get slower. Each engine
// gets a fresh database; PostgreSQL is measured when MEDGUARD_TEST_POSTGRES is set.

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
	"github.com/medguard/medguard/internal/trail"
	"github.com/medguard/medguard/internal/trail/trailtest"
	"github.com/medguard/medguard/internal/vuln"
)

// sharedOSV is the folder of the shared OSV exports, seen from this package.
const sharedOSV = "../../../shared/data/osv"

// benchEcosystems are the shared exports a benchmark imports when they are present.
var benchEcosystems = []string{"Go", "PyPI", "crates.io"}

// benchWorld is a fresh database holding a province with some hospitals and the
// advisories of the shared data (or of testdata/osv) imported, with a Service on it.
type benchWorld struct {
	db    *store.DB
	svc   *Service
	vulns *vuln.DB
	orgs  []org.Node
	actor actor.Actor // the province: sees every hospital
}

// eachEngine runs fn as sub-benchmark "sqlite" (and "postgres" when
// MEDGUARD_TEST_POSTGRES is set) on a fresh world. fn must itself run sub-benchmarks:
// then the engine level runs once, and the world, set up there, lives until they end.
func eachEngine(b *testing.B, hospitals int, fn func(b *testing.B, w *benchWorld)) {
	for _, d := range storetest.Dialects {
		b.Run(string(d), func(b *testing.B) {
			if d == store.Postgres && os.Getenv(storetest.EnvPostgres) == "" {
				b.Skipf("set %s to measure PostgreSQL", storetest.EnvPostgres)
			}
			fn(b, newBenchWorld(b, storetest.Open(b, d), hospitals))
		})
	}
}

func newBenchWorld(b *testing.B, db *store.DB, hospitals int) *benchWorld {
	b.Helper()
	ctx := context.Background()
	tl, err := trail.New(trail.SHA256, trailtest.Key(b))
	if err != nil {
		b.Fatal(err)
	}
	w := &benchWorld{db: db, vulns: vuln.Open(db)}
	alerts, err := alert.New(db, tl)
	if err != nil {
		b.Fatal(err)
	}
	w.svc = NewService(db, tl, w.vulns, alerts, slog.New(slog.NewTextHandler(io.Discard, nil)))
	orgs := org.NewService(db, tl)
	prov, err := orgs.Create(ctx, actor.System(), org.Input{Kind: org.KindProvince, Name: "bench province"})
	if err != nil {
		b.Fatal(err)
	}
	w.actor = actor.Actor{UserID: 1, Username: "bench", Role: "security_officer", OrgID: prov.ID, OrgPath: prov.Path}
	for i := range hospitals {
		n, err := orgs.Create(ctx, actor.System(), org.Input{ParentID: prov.ID, Kind: org.KindHospital, Name: fmt.Sprintf("hospital %d", i)})
		if err != nil {
			b.Fatal(err)
		}
		w.orgs = append(w.orgs, n)
	}
	start := time.Now()
	if sharedPresent() {
		for _, eco := range benchEcosystems {
			if _, err := w.vulns.Import(ctx, filepath.Join(sharedOSV, eco), vuln.ImportOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	} else if _, err := w.vulns.Import(ctx, "testdata/osv", vuln.ImportOptions{}); err != nil {
		b.Fatal(err)
	}
	b.Logf("%s: advisories imported in %s", db.Dialect(), time.Since(start).Round(time.Millisecond))
	return w
}

func sharedPresent() bool {
	for _, eco := range benchEcosystems {
		if _, err := os.Stat(filepath.Join(sharedOSV, eco, "all.zip")); err != nil {
			return false
		}
	}
	return true
}

// benchPackage is a package version for a generated SBOM.
type benchPackage struct {
	purl, name, version string
}

// realPackages returns n distinct package versions drawn with a fixed seed from the
// package names and event/listed versions of the shared exports, or, without them,
// from the packages of testdata/osv and made-up ones.
func realPackages(tb testing.TB, n int) []benchPackage {
	tb.Helper()
	type key struct{ eco, name string }
	versions := map[key]map[string]bool{}
	if sharedPresent() {
		for _, eco := range benchEcosystems {
			zr, err := zip.OpenReader(filepath.Join(sharedOSV, eco, "all.zip"))
			if err != nil {
				tb.Fatal(err)
			}
			for _, f := range zr.File {
				rc, err := f.Open()
				if err != nil {
					tb.Fatal(err)
				}
				var rec struct {
					Affected []struct {
						Package struct{ Ecosystem, Name string }
						Ranges  []struct {
							Type   string
							Events []map[string]string
						}
						Versions []string
					}
				}
				err = json.NewDecoder(rc).Decode(&rec)
				rc.Close()
				if err != nil {
					tb.Fatalf("%s: %v", f.Name, err)
				}
				for _, a := range rec.Affected {
					if a.Package.Ecosystem != eco {
						continue
					}
					k := key{eco, a.Package.Name}
					if versions[k] == nil {
						versions[k] = map[string]bool{}
					}
					for _, v := range a.Versions {
						versions[k][v] = true
					}
					for _, r := range a.Ranges {
						for _, e := range r.Events {
							for kind, v := range e {
								if r.Type != "GIT" && kind != "limit" && v != "0" {
									versions[k][v] = true
								}
							}
						}
					}
				}
			}
			zr.Close()
		}
	} else {
		versions[key{"PyPI", "requests"}] = map[string]bool{"2.30.0": true, "2.31.0": true}
		versions[key{"Go", "github.com/example/lib"}] = map[string]bool{"1.1.0": true, "1.2.0": true}
		for i := range n {
			versions[key{"crates.io", fmt.Sprintf("bench-crate-%d", i)}] = map[string]bool{"1.0.0": true}
		}
	}
	keys := make([]key, 0, len(versions))
	for k := range versions {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].eco+keys[i].name < keys[j].eco+keys[j].name })
	rng := rand.New(rand.NewPCG(3000, 1))
	seen := map[string]bool{}
	var out []benchPackage
	for round := 0; len(out) < n && round < 50; round++ {
		for _, i := range rng.Perm(len(keys)) {
			if len(out) == n {
				break
			}
			k := keys[i]
			vs := make([]string, 0, len(versions[k]))
			for v := range versions[k] {
				vs = append(vs, v)
			}
			if len(vs) == 0 {
				continue
			}
			sort.Strings(vs)
			p := packagePURL(k.eco, k.name, vs[rng.IntN(len(vs))])
			if !seen[p.purl] {
				seen[p.purl] = true
				out = append(out, p)
			}
		}
	}
	if len(out) < n {
		tb.Fatalf("only %d package versions for %d components", len(out), n)
	}
	return out
}

// packagePURL returns the SBOM package of an OSV package version.
func packagePURL(eco, name, version string) benchPackage {
	switch eco {
	case "Go":
		if name != "stdlib" && name != "toolchain" {
			version = "v" + version
		}
		return benchPackage{purl: "pkg:golang/" + name + "@" + version, name: name, version: version}
	case "PyPI":
		return benchPackage{purl: "pkg:pypi/" + name + "@" + version, name: name, version: version}
	}
	return benchPackage{purl: "pkg:cargo/" + name + "@" + version, name: name, version: version}
}

// cycloneDX returns a CycloneDX 1.5 JSON document listing pkgs.
func cycloneDX(tb testing.TB, label string, pkgs []benchPackage) []byte {
	tb.Helper()
	comps := make([]map[string]any, len(pkgs))
	for i, p := range pkgs {
		comps[i] = map[string]any{"bom-ref": p.purl, "type": "library", "name": p.name, "version": p.version, "purl": p.purl}
	}
	data, err := json.Marshal(map[string]any{
		"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
		"metadata":   map[string]any{"component": map[string]any{"bom-ref": "root", "type": "application", "name": label}},
		"components": comps,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// BenchmarkImportSBOM3000 imports a 3,000-component SBOM of real package versions as
// the SBOM of a fresh product version: parse, match against the whole imported advisory
// database, store components and findings. "first-version": the version is the first
// of a new product. "second-version": the product already has a first version with the
// same SBOM imported (its findings are compared for "fixed by upgrade"). Creating the
// product and importing the first version are not timed.
func BenchmarkImportSBOM3000(b *testing.B) {
	ctx := context.Background()
	data := cycloneDX(b, "bench-3000", realPackages(b, 3000))
	eachEngine(b, 1, func(b *testing.B, w *benchWorld) {
		products := 0
		newVersion := func(b *testing.B, withFirst bool) Version {
			products++
			p, err := w.svc.CreateProduct(ctx, w.actor, ProductInput{OrgID: w.orgs[0].ID, Name: fmt.Sprintf("HIS %d", products),
				Source: "self_built"})
			if err != nil {
				b.Fatal(err)
			}
			if withFirst {
				v1, err := w.svc.CreateVersion(ctx, w.actor, p.ID, VersionInput{Version: "1.0"})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := w.svc.ImportSBOM(ctx, w.actor, v1.ID, "bench.cdx.json", data); err != nil {
					b.Fatal(err)
				}
			}
			v, err := w.svc.CreateVersion(ctx, w.actor, p.ID, VersionInput{Version: "2.0"})
			if err != nil {
				b.Fatal(err)
			}
			return v
		}
		for _, tc := range []struct {
			name      string
			withFirst bool
		}{{"first-version", false}, {"second-version", true}} {
			b.Run(tc.name, func(b *testing.B) {
				findings := 0
				b.SetBytes(int64(len(data)))
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					v := newVersion(b, tc.withFirst)
					b.StartTimer()
					rep, err := w.svc.ImportSBOM(ctx, w.actor, v.ID, "bench.cdx.json", data)
					if err != nil {
						b.Fatal(err)
					}
					if rep.Components != 3000 || rep.Findings == 0 {
						b.Fatalf("imported %d components, %d findings", rep.Components, rep.Findings)
					}
					findings = rep.Findings
				}
				b.ReportMetric(float64(findings), "findings")
			})
		}
	})
}

// Shape of the stored SBOMs of BenchmarkRematch.
const (
	rematchSBOMs      = 1000
	rematchPerSBOM    = 200
	rematchCommon     = 10   // packages in every SBOM
	rematchPool       = 4000 // packages the other components are drawn from
	rematchVersions   = 10   // versions 1.0.0 … 1.9.0 of each package
	rematchHospitals  = 4
	rematchProducts   = 200 // 5 versions each
	rematchInsertRows = 100 // SBOMs per setup transaction
)

// rematchPackage returns the OSV ecosystem and name of pool package i (the first
// rematchCommon are the common ones).
func rematchPackage(i int) (eco, name string) {
	switch i % 3 {
	case 0:
		return "PyPI", fmt.Sprintf("bench-pkg-%d", i)
	case 1:
		return "Go", fmt.Sprintf("example.com/bench/pkg%d", i)
	}
	return "crates.io", fmt.Sprintf("bench-crate-%d", i)
}

// storeRematchSBOMs stores rematchSBOMs SBOMs of rematchPerSBOM components: product
// versions through the service, SBOM rows and components with the service's
// multi-row inserts, in a few transactions.
func storeRematchSBOMs(b *testing.B, w *benchWorld) {
	b.Helper()
	ctx := context.Background()
	start := time.Now()
	rng := rand.New(rand.NewPCG(1000, 200))
	var versions []Version
	for i := range rematchProducts {
		p, err := w.svc.CreateProduct(ctx, w.actor, ProductInput{OrgID: w.orgs[i%len(w.orgs)].ID,
			Name: fmt.Sprintf("product %d", i), Source: "self_built"})
		if err != nil {
			b.Fatal(err)
		}
		for j := range rematchSBOMs / rematchProducts {
			v, err := w.svc.CreateVersion(ctx, w.actor, p.ID, VersionInput{Version: fmt.Sprintf("%d.0", j+1)})
			if err != nil {
				b.Fatal(err)
			}
			versions = append(versions, v)
		}
	}
	component := func(i, version int) Component {
		eco, name := rematchPackage(i)
		ver := fmt.Sprintf("1.%d.0", version)
		pkg := name
		purl := "pkg:pypi/" + name + "@" + ver
		switch eco {
		case "Go":
			ver = "v" + ver
			purl = "pkg:golang/" + name + "@" + ver
		case "crates.io":
			purl = "pkg:cargo/" + name + "@" + ver
		}
		return Component{Ref: purl, Type: "library", Name: name, Version: ver, PURL: purl, Ecosystem: eco, Package: pkg,
			PkgVersion: ver, LicenseVerdict: "unknown"}
	}
	for start := 0; start < len(versions); start += rematchInsertRows {
		part := versions[start:min(start+rematchInsertRows, len(versions))]
		err := w.db.InTx(ctx, func(tx *store.Tx) error {
			for _, v := range part {
				comps := make([]Component, 0, rematchPerSBOM)
				for i := range rematchCommon {
					comps = append(comps, component(i, rng.IntN(rematchVersions)))
				}
				used := map[int]bool{}
				for len(comps) < rematchPerSBOM {
					i := rematchCommon + rng.IntN(rematchPool)
					if !used[i] {
						used[i] = true
						comps = append(comps, component(i, rng.IntN(rematchVersions)))
					}
				}
				doc := fmt.Appendf(nil, `{"bench":%d}`, v.ID)
				sum := sha256.Sum256(doc)
				var sbomID int64
				if err := tx.QueryRowContext(ctx, `INSERT INTO sboms (version_id, format, spec_version, sha256, size, components,
					document, imported_by, created_at) VALUES (?, 'cyclonedx-json', '1.5', ?, ?, ?, ?, 'bench', ?) RETURNING id`,
					v.ID, hex.EncodeToString(sum[:]), len(doc), len(comps), doc, time.Now().UTC()).Scan(&sbomID); err != nil {
					return err
				}
				if _, err := insertComponents(ctx, tx, sbomID, comps); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	if err := w.db.Optimize(ctx); err != nil {
		b.Fatal(err)
	}
	b.Logf("%s: %d SBOMs of %d components stored in %s", w.db.Dialect(), len(versions), rematchPerSBOM,
		time.Since(start).Round(time.Millisecond))
}

// writeAdvisories writes n OSV records BENCH-<n>-<i> to dir, record i affecting package
// i mod (common + pool): versions from 1.5.0 up to the fixed version, which alternates
// between 1.9.0 and 2.0.0 with round so that the components at 1.9.0 gain or lose the
// finding; modified is the record's modified time.
func writeAdvisories(tb testing.TB, dir string, n, round int, modified time.Time) {
	tb.Helper()
	if err := os.RemoveAll(dir); err != nil {
		tb.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	fixed := "1.9.0"
	if round%2 == 1 {
		fixed = "2.0.0"
	}
	for i := range n {
		eco, name := rematchPackage(i % (rematchCommon + rematchPool))
		rec := map[string]any{
			"schema_version": "1.6.0",
			"id":             fmt.Sprintf("BENCH-%d-%d", n, i),
			"modified":       modified.UTC().Format(time.RFC3339Nano),
			"published":      "2026-01-01T00:00:00Z",
			"aliases":        []string{fmt.Sprintf("CVE-2099-%d%05d", n%10, i)},
			"summary":        fmt.Sprintf("generated advisory %d of %d (round %d)", i, n, round),
			"severity":       []map[string]string{{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}},
			"affected": []map[string]any{{
				"package": map[string]string{"ecosystem": eco, "name": name},
				"ranges":  []map[string]any{{"type": "ECOSYSTEM", "events": []map[string]string{{"introduced": "1.5.0"}, {"fixed": fixed}}}},
			}},
		}
		data, err := json.Marshal(rec)
		if err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("BENCH-%d-%d.json", n, i)), data, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
}

// BenchmarkRematch re-matches 1,000 stored SBOMs (200 components each, packages
// repeating across SBOMs, 10 of them in every SBOM) after an import changed N
// advisories. Each iteration imports a new version of the N advisories (not timed) and
// times Rematch of the changed ids only; the fixed version moves every iteration, so
// each Rematch adds or removes the findings of the components at 1.9.0 and raises
// alerts. One untimed round first creates the advisories and their findings.
func BenchmarkRematch(b *testing.B) {
	ctx := context.Background()
	eachEngine(b, rematchHospitals, func(b *testing.B, w *benchWorld) {
		storeRematchSBOMs(b, w)
		for _, n := range []int{1, 100, 10000} {
			dir := filepath.Join(b.TempDir(), fmt.Sprintf("osv-%d", n))
			round := 0
			modified := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			next := func(b *testing.B) RematchReport {
				round++
				modified = modified.Add(time.Minute)
				writeAdvisories(b, dir, n, round, modified)
				res, err := w.vulns.Import(ctx, dir, vuln.ImportOptions{})
				if err != nil {
					b.Fatal(err)
				}
				if len(res.Changed) != n {
					b.Fatalf("import changed %d advisories, want %d", len(res.Changed), n)
				}
				b.StartTimer()
				rep, err := w.svc.Rematch(ctx, actor.System(), res.Changed)
				b.StopTimer()
				if err != nil {
					b.Fatal(err)
				}
				return rep
			}
			b.Run(fmt.Sprintf("advisories=%d", n), func(b *testing.B) {
				b.StopTimer()
				if round == 0 {
					rep := next(b) // creates the advisories and their findings
					b.Logf("%s: first round for %d advisories: %+v", w.db.Dialect(), n, rep)
				}
				b.ResetTimer()
				changes, comps := 0, 0
				for i := 0; i < b.N; i++ {
					rep := next(b)
					if rep.Added+rep.Removed == 0 {
						b.Fatalf("round %d changed no finding: %+v", round, rep)
					}
					changes += rep.Added + rep.Removed
					comps = rep.Components
				}
				b.ReportMetric(float64(changes)/float64(b.N), "changes/op")
				b.ReportMetric(float64(comps), "components")
			})
		}
	})
}
