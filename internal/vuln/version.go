package vuln

import (
	"errors"
	"fmt"
	"strings"

	"github.com/google/osv-scalibr/semantic"
)

// SemVer is the pseudo-ecosystem name under which ParseVersion and Compare apply
// SemVer 2.0 precedence. SEMVER-typed ranges are evaluated with it whatever the
// package's ecosystem.
//
// It uses semantic.ParseSemverVersion, the parser osv-scalibr applies to npm, Go and
// crates.io. That parser is lenient where SemVer 2.0 is strict — a leading "v" is
// dropped, missing minor/patch numbers count as 0 — and follows SemVer 2.0 section 11
// for precedence: numeric core, then pre-release identifiers (numeric ones compared as
// numbers and lower than alphanumeric ones; a release is higher than its pre-releases),
// with build metadata ignored.
const SemVer = "SEMVER"

// maxVersionLen bounds the version strings handed to the ecosystem parsers; real
// versions are far shorter and the parsers are not written for hostile sizes.
const maxVersionLen = 1024

// ErrInvalidVersion is wrapped by ParseVersion and Compare when a version string is not
// valid for its ecosystem.
var ErrInvalidVersion = errors.New("invalid version")

// Version is a parsed version of one ecosystem.
type Version struct {
	ecosystem string // base ecosystem or SemVer
	raw       string
	v         semantic.Version
}

// String returns the version as it was given.
func (v Version) String() string { return v.raw }

// ParseVersion parses s as a version of ecosystem (an OSV ecosystem name, with or
// without ":suffix", or SemVer). It never panics: a panic inside the parsing library is
// turned into an error. Ecosystems without a version ordering wrap
// ErrUnsupportedEcosystem; malformed versions wrap ErrInvalidVersion.
func ParseVersion(ecosystem, s string) (Version, error) {
	base := baseEcosystem(ecosystem)
	v, err := parseSemantic(base, s)
	if err != nil {
		return Version{}, err
	}
	return Version{ecosystem: base, raw: s, v: v}, nil
}

// Compare orders v against w: -1 when v < w, 0 when equal, +1 when v > w. Both must
// come from the same ecosystem.
func (v Version) Compare(w Version) (int, error) {
	if v.v == nil || w.v == nil {
		return 0, fmt.Errorf("vuln: compare %q with %q: %w (unparsed)", v.raw, w.raw, ErrInvalidVersion)
	}
	if v.ecosystem != w.ecosystem {
		return 0, fmt.Errorf("vuln: compare %s version %q with %s version %q: different ecosystems", v.ecosystem, v.raw, w.ecosystem, w.raw)
	}
	return compareSemantic(v.v, w.v)
}

// Compare parses a and b as versions of ecosystem and orders them (-1, 0, +1).
func Compare(ecosystem, a, b string) (int, error) {
	va, err := ParseVersion(ecosystem, a)
	if err != nil {
		return 0, err
	}
	vb, err := ParseVersion(ecosystem, b)
	if err != nil {
		return 0, err
	}
	return va.Compare(vb)
}

// parseSemantic calls the osv-scalibr parser for base ecosystem eco, recovering from
// panics.
func parseSemantic(eco, s string) (v semantic.Version, err error) {
	if len(s) > maxVersionLen {
		return nil, fmt.Errorf("vuln: %s version of %d bytes: %w (longer than %d bytes)", eco, len(s), ErrInvalidVersion, maxVersionLen)
	}
	defer func() {
		if r := recover(); r != nil {
			v = nil
			err = fmt.Errorf("vuln: %s version %q: %w (parser failed: %v)", eco, s, ErrInvalidVersion, r)
		}
	}()
	if eco == SemVer {
		return semantic.ParseSemverVersion(s), nil
	}
	v, err = semantic.Parse(s, eco)
	switch {
	case err == nil:
		return v, nil
	case errors.Is(err, semantic.ErrUnsupportedEcosystem):
		return nil, fmt.Errorf("vuln: no version ordering for %q: %w", eco, ErrUnsupportedEcosystem)
	default:
		return nil, fmt.Errorf("vuln: %s version %q: %w (%v)", eco, s, ErrInvalidVersion, err)
	}
}

// compareSemantic compares two versions from the same parser, recovering from panics.
func compareSemantic(a, b semantic.Version) (c int, err error) {
	defer func() {
		if r := recover(); r != nil {
			c, err = 0, fmt.Errorf("vuln: compare versions: %w (comparison failed: %v)", ErrInvalidVersion, r)
		}
	}()
	c, err = a.Compare(b)
	if err != nil {
		return 0, fmt.Errorf("vuln: compare versions: %w", err)
	}
	switch {
	case c < 0:
		return -1, nil
	case c > 0:
		return 1, nil
	}
	return 0, nil
}

// goToolchainVersion turns a Go toolchain version as found in purls and SBOMs for the
// Go packages "stdlib" and "toolchain" ("go1.21.3", "go1.21rc2", "go1.20") into the
// semantic version the Go vulnerability database uses ("1.21.3", "1.21.0-rc.2",
// "1.20.0"), the way golang.org/x/vuln converts Go tags. Anything else is returned
// unchanged.
//
// osv-scanner: for the SBOM path it compares "go1.21.3" as is, which the semver parser
// reads as a version below every release, so that every stdlib advisory matches. For
// lockfile-derived "1.20" directives it assumes the patch version 99; a purl's
// "go1.20" names the release 1.20.0, so no such guess is made here.
func goToolchainVersion(v string) string {
	rest, ok := strings.CutPrefix(v, "go")
	if !ok || rest == "" || rest[0] < '0' || rest[0] > '9' {
		return v
	}
	// Split "1.21rc2" into "1.21" and the pre-release "rc2".
	core, pre := rest, ""
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if (c < '0' || c > '9') && c != '.' {
			core, pre = rest[:i], rest[i:]
			break
		}
	}
	parts := strings.Split(core, ".")
	for _, p := range parts {
		if p == "" {
			return v
		}
	}
	for len(parts) < 3 {
		parts = append(parts, "0")
	}
	out := strings.Join(parts, ".")
	if pre == "" {
		return out
	}
	for _, tag := range []string{"beta", "rc", "alpha"} {
		if n, ok := strings.CutPrefix(pre, tag); ok && n != "" && isDigits(n) {
			return out + "-" + tag + "." + n
		}
	}
	return v
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
