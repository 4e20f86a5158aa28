package notify

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medguard/medguard/internal/notify/channel"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

func TestEnqueueRoutes(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, Options{})
		top := w.channel("top", w.prov.ID)
		onlyA := w.channel("only-a", w.hospA.ID)
		// The province: supply alerts from high up, of the whole tree.
		w.route(Route{OrgID: w.prov.ID, ChannelID: top.ID, Source: "supply", MinSeverity: "high", Subtree: true})
		// Hospital A: everything of A itself, not of departments below it.
		w.route(Route{OrgID: w.hospA.ID, ChannelID: onlyA.ID, Subtree: false})
		// The province again, without subtree: never matches a hospital's alerts.
		w.route(Route{OrgID: w.prov.ID, ChannelID: top.ID, Subtree: false, Source: "dlp"})

		w.raise(Event{AlertID: 1, OrgID: w.hospA.ID, Source: "supply", Kind: "new_vulnerability", Severity: "critical", Created: true})
		w.raise(Event{AlertID: 2, OrgID: w.hospB.ID, Source: "supply", Kind: "new_vulnerability", Severity: "medium", Created: true})
		w.raise(Event{AlertID: 3, OrgID: w.hospB.ID, Source: "dlp", Kind: "dlp_block", Severity: "critical", Created: true})
		w.raise(Event{AlertID: 4, OrgID: w.hospA.ID, Source: "dlp", Kind: "dlp_block", Severity: "low", Created: true})
		w.raise(Event{AlertID: 5, OrgID: w.hospA.ID, Source: "supply", Kind: "x", Severity: "critical", Created: true, Silenced: true})
		// Incremented: same severity → no new notification; severity rose → one.
		w.raise(Event{AlertID: 1, OrgID: w.hospA.ID, Source: "supply", Kind: "new_vulnerability", Severity: "critical", PrevSeverity: "critical"})
		w.raise(Event{AlertID: 2, OrgID: w.hospB.ID, Source: "supply", Kind: "new_vulnerability", Severity: "high", PrevSeverity: "medium"})
		w.raise(Event{AlertID: 4, OrgID: w.hospA.ID, Source: "dlp", Kind: "dlp_block", Severity: "low", PrevSeverity: "medium"})

		if d := cmp.Diff([]int64{1, 2}, w.outbox(top)); d != "" {
			t.Errorf("top channel (-want +got):\n%s", d)
		}
		if d := cmp.Diff([]int64{1, 4}, w.outbox(onlyA)); d != "" {
			t.Errorf("hospital A channel (-want +got):\n%s", d)
		}
	})
}

func TestInbox(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db, Options{})
		user := func(name, role string, org int64) int64 {
			var id int64
			err := db.QueryRowContext(ctx, `INSERT INTO users (org_id, username, role, password_hash, password_changed_at, created_at, updated_at)
				VALUES (?, ?, ?, 'x', ?, ?, ?) RETURNING id`, org, name, role, w.clock.Now(), w.clock.Now(), w.clock.Now()).Scan(&id)
			if err != nil {
				t.Fatal(err)
			}
			return id
		}
		officerA := user("officer-a", "security_officer", w.hospA.ID)
		officerB := user("officer-b", "security_officer", w.hospB.ID)
		regional := user("regional", "auditor", w.prov.ID)
		w.route(Route{OrgID: w.prov.ID, Role: "security_officer", Subtree: true})
		w.route(Route{OrgID: w.prov.ID, UserID: regional, MinSeverity: "critical", Subtree: true})

		w.raise(Event{AlertID: 1, OrgID: w.hospA.ID, Source: "supply", Kind: "k", Severity: "high", Created: true})
		w.raise(Event{AlertID: 2, OrgID: w.hospA.ID, Source: "supply", Kind: "k", Severity: "critical", Created: true})
		for _, c := range []struct {
			user int64
			want int
		}{{officerA, 2}, {officerB, 0}, {regional, 1}} {
			if n, err := w.svc.Unread(ctx, c.user); err != nil || n != c.want {
				t.Errorf("user %d: unread %d (%v), want %d", c.user, n, err, c.want)
			}
		}
		if err := w.svc.MarkRead(ctx, officerA); err != nil {
			t.Fatal(err)
		}
		// Alert 1 rises to critical: unread again for the officer, new for the regional user.
		w.raise(Event{AlertID: 1, OrgID: w.hospA.ID, Source: "supply", Kind: "k", Severity: "critical", PrevSeverity: "high"})
		if n, _ := w.svc.Unread(ctx, officerA); n != 1 {
			t.Errorf("officer A after the rise: unread %d, want 1", n)
		}
		if n, _ := w.svc.Unread(ctx, regional); n != 2 {
			t.Errorf("regional after the rise: unread %d, want 2", n)
		}
		items, err := w.svc.Inbox(ctx, officerA, 10)
		if err != nil || len(items) != 2 || items[0].Title.Key != "notify.test.title" {
			t.Fatalf("inbox %+v %v", items, err)
		}
	})
}

