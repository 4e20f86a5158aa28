package supply

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/licence"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/sbom"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
	"github.com/medguard/medguard/internal/vuln"
)

// Component is a component of a stored SBOM, with the package it was matched as.
type Component struct {
	ID             int64  `json:"id"`
	Ref            string `json:"ref"`
	ParentRef      string `json:"parent_ref"`
	Type           string `json:"type"`
	Group          string `json:"group"`
	Name           string `json:"name"`
	Version        string `json:"version"`
	PURL           string `json:"purl"`
	Ecosystem      string `json:"ecosystem"`       // OSV ecosystem, "" when the component cannot be matched
	Package        string `json:"package"`         // OSV package name
	PkgVersion     string `json:"package_version"` // version matched
	License        string `json:"license"`
	LicenseVerdict string `json:"license_verdict"`
	Supplier       string `json:"supplier"`
	Hashes         string `json:"hashes"`
	Scope          string `json:"scope"`
	Findings       int    `json:"findings"`
}

// ImportReport says what an SBOM import stored and what it could not match.
type ImportReport struct {
	VersionID    int64            `json:"version_id"`
	SBOMID       int64            `json:"sbom_id"`
	Format       string           `json:"format"`
	SpecVersion  string           `json:"spec_version"`
	Components   int              `json:"components"`
	Matchable    int              `json:"matchable"` // components with a purl of a supported ecosystem
	Dependencies int              `json:"dependencies"`
	Findings     int              `json:"findings"`
	Licences     map[string]int   `json:"licences"` // verdict → components
	Warnings     []sbom.Warning   `json:"warnings"`
	Unsupported  map[string]int   `json:"unsupported"` // purl type → components not matched
	Severities   map[string]int   `json:"severities"`
	Replaced     bool             `json:"replaced"` // an earlier SBOM of the version was replaced
	Coverage     Coverage         `json:"coverage"` // components checked against advisory data, and those not
	Elapsed      time.Duration    `json:"elapsed_ns"`
	Gate         *GateVerdictView `json:"gate,omitempty"`
}

// GateVerdictView is a short form of a gate verdict in an import report.
type GateVerdictView struct {
	Name   string `json:"name"`
	Passed bool   `json:"passed"`
}

// analysed is an SBOM parsed, matched and judged in memory, before anything is stored.
type analysed struct {
	doc      *sbom.Document
	comps    []Component
	matches  [][]hit // per component
	notComp  []bool  // per component: advisories name the package, its version cannot be placed
	report   ImportReport
	vulnMeta map[string]vuln.Summary
}

// hit is one vulnerability matching one component.
type hit struct {
	vulnID string
	fixed  []string
}

// packageOf returns the OSV package a component is matched as, or ok=false with the
// reason (purl type) when it cannot be matched.
func packageOf(c sbom.Component) (p vuln.Package, unsupported string, ok bool) {
	if c.PURL == "" {
		return vuln.Package{}, "", false
	}
	p, err := vuln.PackageFromPURL(c.PURL)
	if err != nil {
		t := "invalid"
		if i := strings.IndexByte(c.PURL, '/'); strings.HasPrefix(c.PURL, "pkg:") && i > 4 {
			t = c.PURL[4:i]
		}
		return vuln.Package{}, t, false
	}
	if p.Version == "" {
		// The purl names the package but not the version: the component's own version
		// field is the declared version of the same component, not a guess.
		p.Version = c.Version
	}
	p.Name = vuln.NormalizeName(p.Ecosystem, p.Name)
	return p, "", true
}

