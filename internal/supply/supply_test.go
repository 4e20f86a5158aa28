package supply_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/asset"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
	"github.com/medguard/medguard/internal/supply"
	"github.com/medguard/medguard/internal/trail"
	"github.com/medguard/medguard/internal/trail/trailtest"
	"github.com/medguard/medguard/internal/vuln"
)

// world is a province with hospitals A and B, a vendor and a product in A, and the test
// advisories of testdata/osv imported.
type world struct {
	db             *store.DB
	svc            *supply.Service
	vulns          *vuln.DB
	hospA, hospB   org.Node
	actorA, actorB actor.Actor
	vendor         supply.Vendor
	product        supply.Product
	asset          asset.Asset
	now            time.Time
}

// newAlerts returns the alert inbox the supply chain raises into.
func newAlerts(t testing.TB, db *store.DB, tl *trail.Log) *alert.Service {
	t.Helper()
	svc, err := alert.New(db, tl)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func newWorld(t *testing.T, db *store.DB) *world {
	t.Helper()
	ctx := context.Background()
	tl, err := trail.New(trail.SHA256, trailtest.Key(t))
	if err != nil {
		t.Fatal(err)
	}
	orgs := org.NewService(db, tl)
	mk := func(parent int64, kind, name string) org.Node {
		n, err := orgs.Create(ctx, actor.System(), org.Input{ParentID: parent, Kind: kind, Name: name})
		if err != nil {
			t.Fatalf("create org %s: %v", name, err)
		}
		return n
	}
	w := &world{db: db, vulns: vuln.Open(db), now: time.Date(2026, 4, 1, 8, 0, 0, 0, time.UTC)}
	w.svc = supply.NewService(db, tl, w.vulns, newAlerts(t, db, tl), nil)
	w.svc.SetClock(func() time.Time { return w.now })
	prov := mk(0, org.KindProvince, "某省卫健委")
	w.hospA = mk(prov.ID, org.KindHospital, "第一人民医院")
	w.hospB = mk(prov.ID, org.KindHospital, "第二人民医院")
	w.actorA = actor.Actor{UserID: 1, Username: "alice", Role: "security_officer", OrgID: w.hospA.ID, OrgPath: w.hospA.Path}
	w.actorB = actor.Actor{UserID: 2, Username: "bob", Role: "security_officer", OrgID: w.hospB.ID, OrgPath: w.hospB.Path}
	if _, err := w.vulns.Import(ctx, "testdata/osv", vuln.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	if w.vendor, err = w.svc.CreateVendor(ctx, w.actorA, supply.VendorInput{OrgID: w.hospA.ID, Name: "某某医疗软件有限公司",
		USCC: "91350100M000100Y43", ContactEmail: "sec@vendor.example"}); err != nil {
		t.Fatal(err)
	}
	if w.product, err = w.svc.CreateProduct(ctx, w.actorA, supply.ProductInput{OrgID: w.hospA.ID, VendorID: w.vendor.ID,
		Name: "智慧门诊", Source: "purchased"}); err != nil {
		t.Fatal(err)
	}
	w.asset, err = asset.NewService(db, tl).Create(ctx, w.actorA, asset.Input{OrgID: w.hospA.ID, Code: "SRV-001",
		Name: "门诊应用服务器", Kind: "server", Zone: "internal", Lifecycle: "in_service"})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) version(t *testing.T, v string, sbomFile string) (supply.Version, supply.ImportReport) {
	t.Helper()
	ctx := context.Background()
	ver, err := w.svc.CreateVersion(ctx, w.actorA, w.product.ID, supply.VersionInput{Version: v, AssetIDs: []int64{w.asset.ID}})
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join("testdata", sbomFile))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := w.svc.ImportSBOM(ctx, w.actorA, ver.ID, sbomFile, data)
	if err != nil {
		t.Fatalf("import %s: %v", sbomFile, err)
	}
	return ver, rep
}

// pairs returns "package vuln state" lines of the findings of version id, sorted.
func (w *world) pairs(t *testing.T, versionID int64) []string {
	t.Helper()
	page, err := w.svc.Findings(context.Background(), w.actorA, supply.FindingQuery{VersionID: versionID, State: "all"})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range page.Items {
		out = append(out, f.Package+" "+f.VulnID+" "+f.State)
	}
	sort.Strings(out)
	return out
}

func equal(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\n got %q\nwant %q", what, got, want)
	}
}

