package cli

import (
	"bytes"
	"context"
	"database/sql"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/medguard/medguard/internal/store/storetest"
)

// storeFlags returns the flags selecting a fresh store of each engine.
func eachStore(t *testing.T, fn func(t *testing.T, flags []string, raw func() *sql.DB)) {
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		fn(t, []string{"--data", dir}, func() *sql.DB {
			db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "medguard.db")+"?_pragma=busy_timeout(5000)")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		})
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := storetest.FreshPostgresURL(t)
		// The data directory still holds files next to the database (the DLP key,
		// the demo's scan root).
		fn(t, []string{"--db", dsn, "--data", t.TempDir()}, func() *sql.DB {
			db, err := sql.Open("pgx", dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		})
	})
}

func noEnv(string) string { return "" }

func runCLI(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errb, noEnv, nil)
	return code, out.String(), errb.String()
}

func TestUserTokenAndTrailCommands(t *testing.T) {
	eachStore(t, func(t *testing.T, flags []string, raw func() *sql.DB) {
		cmd := func(stdin string, args ...string) (int, string, string) {
			return runCLI(t, stdin, append(args, flags...)...)
		}
		if code, out, errs := cmd("", "migrate"); code != 0 || !strings.Contains(out, "schema version") {
			t.Fatalf("migrate: %d %q %q", code, out, errs)
		}
		if code, _, errs := cmd("short\n", "user", "add", "--username", "wang", "--role", "admin", "--password-stdin"); code == 0 || !strings.Contains(errs, "password") {
			t.Fatalf("weak password accepted: %d %q", code, errs)
		}
		if code, out, errs := cmd("Str0ng-Passw0rd-Here\n", "user", "add", "--username", "wang", "--role", "admin", "--password-stdin"); code != 0 || !strings.Contains(out, "created user wang") {
			t.Fatalf("user add: %d %q %q", code, out, errs)
		}
		if code, _, errs := cmd("", "user", "add", "--username", "wang", "--role", "admin", "--password", "Str0ng-Passw0rd-Here"); code == 0 || !strings.Contains(errs, "taken") {
			t.Fatalf("duplicate user: %d %q", code, errs)
		}
		code, out, _ := cmd("", "user", "list")
		if code != 0 || !strings.Contains(out, "wang") || !strings.Contains(out, "admin") {
			t.Fatalf("user list: %d %q", code, out)
		}
		code, out, errs := cmd("", "token", "create", "--user", "wang", "--scope", "read")
		if code != 0 || !regexp.MustCompile(`^mgt_[A-Za-z0-9_-]+\n$`).MatchString(out) {
			t.Fatalf("token create must print the token alone: %d %q %q", code, out, errs)
		}
		// After an operator's reset the user must change the password first: no token
		// until then, and a clear reason why.
		if code, out, errs := cmd("Temp0rary-Passw0rd-Here\n", "user", "passwd", "wang", "--password-stdin"); code != 0 {
			t.Fatalf("user passwd: %d %q %q", code, out, errs)
		}
		if code, out, errs := cmd("", "token", "create", "--user", "wang"); code != ExitError || out != "" || !strings.Contains(errs, "must change the temporary password") {
			t.Fatalf("token for a user with a temporary password: %d %q %q", code, out, errs)
		}
		if code, _, _ := cmd("", "user", "disable", "nobody"); code == 0 {
			t.Fatal("disabling an unknown user succeeded")
		}
		if code, out, _ := cmd("", "trail", "verify"); code != 0 || !strings.HasPrefix(out, "OK:") {
			t.Fatalf("trail verify: %d %q", code, out)
		}
		if _, err := raw().Exec(`UPDATE trail SET actor = 'mallory' WHERE seq = 2`); err != nil {
			t.Fatal(err)
		}
		code, out, _ = cmd("", "trail", "verify")
		if code != ExitTrailBroken || !strings.Contains(out, "entry 2") {
			t.Fatalf("tampered trail: exit %d %q, want %d naming entry 2", code, out, ExitTrailBroken)
		}
	})
}

func TestUsageErrors(t *testing.T) {
	if code, _, _ := runCLI(t, "", "no-such-command"); code != ExitUsage {
		t.Errorf("unknown command: exit %d", code)
	}
	if code, _, _ := runCLI(t, "", "serve", "--trail-hash", "md5", "--data", t.TempDir()); code != ExitError {
		t.Errorf("bad trail hash: exit %d", code)
	}
	if code, out, _ := runCLI(t, "", "version"); code != 0 || !strings.HasPrefix(out, "medguard ") {
		t.Errorf("version: %d %q", code, out)
	}
}

// serveUntil runs args until ready, calls fn with the URL, then stops the server.
func serveUntil(t *testing.T, args []string, fn func(url string)) (int, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb bytes.Buffer
	done := make(chan int, 1)
	urls := make(chan string, 1)
	go func() {
		done <- run(ctx, args, strings.NewReader(""), &out, &errb, noEnv, func(u string) { urls <- u })
	}()
	select {
	case u := <-urls:
		fn(u)
	case code := <-done:
		t.Fatalf("server exited early with %d: %s %s", code, out.String(), errb.String())
	case <-time.After(60 * time.Second):
		t.Fatal("server did not start")
	}
	cancel()
	return <-done, out.String()
}

func TestServePrintsSetupLinkOnEmptyStore(t *testing.T) {
	dir := t.TempDir()
	code, out := serveUntil(t, []string{"serve", "--data", dir, "--addr", "127.0.0.1:0"}, func(url string) {
		resp, err := http.Get(url + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("healthz: %d", resp.StatusCode)
		}
	})
	if code != 0 {
		t.Fatalf("serve exit %d", code)
	}
	m := regexp.MustCompile(`/setup\?token=([A-Za-z0-9_-]+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no setup link in %q", out)
	}
}

func TestDemoIsIdempotent(t *testing.T) {
	eachStore(t, func(t *testing.T, flags []string, raw func() *sql.DB) {
		args := append([]string{"demo", "--seed-only", "--assets", "120", "--admin-password", "Demo-Passw0rd-2026"}, flags...)
		code, out, errs := runCLI(t, "", args...)
		if code != 0 || !strings.Contains(out, "Seeded") || !strings.Contains(out, "regulator") {
			t.Fatalf("first demo: %d %q %q", code, out, errs)
		}
		count := func(table string) int {
			var n int
			if err := raw().QueryRow(`SELECT COUNT(*) FROM ` + table).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		orgs, users, assets := count("orgs"), count("users"), count("assets")
		if assets != 120 || users < 7 || orgs < 5 {
			t.Fatalf("seeded %d orgs, %d users, %d assets", orgs, users, assets)
		}
		// The supply chain: 3 SBOMs matched against the embedded advisories, a delivery
		// that passed and one that failed, gate results, a new-advisory alert.
		sboms, findings, alerts := count("sboms"), count("findings"), count("alerts WHERE source = 'supply'")
		if sboms != 3 || findings < 50 || alerts != 2 || count("deliveries") != 2 || count("gate_results") != 3 ||
			count("finding_decisions") != 1 {
			t.Fatalf("supply demo: %d sboms, %d findings, %d alerts", sboms, findings, alerts)
		}
		// Patient data: a path job over the demo files, a text scan, checks that
		// allow, alert and block; a second run adds none.
		dlpScans := count("dlp_scans")
		var decisions string
		if err := raw().QueryRow(`SELECT COUNT(DISTINCT decision) FROM dlp_scans WHERE kind = 'check'`).Scan(&decisions); err != nil {
			t.Fatal(err)
		}
		var jobFiles, jobStatus string
		if err := raw().QueryRow(`SELECT files, status FROM dlp_scans WHERE kind = 'job'`).Scan(&jobFiles, &jobStatus); err != nil {
			t.Fatal(err)
		}
		if dlpScans != 5 || decisions != "3" || jobStatus != "done" || jobFiles == "0" {
			t.Fatalf("DLP demo: %d scans, %s check decisions, job %s with %s files", dlpScans, decisions, jobStatus, jobFiles)
		}
		// The referral file named after its patient is listed masked; the ID in its
		// name is a sealed finding of the file.
		var clear, inPath int
		if err := raw().QueryRow(`SELECT COUNT(*) FROM dlp_files WHERE path LIKE '%330106200104071230%' OR path LIKE '%陈晓明%'`).
			Scan(&clear); err != nil || clear != 0 {
			t.Fatalf("demo file names in clear: %d, %v", clear, err)
		}
		if err := raw().QueryRow(`SELECT COUNT(*) FROM dlp_findings WHERE field = '(path)' AND type = 'cn_resident_id' AND sealed IS NOT NULL`).
			Scan(&inPath); err != nil || inPath == 0 {
			t.Fatalf("demo: no sealed ID finding in a file name: %d, %v", inPath, err)
		}
		var gateways int
		if err := raw().QueryRow(`SELECT COUNT(*) FROM api_tokens WHERE only_permission = 'dlp.check'`).Scan(&gateways); err != nil || gateways != 1 {
			t.Fatalf("demo gateway tokens = %d, %v", gateways, err)
		}
		// The alert inbox: alerts of the supply chain and the patient-data checks (a
		// silenced one, the job's outside the allowed path), a case in progress, a silence.
		silenced := count("alerts WHERE source = 'dlp' AND silence_id IS NOT NULL")
		dlpAlerts := count("alerts WHERE source = 'dlp'")
		if count("alerts WHERE kind = 'dlp_block'") != 1 || silenced != 1 || count("alerts WHERE kind = 'dlp_outside_allowed'") != 1 ||
			count("alert_cases WHERE status = 'investigating'") != 2 || count("alert_case_comments") != 2 ||
			count("alert_silences") != 1 || count("alerts WHERE case_id IS NOT NULL") == 0 {
			t.Fatalf("alert demo: %d dlp alerts, %d silenced, %d cases, %d silences", dlpAlerts, silenced, count("alert_cases"),
				count("alert_silences"))
		}
		// Audit events: the simulated hospital's reference data and its two weeks of
		// events, ending now, in the first hospital.
		evs, staff, patients, encounters := count("events"), count("reference_staff"), count("reference_patients"), count("reference_encounters")
		if evs < 10_000 || staff != 120 || patients < 800 || encounters == 0 {
			t.Fatalf("events demo: %d events, %d staff, %d patients, %d encounters", evs, staff, patients, encounters)
		}
		var first, last string
		if err := raw().QueryRow(`SELECT MIN(e.time), MAX(e.time) FROM events e JOIN orgs o ON o.id = e.org_id WHERE o.code = 'DEMO-H1'`).
			Scan(&first, &last); err != nil {
			t.Fatal(err)
		}
		if count("events e JOIN orgs o ON o.id = e.org_id WHERE o.code = 'DEMO-H1'") != evs {
			t.Fatalf("events demo: events outside the first hospital")
		}
		t.Logf("demo events: %d from %s to %s", evs, first, last)
		// Detection ran over them: monitoring alerts with their rule, and one
		// investigation (a family access in a case being investigated).
		monitor := count("alerts WHERE source = 'monitor' AND rule <> ''")
		if monitor < 10 || count("alerts WHERE source = 'monitor' AND kind = 'family-access' AND case_id IS NOT NULL") != 1 {
			t.Fatalf("monitoring demo: %d alerts, %d family accesses in a case", monitor,
				count("alerts WHERE source = 'monitor' AND kind = 'family-access' AND case_id IS NOT NULL"))
		}
		t.Logf("demo monitoring alerts: %d", monitor)
		// Internet-hospital apps: one of each grade, one evicted (its code revoked), one
		// application waiting for review.
		apps := count("apps")
		for _, q := range []string{"apps WHERE grade = 'A' AND status = 'admitted'", "apps WHERE grade = 'B' AND status = 'admitted'",
			"apps WHERE grade = 'C' AND status = 'admitted'", "apps WHERE status = 'evicted'", "apps WHERE status = 'pending'",
			"app_codes WHERE revoke_reason LIKE 'evicted:%'"} {
			if n := count(q); n != 1 {
				t.Errorf("apps demo: %d %s, want 1", n, q)
			}
		}
		// The hospitals reported their apps upward to the demo's region: every filed app
		// (the pending one included), and the escalations of the major risks.
		reported := count("upstream_apps")
		if reported != apps || count("upstream_links") < 1 || count("upstream_incidents") == 0 || count("alerts WHERE kind = 'app.escalated'") == 0 {
			t.Errorf("region demo: %d of %d apps reported, %d links, %d incidents, %d escalations", reported, apps, count("upstream_links"),
				count("upstream_incidents"), count("alerts WHERE kind = 'app.escalated'"))
		}
		// The register fed from the supply-chain and patient-data alerts, an incident
		// under its plan with its clock running, a past drill with its tasks.
		risks, incidents, drills := count("risks"), count("incidents"), count("plan_drills")
		if count("risks r JOIN risk_sources s ON s.risk_id = r.id WHERE s.module = 'alert'") < 2 || incidents != 1 || drills != 1 ||
			count("incidents WHERE report_due IS NOT NULL AND status = 'open'") != 1 || count("plan_run_items WHERE done_at IS NOT NULL") == 0 ||
			count("plan_drill_tasks") != 2 {
			t.Errorf("governance demo: %d risks, %d incidents, %d drills", risks, incidents, drills)
		}
		// Compliance: an MLPS level-3 assessment of a business system mostly assessed, its
		// checks run, a gap in the register; a GB/T 39725 assessment of the hospital begun.
		assessments, assessEvidence := count("assessments"), count("assess_evidence")
		if count("assessments WHERE catalogue = 'mlps3'") != 1 || count("assessments WHERE catalogue = 'gbt39725' AND asset_id IS NULL") != 1 ||
			count("assess_items i JOIN assessments x ON x.id = i.assessment_id WHERE x.catalogue = 'mlps3' AND i.status = 'met'") < 140 ||
			count("assess_items WHERE item = '8.1.4.1.d' AND status = 'not_met'") != 1 || count("assess_evidence WHERE kind = 'check'") == 0 ||
			count("assess_evidence WHERE kind = 'link'") < 3 || count("risk_sources WHERE module = 'assess_item'") != 1 {
			t.Errorf("assessment demo: %d assessments, %d evidence", assessments, assessEvidence)
		}
		// Its progress over the weeks it took: points before the day it was entered.
		if n := count("assess_progress p JOIN assessments x ON x.id = p.assessment_id WHERE x.catalogue = 'mlps3' AND p.at < x.created_at"); n < 4 {
			t.Errorf("assessment demo: %d weekly progress points, want 4", n)
		}
		// Policies approved by another than their author, one in review, reviews open and
		// overdue; the role book's six roles; self-checks, the scan's issues in the register.
		policies, selfchecks := count("policies"), count("selfchecks")
		if policies != 5 || count("policies WHERE status = 'in_review'") != 1 || count("policy_versions WHERE approved_by <> '' AND approved_by = author") != 0 ||
			count("policy_reviews WHERE status = 'overdue'") != 1 || count("policy_reviews") < 2 || count("compliance_roles") != 6 ||
			selfchecks < 4 || count("risk_sources WHERE module = 'selfcheck'") != 1 {
			t.Errorf("policy demo: %d policies, %d reviews, %d roles, %d self-checks", policies, count("policy_reviews"), count("compliance_roles"), selfchecks)
		}
		// Training: two courses, a session with its attendance, the bank, passed and failed
		// attempts.
		attempts := count("training_attempts")
		if count("training_courses") != 2 || count("training_questions") != 10 || attempts != 3 ||
			count("training_attempts WHERE passed") != 2 || count("training_attendance") != 5 {
			t.Errorf("training demo: %d courses, %d questions, %d attempts", count("training_courses"), count("training_questions"), attempts)
		}
		// Data flows: five, two deficient with their risks, one ended with its destruction.
		flows := count("dataflows")
		if flows != 5 || count("risk_sources WHERE module = 'dataflow'") != 2 || count("dataflows WHERE status = 'ended' AND destroyed_by <> ''") != 1 {
			t.Errorf("data-flow demo: %d flows, %d risks", flows, count("risk_sources WHERE module = 'dataflow'"))
		}
		// Reports: the scheduled monthly template and last month's report; the score.
		if count("report_templates") != 1 || count("reports") != 1 || count("overview_snapshots") == 0 {
			t.Errorf("report demo: %d templates, %d reports, %d scores", count("report_templates"), count("reports"), count("overview_snapshots"))
		}
		tokens := count("api_tokens")
		code, out, _ = runCLI(t, "", args...)
		if code != 0 || !strings.Contains(out, "already there") {
			t.Fatalf("second demo: %d %q", code, out)
		}
		if count("orgs") != orgs || count("users") != users || count("assets") != assets || count("sboms") != sboms ||
			count("findings") != findings || count("alerts WHERE source = 'supply'") != alerts || count("dlp_scans") != dlpScans ||
			count("api_tokens") != tokens || count("alerts WHERE source = 'dlp'") != dlpAlerts || count("alert_cases") != 2 ||
			count("alerts WHERE source = 'monitor'") != monitor || count("apps") != apps || count("upstream_apps") != reported || count("risks") != risks || count("incidents") != incidents ||
			count("alert_silences") != 1 || count("events") != evs || count("reference_staff") != staff ||
			count("reference_encounters") != encounters || count("assessments") != assessments || count("assess_evidence") != assessEvidence ||
			count("policies") != policies || count("selfchecks") != selfchecks || count("training_attempts") != attempts ||
			count("dataflows") != flows || count("reports") != 1 {
			t.Fatal("second demo run created data")
		}
		var kinds int
		if err := raw().QueryRow(`SELECT COUNT(DISTINCT kind) FROM assets`).Scan(&kinds); err != nil || kinds != 7 {
			t.Fatalf("demo assets cover %d kinds, want all 7 (%v)", kinds, err)
		}
		if code, out, _ := runCLI(t, "", append([]string{"trail", "verify"}, flags...)...); code != 0 {
			t.Fatalf("trail after demo: %d %q", code, out)
		}
	})
}

func TestFlagsBeatEnvironment(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"MEDGUARD_DATA": filepath.Join(dir, "from-env"), "MEDGUARD_TRAIL_HASH": "md5"}
	getenv := func(k string) string { return env[k] }
	var out, errb bytes.Buffer
	// The environment's bad trail hash is overridden by the flag; the data directory
	// comes from the environment.
	code := run(context.Background(), []string{"migrate", "--trail-hash", "sm3"}, strings.NewReader(""), &out, &errb, getenv, nil)
	if code != 0 {
		t.Fatalf("migrate: %d %s", code, errb.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "from-env", "medguard.db")); err != nil {
		t.Fatalf("MEDGUARD_DATA not used: %v", err)
	}
	code = run(context.Background(), []string{"migrate"}, strings.NewReader(""), &out, &errb, getenv, nil)
	if code == 0 || !strings.Contains(errb.String(), "trail hash") {
		t.Fatalf("bad MEDGUARD_TRAIL_HASH accepted: %d %s", code, errb.String())
	}
}
