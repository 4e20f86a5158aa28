package trail_test

import (
	"context"
	"crypto/ed25519"
	"testing"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
	"github.com/medguard/medguard/internal/trail"
	"github.com/medguard/medguard/internal/trail/trailtest"
)

// TestSummaryMessageIsChained stores entries with and without a catalogue message and
// checks that both kinds verify, that the message is read back (nested messages included),
// that a checkpoint of the chain still verifies, and that changing the stored message,
// removing it or adding one to an entry written without it is reported at that entry.
func TestSummaryMessageIsChained(t *testing.T) {
	msg := i18n.M("trail.summary.user.create", "alice", i18n.M("role.security_officer"))
	cases := []struct {
		name    string
		tamper  string
		wantSeq int64
	}{
		{"edit the message", `UPDATE trail SET summary_msg = '{"key":"trail.summary.user.delete","args":["alice"]}' WHERE seq = 2`, 2},
		{"remove the message", `UPDATE trail SET summary_msg = '' WHERE seq = 2`, 2},
		{"add a message", `UPDATE trail SET summary_msg = '{"key":"trail.summary.auth.logout"}' WHERE seq = 1`, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			storetest.ForEach(t, func(t *testing.T, db *store.DB) {
				ctx := context.Background()
				tl := trailtest.New(t, trail.SHA256)
				a := actor.Actor{UserID: 7, Username: "secofficer", Role: "security_officer", OrgPath: "/1/", IP: "10.0.0.8"}
				err := db.InTx(ctx, func(tx *store.Tx) error {
					_, err := tl.AppendBatch(ctx, tx, a, []trail.Event{
						{Action: "user.update", ObjectType: "user", ObjectID: "1", Summary: "old style", Msg: nil},
						{Action: "user.create", ObjectType: "user", ObjectID: "2", Summary: "alice (security_officer)", Msg: &msg},
						{Action: "user.update", ObjectType: "user", ObjectID: "3", Summary: "bob", Msg: &i18n.Message{Key: "trail.summary.user.update", Args: []any{"bob"}}},
					})
					return err
				})
				if err != nil {
					t.Fatal(err)
				}
				r, err := tl.Verify(ctx, db)
				if err != nil || !r.OK || r.Entries != 3 {
					t.Fatalf("before tampering: %+v %v", r, err)
				}
				_, priv, err := ed25519.GenerateKey(nil)
				if err != nil {
					t.Fatal(err)
				}
				signer, err := trail.NewSigner(priv)
				if err != nil {
					t.Fatal(err)
				}
				cp, err := tl.Checkpoint(ctx, db, signer)
				if err != nil {
					t.Fatal(err)
				}
				if r, err := tl.Verify(ctx, db, cp); err != nil || !r.OK {
					t.Fatalf("with a checkpoint: %+v %v", r, err)
				}
				es, err := trail.List(ctx, db, actor.System(), trail.Filter{})
				if err != nil {
					t.Fatal(err)
				}
				if len(es) != 3 || es[2].Msg != nil || es[1].Msg == nil || es[1].Msg.Key != msg.Key {
					t.Fatalf("entries read back: %+v", es)
				}
				cat := i18n.MustLoad()
				if got, want := cat.Render(i18n.EN, *es[1].Msg), cat.Render(i18n.EN, msg); got != want {
					t.Errorf("stored message renders %q, want %q", got, want)
				}
				if _, err := db.ExecContext(ctx, tc.tamper); err != nil {
					t.Fatal(err)
				}
				r, err = tl.Verify(ctx, db)
				if err != nil {
					t.Fatal(err)
				}
				if r.OK || r.BadSeq != tc.wantSeq {
					t.Fatalf("tampering not reported at entry %d: %+v", tc.wantSeq, r)
				}
			})
		})
	}
}
