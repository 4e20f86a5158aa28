package supply

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/vuln"
)

// Coverage says how many components of an SBOM could be checked against the
// vulnerability database. A component is covered when it has a purl of an ecosystem the
// database holds advisories for and, where advisories name its package, a version that
// ecosystem can order (or that an advisory lists exactly). "0 findings" means "no known
// vulnerability" only for covered components.
type Coverage struct {
	Components int `json:"components"`
	Covered    int `json:"covered"`
	NotCovered int `json:"not_covered"` // WithoutPURL + Unsupported + the NoData counts + NotComparable
	// WithoutPURL counts components without a purl; Unsupported those whose purl no
	// advisory source covers (pkg:generic, an invalid purl …).
	WithoutPURL int `json:"without_purl"`
	Unsupported int `json:"unsupported"`
	// EcosystemsWithoutData lists, sorted, the ecosystems of components the database
	// holds no advisory for; NoData counts the components of each.
	EcosystemsWithoutData []string       `json:"ecosystems_without_data"`
	NoData                map[string]int `json:"no_data"`
	// NotComparable counts components whose version their ecosystem cannot order (a
	// commit id given as a PyPI version …) while advisories name their package, so that
	// they could be neither matched nor cleared; NotComparableItems names them (capped).
	NotComparable      int      `json:"not_comparable"`
	NotComparableItems []string `json:"not_comparable_components"`
}

// Complete reports whether every component was covered.
func (c Coverage) Complete() bool { return c.NotCovered == 0 }

// Summary describes what was not covered in one line, for reports and gate reasons.
func (c Coverage) Summary() string {
	parts := c.gaps()
	if c.NotComparable > 0 {
		parts = append(parts, components(c.NotComparable)+" with a version that cannot be compared")
	}
	return strings.Join(parts, "; ")
}

// gaps names what was not covered but the versions that cannot be compared: ecosystems
// without advisory data, components without purl or of a purl type no source covers.
func (c Coverage) gaps() []string {
	var parts []string
	for _, e := range c.EcosystemsWithoutData {
		parts = append(parts, fmt.Sprintf("%s: %s, no advisory data", e, components(c.NoData[e])))
	}
	if c.WithoutPURL > 0 {
		parts = append(parts, components(c.WithoutPURL)+" without purl")
	}
	if c.Unsupported > 0 {
		parts = append(parts, components(c.Unsupported)+" with a purl type no advisory source covers")
	}
	return parts
}

// gapMsgs says gaps as catalogue messages, one each in the same order.
func (c Coverage) gapMsgs() []i18n.Message {
	var out []i18n.Message
	for _, e := range c.EcosystemsWithoutData {
		out = append(out, i18n.M("supply.item.no_data", e, c.NoData[e]))
	}
	if c.WithoutPURL > 0 {
		out = append(out, i18n.M("supply.item.without_purl", c.WithoutPURL))
	}
	if c.Unsupported > 0 {
		out = append(out, i18n.M("supply.item.unsupported", c.Unsupported))
	}
	return out
}

// components counts n components in English.
func components(n int) string {
	if n == 1 {
		return "1 component"
	}
	return fmt.Sprintf("%d components", n)
}

// coverageComponent is what coverage looks at of one component.
type coverageComponent struct {
	purl, ecosystem, pkg, version string
	notComparable                 bool // set by the matcher: advisories name the package, the version cannot be placed
}

