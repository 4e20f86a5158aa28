package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// cmdReport writes OUT/summary.md from what run.sh left in OUT.
func cmdReport(args []string) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	dir := fs.String("dir", "", "output folder of run.sh")
	sizes := fs.String("sizes", "50,500,3000", "generated SBOM sizes timed")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		return errors.New("report: -dir is required")
	}
	var b strings.Builder
	if env, err := os.ReadFile(filepath.Join(*dir, "env.txt")); err == nil {
		b.WriteString("## Environment\n\n```\n" + strings.TrimSpace(string(env)) + "\n```\n\n")
	}
	if err := reportCorrectness(&b, *dir); err != nil {
		return err
	}
	if err := reportDifferences(&b, *dir); err != nil {
		return err
	}
	if err := reportSpeed(&b, *dir, strings.Split(*sizes, ",")); err != nil {
		return err
	}
	reportGoBench(&b, *dir)
	if err := os.WriteFile(filepath.Join(*dir, "summary.md"), []byte(b.String()), 0o644); err != nil {
		return err
	}
	fmt.Print(b.String())
	return nil
}

func readComparisons(path string) ([]comparison, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []comparison
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 256<<20)
	for sc.Scan() {
		var c comparison
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, c)
	}
	return out, sc.Err()
}

func osvCell(c comparison) string {
	if c.OSV < 0 {
		return "–"
	}
	return strconv.Itoa(c.OSV)
}

// comparisonTable writes one row per comparison and returns the totals of the files
// both tools read.
func comparisonTable(w io.Writer, cs []comparison) (files, comps, mg, osv, common, onlyMG, onlyOSV int) {
	fmt.Fprintln(w, "| file | format | components | pairs medguard | pairs osv-scanner | common | only medguard | only osv-scanner | note |")
	fmt.Fprintln(w, "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
	for _, c := range cs {
		note := c.Refused
		if len(note) > 120 {
			note = note[:117] + "…"
		}
		note = strings.ReplaceAll(note, "|", "\\|")
		onlyM, onlyO := strconv.Itoa(len(c.OnlyMG)), strconv.Itoa(len(c.OnlyOSV))
		if c.OSV < 0 {
			onlyM, onlyO = "–", "–"
		}
		fmt.Fprintf(w, "| %s | %s | %d | %d | %s | %d | %s | %s | %s |\n", c.File, c.Format, c.Components, c.Medguard, osvCell(c),
			c.Common, onlyM, onlyO, note)
		if c.OSV >= 0 {
			files++
			comps += c.Components
			mg += c.Medguard
			osv += c.OSV
			common += c.Common
			onlyMG += len(c.OnlyMG)
			onlyOSV += len(c.OnlyOSV)
		}
	}
	return
}

func reportCorrectness(b *strings.Builder, dir string) error {
	real, err := readComparisons(filepath.Join(dir, "correctness.jsonl"))
	if err != nil {
		return err
	}
	b.WriteString("## Correctness: real SBOMs\n\n")
	b.WriteString("Pairs are (ecosystem without release suffix, package name lower-cased — PyPI: PEP 503 —, version, vulnerability id), compared as sets.\n\n")
	files, comps, mg, osv, common, onlyMG, onlyOSV := comparisonTable(b, real)
	fmt.Fprintf(b, "\nBoth tools read %d of %d files (%d components): %d pairs medguard, %d pairs osv-scanner, %d common, %d only medguard, %d only osv-scanner.\n\n",
		files, len(real), comps, mg, osv, common, onlyMG, onlyOSV)
	var tv, refused []string
	for _, c := range real {
		switch {
		case c.Format == "spdx-tag-value":
			tv = append(tv, fmt.Sprintf("%s (%d components, %d pairs)", c.File, c.Components, c.Medguard))
		case c.OSV < 0:
			refused = append(refused, fmt.Sprintf("- %s: %s", c.File, c.Refused))
		}
	}
	if len(tv) > 0 {
		fmt.Fprintf(b, "SPDX tag-value, read by medguard only (%d): %s.\n\n", len(tv), strings.Join(tv, "; "))
	}
	if len(refused) > 0 {
		fmt.Fprintf(b, "Files osv-scanner did not scan (%d):\n\n%s\n\n", len(refused), strings.Join(refused, "\n"))
	}
	if data, err := os.ReadFile(filepath.Join(dir, "not-sbom.txt")); err == nil && len(data) > 0 {
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		fmt.Fprintf(b, "%d files in those folders are not SBOMs medguard reads (lockfiles, configuration, READMEs); see not-sbom.txt.\n\n", len(lines))
	}
	for _, part := range []struct{ file, title string }{
		{"rewrapped.jsonl", "Correctness: files osv-scanner does not read, their purls re-wrapped as CycloneDX JSON"},
		{"generated.jsonl", "Correctness: generated SBOMs"},
		{"probes.jsonl", "Correctness: probes"},
	} {
		cs, err := readComparisons(filepath.Join(dir, part.file))
		if err != nil {
			return err
		}
		if len(cs) == 0 {
			continue
		}
		fmt.Fprintf(b, "## %s\n\n", part.title)
		files, comps, mg, osv, common, onlyMG, onlyOSV := comparisonTable(b, cs)
		fmt.Fprintf(b, "\nTotal over %d files (%d components): %d pairs medguard, %d pairs osv-scanner, %d common, %d only medguard, %d only osv-scanner.\n\n",
			files, comps, mg, osv, common, onlyMG, onlyOSV)
	}
	return nil
}

func reportDifferences(b *strings.Builder, dir string) error {
	f, err := os.Open(filepath.Join(dir, "differences.jsonl"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	type key struct{ class, side, file string }
	counts := map[key]int{}
	examples := map[key]classified{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var c classified
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			return err
		}
		k := key{c.Class, c.Side, c.File}
		if counts[k] == 0 {
			examples[k] = c
		}
		counts[k]++
	}
	if err := sc.Err(); err != nil {
		return err
	}
	keys := make([]key, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].class != keys[j].class {
			return keys[i].class < keys[j].class
		}
		if keys[i].side != keys[j].side {
			return keys[i].side < keys[j].side
		}
		return keys[i].file < keys[j].file
	})
	b.WriteString("## Differences by class\n\n")
	if len(keys) == 0 {
		b.WriteString("None: both tools reported the same pairs on every file both read.\n\n")
		return nil
	}
	b.WriteString("| class | side | file | pairs | example |\n| --- | --- | --- | ---: | --- |\n")
	for _, k := range keys {
		e := examples[k].Pair
		fmt.Fprintf(b, "| %s | %s | %s | %d | %s %s@%s |\n", k.class, k.side, filepath.Base(k.file), counts[k], e.ID, e.Name, e.Version)
	}
	b.WriteString("\n")
	return nil
}

