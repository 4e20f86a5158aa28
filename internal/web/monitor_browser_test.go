package web

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// watermarkJS checks the watermark in the browser: it holds want, covers the viewport,
// lets clicks through (the element under the middle of the page is not the watermark)
// and is drawn in print too.
const watermarkJS = `((want) => {
  const wm = document.getElementById("watermark");
  if (!wm) return "no watermark";
  if (!wm.textContent.includes(want)) return "watermark text " + JSON.stringify(wm.textContent);
  const r = wm.getBoundingClientRect();
  if (r.width < innerWidth - 1 || r.height < innerHeight - 1) return "watermark does not cover the page: " + r.width + "x" + r.height;
  const cs = getComputedStyle(wm);
  if (cs.position !== "fixed" || cs.pointerEvents !== "none" || cs.display === "none") return "watermark style " + cs.position + " " + cs.pointerEvents;
  const hit = document.elementFromPoint(innerWidth / 2, innerHeight / 2);
  if (hit && wm.contains(hit)) return "the watermark catches clicks";
  return "";
})`

// TestBrowserMonitorInvestigation drives Chromium through the account investigation
// page and the patient access report in English and Chinese, saving screenshots (under
// MEDGUARD_SCREENSHOT_DIR or a temporary directory) and checking the watermark on
// screen and in print emulation.
func TestBrowserMonitorInvestigation(t *testing.T) {
	execPath := chromiumPath(t)
	e := newTestEnv(t, storetest.Open(t, store.SQLite))
	e.seedMonitor()
	p := newTab(t, execPath)
	dir := os.Getenv("MEDGUARD_SCREENSHOT_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	mark := "privacy · " + time.Now().Format("2006-01-02")
	check := func(name string) {
		t.Helper()
		png, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("%s: screenshot: %v", name, err)
		}
		f := filepath.Join(dir, "monitor-"+name+".png")
		if err := os.WriteFile(f, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot %s (%d bytes)", f, len(png))
		for _, media := range []string{"screen", "print"} {
			p.step(name+": emulate "+media, emulateMedia(media))
			msg, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](watermarkJS+"("+jsString(mark)+")"))
			if err != nil {
				t.Fatal(err)
			}
			if msg != "" {
				t.Errorf("%s (%s): %s", name, media, msg)
			}
		}
		p.step(name+": back to screen", emulateMedia("screen"))
		probs, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]string](layoutProblemsJS))
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range probs {
			t.Errorf("%s: %s", name, s)
		}
		p.noJSErrors(name)
	}
	p.step("sign in as the privacy officer",
		chromedp.EmulateViewport(1440, 900),
		chromedp.Navigate(e.URL+"/login"),
		chromedp.SendKeys(chromedp.ID("username"), "privacy"),
		chromedp.SendKeys(chromedp.ID("password"), testPassword),
		clickAndLoad("login-submit"),
	)
	for _, lang := range []struct {
		code, account, patients, reason string
	}{{"en", "Account investigation", "Patient access report", "same surname and address as the patient"},
		{"zh-CN", "账号调查", "患者访问报告", "同姓且同住址"}} {
		if lang.code == "zh-CN" {
			p.step("switch to Chinese", clickAndLoad("lang-zh-CN"))
		}
		p.step("open the account investigation", chromedp.Navigate(e.URL+"/monitor/accounts/doc1?from=2026-03-01&to=2026-03-31"))
		if h := p.text("h1"); !strings.Contains(h, lang.account) || !strings.Contains(p.text("#monitor-events"), lang.reason) {
			t.Errorf("%s account page: %s / %s", lang.code, h, p.text("main"))
		}
		if !p.eval(`document.querySelectorAll('#monitor-events tbody tr').length === 4 && document.querySelectorAll('#monitor-events .badge.cls-flagged').length === 1`) {
			t.Errorf("%s account page rows: %s", lang.code, p.text("#monitor-events"))
		}
		check("account-" + lang.code)

		p.step("ask for a patient's access report",
			chromedp.Navigate(e.URL+"/monitor/patients"),
			chromedp.SendKeys(chromedp.ID("monitor-patient-id"), monPatient1),
			chromedp.SendKeys(chromedp.ID("monitor-from"), "2026-03-01"),
			chromedp.SendKeys(chromedp.ID("monitor-to"), "2026-03-31"),
			clickAndLoad("monitor-submit"))
		if h := p.text("h1"); !strings.Contains(h, lang.patients) || !strings.Contains(p.text("#monitor-accesses"), "doc1") ||
			!strings.Contains(p.text("#monitor-report"), "****0101") {
			t.Errorf("%s patient report: %s", lang.code, p.text("main"))
		}
		check("patient-" + lang.code)
	}
}

// emulateMedia makes CSS media queries see media ("screen" or "print").
func emulateMedia(media string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: media})
		return err
	})
}
