package web

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// TestBrowserRiskAndIncident drives a real Chromium as the security officer, in English
// and then in Chinese: a supply-chain vulnerability finding becomes a risk in one action
// (its page links back to the risk), the risk is counted in its cell of the heat map and
// listed when the cell is opened; an incident is opened under the hospital's emergency
// plan, detected 3 h 50 min ago so that its 4-hour reporting clock shows the deadline
// warning; the plan's checklist runs for it and its first item is ticked.
func TestBrowserRiskAndIncident(t *testing.T) {
	execPath := chromiumPath(t)
	e := newSupplyEnv(t, storetest.Open(t, store.SQLite))
	p := newTab(t, execPath)
	shot := appShots(t, p)
	p.step("sign in as the security officer",
		chromedp.EmulateViewport(1440, 900),
		chromedp.Navigate(e.URL+"/login"),
		chromedp.SendKeys(chromedp.ID("username"), "secofficer"),
		chromedp.SendKeys(chromedp.ID("password"), testPassword),
		clickAndLoad("login-submit"),
	)
	finding := "/supply/findings/" + strconv.FormatInt(e.FindingA.ID, 10)
	for _, lang := range []struct{ code, warning, done string }{{"en", "deadline close", "✓ secofficer"}, {"zh-CN", "即将到期", "✓ secofficer"}} {
		if lang.code == "zh-CN" {
			p.step("switch to Chinese", clickAndLoad("lang-zh-CN"))
		}
		// The finding → a risk, and back.
		p.step("open the finding", chromedp.Navigate(e.URL+finding))
		p.step("raise a risk from it", clickAndLoad("risk-from-source-submit"))
		title := p.text("h1")
		if !strings.Contains(title, e.FindingA.VulnID) {
			t.Fatalf("%s: the risk raised from the finding: %q", lang.code, title)
		}
		if src := p.text("#risk-sources"); !strings.Contains(src, strconv.FormatInt(e.FindingA.ID, 10)) {
			t.Errorf("%s: the risk's sources: %q", lang.code, src)
		}
		residual := p.text("#risk-residual")
		shot("risk-" + lang.code)
		p.step("back to the finding", chromedp.Navigate(e.URL+finding))
		if link := p.text("#risk-link"); !strings.Contains(link, e.FindingA.VulnID) {
			t.Errorf("%s: the finding does not link to its risk: %q", lang.code, link)
		}
		// The heat map counts it; its cell lists it.
		p.step("open the register", clickAndLoad("nav-risks"))
		if !p.eval(`[...document.querySelectorAll("#heatmap td.hcell a")].length > 0`) {
			t.Fatalf("%s: an empty heat map", lang.code)
		}
		// The residual row reads "L · label I · label level score": its first two digits.
		var digits []string
		for _, f := range strings.Fields(residual) {
			if n, err := strconv.Atoi(f); err == nil && n >= 1 && n <= 6 {
				digits = append(digits, f)
			}
		}
		if len(digits) < 2 {
			t.Fatalf("%s: the residual rating reads %q", lang.code, residual)
		}
		cell := "cell-" + digits[0] + "-" + digits[1]
		if got := p.text("#" + cell); got == "" || got == "·" {
			t.Fatalf("%s: the risk's cell %s counts nothing (%q)", lang.code, cell, got)
		}
		shot("heatmap-" + lang.code)
		p.step("open its cell", chromedp.Click(chromedp.CSS("#"+cell+" a")), chromedp.Sleep(300*time.Millisecond))
		if tbl := p.text("#risk-table"); !strings.Contains(tbl, e.FindingA.VulnID) {
			t.Errorf("%s: the cell's list: %q", lang.code, tbl)
		}
		// An incident under the plan, its clock nearly run out.
		p.step("open the plan", chromedp.Navigate(e.URL+"/plans/"+strconv.FormatInt(e.PlanA.ID, 10)))
		p.step("open an incident under it", clickAndLoad("plan-open-incident"))
		detected := time.Now().Add(-3*time.Hour - 50*time.Minute).Format("2006-01-02T15:04")
		p.step("fill in the incident",
			chromedp.SendKeys(chromedp.ID("f-title"), "Ransomware on the PACS archive "+lang.code),
			chromedp.SetValue(chromedp.ID("f-category"), "malware"),
			chromedp.SetValue(chromedp.ID("f-level"), "large"),
			chromedp.SetValue(chromedp.ID("f-detected"), detected),
			clickAndLoad("incident-form-submit"))
		if !p.eval(`!!document.querySelector("#incident-clock-warning")`) {
			t.Fatalf("%s: no deadline warning: %q", lang.code, p.text("main"))
		}
		if got := p.text("#incident-clock-warning"); got != lang.warning {
			t.Errorf("%s: the warning says %q, want %q", lang.code, got, lang.warning)
		}
		if !p.eval(`document.querySelectorAll("table.checklist tbody tr").length > 5`) {
			t.Fatalf("%s: the plan's checklist does not run for the incident", lang.code)
		}
		p.step("tick the first item", chromedp.Click(chromedp.CSS("table.checklist tbody tr:first-child button")), chromedp.Sleep(300*time.Millisecond),
			chromedp.WaitVisible(chromedp.ID("incident-clock")))
		if !p.eval(`document.querySelector("table.checklist tbody tr:first-child").classList.contains("done")`) {
			t.Errorf("%s: the first item is not ticked", lang.code)
		}
		if got := p.text("table.checklist tbody tr:first-child"); !strings.Contains(got, lang.done) {
			t.Errorf("%s: the ticked item says %q", lang.code, got)
		}
		shot("incident-" + lang.code)
	}
}
