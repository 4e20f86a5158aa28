package supply_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/licence"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
	"github.com/medguard/medguard/internal/supply"
	"github.com/medguard/medguard/internal/vuln"
)

func rulesOf(v *supply.GateVerdict) []string {
	var out []string
	for _, r := range v.Reasons {
		out = append(out, r.Rule)
	}
	return out
}

func reasonOf(v *supply.GateVerdict, rule string) string {
	for _, r := range v.Reasons {
		if r.Rule == rule {
			return r.Message + " | " + strings.Join(r.Items, " | ")
		}
	}
	return ""
}

// TestUncoveredEcosystemFailsGate: a Maven SBOM checked against a database holding only
// Go and PyPI advisories is not "0 findings, passed": the report says no component was
// covered and names Maven, the gate fails on coverage (stored and by Check), unless the
// policy allows uncovered components. With Maven advisories present it passes as before.
func TestUncoveredEcosystemFailsGate(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		data := mustRead(t, "testdata/maven-app.cdx.json")
		pol := licence.DefaultPolicy()
		procurement := supply.BuiltinGates()[0]

		ver, rep := w.version(t, "3.0", "maven-app.cdx.json")
		cov := rep.Coverage
		if rep.Findings != 0 || cov.Components != 3 || cov.Covered != 0 || cov.NotCovered != 3 ||
			strings.Join(cov.EcosystemsWithoutData, ",") != "Maven" || cov.NoData["Maven"] != 3 {
			t.Fatalf("import coverage = %+v (findings %d)", cov, rep.Findings)
		}
		stored, err := w.svc.EvaluateGate(ctx, w.actorA, ver.ID, "procurement")
		if err != nil {
			t.Fatal(err)
		}
		if stored.Verdict.Passed || !strings.Contains(reasonOf(&stored.Verdict, "coverage"), "Maven") {
			t.Errorf("stored procurement verdict = %+v", stored.Verdict)
		}

		chk, err := w.svc.Check(ctx, data, pol, &procurement)
		if err != nil {
			t.Fatal(err)
		}
		equal(t, "check rules", rulesOf(chk.Verdict), []string{"coverage"})
		if m := reasonOf(chk.Verdict, "coverage"); !strings.Contains(m, "3 of 3 components") || !strings.Contains(m, "Maven") {
			t.Errorf("coverage reason = %q", m)
		}
		// Every output format states the coverage.
		for _, format := range supply.CheckFormats {
			var buf bytes.Buffer
			if err := supply.WriteCheck(&buf, chk, format, "maven-app.cdx.json"); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			if !strings.Contains(out, "Maven") || strings.Contains(out, "PASSED") {
				t.Errorf("%s output does not name Maven or says PASSED:\n%s", format, out)
			}
			want := map[string]string{"table": "coverage: 3 of 3 components NOT checked", "json": `"not_covered": 3`,
				"sarif": "medguard/coverage"}[format]
			if !strings.Contains(out, want) {
				t.Errorf("%s output lacks %q:\n%s", format, want, out)
			}
			if format == "json" {
				var doc struct {
					Coverage struct {
						Components, Covered, NotCovered int
						Without                         []string `json:"ecosystems_without_data"`
					} `json:"coverage"`
					Report struct {
						Components int `json:"components"`
					} `json:"report"`
				}
				if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
					t.Fatal(err)
				}
				if doc.Report.Components != 3 || strings.Join(doc.Coverage.Without, ",") != "Maven" {
					t.Errorf("json coverage = %+v", doc)
				}
			}
		}

		// The policy may allow uncovered components explicitly.
		lenient := procurement
		lenient.Rules.AllowUncovered = true
		if chk, err := w.svc.Check(ctx, data, pol, &lenient); err != nil || !chk.Verdict.Passed {
			t.Errorf("allow_uncovered verdict = %+v, %v", chk.Verdict, err)
		}

		// With Maven advisories in the database the same SBOM is covered and passes.
		if _, err := w.vulns.Import(ctx, "testdata/osv-maven", vuln.ImportOptions{}); err != nil {
			t.Fatal(err)
		}
		chk, err = w.svc.Check(ctx, data, pol, &procurement)
		if err != nil {
			t.Fatal(err)
		}
		if !chk.Verdict.Passed || chk.Coverage.Covered != 3 || len(chk.Coverage.EcosystemsWithoutData) != 0 {
			t.Errorf("with Maven data: verdict %+v, coverage %+v", chk.Verdict, chk.Coverage)
		}
		if stored, err := w.svc.EvaluateGate(ctx, w.actorA, ver.ID, "procurement"); err != nil ||
			reasonOf(&stored.Verdict, "coverage") != "" {
			t.Errorf("stored verdict with Maven data = %+v, %v", stored.Verdict, err)
		}
	})
}