func TestImportMatchesAndCarriesDecisionsOver(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		v1, rep := w.version(t, "1.0", "app-1.0.cdx.json")
		if rep.Components != 4 || rep.Matchable != 3 || rep.Findings != 3 || rep.Dependencies != 1 {
			t.Errorf("report = %+v", rep)
		}
		missing := 0
		for _, wn := range rep.Warnings {
			if wn.Code == "missing_purl" {
				missing++
			}
		}
		if missing != 1 {
			t.Errorf("missing_purl warnings = %d, want 1 (%+v)", missing, rep.Warnings)
		}
		if rep.Licences["denied"] != 1 {
			t.Errorf("licence verdicts = %v, want one denied (GPL-3.0-only)", rep.Licences)
		}
		if got, _ := w.svc.Version(ctx, w.actorA, v1.ID); got.LicenceVerdict != "denied" {
			t.Errorf("version licence verdict = %q, want denied (GPL-3.0-only under the default policy)", got.LicenceVerdict)
		}
		equal(t, "v1 findings", w.pairs(t, v1.ID), []string{
			"github.com/example/lib GO-test-0002 open",
			"requests GHSA-test-0001 open",
			"requests PYSEC-test-0001 open",
		})

		// Accept the requests flaw (both aliases share one decision) and mark the Go one
		// a false positive.
		page, _ := w.svc.Findings(ctx, w.actorA, supply.FindingQuery{VersionID: v1.ID, State: "all"})
		exp := w.now.Add(90 * 24 * time.Hour)
		for _, f := range page.Items {
			if f.VulnID == "GHSA-test-0001" {
				if f.Group != "CVE-2026-0001" || f.Severity != "critical" {
					t.Errorf("group/severity = %q/%q, want CVE-2026-0001/critical", f.Group, f.Severity)
				}
				if _, err := w.svc.Decide(ctx, w.actorA, f.ID, supply.Decision{State: "accepted", Reason: "内网隔离，补丁排期中",
					ExpiresAt: &exp}); err != nil {
					t.Fatal(err)
				}
			}
		}
		equal(t, "v1 after decision", w.pairs(t, v1.ID), []string{
			"github.com/example/lib GO-test-0002 open",
			"requests GHSA-test-0001 accepted",
			"requests PYSEC-test-0001 accepted",
		})
		// An acceptance needs a reason and an expiry.
		if _, err := w.svc.Decide(ctx, w.actorA, page.Items[0].ID, supply.Decision{State: "accepted", Reason: "x"}); problem.KindOf(err) != problem.KindInvalid {
			t.Errorf("accept without expiry: %v", err)
		}

		// Version 2 still has requests 2.30.0 (decision carries over) and upgraded the Go
		// library past the fix (v1's finding becomes fixed by upgrade).
		w.now = w.now.Add(10 * 24 * time.Hour)
		v2, _ := w.version(t, "2.0", "app-2.0.cdx.json")
		if p2, _ := w.svc.Findings(ctx, w.actorA, supply.FindingQuery{VersionID: v2.ID, State: "all"}); len(p2.Items) == 0 ||
			p2.Items[0].AgeDays != 10 {
			t.Errorf("a finding carried into 2.0 keeps its age: %+v", p2.Items)
		}
		equal(t, "v2 findings", w.pairs(t, v2.ID), []string{
			"requests GHSA-test-0001 accepted",
			"requests PYSEC-test-0001 accepted",
		})
		equal(t, "v1 after upgrade", w.pairs(t, v1.ID), []string{
			"github.com/example/lib GO-test-0002 fixed",
			"requests GHSA-test-0001 accepted",
			"requests PYSEC-test-0001 accepted",
		})

		// The acceptance expires: the findings are open again in every version.
		w.now = exp.Add(time.Hour)
		equal(t, "v2 after expiry", w.pairs(t, v2.ID), []string{
			"requests GHSA-test-0001 open",
			"requests PYSEC-test-0001 open",
		})

		// Hospital B sees none of it.
		if page, err := w.svc.Findings(ctx, w.actorB, supply.FindingQuery{State: "all"}); err != nil || page.Total != 0 {
			t.Errorf("B sees %d findings (%v)", page.Total, err)
		}
		if _, err := w.svc.Version(ctx, w.actorB, v1.ID); problem.KindOf(err) != problem.KindNotFound {
			t.Errorf("B reads A's version: %v", err)
		}
	})
}