// analyse parses data and matches its components against the vulnerability database and
// the licence policy, without storing anything.
func (s *Service) analyse(ctx context.Context, data []byte, policy licence.Policy) (*analysed, error) {
	doc, err := sbom.Parse(data)
	if err != nil {
		// The client is told the place and what is wrong there (ParseError.Safe), never
		// the document's text; the whole error is the cause, for the log.
		var pe *sbom.ParseError
		if !errors.As(err, &pe) {
			return nil, problem.Invalid("sbom", "not a readable SBOM").WithCode("invalid_sbom").WithMsg("supply.error.msg.sbom_not_readable").WithErr(err)
		}
		msg := pe.Safe()
		return nil, problem.Invalid("sbom", "%s", msg).WithCode("invalid_sbom").WithMsg("supply.error.msg.sbom_unreadable", msg).WithErr(err)
	}
	an := &analysed{doc: doc, comps: make([]Component, len(doc.Components)), matches: make([][]hit, len(doc.Components)),
		notComp: make([]bool, len(doc.Components))}
	rep := &an.report
	rep.Format, rep.SpecVersion, rep.Components = string(doc.Format), doc.SpecVersion, len(doc.Components)
	rep.Warnings = doc.Warnings
	if rep.Warnings == nil {
		rep.Warnings = []sbom.Warning{}
	}
	rep.Licences, rep.Unsupported, rep.Severities = map[string]int{}, map[string]int{}, map[string]int{}
	for _, d := range doc.Dependencies {
		rep.Dependencies += len(d.DependsOn)
	}
	keys := map[vuln.PackageKey]bool{}
	verdicts := map[string]licence.Result{}
	judge := policy.Matcher()
	for i, c := range doc.Components {
		hashes := make([]string, 0, len(c.Hashes))
		for _, h := range c.Hashes {
			hashes = append(hashes, h.Alg+":"+h.Value)
		}
		comp := Component{Ref: c.Ref, ParentRef: c.Parent, Type: c.Type, Group: c.Group, Name: c.Name, Version: c.Version,
			PURL: c.PURL, License: c.License, Supplier: c.Supplier, Hashes: strings.Join(hashes, " "), Scope: c.Scope}
		res, seen := verdicts[c.License]
		if !seen {
			res = judge.Evaluate(c.License)
			verdicts[c.License] = res
		}
		comp.LicenseVerdict = string(res.Verdict)
		rep.Licences[comp.LicenseVerdict]++
		if p, unsupported, ok := packageOf(c); ok {
			comp.Ecosystem, comp.Package, comp.PkgVersion = p.Ecosystem, p.Name, p.Version
			keys[vuln.KeyOf(p)] = true
			rep.Matchable++
		} else if unsupported != "" {
			rep.Unsupported[unsupported]++
		}
		an.comps[i] = comp
	}
	if err := s.matchInto(ctx, an.comps, an.matches, an.notComp, keys); err != nil {
		return nil, err
	}
	cc := make([]coverageComponent, len(an.comps))
	for i, c := range an.comps {
		cc[i] = coverageComponent{purl: c.PURL, ecosystem: c.Ecosystem, pkg: c.Package, version: c.PkgVersion, notComparable: an.notComp[i]}
	}
	if rep.Coverage, err = s.coverage(ctx, cc); err != nil {
		return nil, err
	}
	ids := map[string]bool{}
	for _, hs := range an.matches {
		for _, h := range hs {
			ids[h.vulnID] = true
		}
	}
	if an.vulnMeta, err = s.summaries(ctx, ids); err != nil {
		return nil, err
	}
	for _, hs := range an.matches {
		rep.Findings += len(hs)
		for _, h := range hs {
			rep.Severities[an.vulnMeta[h.vulnID].Severity.Level]++
		}
	}
	return an, nil
}

// matchInto fills matches[i] with the vulnerabilities affecting comps[i], and sets
// notComp[i] when an advisory naming comps[i]'s package could not place its version
// (vuln.NotComparable).
func (s *Service) matchInto(ctx context.Context, comps []Component, matches [][]hit, notComp []bool, keys map[vuln.PackageKey]bool) error {
	if len(keys) == 0 {
		return nil
	}
	list := make([]vuln.PackageKey, 0, len(keys))
	for k := range keys {
		list = append(list, k)
	}
	affected, err := s.vulns.AffectedFor(ctx, list)
	if err != nil {
		return fmt.Errorf("supply: match: %w", err)
	}
	for i, c := range comps {
		if c.Ecosystem == "" {
			continue
		}
		var hs []hit
		pkg := vuln.Package{Ecosystem: c.Ecosystem, Name: c.Package, Version: c.PkgVersion}
		for _, af := range affected[vuln.KeyOf(pkg)] {
			if !af.AppliesTo(pkg) {
				continue
			}
			switch af.Evaluate(c.PkgVersion) {
			case vuln.IsAffected:
			case vuln.NotComparable:
				notComp[i] = true
				continue
			default:
				continue
			}
			dup := false
			for _, h := range hs {
				dup = dup || h.vulnID == af.VulnID
			}
			if !dup {
				hs = append(hs, hit{vulnID: af.VulnID, fixed: af.FixedVersions()})
			}
		}
		sort.Slice(hs, func(a, b int) bool { return hs[a].vulnID < hs[b].vulnID })
		matches[i] = hs
	}
	return nil
}

