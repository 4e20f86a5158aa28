package notify

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// testKey seals channel secrets in the tests of this package.
var testKey = []byte("0123456789abcdef")

// TestChannelSecretsSealed: a channel's secret is stored sealed with SM4-GCM (the
// database file does not contain it), the dispatcher opens it to sign, a plain secret
// from before sealing is still read and SealPlain seals it, and a service with another
// key cannot open it.
func TestChannelSecretsSealed(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db, Options{})
		c := w.channel("hook", w.prov.ID)
		w.route(Route{OrgID: w.prov.ID, ChannelID: c.ID, Subtree: true})
		stored := func() string {
			t.Helper()
			var s string
			if err := db.QueryRowContext(ctx, `SELECT secret FROM notify_channels WHERE id = ?`, c.ID).Scan(&s); err != nil {
				t.Fatal(err)
			}
			return s
		}
		if s := stored(); strings.Contains(s, "s3cret") || !strings.HasPrefix(s, sealedPrefix) {
			t.Fatalf("stored secret %q: not sealed", s)
		}
		if db.Dialect() == store.SQLite {
			var seq int
			var name, file string
			if err := db.QueryRowContext(ctx, `PRAGMA database_list`).Scan(&seq, &name, &file); err != nil {
				t.Fatal(err)
			}
			for _, f := range []string{file, file + "-wal"} {
				b, err := os.ReadFile(f)
				if err != nil && !os.IsNotExist(err) {
					t.Fatal(err)
				}
				if bytes.Contains(b, []byte("s3cret")) {
					t.Fatalf("%s contains the channel secret", f)
				}
			}
		}
		w.raise(Event{AlertID: 1, OrgID: w.hospA.ID, Source: "supply", Kind: "k", Severity: "high", Created: true})
		if n := w.pass(); n != 1 {
			t.Fatalf("sent %d deliveries, want 1", n)
		}

		// A plain secret (a row from before sealing) is read as it is, and sealed by SealPlain.
		if _, err := db.ExecContext(ctx, `UPDATE notify_channels SET secret = 's3cret' WHERE id = ?`, c.ID); err != nil {
			t.Fatal(err)
		}
		w.raise(Event{AlertID: 2, OrgID: w.hospA.ID, Source: "supply", Kind: "k", Severity: "high", Created: true})
		if n := w.pass(); n != 1 {
			t.Fatalf("sent %d deliveries with a plain secret, want 1", n)
		}
		if n, err := w.svc.SealPlain(ctx); err != nil || n != 1 {
			t.Fatalf("SealPlain = %d, %v; want 1", n, err)
		}
		if s := stored(); !strings.HasPrefix(s, sealedPrefix) {
			t.Fatalf("after SealPlain the secret is %q", s)
		}
		w.raise(Event{AlertID: 3, OrgID: w.hospA.ID, Source: "supply", Kind: "k", Severity: "high", Created: true})
		if n := w.pass(); n != 1 {
			t.Fatalf("sent %d deliveries after SealPlain, want 1", n)
		}
		w.recv.mu.Lock()
		for i, h := range w.recv.hits {
			if !h.signed {
				t.Errorf("hit %d: not signed with the channel's secret", i)
			}
		}
		if len(w.recv.hits) != 3 {
			t.Errorf("receiver got %d requests, want 3", len(w.recv.hits))
		}
		w.recv.mu.Unlock()

		// Another key cannot open it: the channel's messages wait, nothing is sent.
		other := New(db, nil, Options{Key: []byte("fedcba9876543210"), Now: w.clock.Now, Logger: w.svc.opt.Logger})
		w.raise(Event{AlertID: 4, OrgID: w.hospA.ID, Source: "supply", Kind: "k", Severity: "high", Created: true})
		if n, err := other.Pass(ctx); err != nil || n != 0 {
			t.Fatalf("a service with another key sent %d (%v)", n, err)
		}
		// And without a key, a channel with a secret is refused.
		nokey := New(db, w.svc.trail, Options{Logger: w.svc.opt.Logger})
		if _, err := nokey.AddChannel(ctx, w.admin, ChannelInput{OrgID: w.prov.ID, Name: "x", Kind: "webhook", URL: w.url, Secret: "s"}); err == nil {
			t.Fatal("a channel with a secret was added without a key")
		}
	})
}
