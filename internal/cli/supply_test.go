package cli

import (
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// supplyData is the supply package's test data: hand-written OSV records and SBOMs.
const supplyData = "../supply/testdata"

func TestVulnDBAndSBOMCommands(t *testing.T) {
	eachStore(t, func(t *testing.T, flags []string, raw func() *sql.DB) {
		cmd := func(args ...string) (int, string, string) {
			return runCLI(t, "", append(args, flags...)...)
		}
		code, out, errs := cmd("vulndb", "import", filepath.Join(supplyData, "osv"))
		if code != ExitOK || !strings.Contains(out, "3 added") {
			t.Fatalf("vulndb import = %d %q %q", code, out, errs)
		}
		// Importing the same data again changes nothing.
		if code, out, _ = cmd("vulndb", "import", filepath.Join(supplyData, "osv")); code != ExitOK || !strings.Contains(out, "3 unchanged") {
			t.Errorf("second import = %d %q", code, out)
		}
		code, out, _ = cmd("vulndb", "status")
		if code != ExitOK || !strings.Contains(out, "PyPI") || !strings.Contains(out, "total 3 advisories") {
			t.Errorf("vulndb status = %d %q", code, out)
		}

		sbom := filepath.Join(supplyData, "app-1.0.cdx.json")
		// JSON output: findings with purl, id and aliases; no gate → exit 0.
		code, out, errs = cmd("sbom", "check", sbom, "--format", "json")
		if code != ExitOK {
			t.Fatalf("sbom check json = %d %q", code, errs)
		}
		var res struct {
			Findings []struct {
				PURL    string   `json:"purl"`
				ID      string   `json:"id"`
				Aliases []string `json:"aliases"`
			} `json:"findings"`
		}
		if err := json.Unmarshal([]byte(out), &res); err != nil || len(res.Findings) != 3 {
			t.Fatalf("json output: %v, %d findings\n%s", err, len(res.Findings), out)
		}
		// The go-live gate fails (critical finding, GPL-3.0 licence): exit 4.
		code, out, _ = cmd("sbom", "check", sbom, "--gate", "go-live")
		if code != ExitCheckFailed || !strings.Contains(out, "gate go-live: FAILED") || !strings.Contains(out, "GHSA-test-0001") {
			t.Errorf("gated check = %d %q", code, out)
		}
		code, out, _ = cmd("sbom", "check", sbom, "--gate", "go-live", "--format", "sarif")
		if code != ExitCheckFailed || !strings.Contains(out, `"version": "2.1.0"`) {
			t.Errorf("sarif check = %d %q", code, out)
		}
		if code, _, errs = cmd("sbom", "check", sbom, "--gate", "no-such-gate"); code != ExitError || !strings.Contains(errs, "no gate named") {
			t.Errorf("unknown gate = %d %q", code, errs)
		}
		if code, _, errs = cmd("sbom", "check", filepath.Join(supplyData, "broken.cdx.json")); code != ExitError || errs == "" {
			t.Errorf("broken SBOM = %d %q", code, errs)
		}
		// The operator has the file: the command line shows the line at fault, which the
		// server keeps from its clients.
		nocolon := filepath.Join(t.TempDir(), "nocolon.spdx")
		if err := os.WriteFile(nocolon, []byte("SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\nSPDXID: SPDXRef-DOCUMENT\nthis line has no colon\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if code, _, errs = cmd("sbom", "check", nocolon); code != ExitError || !strings.Contains(errs, "line 4") || !strings.Contains(errs, `"this line has no colon"`) {
			t.Errorf("SBOM with a bad line = %d %q", code, errs)
		}
		// Nothing was stored by the checks; import stores and matches.
		var n int
		raw().QueryRow(`SELECT COUNT(*) FROM sboms`).Scan(&n)
		if n != 0 {
			t.Errorf("sboms after check = %d", n)
		}
		code, out, errs = cmd("sbom", "import", sbom, "--product", "智慧门诊", "--version", "1.0", "--vendor", "示例软件")
		if code != ExitOK || !strings.Contains(out, "3 findings") {
			t.Fatalf("sbom import = %d %q %q", code, out, errs)
		}
		// A new advisory re-matches the stored SBOM.
		code, out, _ = cmd("vulndb", "import", filepath.Join(supplyData, "osv-new"))
		if code != ExitOK || !strings.Contains(out, "1 findings added") || !strings.Contains(out, "1 alerts") {
			t.Errorf("import of a new advisory = %d %q", code, out)
		}
		// A delivery recorded against the stored version: the sample manifest is for another
		// version (5.2.0), so the check fails and is stored; an unknown version is an error.
		sample := "../delivery/testdata/sample"
		dargs := []string{"delivery", "verify", "--manifest", filepath.Join(sample, "manifest.json"), "--product", "智慧门诊",
			filepath.Join(sample, "files/his-server-5.2.0.tar.gz"), filepath.Join(sample, "files/sbom/his-5.2.0.cdx.json")}
		if code, out, _ = cmd(append(dargs, "--version", "1.0")...); code != ExitCheckFailed || !strings.Contains(out, "not 1.0") {
			t.Errorf("recorded delivery = %d %q", code, out)
		}
		raw().QueryRow(`SELECT COUNT(*) FROM deliveries`).Scan(&n)
		if n != 1 {
			t.Errorf("deliveries = %d, want 1", n)
		}
		if code, _, errs = cmd(append(dargs, "--version", "9.9")...); code != ExitError || !strings.Contains(errs, "no version") {
			t.Errorf("unknown version = %d %q", code, errs)
		}
	})
}

func TestDeliveryVerifyCommand(t *testing.T) {
	sample := "../delivery/testdata/sample"
	fp, err := os.ReadFile(filepath.Join(sample, "fingerprint.txt"))
	if err != nil {
		t.Fatal(err)
	}
	files := []string{filepath.Join(sample, "files/his-server-5.2.0.tar.gz"), filepath.Join(sample, "files/sbom/his-5.2.0.cdx.json")}
	args := append([]string{"delivery", "verify", "--manifest", filepath.Join(sample, "manifest.json"),
		"--require-signature", "--trust", strings.TrimSpace(string(fp)), "--data", t.TempDir()}, files...)
	if code, out, errs := runCLI(t, "", args...); code != ExitOK || !strings.Contains(out, "OK: 2 files") {
		t.Errorf("verify sample = %d %q %q", code, out, errs)
	}
	// A changed file fails with exit 4 and names the artifact.
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "sbom"), 0o755)
	for _, f := range []string{"his-server-5.2.0.tar.gz", "sbom/his-5.2.0.cdx.json"} {
		b, _ := os.ReadFile(filepath.Join(sample, "files", f))
		if strings.HasSuffix(f, ".gz") {
			b = append(b, 0)
		}
		os.WriteFile(filepath.Join(dir, f), b, 0o600)
	}
	args = []string{"delivery", "verify", "--manifest", filepath.Join(sample, "manifest.json"), "--data", t.TempDir(),
		filepath.Join(dir, "his-server-5.2.0.tar.gz"), filepath.Join(dir, "sbom/his-5.2.0.cdx.json")}
	if code, out, _ := runCLI(t, "", args...); code != ExitCheckFailed || !strings.Contains(out, "his-server-5.2.0.tar.gz") {
		t.Errorf("verify tampered = %d %q", code, out)
	}
	if code, _, _ := runCLI(t, "", "delivery", "verify", "--data", t.TempDir(), files[0]); code != ExitUsage {
		t.Errorf("missing --manifest = %d", code)
	}
}