func TestFailedImportChangesNothing(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		v1, _ := w.version(t, "1.0", "app-1.0.cdx.json")
		before := w.pairs(t, v1.ID)
		var trailBefore int
		db.QueryRowContext(ctx, `SELECT COUNT(*) FROM trail`).Scan(&trailBefore)
		broken, _ := os.ReadFile("testdata/broken.cdx.json")
		_, err := w.svc.ImportSBOM(ctx, w.actorA, v1.ID, "broken.cdx.json", broken)
		pe, ok := problem.As(err)
		if !ok || pe.Kind != problem.KindInvalid || !strings.Contains(pe.Message, "cyclonedx") {
			t.Fatalf("broken SBOM: %v", err)
		}
		equal(t, "findings after failed import", w.pairs(t, v1.ID), before)
		var trailAfter int
		db.QueryRowContext(ctx, `SELECT COUNT(*) FROM trail`).Scan(&trailAfter)
		if trailAfter != trailBefore {
			t.Errorf("trail grew from %d to %d on a failed import", trailBefore, trailAfter)
		}
	})
}

// TestFirstSeenAndFixedByUpgrade follows the age and the "fixed in" mark of findings
// across versions: a finding keeps the first-seen time of the product's earliest finding
// of the same package and vulnerability group, in any earlier version and under any alias,
// and a version that drops a finding marks it fixed in the earlier versions until a
// re-import of that version brings it back.
func TestFirstSeenAndFixedByUpgrade(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		t1 := w.now
		// lines returns "package vuln fixed_in first-seen" of the findings of version id.
		lines := func(versionID int64) []string {
			t.Helper()
			page, err := w.svc.Findings(ctx, w.actorA, supply.FindingQuery{VersionID: versionID, State: "all"})
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, f := range page.Items {
				out = append(out, f.Package+" "+f.VulnID+" fixed_in="+f.FixedIn+" "+f.FirstSeen.Format(time.RFC3339Nano))
			}
			sort.Strings(out)
			return out
		}
		at := func(tm time.Time) string { return tm.Format(time.RFC3339Nano) }
		// unfixed: the three findings of 1.0, not fixed, first seen at its import.
		unfixed := []string{
			"github.com/example/lib GO-test-0002 fixed_in= " + at(t1),
			"requests GHSA-test-0001 fixed_in= " + at(t1),
			"requests PYSEC-test-0001 fixed_in= " + at(t1),
		}
		v1, _ := w.version(t, "1.0", "app-1.0.cdx.json")
		equal(t, "v1", lines(v1.ID), unfixed)

		// 2.0 upgrades the Go library past the fix and keeps requests.
		w.now = t1.Add(10 * 24 * time.Hour)
		v2, _ := w.version(t, "2.0", "app-2.0.cdx.json")
		equal(t, "v2", lines(v2.ID), []string{
			"requests GHSA-test-0001 fixed_in= " + at(t1),
			"requests PYSEC-test-0001 fixed_in= " + at(t1),
		})
		equal(t, "v1 after 2.0", lines(v1.ID), []string{
			"github.com/example/lib GO-test-0002 fixed_in=2.0 " + at(t1),
			"requests GHSA-test-0001 fixed_in= " + at(t1),
			"requests PYSEC-test-0001 fixed_in= " + at(t1),
		})

		// 2.0 re-imported with the old library: the finding is back in 2.0 with its first
		// age, and no longer fixed in 1.0.
		w.now = t1.Add(20 * 24 * time.Hour)
		data := mustRead(t, "testdata/app-1.0.cdx.json")
		if _, err := w.svc.ImportSBOM(ctx, w.actorA, v2.ID, "app-1.0.cdx.json", data); err != nil {
			t.Fatal(err)
		}
		equal(t, "v2 re-imported", lines(v2.ID), unfixed)
		equal(t, "v1 after re-import", lines(v1.ID), unfixed)

		// 1.0 re-imported: its findings keep the age they have in 2.0 (which got it from
		// 1.0's first import), not the time of the re-import.
		w.now = t1.Add(30 * 24 * time.Hour)
		if _, err := w.svc.ImportSBOM(ctx, w.actorA, v1.ID, "app-1.0.cdx.json", data); err != nil {
			t.Fatal(err)
		}
		equal(t, "v1 re-imported", lines(v1.ID), unfixed)

		// A new product's first version starts the clock.
		p2, err := w.svc.CreateProduct(ctx, w.actorA, supply.ProductInput{OrgID: w.hospA.ID, Name: "急诊系统", Source: "self_built"})
		if err != nil {
			t.Fatal(err)
		}
		pv, err := w.svc.CreateVersion(ctx, w.actorA, p2.ID, supply.VersionInput{Version: "1.0"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.ImportSBOM(ctx, w.actorA, pv.ID, "app-2.0.cdx.json", mustRead(t, "testdata/app-2.0.cdx.json")); err != nil {
			t.Fatal(err)
		}
		equal(t, "other product", lines(pv.ID), []string{
			"requests GHSA-test-0001 fixed_in= " + at(w.now),
			"requests PYSEC-test-0001 fixed_in= " + at(w.now),
		})
	})
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestRematchRaisesAlertAndWithdrawRemoves(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		v1, _ := w.version(t, "1.0", "app-1.0.cdx.json")
		res, err := w.vulns.Import(ctx, "testdata/osv-new", vuln.ImportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		rep, err := w.svc.Rematch(ctx, actor.System(), res.Changed)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Added != 1 || rep.Removed != 0 || rep.Alerts != 1 {
			t.Errorf("rematch = %+v, want 1 added, 1 alert", rep)
		}
		alerts, err := w.svc.Alerts(ctx, w.actorA, true, 10)
		if err != nil || len(alerts) != 1 {
			t.Fatalf("alerts = %v, %v", alerts, err)
		}
		// It is an alert of the inbox: new, raised once, the advisory's level kept.
		if al := alerts[0]; al.Status != "new" || al.Count != 1 || al.VulnID != "GHSA-test-0003" || al.Kind != "new_vulnerability" {
			t.Errorf("alert = %+v", al)
		}
		var d supply.AlertDetail
		if err := json.Unmarshal(alerts[0].Detail, &d); err != nil {
			t.Fatal(err)
		}
		if d.VulnID != "GHSA-test-0003" || len(d.Products) != 1 || d.Products[0].Version != "1.0" ||
			len(d.Assets) != 1 || d.Assets[0].Code != "SRV-001" || len(d.Vendors) != 1 || d.Vendors[0] != w.vendor.Name {
			t.Errorf("alert detail = %+v", d)
		}
		if other, _ := w.svc.Alerts(ctx, w.actorB, true, 10); len(other) != 0 {
			t.Errorf("hospital B sees %d alerts", len(other))
		}
		// Re-running the same change adds nothing.
		if rep, _ := w.svc.Rematch(ctx, actor.System(), res.Changed); rep.Added != 0 || rep.Alerts != 0 {
			t.Errorf("second rematch = %+v", rep)
		}
		// Drill-down from the vulnerability to the asset.
		exp, err := w.svc.Exposure(ctx, w.actorA, "GHSA-test-0003")
		if err != nil || len(exp.Affected) != 1 || len(exp.Assets) != 1 || exp.Affected[0].Assets != 1 {
			t.Errorf("exposure = %+v, %v", exp, err)
		}
		// The advisory is withdrawn: its finding goes.
		res, err = w.vulns.Import(ctx, "testdata/osv-withdrawn", vuln.ImportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Withdrawn != 1 {
			t.Errorf("import of the withdrawal = %+v", res)
		}
		if rep, err := w.svc.Rematch(ctx, actor.System(), res.Changed); err != nil || rep.Removed != 1 {
			t.Errorf("rematch after withdrawal = %+v, %v", rep, err)
		}
		for _, p := range w.pairs(t, v1.ID) {
			if strings.Contains(p, "GHSA-test-0003") {
				t.Errorf("withdrawn advisory still found: %s", p)
			}
		}
	})
}

func TestGateVerdicts(t *testing.T) {
	gates := map[string]supply.Gate{}
	for _, g := range supply.BuiltinGates() {
		gates[g.Name] = g
	}
	crit := supply.GateFinding{PURL: "pkg:pypi/requests@2.30.0", VulnID: "GHSA-1", Severity: "critical", State: "open"}
	high := supply.GateFinding{PURL: "pkg:npm/x@1", VulnID: "GHSA-2", Severity: "high", State: "open"}
	denied := supply.GateLicence{Component: "pkg:golang/x@v1", License: "GPL-3.0-only", Verdict: "denied"}
	unknown := supply.GateFinding{PURL: "pkg:golang/x@v1", VulnID: "GO-1", Severity: "unknown", State: "open"}
	uncovered := supply.Coverage{Components: 5, Covered: 2, NotCovered: 3, EcosystemsWithoutData: []string{"Maven"},
		NoData: map[string]int{"Maven": 3}}
	gates["ignore-unknown"] = supply.Gate{Name: "ignore-unknown", Rules: supply.Rules{MaxSeverity: "critical", UnknownSeverity: "ignore"}}
	gates["allow-uncovered"] = supply.Gate{Name: "allow-uncovered", Rules: supply.Rules{MaxSeverity: "critical", AllowUncovered: true}}
	gates["sbom-only"] = supply.Gate{Name: "sbom-only", Rules: supply.Rules{RequireSBOM: true}}
	tests := []struct {
		name  string
		gate  string
		in    supply.GateInput
		rules []string // failed rules, in order
	}{
		{"clean", "go-live", supply.GateInput{HasSBOM: true, DeliveryVerified: true, HasVendor: true, VendorApproved: true}, nil},
		{"no sbom", "procurement", supply.GateInput{}, []string{"require_sbom"}},
		{"critical blocks procurement", "procurement", supply.GateInput{HasSBOM: true, Findings: []supply.GateFinding{crit}}, []string{"block_severity"}},
		{"high passes procurement", "procurement", supply.GateInput{HasSBOM: true, Findings: []supply.GateFinding{high}}, nil},
		{"high blocks update", "update", supply.GateInput{HasSBOM: true, DeliveryVerified: true, Findings: []supply.GateFinding{high}}, []string{"block_severity"}},
		{"accepted does not block", "update", supply.GateInput{HasSBOM: true, DeliveryVerified: true,
			Findings: []supply.GateFinding{{VulnID: "X", Severity: "critical", State: "accepted"}}}, nil},
		{"false positive does not block", "update", supply.GateInput{HasSBOM: true, DeliveryVerified: true,
			Findings: []supply.GateFinding{{VulnID: "X", Severity: "critical", State: "false_positive"}}}, nil},
		{"denied licence", "update", supply.GateInput{HasSBOM: true, DeliveryVerified: true, Licences: []supply.GateLicence{denied}},
			[]string{"block_denied_licences"}},
		{"delivery and vendor", "go-live", supply.GateInput{HasSBOM: true, HasVendor: true},
			[]string{"require_delivery_verified", "require_vendor_approved"}},
		{"self-built needs no vendor", "go-live", supply.GateInput{HasSBOM: true, DeliveryVerified: true}, nil},
		{"unknown severity blocks", "procurement", supply.GateInput{HasSBOM: true, Findings: []supply.GateFinding{unknown}},
			[]string{"block_severity"}},
		{"empty severity is unknown", "procurement", supply.GateInput{HasSBOM: true,
			Findings: []supply.GateFinding{{VulnID: "GO-2", Severity: "", State: "open"}}}, []string{"block_severity"}},
		{"accepted unknown does not block", "procurement", supply.GateInput{HasSBOM: true,
			Findings: []supply.GateFinding{{VulnID: "GO-1", Severity: "unknown", State: "accepted"}}}, nil},
		{"unknown ignored by policy", "ignore-unknown", supply.GateInput{HasSBOM: true, Findings: []supply.GateFinding{unknown}}, nil},
		{"uncovered components block", "procurement", supply.GateInput{HasSBOM: true, Coverage: uncovered}, []string{"coverage"}},
		{"uncovered allowed by policy", "allow-uncovered", supply.GateInput{HasSBOM: true, Coverage: uncovered}, nil},
		{"no severity rule, no coverage rule", "sbom-only", supply.GateInput{HasSBOM: true, Coverage: uncovered}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := gates[tc.gate].Evaluate(tc.in)
			var got []string
			for _, r := range v.Reasons {
				got = append(got, r.Rule)
			}
			equal(t, "failed rules", got, tc.rules)
			if v.Passed != (len(tc.rules) == 0) {
				t.Errorf("passed = %v", v.Passed)
			}
		})
	}
}