func TestDispatchSignedAndGrouped(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, Options{})
		c := w.channel("hook", w.prov.ID)
		w.route(Route{OrgID: w.prov.ID, ChannelID: c.ID, Subtree: true})
		for i := range 3 {
			w.raise(Event{AlertID: int64(10 + i), OrgID: w.hospA.ID, Source: "supply", Kind: "k", Severity: "high", Created: true, Subject: "HIS 5.2"})
		}
		if n := w.pass(); n != 1 {
			t.Fatalf("sent %d deliveries, want 1 grouping three alerts", n)
		}
		hits := w.recv.all()
		if len(hits) != 1 || !hits[0].signed || hits[0].key == "" {
			t.Fatalf("hits %+v", hits)
		}
		a := hits[0].body.Alerts
		if len(a) != 3 || a[0].ID != 10 || a[0].URL != "https://medguard.example/alerts/10" || a[0].Org != "hospital A" ||
			a[0].Title != "Test message from medguard: this channel works" || a[0].Subject != "HIS 5.2" || a[0].Severity != "high" {
			t.Fatalf("alerts %+v", a)
		}
		if n := w.pass(); n != 0 || len(w.recv.all()) != 1 {
			t.Fatalf("a second pass sent %d", n)
		}
		// A subject that was not masked upstream is masked before it leaves.
		w.raise(Event{AlertID: 20, OrgID: w.hospA.ID, Source: "dlp", Kind: "dlp_block", Severity: "high", Created: true,
			Subject: "患者身份证号 11010519491231002X"})
		w.pass()
		hits = w.recv.all()
		if len(hits) != 2 || strings.Contains(hits[1].body.Alerts[0].Subject, "11010519491231002X") || hits[1].body.Alerts[0].Subject == "" {
			t.Fatalf("subject %q", hits[1].body.Alerts[0].Subject)
		}
	})
}

func TestBackoffAndDeadLetters(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db, Options{MaxAttempts: 4, Backoff: 10 * time.Second, MaxBackoff: time.Minute})
		c := w.channel("hook", w.prov.ID)
		w.route(Route{OrgID: w.prov.ID, ChannelID: c.ID, Subtree: true})
		w.recv.setStatus(503)
		w.raise(Event{AlertID: 1, OrgID: w.hospA.ID, Source: "supply", Kind: "k", Severity: "high", Created: true})

		// Jitter 0.5 makes each wait ¾ of 10 s, 20 s, 40 s (and at most a minute).
		var waits []time.Duration
		start := w.clock.Now()
		last := start
		for range 200 {
			w.pass()
			if n := len(w.recv.all()); n > len(waits) {
				waits = append(waits, w.clock.Now().Sub(last))
				last = w.clock.Now()
			}
			w.clock.Add(time.Second)
		}
		want := []time.Duration{0, 7500 * time.Millisecond, 15 * time.Second, 30 * time.Second}
		// Passes come every second: a wait ends at the first pass after it.
		for i := range want {
			if i < len(waits) && waits[i] >= want[i] && waits[i] < want[i]+time.Second {
				continue
			}
			t.Fatalf("waits between attempts %v, want %v (to the next second)", waits, want)
		}
		if len(waits) != 4 {
			t.Fatalf("%d attempts, want 4", len(waits))
		}
		dead, err := w.svc.Deliveries(ctx, w.admin, StateDead, 10)
		if err != nil || len(dead) != 1 || dead[0].Attempts != 4 || dead[0].LastError == "" {
			t.Fatalf("dead letters %+v %v", dead, err)
		}
		// Meanwhile a second alert waits: it is not dropped, and goes out once the
		// receiver is back, while the dead letter stays dead until re-sent.
		w.raise(Event{AlertID: 2, OrgID: w.hospA.ID, Source: "supply", Kind: "k", Severity: "high", Created: true})
		w.recv.setStatus(0)
		w.pass()
		if err := w.svc.Resend(ctx, w.admin, dead[0].ID); err != nil {
			t.Fatal(err)
		}
		if err := w.svc.Resend(ctx, w.admin, dead[0].ID); err == nil {
			t.Fatal("re-sent a delivery that is not dead")
		}
		w.pass()
		hits := w.recv.all()
		if got := alertIDs(hits[4:]); !slices.Equal(got, []int64{2, 1}) {
			t.Fatalf("after the receiver came back: alerts %v, want [2 1]", got)
		}
		if hits[5].key != hits[0].key {
			t.Errorf("the re-sent dead letter has key %s, first attempt %s", hits[5].key, hits[0].key)
		}
		sent, _ := w.svc.Deliveries(ctx, w.admin, StateSent, 10)
		if len(sent) != 2 {
			t.Errorf("%d sent deliveries, want 2", len(sent))
		}

		// A 4xx the receiver means: dead at once.
		w.recv.setStatus(410)
		w.raise(Event{AlertID: 3, OrgID: w.hospA.ID, Source: "supply", Kind: "k", Severity: "high", Created: true})
		w.pass()
		dead, _ = w.svc.Deliveries(ctx, w.admin, StateDead, 10)
		if len(dead) != 1 || dead[0].Attempts != 1 {
			t.Fatalf("after a 410: dead letters %+v", dead)
		}
	})
}

