package web

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// browserTimeout bounds the whole real-browser test, so a hung Chromium stops by itself.
const browserTimeout = 90 * time.Second

// chromiumPath returns the Chromium binary named by MEDGUARD_TEST_CHROMIUM. Without it
// the test is skipped, except under CI, where a missing browser is a failure: the
// browser test must not silently stop running there.
func chromiumPath(t *testing.T) string {
	t.Helper()
	p := os.Getenv("MEDGUARD_TEST_CHROMIUM")
	if p != "" {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("browser test: MEDGUARD_TEST_CHROMIUM is not set, but CI=true requires the real-browser test " +
			"(set MEDGUARD_TEST_CHROMIUM=/usr/bin/chromium)")
	}
	t.Skip("browser test skipped: set MEDGUARD_TEST_CHROMIUM=/usr/bin/chromium")
	return ""
}

// consoleLog collects what the page reports as broken: uncaught exceptions, console
// errors and error entries of the browser log (CSP violations are reported there).
type consoleLog struct {
	mu   sync.Mutex
	errs []string
}

func (c *consoleLog) add(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.errs = append(c.errs, s)
}

// take returns the errors collected so far and forgets them.
func (c *consoleLog) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.errs
	c.errs = nil
	return out
}

// newChromium starts a headless Chromium in a fresh profile and returns a tab context
// bounded by browserTimeout, and the collector of the tab's JavaScript errors.
func newChromium(t *testing.T, execPath string) (context.Context, *consoleLog) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), browserTimeout)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(execPath),
		chromedp.Headless,
		chromedp.NoSandbox, // we run as root in a container
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.Flag("password-store", "basic"),
		chromedp.WindowSize(1280, 1000),
		chromedp.UserDataDir(t.TempDir()),
	)
	tctx, cancelTab := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	// Cleanups run last-in first-out: close the tab, stop Chromium (and wait for it, so
	// the profile directory can be removed), then the timeout.
	t.Cleanup(cancel)
	t.Cleanup(cancelAlloc)
	t.Cleanup(cancelTab)

	// Start the browser and subscribe before the first page loads, so nothing is lost.
	if err := chromedp.Do(tctx); err != nil {
		t.Fatalf("start chromium %s: %v", execPath, err)
	}
	cl := &consoleLog{}
	msgs := chromedp.Console(tctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return // the context ended
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				where := m.URL
				if m.Source != "" {
					where = m.Source + " " + where
				}
				cl.add(string(m.Type) + " [" + where + "]: " + m.Text)
			}
		}
	}()
	return tctx, cl
}

// clickAndLoad clicks the element with id and waits until the page it leads to has
// loaded (a form submission and its redirect end in one load event).
func clickAndLoad(id string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.WaitEvent(cdppage.LoadEventFired, nil, chromedp.Click(chromedp.ID(id)))(ctx, t)
		return err
	})
}

// TestBrowserLoginMFALanguageDashboard drives a real Chromium through sign-in, TOTP
// enrolment, the language switch, the ECharts dashboard and a second sign-in that
// must ask for the second factor, failing on any JavaScript error or CSP violation.
// tab drives one Chromium tab for a test; its helpers fail the test with what went
// wrong.
type tab struct {
	t       *testing.T
	ctx     context.Context
	console *consoleLog
}

func newTab(t *testing.T, execPath string) *tab {
	ctx, console := newChromium(t, execPath)
	return &tab{t: t, ctx: ctx, console: console}
}

// step runs actions and fails the test with the step's name on error.
func (p *tab) step(name string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, actions...); err != nil {
		p.t.Fatalf("%s: %v", name, err)
	}
}

