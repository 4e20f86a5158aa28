package sbom_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"testing"

	"github.com/medguard/medguard/internal/sbom"
)

// sharedSBOMs is the public SBOM collection of the development machine (see
// /work/shared/data/SOURCES.md); tests reading it skip on a clone without it.
const sharedSBOMs = "../../../shared/data/sbom"

func sharedDir(t *testing.T, sub string) string {
	t.Helper()
	dir := filepath.Join(sharedSBOMs, sub)
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("shared data %s is not available (%v); skipping", dir, err)
	}
	return dir
}

// sbomName matches the file names an SBOM is published under.
var sbomName = regexp.MustCompile(`(\.json|\.xml|\.spdx|\.sbom)$|\.cdx\.`)

// notSBOMs are the files in the shared folders whose names look like SBOMs but which are
// lockfiles and osv-scanner configurations; Detect must reject them. Every other file
// with an SBOM name must parse.
var notSBOMs = map[string]bool{
	"package-lock.json":                  true,
	"my-package-lock.json":               true,
	"packages.lock.json":                 true,
	"osv-scanner.json":                   true,
	"osv-scanner-custom.json":            true,
	"osv-scanner-custom-git-tag.json":    true,
	"osv-scanner-flutter-deps.json":      true,
	"osv-scanner-with-unscannables.json": true,
}

// TestSharedSBOMs parses every published SBOM of the shared collection: CycloneDX
// examples, SBOMs published by real projects and osv-scanner's test SBOMs.
func TestSharedSBOMs(t *testing.T) {
	for _, sub := range []string{"cyclonedx-examples", "in-the-wild", "osv-scanner-testdata"} {
		t.Run(sub, func(t *testing.T) {
			dir := sharedDir(t, sub)
			formats := map[sbom.Format]int{}
			warnings := map[string]int{}
			components, skipped := 0, 0
			err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() || !sbomName.MatchString(d.Name()) {
					return err
				}
				data, err := os.ReadFile(path)
				if err != nil {
					return err
				}
				rel, _ := filepath.Rel(dir, path)
				if notSBOMs[d.Name()] {
					if f, err := sbom.Detect(data); err == nil {
						t.Errorf("%s: detected as %s though listed as not an SBOM", rel, f)
					}
					skipped++
					return nil
				}
				doc, err := sbom.Parse(data)
				if err != nil {
					t.Errorf("%s: %v", rel, err)
					return nil
				}
				checkInvariants(t, doc)
				formats[doc.Format]++
				components += len(doc.Components)
				for _, w := range doc.Warnings {
					warnings[w.Code]++
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, c := range formats {
				n += c
			}
			if n == 0 {
				t.Fatalf("no SBOM found under %s", dir)
			}
			t.Logf("%d SBOMs parsed (%v), %d components, warnings %v; %d lockfiles and configurations skipped", n, formats, components, warnings, skipped)
		})
	}
}

// TestSharedMalformed reads the broken and non-standard files of the shared collection:
// each must give a ParseError or be readable.
func TestSharedMalformed(t *testing.T) {
	dir := sharedDir(t, "malformed")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var outcomes []string
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := sbom.Parse(data)
		if err != nil {
			var pe *sbom.ParseError
			if !errors.As(err, &pe) {
				t.Errorf("%s: error %T is not a *ParseError: %v", e.Name(), err, err)
			}
			outcomes = append(outcomes, e.Name()+": "+err.Error())
			continue
		}
		checkInvariants(t, doc)
		outcomes = append(outcomes, e.Name()+": readable, "+string(doc.Format)+", "+strconv.Itoa(len(doc.Components))+" components, "+strconv.Itoa(len(doc.Warnings))+" warnings")
	}
	sort.Strings(outcomes)
	for _, o := range outcomes {
		t.Log(o)
	}
}
