package web

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/lease"
	"github.com/medguard/medguard/internal/notify"
	"github.com/medguard/medguard/internal/notify/channel"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// signedReceiver is a loopback webhook receiver that checks each request's signature.
type signedReceiver struct {
	secret []byte
	mu     sync.Mutex
	got    int
	signed int
}

func (r *signedReceiver) ServeHTTP(w http.ResponseWriter, q *http.Request) {
	body, _ := io.ReadAll(q.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got++
	if q.Header.Get(channel.HeaderSignature) == channel.Sign(r.secret, q.Header.Get(channel.HeaderTimestamp), body) &&
		strings.HasPrefix(q.Header.Get(channel.HeaderDelivery), "mgd-") {
		r.signed++
	}
}

func (r *signedReceiver) counts() (int, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.got, r.signed
}

// runDispatcher runs the notification dispatcher of e for the rest of the test, holding
// its lease as a server does.
func runDispatcher(t *testing.T, e *testEnv, db *store.DB) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	m := lease.New(db, lease.NewHolder(), 0, nil)
	if ok, err := m.Acquire(ctx, notify.LeaseName); err != nil || !ok {
		t.Fatalf("dispatcher lease: %v %v", ok, err)
	}
	done := make(chan struct{})
	go func() { e.Notify.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

var locationOutcome = regexp.MustCompile(`^/notify/channels\?outcome=[A-Za-z0-9_-]+#test-result$`)

// TestNotifyPages: the notification pages of hospital A's security officer: a webhook
// channel added through the form, its test message sent (signed) and shown as sent, a
// failing e-mail form that keeps what was typed but never the password, a route with
// quiet hours, the outbox without hospital B's dead letter (which B re-sends from its
// page), and the bell and inbox of a user a route sends alerts to.
func TestNotifyPages(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db)
		ctx := context.Background()
		recv := &signedReceiver{secret: []byte("hook-secret-42")}
		rs := httptest.NewServer(recv)
		t.Cleanup(rs.Close)
		runDispatcher(t, e, db)

		b := e.newBrowser()
		b.login("secofficer")
		code, body, _ := b.get("/notify/channels")
		if code != 200 || !strings.Contains(body, "duty-a") {
			t.Fatalf("channels page: %d %.500s", code, body)
		}
		if _, acct, _ := b.get("/account"); !strings.Contains(acct, `id="nav-notify"`) {
			t.Error("the account page has no entry for the notification settings")
		}
		for _, bad := range []string{"tok-duty-a", "s3cret-duty-a", notifyChanBName} {
			if strings.Contains(body, bad) {
				t.Errorf("channels page shows %q", bad)
			}
		}

		// Add a webhook channel through the form.
		code, _, h := b.post("/notify/channels", url.Values{"kind": {"webhook"}, "name": {"siem"}, "org_id": {strconv.FormatInt(e.HospA.ID, 10)},
			"url": {rs.URL + "/in?token=tok-siem"}, "secret": {"hook-secret-42"}, "lang": {"en"}})
		if code != http.StatusSeeOther || !strings.Contains(h.Get("Location"), "flash.notify_channel_added") {
			t.Fatalf("add channel: %d %q", code, h.Get("Location"))
		}
		chs, err := e.Notify.Channels(ctx, actor.System())
		if err != nil {
			t.Fatal(err)
		}
		var siem notify.Channel
		for _, c := range chs {
			if c.Name == "siem" {
				siem = c
			}
		}
		if siem.ID == 0 || !siem.HasSecret {
			t.Fatalf("the channel was not stored with its secret: %+v", siem)
		}
		_, body, _ = b.get("/notify/channels")
		if !strings.Contains(body, rs.URL+"/in") || strings.Contains(body, "tok-siem") || strings.Contains(body, "hook-secret-42") {
			t.Errorf("the list shows the channel's token or secret, or not its address")
		}

		// Send a test message: the page shows it sent, the receiver got it signed.
		code, _, h = b.post("/notify/channels/"+strconv.FormatInt(siem.ID, 10)+"/test", nil)
		if code != http.StatusSeeOther || !locationOutcome.MatchString(h.Get("Location")) {
			t.Fatalf("test message: %d %q", code, h.Get("Location"))
		}
		_, body, _ = b.get(strings.TrimSuffix(h.Get("Location"), "#test-result"))
		if !strings.Contains(body, `notify-test-sent`) || !strings.Contains(body, "mgd-") {
			t.Fatalf("test result not shown as sent: %.2000s", body[strings.Index(body, "<main>"):])
		}
		if got, signed := recv.counts(); got != 1 || signed != 1 {
			t.Errorf("receiver got %d requests, %d correctly signed; want 1, 1", got, signed)
		}

		// A receiver that refuses: the page shows the failure and its reason.
		gone := newLoopback(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusGone) }))
		gc, err := e.Notify.AddChannel(ctx, actor.System(), notify.ChannelInput{OrgID: e.HospA.ID, Name: "gone", Kind: "webhook", URL: gone})
		if err != nil {
			t.Fatal(err)
		}
		_, _, h = b.post("/notify/channels/"+strconv.FormatInt(gc.ID, 10)+"/test", nil)
		_, body, _ = b.get(strings.TrimSuffix(h.Get("Location"), "#test-result"))
		if !strings.Contains(body, `notify-test-failed`) || !strings.Contains(body, "410") {
			t.Errorf("a refused test message is not shown failed with its reason")
		}

		// A test to hospital B's channel is not found.
		if code, _, _ := b.post("/notify/channels/"+strconv.FormatInt(e.NotifyChanB.ID, 10)+"/test", nil); code != http.StatusNotFound {
			t.Errorf("test to hospital B's channel: %d", code)
		}

		// An e-mail channel without recipients: the form stays open with what was typed,
		// never the password.
		code, body, _ = b.post("/notify/channels", url.Values{"kind": {"smtp"}, "name": {"mail"}, "smtp_host": {"mail.example.org"},
			"smtp_port": {"587"}, "smtp_starttls": {"true"}, "smtp_username": {"medguard"}, "smtp_password": {"pw-never-shown"},
			"smtp_from": {"medguard@example.org"}})
		if code != http.StatusBadRequest || !strings.Contains(body, `id="channel-new-smtp" open`) || !strings.Contains(body, `value="mail.example.org"`) {
			t.Fatalf("bad e-mail form: %d", code)
		}
		if strings.Contains(body, "pw-never-shown") {
			t.Error("the failed form shows the password")
		}

		// A route to a user with quiet hours.
		code, _, h = b.post("/notify/routes", url.Values{"org_id": {strconv.FormatInt(e.HospA.ID, 10)}, "user_id": {strconv.FormatInt(e.Users["appops"].ID, 10)},
			"source": {"supply"}, "min_severity": {"high"}, "subtree": {"true"}, "quiet_start": {"22:00"}, "quiet_end": {"07:00"}, "time_zone": {"Asia/Shanghai"}})
		if code != http.StatusSeeOther {
			t.Fatalf("add route: %d %q", code, h.Get("Location"))
		}
		_, body, _ = b.get("/notify/routes")
		if !strings.Contains(body, "22:00–07:00") || !strings.Contains(body, "appops") {
			t.Errorf("routes page does not show the route")
		}
		if code, body, _ := b.post("/notify/routes", url.Values{"channel_id": {strconv.FormatInt(siem.ID, 10)}, "quiet_start": {"25:99"}, "quiet_end": {"07:00"}}); code != http.StatusBadRequest || !strings.Contains(body, `id="rt-qs" name="quiet_start" value="" aria-invalid="true"`) {
			t.Errorf("bad quiet hours: %d", code)
		}
		if code, _, _ := b.post("/notify/routes", url.Values{"channel_id": {strconv.FormatInt(e.NotifyChanB.ID, 10)}}); code != http.StatusNotFound {
			t.Errorf("route to hospital B's channel: %d", code)
		}

		// The outbox: A's sent test, not B's dead letter.
		_, body, _ = b.get("/notify/deliveries")
		if !strings.Contains(body, "siem") || strings.Contains(body, `id="delivery-`+strconv.FormatInt(e.NotifyDeadB, 10)+`"`) || strings.Contains(body, notifyChanBName) {
			t.Errorf("deliveries page: A's test missing or B's dead letter shown")
		}
		if code, _, _ := b.get("/notify/deliveries?state=lost"); code != http.StatusBadRequest {
			t.Errorf("unknown state: %d", code)
		}
		bb := e.newBrowser()
		bb.login("secofficer_b")
		_, body, _ = bb.get("/notify/deliveries?state=dead")
		if !strings.Contains(body, `id="resend-`+strconv.FormatInt(e.NotifyDeadB, 10)+`"`) {
			t.Errorf("B's dead letter has no send-again button")
		}
		if code, _, _ := bb.post("/notify/deliveries/"+strconv.FormatInt(e.NotifyDeadB, 10)+"/resend", nil); code != http.StatusSeeOther {
			t.Errorf("B re-sends its dead letter: %d", code)
		}

		// The bell and the inbox of the user the route sends to.
		err = db.InTx(ctx, func(tx *store.Tx) error {
			return e.Notify.Enqueue(ctx, tx, notify.Event{AlertID: 4242, OrgID: e.HospA.ID, Source: "supply", Kind: "new_vulnerability",
				Severity: "critical", Title: i18n.M("notify.test.title"), Created: true})
		})
		if err != nil {
			t.Fatal(err)
		}
		ub := e.newBrowser()
		ub.login("appops")
		_, body, _ = ub.get("/account")
		if !strings.Contains(body, `id="bell-count">1<`) {
			t.Fatalf("the bell shows no unread count")
		}
		_, body, _ = ub.get("/notify/inbox")
		if !strings.Contains(body, `href="/alerts/4242"`) {
			t.Fatalf("the inbox does not link the alert")
		}
		m := regexp.MustCompile(`name="id" value="(\d+)"`).FindStringSubmatch(body)
		if m == nil {
			t.Fatal("no mark-read button")
		}
		if code, _, _ := ub.post("/notify/inbox/read", url.Values{"id": {m[1]}}); code != http.StatusSeeOther {
			t.Fatalf("mark read: %d", code)
		}
		_, body, _ = ub.get("/account")
		if strings.Contains(body, `id="bell-count"`) {
			t.Error("the bell still shows a count after mark read")
		}
	})
}