// coverage computes the coverage of comps with the database's current content.
func (s *Service) coverage(ctx context.Context, comps []coverageComponent) (Coverage, error) {
	cov := Coverage{Components: len(comps), EcosystemsWithoutData: []string{}, NoData: map[string]int{},
		NotComparableItems: []string{}}
	var bases []string
	seen := map[string]bool{}
	for _, c := range comps {
		if c.ecosystem == "" {
			continue
		}
		b := baseOf(c.ecosystem)
		if !seen[b] {
			seen[b] = true
			bases = append(bases, b)
		}
	}
	have, err := s.vulns.EcosystemsWithData(ctx, bases)
	if err != nil {
		return cov, fmt.Errorf("supply: coverage: %w", err)
	}
	for _, c := range comps {
		switch {
		case c.purl == "":
			cov.WithoutPURL++
		case c.ecosystem == "":
			cov.Unsupported++
		case !have[baseOf(c.ecosystem)]:
			cov.NoData[baseOf(c.ecosystem)]++
		case c.notComparable:
			cov.NotComparable++
			if len(cov.NotComparableItems) < maxItems {
				cov.NotComparableItems = append(cov.NotComparableItems, c.purl)
			}
		default:
			cov.Covered++
		}
	}
	for e := range cov.NoData {
		cov.EcosystemsWithoutData = append(cov.EcosystemsWithoutData, e)
	}
	sort.Strings(cov.EcosystemsWithoutData)
	cov.NotCovered = cov.Components - cov.Covered
	return cov, nil
}

// baseOf returns an OSV ecosystem without its ":suffix".
func baseOf(eco string) string {
	b, _, _ := strings.Cut(eco, ":")
	return b
}

// versionCoverage computes the coverage of stored SBOM sbomID. Versions that their
// ecosystem cannot order are evaluated again against the advisories naming their package.
func (s *Service) versionCoverage(ctx context.Context, q store.Querier, sbomID int64) (Coverage, error) {
	if sbomID == 0 {
		return s.coverage(ctx, nil)
	}
	rows, err := q.QueryContext(ctx, `SELECT purl, ecosystem, pkg_name, pkg_version FROM components WHERE sbom_id = ? ORDER BY id`, sbomID)
	if err != nil {
		return Coverage{}, fmt.Errorf("supply: coverage: %w", err)
	}
	var comps []coverageComponent
	for rows.Next() {
		var c coverageComponent
		if err := rows.Scan(&c.purl, &c.ecosystem, &c.pkg, &c.version); err != nil {
			rows.Close()
			return Coverage{}, fmt.Errorf("supply: coverage: %w", err)
		}
		comps = append(comps, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Coverage{}, fmt.Errorf("supply: coverage: %w", err)
	}
	keys := map[vuln.PackageKey]bool{}
	for _, c := range comps {
		if c.ecosystem != "" && !vuln.Comparable(c.ecosystem, c.version) {
			keys[vuln.KeyOf(vuln.Package{Ecosystem: c.ecosystem, Name: c.pkg})] = true
		}
	}
	if len(keys) > 0 {
		list := make([]vuln.PackageKey, 0, len(keys))
		for k := range keys {
			list = append(list, k)
		}
		affected, err := s.vulns.AffectedFor(ctx, list)
		if err != nil {
			return Coverage{}, fmt.Errorf("supply: coverage: %w", err)
		}
		for i, c := range comps {
			if c.ecosystem == "" || vuln.Comparable(c.ecosystem, c.version) {
				continue
			}
			pkg := vuln.Package{Ecosystem: c.ecosystem, Name: c.pkg, Version: c.version}
			comps[i].notComparable = notComparable(affected[vuln.KeyOf(pkg)], pkg)
		}
	}
	return s.coverage(ctx, comps)
}

// notComparable reports whether some entry of list naming pkg could not place its
// version.
func notComparable(list []*vuln.Affected, pkg vuln.Package) bool {
	for _, af := range list {
		if af.AppliesTo(pkg) && af.Evaluate(pkg.Version) == vuln.NotComparable {
			return true
		}
	}
	return false
}

// VersionCoverage returns the coverage of version id's SBOM with the database's current
// content.
func (s *Service) VersionCoverage(ctx context.Context, a actor.Actor, versionID int64) (Coverage, error) {
	v, err := getVersion(ctx, s.db, a, versionID)
	if err != nil {
		return Coverage{}, err
	}
	return s.versionCoverage(ctx, s.db, v.SBOMID)
}
