package vuln_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
	"github.com/medguard/medguard/internal/vuln"
)

// writeFiles writes name → content into dir, creating zip files for names ending in
// .zip from "member=content" pairs separated by NUL.
func writeFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		data := []byte(content)
		if strings.HasSuffix(name, ".zip") {
			var b bytes.Buffer
			zw := zip.NewWriter(&b)
			for _, m := range strings.Split(content, "\x00") {
				mname, body, _ := strings.Cut(m, "=")
				w, err := zw.Create(mname)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := w.Write([]byte(body)); err != nil {
					t.Fatal(err)
				}
			}
			if err := zw.Close(); err != nil {
				t.Fatal(err)
			}
			data = b.Bytes()
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// record returns a minimal OSV record for package eco/name with the given ranges JSON.
func record(id, modified, eco, name, ranges, extra string) string {
	return fmt.Sprintf(`{"id":%q,"modified":%q,"affected":[{"package":{"ecosystem":%q,"name":%q},"ranges":%s}]%s}`,
		id, modified, eco, name, ranges, extra)
}

func importOK(t *testing.T, v *vuln.DB, path string) vuln.ImportResult {
	t.Helper()
	res, err := v.Import(context.Background(), path, vuln.ImportOptions{})
	if err != nil {
		t.Fatalf("import %s: %v", path, err)
	}
	return res
}

// matchIDs returns the matched ids of each package.
func matchIDs(t *testing.T, v *vuln.DB, pkgs ...vuln.Package) [][]string {
	t.Helper()
	ms, err := v.Match(context.Background(), pkgs)
	if err != nil {
		t.Fatal(err)
	}
	out := make([][]string, len(ms))
	for i, list := range ms {
		out[i] = []string{}
		for _, m := range list {
			out[i] = append(out[i], m.ID)
		}
	}
	return out
}

func TestImportTestdata(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		v := vuln.Open(db)
		var progressCalls, lastFiles, lastRecords int
		res, err := v.Import(ctx, "testdata/osv", vuln.ImportOptions{Progress: func(files, records int) {
			progressCalls++
			lastFiles, lastRecords = files, records
		}})
		if err != nil {
			t.Fatal(err)
		}
		if res.Files != 42 || res.Records != 68 || res.Added != 68 || res.Updated != 0 || res.Unchanged != 0 ||
			res.Withdrawn != 4 || res.GitRangesIgnored != 8 || len(res.Skipped) != 0 || len(res.Changed) != 68 || res.Duplicates != 0 {
			t.Fatalf("first import: %+v", res)
		}
		if !sort.StringsAreSorted(res.Changed) || progressCalls < 3 || lastFiles != 42 || lastRecords != 68 {
			t.Fatalf("changed not sorted, or progress called %d times, last with %d files %d records", progressCalls, lastFiles, lastRecords)
		}

		// Re-importing changes nothing.
		res = importOK(t, v, "testdata/osv")
		if res.Records != 68 || res.Unchanged != 68 || res.Added+res.Updated+res.Withdrawn != 0 || len(res.Changed) != 0 {
			t.Fatalf("re-import: %+v", res)
		}

		st, err := v.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Total != 68 || st.Withdrawn != 4 || st.LastImport == nil || st.LastImport.Unchanged != 68 || st.LastImport.Records != 68 {
			t.Fatalf("status: %+v, last import %+v", st, st.LastImport)
		}
		if len(st.LastImport.Notes) != 1 || st.LastImport.Notes[0].Reason != "8 GIT ranges ignored" {
			t.Fatalf("notes of last import: %+v", st.LastImport.Notes)
		}
		eco := map[string]vuln.EcosystemStatus{}
		for _, e := range st.Ecosystems {
			eco[e.Ecosystem] = e
		}
		if eco["Go"].Records != 20 || eco["Go"].Withdrawn != 1 || eco["PyPI"].Records != 15 || eco["PyPI"].Withdrawn != 2 ||
			eco["crates.io"].Records != 8 || eco["crates.io"].LastModified.IsZero() {
			t.Fatalf("ecosystems: %+v", st.Ecosystems)
		}
		if _, ok := eco["Debian"]; ok {
			t.Fatal("an ecosystem without records is listed")
		}

		got := matchIDs(t, v,
			vuln.Package{Ecosystem: "Go", Name: "stdlib", Version: "go1.16.0"},                       // GO-2021-0067: [1.16.0-0, 1.16.1)
			vuln.Package{Ecosystem: "Go", Name: "stdlib", Version: "go1.16.1"},                       //
			vuln.Package{Ecosystem: "Go", Name: "toolchain", Version: "go1.14.13"},                   // GO-2021-0068
			vuln.Package{Ecosystem: "Go", Name: "github.com/Masterminds/goutils", Version: "v1.1.0"}, // GO-2022-0411
			vuln.Package{Ecosystem: "Go", Name: "github.com/masterminds/goutils", Version: "v1.1.0"}, // case matters
			vuln.Package{Ecosystem: "Go", Name: "k8s.io/kubernetes", Version: "1.0.0"},               // withdrawn GO-2022-0617
			vuln.Package{Ecosystem: "PyPI", Name: "py", Version: "1.11.0"},                           // last_affected 1.11.0
			vuln.Package{Ecosystem: "PyPI", Name: "py", Version: "1.11.1"},                           //
			vuln.Package{Ecosystem: "PyPI", Name: "indico", Version: "3.2.5"},                        // GIT range listed first
			vuln.Package{Ecosystem: "PyPI", Name: "indico", Version: "3.2.5.post1"},                  // not in versions list
			vuln.Package{Ecosystem: "PyPI", Name: "JW_Util", Version: "2.2"},                         // record name jw.util
			vuln.Package{Ecosystem: "PyPI", Name: "arrayfire", Version: "3.5.0"},                     // withdrawn PYSEC-2019-144
			vuln.Package{Ecosystem: "PyPI", Name: "authlib", Version: "1.3.0"},                       // YAML record
			vuln.Package{Ecosystem: "PyPI", Name: "demo-lib", Version: "1.1.0"},                      // MULTI-ECO-FIX-DEMO
			vuln.Package{Ecosystem: "npm", Name: "demo-lib", Version: "1.1.0"},                       //
			vuln.Package{Ecosystem: "PyPI", Name: "authlib", Version: ""},                            // no version
			vuln.Package{Ecosystem: "Ecosystem1", Name: "proj1", Version: "1"},                       // entry without ranges
		)
		want := [][]string{
			{"GO-2021-0067"}, {}, {"GO-2021-0068"}, {"GO-2022-0411"}, {}, {},
			{"PYSEC-2022-42969"}, {}, {"PYSEC-2023-129"}, {"PYSEC-2023-129"}, {"PYSEC-2020-341"}, {},
			{"PYSEC-2024-52"}, {"MULTI-ECO-FIX-DEMO"}, {"MULTI-ECO-FIX-DEMO"}, {}, {},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("matches (-want +got):\n%s", diff)
		}

		ms, err := v.Match(ctx, []vuln.Package{{Ecosystem: "PyPI", Name: "vantage6-node", Version: "4.1.0"}, {Ecosystem: "PyPI", Name: "vantage6-server", Version: "4.1.0"}})
		if err != nil {
			t.Fatal(err)
		}
		m := ms[0][0]
		if m.ID != "PYSEC-2024-33" || m.Group != "CVE-2024-21653" || ms[1][0].Group != "CVE-2024-21653" ||
			!cmp.Equal(m.Fixed, []string{"4.2.0"}) || m.Severity.Level != "critical" || m.Summary != "" && !strings.Contains(m.Summary, "") ||
			!cmp.Equal(m.Aliases, []string{"CVE-2024-21653", "GHSA-2wgc-48g2-cj5w"}) {
			t.Fatalf("match: %+v / %+v", m, ms[1][0])
		}

		// Records by id or alias.
		r, err := v.Record(ctx, "CVE-2024-21653")
		if err != nil || r.ID != "PYSEC-2024-33" {
			t.Fatalf("Record(alias) = %v, %v", r, err)
		}
		r, err = v.Record(ctx, "RUSTSEC-2024-0445")
		if err != nil || r.Severity.Type != "CVSS_V4" || r.Severity.Level == vuln.LevelUnknown || len(r.Affected) != 1 {
			t.Fatalf("Record = %+v, %v", r, err)
		}
		if _, err := v.Record(ctx, "NO-SUCH-1"); !errors.Is(err, vuln.ErrNotFound) {
			t.Fatalf("Record(missing) error = %v", err)
		}

		// Alias groups over the stored alias claims.
		sums, err := v.Summaries(ctx, []string{"ALIAS-CVE-1", "CVE-1", "ALIAS", "CVE-3", "CVE-4", "CYCLE-ROOT-1", "GO-2022-0617", "NO-SUCH-1"})
		if err != nil {
			t.Fatal(err)
		}
		groups := map[string]string{}
		for id, s := range sums {
			groups[id] = s.Group
		}
		wantGroups := map[string]string{"ALIAS-CVE-1": "CVE-1", "CVE-1": "CVE-1", "ALIAS": "CVE-1", "CVE-3": "CVE-3", "CVE-4": "CVE-3",
			"CYCLE-ROOT-1": "CYCLE-ROOT-1", "GO-2022-0617": sums["GO-2022-0617"].Group}
		if diff := cmp.Diff(wantGroups, groups); diff != "" {
			t.Fatalf("groups (-want +got):\n%s", diff)
		}
		if sums["GO-2022-0617"].Withdrawn == nil || sums["CVE-1"].Withdrawn != nil || sums["ALIAS-CVE-1"].Summary == "" {
			t.Fatalf("summaries: %+v", sums)
		}

		// AffectedByVulns skips withdrawn records.
		aff, err := v.AffectedByVulns(ctx, []string{"GO-2022-0617", "GO-2021-0067", "NO-SUCH-1"})
		if err != nil {
			t.Fatal(err)
		}
		if len(aff) != 1 || aff[0].VulnID != "GO-2021-0067" || aff[0].Name != "stdlib" || !aff[0].Contains("1.16.0") {
			t.Fatalf("AffectedByVulns = %+v", aff)
		}
	})
}