func TestStoredGateAndCheck(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		v1, _ := w.version(t, "1.0", "app-1.0.cdx.json")
		res, err := w.svc.EvaluateGate(ctx, w.actorA, v1.ID, "procurement")
		if err != nil {
			t.Fatal(err)
		}
		var rules []string
		for _, r := range res.Verdict.Reasons {
			rules = append(rules, r.Rule)
		}
		// critical GHSA-test-0001 open, a component without purl not checked, GPL-3.0
		// denied, vendor not approved.
		equal(t, "procurement on v1", rules, []string{"block_severity", "coverage", "block_denied_licences", "require_vendor_approved"})
		results, err := w.svc.GateResults(ctx, w.actorA, v1.ID)
		if err != nil || len(results) != 1 || results[0].Verdict.Passed {
			t.Errorf("stored results = %+v, %v", results, err)
		}
		// A hospital-defined gate of the same name overrides the built-in one.
		if _, err := w.svc.SaveGate(ctx, w.actorA, supply.GateDefinition{OrgID: w.hospA.ID, Name: "procurement", Stage: "procurement",
			Rules: supply.Rules{RequireSBOM: true}}); err != nil {
			t.Fatal(err)
		}
		if res, err := w.svc.EvaluateGate(ctx, w.actorA, v1.ID, "procurement"); err != nil || !res.Verdict.Passed {
			t.Errorf("own procurement gate = %+v, %v", res.Verdict, err)
		}

		// Check without storing: JSON findings carry purl, id, aliases; SARIF validates.
		data, _ := os.ReadFile("testdata/app-1.0.cdx.json")
		g, err := w.svc.GateNamed(ctx, w.actorA, w.hospA.ID, "update")
		if err != nil {
			t.Fatal(err)
		}
		pol, _ := w.svc.LicencePolicy(ctx, w.actorA, w.hospA.ID)
		chk, err := w.svc.Check(ctx, data, pol, &g)
		if err != nil {
			t.Fatal(err)
		}
		if chk.Verdict == nil || chk.Verdict.Passed {
			t.Errorf("update gate on app-1.0 passed: %+v", chk.Verdict)
		}
		var buf bytes.Buffer
		if err := supply.WriteCheck(&buf, chk, "json", "app-1.0.cdx.json"); err != nil {
			t.Fatal(err)
		}
		var out struct {
			Findings []struct {
				PURL    string   `json:"purl"`
				ID      string   `json:"id"`
				Aliases []string `json:"aliases"`
			} `json:"findings"`
		}
		if err := json.Unmarshal(buf.Bytes(), &out); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range out.Findings {
			got = append(got, f.PURL+" "+f.ID+" "+strings.Join(f.Aliases, ","))
		}
		equal(t, "check findings", got, []string{
			"pkg:golang/github.com/example/lib@v1.1.0 GO-test-0002 CVE-2026-0002",
			"pkg:pypi/requests@2.30.0 GHSA-test-0001 CVE-2026-0001",
			"pkg:pypi/requests@2.30.0 PYSEC-test-0001 CVE-2026-0001,GHSA-test-0001",
		})
		rep, err := supply.CheckSARIF(chk, "app-1.0.cdx.json")
		if err != nil {
			t.Fatal(err)
		}
		if err := rep.Validate(); err != nil {
			t.Errorf("SARIF does not validate against the 2.1.0 schema: %v", err)
		}
		// Three findings, the coverage warning (lodash's npm has no data, one component has
		// no purl) and one result per failed gate rule.
		if len(rep.Runs) != 1 || len(rep.Runs[0].Results) != 3+1+len(chk.Verdict.Reasons) {
			t.Errorf("SARIF results = %d", len(rep.Runs[0].Results))
		}
		// Nothing was stored by Check.
		var n int
		db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sboms`).Scan(&n)
		if n != 1 {
			t.Errorf("sboms = %d after Check, want 1", n)
		}
	})
}

func TestRiskView(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		w.version(t, "1.0", "app-1.0.cdx.json")
		rv, err := w.svc.Risk(ctx, w.actorA)
		if err != nil {
			t.Fatal(err)
		}
		if rv.Vendors != 1 || rv.Products != 1 || rv.Versions != 1 || rv.Components != 4 || rv.OpenFindings != 3 {
			t.Errorf("risk view counts = %+v", rv)
		}
		sev := map[string]int{}
		for _, c := range rv.BySeverity {
			sev[c.Key] = c.N
		}
		// PYSEC-test-0001 has no severity of its own and takes GHSA-test-0001's (critical),
		// its alias stored in the database.
		if sev["critical"] != 2 || sev["medium"] != 1 || sev["unknown"] != 0 {
			t.Errorf("by severity = %v", sev)
		}
		if len(rv.TopComponents) == 0 || rv.TopComponents[0].Package != "requests" || rv.TopComponents[0].Findings != 2 {
			t.Errorf("top components = %+v", rv.TopComponents)
		}
		if rvB, _ := w.svc.Risk(ctx, w.actorB); rvB.Products != 0 || rvB.OpenFindings != 0 {
			t.Errorf("B's risk view = %+v", rvB)
		}
	})
}

func TestVendorValidation(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		for _, in := range []supply.VendorInput{
			{OrgID: w.hospA.ID, Name: ""},
			{OrgID: w.hospA.ID, Name: "x", USCC: "91350100M000100Y44"},
			{OrgID: w.hospA.ID, Name: "x", ContactEmail: "not an address"},
			{OrgID: w.hospB.ID, Name: "other hospital"},
		} {
			if _, err := w.svc.CreateVendor(ctx, w.actorA, in); err == nil {
				t.Errorf("CreateVendor(%+v) succeeded", in)
			}
		}
		// The organisation a record is filed under: another hospital and a missing node are
		// the same not-found; a node the actor sees but that is not a hospital or department
		// is an invalid org_id.
		for _, c := range []struct {
			name  string
			a     actor.Actor
			orgID int64
			kind  problem.Kind
			field string
		}{
			{"sibling hospital", w.actorA, w.hospB.ID, problem.KindNotFound, ""},
			{"missing organisation", w.actorA, 1 << 40, problem.KindNotFound, ""},
			{"province", actor.System(), w.hospA.ParentID, problem.KindInvalid, "org_id"},
		} {
			_, err := w.svc.CreateVendor(ctx, c.a, supply.VendorInput{OrgID: c.orgID, Name: "org check " + c.name})
			pe, ok := problem.As(err)
			if !ok || pe.Kind != c.kind || pe.Field != c.field {
				t.Errorf("%s: %v, want kind %v field %q", c.name, err, c.kind, c.field)
			}
		}
		if _, err := w.svc.CreateVendor(ctx, w.actorA, supply.VendorInput{OrgID: w.hospA.ID, Name: w.vendor.Name}); problem.KindOf(err) != problem.KindConflict {
			t.Errorf("duplicate vendor: %v", err)
		}
		// A product of hospital B cannot use hospital A's vendor.
		if _, err := w.svc.CreateProduct(ctx, w.actorB, supply.ProductInput{OrgID: w.hospB.ID, VendorID: w.vendor.ID, Name: "p",
			Source: "purchased"}); problem.KindOf(err) != problem.KindInvalid {
			t.Errorf("foreign vendor: %v", err)
		}
		if !supply.ValidUSCC("91350100M000100Y43") || supply.ValidUSCC("91350100M000100Y44") {
			t.Error("USCC check character")
		}
	})
}

func TestReleaseSuffixOfDistributions(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		if _, err := w.vulns.Import(ctx, "testdata/osv-debian", vuln.ImportOptions{}); err != nil {
			t.Fatal(err)
		}
		v, _ := w.version(t, "3.1", "debian-image.cdx.json")
		equal(t, "Debian 11 image", w.pairs(t, v.ID), []string{"openssl DSA-test-11 open"})
	})
}

func TestExposureByAliasAndBuiltinGateRow(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		v1, _ := w.version(t, "1.0", "app-1.0.cdx.json")
		exp, err := w.svc.Exposure(ctx, w.actorA, "CVE-2026-0002")
		if err != nil || exp.Summary == "" || len(exp.Affected) != 1 || exp.Affected[0].Package != "github.com/example/lib" {
			t.Errorf("exposure by alias = %+v, %v", exp, err)
		}
		// Two evaluations of a built-in gate share one row, which keeps the built-in rules.
		for i := 0; i < 2; i++ {
			if _, err := w.svc.EvaluateGate(ctx, w.actorA, v1.ID, "go-live"); err != nil {
				t.Fatal(err)
			}
		}
		gs, err := w.svc.Gates(ctx, w.actorA, w.hospA.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range gs {
			if g.Name == "go-live" && (!g.BuiltIn || g.ID == 0 || !g.Rules.RequireDelivery) {
				t.Errorf("go-live after use = %+v", g)
			}
		}
		var rows int
		db.QueryRowContext(ctx, `SELECT COUNT(*) FROM gates WHERE name = 'go-live'`).Scan(&rows)
		if rows != 1 {
			t.Errorf("go-live rows = %d", rows)
		}
	})
}

func TestLicencePolicyRejudgesStoredComponents(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		v1, _ := w.version(t, "1.0", "app-1.0.cdx.json")
		if _, err := w.svc.SetLicencePolicy(ctx, w.actorA, w.hospA.ID, []byte("allow: [MIT, GPL-3.0-only]\ndeny: [Apache-2.0]\n")); err != nil {
			t.Fatal(err)
		}
		comps, err := w.svc.Components(ctx, w.actorA, v1.ID)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, c := range comps {
			got = append(got, c.Name+" "+c.LicenseVerdict)
		}
		sort.Strings(got)
		equal(t, "verdicts under the new policy", got, []string{"github.com/example/lib allowed", "lodash allowed",
			"requests denied", "vendored-thing unknown"})
		if _, err := w.svc.SetLicencePolicy(ctx, w.actorA, w.hospA.ID, []byte("allow: [No-Such-Licence]\n")); problem.KindOf(err) != problem.KindInvalid {
			t.Errorf("unknown licence id: %v", err)
		}
	})
}

// TestNuGetIdsIgnoreCase checks that an SBOM naming a NuGet package in another case than
// the advisory gets the finding, both when the SBOM is imported after the advisory and
// when the advisory arrives later (Rematch), and that the finding shows the package as
// the SBOM names it.
func TestNuGetIdsIgnoreCase(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		before, rep := w.version(t, "5.0", "nuget-app.cdx.json")
		if rep.Matchable != 1 || rep.Findings != 0 {
			t.Fatalf("import before the advisory: %+v", rep)
		}
		res, err := w.vulns.Import(ctx, "testdata/osv-nuget", vuln.ImportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		rm, err := w.svc.Rematch(ctx, actor.System(), res.Changed)
		if err != nil || rm.Components != 1 || rm.Added != 1 || rm.Alerts != 1 {
			t.Fatalf("rematch = %+v, %v; want 1 component, 1 finding, 1 alert", rm, err)
		}
		equal(t, "SBOM stored before the advisory", w.pairs(t, before.ID), []string{"newtonsoft.json GHSA-test-nuget open"})
		after, rep := w.version(t, "5.1", "nuget-app.cdx.json")
		if rep.Findings != 1 {
			t.Errorf("import after the advisory: %+v", rep)
		}
		equal(t, "SBOM stored after the advisory", w.pairs(t, after.ID), []string{"newtonsoft.json GHSA-test-nuget open"})
	})
}

// TestNuGetComponentsStoredBeforeMigration checks that migration 0009 gives the NuGet
// components stored before it the look-up key Rematch finds them by.
func TestNuGetComponentsStoredBeforeMigration(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			db := storetest.OpenAt(t, d, 8)
			now := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
			// The rows of an SBOM import made before migration 0009.
			for _, s := range []struct {
				q    string
				args []any
			}{
				{`INSERT INTO orgs (kind, name, path, created_at, updated_at) VALUES ('hospital', 'H', '/1/', ?, ?)`, []any{now, now}},
				{`INSERT INTO products (org_id, name, source, created_at, updated_at) VALUES (1, 'P', 'purchased', ?, ?)`, []any{now, now}},
				{`INSERT INTO product_versions (product_id, version, created_at) VALUES (1, '5.0', ?)`, []any{now}},
				{`INSERT INTO sboms (version_id, format, sha256, size, created_at) VALUES (1, 'cyclonedx', 'x', 1, ?)`, []any{now}},
				{`INSERT INTO components (sbom_id, ref, name, version, purl, ecosystem, eco_base, pkg_name, pkg_version)
					VALUES (1, 'n', 'NEWTONSOFT.JSON', '12.0.1', 'pkg:nuget/NEWTONSOFT.JSON@12.0.1', 'NuGet', 'NuGet', 'NEWTONSOFT.JSON', '12.0.1')`, nil},
			} {
				if _, err := db.ExecContext(ctx, s.q, s.args...); err != nil {
					t.Fatalf("%s: %v", s.q, err)
				}
			}
			if _, err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			tl, err := trail.New(trail.SHA256, trailtest.Key(t))
			if err != nil {
				t.Fatal(err)
			}
			vulns := vuln.Open(db)
			svc := supply.NewService(db, tl, vulns, newAlerts(t, db, tl), nil)
			res, err := vulns.Import(ctx, "testdata/osv-nuget", vuln.ImportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			rm, err := svc.Rematch(ctx, actor.System(), res.Changed)
			if err != nil || rm.Components != 1 || rm.Added != 1 {
				t.Fatalf("rematch = %+v, %v; want the stored component and 1 finding", rm, err)
			}
			var pkg string
			if err := db.QueryRowContext(ctx, `SELECT pkg_name FROM findings WHERE vuln_id = 'GHSA-test-nuget'`).Scan(&pkg); err != nil || pkg != "NEWTONSOFT.JSON" {
				t.Fatalf("finding's package = %q, %v; want the name as stored", pkg, err)
			}
		})
	}
}

// TestImportAdvisoriesRematches: importing advisories through the service re-matches
// the stored SBOMs against the changed ones (the path the web upload and the CLI share).
func TestImportAdvisoriesRematches(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		v1, _ := w.version(t, "1.0", "app-1.0.cdx.json")
		before := len(w.pairs(t, v1.ID))
		imps, rep, err := w.svc.ImportAdvisories(ctx, actor.System(), "testdata/osv-new")
		if err != nil {
			t.Fatal(err)
		}
		if len(imps) != 1 || imps[0].Path != "testdata/osv-new" || imps[0].Result.Added != 1 ||
			len(imps[0].Result.Changed) != 1 {
			t.Fatalf("imports = %+v", imps)
		}
		if rep.Advisories != 1 || rep.Added != 1 || rep.Alerts != 1 {
			t.Errorf("rematch = %+v, want 1 advisory, 1 finding added, 1 alert", rep)
		}
		if after := w.pairs(t, v1.ID); len(after) != before+1 {
			t.Errorf("findings of 1.0: %d before, %q after", before, after)
		}
		imps, _, err = w.svc.ImportAdvisories(ctx, actor.System(), "testdata/osv-withdrawn", "testdata/no-such-dir")
		if err == nil {
			t.Error("import of a missing path: no error")
		}
		if len(imps) != 1 {
			t.Errorf("imports before the failing one = %+v, want the first", imps)
		}
	})
}
