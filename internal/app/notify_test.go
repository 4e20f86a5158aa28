package app

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/notify"
	"github.com/medguard/medguard/internal/org"
)

// TestStartDispatchesNotifications: a serving process takes the dispatcher's lease at
// Start and sends what the outbox holds, including a channel added after it started
// (read from the database on each pass).
func TestStartDispatchesNotifications(t *testing.T) {
	eachEngine(t, func(t *testing.T, cfg Config) {
		ctx := context.Background()
		got := make(chan string, 4)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got <- r.Header.Get("X-Medguard-Delivery")
		}))
		defer srv.Close()
		a, err := Open(ctx, cfg, quiet())
		if err != nil {
			t.Fatal(err)
		}
		closed := false
		defer func() {
			if !closed {
				a.Close()
			}
		}()
		top, err := a.Orgs.Create(ctx, actor.System(), org.Input{Kind: org.KindHospital, Name: "H"})
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Start(ctx); err != nil {
			t.Fatal(err)
		}
		var holder string
		if err := a.DB.QueryRowContext(ctx, `SELECT holder FROM leases WHERE name = ?`, LeaseNotifyDispatch).Scan(&holder); err != nil || holder != a.node {
			t.Fatalf("the dispatcher's lease is held by %q (%v), want this process %q", holder, err, a.node)
		}
		c, err := a.Notify.AddChannel(ctx, actor.CLI(), notify.ChannelInput{OrgID: top.ID, Name: "hook", Kind: "webhook", URL: srv.URL})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Notify.EnqueueTest(ctx, c); err != nil {
			t.Fatal(err)
		}
		select {
		case key := <-got:
			if key == "" {
				t.Fatal("delivered without an idempotency key")
			}
		case <-time.After(30 * time.Second):
			t.Fatal("the serving process did not send the test message")
		}
		closed = true
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
	})
}