// text returns the text of the element sel selects.
func (p *tab) text(sel string) string {
	p.t.Helper()
	s, err := chromedp.Run(p.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		p.t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// eval evaluates a JavaScript expression of boolean value.
func (p *tab) eval(expr string) bool {
	p.t.Helper()
	ok, err := chromedp.Run(p.ctx, chromedp.Evaluate[bool](expr))
	if err != nil {
		p.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return ok
}

// noJSErrors fails the test for every error the browser reported since the last call.
func (p *tab) noJSErrors(where string) {
	p.t.Helper()
	for _, msg := range p.console.take() {
		p.t.Errorf("%s: browser reported %s", where, msg)
	}
}

func TestBrowserLoginMFALanguageDashboard(t *testing.T) {
	execPath := chromiumPath(t)
	e := newTestEnv(t, storetest.Open(t, store.SQLite))
	p := newTab(t, execPath)
	ctx, step, text, eval, noJSErrors := p.ctx, p.step, p.text, p.eval, p.noJSErrors
	const user = "secofficer"
	if e.Users[user].MFAEnabled {
		t.Fatalf("%s must start without MFA", user)
	}

	location := func() string {
		t.Helper()
		loc, err := chromedp.Run(ctx, chromedp.Location())
		if err != nil {
			t.Fatalf("location: %v", err)
		}
		return strings.TrimPrefix(loc, e.URL)
	}
	login := func() {
		t.Helper()
		step("open /login",
			chromedp.Navigate(e.URL+"/login"),
			chromedp.SendKeys(chromedp.ID("username"), user),
			chromedp.SendKeys(chromedp.ID("password"), testPassword),
			clickAndLoad("login-submit"),
		)
	}

	// 1. Sign in with the password: no second factor yet, straight to the dashboard.
	login()
	if got := location(); got != "/" {
		t.Fatalf("after login: at %q, want the dashboard /", got)
	}
	step("dashboard after login", chromedp.WaitVisible(chromedp.ID("kpi-total")))
	if got := text("#account-link"); !strings.Contains(got, user) {
		t.Errorf("account link %q does not name %s", got, user)
	}
	noJSErrors("login")

	// 2. Enrol TOTP: read the secret, check the QR image really decoded, confirm a code.
	step("open /account/mfa", chromedp.Navigate(e.URL+"/account/mfa"), chromedp.WaitVisible(chromedp.ID("mfa-secret")))
	secret := strings.TrimSpace(text("#mfa-secret"))
	if len(secret) < 16 {
		t.Fatalf("MFA secret %q looks too short", secret)
	}
	if !eval(`(() => { const i = document.getElementById("mfa-qr"); return i.complete && i.naturalWidth > 0 && i.naturalHeight > 0; })()`) {
		src, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("mfa-qr").getAttribute("src").slice(0, 40)`))
		t.Errorf("the MFA QR code image did not load (naturalWidth is 0); its src begins %q", src)
	}
	code, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		t.Fatalf("totp: %v", err)
	}
	step("confirm enrolment", chromedp.SendKeys(chromedp.ID("code"), code), clickAndLoad("mfa-enrol-submit"))
	if !eval(`document.getElementById("recovery-codes") !== null`) {
		t.Fatalf("enrolment refused the current code; the page says: %.400q", text("main"))
	}
	nodes, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSSAll("#recovery-codes li")))
	if err != nil {
		t.Fatalf("recovery codes: %v", err)
	}
	if len(nodes) != 10 {
		t.Errorf("got %d recovery codes, want 10", len(nodes))
	}
	if !eval(`document.getElementById("mfa-status") !== null && document.getElementById("mfa-enrol-form") === null`) {
		t.Error("after enrolment the page must show MFA as enabled and no enrolment form")
	}
	noJSErrors("MFA enrolment")

	// 3. Switch to Chinese with the header button; the choice survives a reload.
	if !eval(`document.documentElement.lang === "en"`) {
		t.Fatal("the page should start in English (<html lang=\"en\">)")
	}
	step("switch to zh-CN", clickAndLoad("lang-zh-CN"), chromedp.WaitVisible(chromedp.CSS("nav.main")))
	assertChinese := func(where string) {
		t.Helper()
		if !eval(`document.documentElement.lang === "zh-CN"`) {
			t.Errorf("%s: <html lang> is not zh-CN", where)
		}
		if nav := text("nav.main"); !strings.Contains(nav, "资产") || strings.Contains(nav, "Assets") {
			t.Errorf("%s: navigation %q is not Chinese", where, nav)
		}
		if eval(`document.getElementById("lang-zh-CN").disabled !== true`) {
			t.Errorf("%s: the zh-CN button should be marked as the current language", where)
		}
	}
	assertChinese("after switching")
	step("reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("nav.main")))
	assertChinese("after reload")
	noJSErrors("language switch")

	// 4. The dashboard draws its ECharts charts, with no script error or CSP violation.
	step("open dashboard", chromedp.Navigate(e.URL+"/"),
		chromedp.Poll[chromedp.Void](`(() => { const el = document.querySelector('#asset-kind-chart[data-ready="1"]');
			const c = el && el.querySelector("canvas"); return !!c && c.width > 0 && c.height > 0; })()`,
			chromedp.WithPollingTimeout(20*time.Second)),
	)
	assertChinese("dashboard")
	if n := eval(`document.querySelectorAll('.chart[data-ready="1"] canvas').length === document.querySelectorAll('.chart').length`); !n {
		t.Error("not every chart container on the dashboard has a rendered canvas")
	}
	if body := text("main"); strings.Contains(body, "dashboard.") || strings.Contains(body, "kind.") {
		t.Errorf("dashboard shows raw i18n keys: %.300q", body)
	}
	noJSErrors("dashboard")

	// 5. Sign out and in again: now the second factor is asked for. The enrolment code's
	// time step is spent, so use the next step (the server accepts ±1 step).
	step("sign out", clickAndLoad("logout"), chromedp.WaitVisible(chromedp.ID("login-form")))
	if got := location(); !strings.HasPrefix(got, "/login") {
		t.Fatalf("after logout: at %q, want /login", got)
	}
	login()
	if got := location(); !strings.HasPrefix(got, "/login/mfa") {
		t.Fatalf("after password with MFA on: at %q, want /login/mfa", got)
	}
	if eval(`document.getElementById("kpi-total") !== null`) {
		t.Fatal("the dashboard is shown before the second factor was checked")
	}
	code2, err := totp.GenerateCode(secret, time.Now().Add(30*time.Second))
	if err != nil {
		t.Fatalf("totp: %v", err)
	}
	step("second factor",
		chromedp.SendKeys(chromedp.ID("code"), code2),
		clickAndLoad("mfa-submit"),
	)
	if got := location(); got != "/" {
		t.Fatalf("after MFA: at %q (error %q), want the dashboard /", got, text("main"))
	}
	step("charts after MFA", chromedp.Poll[chromedp.Void](`document.querySelector('#asset-kind-chart[data-ready="1"] canvas') !== null`,
		chromedp.WithPollingTimeout(20*time.Second)))
	assertChinese("dashboard after second sign-in")
	noJSErrors("second sign-in")

	// 6. Keep a screenshot of the dashboard for a human to look at.
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	dir := os.Getenv("MEDGUARD_SCREENSHOT_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	shot := filepath.Join(dir, "medguard-dashboard.png")
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatalf("save screenshot: %v", err)
	}
	t.Logf("dashboard screenshot: %s", shot)
}

// TestBrowserSupplyPages opens the software risk view as the security officer in a real
// Chromium, checks that every chart is drawn, then runs a gate from a version's page,
// failing on any JavaScript error or CSP violation.
func TestBrowserSupplyPages(t *testing.T) {
	execPath := chromiumPath(t)
	e := newSupplyEnv(t, storetest.Open(t, store.SQLite))
	p := newTab(t, execPath)
	step, text, eval, noJSErrors := p.step, p.text, p.eval, p.noJSErrors

	step("sign in",
		chromedp.Navigate(e.URL+"/login"),
		chromedp.SendKeys(chromedp.ID("username"), "secofficer"),
		chromedp.SendKeys(chromedp.ID("password"), testPassword),
		clickAndLoad("login-submit"),
	)
	step("open the risk view", chromedp.Navigate(e.URL+"/supply"),
		chromedp.Poll[chromedp.Void](`(() => { const el = document.querySelector('#supply-severity-chart[data-ready="1"]');
			const c = el && el.querySelector("canvas"); return !!c && c.width > 0 && c.height > 0; })()`,
			chromedp.WithPollingTimeout(20*time.Second)),
	)
	if !eval(`document.querySelectorAll('.chart').length >= 5 &&
		document.querySelectorAll('.chart[data-ready="1"] canvas').length === document.querySelectorAll('.chart').length`) {
		t.Error("not every chart of the risk view has a rendered canvas")
	}
	if body := text("main"); strings.Contains(body, "supply.") || !strings.Contains(body, "requests") {
		t.Errorf("risk view text: %.400q", body)
	}
	noJSErrors("risk view")

	step("open a version", chromedp.Navigate(e.URL+"/supply/versions/"+strconv.FormatInt(e.VersionA.ID, 10)),
		chromedp.WaitVisible(chromedp.ID("component-rows")))
	step("run the procurement gate", clickAndLoad("gate-procurement"), chromedp.WaitVisible(chromedp.ID("gate-results")))
	if got := text("#gate-results"); !strings.Contains(got, "Failed") {
		t.Errorf("gate results: %.300q", got)
	}
	noJSErrors("version page")
}

func TestBrowserDLPPages(t *testing.T) {
	execPath := chromiumPath(t)
	e := newSupplyEnv(t, storetest.Open(t, store.SQLite))
	p := newTab(t, execPath)
	step, text := p.step, p.text
	step("sign in",
		chromedp.Navigate(e.URL+"/login"),
		chromedp.SendKeys(chromedp.ID("username"), "privacy"),
		chromedp.SendKeys(chromedp.ID("password"), testPassword),
		clickAndLoad("login-submit"),
	)
	step("open the overview", clickAndLoad("nav-dlp"),
		chromedp.Poll[chromedp.Void](`(() => { const el = document.querySelector('#dlp-type-chart[data-ready="1"]');
			const c = el && el.querySelector("canvas"); return !!c && c.width > 0 && c.height > 0; })()`,
			chromedp.WithPollingTimeout(20*time.Second)),
	)
	if body := text("main"); strings.Contains(body, "dlp.") || !strings.Contains(body, "Findings by type") {
		t.Errorf("overview text: %.400q", body)
	}
	step("scan a pasted text", clickAndLoad("dlp-nav-scan"),
		chromedp.SendKeys(chromedp.ID("dlp-text"), dlpNote),
		clickAndLoad("dlp-scan-submit"),
		chromedp.WaitVisible(chromedp.ID("dlp-findings")),
	)
	if got := text("#dlp-findings"); strings.Contains(got, dlpResidentID) || !strings.Contains(got, "440***********1232") {
		t.Errorf("findings table: %.400q", got)
	}
	step("open the seeded scan and reveal", chromedp.Navigate(e.URL+"/dlp/scans/"+strconv.FormatInt(e.DLPScanA.ID, 10)),
		chromedp.WaitVisible(chromedp.ID("dlp-findings")),
		chromedp.SendKeys(chromedp.ID("reveal-reason-"+strconv.FormatInt(e.DLPFindingA.ID, 10)), "浏览器测试"),
		clickAndLoad("reveal-"+strconv.FormatInt(e.DLPFindingA.ID, 10)),
		chromedp.WaitVisible(chromedp.ID("dlp-revealed-value")))
	if got := text("#dlp-revealed-value"); got != dlpResidentID {
		t.Errorf("revealed value: %q", got)
	}
	p.noJSErrors("DLP pages")
}