func (s *Service) summaries(ctx context.Context, ids map[string]bool) (map[string]vuln.Summary, error) {
	if len(ids) == 0 {
		return map[string]vuln.Summary{}, nil
	}
	list := make([]string, 0, len(ids))
	for id := range ids {
		list = append(list, id)
	}
	m, err := s.vulns.Summaries(ctx, list)
	if err != nil {
		return nil, fmt.Errorf("supply: vulnerability summaries: %w", err)
	}
	return m, nil
}

// MaxSBOMSize is the largest SBOM document accepted.
const MaxSBOMSize = sbom.MaxSize

// ImportSBOM parses an SBOM document, stores it as the SBOM of product version versionID
// (replacing an earlier one), matches its components and records the findings. A
// document that cannot be read changes nothing.
func (s *Service) ImportSBOM(ctx context.Context, a actor.Actor, versionID int64, filename string, data []byte) (ImportReport, error) {
	start := time.Now()
	if len(data) > MaxSBOMSize {
		return ImportReport{}, problem.Invalid("sbom", "the document is larger than %d MiB", MaxSBOMSize>>20).WithMsg("error.msg.file_too_large", MaxSBOMSize>>20)
	}
	v, err := getVersion(ctx, s.db, a, versionID)
	if err != nil {
		return ImportReport{}, err
	}
	policy, err := s.LicencePolicy(ctx, a, v.OrgID)
	if err != nil {
		return ImportReport{}, err
	}
	an, err := s.analyse(ctx, data, policy)
	if err != nil {
		return ImportReport{}, err
	}
	rep := &an.report
	rep.VersionID = versionID
	filename, _ = text("filename", filename, 255, false)
	sum := sha256.Sum256(data)
	warnings, _ := json.Marshal(rep.Warnings)
	// The version was checked above; were it deleted meanwhile, the foreign key of the
	// INSERT below fails the transaction.
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sboms WHERE version_id = ?`, versionID)
		if err != nil {
			return fmt.Errorf("supply: replace sbom: %w", err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			rep.Replaced = true
		}
		now := s.stamp()
		if err := tx.QueryRowContext(ctx, `INSERT INTO sboms (version_id, format, spec_version, serial, doc_name, filename,
			sha256, size, components, warnings, document, imported_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, versionID, rep.Format, rep.SpecVersion, an.doc.Serial,
			an.doc.Name, filename, hex.EncodeToString(sum[:]), len(data), len(an.comps), string(warnings), data, a.Username,
			now).Scan(&rep.SBOMID); err != nil {
			return fmt.Errorf("supply: insert sbom: %w", err)
		}
		ids, err := insertComponents(ctx, tx, rep.SBOMID, an.comps)
		if err != nil {
			return err
		}
		if err := insertDeps(ctx, tx, rep.SBOMID, an.doc.Dependencies); err != nil {
			return err
		}
		// A finding the product already had in an earlier version keeps its age. The
		// version's own earlier findings went with its SBOM above.
		seen, err := firstSeen(ctx, tx, v.ProductID)
		if err != nil {
			return err
		}
		var rows []findingRow
		for i, hs := range an.matches {
			for _, h := range hs {
				r := findingRow{orgID: v.OrgID, productID: v.ProductID, versionID: versionID, componentID: ids[i],
					comp: an.comps[i], hit: h, meta: an.vulnMeta[h.vulnID], firstSeen: now}
				if t, ok := seen[r.ageKey()]; ok && t.Before(now) {
					r.firstSeen = t
				}
				rows = append(rows, r)
			}
		}
		if err := insertFindings(ctx, tx, rows, now); err != nil {
			return err
		}
		if err := markFixedByUpgrade(ctx, tx, v, rows); err != nil {
			return err
		}
		_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: "sbom.import", ObjectType: "product_version",
			ObjectID: idString(versionID), OrgID: v.OrgID,
			Summary: fmt.Sprintf("%s %s: %s %s, %d components, %d findings", v.ProductName, v.Version, rep.Format,
				rep.SpecVersion, rep.Components, rep.Findings),
			Msg: trail.Msg("trail.summary.sbom.import", v.ProductName, v.Version, rep.Format, rep.SpecVersion, rep.Components,
				rep.Findings),
			After: map[string]any{"sha256": hex.EncodeToString(sum[:]), "components": rep.Components, "findings": rep.Findings}})
		return err
	})
	if err != nil {
		return ImportReport{}, err
	}
	rep.Elapsed = time.Since(start)
	return *rep, nil
}

