package supply

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/medguard/medguard/internal/i18n"
	"sort"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
	"github.com/medguard/medguard/internal/vuln"
)

// RematchReport says what re-matching the stored SBOMs against changed advisories did.
type RematchReport struct {
	Advisories int           `json:"advisories"` // changed advisories looked at
	Components int           `json:"components"` // stored components of the affected packages
	Added      int           `json:"added"`      // new findings
	Removed    int           `json:"removed"`    // findings no longer affected (withdrawn or ranges changed)
	Alerts     int           `json:"alerts"`
	Elapsed    time.Duration `json:"elapsed_ns"`
}

// storedComponent is a stored component together with where it is used.
type storedComponent struct {
	id, versionID, productID, orgID int64
	comp                            Component
}

// keyChunk is the number of packages per component look-up query.
const keyChunk = 200

// componentsOf returns the stored components of the given packages, found by their
// look-up key (eco_base, pkg_key), which is the key of vuln.KeyOf.
func componentsOf(ctx context.Context, q store.Querier, keys []vuln.PackageKey) ([]storedComponent, error) {
	var out []storedComponent
	for start := 0; start < len(keys); start += keyChunk {
		part := keys[start:min(start+keyChunk, len(keys))]
		conds := make([]string, len(part))
		args := make([]any, 0, 2*len(part))
		for i, k := range part {
			conds[i] = `(c.eco_base = ? AND c.pkg_key = ?)`
			args = append(args, k.Ecosystem, k.Name)
		}
		rows, err := q.QueryContext(ctx, `SELECT c.id, sb.version_id, p.id, p.org_id, c.ecosystem, c.pkg_name, c.pkg_version, c.purl
			FROM components c JOIN sboms sb ON sb.id = c.sbom_id JOIN product_versions pv ON pv.id = sb.version_id
			JOIN products p ON p.id = pv.product_id WHERE `+strings.Join(conds, " OR "), args...)
		if err != nil {
			return nil, fmt.Errorf("supply: components of packages: %w", err)
		}
		for rows.Next() {
			var c storedComponent
			if err := rows.Scan(&c.id, &c.versionID, &c.productID, &c.orgID, &c.comp.Ecosystem, &c.comp.Package,
				&c.comp.PkgVersion, &c.comp.PURL); err != nil {
				rows.Close()
				return nil, fmt.Errorf("supply: components of packages: %w", err)
			}
			out = append(out, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("supply: components of packages: %w", err)
		}
	}
	return out, nil
}

type pairKey struct {
	component int64
	vuln      string
}

// Rematch brings the findings of every stored SBOM up to date with the advisories whose
// ids are given (added, modified or withdrawn in the vulnerability database): it adds
// the findings they now cause, removes those they no longer cause, refreshes severities,
// and raises an alert per organisation and advisory for new findings.
func (s *Service) Rematch(ctx context.Context, a actor.Actor, changed []string) (RematchReport, error) {
	start := time.Now()
	rep := RematchReport{Advisories: len(changed)}
	if len(changed) == 0 {
		return rep, nil
	}
	affected, err := s.vulns.AffectedByVulns(ctx, changed)
	if err != nil {
		return rep, fmt.Errorf("supply: rematch: %w", err)
	}
	byKey := map[vuln.PackageKey][]*vuln.Affected{}
	for _, af := range affected {
		k := af.Key()
		byKey[k] = append(byKey[k], af)
	}
	keys := make([]vuln.PackageKey, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	comps, err := componentsOf(ctx, s.db, keys)
	if err != nil {
		return rep, err
	}
	rep.Components = len(comps)
	want := map[pairKey]findingRow{}
	ids := map[string]bool{}
	for _, c := range comps {
		pkg := vuln.Package{Ecosystem: c.comp.Ecosystem, Name: c.comp.Package, Version: c.comp.PkgVersion}
		for _, af := range byKey[vuln.KeyOf(pkg)] {
			if !af.AppliesTo(pkg) || !af.Contains(c.comp.PkgVersion) {
				continue
			}
			k := pairKey{c.id, af.VulnID}
			if _, dup := want[k]; dup {
				continue
			}
			want[k] = findingRow{orgID: c.orgID, productID: c.productID, versionID: c.versionID, componentID: c.id,
				comp: c.comp, hit: hit{vulnID: af.VulnID, fixed: af.FixedVersions()}}
			ids[af.VulnID] = true
		}
	}
	meta, err := s.summaries(ctx, ids)
	if err != nil {
		return rep, err
	}
	// Findings of unknown severity may now take one from an alias record just imported
	// (a GHSA record rating a Go advisory): refresh them too.
	rated, err := s.unknownFindingSeverities(ctx)
	if err != nil {
		return rep, err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		have, err := existingPairs(ctx, tx, changed)
		if err != nil {
			return err
		}
		var add []findingRow
		for k, r := range want {
			if !have[k] {
				r.meta = meta[k.vuln]
				add = append(add, r)
			}
		}
		sort.Slice(add, func(i, j int) bool {
			if add[i].componentID != add[j].componentID {
				return add[i].componentID < add[j].componentID
			}
			return add[i].hit.vulnID < add[j].hit.vulnID
		})
		var drop []pairKey
		for k := range have {
			if _, ok := want[k]; !ok {
				drop = append(drop, k)
			}
		}
		now := s.stamp()
		if err := insertFindings(ctx, tx, add, now); err != nil {
			return err
		}
		for _, k := range drop {
			if _, err := tx.ExecContext(ctx, `DELETE FROM findings WHERE component_id = ? AND vuln_id = ?`, k.component, k.vuln); err != nil {
				return fmt.Errorf("supply: remove finding: %w", err)
			}
		}
		if err := refreshSeverities(ctx, tx, meta); err != nil {
			return err
		}
		if err := refreshSeverities(ctx, tx, rated); err != nil {
			return err
		}
		rep.Added, rep.Removed = len(add), len(drop)
		if rep.Alerts, err = s.raiseAlerts(ctx, tx, add, meta, now); err != nil {
			return err
		}
		if rep.Added == 0 && rep.Removed == 0 {
			return nil
		}
		_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: "vuln.rematch", ObjectType: "vulndb",
			Summary: fmt.Sprintf("%d advisories changed: %d findings added, %d removed, %d alerts", len(changed), rep.Added,
				rep.Removed, rep.Alerts),
			Msg: trail.Msg("trail.summary.vuln.rematch", len(changed), rep.Added, rep.Removed, rep.Alerts)})
		return err
	})
	rep.Elapsed = time.Since(start)
	return rep, err
}

