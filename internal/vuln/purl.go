package vuln

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/package-url/packageurl-go"
)

// ErrUnsupportedEcosystem is wrapped by PackageFromPURL when the purl's type (or, for
// deb and apk, its namespace) has no OSV ecosystem, and by ParseVersion when an
// ecosystem has no version ordering. Callers report such packages as "not matched".
var ErrUnsupportedEcosystem = errors.New("ecosystem not supported")

// Package is one installed package as OSV names it. Ecosystem is the OSV ecosystem
// including any release suffix ("Debian:11", "Alpine:v3.18", "PyPI").
type Package struct {
	Ecosystem string
	Name      string
	Version   string
}

// PackageKey is what the database is looked up by: the base ecosystem WITHOUT release
// suffix ("Debian", not "Debian:11") and the key name (see KeyOf). Suffixes are compared
// after the lookup (Affected.AppliesTo), because a record for "Debian" applies to every
// Debian release while one for "Debian:12" applies to Debian 12 only.
type PackageKey struct {
	Ecosystem string
	Name      string
}

// KeyOf returns the database key of p. Its name is the normalised name (NormalizeName),
// with ASCII letters lowered for NuGet, whose package ids are case-insensitive
// ("Newtonsoft.Json" and "newtonsoft.json" are one package). Only the key is folded: the
// names shown keep their case.
func KeyOf(p Package) PackageKey {
	base := baseEcosystem(p.Ecosystem)
	return PackageKey{Ecosystem: base, Name: keyName(base, p.Name)}
}

// keyName returns the name part of the database key of package name of base ecosystem
// base. NuGet ids are folded to lower case in ASCII only: that is what migration 0009
// does to rows stored before it, identically on SQLite and PostgreSQL (whose LOWER
// follow different rules outside ASCII), and NuGet ids in OSV are ASCII. A non-ASCII
// letter therefore compares as written.
func keyName(base, name string) string {
	name = NormalizeName(base, name)
	if base == "NuGet" {
		return lowerASCII(name)
	}
	return name
}

// lowerASCII returns s with the ASCII letters A-Z lowered and every other byte kept.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// baseEcosystem strips the ":suffix" of an OSV ecosystem string.
func baseEcosystem(eco string) string {
	base, _, _ := strings.Cut(eco, ":")
	return base
}

// ecosystemsEqual reports whether an advisory for ecosystem a applies to a package of
// ecosystem b: the base ecosystems must be equal, and the suffixes too when both have
// one. A record without suffix applies to every release. This is osv-scanner's rule
// (osvecosystem.Parsed.Equal); the specification does not say more.
func ecosystemsEqual(a, b string) bool {
	ab, as, _ := strings.Cut(a, ":")
	bb, bs, _ := strings.Cut(b, ":")
	if ab != bb {
		return false
	}
	return as == "" || bs == "" || as == bs
}

// NormalizeName returns the name a package is stored and shown under. For PyPI it is
// the PEP 503 normalised name (lower case, every run of "-", "_" and "." replaced by one
// "-"); for every other ecosystem the name is returned unchanged. Matching compares
// the key names of KeyOf, which are NormalizeName and, for NuGet, lower case.
func NormalizeName(ecosystem, name string) string {
	if baseEcosystem(ecosystem) != "PyPI" {
		return name
	}
	var b strings.Builder
	b.Grow(len(name))
	run := false
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c == '-' || c == '_' || c == '.' {
			if !run {
				b.WriteByte('-')
			}
			run = true
			continue
		}
		run = false
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	return b.String()
}