func TestImportIncremental(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		v := vuln.Open(db)
		dir := t.TempDir()
		semver := `[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"2.0.0"}]}]`
		writeFiles(t, dir, map[string]string{
			"one/A-1.json": record("A-1", "2024-01-01T00:00:00Z", "npm", "a", semver, `,"aliases":["CVE-2024-0001"]`),
			"one/B-1.json": record("B-1", "2024-01-01T00:00:00Z", "npm", "b", semver, ""),
			"one/C-1.json": record("C-1", "2024-01-01T00:00:00Z", "npm", "c", semver, ""),
		})
		if res := importOK(t, v, filepath.Join(dir, "one")); res.Added != 3 {
			t.Fatalf("first import: %+v", res)
		}
		pkgs := []vuln.Package{{Ecosystem: "npm", Name: "a", Version: "2.5.0"}, {Ecosystem: "npm", Name: "b", Version: "1.0.0"}, {Ecosystem: "npm", Name: "c", Version: "1.0.0"}}
		if diff := cmp.Diff([][]string{{}, {"B-1"}, {"C-1"}}, matchIDs(t, v, pkgs...)); diff != "" {
			t.Fatalf("matches (-want +got):\n%s", diff)
		}

		// A newer A-1 (wider range, new alias), an older B-1 and a withdrawn C-1.
		writeFiles(t, dir, map[string]string{
			"two/A-1.json": record("A-1", "2024-02-01T00:00:00.5Z", "npm", "a", `[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"3.0.0"}]}]`, `,"aliases":["CVE-2024-0002"]`),
			"two/B-1.json": record("B-1", "2023-12-31T00:00:00Z", "npm", "b", `[{"type":"SEMVER","events":[{"introduced":"5.0.0"}]}]`, ""),
			"two/C-1.json": record("C-1", "2024-02-01T00:00:00Z", "npm", "c", semver, `,"withdrawn":"2024-02-01T00:00:00Z"`),
		})
		res := importOK(t, v, filepath.Join(dir, "two"))
		if res.Added != 0 || res.Updated != 2 || res.Unchanged != 1 || res.Withdrawn != 1 || !cmp.Equal(res.Changed, []string{"A-1", "C-1"}) {
			t.Fatalf("second import: %+v", res)
		}
		if diff := cmp.Diff([][]string{{"A-1"}, {"B-1"}, {}}, matchIDs(t, v, pkgs...)); diff != "" {
			t.Fatalf("matches after update (-want +got):\n%s", diff)
		}
		if r, err := v.Record(ctx, "CVE-2024-0002"); err != nil || r.ID != "A-1" {
			t.Fatalf("new alias: %v, %v", r, err)
		}
		if _, err := v.Record(ctx, "CVE-2024-0001"); !errors.Is(err, vuln.ErrNotFound) {
			t.Fatalf("old alias still found: %v", err)
		}
		// The same files again: nothing changes, C-1 stays withdrawn without counting again.
		res = importOK(t, v, filepath.Join(dir, "two"))
		if res.Unchanged != 3 || res.Withdrawn != 0 || len(res.Changed) != 0 {
			t.Fatalf("third import: %+v", res)
		}

		// The same id twice in one import: the newer copy wins, whichever comes first.
		writeFiles(t, dir, map[string]string{
			"three/a.json":   record("D-1", "2024-03-02T00:00:00Z", "npm", "d", semver, ""),
			"three/b.json":   record("D-1", "2024-03-01T00:00:00Z", "npm", "d", `[{"type":"SEMVER","events":[{"introduced":"9.0.0"}]}]`, ""),
			"three/c.json":   record("E-1", "2024-03-01T00:00:00Z", "npm", "e", `[{"type":"SEMVER","events":[{"introduced":"9.0.0"}]}]`, ""),
			"three/d/e.json": record("E-1", "2024-03-02T00:00:00Z", "npm", "e", semver, ""),
		})
		res = importOK(t, v, filepath.Join(dir, "three"))
		if res.Records != 4 || res.Added != 2 || res.Duplicates != 2 || !cmp.Equal(res.Changed, []string{"D-1", "E-1"}) {
			t.Fatalf("duplicate import: %+v", res)
		}
		if diff := cmp.Diff([][]string{{"D-1"}, {"E-1"}}, matchIDs(t, v, vuln.Package{Ecosystem: "npm", Name: "d", Version: "1.0.0"}, vuln.Package{Ecosystem: "npm", Name: "e", Version: "1.0.0"})); diff != "" {
			t.Fatalf("matches of duplicates (-want +got):\n%s", diff)
		}
	})
}

