package vuln_test

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/medguard/medguard/internal/vuln"
)

// fuzzEcosystems are the orderings FuzzCompare and FuzzContains pick from.
var fuzzEcosystems = []string{"npm", "PyPI", "Maven", "Go", "crates.io", "RubyGems", "NuGet", "Packagist", "Debian", "Alpine",
	"Ubuntu", "Pub", "Hackage", "CRAN", "Red Hat", "Hex", vuln.SemVer, "GitHub Actions"}

// recordSeeds returns the JSON and YAML records under testdata/osv, zip members
// included.
func recordSeeds(t testing.TB) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir("testdata/osv", func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		switch strings.ToLower(filepath.Ext(p)) {
		case ".json", ".yaml", ".yml":
			b, err := os.ReadFile(p)
			out[filepath.Base(p)] = b
			return err
		case ".zip":
			zr, err := zip.OpenReader(p)
			if err != nil {
				return err
			}
			defer zr.Close()
			for _, f := range zr.File {
				rc, err := f.Open()
				if err != nil {
					return err
				}
				b, err := io.ReadAll(rc)
				rc.Close()
				if err != nil {
					return err
				}
				out[f.Name] = b
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// FuzzParseRecord parses arbitrary bytes as JSON and as YAML: it must never panic, must
// name the place in every error, and a record it accepts must have an id and a
// canonical form that parses to the same id.
func FuzzParseRecord(f *testing.F) {
	for name, b := range recordSeeds(f) {
		f.Add(b, strings.HasSuffix(name, ".yaml"))
	}
	f.Add([]byte(`{"id":"X-1","modified":"2021-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"a"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"limit":"*"}]}]}]}`), false)
	f.Add([]byte("id: X-1\nmodified: 2021-01-01T00:00:00Z\ndatabase_specific: {a: [1, 2.5, .inf, true, ~]}\n"), true)
	f.Fuzz(func(t *testing.T, data []byte, yaml bool) {
		name := "fuzz.json"
		if yaml {
			name = "fuzz.yaml"
		}
		r, err := vuln.ParseRecord(data, name)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "vuln: "+name+": ") {
				t.Fatalf("error does not name the place: %v", err)
			}
			return
		}
		if r.ID == "" || r.Modified.IsZero() && !strings.Contains(string(r.Raw), "0001-01-01") {
			t.Fatalf("accepted record without id or modified: %+v", r)
		}
		again, err := vuln.ParseRecord(r.Raw, "raw.json")
		if err != nil {
			t.Fatalf("canonical form does not parse: %v\n%s", err, r.Raw)
		}
		if again.ID != r.ID || !again.Modified.Equal(r.Modified) || len(again.Affected) != len(r.Affected) || !bytes.Equal(again.Raw, r.Raw) {
			t.Fatalf("canonical form differs: %+v vs %+v", again, r)
		}
		for i := range r.Affected {
			r.Affected[i].Contains("1.0.0")
		}
	})
}

// FuzzPackageFromPURL maps arbitrary strings: no panic, and a result always has an
// ecosystem and a name; unsupported types are reported as such.
func FuzzPackageFromPURL(f *testing.F) {
	b, err := os.ReadFile("testdata/purls.txt")
	if err != nil {
		f.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			f.Add(line)
		}
	}
	f.Fuzz(func(t *testing.T, purl string) {
		p, err := vuln.PackageFromPURL(purl)
		if err != nil {
			return
		}
		if p.Ecosystem == "" || p.Name == "" {
			t.Fatalf("PackageFromPURL(%q) = %+v", purl, p)
		}
		if k := vuln.KeyOf(p); k.Ecosystem == "" || strings.Contains(k.Ecosystem, ":") {
			t.Fatalf("KeyOf(%+v) = %+v", p, k)
		}
	})
}

// FuzzCompare compares two arbitrary versions of an ecosystem: no panic, reflexive and
// antisymmetric whenever both parse.
func FuzzCompare(f *testing.F) {
	files, err := filepath.Glob("testdata/versions/*.txt")
	if err != nil {
		f.Fatal(err)
	}
	for _, path := range files {
		eco := strings.TrimSuffix(filepath.Base(path), ".txt")
		idx := 0
		for i, e := range fuzzEcosystems {
			if e == eco {
				idx = i
			}
		}
		for _, c := range readVersionFixture(f, path) {
			f.Add(uint8(idx), c.a, c.b)
		}
	}
	f.Fuzz(func(t *testing.T, eco uint8, a, b string) {
		e := fuzzEcosystems[int(eco)%len(fuzzEcosystems)]
		va, errA := vuln.ParseVersion(e, a)
		vb, errB := vuln.ParseVersion(e, b)
		for _, err := range []error{errA, errB} {
			if err != nil && !errors.Is(err, vuln.ErrInvalidVersion) && !errors.Is(err, vuln.ErrUnsupportedEcosystem) {
				t.Fatalf("unexpected error kind: %v", err)
			}
		}
		if errA != nil || errB != nil {
			return
		}
		ab, err := va.Compare(vb)
		if err != nil {
			return
		}
		ba, err := vb.Compare(va)
		if err != nil {
			t.Fatalf("%s: Compare(%q, %q) worked but not the reverse: %v", e, a, b, err)
		}
		if ab != -ba {
			t.Fatalf("%s: Compare(%q, %q) = %d but Compare(%q, %q) = %d", e, a, b, ab, b, a, ba)
		}
		if aa, err := va.Compare(va); err != nil || aa != 0 {
			t.Fatalf("%s: Compare(%q, itself) = %d, %v", e, a, aa, err)
		}
	})
}