// purlEcosystem returns the OSV ecosystem of a purl type, except deb and apk, whose
// namespace names the distribution.
func purlEcosystem(typ string) (string, bool) {
	switch typ {
	case "cargo":
		return "crates.io", true
	case "composer":
		return "Packagist", true
	case "conan":
		return "ConanCenter", true
	case "cran":
		return "CRAN", true
	case "gem":
		return "RubyGems", true
	case "github":
		return "GitHub Actions", true
	case "golang":
		return "Go", true
	case "hackage":
		return "Hackage", true
	case "hex":
		return "Hex", true
	case "k8s":
		return "Kubernetes", true
	case "maven":
		return "Maven", true
	case "npm":
		return "npm", true
	case "nuget":
		return "NuGet", true
	case "pub":
		return "Pub", true
	case "pypi":
		return "PyPI", true
	case "swift":
		return "SwiftURL", true
	}
	return "", false
}

// PackageFromPURL maps a package URL to the OSV ecosystem, name and version it
// describes. The name is the OSV package name: "group:artifact" for Maven,
// "namespace/name" for npm scopes, Go modules, Composer and the others with a
// namespace, the bare name for deb and apk. Distribution packages take their release
// from the distro qualifier when it can be derived ("Alpine:v3.18", "Debian:11",
// "Ubuntu:22.04:LTS"). A purl type without OSV ecosystem yields an error wrapping
// ErrUnsupportedEcosystem.
func PackageFromPURL(purl string) (Package, error) {
	if len(purl) > 4096 {
		return Package{}, fmt.Errorf("vuln: purl of %d bytes is too long", len(purl))
	}
	p, err := packageurl.FromString(purl)
	if err != nil {
		return Package{}, fmt.Errorf("vuln: purl %q: %w", purl, err)
	}
	pkg := Package{Version: p.Version}
	switch p.Type {
	case "deb":
		switch p.Namespace {
		case "debian":
			pkg.Ecosystem = "Debian" + debianSuffix(p.Qualifiers.Map()["distro"])
		case "ubuntu":
			pkg.Ecosystem = "Ubuntu" + ubuntuSuffix(p.Qualifiers.Map()["distro"])
		default:
			return Package{}, fmt.Errorf("vuln: purl %q: deb namespace %q: %w", purl, p.Namespace, ErrUnsupportedEcosystem)
		}
		pkg.Name = p.Name
		return pkg, nil
	case "apk":
		if p.Namespace != "alpine" {
			return Package{}, fmt.Errorf("vuln: purl %q: apk namespace %q: %w", purl, p.Namespace, ErrUnsupportedEcosystem)
		}
		pkg.Ecosystem = "Alpine" + alpineSuffix(p.Qualifiers.Map()["distro"])
		pkg.Name = p.Name
		return pkg, nil
	}
	eco, ok := purlEcosystem(p.Type)
	if !ok {
		return Package{}, fmt.Errorf("vuln: purl %q: type %q: %w", purl, p.Type, ErrUnsupportedEcosystem)
	}
	pkg.Ecosystem = eco
	ns, name := p.Namespace, p.Name
	if p.Type == "golang" {
		// osv-scanner: packageurl-go lowercases golang namespaces and names, but Go
		// module paths are case-sensitive and OSV records use them verbatim
		// (github.com/BurntSushi/toml). Take them from the purl as written.
		if rns, rname, ok := rawNamespaceName(purl); ok && strings.EqualFold(rns, ns) && strings.EqualFold(rname, name) {
			ns, name = rns, rname
		}
	}
	switch {
	case ns == "":
		pkg.Name = name
	case p.Type == "maven":
		pkg.Name = ns + ":" + name
	default:
		pkg.Name = ns + "/" + name
	}
	return pkg, nil
}

// rawNamespaceName extracts the percent-decoded namespace and name of a purl without
// the case folding packageurl-go applies, following the purl spec's parsing steps.
func rawNamespaceName(purl string) (ns, name string, ok bool) {
	if len(purl) < 4 || !strings.EqualFold(purl[:4], "pkg:") {
		return "", "", false
	}
	rest := strings.TrimLeft(purl[4:], "/")
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		rest = rest[:i]
	}
	_, rest, found := strings.Cut(rest, "/")
	if !found {
		return "", "", false
	}
	if i := strings.LastIndexByte(rest, '@'); i > 0 {
		rest = rest[:i]
	}
	var segs []string
	for _, s := range strings.Split(rest, "/") {
		if s == "" {
			continue
		}
		d, err := url.PathUnescape(s)
		if err != nil {
			return "", "", false
		}
		segs = append(segs, d)
	}
	if len(segs) == 0 {
		return "", "", false
	}
	return strings.Join(segs[:len(segs)-1], "/"), segs[len(segs)-1], true
}

