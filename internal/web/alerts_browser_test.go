package web

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserAlertInboxAndCase drives a real Chromium through the demo's alert inbox:
// filter it, tick two alerts and put them into a new case, open the case, move it to
// investigating, comment, and find both in the timeline. It keeps screenshots of the
// inbox and the case in English and Chinese (in MEDGUARD_SCREENSHOT_DIR, or the test's
// temporary directory) and fails on JavaScript errors and unreadable layout.
func TestBrowserAlertInboxAndCase(t *testing.T) {
	execPath := chromiumPath(t)
	e := newDemoEnv(t)
	p := newTab(t, execPath)
	dir := os.Getenv("MEDGUARD_SCREENSHOT_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("%s: screenshot: %v", name, err)
		}
		f := filepath.Join(dir, "alerts-"+name+".png")
		if err := os.WriteFile(f, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot %s", f)
		probs, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]string](layoutProblemsJS))
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range probs {
			t.Errorf("%s: %s", name, s)
		}
		p.noJSErrors(name)
	}
	chartsReady := chromedp.Poll[chromedp.Void](`[...document.querySelectorAll('.chart')].every((el) => el.dataset.ready === "1")`,
		chromedp.WithPollingTimeout(20*time.Second))
	p.step("sign in as the demo administrator",
		chromedp.EmulateViewport(1440, 900),
		chromedp.Navigate(e.URL+"/login"),
		chromedp.SendKeys(chromedp.ID("username"), "admin"),
		chromedp.SendKeys(chromedp.ID("password"), testPassword),
		clickAndLoad("login-submit"),
	)
	p.step("open the inbox from the navigation", clickAndLoad("nav-alerts"), chartsReady, chromedp.Sleep(300*time.Millisecond))
	if !p.eval(`document.querySelectorAll('#alert-table tbody tr').length >= 2`) {
		t.Fatalf("the demo inbox shows fewer than two alerts")
	}
	shot("inbox-en")

	p.step("filter: open patient-data alerts",
		chromedp.SetValue(chromedp.ID("filter-source"), "dlp"),
		chromedp.SetValue(chromedp.ID("filter-status"), "open"),
		clickAndLoad("filter-submit"))
	if !p.eval(`location.search.includes("source=dlp") && document.querySelectorAll('#alert-table tbody tr').length >= 2`) {
		t.Fatalf("filtered inbox: %s", p.text("main"))
	}
	// Tick the first two alerts that are in no case yet.
	ticked, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#alert-table tbody tr')]
		.filter((tr) => !tr.querySelector('td:last-child a')).slice(0, 2)
		.map((tr) => { tr.querySelector('input[name=ids]').click(); return tr.id; })`))
	if err != nil || len(ticked) != 2 {
		t.Fatalf("tick two alerts: %v %v", ticked, err)
	}
	p.step("put them into a new case",
		chromedp.SendKeys(chromedp.ID("bulk-case-title"), "Browser test case"),
		clickAndLoad("bulk-new-case"))
	if !p.eval(`location.pathname.startsWith("/cases/")`) || !strings.Contains(p.text("h1"), "Browser test case") {
		t.Fatalf("after creating the case: %s", p.text("main"))
	}
	for _, row := range ticked {
		if !p.eval(`!!document.getElementById(` + jsString("case-"+row) + `)`) {
			t.Errorf("the case does not list %s", row)
		}
	}
	p.step("move it to investigating", clickAndLoad("case-to-investigating"))
	if got := p.text("#case-status"); !strings.Contains(got, "Investigating") {
		t.Errorf("status after the move: %q", got)
	}
	p.step("comment",
		chromedp.SendKeys(chromedp.ID("case-comment"), "Ward informed; sender re-trained."),
		clickAndLoad("case-comment-submit"))
	tl := p.text("#case-timeline")
	for _, want := range []string{"Case created", "Status changed", "Comment", "Ward informed; sender re-trained."} {
		if !strings.Contains(tl, want) {
			t.Errorf("the timeline lacks %q: %s", want, tl)
		}
	}
	if !p.eval(`(() => { const li = [...document.querySelectorAll('#case-timeline li')].map((l) => l.className);
		return li.indexOf("tl-case_create") < li.indexOf("tl-case_status") && li.indexOf("tl-case_status") < li.indexOf("tl-comment"); })()`) {
		t.Errorf("the timeline is not in time order: %s", tl)
	}
	shot("case-en")

	p.step("switch to Chinese", clickAndLoad("lang-zh-CN"))
	if !p.eval(`document.documentElement.lang === "zh-CN"`) || !strings.Contains(p.text("#case-timeline"), "备注") {
		t.Errorf("the case in Chinese: %s", p.text("#case-timeline"))
	}
	shot("case-zh-CN")
	p.step("the inbox in Chinese", chromedp.Navigate(e.URL+"/alerts"), chartsReady, chromedp.Sleep(300*time.Millisecond))
	shot("inbox-zh-CN")
	p.step("one alert in Chinese", chromedp.Navigate(e.URL+"/alerts/1"))
	shot("alert-zh-CN")
	p.step("the silences in Chinese", chromedp.Navigate(e.URL+"/silences"))
	shot("silences-zh-CN")
}
