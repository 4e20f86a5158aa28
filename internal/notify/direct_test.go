package notify

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/notify/channel"
	"github.com/medguard/medguard/internal/notify/mailsink"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// TestEnqueueDirect: a notification to addresses of its own goes by e-mail through the
// nearest enabled SMTP channel, to those addresses only, never in one message with the
// channel's routed alerts or with another set of addresses; without a mail channel the
// caller is told.
func TestEnqueueDirect(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, Options{})
		ctx := context.Background()
		direct := func(ev Event, to ...string) (string, error) {
			if ev.Title.Key == "" {
				ev.Title = i18n.M("notify.test.title")
			}
			var name string
			err := db.InTx(ctx, func(tx *store.Tx) error {
				var err error
				name, err = w.svc.EnqueueDirect(ctx, tx, ev, to)
				return err
			})
			return name, err
		}
		ev := Event{AlertID: 7, OrgID: w.hospA.ID, Source: "apps", Kind: "app.evicted", Severity: "high", Created: true, Subject: "Cloud clinic"}
		w.channel("hook", w.hospA.ID) // not an e-mail channel
		if _, err := direct(ev, "sec@a.example"); !errors.Is(err, ErrNoMailChannel) {
			t.Fatalf("without a mail channel: %v", err)
		}
		s := mailsink.Start(t)
		mailCh := func(name string, org int64) Channel {
			c, err := w.svc.AddChannel(ctx, w.admin, ChannelInput{OrgID: org, Name: name, Kind: channel.KindSMTP, URL: "smtp://" + s.Addr,
				From: "medguard@province.example", To: []string{"duty@" + name + ".example"}, Lang: i18n.EN})
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		mailCh("prov", w.prov.ID)
		if name, err := direct(ev, "sec@a.example"); err != nil || name != "prov" {
			t.Fatalf("the province's channel: %q %v", name, err)
		}
		own := mailCh("mail-a", w.hospA.ID)
		if name, err := direct(ev, "sec@a.example", "not an address", "tech@a.example", "sec@a.example"); err != nil || name != "mail-a" {
			t.Fatalf("the hospital's own channel comes first: %q %v", name, err)
		}
		if _, err := direct(ev, "x", ""); err == nil {
			t.Fatal("no valid address was accepted")
		}
		// A routed alert for the same channel, and a second set of contacts.
		w.route(Route{OrgID: w.hospA.ID, ChannelID: own.ID})
		w.raise(Event{AlertID: 8, OrgID: w.hospA.ID, Source: "supply", Kind: "k", Severity: "high", Created: true})
		if _, err := direct(Event{AlertID: 9, OrgID: w.hospA.ID, Source: "apps", Kind: "k", Severity: "critical", Created: true},
			"mgmt@a.example"); err != nil {
			t.Fatal(err)
		}
		w.pass()
		got := s.Mails()
		want := [][]string{{"sec@a.example"}, {"sec@a.example", "tech@a.example"}, {"duty@mail-a.example"}, {"mgmt@a.example"}}
		for _, m := range want {
			if !slices.ContainsFunc(got, func(g []string) bool { return slices.Equal(g, m) }) {
				t.Errorf("no mail to %v; mails %v", m, got)
			}
		}
		if len(got) != len(want) {
			t.Errorf("%d mails, want %d: %v", len(got), len(want), got)
		}
	})
}
