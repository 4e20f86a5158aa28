package web

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/medguard/medguard/internal/alertnotify"
	"github.com/medguard/medguard/internal/assess"
	"github.com/medguard/medguard/internal/demo"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// newDemoEnv is a real server over a database seeded by the demo (every demo login has
// testPassword): the hospital group a first try sees, with its long Chinese organisation
// names, hundreds of assets, real SBOMs and advisories and a patient-data history.
func newDemoEnv(t *testing.T) *testEnv {
	t.Helper()
	// The demo assesses against the embedded catalogues (MLPS level 3, GB/T 39725), as
	// the application does; its data flows are judged today.
	e := newBareEnvCatalogues(t, storetest.Open(t, store.SQLite), assess.ControlCatalogues{})
	e.DataflowNow = time.Now()
	// As the application does: raised alerts write their notifications in the raising
	// transaction, so that the demo's routes fill the outbox and the security officer's bell.
	alertnotify.Wire(e.Alerts, e.Notify)
	_, err := demo.Seed(context.Background(), demo.Deps{DB: e.db, Orgs: e.Orgs, Auth: e.Auth, Assets: e.Assets,
		Vulns: e.Vulns, Supply: e.Supply, DLP: e.DLP, Alerts: e.Alerts, Notify: e.Notify, Events: e.Events, Reference: e.Reference,
		Risks: e.Risks, Incidents: e.Incidents, Plans: e.Plans, Assess: e.Assess, AssessRisks: e.AssessRisks, Policies: e.Policies,
		Training: e.Training, Dataflows: e.Dataflows, Reports: e.Reports, Overview: e.Overview},
		demo.Options{AdminPassword: testPassword, DLPRoot: e.DLPRoot})
	if err != nil {
		t.Fatalf("seed the demo: %v", err)
	}
	return e
}

// chartProblemsJS lists, for every ECharts chart of the page, what a reader cannot read:
// a paged legend, a label cut to "…", a label that leaves the chart, and two labels that
// touch or overlap (overlapping axis labels, run-together ticks such as "100120"). It
// reads ECharts' own state: the option of the instance and the text elements zrender
// laid out and will draw (hidden ones, such as labels hideOverlap dropped, are left out).
const chartProblemsJS = `(() => {
  const out = [];
  const charts = document.querySelectorAll(".chart");
  if (charts.length === 0) { out.push("no chart on the page"); }
  charts.forEach((el) => {
    const c = window.echarts && window.echarts.getInstanceByDom(el);
    if (!c) { out.push(el.id + ": no ECharts instance"); return; }
    const opt = c.getOption();
    (opt.legend || []).forEach((l) => {
      if (l.show !== false && l.type === "scroll") { out.push(el.id + ": the legend is paged (type scroll)"); }
    });
    const W = c.getWidth(), H = c.getHeight();
    const texts = [];
    c.getZr().storage.getDisplayList(true).forEach((d) => {
      if (d.type !== "tspan" || d.invisible || !d.style || !d.style.text) { return; }
      if (d.style.opacity === 0) { return; }
      // Ancestors hidden (e.g. a tooltip) do not draw their children either.
      for (let p = d.parent; p; p = p.parent) { if (p.ignore || p.invisible) { return; } }
      // The text's box turned as it is drawn (rotated axis labels), grown by one pixel
      // each side: two labels closer than two pixels run together.
      const r = d.getBoundingRect(), m = d.transform || [1, 0, 0, 1, 0, 0];
      const pts = [[r.x - 1, r.y - 1], [r.x + r.width + 1, r.y - 1], [r.x + r.width + 1, r.y + r.height + 1], [r.x - 1, r.y + r.height + 1]]
        .map(([x, y]) => [m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5]]);
      texts.push({ s: String(d.style.text), pts: pts, owner: d.parent || d });
    });
    if (texts.length === 0) { out.push(el.id + ": no text drawn"); }
    texts.forEach((t) => {
      if (t.s.endsWith("…") || t.s.endsWith("...")) { out.push(el.id + ": label cut to " + JSON.stringify(t.s)); }
      if (/^\s*\d+\s*\/\s*\d+\s*$/.test(t.s)) { out.push(el.id + ": legend pager " + JSON.stringify(t.s)); }
      const xs = t.pts.map((q) => q[0]), ys = t.pts.map((q) => q[1]);
      if (Math.min(...xs) < -1 || Math.min(...ys) < -1 || Math.max(...xs) > W + 1 || Math.max(...ys) > H + 1) {
        out.push(el.id + ": label " + JSON.stringify(t.s) + " leaves the chart (x " + Math.round(Math.min(...xs)) + "…" +
          Math.round(Math.max(...xs)) + ", y " + Math.round(Math.min(...ys)) + "…" + Math.round(Math.max(...ys)) + " in " + W + "×" + H + ")");
      }
    });
    // Separating axes: two convex boxes are apart when some edge's normal separates them.
    const apart = (a, b) => [a, b].some((poly) => poly.some((p, i) => {
      const q = poly[(i + 1) % poly.length], nx = q[1] - p[1], ny = p[0] - q[0];
      const pa = a.map((v) => v[0] * nx + v[1] * ny), pb = b.map((v) => v[0] * nx + v[1] * ny);
      return Math.max(...pa) <= Math.min(...pb) || Math.max(...pb) <= Math.min(...pa);
    }));
    for (let i = 0; i < texts.length; i++) {
      for (let j = i + 1; j < texts.length; j++) {
        // The lines of one wrapped label are drawn by one text element, one under the other.
        if (texts[i].owner !== texts[j].owner && !apart(texts[i].pts, texts[j].pts)) {
          out.push(el.id + ": labels " + JSON.stringify(texts[i].s) + " and " + JSON.stringify(texts[j].s) + " touch or overlap");
        }
      }
    }
  });
  return out;
})()`

