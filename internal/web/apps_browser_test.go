package web

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/appreg"
	"github.com/medguard/medguard/internal/appscore"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// appShots returns a function that keeps a full-page screenshot named appui-<name>.png
// (in MEDGUARD_SCREENSHOT_DIR, or the test's temporary directory) and fails the test on
// unreadable layout and on JavaScript errors.
func appShots(t *testing.T, p *tab) func(name string) {
	dir := os.Getenv("MEDGUARD_SCREENSHOT_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	return func(name string) {
		t.Helper()
		png, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("%s: screenshot: %v", name, err)
		}
		f := filepath.Join(dir, "appui-"+name+".png")
		if err := os.WriteFile(f, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot %s", f)
		// A form shown again with its problem is answered 400, which the browser logs.
		for _, msg := range p.console.take() {
			if !strings.Contains(msg, "status of 400") {
				p.console.add(msg)
			}
		}
		probs, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]string](layoutProblemsJS))
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range probs {
			t.Errorf("%s: %s", name, s)
		}
		p.noJSErrors(name)
	}
}

// fillAdmission types an admission into the form of the page: the app, the three
// contacts (the security contact's e-mail as given), a channel and two versions, the
// second current.
func fillAdmission(name, pkg, email string) []chromedp.Action[chromedp.Void] {
	return []chromedp.Action[chromedp.Void]{
		chromedp.SendKeys(chromedp.ID("f-name"), name),
		chromedp.SetValue(chromedp.ID("f-platform"), appreg.PlatformHarmonyOS),
		chromedp.SendKeys(chromedp.ID("f-package"), pkg),
		chromedp.SendKeys(chromedp.ID("f-operator"), "Clinic Ltd"),
		chromedp.SendKeys(chromedp.ID("f-purpose"), "video consultations"),
		chromedp.SendKeys(chromedp.ID("contact-security-name"), "Wang"),
		chromedp.SendKeys(chromedp.ID("contact-security-phone"), "13800000001"),
		chromedp.SendKeys(chromedp.ID("contact-security-email"), email),
		chromedp.SendKeys(chromedp.ID("contact-technical-name"), "Li"),
		chromedp.SendKeys(chromedp.ID("contact-technical-phone"), "13800000002"),
		chromedp.SendKeys(chromedp.ID("contact-technical-email"), "tech@a.example"),
		chromedp.SendKeys(chromedp.ID("contact-management-name"), "Zhang"),
		chromedp.SendKeys(chromedp.ID("contact-management-phone"), "13800000003"),
		chromedp.SendKeys(chromedp.ID("contact-management-email"), "mgmt@a.example"),
		chromedp.SendKeys(chromedp.ID("channel-name-0"), "appgallery"),
		chromedp.SendKeys(chromedp.ID("channel-url-0"), "https://appgallery.example/clinic"),
		chromedp.SendKeys(chromedp.ID("version-0"), "1.0"),
		chromedp.SendKeys(chromedp.ID("version-code-0"), "10"),
		chromedp.SendKeys(chromedp.ID("version-1"), "2.0"),
		chromedp.SendKeys(chromedp.ID("version-code-1"), "20"),
		chromedp.SendKeys(chromedp.ID("version-sha256-1"), strings.Repeat("01", 32)),
		chromedp.SendKeys(chromedp.ID("version-signers-1"), strings.Repeat("ab", 32)),
		chromedp.Click(chromedp.ID("version-current-1")),
	}
}

