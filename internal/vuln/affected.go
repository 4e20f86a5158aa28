package vuln

import (
	"errors"
	"sort"
	"strings"

	"github.com/google/osv-scalibr/semantic"
)

// Range types kept by the matcher. GIT ranges are dropped when a record is parsed
// (they need the repository's commit graph) and counted in Record.GitRanges.
const (
	RangeSemVer    = "SEMVER"
	RangeEcosystem = "ECOSYSTEM"
)

// Event is one event of an OSV range; exactly one field is set.
type Event struct {
	Introduced   string `json:"introduced,omitempty"`
	Fixed        string `json:"fixed,omitempty"`
	LastAffected string `json:"last_affected,omitempty"`
	Limit        string `json:"limit,omitempty"`
}

// Range is a SEMVER or ECOSYSTEM range of an affected entry.
type Range struct {
	Type   string  `json:"type"`
	Events []Event `json:"events"`
}

// Affected is one affected[] entry of a record: a package and the versions of it the
// vulnerability affects. Values produced by ParseRecord and the DB methods are
// compiled (event versions parsed and sorted once); a hand-built value should be
// compiled with Compile before it is shared between goroutines.
type Affected struct {
	VulnID    string   `json:"-"`
	Ecosystem string   `json:"ecosystem"` // as in the record, with any suffix
	Name      string   `json:"name"`      // as in the record
	Ranges    []Range  `json:"ranges,omitempty"`
	Versions  []string `json:"versions,omitempty"`

	c *compiledAffected
}

// Key returns the database key of the entry (see KeyOf).
func (a *Affected) Key() PackageKey {
	base := baseEcosystem(a.Ecosystem)
	return PackageKey{Ecosystem: base, Name: keyName(base, a.Name)}
}

// AppliesTo reports whether the entry names package p: equal base ecosystems, equal
// suffixes when both have one, and equal key names (KeyOf: normalised, and for NuGet
// without regard to case). It does not look at the version.
func (a *Affected) AppliesTo(p Package) bool {
	if !ecosystemsEqual(a.Ecosystem, p.Ecosystem) {
		return false
	}
	base := baseEcosystem(a.Ecosystem)
	return keyName(base, a.Name) == keyName(base, p.Name)
}

// FixedVersions returns the fixed events of the entry's ranges, in range order,
// without duplicates.
func (a *Affected) FixedVersions() []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range a.Ranges {
		for _, e := range r.Events {
			if e.Fixed != "" && !seen[e.Fixed] {
				seen[e.Fixed] = true
				out = append(out, e.Fixed)
			}
		}
	}
	return out
}

// Compile parses and sorts the event versions once. Contains calls it implicitly
// (without keeping the result) when it has not been called.
func (a *Affected) Compile() {
	a.c = compile(a)
}

// Contains reports whether version of the entry's package is affected: it is listed in
// versions, or a SEMVER/ECOSYSTEM range contains it (OSV specification, "Evaluation").
// An empty version is never affected; a version the ecosystem cannot parse is affected
// only through the versions list.
func (a *Affected) Contains(version string) bool {
	c := a.c
	if c == nil {
		c = compile(a)
	}
	pv := newPkgVersion(c.base, a.Name, version)
	return c.contains(pv)
}

// kinds of compiled events.
const (
	evIntroduced = iota
	evFixed
	evLastAffected
)

type compiledEvent struct {
	kind int
	zero bool // introduced "0": before every version
	v    semantic.Version
}

type compiledRange struct {
	semver    bool
	events    []compiledEvent
	limits    []semantic.Version
	hasLimit  bool // limit events exist (then v must be below one of them)
	unlimited bool // a limit "*" exists
}

type compiledAffected struct {
	base     string
	versions map[string]struct{}
	ranges   []compiledRange
}