// layoutProblemsJS lists what wraps where it must not: the header (brand, navigation and
// session on one line), tables wider than their card, badges (one line each: "未处\n置" is not), dates and other
// no-wrap cells, and Latin tokens in tables (package names, versions, numbers) broken in
// the middle although they are short enough to be kept whole (up to 240 pixels: only
// longer ones, such as hashes and Go pseudo-versions, may break where a line is full).
const layoutProblemsJS = `(() => {
  const out = [];
  const mid = (e) => { const r = e.getBoundingClientRect(); return r.top + r.height / 2; };
  const header = document.querySelector("header.top");
  const parts = [...header.children, ...header.querySelectorAll("nav.main a, .session > *")];
  const m0 = mid(header.querySelector(".brand"));
  parts.forEach((p) => {
    if (Math.abs(mid(p) - m0) > 4) {
      out.push("header: " + JSON.stringify(p.textContent.trim().slice(0, 30)) + " is not on the brand's line (the header wraps)");
    }
  });
  const lines = (e) => {
    const tops = new Set();
    [...e.getClientRects()].forEach((r) => { if (r.width > 0) { tops.add(Math.round(r.top)); } });
    return tops.size;
  };
  document.querySelectorAll("main .badge").forEach((b) => {
    const lh = parseFloat(getComputedStyle(b).lineHeight) || 18;
    if (b.getBoundingClientRect().height > 1.5 * lh) {
      out.push("badge " + JSON.stringify(b.textContent) + " wraps (" + Math.round(b.getBoundingClientRect().height) + "px high)");
    }
  });
  document.querySelectorAll("main .nowrap, main time").forEach((e) => {
    const rg = document.createRange(); rg.selectNodeContents(e);
    const tops = new Set([...rg.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
    if (tops.size > 1) { out.push("no-wrap text " + JSON.stringify(e.textContent) + " wraps"); }
  });
  document.querySelectorAll("main table").forEach((tb) => {
    const box = tb.parentElement.getBoundingClientRect(), pad = parseFloat(getComputedStyle(tb.parentElement).paddingRight) || 0;
    if (tb.getBoundingClientRect().right > box.right - pad + 1) {
      out.push("table " + JSON.stringify((tb.closest("[id]") || tb).id) + " is wider than its card (" +
        Math.round(tb.getBoundingClientRect().width) + "px in " + Math.round(box.width) + "px)");
    }
    const limit = 240;
    const walk = document.createTreeWalker(tb.tBodies[0] || tb, NodeFilter.SHOW_TEXT);
    for (let n = walk.nextNode(); n; n = walk.nextNode()) {
      const re = /[\x21-\x7e]+/g;
      let m;
      while ((m = re.exec(n.data)) !== null) {
        const rg = document.createRange(); rg.setStart(n, m.index); rg.setEnd(n, m.index + m[0].length);
        const rs = [...rg.getClientRects()].filter((r) => r.width > 0);
        const tops = new Set(rs.map((r) => Math.round(r.top)));
        const w = rs.reduce((s, r) => s + r.width, 0);
        if (tops.size > 1 && w < limit) {
          out.push("table token " + JSON.stringify(m[0]) + " (" + Math.round(w) + "px) is broken over " + tops.size + " lines");
        }
      }
    }
  });
  return out;
})()`

