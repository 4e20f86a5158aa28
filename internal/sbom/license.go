package sbom

import (
	"strings"
	"sync"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/github/go-spdx/v2/spdxexp"
	"github.com/github/go-spdx/v2/spdxexp/spdxlicenses"
)

// spdxLicenseIDs maps the lower-case form of every SPDX licence id (active and deprecated)
// to its canonical spelling. It is built once and never written afterwards.
var spdxLicenseIDs = sync.OnceValue(func() map[string]string {
	m := make(map[string]string, 800)
	for _, list := range [][]string{spdxlicenses.GetDeprecated(), spdxlicenses.GetLicenses()} {
		for _, id := range list {
			m[strings.ToLower(id)] = id
		}
	}
	return m
})

// knownLicenseID returns the canonical SPDX id equal to s ignoring case.
func knownLicenseID(s string) (string, bool) {
	id, ok := spdxLicenseIDs()[strings.ToLower(strings.TrimSpace(s))]
	return id, ok
}

// noLicense reports the values that mean "no licence information".
func noLicense(s string) bool {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "", "NOASSERTION", "NONE":
		return true
	}
	return false
}

// cycloneDXLicense turns a CycloneDX licenses list into one SPDX expression: an expression
// is taken as is, a licence id as the id (canonical case when known), a name alone as the
// SPDX id it spells (ignoring case) or else LicenseRef-<sanitised name>. Several entries
// are joined with AND, compound parts in parentheses.
func (b *builder) cycloneDXLicense(ref string, ls *cdx.Licenses) string {
	if ls == nil {
		return ""
	}
	var parts []string
	seen := map[string]bool{}
	for _, lc := range *ls {
		var p string
		switch {
		case strings.TrimSpace(lc.Expression) != "":
			p = strings.TrimSpace(lc.Expression)
		case lc.License != nil && strings.TrimSpace(lc.License.ID) != "":
			p = strings.TrimSpace(lc.License.ID)
			if id, ok := knownLicenseID(p); ok {
				p = id
			}
		case lc.License != nil && strings.TrimSpace(lc.License.Name) != "":
			name := strings.TrimSpace(lc.License.Name)
			if noLicense(name) {
				continue
			}
			if id, ok := knownLicenseID(name); ok {
				p = id
				break
			}
			s := sanitiseLicenseRef(name)
			if s == "" {
				b.warn(ref, WarnInvalidLicense, "licence name "+quote(name)+" cannot be expressed as an SPDX LicenseRef; ignored")
				continue
			}
			p = "LicenseRef-" + s
		}
		if noLicense(p) || seen[p] {
			continue
		}
		seen[p] = true
		parts = append(parts, p)
	}
	return joinAnd(parts)
}

// joinAnd combines expressions with AND, parenthesising compound ones.
func joinAnd(parts []string) string {
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0]
	}
	out := make([]string, len(parts))
	for i, p := range parts {
		if strings.ContainsAny(p, " \t()") && !wrapped(p) {
			p = "(" + p + ")"
		}
		out[i] = p
	}
	return strings.Join(out, " AND ")
}

// wrapped reports whether s is entirely enclosed by one pair of parentheses.
func wrapped(s string) bool {
	if len(s) < 2 || s[0] != '(' || s[len(s)-1] != ')' {
		return false
	}
	depth := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 && i != len(s)-1 {
				return false
			}
		}
	}
	return depth == 0
}

// sanitiseLicenseRef keeps ASCII letters, digits, '.' and '-', turning every other run of
// characters into one '-'.
func sanitiseLicenseRef(name string) string {
	var sb strings.Builder
	dash := false
	for _, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-'
		if ok {
			sb.WriteRune(r)
			dash = r == '-'
			continue
		}
		if !dash && sb.Len() > 0 {
			sb.WriteByte('-')
			dash = true
		}
	}
	return strings.Trim(sb.String(), "-")
}

// checkLicense warns when expr is not a valid SPDX expression; results are cached per
// document because real SBOMs repeat a handful of expressions thousands of times.
func (b *builder) checkLicense(ref, expr string) {
	if expr == "" {
		return
	}
	valid, ok := b.licenseValid[expr]
	if !ok {
		valid = validLicenseExpression(expr)
		b.licenseValid[expr] = valid
	}
	if !valid {
		b.warn(ref, WarnInvalidLicense, "licence expression "+quote(expr)+" is not a valid SPDX expression; kept as declared")
	}
}

// validLicenseExpression asks spdxexp; it must never take the parser down.
func validLicenseExpression(expr string) (valid bool) {
	defer func() {
		if recover() != nil {
			valid = false
		}
	}()
	valid, _ = spdxexp.ValidateLicenses([]string{expr})
	return valid
}
