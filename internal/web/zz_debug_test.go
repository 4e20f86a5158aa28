package web

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

func TestZZDebug(t *testing.T) {
	e := newTestEnv(t, storetest.Open(t, store.SQLite))
	ctx, _ := newChromium(t, "/usr/bin/chromium")
	t0 := time.Now()
	err := chromedp.Do(ctx, chromedp.Navigate(e.URL+"/login"),
		chromedp.SendKeys(chromedp.ID("username"), "secofficer"),
		chromedp.SendKeys(chromedp.ID("password"), testPassword),
		clickAndLoad("login-submit"))
	t.Log(time.Since(t0), err)
	err = chromedp.Do(ctx, chromedp.Navigate(e.URL+"/account/mfa"))
	t.Log(time.Since(t0), err)
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { const i = document.getElementById("mfa-qr"); return i.src.slice(0,60) + " len=" + i.src.length + " complete=" + i.complete + " nw=" + i.naturalWidth; })()`))
	t.Log(time.Since(t0), s, err)
	time.Sleep(2 * time.Second)
	s, err = chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { const i = document.getElementById("mfa-qr"); return i.src.slice(0,60) + " len=" + i.src.length + " complete=" + i.complete + " nw=" + i.naturalWidth + " " + document.getElementById("code").getBoundingClientRect().top; })()`))
	t.Log(time.Since(t0), s, err)
	secret, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("mfa-secret")))
	code, _ := totp.GenerateCode(secret, time.Now())
	t.Log("secret", len(secret))
	err = chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("code"), code), clickAndLoad("mfa-enrol-submit"))
	t.Log(time.Since(t0), "submit", err)
	s, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	t.Log(time.Since(t0), s, err)
}
