package notify

import (
	"context"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// user inserts an enabled user of organisation o and returns it as an actor.
func (w *world) user(name, role string, o int64, path string) actor.Actor {
	w.t.Helper()
	var id int64
	now := w.clock.Now()
	err := w.db.QueryRowContext(context.Background(), `INSERT INTO users (org_id, username, role, password_hash, password_changed_at, created_at, updated_at)
		VALUES (?, ?, ?, 'x', ?, ?, ?) RETURNING id`, o, name, role, now, now, now).Scan(&id)
	if err != nil {
		w.t.Fatal(err)
	}
	return actor.Actor{UserID: id, Username: name, Role: role, OrgID: o, OrgPath: path}
}

func isNotFound(err error) bool { return problem.KindOf(err) == problem.KindNotFound }

func TestSubscriptions(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db, Options{})
		nurse := w.user("nurse-a", "app_operator", w.hospA.ID, w.hospA.Path)
		other := w.user("officer-b", "security_officer", w.hospB.ID, w.hospB.Path)
		sub, err := w.svc.Subscribe(ctx, nurse, SubscriptionInput{Source: "supply", MinSeverity: "high"})
		if err != nil {
			t.Fatal(err)
		}
		if sub.OrgID != w.hospA.ID {
			t.Errorf("subscription of organisation %d, want the user's own %d", sub.OrgID, w.hospA.ID)
		}
		if _, err := w.svc.Subscribe(ctx, nurse, SubscriptionInput{MinSeverity: "urgent"}); problem.KindOf(err) != problem.KindInvalid {
			t.Errorf("unknown severity: %v, want invalid", err)
		}
		if _, err := w.svc.Subscribe(ctx, actor.System(), SubscriptionInput{}); err == nil {
			t.Error("the system subscribed")
		}

		w.raise(Event{AlertID: 1, OrgID: w.hospA.ID, Source: "supply", Kind: "k", Severity: "high", Created: true})     // lands
		w.raise(Event{AlertID: 2, OrgID: w.hospA.ID, Source: "supply", Kind: "k", Severity: "medium", Created: true})   // below
		w.raise(Event{AlertID: 3, OrgID: w.hospB.ID, Source: "supply", Kind: "k", Severity: "critical", Created: true}) // other hospital
		w.raise(Event{AlertID: 4, OrgID: w.hospA.ID, Source: "dlp", Kind: "k", Severity: "critical", Created: true})    // other source
		items, err := w.svc.Inbox(ctx, nurse.UserID, 10)
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for _, it := range items {
			got = append(got, it.AlertID)
		}
		if d := cmp.Diff([]int64{1}, got); d != "" {
			t.Errorf("the subscriber's inbox (-want +got):\n%s", d)
		}
		if n, _ := w.svc.Unread(ctx, other.UserID); n != 0 {
			t.Errorf("another hospital's user got %d notifications", n)
		}

		list, err := w.svc.Subscriptions(ctx, nurse)
		if err != nil || len(list) != 1 || list[0].ID != sub.ID || list[0].MinSeverity != "high" || list[0].Source != "supply" {
			t.Fatalf("subscriptions %+v %v", list, err)
		}
		if list, _ := w.svc.Subscriptions(ctx, other); len(list) != 0 {
			t.Errorf("another user sees %+v", list)
		}
		// Another user cannot remove it, nor can a subscriber remove a route that is not
		// their own subscription.
		if err := w.svc.Unsubscribe(ctx, other, sub.ID); !isNotFound(err) {
			t.Errorf("another user's unsubscribe: %v, want not found", err)
		}
		ch := w.channel("hook", w.hospA.ID)
		r := w.route(Route{OrgID: w.hospA.ID, ChannelID: ch.ID})
		if err := w.svc.Unsubscribe(ctx, nurse, r.ID); !isNotFound(err) {
			t.Errorf("unsubscribe from a channel route: %v, want not found", err)
		}
		if err := w.svc.Unsubscribe(ctx, nurse, sub.ID); err != nil {
			t.Fatal(err)
		}
		w.raise(Event{AlertID: 5, OrgID: w.hospA.ID, Source: "supply", Kind: "k", Severity: "critical", Created: true})
		if n, _ := w.svc.Unread(ctx, nurse.UserID); n != 1 {
			t.Errorf("after unsubscribing: %d unread, want still 1", n)
		}
		if err := w.svc.Unsubscribe(ctx, nurse, sub.ID); !isNotFound(err) {
			t.Errorf("second unsubscribe: %v, want not found", err)
		}
	})
}