// TestRateLimitGroups sends 100 alerts in 10 s to a channel limited like DingTalk (20
// messages a minute), with the dispatcher passing every 100 ms, and checks that no minute
// holds more than 20 messages and that every alert is named in some message.
func TestRateLimitGroups(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		dingtalk, _ := channel.LimitFor(channel.KindDingTalk)
		w := newWorld(t, db, Options{Limit: func(kind string) (channel.Limit, int) { return dingtalk, 100 }})
		c := w.channel("robot", w.prov.ID)
		w.route(Route{OrgID: w.prov.ID, ChannelID: c.ID, Subtree: true})
		for i := range 100 {
			w.raise(Event{AlertID: int64(i + 1), OrgID: w.hospA.ID, Source: "supply", Kind: "k", Severity: "critical", Created: true})
			w.pass()
			w.clock.Add(100 * time.Millisecond)
		}
		for range 120 {
			w.pass()
			w.clock.Add(time.Second)
		}
		hits := w.recv.all()
		for i, h := range hits {
			n := 0
			for _, o := range hits[i:] {
				if o.at.Sub(h.at) < time.Minute {
					n++
				}
			}
			if n > dingtalk.PerMinute {
				t.Fatalf("%d messages in the minute from %v", n, h.at)
			}
		}
		got := alertIDs(hits)
		slices.Sort(got)
		if len(got) != 100 || got[0] != 1 || got[99] != 100 || len(slices.Compact(got)) != 100 {
			t.Fatalf("the messages name %d alerts (%v), want each of 1…100 once", len(got), got)
		}
		if len(hits) > 40 {
			t.Fatalf("%d messages", len(hits))
		}
		t.Logf("%d messages, the last with %d alerts", len(hits), len(hits[len(hits)-1].body.Alerts))
	})
}

type acks map[int64]bool

func (a acks) Acknowledged(_ context.Context, id int64) (bool, error) { return a[id], nil }

