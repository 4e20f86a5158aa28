package web

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// TestBrowserOverview opens the overview (the home page) of hospital A in English and in
// Chinese: every chart (the compliance progress of its seeded assessment among them) is
// an ECharts instance drawing on a canvas of non-zero size, no
// script fails, a screenshot of each language is kept (MEDGUARD_SCREENSHOT_DIR, or the
// test's temporary directory), and a click on a bar of the findings chart opens the
// alert list filtered as the bar counts.
func TestBrowserOverview(t *testing.T) {
	execPath := chromiumPath(t)
	e := newSupplyEnv(t, storetest.Open(t, store.SQLite))
	p := newTab(t, execPath)
	dir := os.Getenv("MEDGUARD_SCREENSHOT_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	p.step("sign in as hospital A's security officer",
		chromedp.EmulateViewport(1440, 900),
		chromedp.Navigate(e.URL+"/login"),
		chromedp.SendKeys(chromedp.ID("username"), roleUser["security_officer"]),
		chromedp.SendKeys(chromedp.ID("password"), testPassword),
		clickAndLoad("login-submit"),
	)
	const rendered = `(() => { const cs = [...document.querySelectorAll('.chart')].filter((el) => el.id.startsWith('overview-'));
	  return cs.length >= 6 && cs.every((el) => { const c = window.echarts && window.echarts.getInstanceByDom(el);
	    const cv = el.querySelector('canvas'); return el.dataset.ready === "1" && c && cv && cv.width > 0 && cv.height > 0; }); })()`
	for _, lang := range []string{"en", "zh-CN"} {
		if lang != "en" {
			p.step("switch to "+lang, clickAndLoad("lang-"+lang))
		}
		p.step("open the overview ("+lang+")", chromedp.Navigate(e.URL+"/"), chromedp.WaitVisible(chromedp.ID("overview-score")),
			chromedp.Poll[chromedp.Void](rendered, chromedp.WithPollingTimeout(20*time.Second)),
			chromedp.Sleep(300*time.Millisecond))
		if !p.eval(`document.documentElement.lang === ` + jsString(lang)) {
			t.Fatalf("the overview is not in %s", lang)
		}
		for _, id := range []string{"overview-trend-chart", "overview-findings-chart", "overview-risks-chart", "overview-apps-chart", "overview-privacy-chart",
			"overview-compliance-chart"} {
			if !p.eval(`!!document.getElementById(` + jsString(id) + `)`) {
				t.Errorf("%s: no chart %s", lang, id)
			}
		}
		png, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		shot := filepath.Join(dir, "overview-"+lang+".png")
		if err := os.WriteFile(shot, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot %s", shot)
		p.noJSErrors("overview (" + lang + ")")
	}
	// A click on a bar of the findings chart opens the list its link names.
	want, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](`(() => {
	  const el = document.getElementById('overview-findings-chart'), c = echarts.getInstanceByDom(el);
	  const spec = JSON.parse(document.getElementById(el.dataset.chart).textContent), opt = c.getOption();
	  for (let s = 0; s < opt.series.length; s++) {
	    const data = c.getModel().getSeriesByIndex(s).getData();
	    for (let i = 0; i < data.count(); i++) {
	      const l = data.getItemLayout(i);
	      if (data.get('y', i) > 0 || (l && Math.abs(l.height) > 2 && data.getRawValue(i) > 0)) {
	        const x = l.x + l.width / 2, y = l.y + l.height / 2;
	        el.scrollIntoView({block: "center"});
	        const r = el.getBoundingClientRect();
	        window.__click = [r.left + x, r.top + y];
	        return spec.links[opt.series[s].name + "/" + opt.xAxis[0].data[i]];
	      }
	    }
	  }
	  return "";
	})()`))
	if err != nil || want == "" {
		t.Fatalf("no bar to click on the findings chart (%v)", err)
	}
	xy, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]float64](`window.__click`))
	if err != nil || len(xy) != 2 {
		t.Fatalf("bar position: %v", err)
	}
	p.step("click the bar", chromedp.MouseClickXY(xy[0], xy[1]))
	p.step("the list opens", chromedp.Sleep(time.Second), chromedp.WaitReady("body"))
	href, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](`location.pathname + location.search`))
	if err != nil || href != want {
		t.Errorf("the click opened %q (%v), want %q", href, err, want)
	}
}
