package web

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// TestBrowserRuleEdit drives a real Chromium through the rule library: from the
// monitoring dashboard to the rules and the brute-force rule; an edit that names a field
// that does not exist is refused with the parser's message (in English, then in Chinese)
// and the text stays in the form; a valid edit bumps the version and the first stays in
// the history. It keeps screenshots (MEDGUARD_SCREENSHOT_DIR) and fails on JavaScript
// errors (other than the refused edit's 400) and unreadable layout.
func TestBrowserRuleEdit(t *testing.T) {
	execPath := chromiumPath(t)
	e := newTestEnv(t, storetest.Open(t, store.SQLite))
	p := newTab(t, execPath)
	dir := os.Getenv("MEDGUARD_SCREENSHOT_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	// shot keeps a screenshot and checks the layout and the browser's errors; refused is
	// true after a refused edit, whose 400 answer the browser reports as an error.
	shot := func(name string, refused bool) {
		t.Helper()
		png, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("%s: screenshot: %v", name, err)
		}
		f := filepath.Join(dir, "rules-"+name+".png")
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
		for _, msg := range p.console.take() {
			if refused && strings.Contains(msg, "/monitor/rules/brute-force]") && strings.Contains(msg, "status of 400") {
				continue
			}
			t.Errorf("%s: browser reported %s", name, msg)
		}
	}
	bad := builtinYAML(t, "brute-force", "[account, system]", "[account, sytem]")
	good := builtinYAML(t, "brute-force", "count: 5", "count: 6")
	p.step("sign in as the security officer",
		chromedp.EmulateViewport(1440, 900),
		chromedp.Navigate(e.URL+"/login"),
		chromedp.SendKeys(chromedp.ID("username"), "secofficer"),
		chromedp.SendKeys(chromedp.ID("password"), testPassword),
		clickAndLoad("login-submit"),
	)
	p.step("open the rules from the monitoring dashboard", clickAndLoad("nav-monitor"), clickAndLoad("monitor-nav-rules"))
	if !p.eval(`document.querySelectorAll('#rule-table tbody tr').length >= 25`) {
		t.Fatalf("the rule library lists fewer than 25 rules: %s", p.text("main"))
	}
	shot("list-en", false)
	p.step("open the brute-force rule",
		chromedp.Evaluate[chromedp.Void](`document.querySelector('#rule-brute-force a').id = 'open-brute-force'`),
		clickAndLoad("open-brute-force"))
	if v := p.text("#rule-version"); !strings.HasPrefix(v, "v1") {
		t.Fatalf("version before the edits: %q", v)
	}

	p.step("save a rule naming a field that does not exist",
		chromedp.SetValue(chromedp.ID("rule-yaml"), bad), clickAndLoad("rule-save"))
	if msg := p.text(".error"); !strings.Contains(msg, "sytem") || !strings.Contains(msg, "not an event field") {
		t.Errorf("the refusal says %q, want the parser's message naming sytem", msg)
	}
	if !p.eval(`document.getElementById('rule-yaml').value.includes('[account, sytem]')`) {
		t.Errorf("the refused text is not kept in the form")
	}
	if v := p.text("#rule-version"); !strings.HasPrefix(v, "v1") {
		t.Errorf("a refused edit changed the version: %q", v)
	}
	shot("refused-en", true)

	p.step("switch to Chinese and try again", clickAndLoad("lang-zh-CN"),
		chromedp.SetValue(chromedp.ID("rule-yaml"), bad), clickAndLoad("rule-save"))
	if msg := p.text(".error"); !strings.Contains(msg, "不是事件字段") || !strings.Contains(msg, "sytem") {
		t.Errorf("the Chinese refusal says %q", msg)
	}
	shot("refused-zh-CN", true)

	p.step("save a valid edit", chromedp.SetValue(chromedp.ID("rule-yaml"), good), clickAndLoad("rule-save"))
	if v := p.text("#rule-version"); !strings.HasPrefix(v, "v2") {
		t.Errorf("version after the valid edit: %q, want v2", v)
	}
	if !strings.Contains(p.text("#rule-yaml-shown"), "count: 6") || !p.eval(`!!document.querySelector('#rule-history a[href$="version=2"]')`) {
		t.Errorf("the new version is not shown or not in the history: %s", p.text("main"))
	}
	shot("saved-zh-CN", false)
}
