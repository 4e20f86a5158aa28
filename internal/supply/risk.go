package supply

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/vuln"
)

// Count is a labelled number in the risk view.
type Count struct {
	Key   string `json:"key"`
	Label string `json:"label"`
	ID    int64  `json:"id,omitempty"`
	N     int    `json:"n"`
}

// TopComponent is a package version with the most open findings across the hospital.
type TopComponent struct {
	Ecosystem string `json:"ecosystem"`
	Package   string `json:"package"`
	Version   string `json:"version"`
	Findings  int    `json:"findings"`
	Products  int    `json:"products"`
	Worst     string `json:"worst"`
}

// RiskView is the unified software-asset risk view (统一的软件资产风险视图): open
// findings by severity, product, vendor and age, licence verdicts, gate status and the
// most vulnerable components.
type RiskView struct {
	Vendors       int            `json:"vendors"`
	Products      int            `json:"products"`
	Versions      int            `json:"versions"`
	Components    int            `json:"components"`
	OpenFindings  int            `json:"open_findings"`
	BySeverity    []Count        `json:"by_severity"`
	ByState       []Count        `json:"by_state"`
	ByProduct     []Count        `json:"by_product"`
	ByVendor      []Count        `json:"by_vendor"`
	ByLicence     []Count        `json:"by_licence"`
	ByAge         []Count        `json:"by_age"`
	GateStatus    []Count        `json:"gate_status"`
	TopComponents []TopComponent `json:"top_components"`
	OpenAlerts    int            `json:"open_alerts"`
}

