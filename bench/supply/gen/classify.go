package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/medguard/medguard/internal/vuln"
)

// Classes of differences between the two tools. Each is a documented deviation of
// osv-scanner from the OSV specification; "unexplained" needs a human.
const (
	classPURLCase  = "go-purl-lowercased"   // packageurl-go lower-cases golang purls; osv-scanner compares names exactly
	classGitFirst  = "git-range-first"      // a GIT range before the ECOSYSTEM range hides the entry from osv-scanner
	classLimit     = "limit-ignored"        // osv-scanner ignores limit events
	classSemverEco = "semver-as-ecosystem"  // osv-scanner orders SEMVER ranges with the ecosystem's parser
	classLastAff   = "last-affected-equal"  // osv-scanner treats last_affected equal as a string
	classNoVersion = "unparseable-version"  // the package version does not parse in the ecosystem
	classGoTag     = "go-toolchain-tag"     // osv-scanner compares "go1.20.1" as a version below every release
	classPURLNoVer = "purl-without-version" // osv-scanner drops the component; medguard uses its version field
	classUnexplain = "unexplained"
	sideMedguard   = "only-medguard"
	sideOSVScanner = "only-osv-scanner"
)

// classified is one line of classify's output.
type classified struct {
	File     string   `json:"file"`
	Side     string   `json:"side"`
	Pair     pair     `json:"pair"`
	Class    string   `json:"class"`
	Features []string `json:"features"`
	Entries  []string `json:"entries"` // the matching affected entries, compact
}

// cmdClassify reads compare lines and classifies every difference.
func cmdClassify(args []string, in io.Reader, out io.Writer) error {
	fs := flag.NewFlagSet("classify", flag.ContinueOnError)
	dir := fs.String("osv", "", "folder holding <Ecosystem>/all.zip")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var lines []comparison
	need := map[string]bool{}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var c comparison
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			return fmt.Errorf("classify: %w", err)
		}
		lines = append(lines, c)
		for _, p := range append(append([]pair(nil), c.OnlyMG...), c.OnlyOSV...) {
			need[p.ID] = true
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	recs := map[string]*osvRecord{}
	if len(need) > 0 {
		if err := readExports(*dir, func(_ string, rec *osvRecord, _ []byte) error {
			if need[rec.ID] {
				recs[rec.ID] = rec
			}
			return nil
		}); err != nil {
			return err
		}
	}
	enc := json.NewEncoder(out)
	for _, c := range lines {
		noVersion := map[string]bool{}
		for _, k := range c.NoVersion {
			noVersion[k] = true
		}
		for _, p := range c.OnlyMG {
			cl := classify(c.File, sideMedguard, p, recs[p.ID])
			if noVersion[p.Eco+"|"+p.Name] {
				cl.Features = append(cl.Features, classPURLNoVer)
				cl.Class = classPURLNoVer
			}
			if err := enc.Encode(cl); err != nil {
				return err
			}
		}
		for _, p := range c.OnlyOSV {
			if err := enc.Encode(classify(c.File, sideOSVScanner, p, recs[p.ID])); err != nil {
				return err
			}
		}
	}
	return nil
}

// semverEcosystems order their versions by SemVer already.
var semverEcosystems = map[string]bool{"Go": true, "crates.io": true, "npm": true}

func classify(file, side string, p pair, rec *osvRecord) classified {
	out := classified{File: file, Side: side, Pair: p, Class: classUnexplain, Features: []string{}, Entries: []string{}}
	if rec == nil {
		out.Features = append(out.Features, "advisory not found")
		return out
	}
	feature := map[string]bool{}
	add := func(f string) {
		if !feature[f] {
			feature[f] = true
			out.Features = append(out.Features, f)
		}
	}
	if _, err := vuln.ParseVersion(p.Eco, p.Version); err != nil {
		add(classNoVersion)
	}
	if p.Eco == "Go" && (p.Name == "stdlib" || p.Name == "toolchain") && strings.HasPrefix(p.Version, "go") {
		add(classGoTag)
	}
	for _, a := range rec.Affected {
		base, _, _ := strings.Cut(a.Package.Ecosystem, ":")
		if base != p.Eco || strings.ToLower(vuln.NormalizeName(base, a.Package.Name)) != p.Name {
			continue
		}
		b, _ := json.Marshal(a)
		out.Entries = append(out.Entries, string(b))
		if base == "Go" && a.Package.Name != strings.ToLower(a.Package.Name) {
			add(classPURLCase)
		}
		inList := false
		for _, v := range a.Versions {
			inList = inList || v == p.Version
		}
		if inList {
			add("in-versions-list")
		}
		// Evaluate each range alone with medguard's rules, and note what osv-scanner
		// would do differently.
		sawOther := false
		for _, r := range a.Ranges {
			if r.Type != vuln.RangeSemVer && r.Type != vuln.RangeEcosystem {
				sawOther = true
				continue
			}
			var evs []vuln.Event
			hasLimit := false
			for _, e := range r.Events {
				evs = append(evs, vuln.Event{Introduced: e["introduced"], Fixed: e["fixed"],
					LastAffected: e["last_affected"], Limit: e["limit"]})
				if e["limit"] != "" {
					hasLimit = true
				}
				if e["last_affected"] == p.Version {
					add(classLastAff)
				}
			}
			one := vuln.Affected{Ecosystem: a.Package.Ecosystem, Name: a.Package.Name, Ranges: []vuln.Range{{Type: r.Type, Events: evs}}}
			contains := one.Contains(p.Version)
			if hasLimit {
				var noLimit []vuln.Event
				for _, e := range evs {
					if e.Limit == "" {
						noLimit = append(noLimit, e)
					}
				}
				nl := vuln.Affected{Ecosystem: a.Package.Ecosystem, Name: a.Package.Name, Ranges: []vuln.Range{{Type: r.Type, Events: noLimit}}}
				if !contains && nl.Contains(p.Version) {
					add(classLimit)
				}
			}
			if contains && sawOther && !inList {
				add(classGitFirst)
			}
			if r.Type == vuln.RangeSemVer && !semverEcosystems[base] {
				add(classSemverEco)
			}
		}
	}
	sort.Strings(out.Features)
	// The class is the deviation that explains the side the pair is on.
	switch {
	case feature[classGoTag]:
		out.Class = classGoTag
	case side == sideMedguard && feature[classPURLCase]:
		out.Class = classPURLCase
	case side == sideMedguard && feature[classGitFirst]:
		out.Class = classGitFirst
	case side == sideOSVScanner && feature[classLimit]:
		out.Class = classLimit
	case feature[classSemverEco]:
		out.Class = classSemverEco
	case side == sideOSVScanner && feature[classLastAff]:
		out.Class = classLastAff
	}
	return out
}