func TestImportSkipsBadRecords(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		v := vuln.Open(db)
		dir := t.TempDir()
		git := `[{"type":"GIT","repo":"https://example.com/r","events":[{"introduced":"0"},{"fixed":"abc"}]}]`
		writeFiles(t, dir, map[string]string{
			"x/all.zip": "GOOD-1.json=" + record("GOOD-1", "2024-01-01T00:00:00Z", "npm", "a", `[]`, `,"summary":"nul\u0000byte"`) +
				"\x00BAD-1.json={\"id\":\"BAD-1\"}" +
				"\x00BAD-2.json=not json" +
				"\x00README.txt=ignored" +
				"\x00GIT-1.json=" + record("GIT-1", "2024-01-01T00:00:00Z", "npm", "a", git, "") +
				"\x00bad-name-\xff.json=" + record("UTF-1", "2024-01-01T00:00:00Z", "npm", "u", `[]`, ""),
			"notes.txt":   "ignored",
			"y/Y-1.yaml":  "id: Y-1\nmodified: 2024-01-01T00:00:00Z\naffected:\n- package: {ecosystem: npm, name: y}\n  versions: [1.0]\n",
			"y/BAD-3.yml": "id: BAD-3\n",
		})
		// A zip that is not a zip, and a link to a record file.
		if err := os.WriteFile(filepath.Join(dir, "broken.zip"), []byte("PK not really"), 0o644); err != nil {
			t.Fatal(err)
		}
		other := t.TempDir()
		writeFiles(t, other, map[string]string{"L-1.json": record("L-1", "2024-01-01T00:00:00Z", "npm", "l", `[]`, "")})
		if err := os.Symlink(filepath.Join(other, "L-1.json"), filepath.Join(dir, "link.json")); err != nil {
			t.Fatal(err)
		}
		res := importOK(t, v, dir)
		var places []string
		for _, n := range res.Skipped {
			places = append(places, n.Place)
			if n.Reason == "" {
				t.Errorf("note without reason: %+v", n)
			}
		}
		sort.Strings(places)
		if diff := cmp.Diff([]string{"broken.zip", "x/all.zip!BAD-1.json", "x/all.zip!BAD-2.json", "y/BAD-3.yml"}, places); diff != "" {
			t.Fatalf("skipped (-want +got):\n%s\n%+v", diff, res.Skipped)
		}
		if res.Added != 5 || res.Files != 5 || res.GitRangesIgnored != 1 {
			t.Fatalf("import: %+v", res)
		}
		// Each note says what kind of problem it was, for pages to say in their language.
		codes := map[string]string{}
		for _, n := range res.Skipped {
			if n.Place == "x/all.zip!BAD-1.json" && !strings.Contains(n.Reason, "no modified time") {
				t.Errorf("reason for BAD-1: %q", n.Reason)
			}
			codes[n.Place] = n.Code
		}
		if diff := cmp.Diff(map[string]string{"broken.zip": vuln.NoteBadZip, "x/all.zip!BAD-1.json": vuln.NoteInvalidRecord,
			"x/all.zip!BAD-2.json": vuln.NoteInvalidRecord, "y/BAD-3.yml": vuln.NoteInvalidRecord}, codes); diff != "" {
			t.Errorf("note codes (-want +got):\n%s", diff)
		}
		// GIT-only records match nothing; the YAML version 1.0 stays "1.0".
		if diff := cmp.Diff([][]string{{}, {"Y-1"}, {}}, matchIDs(t, v,
			vuln.Package{Ecosystem: "npm", Name: "a", Version: "1.0.0"},
			vuln.Package{Ecosystem: "npm", Name: "y", Version: "1.0"},
			vuln.Package{Ecosystem: "npm", Name: "y", Version: "1"})); diff != "" {
			t.Fatalf("matches (-want +got):\n%s", diff)
		}
		if r, err := v.Record(ctx, "GOOD-1"); err != nil || r.Summary != "nul\x00byte" {
			t.Fatalf("record with NUL: %+v, %v", r, err)
		}
		st, err := v.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.LastImport.Skipped != 4 || len(st.LastImport.Notes) != 5 {
			t.Fatalf("last import: %+v", st.LastImport)
		}

		// A single file can be imported too; a missing path is an error.
		if res := importOK(t, v, filepath.Join(dir, "y", "Y-1.yaml")); res.Files != 1 || res.Unchanged != 1 {
			t.Fatalf("single file: %+v", res)
		}
		if _, err := v.Import(ctx, filepath.Join(dir, "missing"), vuln.ImportOptions{}); err == nil {
			t.Fatal("importing a missing path succeeded")
		}
	})
}