// TestBrowserAppAdmission files an app in a real Chromium as the app operator: from the
// navigation to the form, a bad e-mail address shown at its field (the form keeps what
// was typed), then corrected and accepted: the pending app's page. In Chinese the same
// mistake is explained in Chinese. Screenshots of the list, the form with its error and
// the app in both languages.
func TestBrowserAppAdmission(t *testing.T) {
	execPath := chromiumPath(t)
	e := newTestEnv(t, storetest.Open(t, store.SQLite))
	e.seedApps()
	p := newTab(t, execPath)
	shot := appShots(t, p)
	p.step("sign in as the app operator",
		chromedp.EmulateViewport(1440, 900),
		chromedp.Navigate(e.URL+"/login"),
		chromedp.SendKeys(chromedp.ID("username"), "appops"),
		chromedp.SendKeys(chromedp.ID("password"), testPassword),
		clickAndLoad("login-submit"),
	)
	p.step("open the registry from the navigation", clickAndLoad("nav-apps"))
	if !strings.Contains(p.text("#app-table"), e.AppA.Name) || strings.Contains(p.text("main"), e.AppB.Name) {
		t.Fatalf("the list: %s", p.text("main"))
	}
	shot("list-en")
	p.step("open the form", clickAndLoad("app-new"))
	p.step("fill it in with a bad e-mail", fillAdmission("Cloud clinic", "cn.hospital.a.clinic", "wang-at-a.example")...)
	p.step("submit", clickAndLoad("app-submit"))
	if got := p.text(`[id="err-contacts.email"]`); !strings.Contains(got, "This is not an e-mail address.") {
		t.Errorf("the field error: %q", got)
	}
	if !p.eval(`document.getElementById("contact-security-email").getAttribute("aria-invalid") === "true" &&
		!document.getElementById("contact-technical-email").hasAttribute("aria-invalid") &&
		document.getElementById("err-contacts.email").closest("tr").previousElementSibling.contains(document.getElementById("contact-security-email")) &&
		document.getElementById("contact-security-email").value === "wang-at-a.example" &&
		document.getElementById("f-name").value === "Cloud clinic" && document.getElementById("f-platform").value === "harmonyos" &&
		document.getElementById("version-current-1").checked && location.pathname === "/apps"`) {
		t.Errorf("the form was not shown again as typed: %s", p.text("main"))
	}
	shot("form-error-en")
	p.step("correct the address and submit",
		chromedp.SetValue(chromedp.ID("contact-security-email"), "wang@a.example"),
		clickAndLoad("app-submit"))
	if !p.eval(`/^\/apps\/\d+$/.test(location.pathname)`) || !strings.Contains(p.text("h1"), "Cloud clinic") ||
		!strings.Contains(p.text("#app-status"), "Pending review") || !strings.Contains(p.text(".flash"), "waits for review") {
		t.Fatalf("after filing: %s", p.text("main"))
	}
	if !strings.Contains(p.text("#app-versions-show"), strings.Repeat("ab", 32)) || !strings.Contains(p.text("#app-channels-show"), "appgallery") {
		t.Errorf("the filing on the app's page: %s", p.text("main"))
	}
	shot("pending-en")

	p.step("switch to Chinese", clickAndLoad("lang-zh-CN"))
	if !strings.Contains(p.text("#app-status"), "待审核") || !strings.Contains(p.text("#nav-apps"), "互联网医院应用") {
		t.Errorf("the app in Chinese: %s / %s", p.text("#app-status"), p.text("header"))
	}
	shot("pending-zh-CN")
	p.step("the form in Chinese", chromedp.Navigate(e.URL+"/apps/new"))
	p.step("fill it in with a bad e-mail", fillAdmission("云诊室", "cn.hospital.a.cloud", "wang-at-invalid")...)
	p.step("submit", clickAndLoad("app-submit"))
	if got := p.text(`[id="err-contacts.email"]`); !strings.Contains(got, "这不是电子邮件地址") || !strings.Contains(got, "电子邮箱") {
		t.Errorf("the field error in Chinese: %q", got)
	}
	shot("form-error-zh-CN")
	p.step("the list in Chinese", chromedp.Navigate(e.URL+"/apps"))
	if !strings.Contains(p.text("#app-table"), "待审核") || !strings.Contains(p.text("#app-table"), "已准入") {
		t.Errorf("the list in Chinese: %s", p.text("#app-table"))
	}
	shot("list-zh-CN")
}

