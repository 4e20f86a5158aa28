package web

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/notify"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// TestBrowserNotifyPages drives a real Chromium: the security officer adds a webhook
// channel through the page, pointing at a loopback receiver, presses "send a test
// message" and sees it sent; the receiver got one correctly signed request; the bell in
// the header shows the unread count. It keeps screenshots of the channel page and the
// inbox with the bell in both languages (MEDGUARD_SCREENSHOT_DIR, else a temporary one).
func TestBrowserNotifyPages(t *testing.T) {
	execPath := chromiumPath(t)
	db := storetest.Open(t, store.SQLite)
	e := newTestEnv(t, db)
	ctx := context.Background()
	recv := &signedReceiver{secret: []byte("hook-secret-42")}
	rs := newLoopback(t, recv)
	runDispatcher(t, e, db)

	// Two alerts for the security officer's inbox: the bell counts them.
	if _, err := e.Notify.AddRoute(ctx, actor.System(), notify.Route{OrgID: e.HospA.ID, UserID: e.Users["secofficer"].ID, Subtree: true}); err != nil {
		t.Fatal(err)
	}
	for i, sev := range []string{"critical", "high"} {
		err := db.InTx(ctx, func(tx *store.Tx) error {
			return e.Notify.Enqueue(ctx, tx, notify.Event{AlertID: int64(900 + i), OrgID: e.HospA.ID, Source: "supply", Kind: "new_vulnerability",
				Severity: sev, Title: i18n.M("notify.test.title"), Created: true})
		})
		if err != nil {
			t.Fatal(err)
		}
	}

	p := newTab(t, execPath)
	step, text, noJSErrors := p.step, p.text, p.noJSErrors
	dir := os.Getenv("MEDGUARD_SCREENSHOT_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", path)
	}

	step("sign in",
		chromedp.Navigate(e.URL+"/login"),
		chromedp.SendKeys(chromedp.ID("username"), "secofficer"),
		chromedp.SendKeys(chromedp.ID("password"), testPassword),
		clickAndLoad("login-submit"),
	)
	step("English", chromedp.Navigate(e.URL+"/notify/channels"), chromedp.WaitVisible(chromedp.ID("channel-rows")))
	if strings.Contains(text("header"), "中文") && !strings.Contains(text("html"), "Notification channels") {
		step("switch to English", clickAndLoad("lang-en"))
	}
	if got := text("#bell-count"); got != "2" {
		t.Errorf("bell count %q, want 2", got)
	}

	step("add a webhook channel",
		chromedp.Click(chromedp.CSS("#channel-new-webhook > summary")),
		chromedp.WaitVisible(chromedp.ID("ch-webhook-name")),
		chromedp.SendKeys(chromedp.ID("ch-webhook-name"), "siem"),
		chromedp.SendKeys(chromedp.ID("ch-webhook-url"), rs+"/in?token=tok-siem"),
		chromedp.SendKeys(chromedp.ID("ch-webhook-secret"), "hook-secret-42"),
		clickAndLoad("channel-create-webhook"),
	)
	c, err := e.Notify.ChannelByName(ctx, actor.System(), "siem")
	if err != nil {
		t.Fatalf("the channel was not added: %v (page: %.300q)", err, text("main"))
	}
	step("send a test message", clickAndLoad("test-"+strconv.FormatInt(c.ID, 10)), chromedp.WaitVisible(chromedp.ID("test-result")))
	if got := text("#test-result"); !strings.Contains(got, "Sent") || !strings.Contains(got, "accepted") {
		t.Errorf("test result: %q", got)
	}
	if got, signed := recv.counts(); got != 1 || signed != 1 {
		t.Errorf("receiver got %d requests, %d correctly signed; want 1, 1", got, signed)
	}
	if row := text("#channel-" + strconv.FormatInt(c.ID, 10)); !strings.Contains(row, "Sent") || strings.Contains(row, "tok-siem") {
		t.Errorf("channel row: %q", row)
	}
	noJSErrors("channels page")
	shot("notify-channels-en.png")
	step("inbox", chromedp.Navigate(e.URL+"/notify/inbox"), chromedp.WaitVisible(chromedp.ID("inbox-rows")))
	shot("notify-inbox-bell-en.png")

	step("switch to Chinese", clickAndLoad("lang-zh-CN"))
	step("channels in Chinese", chromedp.Navigate(e.URL+"/notify/channels"), chromedp.WaitVisible(chromedp.ID("channel-rows")))
	if got := text("#bell"); !strings.Contains(got, "2") {
		t.Errorf("bell in Chinese: %q", got)
	}
	step("test again", clickAndLoad("test-"+strconv.FormatInt(c.ID, 10)), chromedp.WaitVisible(chromedp.ID("test-result")))
	if got := text("#test-result"); !strings.Contains(got, "已发送") {
		t.Errorf("test result in Chinese: %q", got)
	}
	shot("notify-channels-zh.png")
	step("inbox in Chinese", chromedp.Navigate(e.URL+"/notify/inbox"), chromedp.WaitVisible(chromedp.ID("inbox-rows")))
	shot("notify-inbox-bell-zh.png")
	step("routes in Chinese", chromedp.Navigate(e.URL+"/notify/routes"), chromedp.Click(chromedp.CSS("#route-new > summary")),
		chromedp.WaitVisible(chromedp.ID("route-create")))
	shot("notify-routes-zh.png")
	step("outbox in Chinese", chromedp.Navigate(e.URL+"/notify/deliveries"), chromedp.WaitVisible(chromedp.ID("delivery-rows")))
	shot("notify-deliveries-zh.png")
	step("back to the inbox", chromedp.Navigate(e.URL+"/notify/inbox"), chromedp.WaitVisible(chromedp.ID("inbox-rows")))
	step("mark all read", clickAndLoad("inbox-read-all"))
	if ok := p.eval(`document.getElementById("bell-count") === null`); !ok {
		t.Error("the bell still counts after mark all read")
	}
	noJSErrors("inbox")
}
