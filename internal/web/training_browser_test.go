package web

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// TestBrowserTrainingExam drives a real Chromium through an exam in Chinese as an app
// operator: the paper (radio buttons, no answers), one answer a question, submit, the
// result with the right answers and explanations. It keeps screenshots of both (in
// MEDGUARD_SCREENSHOT_DIR, or the test's temporary directory) and fails on JavaScript
// errors and unreadable layout.
func TestBrowserTrainingExam(t *testing.T) {
	execPath := chromiumPath(t)
	e := newSupplyEnv(t, storetest.Open(t, store.SQLite))
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
		f := filepath.Join(dir, "training-"+name+".png")
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
	p.step("sign in as the app operator",
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(e.URL+"/login"),
		chromedp.SendKeys(chromedp.ID("username"), "appops"),
		chromedp.SendKeys(chromedp.ID("password"), testPassword),
		clickAndLoad("login-submit"),
		clickAndLoad("lang-zh-CN"),
	)
	p.step("my training", chromedp.Navigate(e.URL+"/training/mine"))
	p.step("the exam", clickAndLoad("mine-exam-"+strconv.FormatInt(e.TrainingCourseA.ID, 10)), clickAndLoad("exam-start"))
	if !p.eval(`document.querySelectorAll('#exam-form input[type=radio]').length >= 4 && !document.body.innerText.includes("SECRET-EXPLANATION")`) {
		t.Fatalf("the paper: %s", p.text("main"))
	}
	shot("exam-zh")
	if !p.eval(`[...document.querySelectorAll('#exam-form fieldset')].every((f) => { f.querySelector('input').click(); return true; })`) {
		t.Fatal("answer each question")
	}
	p.step("submit", clickAndLoad("exam-submit"))
	if !p.eval(`!!document.getElementById("exam-score") && document.body.innerText.includes("SECRET-EXPLANATION") && document.body.innerText.includes("正确答案")`) {
		t.Fatalf("the result: %s", p.text("main"))
	}
	shot("result-zh")
}
