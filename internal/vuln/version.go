package vuln

import (
	"errors"
	"fmt"
	"regexp"
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

// Comparable reports whether version can be ordered among the versions of ecosystem
// (an OSV ecosystem name, with or without suffix, or SemVer). A version that is not
// comparable is never placed inside or outside a SEMVER/ECOSYSTEM range: only an exact
// match (the affected versions list, or a commit named by a GIT range) decides.
//
// osv-scalibr's semantic package signals a version it cannot parse in three ways, all
// taken here:
//
//   - Alpine, Debian, Ubuntu, CRAN, Hackage (and their derivatives): Parse returns an
//     error wrapping semantic.ErrInvalidVersion;
//   - PyPI: Parse never fails, but a string that does not match PEP 440's regular
//     expression (Appendix B of PEP 440, the expression the library itself uses) falls
//     back to setuptools' legacy ordering, which sorts it below every PEP 440 version,
//     so that every "introduced: 0" range would contain it. That fallback is the
//     failure, detected with the same expression;
//   - the ecosystems parsed as SemVer-like (npm, Go, crates.io, Hex and others, and
//     SEMVER ranges): the lenient parser reads any text, and one without a leading
//     number becomes a 0.0.0 pre-release, again below everything. A version whose core
//     (after an optional "v") does not start with a digit is not comparable.
//
// The remaining parsers (Maven, NuGet, RubyGems, Packagist, Pub, the RPM family, and
// Alpine for what follows a valid start) accept
// every string by design — a Maven qualifier can be any word — so for them, as for all,
// a Git commit id is never a version: 7 to 64 hexadecimal digits holding both a digit
// and a letter (an abbreviated or full SHA-1 or SHA-256 object name).
func Comparable(ecosystem, version string) bool {
	base := baseEcosystem(ecosystem)
	return comparable(base, version)
}

// comparable is Comparable for a base ecosystem.
func comparable(base, version string) bool {
	if !ordersLike(base, version) {
		return false
	}
	_, err := parseSemantic(base, version)
	return err == nil
}

// ordersLike is the part of comparable that needs no parse: false for a commit id, a
// non-PEP 440 PyPI version and a SemVer-like version without a leading number.
func ordersLike(base, version string) bool {
	if version == "" || looksLikeCommit(version) {
		return false
	}
	switch {
	case base == "PyPI":
		return pep440.MatchString(strings.ToLower(version))
	case semverLike(base):
		s := strings.TrimPrefix(version, "v")
		return s != "" && s[0] >= '0' && s[0] <= '9'
	}
	return true
}

// semverLike reports whether osv-scalibr orders base's versions with its lenient
// SemVer parser (semantic.Parse's ParseSemverVersion cases).
func semverLike(base string) bool {
	switch base {
	case SemVer, "npm", "Go", "crates.io", "Hex", "Bitnami", "Bioconductor", "ConanCenter", "Docker Hardened Images",
		"GHC", "Julia", "SwiftURL":
		return true
	}
	return false
}

// pep440 is the regular expression of PEP 440, Appendix B, as osv-scalibr applies it
// (to the lower-cased version, surrounding white space allowed).
var pep440 = regexp.MustCompile(`^\s*v?(?:(?:[0-9]+!)?[0-9]+(?:\.[0-9]+)*(?:[-_\.]?(?:a|b|c|rc|alpha|beta|pre|preview)[-_\.]?[0-9]*)?(?:(?:-[0-9]+)|(?:[-_\.]?(?:post|rev|r)[-_\.]?[0-9]*))?(?:[-_\.]?dev[-_\.]?[0-9]*)?)(?:\+[a-z0-9]+(?:[-_\.][a-z0-9]+)*)?\s*$`)

// looksLikeCommit reports whether s is a Git object name: 7 to 64 hexadecimal digits
// with at least one digit and one letter, so that a date ("20240101") is not taken
// for one.
func looksLikeCommit(s string) bool {
	if len(s) < 7 || len(s) > 64 {
		return false
	}
	digit, letter := false, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digit = true
		case c >= 'a' && c <= 'f', c >= 'A' && c <= 'F':
			letter = true
		default:
			return false
		}
	}
	return digit && letter
}
