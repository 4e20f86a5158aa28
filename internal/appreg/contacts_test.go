package appreg_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/appreg"
	"github.com/medguard/medguard/internal/appscore"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/notify"
	"github.com/medguard/medguard/internal/notify/channel"
	"github.com/medguard/medguard/internal/notify/mailsink"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
	"github.com/medguard/medguard/internal/trail"
	"github.com/medguard/medguard/internal/trail/trailtest"
)

// TestContactsNotifiedAndRisksEscalated: the incidents of an app (a critical finding, the
// eviction proposed, the eviction) are mailed at once to its registered contacts through
// the hospital's mail channel — a real SMTP exchange on loopback — and the major ones are
// raised again in the supervising province, where its regulator sees them; a repeated
// observation mails no one again, and another hospital's contacts hear nothing.
func TestContactsNotifiedAndRisksEscalated(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		tl, err := trail.New(trail.SHA256, trailtest.Key(t))
		if err != nil {
			t.Fatal(err)
		}
		n := notify.New(db, tl, notify.Options{Key: make([]byte, notify.KeySize), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
			Now: func() time.Time { return w.now }})
		sink := mailsink.Start(t)
		var provPath string
		var provID int64
		if err := db.QueryRowContext(ctx, `SELECT parent_id FROM orgs WHERE id = ?`, w.hospA.ID).Scan(&provID); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRowContext(ctx, `SELECT path FROM orgs WHERE id = ?`, provID).Scan(&provPath); err != nil {
			t.Fatal(err)
		}
		admin := actor.Actor{Username: "admin", Role: "admin", OrgID: provID, OrgPath: provPath}
		if _, err := n.AddChannel(ctx, admin, notify.ChannelInput{OrgID: w.hospA.ID, Name: "mail", Kind: channel.KindSMTP,
			URL: "smtp://" + sink.Addr, From: "medguard@a.example", To: []string{"duty@a.example"}, Lang: i18n.ZhCN}); err != nil {
			t.Fatal(err)
		}
		reg := appreg.New(db, tl, w.codes, appreg.ModelScorer{Model: appscore.DefaultModel()}, w.al,
			appreg.Options{Now: func() time.Time { return w.now }, Contacts: appreg.MailContacts{Notify: n}})
		ap, err := reg.Apply(ctx, w.secA, input(w.hospA.ID))
		if err != nil {
			t.Fatal(err)
		}
		if ap, err = reg.Review(ctx, w.secA, ap.ID, appreg.Decision{Approve: true}); err != nil {
			t.Fatal(err)
		}
		pass := func() {
			t.Helper()
			if _, err := n.Pass(ctx); err != nil {
				t.Fatal(err)
			}
		}
		pass()
		if got := sink.Mails(); len(got) != 0 {
			t.Fatalf("an admission with no finding mailed %v", got)
		}
		foreign := appreg.Observation{Channel: "appgallery", Version: "3.2.0", Signer: foreignSigner}
		if _, err := reg.Observe(ctx, w.secA, ap.ID, foreign); err != nil {
			t.Fatal(err)
		}
		pass()
		contacts := []string{"boss@example.cn", "sec@example.cn", "tech@example.cn"}
		got := sink.Mails()
		// The critical finding and the eviction its grade C proposes: two incidents, in
		// one message (as the channel groups what is due together).
		if len(got) != 1 || !slices.Equal(got[0], contacts) {
			t.Fatalf("mails after a foreign signer: %v, want one to %v", got, contacts)
		}
		direct := func() (rows, sent int) {
			t.Helper()
			if err := db.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(d.sent_at) FROM notify_outbox x
				LEFT JOIN notify_deliveries d ON d.id = x.delivery_id WHERE x.recipients <> ''`).Scan(&rows, &sent); err != nil {
				t.Fatal(err)
			}
			return rows, sent
		}
		if rows, sent := direct(); rows != 2 || sent != 2 {
			t.Fatalf("contact notifications: %d, %d sent; want 2", rows, sent)
		}
		if _, err := reg.Observe(ctx, w.secA, ap.ID, foreign); err != nil {
			t.Fatal(err)
		}
		pass()
		if again := sink.Mails(); len(again) != 1 {
			t.Fatalf("the same observation again mailed: %v", again)
		}
		if _, err := reg.Evict(ctx, w.secA, ap.ID, "counterfeit build in appgallery"); err != nil {
			t.Fatal(err)
		}
		pass()
		if got = sink.Mails(); len(got) != 2 || !slices.Equal(got[1], contacts) {
			t.Fatalf("mails after the eviction: %v", got)
		}
		if rows, sent := direct(); rows != 3 || sent != 3 {
			t.Fatalf("contact notifications: %d, %d sent; want 3", rows, sent)
		}
		// Escalated: the critical finding, the eviction proposed, the eviction.
		rows, err := db.QueryContext(ctx, `SELECT evidence FROM alerts WHERE org_id = ? AND kind = 'app.escalated' ORDER BY id`, provID)
		if err != nil {
			t.Fatal(err)
		}
		var esc []string
		for rows.Next() {
			var e string
			if err := rows.Scan(&e); err != nil {
				t.Fatal(err)
			}
			esc = append(esc, e)
		}
		rows.Close()
		if len(esc) != 3 {
			t.Fatalf("%d alerts escalated to the province, want 3: %v", len(esc), esc)
		}
		for i, kind := range []string{"channel.foreign_signer", "app.eviction_proposed", "app.evicted"} {
			if !strings.Contains(esc[i], `"kind":"`+kind+`"`) || !strings.Contains(esc[i], `"hospital":"甲医院"`) {
				t.Errorf("escalation %d: %s, want kind %s", i, esc[i], kind)
			}
		}
		// The alerts say whether the contacts were mailed, and through what; hospital B,
		// without a mail channel, is told so on its alert.
		var mailed int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM alerts WHERE org_id = ? AND source = 'apps' AND evidence LIKE ?`,
			w.hospA.ID, `%"contacts_mailed_via":"mail"%`).Scan(&mailed); err != nil || mailed != 3 {
			t.Errorf("%d of hospital A's alerts say the contacts were mailed, want 3 (%v)", mailed, err)
		}
		in := input(w.hospB.ID)
		bApp, err := reg.Apply(ctx, w.secB, in)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := reg.Review(ctx, w.secB, bApp.ID, appreg.Decision{Approve: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := reg.Observe(ctx, w.secB, bApp.ID, foreign); err != nil {
			t.Fatal(err)
		}
		var notMailed int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM alerts WHERE org_id = ? AND source = 'apps' AND evidence LIKE ?`,
			w.hospB.ID, `%app.evidence.no_mail_channel%`).Scan(&notMailed); err != nil || notMailed == 0 {
			t.Errorf("hospital B's alerts do not say the contacts were not mailed (%v)", err)
		}
		pass()
		if got := sink.Mails(); len(got) != 2 {
			t.Errorf("hospital B's incidents were mailed: %v", got)
		}
		var hospEsc int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM alerts WHERE org_id <> ? AND kind = 'app.escalated'`, provID).Scan(&hospEsc); err != nil || hospEsc != 0 {
			t.Fatalf("escalations outside the province: %d %v", hospEsc, err)
		}
	})
}