// TestBrowserChartsReadable opens every page that draws ECharts charts — the dashboard,
// the software risk view, the patient-data overview and the monitoring dashboard — over the demo's data, in English
// and in Chinese, at 1440×900 (and the header also at 1280), keeps a screenshot of each
// (in MEDGUARD_SCREENSHOT_DIR, or the test's temporary directory) and fails on every
// label a reader cannot read: paged legends, labels cut to "…", labels leaving the chart
// or running into each other, a wrapping header, badges and dates split over lines and
// short table tokens broken mid-token.
func TestBrowserChartsReadable(t *testing.T) {
	execPath := chromiumPath(t)
	e := newDemoEnv(t)
	p := newTab(t, execPath)
	dir := os.Getenv("MEDGUARD_SCREENSHOT_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	p.step("sign in as the demo administrator",
		chromedp.EmulateViewport(1440, 900),
		chromedp.Navigate(e.URL+"/login"),
		chromedp.SendKeys(chromedp.ID("username"), "admin"),
		chromedp.SendKeys(chromedp.ID("password"), testPassword),
		clickAndLoad("login-submit"),
	)
	pages := []struct{ name, path, first string }{
		{"dashboard", "/", "#asset-kind-chart"},
		{"supply-risk", "/supply", "#supply-severity-chart"},
		{"dlp-overview", "/dlp", "#dlp-type-chart"},
		{"monitor", "/monitor", "#monitor-hour-chart"},
	}
	for _, lang := range []string{"en", "zh-CN"} {
		if lang != "en" {
			p.step("switch to "+lang, clickAndLoad("lang-"+lang))
		}
		for _, pg := range pages {
			where := pg.name + " (" + lang + ")"
			p.step("open "+where, chromedp.EmulateViewport(1440, 900), chromedp.Navigate(e.URL+pg.path),
				chromedp.Poll[chromedp.Void](`document.querySelectorAll('.chart').length > 0 &&
					[...document.querySelectorAll('.chart')].every((el) => el.dataset.ready === "1")`,
					chromedp.WithPollingTimeout(20*time.Second)),
				chromedp.Sleep(300*time.Millisecond), // ECharts' first frame and label layout
			)
			if !p.eval(`document.documentElement.lang === ` + jsString(lang)) {
				t.Fatalf("%s: the page is not in %s", where, lang)
			}
			png, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatalf("%s: screenshot: %v", where, err)
			}
			shot := filepath.Join(dir, "charts-"+pg.name+"-"+lang+".png")
			if err := os.WriteFile(shot, png, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: screenshot %s", where, shot)
			for _, js := range []string{chartProblemsJS, layoutProblemsJS} {
				probs, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]string](js))
				if err != nil {
					t.Fatalf("%s: check: %v", where, err)
				}
				for _, s := range probs {
					t.Errorf("%s at 1440×900: %s", where, s)
				}
			}
			p.noJSErrors(where)
		}
		// The header also fits the common 1280-pixel laptop screen.
		p.step("narrow to 1280 ("+lang+")", chromedp.EmulateViewport(1280, 800), chromedp.Sleep(200*time.Millisecond))
		probs, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]string](layoutProblemsJS))
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range probs {
			if strings.HasPrefix(s, "header") {
				t.Errorf("DLP overview (%s) at 1280×800: %s", lang, s)
			}
		}
	}
}

// jsString quotes s as a JavaScript string literal (s is a test constant).
func jsString(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }
