package app

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/demo"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/report"
)

// TestDemoMonthlyReportPDF: the demo hospital's monthly report, made as the scheduled
// reports and `report generate` make it (the application's own report source), is a PDF
// whose text — extracted by poppler's pdftotext — carries its Chinese headings and the
// figures the platform holds: the security score of the overview, the data flows of the
// register, the self-checks of the period; the province's report sets its hospitals side
// by side. With REPORT_PNG_DIR set, its first pages are
// rendered there as PNG to be looked at.
func TestDemoMonthlyReportPDF(t *testing.T) {
	pdftotext, err := exec.LookPath("pdftotext")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("pdftotext (poppler-utils) is needed to check the PDF report")
		}
		t.Skip("pdftotext (poppler-utils) not installed; apt-get install poppler-utils")
	}
	ctx := context.Background()
	cfg := Defaults()
	cfg.DataDir = t.TempDir()
	dlpRoot := filepath.Join(cfg.DataDir, demo.DLPRootName) // as `medguard demo` makes it a scan root
	if err := os.MkdirAll(dlpRoot, 0o750); err != nil {
		t.Fatal(err)
	}
	cfg.DLP.ScanRoots = []string{dlpRoot}
	a, err := Open(ctx, cfg, quiet())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	env, err := a.DetectEnv()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Seed(ctx, demo.Deps{DB: a.DB, Orgs: a.Orgs, Auth: a.Auth, Assets: a.Assets, Vulns: a.Vulns, Supply: a.Supply,
		DLP: a.DLP, Alerts: a.Alerts, Notify: a.Notify, Events: a.Events, Reference: a.Reference, Rules: a.Rules.Rules, DetectEnv: env,
		Apps: a.Apps, Upstream: a.Upstream, Risks: a.Risks, Incidents: a.Incidents, Plans: a.Plans, Assess: a.Assess,
		Policies: a.Policies, Training: a.Training, Dataflows: a.Dataflows, Reports: a.Reports, Overview: a.Overview},
		demo.Options{AdminPassword: "a-Long-passphrase-2026", DLPRoot: dlpRoot}); err != nil {
		t.Fatal(err)
	}
	nodes, err := a.Orgs.List(ctx, actor.System())
	if err != nil {
		t.Fatal(err)
	}
	var hosp org.Node
	for _, n := range nodes {
		if n.Kind == org.KindHospital {
			hosp = n
			break
		}
	}
	if hosp.ID == 0 {
		t.Fatal("the demo has no hospital")
	}
	period := report.Previous(time.Now(), report.Monthly)
	r, err := a.Reports.Generate(ctx, actor.System(), report.GenerateInput{OrgID: hosp.ID, Period: period.String(), Lang: "zh-CN",
		Formats: []string{"pdf"}})
	if err != nil {
		t.Fatal(err)
	}
	pdf, err := a.Reports.File(ctx, actor.System(), r.ID, "pdf")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(pdf), "%PDF-") {
		t.Fatalf("not a PDF: %.20q", pdf)
	}
	file := filepath.Join(t.TempDir(), "report.pdf")
	if err := os.WriteFile(file, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(pdftotext, "-layout", file, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	text := string(out)
	flat := strings.Join(strings.Fields(text), " ")
	for _, h := range []string{"信息安全月报", hosp.Name, period.String(), "安全评分", "未处置问题", "风险情况", "安全事件", "告警情况",
		"合规测评进度", "互联网医院应用", "患者信息访问告警", "安全培训", "定期自查", "数据共享登记"} {
		if !strings.Contains(text, h) && !strings.Contains(flat, h) {
			t.Errorf("the PDF's text lacks %q", h)
		}
	}
	// The figures are the platform's own.
	o, err := a.Overview.Hospital(ctx, actor.System(), hosp.ID, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if want := strconv.Itoa(o.Score) + " / 100"; !strings.Contains(flat, want) {
		t.Errorf("the PDF's text lacks the score %q", want)
	}
	total, deficient, err := a.Dataflows.Deficient(ctx, hosp.ID)
	if err != nil {
		t.Fatal(err)
	}
	if total == 0 || deficient == 0 {
		t.Errorf("the demo's register: %d flows, %d deficient; want some of each", total, deficient)
	}
	for _, f := range []struct {
		label string
		n     int
	}{{"登记的对外数据共享", total}, {"存在缺陷的数据共享", deficient}} {
		if !regexp.MustCompile(regexp.QuoteMeta(f.label) + `\s+` + strconv.Itoa(f.n) + `\b`).MatchString(flat) {
			t.Errorf("the PDF's text lacks %s %d", f.label, f.n)
		}
	}
	checks, err := a.Policies.SelfChecks(ctx, actor.System(), hosp.ID, period.Start, period.End)
	if err != nil {
		t.Fatal(err)
	}
	done := 0
	for _, c := range checks {
		if c.PerformedAt != nil {
			done++
		}
	}
	if !regexp.MustCompile(`已开展的自查\s+` + strconv.Itoa(done) + `\b`).MatchString(flat) {
		t.Errorf("the PDF's text lacks 已开展的自查 %d", done)
	}
	// The province's report puts its hospitals side by side; its score is their average,
	// so it lists no penalties of its own.
	var top org.Node
	for _, n := range nodes {
		if n.Kind == org.KindProvince {
			top = n
		}
	}
	rr, err := a.Reports.Generate(ctx, actor.System(), report.GenerateInput{OrgID: top.ID, Period: period.String(), Lang: "zh-CN",
		Formats: []string{"html"}})
	if err != nil {
		t.Fatal(err)
	}
	html, err := a.Reports.File(ctx, actor.System(), rr.ID, "html")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		if n.Kind == org.KindHospital && !strings.Contains(string(html), n.Name) {
			t.Errorf("the region's report does not name hospital %s", n.Name)
		}
	}
	if !strings.Contains(string(html), "各医院对比") || strings.Contains(string(html), "扣分项") {
		t.Error("the region's report: want the hospitals side by side and no penalties of its own")
	}
	if dir := os.Getenv("REPORT_PNG_DIR"); dir != "" {
		if err := exec.Command("pdftoppm", "-png", "-r", "70", "-f", "1", "-l", "8", file, filepath.Join(dir, "demo-report")).Run(); err != nil {
			t.Errorf("pdftoppm: %v", err)
		}
	}
}