// TestDemoNotifyPages: a newcomer to the demo finds configured channels and routes, and
// the security officer's bell counts the high and critical alerts the demo raised, each
// linked from the inbox.
func TestDemoNotifyPages(t *testing.T) {
	e := newDemoEnv(t)
	b := e.newBrowser()
	b.login("secofficer")
	_, body, _ := b.get("/notify/channels")
	for _, want := range []string{"信息科安全值班群", "信息科安全邮箱", "qyapi.weixin.demo.invalid/cgi-bin/webhook/send", "smtp://mail.hospital.demo.invalid:587"} {
		if !strings.Contains(body, want) {
			t.Errorf("demo channels page lacks %q", want)
		}
	}
	if strings.Contains(body, "demo-robot-key") || strings.Contains(body, "demo-mail-password") {
		t.Error("demo channels page shows a token or password")
	}
	_, body, _ = b.get("/notify/routes")
	if n := strings.Count(body, `<tr id="route-`); n != 5 {
		t.Errorf("demo routes page lists %d routes, want 5", n)
	}
	m := regexp.MustCompile(`id="bell-count">(\d+)\+?<`).FindStringSubmatch(body)
	if m == nil || m[1] == "0" {
		t.Fatalf("the security officer's bell shows no unread count")
	}
	_, body, _ = b.get("/notify/inbox")
	if !strings.Contains(body, `href="/alerts/`) || !strings.Contains(body, "sev-critical") && !strings.Contains(body, "sev-high") {
		t.Errorf("the demo inbox lists no high or critical alert")
	}
}