// Risk computes the risk view over a's scope.
func (s *Service) Risk(ctx context.Context, a actor.Actor) (RiskView, error) {
	now := s.stamp()
	cond, arg := a.SeesSQL("o.path")
	var rv RiskView
	counts := []struct {
		q string
		n *int
	}{
		{`SELECT COUNT(*) FROM vendors v JOIN orgs o ON o.id = v.org_id WHERE ` + cond, &rv.Vendors},
		{`SELECT COUNT(*) FROM products p JOIN orgs o ON o.id = p.org_id WHERE ` + cond, &rv.Products},
		{`SELECT COUNT(*) FROM product_versions pv JOIN products p ON p.id = pv.product_id JOIN orgs o ON o.id = p.org_id WHERE ` + cond, &rv.Versions},
		{`SELECT COUNT(*) FROM components c JOIN sboms sb ON sb.id = c.sbom_id JOIN product_versions pv ON pv.id = sb.version_id
			JOIN products p ON p.id = pv.product_id JOIN orgs o ON o.id = p.org_id WHERE ` + cond, &rv.Components},
	}
	for _, c := range counts {
		if err := s.db.QueryRowContext(ctx, c.q, arg).Scan(c.n); err != nil {
			return rv, fmt.Errorf("supply: risk counts: %w", err)
		}
	}
	_, openAlerts, err := s.alerts.List(ctx, a, alertFilter(true, 0, 0))
	if err != nil {
		return rv, err
	}
	rv.OpenAlerts = openAlerts
	// Every open finding once, with what the view groups by.
	rows, err := s.db.QueryContext(ctx, `SELECT `+stateExpr+`, f.severity, p.id, p.name, COALESCE(v.id, 0), COALESCE(v.name, ''),
		f.ecosystem, f.pkg_name, f.pkg_version, f.first_seen
		FROM findings f JOIN products p ON p.id = f.product_id JOIN orgs o ON o.id = f.org_id
		LEFT JOIN vendors v ON v.id = p.vendor_id`+joinDecision+` WHERE `+cond, now, arg)
	if err != nil {
		return rv, fmt.Errorf("supply: risk findings: %w", err)
	}
	type top struct {
		TopComponent
		products map[int64]bool
	}
	bySev, byState := map[string]int{}, map[string]int{}
	byProduct, byVendor := map[int64]*Count{}, map[int64]*Count{}
	ages := []Count{{Key: "0-30"}, {Key: "31-90"}, {Key: "91-180"}, {Key: "181+"}}
	tops := map[string]*top{}
	for rows.Next() {
		var state, sev, pname, vname, eco, pkg, ver string
		var pid, vid int64
		var first time.Time
		if err := rows.Scan(&state, &sev, &pid, &pname, &vid, &vname, &eco, &pkg, &ver, &first); err != nil {
			rows.Close()
			return rv, fmt.Errorf("supply: risk findings: %w", err)
		}
		byState[state]++
		if state != StateOpen {
			continue
		}
		rv.OpenFindings++
		bySev[sev]++
		if byProduct[pid] == nil {
			byProduct[pid] = &Count{Key: fmt.Sprint(pid), Label: pname, ID: pid}
		}
		byProduct[pid].N++
		if vid != 0 {
			if byVendor[vid] == nil {
				byVendor[vid] = &Count{Key: fmt.Sprint(vid), Label: vname, ID: vid}
			}
			byVendor[vid].N++
		}
		switch days := now.Sub(first).Hours() / 24; {
		case days <= 30:
			ages[0].N++
		case days <= 90:
			ages[1].N++
		case days <= 180:
			ages[2].N++
		default:
			ages[3].N++
		}
		k := eco + "\x00" + pkg + "\x00" + ver
		t := tops[k]
		if t == nil {
			t = &top{TopComponent: TopComponent{Ecosystem: eco, Package: pkg, Version: ver, Worst: sev}, products: map[int64]bool{}}
			tops[k] = t
		}
		t.Findings++
		t.products[pid] = true
		if severityRank(sev) > severityRank(t.Worst) {
			t.Worst = sev
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return rv, fmt.Errorf("supply: risk findings: %w", err)
	}
	for _, sev := range Severities {
		rv.BySeverity = append(rv.BySeverity, Count{Key: sev, Label: sev, N: bySev[sev]})
	}
	for _, st := range []string{StateOpen, StateAccepted, StateFalsePositive, StateFixed} {
		rv.ByState = append(rv.ByState, Count{Key: st, Label: st, N: byState[st]})
	}
	rv.ByProduct, rv.ByVendor = topCounts(byProduct, 10), topCounts(byVendor, 10)
	rv.ByAge = ages
	for _, t := range tops {
		t.Products = len(t.products)
		rv.TopComponents = append(rv.TopComponents, t.TopComponent)
	}
	sort.Slice(rv.TopComponents, func(i, j int) bool {
		x, y := rv.TopComponents[i], rv.TopComponents[j]
		if x.Findings != y.Findings {
			return x.Findings > y.Findings
		}
		return x.Package+x.Version < y.Package+y.Version
	})
	if len(rv.TopComponents) > 10 {
		rv.TopComponents = rv.TopComponents[:10]
	}
	if rv.TopComponents == nil {
		rv.TopComponents = []TopComponent{}
	}
	// Licence verdicts of the components of every stored SBOM.
	lrows, err := s.db.QueryContext(ctx, `SELECT c.license_verdict, COUNT(*) FROM components c JOIN sboms sb ON sb.id = c.sbom_id
		JOIN product_versions pv ON pv.id = sb.version_id JOIN products p ON p.id = pv.product_id JOIN orgs o ON o.id = p.org_id
		WHERE `+cond+` GROUP BY c.license_verdict ORDER BY c.license_verdict`, arg)
	if err != nil {
		return rv, fmt.Errorf("supply: risk licences: %w", err)
	}
	byLicence := map[string]int{}
	for lrows.Next() {
		var k string
		var n int
		if err := lrows.Scan(&k, &n); err != nil {
			lrows.Close()
			return rv, fmt.Errorf("supply: risk licences: %w", err)
		}
		byLicence[k] = n
	}
	lrows.Close()
	for _, k := range []string{"allowed", "review", "unknown", "denied"} {
		rv.ByLicence = append(rv.ByLicence, Count{Key: k, Label: k, N: byLicence[k]})
	}
	// Latest result of every gate on every version.
	var passed, failed int
	if err := s.db.QueryRowContext(ctx, `SELECT COALESCE(SUM(CASE WHEN r.passed THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN r.passed THEN 0 ELSE 1 END), 0)
		FROM gate_results r JOIN product_versions pv ON pv.id = r.version_id JOIN products p ON p.id = pv.product_id
		JOIN orgs o ON o.id = p.org_id WHERE `+cond+` AND r.id = (SELECT MAX(r2.id) FROM gate_results r2
			WHERE r2.version_id = r.version_id AND r2.gate_id = r.gate_id)`, arg).Scan(&passed, &failed); err != nil {
		return rv, fmt.Errorf("supply: risk gates: %w", err)
	}
	rv.GateStatus = []Count{{Key: "passed", Label: "passed", N: passed}, {Key: "failed", Label: "failed", N: failed}}
	return rv, nil
}

func topCounts(m map[int64]*Count, n int) []Count {
	out := make([]Count, 0, len(m))
	for _, c := range m {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].N != out[j].N {
			return out[i].N > out[j].N
		}
		return out[i].Label < out[j].Label
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// Exposure is where one vulnerability is found: every affected product version with its
// components, vendor and the inventory assets that run it.
type Exposure struct {
	VulnID   string          `json:"vuln_id"`
	Aliases  []string        `json:"aliases"`
	Summary  string          `json:"summary"`
	Severity string          `json:"severity"`
	Score    float64         `json:"score"`
	Affected []ExposedTarget `json:"affected"`
	Assets   []AlertAsset    `json:"assets"`
}

// ExposedTarget is one finding of an exposure.
type ExposedTarget struct {
	FindingID  int64  `json:"finding_id"`
	ProductID  int64  `json:"product_id"`
	Product    string `json:"product"`
	VersionID  int64  `json:"version_id"`
	Version    string `json:"version"`
	Vendor     string `json:"vendor"`
	Package    string `json:"package"`
	PkgVersion string `json:"package_version"`
	State      string `json:"state"`
	Assets     int    `json:"assets"`
}

// Exposure drills down from vulnerability id (or an alias of it) to every affected
// product version and asset in a's scope.
func (s *Service) Exposure(ctx context.Context, a actor.Actor, id string) (Exposure, error) {
	page, err := s.Findings(ctx, a, FindingQuery{VulnID: id, State: "all", Limit: 500})
	if err != nil {
		return Exposure{}, err
	}
	e := Exposure{VulnID: id, Aliases: []string{}, Affected: []ExposedTarget{}, Assets: []AlertAsset{}}
	// An alias (say a CVE id) stands for the record that lists it.
	canonical := id
	if rec, err := s.vulns.Record(ctx, id); err == nil {
		canonical = rec.ID
	} else if !errors.Is(err, vuln.ErrNotFound) {
		return Exposure{}, fmt.Errorf("supply: exposure: %w", err)
	}
	meta, err := s.summaries(ctx, map[string]bool{canonical: true})
	if err != nil {
		return Exposure{}, err
	}
	m, known := meta[canonical]
	if !known && len(page.Items) == 0 {
		return Exposure{}, problem.NotFound("vulnerability")
	}
	e.Aliases, e.Summary, e.Severity, e.Score = m.Aliases, m.Summary, m.Severity.Level, m.Severity.Score
	if e.Aliases == nil {
		e.Aliases = []string{}
	}
	versions := map[int64]bool{}
	for _, f := range page.Items {
		e.Affected = append(e.Affected, ExposedTarget{FindingID: f.ID, ProductID: f.ProductID, Product: f.ProductName,
			VersionID: f.VersionID, Version: f.Version, Vendor: f.VendorName, Package: f.Package, PkgVersion: f.PkgVersion,
			State: f.State})
		versions[f.VersionID] = true
		if e.Severity == "" {
			e.Severity, e.Score = f.Severity, f.Score
		}
	}
	if len(versions) == 0 {
		return e, nil
	}
	ids := make([]any, 0, len(versions))
	for v := range versions {
		ids = append(ids, v)
	}
	cond, arg := a.SeesSQL("o.path")
	rows, err := s.db.QueryContext(ctx, `SELECT va.version_id, x.id, x.code, x.name FROM version_assets va
		JOIN assets x ON x.id = va.asset_id JOIN orgs o ON o.id = x.org_id
		WHERE va.version_id IN (`+store.Placeholders(len(ids))+`) AND `+cond+` ORDER BY x.code`, append(ids, arg)...)
	if err != nil {
		return Exposure{}, fmt.Errorf("supply: exposure assets: %w", err)
	}
	defer rows.Close()
	perVersion := map[int64]int{}
	seen := map[int64]bool{}
	for rows.Next() {
		var vid int64
		var x AlertAsset
		if err := rows.Scan(&vid, &x.ID, &x.Code, &x.Name); err != nil {
			return Exposure{}, fmt.Errorf("supply: exposure assets: %w", err)
		}
		perVersion[vid]++
		if !seen[x.ID] {
			seen[x.ID] = true
			e.Assets = append(e.Assets, x)
		}
	}
	for i := range e.Affected {
		e.Affected[i].Assets = perVersion[e.Affected[i].VersionID]
	}
	return e, rows.Err()
}