// existingPairs returns the stored (component, vulnerability) pairs of the given
// vulnerabilities.
func existingPairs(ctx context.Context, q store.Querier, vulnIDs []string) (map[pairKey]bool, error) {
	out := map[pairKey]bool{}
	const chunk = 500
	for start := 0; start < len(vulnIDs); start += chunk {
		part := vulnIDs[start:min(start+chunk, len(vulnIDs))]
		args := make([]any, len(part))
		for i, id := range part {
			args[i] = id
		}
		rows, err := q.QueryContext(ctx, `SELECT component_id, vuln_id FROM findings WHERE vuln_id IN (`+store.Placeholders(len(part))+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("supply: existing findings: %w", err)
		}
		for rows.Next() {
			var k pairKey
			if err := rows.Scan(&k.component, &k.vuln); err != nil {
				rows.Close()
				return nil, fmt.Errorf("supply: existing findings: %w", err)
			}
			out[k] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("supply: existing findings: %w", err)
		}
	}
	return out, nil
}

// unknownFindingSeverities returns the summaries of the advisories of stored findings of
// unknown severity that now have one (from an alias record, see vuln.DB.Summaries).
func (s *Service) unknownFindingSeverities(ctx context.Context) (map[string]vuln.Summary, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT vuln_id FROM findings WHERE severity = 'unknown'`)
	if err != nil {
		return nil, fmt.Errorf("supply: findings of unknown severity: %w", err)
	}
	ids := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("supply: findings of unknown severity: %w", err)
		}
		ids[id] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("supply: findings of unknown severity: %w", err)
	}
	meta, err := s.summaries(ctx, ids)
	if err != nil {
		return nil, err
	}
	for id, m := range meta {
		if m.Severity.Level == "" || m.Severity.Level == vuln.LevelUnknown {
			delete(meta, id)
		}
	}
	return meta, nil
}

// refreshSeverities updates the severity and group of stored findings of the given
// advisories (a modified advisory may have been rescored or gained aliases).
func refreshSeverities(ctx context.Context, tx *store.Tx, meta map[string]vuln.Summary) error {
	for id, m := range meta {
		level := m.Severity.Level
		if level == "" {
			level = "unknown"
		}
		group := m.Group
		if group == "" {
			group = id
		}
		if _, err := tx.ExecContext(ctx, `UPDATE findings SET severity = ?, score = ?, vuln_group = ?
			WHERE vuln_id = ? AND (severity <> ? OR score <> ? OR vuln_group <> ?)`,
			level, m.Severity.Score, group, id, level, m.Severity.Score, group); err != nil {
			return fmt.Errorf("supply: refresh severity: %w", err)
		}
	}
	return nil
}

// AlertDetail is what an alert about a new advisory names.
type AlertDetail struct {
	VulnID   string          `json:"vuln_id"`
	Aliases  []string        `json:"aliases"`
	Summary  string          `json:"summary"`
	Products []AlertProduct  `json:"products"`
	Assets   []AlertAsset    `json:"assets"`
	Vendors  []string        `json:"vendors"`
	Packages []string        `json:"packages"`
	Extra    json.RawMessage `json:"extra,omitempty"`
}

// AlertProduct is a product version hit by an advisory.
type AlertProduct struct {
	ProductID int64  `json:"product_id"`
	Product   string `json:"product"`
	VersionID int64  `json:"version_id"`
	Version   string `json:"version"`
}

// AlertAsset is an inventory asset running an affected version.
type AlertAsset struct {
	ID   int64  `json:"id"`
	Code string `json:"code"`
	Name string `json:"name"`
}

// raiseAlerts records one alert per (organisation, advisory) among the new findings and
// logs it.
func (s *Service) raiseAlerts(ctx context.Context, tx *store.Tx, add []findingRow, meta map[string]vuln.Summary, now time.Time) (int, error) {
	type key struct {
		org  int64
		vuln string
	}
	groups := map[key][]findingRow{}
	var order []key
	for _, r := range add {
		k := key{r.orgID, r.hit.vulnID}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], r)
	}
	for _, k := range order {
		rows := groups[k]
		m := meta[k.vuln]
		d := AlertDetail{VulnID: k.vuln, Aliases: m.Aliases, Summary: m.Summary, Products: []AlertProduct{},
			Assets: []AlertAsset{}, Vendors: []string{}, Packages: []string{}}
		versions := map[int64]bool{}
		pkgs := map[string]bool{}
		for _, r := range rows {
			versions[r.versionID] = true
			p := r.comp.Package + "@" + r.comp.PkgVersion
			if !pkgs[p] {
				pkgs[p] = true
				d.Packages = append(d.Packages, p)
			}
		}
		vids := make([]any, 0, len(versions))
		for id := range versions {
			vids = append(vids, id)
		}
		in := store.Placeholders(len(vids))
		prow, err := tx.QueryContext(ctx, `SELECT p.id, p.name, pv.id, pv.version, COALESCE(v.name, '')
			FROM product_versions pv JOIN products p ON p.id = pv.product_id LEFT JOIN vendors v ON v.id = p.vendor_id
			WHERE pv.id IN (`+in+`) ORDER BY p.name, pv.version`, vids...)
		if err != nil {
			return 0, fmt.Errorf("supply: alert products: %w", err)
		}
		vendors := map[string]bool{}
		for prow.Next() {
			var ap AlertProduct
			var vendor string
			if err := prow.Scan(&ap.ProductID, &ap.Product, &ap.VersionID, &ap.Version, &vendor); err != nil {
				prow.Close()
				return 0, fmt.Errorf("supply: alert products: %w", err)
			}
			d.Products = append(d.Products, ap)
			if vendor != "" && !vendors[vendor] {
				vendors[vendor] = true
				d.Vendors = append(d.Vendors, vendor)
			}
		}
		prow.Close()
		// The alert is filed under the versions' organisation: it names only the assets
		// filed under that organisation, whatever links are stored.
		arow, err := tx.QueryContext(ctx, `SELECT DISTINCT x.id, x.code, x.name, ao.path, po.path FROM version_assets va
			JOIN assets x ON x.id = va.asset_id JOIN orgs ao ON ao.id = x.org_id JOIN orgs po ON po.id = ?
			WHERE va.version_id IN (`+in+`) ORDER BY x.code`, append([]any{k.org}, vids...)...)
		if err != nil {
			return 0, fmt.Errorf("supply: alert assets: %w", err)
		}
		for arow.Next() {
			var aa AlertAsset
			var assetPath, ownerPath string
			if err := arow.Scan(&aa.ID, &aa.Code, &aa.Name, &assetPath, &ownerPath); err != nil {
				arow.Close()
				return 0, fmt.Errorf("supply: alert assets: %w", err)
			}
			if org.Contains(ownerPath, assetPath) {
				d.Assets = append(d.Assets, aa)
			}
		}
		arow.Close()
		level := m.Severity.Level
		if level == "" {
			level = "unknown"
		}
		if err := s.raise(ctx, tx, alert.Input{OrgID: k.org, Kind: "new_vulnerability", Severity: alertSeverity(level),
			Title: i18n.M("supply.alert.new_vulnerability", k.vuln, len(d.Products), len(d.Assets)), Subject: k.vuln,
			DedupKey: "new_vulnerability:" + k.vuln, Evidence: d, At: now}); err != nil {
			return 0, err
		}
		names := make([]string, len(d.Products))
		for i, p := range d.Products {
			names[i] = p.Product + " " + p.Version
		}
		s.log.Warn("new vulnerability in stored software", "vuln", k.vuln, "severity", level, "org_id", k.org,
			"products", strings.Join(names, ", "), "assets", len(d.Assets), "vendors", strings.Join(d.Vendors, ", "))
	}
	return len(order), nil
}