func TestImportZipLimits(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	v := vuln.Open(db)
	dir := t.TempDir()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, err := zw.Create("HUGE-1.json")
	if err != nil {
		t.Fatal(err)
	}
	chunk := bytes.Repeat([]byte(" "), 1<<20)
	for i := 0; i < 17; i++ {
		if _, err := w.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	w, err = zw.Create("OK-1.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte(record("OK-1", "2024-01-01T00:00:00Z", "npm", "a", "[]", ""))); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "all.zip"), b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	res := importOK(t, v, dir)
	if res.Added != 1 || len(res.Skipped) != 1 || res.Skipped[0].Place != "all.zip!HUGE-1.json" || !strings.Contains(res.Skipped[0].Reason, "exceeds") || res.Skipped[0].Code != vuln.NoteMemberTooLarge {
		t.Fatalf("import: %+v", res)
	}
}

func TestImportCancelled(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	v := vuln.Open(db)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := v.Import(ctx, "testdata/osv", vuln.ImportOptions{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("import with cancelled context: %v", err)
	}
	st, err := v.Status(context.Background())
	if err != nil || st.LastImport != nil || st.Total != 0 {
		t.Fatalf("status after cancelled import: %+v, %v", st, err)
	}
}

func TestAffectedForManyKeys(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		v := vuln.Open(db)
		dir := t.TempDir()
		files := map[string]string{}
		semver := `[{"type":"SEMVER","events":[{"introduced":"0"}]}]`
		for i := 0; i < 30; i++ {
			files[fmt.Sprintf("N-%d.json", i)] = record(fmt.Sprintf("N-%d", i), "2024-01-01T00:00:00Z", "npm", fmt.Sprintf("pkg%04d", i*41), semver, "")
		}
		files["D-1.json"] = record("D-1", "2024-01-01T00:00:00Z", "Debian:12", "openssl", `[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"3.0.11-1~deb12u1"}]}]`, "")
		files["D-2.json"] = record("D-2", "2024-01-01T00:00:00Z", "Debian", "openssl", `[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"3.0.12-1"}]}]`, "")
		writeFiles(t, dir, files)
		importOK(t, v, dir)
		var keys []vuln.PackageKey
		var pkgs []vuln.Package
		for i := 0; i < 1234; i++ {
			p := vuln.Package{Ecosystem: "npm", Name: fmt.Sprintf("pkg%04d", i), Version: "1.0.0"}
			pkgs = append(pkgs, p)
			keys = append(keys, vuln.KeyOf(p))
		}
		keys = append(keys, vuln.PackageKey{Ecosystem: "Debian", Name: "openssl"})
		aff, err := v.AffectedFor(context.Background(), keys)
		if err != nil {
			t.Fatal(err)
		}
		if len(aff) != 31 || len(aff[vuln.PackageKey{Ecosystem: "Debian", Name: "openssl"}]) != 2 {
			t.Fatalf("AffectedFor returned %d keys", len(aff))
		}
		ms, err := v.Match(context.Background(), pkgs)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for i, m := range ms {
			if len(m) > 0 {
				n++
				if i%41 != 0 || m[0].ID != fmt.Sprintf("N-%d", i/41) {
					t.Fatalf("package %d matched %+v", i, m)
				}
			}
		}
		if n != 30 {
			t.Fatalf("%d packages matched, want 30", n)
		}
		// Release suffixes: Debian:12 advisories apply to Debian 12 and to packages
		// without release; advisories without suffix apply to every release.
		got := matchIDs(t, v,
			vuln.Package{Ecosystem: "Debian:12", Name: "openssl", Version: "3.0.10-1"},
			vuln.Package{Ecosystem: "Debian:11", Name: "openssl", Version: "3.0.10-1"},
			vuln.Package{Ecosystem: "Debian", Name: "openssl", Version: "3.0.10-1"},
			vuln.Package{Ecosystem: "Debian:12", Name: "openssl", Version: "3.0.11-1~deb12u1"})
		if diff := cmp.Diff([][]string{{"D-1", "D-2"}, {"D-2"}, {"D-1", "D-2"}, {"D-2"}}, got); diff != "" {
			t.Fatalf("Debian matches (-want +got):\n%s", diff)
		}
	})
}

// TestNuGetNamesIgnoreCase checks that NuGet package ids, which NuGet compares without
// regard to case, match whatever the case of the advisory and of the package, while npm
// names still match only as written.
func TestNuGetNamesIgnoreCase(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		v := vuln.Open(db)
		if res := importOK(t, v, "testdata/nuget"); res.Added != 3 {
			t.Fatalf("import: %+v", res)
		}
		var pkgs []vuln.Package
		for _, purl := range []string{
			"pkg:nuget/newtonsoft.json@12.0.1",
			"pkg:nuget/Newtonsoft.Json@12.0.1",
			"pkg:nuget/NEWTONSOFT.JSON@12.0.1",
			"pkg:nuget/newtonsoft.json@13.0.1", // fixed
			"pkg:nuget/System.Text.Encodings.Web@4.5.0",
			"pkg:nuget/system.text.encodings.web@4.5.0",
			"pkg:nuget/Newtonsoft.Json.Bson@1.0.1", // another package
		} {
			p, err := vuln.PackageFromPURL(purl)
			if err != nil {
				t.Fatal(err)
			}
			pkgs = append(pkgs, p)
		}
		pkgs = append(pkgs,
			vuln.Package{Ecosystem: "npm", Name: "lodash", Version: "4.17.0"}, // the advisory names Lodash
			vuln.Package{Ecosystem: "npm", Name: "Lodash", Version: "4.17.0"},
		)
		want := [][]string{
			{"GHSA-test-nuget-1"}, {"GHSA-test-nuget-1"}, {"GHSA-test-nuget-1"}, {},
			{"GHSA-test-nuget-2"}, {"GHSA-test-nuget-2"}, {},
			{}, {"GHSA-test-npm-case"},
		}
		if diff := cmp.Diff(want, matchIDs(t, v, pkgs...)); diff != "" {
			t.Fatalf("matches (-want +got):\n%s", diff)
		}
		// The advisory's name keeps its case for display.
		aff, err := v.AffectedByVulns(ctx, []string{"GHSA-test-nuget-1", "GHSA-test-nuget-2"})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, a := range aff {
			names = append(names, a.Name)
		}
		if diff := cmp.Diff([]string{"Newtonsoft.Json", "system.text.encodings.web"}, names); diff != "" {
			t.Fatalf("affected names (-want +got):\n%s", diff)
		}
	})
}