func readTiming(path string) (map[string]timingResult, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var t timing
	if err := json.Unmarshal(data, &t); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := map[string]timingResult{}
	for _, r := range t.Results {
		out[r.Command] = r
	}
	return out, nil
}

// readRSS reads "tool KB" lines.
func readRSS(path string) map[string]float64 {
	out := map[string]float64{}
	data, err := os.ReadFile(path)
	if err != nil {
		return out
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) == 2 {
			if kb, err := strconv.ParseFloat(f[1], 64); err == nil {
				out[f[0]] = kb
			}
		}
	}
	return out
}

func reportSpeed(b *strings.Builder, dir string, sizes []string) error {
	b.WriteString("## Speed: `sbom check` vs `osv-scanner scan source --offline-vulnerabilities`\n\n")
	b.WriteString("| components | medguard median (s) | osv-scanner median (s) | ratio osv-scanner/medguard | medguard peak RSS (MiB) | osv-scanner peak RSS (MiB) | ratio |\n")
	b.WriteString("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, n := range sizes {
		n = strings.TrimSpace(n)
		t, err := readTiming(filepath.Join(dir, "timing-"+n+".json"))
		if err != nil {
			fmt.Fprintf(b, "| %s | (no timing: %v) | | | | | |\n", n, err)
			continue
		}
		m, o := t["medguard"], t["osv-scanner"]
		rss := readRSS(filepath.Join(dir, "rss-"+n+".txt"))
		ratio, rssRatio := "–", "–"
		if m.Median > 0 {
			ratio = fmt.Sprintf("%.1f×", o.Median/m.Median)
		}
		if rss["medguard"] > 0 {
			rssRatio = fmt.Sprintf("%.1f×", rss["osv-scanner"]/rss["medguard"])
		}
		fmt.Fprintf(b, "| %s | %.3f ± %.3f | %.3f ± %.3f | %s | %.0f | %.0f | %s |\n", n, m.Median, m.Stddev, o.Median, o.Stddev,
			ratio, rss["medguard"]/1024, rss["osv-scanner"]/1024, rssRatio)
	}
	b.WriteString("\n")
	// The exhaustive SBOM (SUPPLY_EXHAUSTIVE=1) is run once by each tool, under GNU time.
	mw, mr, okM := gnuTime(filepath.Join(dir, "raw", "generated_gen-all.cdx.json.medguard.time"))
	ow, or, okO := gnuTime(filepath.Join(dir, "raw", "generated_gen-all.cdx.json.osv.time"))
	if okM && okO {
		fmt.Fprintf(b, "Exhaustive SBOM (every version the advisories name), one run each: medguard %s, %.0f MiB; osv-scanner %s, %.0f MiB.\n\n",
			mw, mr/1024, ow, or/1024)
	}
	return nil
}

// gnuTime reads the wall time and peak RSS (KiB) from a `/usr/bin/time -v` report.
func gnuTime(path string) (wall string, rssKB float64, ok bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", 0, false
	}
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if v, found := strings.CutPrefix(line, "Elapsed (wall clock) time (h:mm:ss or m:ss): "); found {
			wall = v
		}
		if v, found := strings.CutPrefix(line, "Maximum resident set size (kbytes): "); found {
			rssKB, _ = strconv.ParseFloat(v, 64)
		}
	}
	return wall, rssKB, wall != "" && rssKB > 0
}

func reportGoBench(b *strings.Builder, dir string) {
	data, err := os.ReadFile(filepath.Join(dir, "gobench.txt"))
	if err != nil {
		return
	}
	b.WriteString("## Go benchmarks (internal/supply)\n\n| benchmark | iterations | time/op | other |\n| --- | ---: | ---: | --- |\n")
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || f[3] != "ns/op" {
			continue
		}
		ns, err := strconv.ParseFloat(f[2], 64)
		if err != nil {
			continue
		}
		var other []string
		for i := 4; i+1 < len(f); i += 2 {
			other = append(other, f[i]+" "+f[i+1])
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s |\n", f[0], f[1], humanDuration(ns), strings.Join(other, ", "))
	}
	b.WriteString("\n")
}

func humanDuration(ns float64) string {
	switch {
	case ns >= 1e9:
		return fmt.Sprintf("%.2f s", ns/1e9)
	case ns >= 1e6:
		return fmt.Sprintf("%.1f ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.1f µs", ns/1e3)
	}
	return fmt.Sprintf("%.0f ns", ns)
}
