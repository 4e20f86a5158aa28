package app

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/notify"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/store"
)

// TestRaisedAlertsReachTheOutbox: the application wires the alert inbox to the outbox,
// so an alert raised in a module's transaction writes its notification in that same
// transaction (a rolled-back raise leaves neither), a counted repeat is not notified
// again, a silenced or too-low alert is not notified, and the serving process sends what
// was written, without the patient identifier.
func TestRaisedAlertsReachTheOutbox(t *testing.T) {
	eachEngine(t, func(t *testing.T, cfg Config) {
		ctx := context.Background()
		bodies := make(chan string, 8)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			bodies <- string(b)
		}))
		defer srv.Close()
		a, err := Open(ctx, cfg, quiet())
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		top, err := a.Orgs.Create(ctx, actor.System(), org.Input{Kind: org.KindHospital, Name: "H"})
		if err != nil {
			t.Fatal(err)
		}
		c, err := a.Notify.AddChannel(ctx, actor.CLI(), notify.ChannelInput{OrgID: top.ID, Name: "hook", Kind: "webhook", URL: srv.URL})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Notify.AddRoute(ctx, actor.CLI(), notify.Route{OrgID: top.ID, ChannelID: c.ID, MinSeverity: "high", Subtree: true}); err != nil {
			t.Fatal(err)
		}
		raise := func(sev, dedup string, rollback bool) alert.Alert {
			t.Helper()
			var al alert.Alert
			errRollback := errors.New("rollback")
			err := a.DB.InTx(ctx, func(tx *store.Tx) error {
				var err error
				al, _, err = a.Alerts.Raise(ctx, tx, alert.Input{OrgID: top.ID, Source: "dlp", Kind: "dlp_block", Severity: sev,
					Title: i18n.M("alert.title.text", "outgoing file blocked"), Subject: "报告_***.xlsx", PatientID: "P20240001234", DedupKey: dedup})
				if err == nil && rollback {
					return errRollback
				}
				return err
			})
			if err != nil && !(rollback && errors.Is(err, errRollback)) {
				t.Fatal(err)
			}
			return al
		}
		outbox := func() int {
			t.Helper()
			var n int
			if err := a.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM notify_outbox WHERE alert_id <> 0`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		raise("critical", "k1", true)
		if n := outbox(); n != 0 {
			t.Fatalf("a rolled-back raise left %d outbox rows", n)
		}
		first := raise("critical", "k1", false)
		if n := outbox(); n != 1 {
			t.Fatalf("after one critical alert the outbox holds %d rows, want 1", n)
		}
		raise("critical", "k1", false) // counted, not notified again
		raise("low", "k2", false)      // below the route's minimum
		if n := outbox(); n != 1 {
			t.Fatalf("a repeat and a low alert changed the outbox to %d rows, want 1", n)
		}
		if err := a.Start(ctx); err != nil {
			t.Fatal(err)
		}
		select {
		case b := <-bodies:
			if !strings.Contains(b, `"id":`+strconv.FormatInt(first.ID, 10)) {
				t.Errorf("the webhook body does not name alert %d: %s", first.ID, b)
			}
			if strings.Contains(b, "P20240001234") {
				t.Errorf("the webhook body holds the patient identifier: %s", b)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("the serving process did not send the alert's notification")
		}
	})
}