// TestNuGetKeysOfEarlierImports checks that migration 0009 makes NuGet entries stored
// before it (under the id as the advisory wrote it) match whatever the case.
func TestNuGetKeysOfEarlierImports(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			db := storetest.OpenAt(t, d, 8)
			// The rows an import made before migration 0009.
			raw := `{"affected":[{"package":{"ecosystem":"NuGet","name":"Newtonsoft.Json"}}],"id":"GHSA-old-1","modified":"2026-03-01T00:00:00Z"}`
			now := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
			if _, err := db.ExecContext(ctx, `INSERT INTO vulns (id, modified, raw, imported_at) VALUES (?, ?, ?, ?)`,
				"GHSA-old-1", now, raw, now); err != nil {
				t.Fatal(err)
			}
			data := `{"ecosystem":"NuGet","name":"Newtonsoft.Json","ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"13.0.1"}]}]}`
			for _, row := range [][]any{{"GHSA-old-1", "NuGet", "Newtonsoft.Json", data}, {"GHSA-old-1", "npm", "Lodash", `{"ecosystem":"npm","name":"Lodash","versions":["1.0.0"]}`}} {
				if _, err := db.ExecContext(ctx, `INSERT INTO vuln_affected (vuln_id, ecosystem, name, data) VALUES (?, ?, ?, ?)`, row...); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			v := vuln.Open(db)
			got := matchIDs(t, v,
				vuln.Package{Ecosystem: "NuGet", Name: "newtonsoft.json", Version: "12.0.1"},
				vuln.Package{Ecosystem: "NuGet", Name: "Newtonsoft.Json", Version: "12.0.1"},
				vuln.Package{Ecosystem: "npm", Name: "lodash", Version: "1.0.0"},
				vuln.Package{Ecosystem: "npm", Name: "Lodash", Version: "1.0.0"},
			)
			if diff := cmp.Diff([][]string{{"GHSA-old-1"}, {"GHSA-old-1"}, {}, {"GHSA-old-1"}}, got); diff != "" {
				t.Fatalf("matches (-want +got):\n%s", diff)
			}
		})
	}
}