// FuzzContains evaluates a range built from arbitrary event versions against an
// arbitrary version: no panic; the empty version is never affected, a listed version
// always is.
func FuzzContains(f *testing.F) {
	for _, c := range readRangeCases(f) {
		var evs []string
		for _, r := range c.affected.Ranges {
			for _, e := range r.Events {
				switch {
				case e.Introduced != "":
					evs = append(evs, "i:"+e.Introduced)
				case e.Fixed != "":
					evs = append(evs, "f:"+e.Fixed)
				case e.LastAffected != "":
					evs = append(evs, "la:"+e.LastAffected)
				default:
					evs = append(evs, "l:"+e.Limit)
				}
			}
		}
		idx := 0
		for i, e := range fuzzEcosystems {
			if e == baseOf(c.affected.Ecosystem) {
				idx = i
			}
		}
		if len(c.affected.Ranges) > 0 && c.affected.Ranges[0].Type == vuln.RangeSemVer {
			for i, e := range fuzzEcosystems {
				if e == vuln.SemVer {
					idx = i
				}
			}
		}
		f.Add(uint8(idx), strings.Join(evs, " "), c.version)
	}
	f.Fuzz(func(t *testing.T, eco uint8, events, version string) {
		e := fuzzEcosystems[int(eco)%len(fuzzEcosystems)]
		typ := vuln.RangeEcosystem
		if e == vuln.SemVer {
			e, typ = "npm", vuln.RangeSemVer
		}
		a := vuln.Affected{VulnID: "F-1", Ecosystem: e, Name: "pkg"}
		if e == "Go" {
			a.Name = "stdlib"
		}
		r := vuln.Range{Type: typ}
		for i, tok := range strings.Fields(events) {
			if i >= 16 {
				break
			}
			kind, val, _ := strings.Cut(tok, ":")
			switch kind {
			case "i":
				r.Events = append(r.Events, vuln.Event{Introduced: val})
			case "f":
				r.Events = append(r.Events, vuln.Event{Fixed: val})
			case "la":
				r.Events = append(r.Events, vuln.Event{LastAffected: val})
			default:
				r.Events = append(r.Events, vuln.Event{Limit: val})
			}
		}
		a.Ranges = []vuln.Range{r}
		uncompiled := a.Contains(version)
		a.Compile()
		if got := a.Contains(version); got != uncompiled {
			t.Fatalf("compiled %v, uncompiled %v", got, uncompiled)
		}
		if version == "" && uncompiled {
			t.Fatal("the empty version is affected")
		}
		// A version that cannot be ordered is never inside a range (stdlib's Go tags are
		// ordered as the release they name).
		if e != "Go" && !vuln.Comparable(e, version) && uncompiled {
			t.Fatalf("not comparable version %q is affected through a range", version)
		}
		if version != "" && utf8.ValidString(version) {
			a.Versions = []string{version}
			a.Compile()
			if !a.Contains(version) {
				t.Fatalf("listed version %q not affected", version)
			}
		}
	})
}

func baseOf(eco string) string {
	b, _, _ := strings.Cut(eco, ":")
	return b
}

// FuzzComparable: Comparable never panics, a comparable version always parses, and a
// version the ecosystem's parser rejects is never comparable.
func FuzzComparable(f *testing.F) {
	data, err := os.ReadFile("testdata/comparable.txt")
	if err != nil {
		f.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Split(line, "|")
		if len(fields) != 3 || strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		f.Add(strings.TrimSpace(fields[0]), strings.TrimSpace(fields[1]))
	}
	f.Fuzz(func(t *testing.T, eco, version string) {
		ok := vuln.Comparable(eco, version)
		_, err := vuln.ParseVersion(eco, version)
		if ok && err != nil {
			t.Fatalf("Comparable(%q, %q) but ParseVersion fails: %v", eco, version, err)
		}
		if version == "" && ok {
			t.Fatalf("the empty version is comparable in %q", eco)
		}
	})
}
