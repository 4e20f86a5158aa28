package cli

import (
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/medguard/medguard/internal/notify/channel"
)

// TestNotifyCommands adds a webhook channel and a route from the command line and sends
// a test message with no server running: the command dispatches it itself, and a loopback
// receiver verifies its signature as webhook-sink.py does.
func TestNotifyCommands(t *testing.T) {
	eachStore(t, func(t *testing.T, flags []string, raw func() *sql.DB) {
		var mu sync.Mutex
		var got []string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			var doc channel.WebhookBody
			_ = json.Unmarshal(body, &doc)
			ok := r.Header.Get(channel.HeaderSignature) == channel.Sign([]byte("s3cret"), r.Header.Get(channel.HeaderTimestamp), body)
			mu.Lock()
			defer mu.Unlock()
			if ok && doc.Test && r.Header.Get(channel.HeaderDelivery) != "" {
				got = append(got, r.Header.Get(channel.HeaderDelivery))
			}
		}))
		defer srv.Close()
		cmd := func(args ...string) (int, string, string) { return runCLI(t, "", append(args, flags...)...) }

		if code, out, errs := cmd("notify", "channel", "add", "--name", "sink", "--kind", "webhook", "--url", srv.URL+"/hook?token=tok-1",
			"--secret", "s3cret"); code != 0 || !strings.Contains(out, "added webhook channel sink") {
			t.Fatalf("channel add: %d %q %q", code, out, errs)
		}
		if code, out, errs := cmd("notify", "route", "add", "--channel", "sink", "--min-severity", "high"); code != 0 || !strings.Contains(out, "added route") {
			t.Fatalf("route add: %d %q %q", code, out, errs)
		}
		if code, out, errs := cmd("notify", "route", "add", "--channel", "sink", "--quiet", "22:00-07:00", "--escalate-after", "15m",
			"--escalate-to", "sink"); code != 0 || !strings.Contains(out, "added route") {
			t.Fatalf("route add with quiet hours and escalation: %d %q %q", code, out, errs)
		}
		var qs, qe, esc int
		if err := raw().QueryRow(`SELECT quiet_start, quiet_end, escalate_minutes FROM notify_routes ORDER BY id DESC LIMIT 1`).Scan(&qs, &qe, &esc); err != nil ||
			qs != 22*60 || qe != 7*60 || esc != 15 {
			t.Fatalf("stored route: quiet %d–%d, escalation %d (%v)", qs, qe, esc, err)
		}
		if code, out, errs := cmd("notify", "channel", "list"); code != 0 || !strings.Contains(out, srv.URL+"/hook") || strings.Contains(out, "tok-1") ||
			strings.Contains(out, "s3cret") {
			t.Fatalf("channel list (the URL without its query, no secret): %d %q %q", code, out, errs)
		}
		code, out, errs := cmd("notify", "test", "--channel", "sink")
		if code != 0 || !strings.Contains(out, "test message sent to channel sink (delivery mgd-") {
			t.Fatalf("notify test: %d %q %q", code, out, errs)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(got) != 1 || !strings.Contains(out, got[0]) {
			t.Fatalf("the receiver got %v; the command said %q", got, out)
		}
		var lease int
		if err := raw().QueryRow(`SELECT COUNT(*) FROM leases WHERE name = 'notify.dispatch'`).Scan(&lease); err != nil || lease != 0 {
			t.Fatalf("the command left the dispatcher's lease behind: %d %v", lease, err)
		}
	})
}

// TestNotifyDeadLetterCommands: a test message the receiver refuses (410) goes to dead
// letters, which `notify deliveries --state dead` lists and `notify resend` puts back.
func TestNotifyDeadLetterCommands(t *testing.T) {
	eachStore(t, func(t *testing.T, flags []string, raw func() *sql.DB) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusGone) }))
		defer srv.Close()
		cmd := func(args ...string) (int, string, string) { return runCLI(t, "", append(args, flags...)...) }
		if code, out, errs := cmd("notify", "channel", "add", "--name", "gone", "--kind", "webhook", "--url", srv.URL); code != 0 {
			t.Fatalf("channel add: %d %q %q", code, out, errs)
		}
		if code, _, errs := cmd("notify", "test", "--channel", "gone"); code != 1 || !strings.Contains(errs, "dead letters") || !strings.Contains(errs, "410") {
			t.Fatalf("notify test to a receiver that answers 410: %d %q", code, errs)
		}
		code, out, errs := cmd("notify", "deliveries", "--state", "dead", "--format", "json")
		var dead []struct {
			ID    int64  `json:"id"`
			State string `json:"state"`
			Key   string `json:"key"`
		}
		if err := json.Unmarshal([]byte(out), &dead); code != 0 || err != nil || len(dead) != 1 || dead[0].State != "dead" || dead[0].Key == "" {
			t.Fatalf("deliveries --state dead: %d %q %q (%v)", code, out, errs, err)
		}
		id := strconv.FormatInt(dead[0].ID, 10)
		if code, out, errs := cmd("notify", "resend", id); code != 0 || !strings.Contains(out, "pending again") {
			t.Fatalf("resend: %d %q %q", code, out, errs)
		}
		if code, _, errs := cmd("notify", "resend", id); code != 1 || !strings.Contains(errs, "only a dead letter") {
			t.Fatalf("resend of a pending delivery: %d %q", code, errs)
		}
		if code, out, _ := cmd("notify", "deliveries", "--state", "pending"); code != 0 || !strings.Contains(out, dead[0].Key) {
			t.Fatalf("deliveries --state pending: %d %q", code, out)
		}
	})
}