func TestRemoveRoute(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db, Options{})
		ch := w.channel("hook", w.hospA.ID)
		r := w.route(Route{OrgID: w.hospA.ID, ChannelID: ch.ID})
		w.raise(Event{AlertID: 1, OrgID: w.hospA.ID, Source: "supply", Kind: "k", Severity: "high", Created: true})
		officerB := w.user("officer-b", "security_officer", w.hospB.ID, w.hospB.Path)
		if err := w.svc.RemoveRoute(ctx, officerB, r.ID); !isNotFound(err) {
			t.Errorf("another hospital removes the route: %v, want not found", err)
		}
		if err := w.svc.RemoveRoute(ctx, w.admin, r.ID); err != nil {
			t.Fatal(err)
		}
		// The routes of hospital A were cached by the first raise: the removal applies at once.
		w.raise(Event{AlertID: 2, OrgID: w.hospA.ID, Source: "supply", Kind: "k", Severity: "high", Created: true})
		if d := cmp.Diff([]int64{1}, w.outbox(ch)); d != "" {
			t.Errorf("outbox after the removal (-want +got):\n%s", d)
		}
		if rs, _ := w.svc.Routes(ctx, w.admin); len(rs) != 0 {
			t.Errorf("routes left: %+v", rs)
		}
		if err := w.svc.RemoveRoute(ctx, w.admin, r.ID); !isNotFound(err) {
			t.Errorf("second removal: %v, want not found", err)
		}
	})
}

// TestDisabledChannel: a disabled channel gets no new outbox rows, as a route's channel or
// as its escalation channel; what already waited for it stays, unsent even by `notify
// test`'s dispatch of that one channel, and is sent once the channel is enabled again.
func TestDisabledChannel(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db, Options{})
		ch := w.channel("hook", w.hospA.ID)
		other := w.channel("other", w.hospA.ID)
		esc := w.channel("escalation", w.hospA.ID)
		w.route(Route{OrgID: w.hospA.ID, ChannelID: ch.ID})
		w.route(Route{OrgID: w.hospA.ID, ChannelID: other.ID, EscalateMinutes: 15, EscalateChannelID: esc.ID})
		w.raise(Event{AlertID: 1, OrgID: w.hospA.ID, Source: "supply", Kind: "k", Severity: "high", Created: true})

		officerB := w.user("officer-b", "security_officer", w.hospB.ID, w.hospB.Path)
		if _, err := w.svc.SetChannelEnabled(ctx, officerB, ch.ID, false); !isNotFound(err) {
			t.Errorf("another hospital disables the channel: %v, want not found", err)
		}
		for _, c := range []Channel{ch, esc} {
			if got, err := w.svc.SetChannelEnabled(ctx, w.admin, c.ID, false); err != nil || got.Enabled {
				t.Fatalf("disable %s: %+v %v", c.Name, got, err)
			}
		}
		w.raise(Event{AlertID: 2, OrgID: w.hospA.ID, Source: "supply", Kind: "k", Severity: "critical", Created: true})
		if d := cmp.Diff([]int64{1}, w.outbox(ch)); d != "" {
			t.Errorf("disabled channel's outbox (-want +got):\n%s", d)
		}
		if got := w.outbox(esc); len(got) != 0 {
			t.Errorf("disabled escalation channel got rows for alerts %v", got)
		}
		if d := cmp.Diff([]int64{1, 2}, w.outbox(other)); d != "" {
			t.Errorf("the enabled channel of the escalating route (-want +got):\n%s", d)
		}
		w.pass()
		if n, err := w.svc.DispatchChannel(ctx, ch.ID); err != nil || n != 0 {
			t.Errorf("dispatch of the disabled channel: sent %d (%v)", n, err)
		}
		stored, err := w.svc.Channel(ctx, w.admin, ch.ID)
		if err != nil || stored.Enabled {
			t.Fatalf("stored channel %+v %v, want disabled", stored, err)
		}
		if _, err := w.svc.EnqueueTest(ctx, stored); problem.KindOf(err) != problem.KindConflict {
			t.Errorf("test message to a disabled channel: %v, want conflict", err)
		}
		// Only the other channel sent (both post to the same receiver): alerts 1 and 2 once.
		got := alertIDs(w.recv.all())
		slices.Sort(got)
		if d := cmp.Diff([]int64{1, 2}, got); d != "" {
			t.Fatalf("sent while disabled (-want +got):\n%s", d)
		}
		before := len(w.recv.all()) // the other channel's two alerts
		if _, err := w.svc.SetChannelEnabled(ctx, w.admin, ch.ID, true); err != nil {
			t.Fatal(err)
		}
		w.pass()
		hits := w.recv.all()[before:]
		if d := cmp.Diff([]int64{1}, alertIDs(hits)); d != "" {
			t.Errorf("sent once enabled again (-want +got):\n%s", d)
		}
		w.raise(Event{AlertID: 3, OrgID: w.hospA.ID, Source: "supply", Kind: "k", Severity: "high", Created: true})
		if d := cmp.Diff([]int64{1, 3}, w.outbox(ch)); d != "" {
			t.Errorf("enabled channel's outbox (-want +got):\n%s", d)
		}
	})
}