// TestImportUnbumpedModified checks the content comparison of records whose modified
// time does not change: the Go database's export dates every record 0001-01-01, so a
// changed record must be told from an identical one by its content.
func TestImportUnbumpedModified(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		v := vuln.Open(db)
		pkgs := []vuln.Package{{Ecosystem: "Go", Name: "example.com/unbumped", Version: "v1.2.5"}, {Ecosystem: "Go", Name: "example.com/steady", Version: "v1.0.0"}}
		if res := importOK(t, v, "testdata/unbumped/v1"); res.Added != 2 {
			t.Fatalf("first import: %+v", res)
		}
		if res := importOK(t, v, "testdata/unbumped/v1"); res.Unchanged != 2 || res.Added+res.Updated != 0 || len(res.Changed) != 0 {
			t.Fatalf("identical re-import: %+v", res)
		}
		if diff := cmp.Diff([][]string{{}, {"GO-TEST-0002"}}, matchIDs(t, v, pkgs...)); diff != "" {
			t.Fatalf("matches (-want +got):\n%s", diff)
		}
		// GO-TEST-0001's fix moved; GO-TEST-0002 differs in key order and spacing only.
		res := importOK(t, v, "testdata/unbumped/v2")
		if res.Updated != 1 || res.Unchanged != 1 || res.Added != 0 || !cmp.Equal(res.Changed, []string{"GO-TEST-0001"}) {
			t.Fatalf("import of the changed record: %+v", res)
		}
		if diff := cmp.Diff([][]string{{"GO-TEST-0001"}, {"GO-TEST-0002"}}, matchIDs(t, v, pkgs...)); diff != "" {
			t.Fatalf("matches after the update (-want +got):\n%s", diff)
		}
		if res := importOK(t, v, "testdata/unbumped/v2"); res.Unchanged != 2 || res.Added+res.Updated != 0 || len(res.Changed) != 0 {
			t.Fatalf("identical re-import: %+v", res)
		}
		// A newer stored copy still wins over an older one, whatever its content.
		dir := t.TempDir()
		writeFiles(t, dir, map[string]string{"GO-TEST-0001.json": record("GO-TEST-0001", "0001-01-01T00:00:00Z", "Go",
			"example.com/unbumped", `[{"type":"SEMVER","events":[{"introduced":"0"}]}]`, "")})
		if _, err := db.ExecContext(context.Background(), `UPDATE vulns SET modified = ? WHERE id = 'GO-TEST-0001'`,
			time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
			t.Fatal(err)
		}
		if res := importOK(t, v, dir); res.Unchanged != 1 || res.Updated != 0 {
			t.Fatalf("import of an older copy: %+v", res)
		}
	})
}