func TestQuietHoursAndEscalation(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		acked := acks{}
		w := newWorld(t, db, Options{Acked: acked})
		// 23:00 in Beijing.
		w.clock.t = time.Date(2026, 12, 7, 15, 0, 0, 0, time.UTC)
		duty := w.channel("duty", w.prov.ID)
		boss := w.channel("boss", w.prov.ID)
		w.route(Route{OrgID: w.prov.ID, ChannelID: duty.ID, Subtree: true, QuietStart: 22 * 60, QuietEnd: 7 * 60,
			TimeZone: "Asia/Shanghai", EscalateMinutes: 15, EscalateChannelID: boss.ID})
		w.raise(Event{AlertID: 1, OrgID: w.hospA.ID, Source: "supply", Kind: "k", Severity: "medium", Created: true})
		w.raise(Event{AlertID: 2, OrgID: w.hospA.ID, Source: "supply", Kind: "k", Severity: "critical", Created: true})
		w.raise(Event{AlertID: 3, OrgID: w.hospA.ID, Source: "supply", Kind: "k", Severity: "critical", Created: true})
		w.pass()
		if got := alertIDs(w.recv.all()); !slices.Equal(got, []int64{2, 3}) {
			t.Fatalf("during quiet hours: %v, want only the critical [2 3]", got)
		}
		acked[2] = true
		w.clock.Add(14 * time.Minute)
		w.pass()
		if n := len(w.recv.all()); n != 1 {
			t.Fatalf("before the escalation delay: %d messages", n)
		}
		w.clock.Add(time.Minute)
		w.pass()
		hits := w.recv.all()
		if len(hits) != 2 || !slices.Equal(alertIDs(hits[1:]), []int64{3}) || hits[1].body.Alerts[0].Status != "escalated" {
			t.Fatalf("escalation: %+v, want alert 3 alone (2 was acknowledged)", hits[1:])
		}
		// 06:59 Beijing: still quiet; 07:00: the medium alert goes.
		w.clock.t = time.Date(2026, 12, 7, 22, 59, 0, 0, time.UTC)
		w.pass()
		w.clock.Add(time.Minute)
		w.pass()
		hits = w.recv.all()
		if len(hits) != 3 || !slices.Equal(alertIDs(hits[2:]), []int64{1}) || !hits[2].at.Equal(time.Date(2026, 12, 7, 23, 0, 0, 0, time.UTC)) {
			t.Fatalf("after quiet hours: %d messages, last %+v", len(hits), hits[len(hits)-1])
		}
	})
}

func TestQuietEnd(t *testing.T) {
	sh, _ := time.LoadLocation("Asia/Shanghai")
	at := func(h, m int) time.Time { return time.Date(2026, 12, 7, h, m, 0, 0, sh) }
	night := Route{QuietStart: 22 * 60, QuietEnd: 7 * 60, TimeZone: "Asia/Shanghai"}
	noon := Route{QuietStart: 12 * 60, QuietEnd: 14 * 60, TimeZone: "Asia/Shanghai"}
	for _, c := range []struct {
		r        Route
		now, due time.Time
	}{
		{night, at(21, 59), at(21, 59)}, {night, at(22, 0), at(31, 0)}, {night, at(3, 0), at(7, 0)}, {night, at(7, 0), at(7, 0)},
		{noon, at(12, 30), at(14, 0)}, {noon, at(14, 0), at(14, 0)}, {noon, at(11, 0), at(11, 0)},
		{Route{QuietStart: -1, QuietEnd: -1}, at(3, 0), at(3, 0)},
	} {
		if got := quietEnd(c.now.UTC(), c.r); !got.Equal(c.due) {
			t.Errorf("quiet %d–%d at %v: due %v, want %v", c.r.QuietStart, c.r.QuietEnd, c.now, got.In(sh), c.due)
		}
	}
}

func TestChannelAndRouteValidation(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db, Options{})
		w.channel("hook", w.hospA.ID)
		bad := []ChannelInput{
			{OrgID: w.hospA.ID, Name: "", Kind: "webhook", URL: w.url},
			{OrgID: w.hospA.ID, Name: "x", Kind: "pager", URL: w.url},
			{OrgID: w.hospA.ID, Name: "x", Kind: "webhook", URL: "ftp://h/x"},
			{OrgID: w.hospA.ID, Name: "x", Kind: "smtp", URL: "https://h"},
			{OrgID: w.hospA.ID, Name: "hook", Kind: "webhook", URL: w.url},
			{OrgID: w.hospA.ID, Name: "x", Kind: "webhook", URL: w.url, Lang: "fr"},
			// A robot's URL carries its key: plain http to a vendor's host is refused.
			{OrgID: w.hospA.ID, Name: "x", Kind: "wecom", URL: "http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"},
			{OrgID: w.hospA.ID, Name: "x", Kind: "dingtalk", URL: "https://user:pw@oapi.dingtalk.com/robot/send?access_token=t"},
		}
		for _, in := range bad {
			if _, err := w.svc.AddChannel(ctx, w.admin, in); err == nil {
				t.Errorf("accepted %+v", in)
			}
		}
		// Hospital B's officer does not see hospital A.
		officerB := w.admin
		officerB.OrgID, officerB.OrgPath = w.hospB.ID, w.hospB.Path
		if _, err := w.svc.AddChannel(ctx, officerB, ChannelInput{OrgID: w.hospA.ID, Name: "y", Kind: "webhook", URL: w.url}); err == nil {
			t.Error("an officer of B added a channel to A")
		}
		if cs, _ := w.svc.Channels(ctx, officerB); len(cs) != 0 {
			t.Errorf("B sees %d channels of A", len(cs))
		}
		hook, err := w.svc.ChannelByName(ctx, w.admin, "hook")
		if err != nil {
			t.Fatal(err)
		}
		// A route of B cannot send to A's channel.
		if _, err := w.svc.AddRoute(ctx, w.admin, Route{OrgID: w.hospB.ID, ChannelID: hook.ID}); err == nil {
			t.Error("a route of B sends to A's channel")
		}
		if _, err := w.svc.AddRoute(ctx, w.admin, Route{OrgID: w.hospA.ID, ChannelID: hook.ID, MinSeverity: "urgent"}); err == nil {
			t.Error("accepted min severity urgent")
		}
		if _, err := w.svc.AddRoute(ctx, w.admin, Route{OrgID: w.hospA.ID}); err == nil {
			t.Error("accepted a route without a receiver")
		}
	})
}