// componentChunk is the number of components per multi-row INSERT (18 parameters each).
const componentChunk = 200

// insertComponents stores comps and returns their ids, in order.
func insertComponents(ctx context.Context, tx *store.Tx, sbomID int64, comps []Component) ([]int64, error) {
	for start := 0; start < len(comps); start += componentChunk {
		chunk := comps[start:min(start+componentChunk, len(comps))]
		var q strings.Builder
		q.WriteString(`INSERT INTO components (sbom_id, ref, parent_ref, type, grp, name, version, purl, ecosystem, eco_base,
			pkg_name, pkg_key, pkg_version, license, license_verdict, supplier, hashes, scope) VALUES `)
		args := make([]any, 0, len(chunk)*18)
		for i, c := range chunk {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString(`(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
			// The look-up key of Rematch (componentsOf): for NuGet, the id in lower case.
			key := vuln.KeyOf(vuln.Package{Ecosystem: c.Ecosystem, Name: c.Package})
			args = append(args, sbomID, c.Ref, c.ParentRef, c.Type, c.Group, c.Name, c.Version, c.PURL, c.Ecosystem, key.Ecosystem,
				c.Package, key.Name, c.PkgVersion, c.License, c.LicenseVerdict, c.Supplier, c.Hashes, c.Scope)
		}
		if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
			return nil, fmt.Errorf("supply: insert components: %w", err)
		}
	}
	// Rows of one transaction on the single writer get increasing ids in insertion order.
	rows, err := tx.QueryContext(ctx, `SELECT id FROM components WHERE sbom_id = ? ORDER BY id`, sbomID)
	if err != nil {
		return nil, fmt.Errorf("supply: component ids: %w", err)
	}
	defer rows.Close()
	ids := make([]int64, 0, len(comps))
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("supply: component ids: %w", err)
		}
		ids = append(ids, id)
	}
	if len(ids) != len(comps) {
		return nil, fmt.Errorf("supply: component ids: stored %d of %d", len(ids), len(comps))
	}
	return ids, rows.Err()
}

func insertDeps(ctx context.Context, tx *store.Tx, sbomID int64, deps []sbom.Dependency) error {
	type pair struct{ from, to string }
	var all []pair
	for _, d := range deps {
		for _, to := range d.DependsOn {
			all = append(all, pair{d.Ref, to})
		}
	}
	const chunk = 300
	for start := 0; start < len(all); start += chunk {
		part := all[start:min(start+chunk, len(all))]
		args := make([]any, 0, len(part)*3)
		var q strings.Builder
		q.WriteString(`INSERT INTO component_deps (sbom_id, ref, depends_on) VALUES `)
		for i, p := range part {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString(`(?, ?, ?)`)
			args = append(args, sbomID, p.from, p.to)
		}
		if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
			return fmt.Errorf("supply: insert dependencies: %w", err)
		}
	}
	return nil
}

// findingRow is a finding about to be stored.
type findingRow struct {
	orgID, productID, versionID, componentID int64
	comp                                     Component
	hit                                      hit
	meta                                     vuln.Summary
	firstSeen                                time.Time // zero: the time of the insert
}

// group returns the vulnerability group the finding is stored with.
func (r findingRow) group() string {
	if r.meta.Group == "" {
		return r.hit.vulnID
	}
	return r.meta.Group
}

// ageKey is what findings of one product share with their earlier sightings: the same
// package and vulnerability group.
type ageKey struct{ ecosystem, pkg, group string }

func (r findingRow) ageKey() ageKey {
	return ageKey{r.comp.Ecosystem, r.comp.Package, r.group()}
}

// firstSeen returns when the stored findings of product productID first saw each
// package and vulnerability group.
func firstSeen(ctx context.Context, tx *store.Tx, productID int64) (map[ageKey]time.Time, error) {
	rows, err := tx.QueryContext(ctx, `SELECT ecosystem, pkg_name, vuln_group, MIN(first_seen) FROM findings
		WHERE product_id = ? GROUP BY ecosystem, pkg_name, vuln_group`, productID)
	if err != nil {
		return nil, fmt.Errorf("supply: finding age: %w", err)
	}
	defer rows.Close()
	out := map[ageKey]time.Time{}
	for rows.Next() {
		var k ageKey
		var t store.Time
		if err := rows.Scan(&k.ecosystem, &k.pkg, &k.group, &t); err != nil {
			return nil, fmt.Errorf("supply: finding age: %w", err)
		}
		out[k] = t.Time
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("supply: finding age: %w", err)
	}
	return out, nil
}

// insertFindings stores rows, skipping pairs (component, vulnerability) already stored.
func insertFindings(ctx context.Context, tx *store.Tx, rows []findingRow, now time.Time) error {
	if tx.Dialect() == store.Postgres {
		return insertFindingsArrays(ctx, tx, rows, now)
	}
	const chunk = 200
	for start := 0; start < len(rows); start += chunk {
		part := rows[start:min(start+chunk, len(rows))]
		args := make([]any, 0, len(part)*15)
		var q strings.Builder
		q.WriteString(`INSERT INTO findings (org_id, product_id, version_id, component_id, vuln_id, vuln_group, ecosystem,
			pkg_name, pkg_version, purl, severity, score, fixed_versions, fixed_in, first_seen) VALUES `)
		for i, r := range part {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString(`(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?)`)
			args = append(args, r.orgID, r.productID, r.versionID, r.componentID, r.hit.vulnID, r.group(), r.comp.Ecosystem,
				r.comp.Package, r.comp.PkgVersion, r.comp.PURL, r.level(), r.meta.Severity.Score,
				strings.Join(r.hit.fixed, "\n"), r.seen(now))
		}
		q.WriteString(` ON CONFLICT (component_id, vuln_id) DO NOTHING`)
		if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
			return fmt.Errorf("supply: insert findings: %w", err)
		}
	}
	return nil
}

// findingArrayChunk is the number of findings per INSERT of insertFindingsArrays.
const findingArrayChunk = 10000

// insertFindingsArrays is insertFindings for PostgreSQL: the rows go as one array per
// column, unnested by the server. A multi-row VALUES list takes a parameter per value,
// which PostgreSQL binds and plans again for every chunk; for the findings of a large
// SBOM that was more than half the cost of storing them.
func insertFindingsArrays(ctx context.Context, tx *store.Tx, rows []findingRow, now time.Time) error {
	for start := 0; start < len(rows); start += findingArrayChunk {
		part := rows[start:min(start+findingArrayChunk, len(rows))]
		n := len(part)
		orgs, products, versions, comps := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
		vulns, groups, ecos, pkgs, pkgVersions := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		purls, levels, fixed := make([]string, n), make([]string, n), make([]string, n)
		scores, seen := make([]float64, n), make([]time.Time, n)
		for i, r := range part {
			orgs[i], products[i], versions[i], comps[i] = r.orgID, r.productID, r.versionID, r.componentID
			vulns[i], groups[i], ecos[i], pkgs[i], pkgVersions[i] = r.hit.vulnID, r.group(), r.comp.Ecosystem, r.comp.Package, r.comp.PkgVersion
			purls[i], levels[i], fixed[i] = r.comp.PURL, r.level(), strings.Join(r.hit.fixed, "\n")
			scores[i], seen[i] = r.meta.Severity.Score, r.seen(now)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO findings (org_id, product_id, version_id, component_id, vuln_id,
			vuln_group, ecosystem, pkg_name, pkg_version, purl, severity, score, fixed_versions, fixed_in, first_seen)
			SELECT o, p, v, c, id, g, e, n, pv, u, sev, sc, fx, '', fs FROM unnest(?::bigint[], ?::bigint[], ?::bigint[],
				?::bigint[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[],
				?::double precision[], ?::text[], ?::timestamptz[]) AS r(o, p, v, c, id, g, e, n, pv, u, sev, sc, fx, fs)
			ON CONFLICT (component_id, vuln_id) DO NOTHING`,
			orgs, products, versions, comps, vulns, groups, ecos, pkgs, pkgVersions, purls, levels, scores, fixed, seen); err != nil {
			return fmt.Errorf("supply: insert findings: %w", err)
		}
	}
	return nil
}

// level returns the severity level the finding is stored with.
func (r findingRow) level() string {
	if r.meta.Severity.Level == "" {
		return "unknown"
	}
	return r.meta.Severity.Level
}

// seen returns the first-seen time the finding is stored with.
func (r findingRow) seen(now time.Time) time.Time {
	if r.firstSeen.IsZero() {
		return now
	}
	return r.firstSeen
}

// markFixedByUpgrade marks the findings of the product's earlier versions that version v
// no longer has as fixed in v, and clears that mark from findings v still has; rows are
// v's findings, just stored.
func markFixedByUpgrade(ctx context.Context, tx *store.Tx, v Version, rows []findingRow) error {
	if tx.Dialect() == store.Postgres {
		return markFixedByUpgradeInGo(ctx, tx, v, rows)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE findings SET fixed_in = ?
		WHERE product_id = ? AND version_id < ? AND fixed_in = ''
		AND NOT EXISTS (SELECT 1 FROM findings g WHERE g.version_id = ? AND g.ecosystem = findings.ecosystem
			AND g.pkg_name = findings.pkg_name AND g.vuln_group = findings.vuln_group)`,
		v.Version, v.ProductID, v.ID, v.ID); err != nil {
		return fmt.Errorf("supply: mark fixed findings: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE findings SET fixed_in = ''
		WHERE product_id = ? AND version_id < ? AND fixed_in = ?
		AND EXISTS (SELECT 1 FROM findings g WHERE g.version_id = ? AND g.ecosystem = findings.ecosystem
			AND g.pkg_name = findings.pkg_name AND g.vuln_group = findings.vuln_group)`,
		v.ProductID, v.ID, v.Version, v.ID); err != nil {
		return fmt.Errorf("supply: unmark fixed findings: %w", err)
	}
	return nil
}

// markFixedByUpgradeInGo is markFixedByUpgrade for PostgreSQL: it reads the earlier
// findings and compares them with rows by package and vulnerability group in Go, not in
// an UPDATE with a correlated (NOT) EXISTS. The rows of a version just imported, and of a new product,
// are not yet in PostgreSQL's statistics, so the planner estimated one row on each side
// and sometimes chose a nested loop comparing every earlier finding with every new one:
// 4-5 s instead of 5-20 ms for the second version of the 3,000-component benchmark.
// SQLite plans the correlated form well and keeps it: with this Go form instead, six
// alternating runs of BenchmarkImportSBOM3000/sqlite/second-version (-benchtime 3x, on
// a loaded 2-core machine) took 1.7%, 5.5%, 34%, 2.8%, 2.6% and 16% longer, 8% in all
// (issue 12 asked for one algorithm unless the single one cost SQLite more than ~5%).
func markFixedByUpgradeInGo(ctx context.Context, tx *store.Tx, v Version, rows []findingRow) error {
	have := make(map[ageKey]bool, len(rows))
	for _, r := range rows {
		have[r.ageKey()] = true
	}
	// Earlier findings not marked that v no longer has, and those marked fixed in v that
	// v has again.
	for _, step := range []struct {
		from, to string
		dropped  bool
	}{{"", v.Version, true}, {v.Version, "", false}} {
		ids, err := earlierFindings(ctx, tx, v, step.from, func(k ageKey) bool { return have[k] != step.dropped })
		if err != nil {
			return err
		}
		for start := 0; start < len(ids); start += maxIDs {
			part := ids[start:min(start+maxIDs, len(ids))]
			if _, err := tx.ExecContext(ctx, `UPDATE findings SET fixed_in = ? WHERE id IN (`+store.Placeholders(len(part))+`)`,
				append([]any{step.to}, part...)...); err != nil {
				return fmt.Errorf("supply: mark fixed findings: %w", err)
			}
		}
	}
	return nil
}

// maxIDs bounds the ids of one IN (...) list.
const maxIDs = 500

// earlierFindings returns the ids of the findings of v's product in versions before v
// whose fixed_in is fixedIn and whose package and vulnerability group pass keep.
func earlierFindings(ctx context.Context, tx *store.Tx, v Version, fixedIn string, keep func(ageKey) bool) ([]any, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, ecosystem, pkg_name, vuln_group FROM findings
		WHERE product_id = ? AND version_id < ? AND fixed_in = ? ORDER BY id`, v.ProductID, v.ID, fixedIn)
	if err != nil {
		return nil, fmt.Errorf("supply: mark fixed findings: %w", err)
	}
	defer rows.Close()
	var ids []any
	for rows.Next() {
		var id int64
		var k ageKey
		if err := rows.Scan(&id, &k.ecosystem, &k.pkg, &k.group); err != nil {
			return nil, fmt.Errorf("supply: mark fixed findings: %w", err)
		}
		if keep(k) {
			ids = append(ids, id)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("supply: mark fixed findings: %w", err)
	}
	return ids, nil
}

// Components lists the components of version id's SBOM with their finding counts.
func (s *Service) Components(ctx context.Context, a actor.Actor, versionID int64) ([]Component, error) {
	v, err := getVersion(ctx, s.db, a, versionID)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT c.id, c.ref, c.parent_ref, c.type, c.grp, c.name, c.version, c.purl,
		c.ecosystem, c.pkg_name, c.pkg_version, c.license, c.license_verdict, c.supplier, c.hashes, c.scope,
		(SELECT COUNT(*) FROM findings f WHERE f.component_id = c.id)
		FROM components c WHERE c.sbom_id = ? ORDER BY c.id`, v.SBOMID)
	if err != nil {
		return nil, fmt.Errorf("supply: list components: %w", err)
	}
	defer rows.Close()
	out := []Component{}
	for rows.Next() {
		var c Component
		if err := rows.Scan(&c.ID, &c.Ref, &c.ParentRef, &c.Type, &c.Group, &c.Name, &c.Version, &c.PURL, &c.Ecosystem,
			&c.Package, &c.PkgVersion, &c.License, &c.LicenseVerdict, &c.Supplier, &c.Hashes, &c.Scope, &c.Findings); err != nil {
			return nil, fmt.Errorf("supply: list components: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// SBOMDocument returns the stored document of version id and its file name.
func (s *Service) SBOMDocument(ctx context.Context, a actor.Actor, versionID int64) ([]byte, string, error) {
	if _, err := getVersion(ctx, s.db, a, versionID); err != nil {
		return nil, "", err
	}
	var data []byte
	var name string
	err := s.db.QueryRowContext(ctx, `SELECT document, filename FROM sboms WHERE version_id = ?`, versionID).Scan(&data, &name)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", problem.NotFound("SBOM")
	}
	if err != nil {
		return nil, "", fmt.Errorf("supply: read sbom document: %w", err)
	}
	return data, name, nil
}
