// Command gen is the helper of bench/supply/run.sh, the supply-chain benchmark that
// compares medguard with osv-scanner. It owns no product code; it only prepares input
// and reads the two tools' output:
//
//	gen sboms   -osv DIR -out DIR [-sizes 50,500,3000] [-seed 1] [-all]
//	    writes gen-<n>.cdx.json: CycloneDX 1.5 JSON SBOMs of n components whose
//	    packages and versions are taken, deterministically, from the OSV exports
//	    DIR/<Ecosystem>/all.zip (Go, PyPI, crates.io): a mix of versions the advisories
//	    name as introduced, fixed, last affected or listed, so that some are affected
//	    and some are not; -all also writes gen-all.cdx.json, every such version.
//	gen compare -name NAME -medguard FILE [-osv FILE | -refused MSG] [-sbom FILE]
//	    prints one JSON line comparing the (ecosystem, name, version, vulnerability id)
//	    sets of `medguard sbom check --format json` and `osv-scanner --format json`
//	    (or recording that osv-scanner refused the file, or that it cannot read it).
//	gen ext -medguard FILE
//	    prints the file name ending osv-scanner needs for the SBOM medguard read
//	    (cdx.json, cdx.xml, spdx.json), or nothing for SPDX tag-value.
//	gen tocdx -sbom FILE -out FILE
//	    re-wraps the components with a purl of any SBOM medguard reads as CycloneDX
//	    JSON (same purl, name and version), for the files osv-scanner cannot read.
//	gen osvdb -osv DIR -out DIR
//	    lays out osv-scanner's offline database: DIR/osv-scanner/<Ecosystem>/all.zip,
//	    hard links (else copies) of the Go, PyPI and crates.io exports, and for every
//	    other ecosystem a zip holding only README.txt.
//	gen probes -out DIR
//	    writes probes.cdx.json: hand-picked components that exercise the known
//	    differences (Go toolchain tags, upper-case module paths, purls without
//	    version, PyPI name spellings, pre-releases).
//	gen timeit -runs N -out FILE -name NAME -- COMMAND ARGS...
//	    runs a command N times (after one warm-up) and writes hyperfine-style JSON;
//	    the fallback when hyperfine is not installed.
//	gen classify -osv DIR < compare.jsonl
//	    prints, for every pair only one tool reports, the advisory features that
//	    explain it (limit events, GIT range before the ECOSYSTEM range, SEMVER range
//	    read with the ecosystem's ordering, …) as JSON lines.
//	gen report  -dir OUT
//	    writes OUT/summary.md from the JSON lines the script left in OUT.
package main