// newLoopback serves h on a loopback address for the rest of the test and returns its URL.
func newLoopback(t *testing.T, h http.Handler) string {
	t.Helper()
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s.URL
}

// TestNotifyTestQueued: with no process dispatching, a test message is shown queued at
// once (it waits in the outbox), and the page says so rather than waiting.
func TestNotifyTestQueued(t *testing.T) {
	e := newTestEnv(t, storetest.Open(t, store.SQLite))
	b := e.newBrowser()
	b.login("secofficer")
	b.get("/notify/channels")
	code, _, h := b.post("/notify/channels/"+strconv.FormatInt(e.NotifyChanA.ID, 10)+"/test", nil)
	if code != http.StatusSeeOther {
		t.Fatalf("test message: %d", code)
	}
	_, body, _ := b.get(strings.TrimSuffix(h.Get("Location"), "#test-result"))
	if !strings.Contains(body, `notify-test-queued`) {
		t.Errorf("the test message is not shown queued")
	}
}

// TestNotifySubscriptionPages: the inbox page lists the user's own subscriptions with a
// form to add one and a button to remove each; another user's is 404. The routes page
// removes a route; the channels page disables and enables a channel.
func TestNotifySubscriptionPages(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db)
		id := func(n int64) string { return strconv.FormatInt(n, 10) }
		b := e.newBrowser()
		b.login("appops")
		code, body, _ := b.get("/notify/inbox")
		if code != http.StatusOK || !strings.Contains(body, `id="sub-form"`) || !strings.Contains(body, `id="sub-empty"`) {
			t.Fatalf("inbox page: %d, no subscription form or empty note", code)
		}
		if code, _, _ := b.post("/notify/subscriptions", url.Values{"source": {"supply"}, "min_severity": {"high"}}); code != http.StatusSeeOther {
			t.Fatalf("subscribe: %d", code)
		}
		if code, _, _ := b.post("/notify/subscriptions", url.Values{"source": {"nosuch"}}); code != http.StatusBadRequest {
			t.Errorf("subscribe to an unknown source: %d, want 400", code)
		}
		subs, err := e.Notify.Subscriptions(context.Background(), e.Users["appops"].Actor(""))
		if err != nil || len(subs) != 1 {
			t.Fatalf("subscriptions %+v %v", subs, err)
		}
		_, body, _ = b.get("/notify/inbox")
		if !strings.Contains(body, `id="sub-`+id(subs[0].ID)+`"`) || !strings.Contains(body, `id="unsub-`+id(subs[0].ID)+`"`) {
			t.Errorf("the inbox page does not list the subscription")
		}
		if code, _, _ := b.post("/notify/subscriptions/"+id(e.NotifySubB)+"/remove", nil); code != http.StatusNotFound {
			t.Errorf("remove another user's subscription: %d, want 404", code)
		}
		if code, _, _ := b.post("/notify/subscriptions/"+id(subs[0].ID)+"/remove", nil); code != http.StatusSeeOther {
			t.Errorf("remove own subscription: %d", code)
		}
		if _, body, _ = b.get("/notify/inbox"); strings.Contains(body, `id="sub-`+id(subs[0].ID)+`"`) {
			t.Errorf("the removed subscription is still listed")
		}

		s := e.newBrowser()
		s.login("secofficer")
		if _, body, _ = s.get("/notify/routes"); !strings.Contains(body, `id="remove-route-`+id(e.NotifyRouteA)+`"`) {
			t.Errorf("the routes page has no remove button")
		}
		if code, _, _ := s.post("/notify/routes/"+id(e.NotifyRouteA)+"/remove", nil); code != http.StatusSeeOther {
			t.Errorf("remove route: %d", code)
		}
		if _, body, _ = s.get("/notify/routes"); strings.Contains(body, `id="route-`+id(e.NotifyRouteA)+`"`) {
			t.Errorf("the removed route is still listed")
		}
		chA := id(e.NotifyChanA.ID)
		if code, _, _ := s.post("/notify/channels/"+chA+"/disable", nil); code != http.StatusSeeOther {
			t.Errorf("disable: %d", code)
		}
		if _, body, _ = s.get("/notify/channels"); !strings.Contains(body, `id="enable-`+chA+`"`) || strings.Contains(body, `id="disable-`+chA+`"`) {
			t.Errorf("a disabled channel shows no enable button")
		}
		if code, _, _ := s.post("/notify/channels/"+chA+"/enable", nil); code != http.StatusSeeOther {
			t.Errorf("enable: %d", code)
		}
		if _, body, _ = s.get("/notify/channels"); !strings.Contains(body, `id="disable-`+chA+`"`) {
			t.Errorf("an enabled channel shows no disable button")
		}
	})
}