// TestImportRecordsWithoutHash checks records stored before migration 0010, whose
// content hash is empty: an identical copy stays unchanged (its hash is filled in from
// the stored record), a changed one with the same modified time is updated.
func TestImportRecordsWithoutHash(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		v := vuln.Open(db)
		importOK(t, v, "testdata/unbumped/v1")
		forget := func() {
			t.Helper()
			if _, err := db.ExecContext(ctx, `UPDATE vulns SET content_hash = ''`); err != nil {
				t.Fatal(err)
			}
		}
		forget()
		if res := importOK(t, v, "testdata/unbumped/v1"); res.Unchanged != 2 || res.Updated != 0 || len(res.Changed) != 0 {
			t.Fatalf("identical import over rows without hash: %+v", res)
		}
		var missing int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM vulns WHERE content_hash = ''`).Scan(&missing); err != nil || missing != 0 {
			t.Fatalf("%d rows still without hash, %v", missing, err)
		}
		forget()
		res := importOK(t, v, "testdata/unbumped/v2")
		if res.Updated != 1 || res.Unchanged != 1 || !cmp.Equal(res.Changed, []string{"GO-TEST-0001"}) {
			t.Fatalf("changed import over rows without hash: %+v", res)
		}
		if diff := cmp.Diff([][]string{{"GO-TEST-0001"}}, matchIDs(t, v, vuln.Package{Ecosystem: "Go", Name: "example.com/unbumped", Version: "v1.2.5"})); diff != "" {
			t.Fatalf("matches after the update (-want +got):\n%s", diff)
		}
	})
}

// TestSeverityFromAlias: a Go advisory carries no CVSS; the summary takes the severity of
// a record of its alias group stored in the database — named as an alias, or sharing one
// — the highest when several, never a withdrawn one, and keeps its own when it has one.
func TestSeverityFromAlias(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		v := vuln.Open(db)
		dir := t.TempDir()
		rng := `[{"type":"SEMVER","events":[{"introduced":"0"}]}]`
		cvss := func(vector string) string {
			return `,"severity":[{"type":"CVSS_V3","score":"` + vector + `"}]`
		}
		const (
			high     = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N" // 7.5
			critical = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" // 9.8
			medium   = "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:L/I:L/A:N" // 5.4
		)
		writeFiles(t, dir, map[string]string{
			// GO-A names GHSA-A (high) as an alias; GHSA-A2 (critical) shares its CVE.
			"GO-A.json":    record("GO-A", "2024-01-01T00:00:00Z", "Go", "example.com/a", rng, `,"aliases":["CVE-2024-1","GHSA-A"]`),
			"GHSA-A.json":  record("GHSA-A", "2024-01-01T00:00:00Z", "Go", "example.com/a", rng, `,"aliases":["CVE-2024-1"]`+cvss(high)),
			"GHSA-A2.json": record("GHSA-A2", "2024-01-01T00:00:00Z", "Go", "example.com/a", rng, `,"aliases":["CVE-2024-1"]`+cvss(critical)),
			// GO-B: its only rated alias is withdrawn.
			"GO-B.json": record("GO-B", "2024-01-01T00:00:00Z", "Go", "example.com/b", rng, `,"aliases":["GHSA-B"]`),
			"GHSA-B.json": record("GHSA-B", "2024-01-01T00:00:00Z", "Go", "example.com/b", rng,
				`,"withdrawn":"2024-02-01T00:00:00Z"`+cvss(critical)),
			// GO-C: no alias record at all.
			"GO-C.json": record("GO-C", "2024-01-01T00:00:00Z", "Go", "example.com/c", rng, `,"aliases":["CVE-2024-3"]`),
			// PYSEC-D has its own (medium) and keeps it though an alias is critical.
			"PYSEC-D.json": record("PYSEC-D", "2024-01-01T00:00:00Z", "PyPI", "d", `[{"type":"ECOSYSTEM","events":[{"introduced":"0"}]}]`,
				`,"aliases":["GHSA-D"]`+cvss(medium)),
			"GHSA-D.json": record("GHSA-D", "2024-01-01T00:00:00Z", "PyPI", "d", `[{"type":"ECOSYSTEM","events":[{"introduced":"0"}]}]`,
				cvss(critical)),
		})
		importOK(t, v, dir)
		sums, err := v.Summaries(context.Background(), []string{"GO-A", "GO-B", "GO-C", "PYSEC-D"})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct{ id, level, from string }{
			{"GO-A", vuln.LevelCritical, "GHSA-A2"},
			{"GO-B", vuln.LevelUnknown, ""},
			{"GO-C", vuln.LevelUnknown, ""},
			{"PYSEC-D", vuln.LevelMedium, ""},
		} {
			if got := sums[c.id].Severity; got.Level != c.level || got.From != c.from {
				t.Errorf("%s severity = %+v, want %s from %q", c.id, got, c.level, c.from)
			}
		}
	})
}