// TestUnknownSeverityBlocks: an open finding of unknown severity (no CVSS, no rated alias)
// fails a gate's severity rule unless the policy says to ignore it.
func TestUnknownSeverityBlocks(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		for _, dir := range []string{"testdata/osv-maven", "testdata/osv-maven-unknown"} {
			if _, err := w.vulns.Import(ctx, dir, vuln.ImportOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		data := mustRead(t, "testdata/maven-app.cdx.json")
		gate := supply.Gate{Name: "strict", Stage: "procurement", Rules: supply.Rules{RequireSBOM: true, MaxSeverity: "critical"}}
		chk, err := w.svc.Check(ctx, data, licence.DefaultPolicy(), &gate)
		if err != nil {
			t.Fatal(err)
		}
		if len(chk.Findings) != 1 || chk.Findings[0].Severity != "unknown" {
			t.Fatalf("findings = %+v", chk.Findings)
		}
		equal(t, "rules", rulesOf(chk.Verdict), []string{"block_severity"})
		if m := reasonOf(chk.Verdict, "block_severity"); !strings.Contains(m, "1 of unknown severity") || !strings.Contains(m, "GHSA-test-maven2") {
			t.Errorf("reason = %q", m)
		}
		gate.Rules.UnknownSeverity = supply.UnknownIgnore
		if chk, err := w.svc.Check(ctx, data, licence.DefaultPolicy(), &gate); err != nil || !chk.Verdict.Passed {
			t.Errorf("unknown_severity ignore: %+v, %v", chk.Verdict, err)
		}
		// Stored: the gate saved with the default fails the version.
		gate.Rules.UnknownSeverity = ""
		if _, err := w.svc.SaveGate(ctx, w.actorA, supply.GateDefinition{OrgID: w.hospA.ID, Name: gate.Name, Stage: gate.Stage,
			Rules: gate.Rules}); err != nil {
			t.Fatal(err)
		}
		ver, _ := w.version(t, "3.0", "maven-app.cdx.json")
		res, err := w.svc.EvaluateGate(ctx, w.actorA, ver.ID, "strict")
		if err != nil {
			t.Fatal(err)
		}
		equal(t, "stored rules", rulesOf(&res.Verdict), []string{"block_severity"})
		// The filter of the findings list by severity finds it under unknown.
		page, err := w.svc.Findings(ctx, w.actorA, supply.FindingQuery{VersionID: ver.ID, Severity: "unknown"})
		if err != nil || len(page.Items) != 1 {
			t.Errorf("unknown findings = %+v, %v", page.Items, err)
		}
		// A record rating it as an alias arrives later: re-matching gives the stored finding
		// that severity, and the default gate now judges it as high (below critical).
		res2, err := w.vulns.Import(ctx, "testdata/osv-maven-rated", vuln.ImportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.Rematch(ctx, w.actorA, res2.Changed); err != nil {
			t.Fatal(err)
		}
		page, err = w.svc.Findings(ctx, w.actorA, supply.FindingQuery{VersionID: ver.ID, State: "all"})
		if err != nil || len(page.Items) != 1 || page.Items[0].Severity != "high" {
			t.Errorf("findings after the rating alias = %+v, %v", page.Items, err)
		}
		if res, err := w.svc.EvaluateGate(ctx, w.actorA, ver.ID, "strict"); err != nil || !res.Verdict.Passed {
			t.Errorf("strict gate after rating = %+v, %v", res.Verdict, err)
		}
		// An invalid value is refused.
		if _, err := w.svc.SaveGate(ctx, w.actorA, supply.GateDefinition{OrgID: w.hospA.ID, Name: "x", Stage: "procurement",
			Rules: supply.Rules{MaxSeverity: "high", UnknownSeverity: "maybe"}}); err == nil {
			t.Error("unknown_severity maybe accepted")
		}
	})
}

// TestCommitVersionNotComparable: requests at a Git commit is neither affected by the
// "introduced: 0" ranges of its advisories nor counted clean: it is reported not
// comparable, and an advisory naming that commit as the fix in a GIT range does not
// affect it.
func TestCommitVersionNotComparable(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		if _, err := w.vulns.Import(ctx, "testdata/osv-git", vuln.ImportOptions{}); err != nil {
			t.Fatal(err)
		}
		ver, rep := w.version(t, "4.0", "commit-app.cdx.json")
		// 2.31.0 is hit by PYSEC-test-git only (< 2.32.0); the commit by nothing.
		equal(t, "findings", w.pairs(t, ver.ID), []string{"requests PYSEC-test-git open"})
		if c := rep.Coverage; c.NotComparable != 1 || c.Covered != 1 || c.NotCovered != 1 ||
			strings.Join(c.NotComparableItems, ",") != "pkg:pypi/requests@2ee636d318653fb1ab193803dafbfe3e371d4130" {
			t.Errorf("coverage = %+v", c)
		}
		res, err := w.svc.EvaluateGate(ctx, w.actorA, ver.ID, "procurement")
		if err != nil {
			t.Fatal(err)
		}
		if m := reasonOf(&res.Verdict, "coverage"); !strings.Contains(m, "requests@2ee636d3") || !strings.Contains(m, "cannot be compared") {
			t.Errorf("coverage reason = %q", m)
		}
		cov, err := w.svc.VersionCoverage(ctx, w.actorA, ver.ID)
		if err != nil || cov.NotComparable != 1 || cov.Covered != 1 {
			t.Errorf("version coverage = %+v, %v", cov, err)
		}
	})
}