// alpineSuffix derives ":vX.Y" from an apk distro qualifier ("alpine-3.18.4", "3.18",
// "v3.18", "edge"), as osv-scanner does.
func alpineSuffix(distro string) string {
	if distro == "" {
		return ""
	}
	id := distro
	if i := strings.LastIndexByte(id, '-'); i >= 0 {
		id = id[i+1:]
	}
	id = strings.TrimLeft(id, "vV")
	if id == "edge" {
		return ":edge"
	}
	parts := strings.Split(id, ".")
	if len(parts) >= 2 && isDigits(parts[0]) && isDigits(parts[1]) {
		return ":v" + parts[0] + "." + parts[1]
	}
	return ""
}

// debianRelease maps a Debian code name to its release number.
func debianRelease(codename string) (string, bool) {
	switch codename {
	case "wheezy":
		return "7", true
	case "jessie":
		return "8", true
	case "stretch":
		return "9", true
	case "buster":
		return "10", true
	case "bullseye":
		return "11", true
	case "bookworm":
		return "12", true
	case "trixie":
		return "13", true
	case "forky":
		return "14", true
	}
	return "", false
}

// debianSuffix derives ":N" from a deb distro qualifier ("debian-11", "debian-11.6",
// "11", "bullseye", "debian-bullseye").
//
// osv-scanner: it ignores the qualifier, so the package is compared against the
// advisories of every Debian release.
func debianSuffix(distro string) string {
	d := strings.ToLower(strings.TrimPrefix(strings.ToLower(distro), "debian"))
	d = strings.TrimLeft(d, "-_:/ ")
	if n, ok := debianRelease(d); ok {
		return ":" + n
	}
	major, _, _ := strings.Cut(d, ".")
	if isDigits(major) && len(major) <= 3 {
		return ":" + strings.TrimLeft(major, "0")
	}
	return ""
}

// ubuntuRelease maps an Ubuntu code name to its release number.
func ubuntuRelease(codename string) (string, bool) {
	switch codename {
	case "trusty":
		return "14.04", true
	case "xenial":
		return "16.04", true
	case "bionic":
		return "18.04", true
	case "focal":
		return "20.04", true
	case "jammy":
		return "22.04", true
	case "kinetic":
		return "22.10", true
	case "lunar":
		return "23.04", true
	case "mantic":
		return "23.10", true
	case "noble":
		return "24.04", true
	case "oracular":
		return "24.10", true
	case "plucky":
		return "25.04", true
	case "questing":
		return "25.10", true
	}
	return "", false
}

// ubuntuSuffix derives ":YY.MM" (with ":LTS" for April releases of even years) from a
// deb distro qualifier ("ubuntu-22.04", "22.04", "jammy"). Ubuntu Pro advisories
// ("Ubuntu:Pro:18.04:LTS") are not matched by the suffix derived here.
func ubuntuSuffix(distro string) string {
	d := strings.ToLower(strings.TrimPrefix(strings.ToLower(distro), "ubuntu"))
	d = strings.TrimLeft(d, "-_:/ ")
	if n, ok := ubuntuRelease(d); ok {
		d = n
	}
	yy, mm, ok := strings.Cut(d, ".")
	if !ok || len(yy) != 2 || len(mm) < 2 || !isDigits(yy) || !isDigits(mm[:2]) {
		return ""
	}
	mm = mm[:2]
	s := ":" + yy + "." + mm
	if mm == "04" && (yy[1]-'0')%2 == 0 {
		s += ":LTS"
	}
	return s
}
