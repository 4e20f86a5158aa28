package vuln

import (
	"errors"
	"sort"
	"strings"

	"github.com/google/osv-scalibr/semantic"
)

// Range types kept by the matcher. GIT ranges are kept for exact commit matches only
// (ordering commits needs the repository's history) and counted in Record.GitRanges.
const (
	RangeSemVer    = "SEMVER"
	RangeEcosystem = "ECOSYSTEM"
	RangeGit       = "GIT"
)

// Outcome is what evaluating an affected entry for one version found.
type Outcome int

// Outcomes of Affected.Evaluate.
const (
	// NotAffected: the version is outside every range and not listed.
	NotAffected Outcome = iota
	// IsAffected: the version is listed, or inside a range.
	IsAffected
	// NotComparable: the version cannot be ordered in the entry's ecosystem (Comparable
	// is false: a commit id, a non-PEP 440 PyPI version, an empty version …) and no exact
	// match decides, so the entry's SEMVER/ECOSYSTEM ranges could not be evaluated. It is
	// neither affected nor clean.
	NotComparable
)

// Event is one event of an OSV range; exactly one field is set.
type Event struct {
	Introduced   string `json:"introduced,omitempty"`
	Fixed        string `json:"fixed,omitempty"`
	LastAffected string `json:"last_affected,omitempty"`
	Limit        string `json:"limit,omitempty"`
}

// Range is a SEMVER, ECOSYSTEM or GIT range of an affected entry.
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

// FixedVersions returns the fixed events of the entry's SEMVER and ECOSYSTEM ranges, in
// range order, without duplicates (a GIT range's fixed commit is no version to upgrade
// to).
func (a *Affected) FixedVersions() []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range a.Ranges {
		if r.Type == RangeGit {
			continue
		}
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

// Contains reports whether version of the entry's package is affected: Evaluate finds
// IsAffected.
func (a *Affected) Contains(version string) bool {
	return a.Evaluate(version) == IsAffected
}

// Evaluate evaluates the entry for version of its package (OSV specification,
// "Evaluation"): IsAffected when the version is listed in versions, is a commit named as
// introduced or last_affected by a GIT range, or a SEMVER/ECOSYSTEM range contains it.
//
// A version that is not Comparable (a commit id, a version the ecosystem's parser
// rejects, the empty version) is decided by exact matches only: listed in versions or
// named introduced/last_affected by a GIT range, it is affected; named fixed (or limit)
// by a GIT range, it is not — the advisory names it as the fix. Otherwise the entry's
// SEMVER/ECOSYSTEM ranges cannot place it and the outcome is NotComparable; an entry with
// no such range (a versions list only) is NotAffected. GIT introduced…fixed spans are
// not walked: ordering commits needs the repository's history, which medguard does not
// have, so a commit between two listed ones is NotComparable, never affected or clean.
func (a *Affected) Evaluate(version string) Outcome {
	c := a.c
	if c == nil {
		c = compile(a)
	}
	pv := newPkgVersion(c.base, a.Name, version)
	return c.evaluate(pv)
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
	// gitIn and gitOut are the commits (lower case) GIT ranges name as introduced or
	// last_affected, and as fixed or limit.
	gitIn, gitOut map[string]struct{}
	hasGit        bool
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
		case RangeGit:
			c.addGit(r)
			continue
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

// addGit records the commits a GIT range names.
func (c *compiledAffected) addGit(r Range) {
	c.hasGit = true
	add := func(m *map[string]struct{}, commit string) {
		if commit == "" || commit == "0" {
			return
		}
		if *m == nil {
			*m = map[string]struct{}{}
		}
		(*m)[strings.ToLower(commit)] = struct{}{}
	}
	for _, e := range r.Events {
		add(&c.gitIn, e.Introduced)
		add(&c.gitIn, e.LastAffected)
		add(&c.gitOut, e.Fixed)
		add(&c.gitOut, e.Limit)
	}
}

func errorsIsUnsupported(err error) bool {
	return errors.Is(err, ErrUnsupportedEcosystem)
}

// contains evaluates the entry for one package version.
func (c *compiledAffected) contains(pv *pkgVersion) bool {
	return c.evaluate(pv) == IsAffected
}

// evaluate is Affected.Evaluate for one package version.
func (c *compiledAffected) evaluate(pv *pkgVersion) Outcome {
	if c.versions != nil && pv.raw != "" {
		if _, ok := c.versions[pv.raw]; ok {
			return IsAffected
		}
		if pv.norm != pv.raw {
			if _, ok := c.versions[pv.norm]; ok {
				return IsAffected
			}
		}
	}
	if c.gitIn != nil || c.gitOut != nil {
		commit := strings.ToLower(pv.raw)
		if _, ok := c.gitIn[commit]; ok {
			return IsAffected
		}
		if _, ok := c.gitOut[commit]; ok {
			return NotAffected
		}
	}
	// osv-scanner: rangeAffectsVersion returns false for the whole entry as soon as it
	// meets a range that is neither SEMVER nor ECOSYSTEM, so a GIT range listed first
	// hides the ECOSYSTEM range after it. GIT ranges only match exactly here (above).
	// osv-scanner: it treats a package without version as affected; here it is not
	// comparable.
	// A commit (or other non-version) that a GIT range does not name cannot be placed
	// in the range without the repository's history.
	undecided := c.hasGit && pv.parsed(c.base, false) == nil
	for i := range c.ranges {
		r := &c.ranges[i]
		v := pv.parsed(c.base, r.semver)
		if v == nil {
			undecided = true
			continue
		}
		if r.containsVersion(v) {
			return IsAffected
		}
	}
	if undecided {
		return NotComparable
	}
	return NotAffected
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
// when it is not comparable (see Comparable).
func (pv *pkgVersion) parsed(base string, semver bool) semantic.Version {
	if semver {
		if !pv.semDone {
			pv.semDone = true
			if ordersLike(SemVer, pv.norm) {
				pv.sem, _ = parseSemantic(SemVer, pv.norm)
			}
		}
		return pv.sem
	}
	if !pv.ecoDone {
		pv.ecoDone = true
		if ordersLike(base, pv.norm) {
			pv.eco, _ = parseSemantic(base, pv.norm)
		}
	}
	return pv.eco
}

// isGoToolchain reports whether the package is the Go standard library or toolchain,
// whose versions are Go tags ("go1.21.3").
func isGoToolchain(base, name string) bool {
	return base == "Go" && (name == "stdlib" || name == "toolchain")
}