// TestSBOMCheckUncovered: a Maven SBOM checked against a database holding only Go and
// PyPI advisories does not print "0 findings … PASSED" and exit 0: the gate fails on
// coverage naming Maven, exit 4. With Maven advisories imported it passes.
func TestSBOMCheckUncovered(t *testing.T) {
	eachStore(t, func(t *testing.T, flags []string, raw func() *sql.DB) {
		cmd := func(args ...string) (int, string, string) {
			return runCLI(t, "", append(args, flags...)...)
		}
		if code, out, errs := cmd("vulndb", "import", filepath.Join(supplyData, "osv")); code != ExitOK ||
			!strings.Contains(out, "advisory data held for: Go (1), PyPI (2);") {
			t.Fatalf("vulndb import = %d %q %q", code, out, errs)
		}
		sbom := filepath.Join(supplyData, "maven-app.cdx.json")
		code, out, errs := cmd("sbom", "check", sbom, "--gate", "procurement")
		if code != ExitCheckFailed || strings.Contains(out, "PASSED") || !strings.Contains(out, "gate procurement: FAILED") ||
			!strings.Contains(out, "coverage: 3 of 3 components NOT checked") || !strings.Contains(out, "no advisories for Maven") {
			t.Errorf("uncovered check = %d\n%s%s", code, out, errs)
		}
		code, out, _ = cmd("sbom", "check", sbom, "--gate", "procurement", "--format", "json")
		if code != ExitCheckFailed || !strings.Contains(out, `"ecosystems_without_data": [`) {
			t.Errorf("uncovered json check = %d\n%s", code, out)
		}
		if code, out, errs = cmd("vulndb", "import", filepath.Join(supplyData, "osv-maven")); code != ExitOK {
			t.Fatalf("vulndb import maven = %d %q %q", code, out, errs)
		}
		code, out, _ = cmd("sbom", "check", sbom, "--gate", "procurement")
		if code != ExitOK || !strings.Contains(out, "gate procurement: PASSED") || !strings.Contains(out, "all 3 components checked") {
			t.Errorf("covered check = %d\n%s", code, out)
		}
	})
}