// TestUnusableChannelWaits: a channel whose sender cannot be made (here a URL stored
// before it was checked) keeps its rows waiting without failing the pass for the other
// channels, and says so once, not at every pass.
func TestUnusableChannelWaits(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		var log strings.Builder
		w := newWorld(t, db, Options{})
		w.svc.opt.Logger = slog.New(slog.NewTextHandler(&log, nil))
		good := w.channel("good", w.prov.ID)
		bad := w.channel("bad", w.prov.ID)
		if _, err := db.ExecContext(context.Background(), `UPDATE notify_channels SET url = 'ftp://h/x' WHERE id = ?`, bad.ID); err != nil {
			t.Fatal(err)
		}
		w.route(Route{OrgID: w.prov.ID, ChannelID: good.ID, Subtree: true})
		w.route(Route{OrgID: w.prov.ID, ChannelID: bad.ID, Subtree: true})
		w.raise(Event{AlertID: 1, OrgID: w.hospA.ID, Source: "supply", Kind: "k", Severity: "high", Created: true})
		for range 3 {
			w.pass()
		}
		if n := len(w.recv.all()); n != 1 {
			t.Fatalf("%d messages, want the good channel's one", n)
		}
		var waiting int
		if err := db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM notify_outbox WHERE channel_id = ? AND state = 'waiting'`, bad.ID).Scan(&waiting); err != nil || waiting != 1 {
			t.Fatalf("the bad channel's row: %d waiting (%v)", waiting, err)
		}
		if n := strings.Count(log.String(), "cannot send"); n != 1 {
			t.Fatalf("said %d times:\n%s", n, log.String())
		}
	})
}

// TestRetention: sent messages older than the retention are dropped with their outbox
// rows; dead letters and newer messages stay.
func TestRetention(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db, Options{Retention: 24 * time.Hour})
		c := w.channel("hook", w.prov.ID)
		w.route(Route{OrgID: w.prov.ID, ChannelID: c.ID, Subtree: true})
		w.raise(Event{AlertID: 1, OrgID: w.hospA.ID, Source: "supply", Kind: "k", Severity: "high", Created: true})
		w.pass()
		w.recv.setStatus(410)
		w.raise(Event{AlertID: 2, OrgID: w.hospA.ID, Source: "supply", Kind: "k", Severity: "high", Created: true})
		w.pass()
		w.recv.setStatus(0)
		w.clock.Add(23 * time.Hour)
		w.raise(Event{AlertID: 3, OrgID: w.hospA.ID, Source: "supply", Kind: "k", Severity: "high", Created: true})
		w.pass()
		w.clock.Add(2 * time.Hour)
		w.pass()
		count := func(q string) int {
			var n int
			if err := db.QueryRowContext(ctx, q).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		if d := count(`SELECT COUNT(*) FROM notify_deliveries`); d != 2 {
			t.Errorf("%d deliveries left, want the dead letter and the newer message", d)
		}
		if got := w.outbox(c); !slices.Equal(got, []int64{2, 3}) {
			t.Errorf("outbox rows of alerts %v, want [2 3]", got)
		}
	})
}
