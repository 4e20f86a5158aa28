package main

import (
	"archive/zip"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/sbom"
	"github.com/medguard/medguard/internal/vuln"
)

// purlsWithoutVersion lists "ecosystem|name" of the components of an SBOM whose purl
// carries no version.
func purlsWithoutVersion(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	doc, err := sbom.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	seen := map[string]bool{}
	var out []string
	for _, c := range doc.Components {
		if c.PURL == "" {
			continue
		}
		p, err := vuln.PackageFromPURL(c.PURL)
		if err != nil || p.Version != "" {
			continue
		}
		base, _, _ := strings.Cut(p.Ecosystem, ":")
		k := base + "|" + strings.ToLower(vuln.NormalizeName(base, p.Name))
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out, nil
}

// cmdToCDX writes the components of any SBOM medguard reads as a CycloneDX 1.5 JSON
// document with the same purls, names and versions: so that osv-scanner can be run on
// the packages of a file it refuses or cannot read (SPDX tag-value).
func cmdToCDX(args []string) error {
	fs := flag.NewFlagSet("tocdx", flag.ContinueOnError)
	in := fs.String("sbom", "", "SBOM to convert")
	out := fs.String("out", "", "CycloneDX JSON file to write")
	if err := fs.Parse(args); err != nil {
		return err
	}
	data, err := os.ReadFile(*in)
	if err != nil {
		return err
	}
	doc, err := sbom.Parse(data)
	if err != nil {
		return fmt.Errorf("%s: %w", *in, err)
	}
	comps := make([]map[string]any, 0, len(doc.Components))
	for i, c := range doc.Components {
		if c.PURL == "" {
			continue
		}
		comps = append(comps, map[string]any{"bom-ref": fmt.Sprintf("c%d", i), "type": "library", "name": c.Name,
			"version": c.Version, "purl": c.PURL})
	}
	data, err = json.MarshalIndent(map[string]any{"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
		"components": comps}, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(*out, data, 0o644)
}

// cmdExt prints the name ending osv-scanner needs for the SBOM medguard read.
func cmdExt(args []string) error {
	fs := flag.NewFlagSet("ext", flag.ContinueOnError)
	mg := fs.String("medguard", "", "medguard sbom check --format json output")
	if err := fs.Parse(args); err != nil {
		return err
	}
	chk, err := readCheck(*mg)
	if err != nil {
		return err
	}
	switch sbom.Format(chk.Report.Format) {
	case sbom.FormatCycloneDXJSON:
		fmt.Println("cdx.json")
	case sbom.FormatCycloneDXXML:
		fmt.Println("cdx.xml")
	case sbom.FormatSPDXJSON:
		fmt.Println("spdx.json")
	}
	return nil
}

// placeholderEcosystems get an all.zip without records, so that osv-scanner does not
// stop with "no offline version of the OSV database is available" when an SBOM has a
// package of theirs: the OSV ecosystems a purl can map to, and the others osv.dev
// exports.
var placeholderEcosystems = []string{
	"AlmaLinux", "Alpaquita", "Alpine", "Android", "Azure Linux", "BellSoft Hardened Containers", "Bioconductor",
	"Bitnami", "CRAN", "Chainguard", "CleanStart", "ConanCenter", "Debian", "Docker Hardened Images", "Echo",
	"FreeBSD", "GHC", "GIT", "GitHub Actions", "Hackage", "Hex", "Julia", "Kubernetes", "Linux", "Mageia", "Maven",
	"MinimOS", "NuGet", "OSS-Fuzz", "Packagist", "Photon OS", "Pub", "Red Hat", "Rocky Linux", "Root", "RubyGems",
	"SUSE", "SwiftURL", "TuxCare", "Ubuntu", "VSCode", "Wolfi", "npm", "opam", "openEuler", "openSUSE",
}

// cmdOSVDB lays out osv-scanner's offline database.
func cmdOSVDB(args []string) error {
	fs := flag.NewFlagSet("osvdb", flag.ContinueOnError)
	dir := fs.String("osv", "", "folder holding <Ecosystem>/all.zip")
	out := fs.String("out", "", "OSV_SCANNER_LOCAL_DB_CACHE_DIRECTORY to create")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" || *out == "" {
		return errors.New("osvdb: -osv and -out are required")
	}
	root := filepath.Join(*out, "osv-scanner")
	for _, eco := range ecosystems {
		d := filepath.Join(root, eco)
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
		src, dst := filepath.Join(*dir, eco, "all.zip"), filepath.Join(d, "all.zip")
		os.Remove(dst)
		// osv-scanner opens the database through os.Root, which refuses symbolic links
		// leading out of the folder: hard link or copy.
		if err := os.Link(src, dst); err != nil {
			data, err := os.ReadFile(src)
			if err != nil {
				return err
			}
			if err := os.WriteFile(dst, data, 0o644); err != nil {
				return err
			}
		}
	}
	for _, eco := range placeholderEcosystems {
		d := filepath.Join(root, eco)
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
		f, err := os.Create(filepath.Join(d, "all.zip"))
		if err != nil {
			return err
		}
		zw := zip.NewWriter(f)
		w, err := zw.Create("README.txt")
		if err == nil {
			_, err = fmt.Fprintf(w, "Empty %s database for the medguard supply-chain benchmark: no advisories of this ecosystem are available offline.\n", eco)
		}
		if err == nil {
			err = zw.Close()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// probes are components chosen to show each known difference on a small file, with
// what each one probes.
var probes = []struct{ purl, name, version, why string }{
	{"pkg:golang/stdlib@go1.20.1", "stdlib", "go1.20.1", "Go toolchain tag as Syft writes it"},
	{"pkg:golang/stdlib@1.20.1", "stdlib", "1.20.1", "the same release as a plain version"},
	{"pkg:golang/stdlib@go1.21rc2", "stdlib", "go1.21rc2", "Go release candidate tag"},
	{"pkg:golang/github.com/CosmWasm/wasmvm@v1.5.0", "wasmvm", "v1.5.0", "Go module path with upper case"},
	{"pkg:golang/github.com/gin-gonic/gin@v1.6.0", "gin", "v1.6.0", "ordinary Go module"},
	{"pkg:golang/github.com/docker/docker@v20.10.0+incompatible", "docker", "v20.10.0+incompatible", "+incompatible build metadata"},
	{"pkg:golang/golang.org/x/net@v0.0.0-20200202094626-16171245cfb2", "net", "v0.0.0-20200202094626-16171245cfb2", "Go pseudo-version"},
	{"pkg:pypi/Django@3.2.0", "Django", "3.2.0", "PyPI name with upper case"},
	{"pkg:pypi/django@3.2.0rc1", "django", "3.2.0rc1", "PEP 440 pre-release"},
	{"pkg:pypi/PyYAML@5.3", "PyYAML", "5.3", "PyPI name with upper case"},
	{"pkg:pypi/Pillow@2.5", "Pillow", "2.5", "version outside the versions list, inside the ECOSYSTEM range after a GIT range"},
	{"pkg:pypi/octoprint@1.3.11", "octoprint", "1.3.11", "GIT range listed before the ECOSYSTEM range, no versions list"},
	{"pkg:pypi/requests", "requests", "2.19.0", "purl without version; the component's version field says 2.19.0"},
	{"pkg:pypi/tensorflow@2.4.0", "tensorflow", "2.4.0", "many advisories"},
	{"pkg:cargo/smallvec@1.6.0", "smallvec", "1.6.0", "ordinary crate"},
	{"pkg:cargo/tokio@1.0.0", "tokio", "1.0.0", "ordinary crate"},
}

// cmdProbes writes probes.cdx.json.
func cmdProbes(args []string) error {
	fs := flag.NewFlagSet("probes", flag.ContinueOnError)
	out := fs.String("out", "", "output folder")
	if err := fs.Parse(args); err != nil {
		return err
	}
	comps := make([]map[string]any, len(probes))
	for i, p := range probes {
		comps[i] = map[string]any{"bom-ref": fmt.Sprintf("probe-%d", i), "type": "library", "name": p.name,
			"version": p.version, "purl": p.purl, "description": p.why}
	}
	data, err := json.MarshalIndent(map[string]any{"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
		"components": comps}, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(*out, "probes.cdx.json"), data, 0o644)
}

// timing is hyperfine's --export-json shape, as far as report reads it.
type timing struct {
	Results []timingResult `json:"results"`
}

type timingResult struct {
	Command string    `json:"command"`
	Mean    float64   `json:"mean"`
	Stddev  float64   `json:"stddev"`
	Median  float64   `json:"median"`
	Min     float64   `json:"min"`
	Max     float64   `json:"max"`
	Times   []float64 `json:"times"`
}

// cmdTimeit runs a command repeatedly and appends its timing to a hyperfine-style file.
func cmdTimeit(args []string) error {
	fs := flag.NewFlagSet("timeit", flag.ContinueOnError)
	runs := fs.Int("runs", 5, "timed runs")
	out := fs.String("out", "", "JSON file to add the result to")
	name := fs.String("name", "", "command name in the result")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cmdArgs := fs.Args()
	if len(cmdArgs) == 0 || *out == "" || *runs < 1 {
		return errors.New("timeit: -out, -runs and a command are required")
	}
	run := func() (float64, error) {
		c := exec.Command(cmdArgs[0], cmdArgs[1:]...)
		start := time.Now()
		err := c.Run()
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() == 1 {
			err = nil // osv-scanner: vulnerabilities found
		}
		return time.Since(start).Seconds(), err
	}
	if _, err := run(); err != nil {
		return fmt.Errorf("timeit: %s: %w", *name, err)
	}
	var times []float64
	for range *runs {
		t, err := run()
		if err != nil {
			return fmt.Errorf("timeit: %s: %w", *name, err)
		}
		times = append(times, t)
	}
	var tm timing
	if data, err := os.ReadFile(*out); err == nil {
		if err := json.Unmarshal(data, &tm); err != nil {
			return fmt.Errorf("timeit: %s: %w", *out, err)
		}
	}
	sorted := append([]float64(nil), times...)
	sort.Float64s(sorted)
	mean := 0.0
	for _, t := range times {
		mean += t
	}
	mean /= float64(len(times))
	sd := 0.0
	for _, t := range times {
		sd += (t - mean) * (t - mean)
	}
	if len(times) > 1 {
		sd /= float64(len(times) - 1)
	}
	median := sorted[len(sorted)/2]
	if len(sorted)%2 == 0 {
		median = (sorted[len(sorted)/2-1] + sorted[len(sorted)/2]) / 2
	}
	tm.Results = append(tm.Results, timingResult{*name, mean, math.Sqrt(sd), median, sorted[0], sorted[len(sorted)-1], times})
	data, err := json.MarshalIndent(tm, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(*out, data, 0o644)
}
