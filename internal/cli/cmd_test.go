package cli

import (
	"bytes"
	"context"
	"database/sql"
	"flag"
	"golang.org/x/text/encoding/simplifiedchinese"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/app"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/incident"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/risk"
	"github.com/medguard/medguard/internal/store"
)

var update = flag.Bool("update", false, "rewrite the golden files of TestCommands under testdata/cmd")

// cmdCase is one command line of TestCommands; its golden file is testdata/cmd/NAME.txt.
// In args, $DATA is a migrated SQLite data directory and $TMP an empty directory.
type cmdCase struct {
	name  string
	args  []string
	stdin string
	// setup prepares the case's data and temporary directories before the command runs.
	setup func(t *testing.T, data, tmp string)
}

const (
	sbomApp   = supplyData + "/app-1.0.cdx.json"
	sbomMaven = supplyData + "/maven-app.cdx.json"
	sample    = "../delivery/testdata/sample"
	refData   = "testdata/reference"
	apkData   = "../apk/testdata/apksig"
)

var cmdCases = []cmdCase{
	// What the command line is.
	{name: "no-args", args: nil},
	{name: "help", args: []string{"help"}},
	{name: "help-sbom", args: []string{"help", "sbom"}},
	{name: "help-sbom-check", args: []string{"help", "sbom", "check"}},
	{name: "version", args: []string{"version"}},

	// Usage errors: exit 2, the message and a hint.
	{name: "unknown-command", args: []string{"sevre"}},
	{name: "unknown-subcommand", args: []string{"sbom", "nosuch"}},
	{name: "unknown-command-help", args: []string{"incidents", "list", "--help"}},
	{name: "unknown-subcommand-help", args: []string{"sbom", "nosuch", "-h"}},
	{name: "group-without-command", args: []string{"sbom"}},
	{name: "unknown-help-topic", args: []string{"help", "nosuch"}},
	{name: "unknown-flag", args: []string{"version", "--bogus"}},
	{name: "unknown-flag-of-subcommand", args: []string{"sbom", "check", "x.json", "--bogus"}},
	{name: "bad-flag-value", args: []string{"scan", "--fail-on", "x", "file.txt"}},
	{name: "bad-flag-value-checked-by-command", args: []string{"sbom", "check", "--format", "xml", "x.json"}},
	{name: "out-of-range-flag-value", args: []string{"scan", "--fail-on", "9", "file.txt"}},
	{name: "missing-required-flag", args: []string{"sbom", "import", "x.json"}},
	{name: "missing-required-flag-manifest", args: []string{"delivery", "verify", "x"}},
	{name: "flags-required-together", args: []string{"delivery", "verify", "--manifest", "m.json", "--product", "HIS", "x"}},
	{name: "missing-password", args: []string{"user", "add", "--username", "wang", "--data", "$DATA"}},
	{name: "too-few-args", args: []string{"sbom", "check"}},
	{name: "too-few-args-scan", args: []string{"scan"}},
	{name: "too-many-args", args: []string{"sbom", "check", "a.json", "b.json"}},
	{name: "too-many-args-version", args: []string{"version", "extra"}},
	{name: "alerts-list-bad-status", args: []string{"alerts", "list", "--status", "pending", "--data", "$DATA"}},
	{name: "alerts-list-bad-format", args: []string{"alerts", "list", "--format", "xml"}},

	// Internet-hospital apps: APK inspection (fixtures of internal/apk).
	{name: "app-inspect-table", args: []string{"app", "inspect", apkData + "/golden-aligned-v1v2v3-out.apk"}},
	{name: "app-inspect-json", args: []string{"app", "inspect", "--format", "json", apkData + "/v1-only-with-rsa-pkcs1-md5-1.2.840.113549.1.1.4-2048.apk"}},
	{name: "app-inspect-not-verified", args: []string{"app", "inspect", apkData + "/v2v3-signed-v3-block-stripped.apk"}},
	{name: "app-inspect-unsigned", args: []string{"app", "inspect", "--format", "json", apkData + "/golden-aligned-in.apk"}},
	{name: "app-inspect-not-apk", args: []string{"app", "inspect", "../apk/testdata/verify.txt"}},
	{name: "app-inspect-truncated", args: []string{"app", "inspect", apkData + "/v2-only-truncated-cd.apk"}},
	{name: "app-inspect-missing-file", args: []string{"app", "inspect", "$TMP/none.apk"}},
	{name: "app-inspect-bad-format", args: []string{"app", "inspect", "--format", "xml", "x.apk"}},
	{name: "app-inspect-no-file", args: []string{"app", "inspect"}},

	// Audit events.
	{name: "events-import-bad-format", args: []string{"events", "import", "--format", "hl7", "x.txt"}},
	{name: "events-import-mapping-not-csv", args: []string{"events", "import", "--mapping", "m.yaml", "x.ndjson"}},
	{name: "events-import-ndjson", args: []string{"events", "import", "$TMP/e.ndjson", "--data", "$DATA"}, setup: eventsFiles},
	{name: "events-import-twice", args: []string{"events", "import", "--format", "csv", "--mapping", "$TMP/m.yaml", "$TMP/vendor.csv", "--data", "$DATA"},
		setup: func(t *testing.T, data, tmp string) {
			eventsFiles(t, data, tmp)
			mustRun(t, "events", "import", "--format", "csv", "--mapping", tmp+"/m.yaml", tmp+"/vendor.csv", "--data", data)
		}},
	{name: "events-import-twice-rejected", args: []string{"events", "import", "$TMP/e.ndjson", "--data", "$DATA"},
		setup: func(t *testing.T, data, tmp string) {
			eventsFiles(t, data, tmp)
			mustRun(t, "events", "import", tmp+"/e.ndjson", "--data", data)
		}},
	{name: "events-import-csv-mapping", args: []string{"events", "import", "--format", "csv", "--mapping", "$TMP/m.yaml", "$TMP/vendor.csv", "--data", "$DATA"}, setup: eventsFiles},
	{name: "events-import-all-rejected", args: []string{"events", "import", "$TMP/bad.ndjson", "--data", "$DATA"}, setup: eventsFiles},
	{name: "events-import-bad-json", args: []string{"events", "import", "$TMP/broken.ndjson", "--data", "$DATA"}, setup: eventsFiles},
	{name: "help-events-simulate", args: []string{"help", "events", "simulate"}},
	{name: "events-simulate-bad-days", args: []string{"events", "simulate", "--out", "$TMP/sim", "--days", "0"}},
	{name: "events-simulate-bad-staff", args: []string{"events", "simulate", "--out", "$TMP/sim", "--staff", "x"}},
	{name: "events-simulate-no-out", args: []string{"events", "simulate"}},
	{name: "events-simulate", args: []string{"events", "simulate", "--out", "$TMP/sim", "--seed", "3", "--days", "2",
		"--staff", "60", "--patients", "200"}},
	{name: "events-import-bad-mapping", args: []string{"events", "import", "--format", "csv", "--mapping", "$TMP/badmap.yaml", "$TMP/vendor.csv", "--data", "$DATA"}, setup: eventsFiles},

	// Files that do not exist: errors, exit 1, whatever the path says.
	{name: "sbom-check-no-file-flags", args: []string{"sbom", "check", "$TMP/no/flags.json"}},
	{name: "sbom-check-no-file-other", args: []string{"sbom", "check", "$TMP/no/other.json"}},
	{name: "scan-no-file", args: []string{"scan", "$TMP/no/flags.txt"}},
	{name: "delivery-verify-no-manifest-file", args: []string{"delivery", "verify", "--manifest", "$TMP/no/flags.json", sample + "/files/his-server-5.2.0.tar.gz"}},
	{name: "trail-verify-no-checkpoint-file", args: []string{"trail", "verify", "--checkpoint", "$TMP/no/flags.jsonl", "--data", "$DATA"}},

	// A bad configuration value, from a flag, the environment or a file: exit 1.
	{name: "bad-config-value", args: []string{"serve", "--trail-hash", "md5", "--data", "$TMP/data"}},

	// Outcomes with exit codes of their own.
	{name: "sbom-check-gate-failed", args: []string{"sbom", "check", sbomApp, "--gate", "go-live", "--data", "$DATA"},
		setup: func(t *testing.T, data, _ string) { mustRun(t, "vulndb", "import", supplyData+"/osv", "--data", data) }},
	{name: "sbom-check-gate-passed", args: []string{"sbom", "check", sbomMaven, "--gate", "procurement", "--data", "$DATA"},
		setup: func(t *testing.T, data, _ string) {
			mustRun(t, "vulndb", "import", supplyData+"/osv", supplyData+"/osv-maven", "--data", data)
		}},
	{name: "delivery-verify-mismatch", args: []string{"delivery", "verify", "--manifest", sample + "/manifest.json",
		"$TMP/his-server-5.2.0.tar.gz", "$TMP/sbom/his-5.2.0.cdx.json"}, setup: tamperedDelivery},
	{name: "trail-verify-ok", args: []string{"trail", "verify", "--data", "$DATA"}, setup: addUser},
	{name: "trail-verify-broken", args: []string{"trail", "verify", "--data", "$DATA"},
		setup: func(t *testing.T, data, tmp string) {
			addUser(t, data, tmp)
			db, err := sql.Open("sqlite", "file:"+filepath.Join(data, "medguard.db")+"?_pragma=busy_timeout(5000)")
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.Exec(`UPDATE trail SET actor = 'mallory' WHERE seq = 2`); err != nil {
				t.Fatal(err)
			}
		}},
	// Notification channels and routes.
	{name: "help-notify", args: []string{"help", "notify"}},
	{name: "notify-channel-add-bad-kind", args: []string{"notify", "channel", "add", "--name", "x", "--kind", "pager", "--url", "https://h/x"}},
	{name: "notify-route-add-bad-severity", args: []string{"notify", "route", "add", "--channel", "x", "--min-severity", "urgent"}},
	{name: "notify-channel-add-bad-url", args: []string{"notify", "channel", "add", "--name", "x", "--kind", "webhook", "--url", "ftp://h/x", "--data", "$DATA"}},
	{name: "notify-route-add-bad-quiet", args: []string{"notify", "route", "add", "--channel", "x", "--quiet", "22:00"}},
	{name: "notify-route-add-escalate-alone", args: []string{"notify", "route", "add", "--channel", "x", "--escalate-after", "15m"}},
	{name: "notify-deliveries-bad-state", args: []string{"notify", "deliveries", "--state", "lost"}},
	{name: "notify-deliveries-empty", args: []string{"notify", "deliveries", "--data", "$DATA"}},
	{name: "notify-resend-not-found", args: []string{"notify", "resend", "42", "--data", "$DATA"}},
	{name: "notify-test-no-channel", args: []string{"notify", "test", "--channel", "nosuch", "--data", "$DATA"}},
	{name: "notify-channel-list", args: []string{"notify", "channel", "list", "--data", "$DATA"},
		setup: func(t *testing.T, data, _ string) {
			mustRun(t, "notify", "channel", "add", "--name", "robot", "--kind", "dingtalk", "--secret", "SEC-1", "--lang", "en",
				"--url", "https://oapi.dingtalk.com/robot/send?access_token=tok-1", "--data", data)
		}},
	{name: "notify-route-remove-bad-id", args: []string{"notify", "route", "remove", "x"}},
	{name: "notify-route-remove-not-found", args: []string{"notify", "route", "remove", "42", "--data", "$DATA"}},
	{name: "notify-channel-disable-not-found", args: []string{"notify", "channel", "disable", "nosuch", "--data", "$DATA"}},
	{name: "notify-channel-disable", args: []string{"notify", "channel", "disable", "robot", "--data", "$DATA"},
		setup: func(t *testing.T, data, _ string) {
			mustRun(t, "notify", "channel", "add", "--name", "robot", "--kind", "webhook", "--url", "https://hooks.example/x", "--data", data)
			mustRun(t, "notify", "channel", "disable", "robot", "--data", data) // twice: no change, no error
		}},
	{name: "notify-channel-enable-list", args: []string{"notify", "channel", "list", "--data", "$DATA"},
		setup: func(t *testing.T, data, _ string) {
			mustRun(t, "notify", "channel", "add", "--name", "robot", "--kind", "webhook", "--url", "https://hooks.example/x", "--data", data)
			mustRun(t, "notify", "channel", "add", "--name", "mail-off", "--kind", "webhook", "--url", "https://hooks.example/y", "--data", data)
			mustRun(t, "notify", "channel", "disable", "mail-off", "--data", data)
			mustRun(t, "notify", "channel", "disable", "robot", "--data", data)
			mustRun(t, "notify", "channel", "enable", "robot", "--data", data)
		}},
	{name: "notify-route-list-remove", args: []string{"notify", "route", "list", "--data", "$DATA"},
		setup: func(t *testing.T, data, _ string) {
			mustRun(t, "notify", "channel", "add", "--name", "robot", "--kind", "webhook", "--url", "https://hooks.example/x", "--data", data)
			mustRun(t, "notify", "route", "add", "--channel", "robot", "--source", "supply", "--data", data)
			mustRun(t, "notify", "route", "add", "--channel", "robot", "--min-severity", "high", "--data", data)
			mustRun(t, "notify", "route", "remove", "1", "--data", data)
		}},
	// The risk register and the incidents: lists (empty, seeded as JSON) and usage errors.
	{name: "risk-list-empty", args: []string{"risk", "list", "--data", "$DATA"}},
	{name: "risk-list-json", args: []string{"risk", "list", "--format", "json", "--data", "$DATA"}, setup: seedGovernance},
	{name: "risk-list-bad-level", args: []string{"risk", "list", "--level", "severe", "--data", "$DATA"}},
	{name: "risk-list-bad-status", args: []string{"risk", "list", "--status", "pending"}},
	{name: "incident-list-empty", args: []string{"incident", "list", "--data", "$DATA"}},
	{name: "incident-list-json", args: []string{"incident", "list", "--format", "json", "--data", "$DATA"}, setup: seedGovernance},
	{name: "incident-list-bad-level", args: []string{"incident", "list", "--level", "huge"}},
	// The control catalogues (embedded, no store needed).
	{name: "compliance-catalogue-list", args: []string{"compliance", "catalogue", "list"}},
	{name: "compliance-catalogue-list-json-en", args: []string{"compliance", "catalogue", "list", "--format", "json", "--lang", "en"}},
	{name: "compliance-catalogue-show-hipaa", args: []string{"compliance", "catalogue", "show", "hipaa"}},
	{name: "compliance-catalogue-show-hipaa-json-en", args: []string{"compliance", "catalogue", "show", "hipaa", "--format", "json", "--lang", "en"}},
	{name: "compliance-catalogue-show-gbt39725-json", args: []string{"compliance", "catalogue", "show", "gbt39725", "--format", "json"}},
	{name: "compliance-catalogue-show-unknown", args: []string{"compliance", "catalogue", "show", "iso27001"}},
	{name: "compliance-catalogue-show-bad-lang", args: []string{"compliance", "catalogue", "show", "hipaa", "--lang", "fr"}},
	{name: "compliance-catalogue-show-no-name", args: []string{"compliance", "catalogue", "show"}},
	{name: "alerts-list-empty", args: []string{"alerts", "list", "--data", "$DATA"}},
	{name: "alerts-list-table", args: []string{"alerts", "list", "--data", "$DATA"}, setup: seedAlerts},
	{name: "alerts-list-json-open-supply", args: []string{"alerts", "list", "--source", "supply", "--status", "open",
		"--format", "json", "--data", "$DATA"}, setup: seedAlerts},
	{name: "alerts-list-json-dlp", args: []string{"alerts", "list", "--source", "dlp", "--format", "json", "--data", "$DATA"},
		setup: seedAlerts},
	// (From standard input: a temporary path would change the table's widths.)
	{name: "scan-fail-on-hit", args: []string{"scan", "-", "--types", "cn_resident_id", "--fail-on", "4"}, stdin: patientNote},
	{name: "scan-fail-on-not-reached", args: []string{"scan", "-", "--types", "cn_resident_id", "--fail-on", "5"}, stdin: patientNote},
	// Reference data: imports, a file with bad rows (exit 5, lines and columns, no values),
	// a bad kind (usage), a header that is not the kind's.
	{name: "reference-import-staff", args: []string{"reference", "import", "--kind", "staff", refData + "/staff.csv", "--data", "$DATA"}},
	{name: "reference-import-encounters", args: []string{"reference", "import", "--kind", "encounters", refData + "/encounters.csv", "--data", "$DATA"}},
	{name: "reference-import-bad-rows", args: []string{"reference", "import", "--kind", "patients", refData + "/patients-bad.csv", "--data", "$DATA"}},
	{name: "reference-import-bad-kind", args: []string{"reference", "import", "--kind", "doctors", refData + "/staff.csv", "--data", "$DATA"}},
	{name: "reference-import-bad-header", args: []string{"reference", "import", "--kind", "patients", refData + "/staff.csv", "--data", "$DATA"}},
	// Upward reporting: link needs a hospital node; push needs apps.upstream_url.
	{name: "upstream-link-missing-org", args: []string{"upstream", "link", "--data", "$DATA"}},
	{name: "upstream-link-not-hospital", args: []string{"upstream", "link", "--org", "Test City", "--data", "$DATA"}, setup: seedRegion},
	{name: "upstream-link-unknown-org", args: []string{"upstream", "link", "--org", "nosuch", "--data", "$DATA"}, setup: seedRegion},
	{name: "upstream-push-not-configured", args: []string{"upstream", "push", "--data", "$DATA"}},
	// Periodic reports: usage errors (exit 2), an organisation that does not exist or none
	// at all (exit 1), and a monthly HTML report of the seeded hospital.
	{name: "help-report-generate", args: []string{"help", "report", "generate"}},
	{name: "report-generate-bad-period", args: []string{"report", "generate", "--period", "2026-13", "--format", "pdf", "--out", "$TMP/r.pdf"}},
	{name: "report-generate-bad-week", args: []string{"report", "generate", "--period", "2026-W54", "--format", "pdf", "--out", "$TMP/r.pdf"}},
	{name: "report-generate-bad-format", args: []string{"report", "generate", "--period", "2026-11", "--format", "docx", "--out", "$TMP/r.docx"}},
	{name: "report-generate-bad-lang", args: []string{"report", "generate", "--period", "2026-11", "--format", "pdf", "--lang", "fr", "--out", "$TMP/r.pdf"}},
	{name: "report-generate-no-out", args: []string{"report", "generate", "--period", "2026-11", "--format", "pdf"}},
	{name: "report-generate-bad-sections", args: []string{"report", "generate", "--period", "2026-11", "--format", "pdf", "--sections", "risks,weather",
		"--out", "$TMP/r.pdf", "--data", "$DATA"}, setup: seedGovernance},
	{name: "report-generate-unknown-org", args: []string{"report", "generate", "--org", "nosuch", "--period", "2026-11", "--format", "pdf",
		"--out", "$TMP/r.pdf", "--data", "$DATA"}, setup: seedGovernance},
	{name: "report-generate-no-org", args: []string{"report", "generate", "--period", "2026-11", "--format", "pdf", "--out", "$TMP/r.pdf", "--data", "$DATA"}},
	{name: "report-generate-html", args: []string{"report", "generate", "--org", "Hospital A", "--period", "2026-12", "--format", "html",
		"--sections", "risks,incidents", "--out", "$TMP/r.html", "--data", "$DATA"}, setup: seedGovernance},
}

