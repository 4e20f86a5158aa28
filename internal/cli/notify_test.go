package cli

import (
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
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