// TestBrowserAppScore opens the score page of an app whose channels serve foreign
// builds: the total, the sum of the points lost per type with the capped type marked,
// the grade thresholds and the history chart, in English and in Chinese; then the app's
// page and the periodic report in both languages (screenshots of each).
func TestBrowserAppScore(t *testing.T) {
	execPath := chromiumPath(t)
	e := newTestEnv(t, storetest.Open(t, store.SQLite))
	e.seedApps()
	ctx := context.Background()
	foreign := strings.Repeat("cd", 32)
	for _, ch := range []string{"official-site", "appgallery"} {
		if _, err := e.Apps.Observe(ctx, actor.System(), e.AppA.ID, appreg.Observation{Channel: ch, Version: "1.0", Signer: foreign}); err != nil {
			t.Fatal(err)
		}
	}
	scores, err := e.Apps.Scores(ctx, actor.System(), e.AppA.ID)
	if err != nil || len(scores) < 2 {
		t.Fatalf("scores %v %v", scores, err)
	}
	var res appscore.Result
	if err := json.Unmarshal(scores[len(scores)-1].Details, &res); err != nil {
		t.Fatal(err)
	}
	sum := "100"
	for _, ty := range res.Types {
		sum += fmt.Sprintf(" − %d", ty.Taken)
	}
	sum += fmt.Sprintf(" = %d", res.Score)

	p := newTab(t, execPath)
	shot := appShots(t, p)
	chartsReady := chromedp.Poll[chromedp.Void](`[...document.querySelectorAll('.chart')].every((el) => el.dataset.ready === "1")`,
		chromedp.WithPollingTimeout(20*time.Second))
	p.step("sign in as the security officer",
		chromedp.EmulateViewport(1440, 900),
		chromedp.Navigate(e.URL+"/login"),
		chromedp.SendKeys(chromedp.ID("username"), "secofficer"),
		chromedp.SendKeys(chromedp.ID("password"), testPassword),
		clickAndLoad("login-submit"),
	)
	id := strconv.FormatInt(e.AppA.ID, 10)
	for _, lang := range []struct {
		code, label, capped, consequence, heading string
	}{{"en", res.Types[0].Label.EN, "capped", "Grade C: eviction proposed", "Every point lost"},
		{"zh-CN", res.Types[0].Label.ZhCN, "已封顶", "评级 C：建议下架", "扣分明细"}} {
		if lang.code == "zh-CN" {
			p.step("switch to Chinese", clickAndLoad("lang-zh-CN"))
		}
		p.step("open the app", chromedp.Navigate(e.URL+"/apps/"+id))
		if !strings.Contains(p.text("#app-score"), strconv.Itoa(res.Score)) || !p.eval(`document.querySelectorAll("#app-findings tbody tr").length === 3`) {
			t.Errorf("%s: the app's score and findings: %s", lang.code, p.text("main"))
		}
		shot("app-" + lang.code)
		p.step("open its score page", clickAndLoad("app-score-link"), chartsReady, chromedp.Sleep(1500*time.Millisecond)) // the line's animation
		if got := p.text("#score-value"); got != strconv.Itoa(res.Score) {
			t.Errorf("%s: score %q, want %d", lang.code, got, res.Score)
		}
		if got := p.text("#score-sum"); got != sum {
			t.Errorf("%s: sum %q, want %q", lang.code, got, sum)
		}
		table := p.text("#score-deductions")
		for _, want := range []string{lang.heading, lang.label, lang.capped, fmt.Sprintf("−%d", res.Types[0].Taken), fmt.Sprintf("−%d", res.Lost)} {
			if !strings.Contains(table, want) {
				t.Errorf("%s: the deductions lack %q: %s", lang.code, want, table)
			}
		}
		if got := p.text("#score-action"); got != lang.consequence {
			t.Errorf("%s: consequence %q, want %q", lang.code, got, lang.consequence)
		}
		if !p.eval(`!!window.echarts.getInstanceByDom(document.getElementById("app-score-chart"))`) {
			t.Errorf("%s: the history chart was not drawn", lang.code)
		}
		shot("score-" + lang.code)
		p.step("the report", chromedp.Navigate(e.URL+"/apps/report"), chartsReady, chromedp.Sleep(1500*time.Millisecond)) // the line's animation
		if !p.eval(`document.querySelectorAll("#report-findings tbody tr").length === 2`) {
			t.Errorf("%s: the report's findings: %s", lang.code, p.text("#report-findings"))
		}
		shot("report-" + lang.code)
	}
}

// TestBrowserAppRegion: the regulator opens the apps the hospitals reported from the apps
// navigation, in English and Chinese: the list names both hospitals, one app's page its
// score; the layout stays readable and no script fails.
func TestBrowserAppRegion(t *testing.T) {
	execPath := chromiumPath(t)
	e := newTestEnv(t, storetest.Open(t, store.SQLite))
	idA := e.seedUpstreamReport(e.HospA.ID, "Reported app of A")
	e.seedUpstreamReport(e.HospB.ID, "Bsoft reported app")
	p := newTab(t, execPath)
	shot := appShots(t, p)
	p.step("sign in as the regulator",
		chromedp.EmulateViewport(1440, 900),
		chromedp.Navigate(e.URL+"/login"),
		chromedp.SendKeys(chromedp.ID("username"), "regulator"),
		chromedp.SendKeys(chromedp.ID("password"), testPassword),
		clickAndLoad("login-submit"),
	)
	for _, lang := range []struct{ code, count string }{{"en", "2 apps from 2 hospitals"}, {"zh-CN", "共 2 个应用，来自 2 家医院"}} {
		if lang.code == "zh-CN" {
			p.step("switch to Chinese", clickAndLoad("lang-zh-CN"))
		}
		p.step("open the apps", chromedp.Navigate(e.URL+"/apps"))
		p.step("follow the region's entry", clickAndLoad("apps-nav-region"))
		if got := p.text("#region-count"); got != lang.count {
			t.Errorf("%s: count %q, want %q", lang.code, got, lang.count)
		}
		if tbl := p.text("#region-table"); !strings.Contains(tbl, "Reported app of A") || !strings.Contains(tbl, "Bsoft reported app") {
			t.Errorf("%s: the list: %s", lang.code, tbl)
		}
		shot("region-" + lang.code)
		p.step("open one app", chromedp.Navigate(e.URL+"/region/apps/"+strconv.FormatInt(idA, 10)))
		if got := p.text("#region-score"); !strings.Contains(got, "55 / 100") {
			t.Errorf("%s: score %q", lang.code, got)
		}
		shot("region-app-" + lang.code)
	}
}