// seedRegion makes a region node "Test City" with a hospital "Hospital A" under it.
func seedRegion(t *testing.T, data, _ string) {
	t.Helper()
	ctx := context.Background()
	cfg := app.Defaults()
	cfg.DataDir = data
	a, err := app.Open(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	top, err := a.Orgs.Create(ctx, actor.CLI(), org.Input{Kind: org.KindRegion, Name: "Test City"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Orgs.Create(ctx, actor.CLI(), org.Input{ParentID: top.ID, Kind: org.KindHospital, Name: "Hospital A"}); err != nil {
		t.Fatal(err)
	}
}

// mustRun runs a command line of a case's setup, which must succeed.
func mustRun(t *testing.T, args ...string) {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(context.Background(), args, strings.NewReader(""), &out, &errb, noEnv, nil); code != 0 {
		t.Fatalf("setup %v: exit %d\n%s%s", args, code, out.String(), errb.String())
	}
}

// eventsFiles writes the event files of the events-import cases into tmp: NDJSON with a
// duplicate and an unknown action, a GBK vendor CSV and its mapping, a file whose every
// event is invalid, a broken NDJSON file and a mapping naming a field that does not exist.
func eventsFiles(t *testing.T, _, tmp string) {
	t.Helper()
	ev := func(id, action string) string {
		return `{"id":"` + id + `","time":"2026-03-31T09:00:00+08:00","system":"EMR","account":"doc","action":"` + action + `","patient_id":"P-77"}` + "\n"
	}
	gbk, err := simplifiedchinese.GBK.NewEncoder().String("流水号,操作时间,系统,工号,操作,患者\nA1,2026/03/31 09:05,HIS,张医生,查看病历,P-1\nA2,2026/03/31 09:06,HIS,张医生,打印,P-1\n")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"e.ndjson":      ev("1", "view") + ev("2", "print") + ev("1", "view") + ev("3", "peek"),
		"bad.ndjson":    ev("1", "peek") + `{"id":"","time":"2026-03-31T09:00:00Z","system":"EMR","account":"doc","action":"view"}` + "\n",
		"broken.ndjson": ev("1", "view") + `{"id":"2","time":` + "\n",
		"vendor.csv":    gbk,
		"m.yaml":        "columns:\n  流水号: id\n  操作时间: time\n  系统: system\n  工号: account\n  操作: action\n  患者: patient_id\nactions:\n  查看病历: view\n  打印: print\ntime_format: \"2006/01/02 15:04\"\n",
		"badmap.yaml":   "columns:\n  流水号: serial\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(tmp, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func addUser(t *testing.T, data, _ string) {
	mustRun(t, "user", "add", "--username", "liwei", "--role", "auditor", "--password", "Str0ng-Passw0rd-Here", "--data", data)
}

// patientNote holds a resident ID (level 4).
const patientNote = "患者身份证号 11010519491231002X\n"

// tamperedDelivery copies the sample delivery into tmp with one byte added to the archive.
func tamperedDelivery(t *testing.T, _, tmp string) {
	for _, f := range []string{"his-server-5.2.0.tar.gz", "sbom/his-5.2.0.cdx.json"} {
		b, err := os.ReadFile(filepath.Join(sample, "files", f))
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(f, ".gz") {
			b = append(b, 0)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(tmp, f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(tmp, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCommands runs each command line of cmdCases and compares its exit code, stdout
// and stderr together with the golden file testdata/cmd/NAME.txt (go test -run
// TestCommands -update rewrites them). Whatever the golden files say, a command that
// fails must say why on stderr: a usage error that prints nothing cannot pass.
func TestCommands(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range cmdCases {
		if seen[c.name] {
			t.Fatalf("two cases named %s", c.name)
		}
		seen[c.name] = true
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			data, tmp := t.TempDir(), t.TempDir()
			if strings.Contains(strings.Join(c.args, " "), "$DATA") {
				mustRun(t, "migrate", "--data", data)
			}
			if c.setup != nil {
				c.setup(t, data, tmp)
			}
			args := make([]string, len(c.args))
			for i, a := range c.args {
				args[i] = strings.NewReplacer("$DATA", data, "$TMP", tmp).Replace(a)
			}
			var out, errb bytes.Buffer
			code := run(context.Background(), args, strings.NewReader(c.stdin), &out, &errb, noEnv, nil)
			norm := func(s string) string { return normalise(s, data, tmp) }
			got := snapshot(c.args, code, norm(out.String()), norm(errb.String()))

			if code != ExitOK && !strings.Contains(errb.String(), "medguard: ") {
				t.Errorf("exit %d with no \"medguard: \" message on stderr:\n%s", code, got)
			}
			if code == ExitUsage && !strings.Contains(errb.String(), "Run 'medguard help") {
				t.Errorf("usage error without a hint to the help:\n%s", got)
			}
			golden := filepath.Join("testdata", "cmd", c.name+".txt")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (go test ./internal/cli -run TestCommands -update writes it)", err)
			}
			if d := cmp.Diff(string(want), got); d != "" {
				t.Errorf("medguard %s differs from %s (-want +got; -update rewrites it):\n%s", strings.Join(c.args, " "), golden, d)
			}
		})
	}
	// A golden file without a case is left over from a removed or renamed case.
	files, _ := filepath.Glob(filepath.Join("testdata", "cmd", "*.txt"))
	for _, f := range files {
		if name := strings.TrimSuffix(filepath.Base(f), ".txt"); !seen[name] && !*update {
			t.Errorf("%s has no case in cmdCases", f)
		}
	}
}

// snapshot renders a command line's three outputs as one text.
func snapshot(args []string, code int, stdout, stderr string) string {
	var b strings.Builder
	b.WriteString("$ medguard " + strings.Join(args, " ") + "\n")
	b.WriteString("-- exit code --\n")
	b.WriteString(itoa64(int64(code)) + "\n")
	for _, part := range []struct{ name, text string }{{"stdout", stdout}, {"stderr", stderr}} {
		b.WriteString("-- " + part.name + " --\n")
		b.WriteString(part.text)
		if part.text != "" && !strings.HasSuffix(part.text, "\n") {
			b.WriteString("\n-- (no newline at the end of " + part.name + ") --\n")
		}
	}
	return b.String()
}

var (
	timeRE     = regexp.MustCompile(`\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)?`)
	durationRE = regexp.MustCompile(`\b\d+(\.\d+)?(ns|µs|us|ms|s|m)\b`)
	hashRE     = regexp.MustCompile(`\b[0-9a-f]{64}\b`)
)

// normalise replaces what changes from run to run: the temporary directories,
// timestamps, durations, hashes (the trail's are keyed by a random key) and the version.
func normalise(s, data, tmp string) string {
	s = strings.NewReplacer(data, "$DATA", tmp, "$TMP").Replace(s)
	s = hashRE.ReplaceAllString(s, "<hash>")
	s = timeRE.ReplaceAllString(s, "<time>")
	s = durationRE.ReplaceAllString(s, "<duration>")
	return strings.ReplaceAll(s, "medguard "+app.Version+"\n", "medguard <version>\n")
}

// seedAlerts raises alerts in the data directory: two of the supply chain (one of them
// raised twice, one resolved) and one of patient-data detection with a patient id, and
// silences the dlp one.
func seedAlerts(t *testing.T, data, _ string) {
	t.Helper()
	ctx := context.Background()
	cfg := app.Defaults()
	cfg.DataDir = data
	a, err := app.Open(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	top, err := a.Orgs.Create(ctx, actor.CLI(), org.Input{Kind: org.KindRegion, Name: "Test City"})
	if err != nil {
		t.Fatal(err)
	}
	h, err := a.Orgs.Create(ctx, actor.CLI(), org.Input{ParentID: top.ID, Kind: org.KindHospital, Name: "Hospital A"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Alerts.CreateSilence(ctx, actor.CLI(), alert.SilenceInput{OrgID: h.ID, Source: "dlp", Reason: "test week",
		ExpiresAt: time.Now().Add(24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	ins := []alert.Input{
		{OrgID: h.ID, Source: "supply", Kind: "new_vulnerability", Severity: "critical", Subject: "CVE-2026-0001",
			Title: i18n.M("supply.alert.new_vulnerability", "CVE-2026-0001", 1, 2), DedupKey: "new_vulnerability:CVE-2026-0001"},
		{OrgID: h.ID, Source: "supply", Kind: "new_vulnerability", Severity: "critical", Subject: "CVE-2026-0001",
			Title: i18n.M("supply.alert.new_vulnerability", "CVE-2026-0001", 1, 2), DedupKey: "new_vulnerability:CVE-2026-0001"},
		{OrgID: h.ID, Source: "supply", Kind: "delivery_failed", Severity: "high", Subject: "D-7",
			Title: i18n.M("supply.alert.delivery_failed", "D-7", "HIS", "5.2.0"), DedupKey: "delivery_failed:7"},
		{OrgID: h.ID, Source: "dlp", Kind: "dlp_block", Severity: "high", Subject: "discharge.docx", Account: "gateway",
			PatientID: "110105194912310021", Title: i18n.M("alert.dlp.block", "discharge.docx", 4), DedupKey: "dlp_check:1"},
	}
	var ids []int64
	for i, in := range ins {
		in.At = time.Date(2026, 4, 1, 8, i, 0, 0, time.UTC)
		if err := a.DB.InTx(ctx, func(tx *store.Tx) error {
			al, _, err := a.Alerts.Raise(ctx, tx, in)
			ids = append(ids, al.ID)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.Alerts.SetStatus(ctx, actor.CLI(), []int64{ids[2]}, alert.Change{Status: alert.StatusResolved,
		Resolution: alert.ResolutionConfirmed}); err != nil {
		t.Fatal(err)
	}
}

// seedGovernance raises a supply-chain alert at a hospital, a risk from it, and an
// incident opened from it with its reporting clock running.
func seedGovernance(t *testing.T, data, _ string) {
	t.Helper()
	ctx := context.Background()
	cfg := app.Defaults()
	cfg.DataDir = data
	a, err := app.Open(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	top, err := a.Orgs.Create(ctx, actor.CLI(), org.Input{Kind: org.KindRegion, Name: "Test City"})
	if err != nil {
		t.Fatal(err)
	}
	h, err := a.Orgs.Create(ctx, actor.CLI(), org.Input{ParentID: top.ID, Kind: org.KindHospital, Name: "Hospital A"})
	if err != nil {
		t.Fatal(err)
	}
	var al alert.Alert
	if err := a.DB.InTx(ctx, func(tx *store.Tx) error {
		al, _, err = a.Alerts.Raise(ctx, tx, alert.Input{OrgID: h.ID, Source: "supply", Kind: "new_vulnerability", Severity: "critical",
			Subject: "CVE-2026-0001", Title: i18n.M("supply.alert.new_vulnerability", "CVE-2026-0001", 1, 2), DedupKey: "new_vulnerability:CVE-2026-0001"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Risks.FromSource(ctx, actor.CLI(), risk.SourceInput{Module: risk.ModuleAlert, ID: al.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Incidents.Open(ctx, actor.CLI(), incident.Input{OrgID: h.ID, Level: incident.LevelLarge,
		Details:    incident.Details{Title: "Ransomware on the PACS archive", Category: "malware", PatientsAffected: 1200},
		DetectedAt: time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC), SourceModule: incident.SourceAlert, SourceID: strconv.FormatInt(al.ID, 10)}); err != nil {
		t.Fatal(err)
	}
}