import (
	"archive/zip"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/medguard/medguard/internal/vuln"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: gen sboms|compare|ext|tocdx|osvdb|probes|timeit|classify|report [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "sboms":
		err = cmdSBOMs(os.Args[2:])
	case "compare":
		err = cmdCompare(os.Args[2:])
	case "ext":
		err = cmdExt(os.Args[2:])
	case "tocdx":
		err = cmdToCDX(os.Args[2:])
	case "osvdb":
		err = cmdOSVDB(os.Args[2:])
	case "probes":
		err = cmdProbes(os.Args[2:])
	case "timeit":
		err = cmdTimeit(os.Args[2:])
	case "classify":
		err = cmdClassify(os.Args[2:], os.Stdin, os.Stdout)
	case "report":
		err = cmdReport(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

// ecosystems are the OSV exports the benchmark uses.
var ecosystems = []string{"Go", "PyPI", "crates.io"}

// osvRecord is the part of an OSV record the helper reads.
type osvRecord struct {
	ID        string        `json:"id"`
	Withdrawn string        `json:"withdrawn"`
	Affected  []osvAffected `json:"affected"`
}

type osvAffected struct {
	Package struct {
		Ecosystem string `json:"ecosystem"`
		Name      string `json:"name"`
	} `json:"package"`
	Ranges []struct {
		Type   string              `json:"type"`
		Events []map[string]string `json:"events"`
	} `json:"ranges"`
	Versions []string `json:"versions"`
}

// readExports calls fn for every record of DIR/<Ecosystem>/all.zip.
func readExports(dir string, fn func(eco string, rec *osvRecord, raw []byte) error) error {
	for _, eco := range ecosystems {
		p := filepath.Join(dir, eco, "all.zip")
		zr, err := zip.OpenReader(p)
		if err != nil {
			return fmt.Errorf("open %s: %w", p, err)
		}
		for _, f := range zr.File {
			if !strings.HasSuffix(f.Name, ".json") {
				continue
			}
			rc, err := f.Open()
			if err != nil {
				zr.Close()
				return fmt.Errorf("%s!%s: %w", p, f.Name, err)
			}
			data, err := io.ReadAll(io.LimitReader(rc, 16<<20))
			rc.Close()
			if err != nil {
				zr.Close()
				return fmt.Errorf("%s!%s: %w", p, f.Name, err)
			}
			var rec osvRecord
			if err := json.Unmarshal(data, &rec); err != nil {
				zr.Close()
				return fmt.Errorf("%s!%s: %w", p, f.Name, err)
			}
			if err := fn(eco, &rec, data); err != nil {
				zr.Close()
				return err
			}
		}
		zr.Close()
	}
	return nil
}

type pkgKey struct{ eco, name string }

// cmdSBOMs writes the generated SBOMs.
func cmdSBOMs(args []string) error {
	fs := flag.NewFlagSet("sboms", flag.ContinueOnError)
	dir := fs.String("osv", "", "folder holding <Ecosystem>/all.zip")
	out := fs.String("out", "", "output folder")
	sizes := fs.String("sizes", "50,500,3000", "component counts, comma-separated")
	seed := fs.Uint64("seed", 1, "random seed")
	all := fs.Bool("all", false, "also write gen-all.cdx.json: every version the advisories name, of every package")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" || *out == "" {
		return errors.New("sboms: -osv and -out are required")
	}
	versions := map[pkgKey]map[string]bool{}
	err := readExports(*dir, func(eco string, rec *osvRecord, _ []byte) error {
		if rec.Withdrawn != "" {
			return nil
		}
		for _, a := range rec.Affected {
			if a.Package.Ecosystem != eco || a.Package.Name == "" {
				continue
			}
			k := pkgKey{eco, a.Package.Name}
			set := versions[k]
			if set == nil {
				set = map[string]bool{}
				versions[k] = set
			}
			for _, v := range a.Versions {
				set[v] = true
			}
			for _, r := range a.Ranges {
				if r.Type == "GIT" {
					continue
				}
				for _, e := range r.Events {
					for kind, v := range e {
						if kind != "limit" && v != "0" && v != "" && !strings.Contains(v, "*") {
							set[v] = true
						}
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	var keys []pkgKey
	for k, set := range versions {
		if len(set) > 0 {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].eco != keys[j].eco {
			return keys[i].eco < keys[j].eco
		}
		return keys[i].name < keys[j].name
	})
	sorted := map[pkgKey][]string{}
	for _, k := range keys {
		var vs []string
		for v := range versions[k] {
			vs = append(vs, v)
		}
		sort.Strings(vs)
		sorted[k] = vs
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			return fmt.Errorf("sboms: bad size %q", s)
		}
		rng := rand.New(rand.NewPCG(*seed, uint64(n)))
		data, err := buildSBOM(rng, keys, sorted, n)
		if err != nil {
			return err
		}
		p := filepath.Join(*out, fmt.Sprintf("gen-%d.cdx.json", n))
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return err
		}
		fmt.Printf("%s: %d components\n", p, n)
	}
	if *all {
		var comps []component
		for _, k := range keys {
			for _, v := range sorted[k] {
				purl, ver := purlOf(k, v)
				comps = append(comps, component{BOMRef: purl, Type: "library", Name: k.name, Version: ver, PURL: purl})
			}
		}
		data, err := sbomJSON(comps, "all")
		if err != nil {
			return err
		}
		p := filepath.Join(*out, "gen-all.cdx.json")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return err
		}
		fmt.Printf("%s: %d components\n", p, len(comps))
	}
	return nil
}

// purlOf returns the package URL of an OSV package version.
func purlOf(k pkgKey, version string) (string, string) {
	switch k.eco {
	case "Go":
		if k.name != "stdlib" && k.name != "toolchain" {
			version = "v" + version
		}
		ns, name := "", k.name
		if i := strings.LastIndexByte(k.name, '/'); i >= 0 {
			ns, name = k.name[:i], k.name[i+1:]
		}
		return packageurl.NewPackageURL("golang", ns, name, version, nil, "").ToString(), version
	case "PyPI":
		return packageurl.NewPackageURL("pypi", "", k.name, version, nil, "").ToString(), version
	default:
		return packageurl.NewPackageURL("cargo", "", k.name, version, nil, "").ToString(), version
	}
}

// buildSBOM draws n distinct package versions: packages in random order, each with one
// of its versions; once every package is used, further versions of the same packages.
func buildSBOM(rng *rand.Rand, keys []pkgKey, versions map[pkgKey][]string, n int) ([]byte, error) {
	used := map[string]bool{}
	var comps []component
	for round := 0; len(comps) < n && round < 50; round++ {
		perm := rng.Perm(len(keys))
		for _, i := range perm {
			if len(comps) == n {
				break
			}
			k := keys[i]
			vs := versions[k]
			v := vs[rng.IntN(len(vs))]
			purl, ver := purlOf(k, v)
			if used[purl] {
				continue
			}
			used[purl] = true
			comps = append(comps, component{BOMRef: purl, Type: "library", Name: k.name, Version: ver, PURL: purl})
		}
	}
	if len(comps) < n {
		return nil, fmt.Errorf("sboms: only %d distinct package versions for %d components", len(comps), n)
	}
	return sbomJSON(comps, strconv.Itoa(n))
}

// component is a CycloneDX component as the generated SBOMs write it.
type component struct {
	BOMRef  string `json:"bom-ref"`
	Type    string `json:"type"`
	Name    string `json:"name"`
	Version string `json:"version"`
	PURL    string `json:"purl"`
}

// sbomJSON returns a CycloneDX 1.5 JSON document listing comps.
func sbomJSON(comps []component, label string) ([]byte, error) {
	doc := map[string]any{
		"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
		"serialNumber": "urn:uuid:00000000-0000-4000-8000-" + fmt.Sprintf("%012x", len(comps)),
		"metadata": map[string]any{
			"timestamp": "2026-01-01T00:00:00Z",
			"component": map[string]any{"bom-ref": "root", "type": "application", "name": "generated", "version": label},
		},
		"components": comps,
	}
	return json.MarshalIndent(doc, "", "  ")
}

// pair is one (ecosystem, name, version, vulnerability) finding, normalised the same
// way for both tools: base ecosystem (no ":release" suffix), name lower-cased (PyPI:
// PEP 503), version as written.
type pair struct {
	Eco     string `json:"ecosystem"`
	Name    string `json:"name"`
	Version string `json:"version"`
	ID      string `json:"id"`
}

func (p pair) String() string { return p.Eco + "|" + p.Name + "|" + p.Version + "|" + p.ID }

func normPair(eco, name, version, id string) pair {
	base, _, _ := strings.Cut(eco, ":")
	return pair{Eco: base, Name: strings.ToLower(vuln.NormalizeName(base, name)), Version: version, ID: id}
}

// comparison is one line of compare's output.
type comparison struct {
	File       string `json:"file"`
	Format     string `json:"format"`
	Components int    `json:"components"`
	Medguard   int    `json:"medguard"`
	OSV        int    `json:"osv_scanner"` // -1 when osv-scanner did not produce findings
	Common     int    `json:"common"`
	OnlyMG     []pair `json:"only_medguard"`
	OnlyOSV    []pair `json:"only_osv_scanner"`
	Refused    string `json:"refused,omitempty"` // osv-scanner's error, or why it was not run
	// NoVersion lists "ecosystem|name" of components whose purl has no version (medguard
	// then takes the component's version field).
	NoVersion []string `json:"purl_without_version,omitempty"`
}

// checkOutput is the part of `medguard sbom check --format json` the helper reads.
type checkOutput struct {
	Report struct {
		Format     string `json:"format"`
		Components int    `json:"components"`
	} `json:"report"`
	Findings []struct {
		ID        string `json:"id"`
		Ecosystem string `json:"ecosystem"`
		Package   string `json:"package"`
		Version   string `json:"version"`
	} `json:"findings"`
}

func readCheck(path string) (*checkOutput, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out checkOutput
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &out, nil
}

func medguardPairs(path string) (map[pair]bool, *checkOutput, error) {
	out, err := readCheck(path)
	if err != nil {
		return nil, nil, err
	}
	set := map[pair]bool{}
	for _, f := range out.Findings {
		set[normPair(f.Ecosystem, f.Package, f.Version, f.ID)] = true
	}
	return set, out, nil
}

func osvPairs(path string) (map[pair]bool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out struct {
		Results []struct {
			Packages []struct {
				Package struct {
					Name      string `json:"name"`
					Version   string `json:"version"`
					Ecosystem string `json:"ecosystem"`
				} `json:"package"`
				Vulnerabilities []struct {
					ID string `json:"id"`
				} `json:"vulnerabilities"`
			} `json:"packages"`
		} `json:"results"`
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	set := map[pair]bool{}
	for _, r := range out.Results {
		for _, p := range r.Packages {
			for _, v := range p.Vulnerabilities {
				set[normPair(p.Package.Ecosystem, p.Package.Name, p.Package.Version, v.ID)] = true
			}
		}
	}
	return set, nil
}

func sortedPairs(set map[pair]bool) []pair {
	out := make([]pair, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// cmdCompare compares the two tools' findings on one SBOM.
func cmdCompare(args []string) error {
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	name := fs.String("name", "", "SBOM file name for the report")
	mg := fs.String("medguard", "", "medguard sbom check --format json output")
	osv := fs.String("osv", "", "osv-scanner --format json output (empty: medguard only)")
	refused := fs.String("refused", "", "why osv-scanner gave no result for the file")
	sbomFile := fs.String("sbom", "", "the SBOM, to list components whose purl has no version")
	if err := fs.Parse(args); err != nil {
		return err
	}
	m, chk, err := medguardPairs(*mg)
	if err != nil {
		return err
	}
	c := comparison{File: *name, Format: chk.Report.Format, Components: chk.Report.Components, Medguard: len(m),
		OnlyMG: []pair{}, OnlyOSV: []pair{}, OSV: -1, Refused: *refused}
	if *sbomFile != "" {
		if c.NoVersion, err = purlsWithoutVersion(*sbomFile); err != nil {
			return err
		}
	}
	if *osv != "" && *refused == "" {
		o, err := osvPairs(*osv)
		if err != nil {
			return err
		}
		c.OSV = len(o)
		for _, p := range sortedPairs(m) {
			if o[p] {
				c.Common++
			} else {
				c.OnlyMG = append(c.OnlyMG, p)
			}
		}
		for _, p := range sortedPairs(o) {
			if !m[p] {
				c.OnlyOSV = append(c.OnlyOSV, p)
			}
		}
	}
	return json.NewEncoder(os.Stdout).Encode(c)
}