// compile parses every event version of a with the range's ordering (SemVer 2.0 for
// SEMVER ranges, the ecosystem's for ECOSYSTEM ranges) and sorts the events.
//
// An event version the ordering cannot parse (none occur in the Go, PyPI and crates.io
// exports) is dropped, except an unparseable introduced, which counts as "0": when in
// doubt the entry matches more rather than less. A range whose ecosystem has no
// ordering (GitHub Actions, say) is dropped; the versions list still applies.
//
// osv-scanner: it compares an unparseable event as equal to the package's version.
func compile(a *Affected) *compiledAffected {
	base := baseEcosystem(a.Ecosystem)
	c := &compiledAffected{base: base}
	if len(a.Versions) > 0 {
		c.versions = make(map[string]struct{}, len(a.Versions))
		for _, v := range a.Versions {
			c.versions[v] = struct{}{}
		}
	}
	for _, r := range a.Ranges {
		eco := base
		switch r.Type {
		case RangeSemVer:
			// osv-scanner: it parses SEMVER ranges with the ecosystem's parser too.
			eco = SemVer
		case RangeEcosystem:
		default:
			continue
		}
		cr := compiledRange{semver: eco == SemVer}
		usable := true
		var evs []compiledEvent
		for _, e := range r.Events {
			switch {
			case e.Introduced != "":
				ce := compiledEvent{kind: evIntroduced, zero: e.Introduced == "0"}
				if !ce.zero {
					v, err := parseSemantic(eco, e.Introduced)
					if err != nil {
						if errorsIsUnsupported(err) {
							usable = false
						}
						ce.zero = true
					} else {
						ce.v = v
					}
				}
				evs = append(evs, ce)
			case e.Fixed != "", e.LastAffected != "":
				kind, s := evFixed, e.Fixed
				if s == "" {
					kind, s = evLastAffected, e.LastAffected
				}
				v, err := parseSemantic(eco, s)
				if err != nil {
					if errorsIsUnsupported(err) {
						usable = false
					}
					continue
				}
				evs = append(evs, compiledEvent{kind: kind, v: v})
			case e.Limit != "":
				cr.hasLimit = true
				if strings.Contains(e.Limit, "*") {
					cr.unlimited = true
					continue
				}
				v, err := parseSemantic(eco, e.Limit)
				if err != nil {
					if errorsIsUnsupported(err) {
						usable = false
					}
					continue
				}
				cr.limits = append(cr.limits, v)
			}
		}
		if !usable {
			continue
		}
		// Sort by version; "0" first; at equal versions an introduced comes before the
		// fixed/last_affected event, otherwise the record's order is kept.
		sort.SliceStable(evs, func(i, j int) bool {
			x, y := evs[i], evs[j]
			if x.zero || y.zero {
				return x.zero && !y.zero
			}
			c, err := compareSemantic(x.v, y.v)
			if err != nil || c == 0 {
				return x.kind == evIntroduced && y.kind != evIntroduced
			}
			return c < 0
		})
		cr.events = evs
		c.ranges = append(c.ranges, cr)
	}
	return c
}

func errorsIsUnsupported(err error) bool {
	return errors.Is(err, ErrUnsupportedEcosystem)
}

// contains evaluates the entry for one package version.
func (c *compiledAffected) contains(pv *pkgVersion) bool {
	if pv.raw == "" {
		// osv-scanner: it treats a package without version as affected.
		return false
	}
	if c.versions != nil {
		if _, ok := c.versions[pv.raw]; ok {
			return true
		}
		if pv.norm != pv.raw {
			if _, ok := c.versions[pv.norm]; ok {
				return true
			}
		}
	}
	// osv-scanner: rangeAffectsVersion returns false for the whole entry as soon as it
	// meets a range that is neither SEMVER nor ECOSYSTEM, so a GIT range listed first
	// hides the ECOSYSTEM range after it. GIT ranges are simply skipped here.
	for i := range c.ranges {
		r := &c.ranges[i]
		v := pv.parsed(c.base, r.semver)
		if v == nil {
			continue
		}
		if r.containsVersion(v) {
			return true
		}
	}
	return false
}

// containsVersion is the specification's IncludedInRanges for one range.
func (r *compiledRange) containsVersion(v semantic.Version) bool {
	// osv-scanner: it ignores limit events.
	if r.hasLimit && !r.unlimited {
		below := false
		for _, l := range r.limits {
			if c, err := compareSemantic(v, l); err == nil && c < 0 {
				below = true
				break
			}
		}
		if !below {
			return false
		}
	}
	affected := false
	for _, e := range r.events {
		switch e.kind {
		case evIntroduced:
			if e.zero {
				affected = true
			} else if c, err := compareSemantic(v, e.v); err == nil && c >= 0 {
				affected = true
			}
		case evFixed:
			if c, err := compareSemantic(v, e.v); err == nil && c >= 0 {
				affected = false
			}
		case evLastAffected:
			if c, err := compareSemantic(v, e.v); err == nil && c > 0 {
				affected = false
			}
		}
	}
	return affected
}

// pkgVersion is a package version with its parses cached for one package, so that the
// many entries of one package parse it once per ordering.
type pkgVersion struct {
	raw, norm        string // norm: the Go toolchain version turned into semver
	eco, sem         semantic.Version
	ecoDone, semDone bool
}

func newPkgVersion(base, name, version string) *pkgVersion {
	pv := &pkgVersion{raw: version, norm: version}
	if isGoToolchain(base, name) {
		pv.norm = goToolchainVersion(version)
	}
	return pv
}

// parsed returns the version parsed with the SemVer ordering or the ecosystem's, or nil
// when it does not parse.
func (pv *pkgVersion) parsed(base string, semver bool) semantic.Version {
	if semver {
		if !pv.semDone {
			pv.semDone = true
			pv.sem, _ = parseSemantic(SemVer, pv.norm)
		}
		return pv.sem
	}
	if !pv.ecoDone {
		pv.ecoDone = true
		pv.eco, _ = parseSemantic(base, pv.norm)
	}
	return pv.eco
}

// isGoToolchain reports whether the package is the Go standard library or toolchain,
// whose versions are Go tags ("go1.21.3").
func isGoToolchain(base, name string) bool {
	return base == "Go" && (name == "stdlib" || name == "toolchain")
}
