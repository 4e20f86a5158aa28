package auth

import (
	"context"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
	"github.com/medguard/medguard/internal/trail"
	"github.com/medguard/medguard/internal/trail/trailtest"
)

func TestSetupToken(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		tl, err := trail.New(trail.SHA256, trailtest.Key(t))
		mustNotErr(t, err)
		clk := newClock()
		svc := NewService(db, tl, Options{Now: clk.Now})
		root, err := org.NewService(db, tl).Create(ctx, actor.System(), org.Input{Kind: org.KindProvince, Name: "P"})
		mustNotErr(t, err)

		consume := func(tok string) error {
			return db.InTx(ctx, func(tx *store.Tx) error { return svc.ConsumeSetupToken(ctx, tx, tok) })
		}
		// No token issued yet.
		wantProblem(t, consume("anything"), problem.KindUnauthorized, "bad_setup_token")

		tok, err := svc.IssueSetupToken(ctx)
		mustNotErr(t, err)
		var v string
		mustNotErr(t, db.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = 'setup_token'`).Scan(&v))
		if v != hashToken(tok)+"|"+clk.Now().Add(24*time.Hour).Format(time.RFC3339) {
			t.Fatalf("stored value %q is not hash|expiry", v)
		}
		wantProblem(t, consume(tok+"x"), problem.KindUnauthorized, "bad_setup_token")
		wantProblem(t, consume(""), problem.KindUnauthorized, "bad_setup_token")

		// Expired.
		clk.Advance(24 * time.Hour)
		wantProblem(t, consume(tok), problem.KindUnauthorized, "bad_setup_token")

		// A fresh token replaces the old one; consuming it and creating the first admin
		// is one transaction.
		old := tok
		tok, err = svc.IssueSetupToken(ctx)
		mustNotErr(t, err)
		clk.Advance(time.Hour)
		wantProblem(t, consume(old), problem.KindUnauthorized, "bad_setup_token")
		// A failure after consuming rolls the consumption back.
		err = db.InTx(ctx, func(tx *store.Tx) error {
			if err := svc.ConsumeSetupToken(ctx, tx, tok); err != nil {
				return err
			}
			_, err := svc.CreateUserTx(ctx, tx, actor.System(), UserInput{OrgID: root.ID, Username: "first", Role: RoleAdmin, Password: "weak"})
			return err
		})
		wantProblem(t, err, problem.KindInvalid, "weak_password")
		var first User
		err = db.InTx(ctx, func(tx *store.Tx) error {
			if err := svc.ConsumeSetupToken(ctx, tx, tok); err != nil {
				return err
			}
			first, err = svc.CreateUserTx(ctx, tx, actor.System(), UserInput{OrgID: root.ID, Username: "first", Role: RoleAdmin, Password: testPassword})
			return err
		})
		if err != nil {
			t.Fatalf("setup: %v", err)
		}
		if first.MustChangePassword {
			t.Fatal("the first administrator chose its own password; it need not change it")
		}
		wantProblem(t, consume(tok), problem.KindUnauthorized, "bad_setup_token")
		_, err = svc.IssueSetupToken(ctx)
		wantProblem(t, err, problem.KindConflict, "already_set_up")
		if dbContains(t, db, "trail", trailTextColumns, tok) {
			t.Fatal("the trail contains the setup token")
		}
		if acts := trailActions(t, db); acts["auth.setup_token"] != 2 || acts["user.create"] != 1 {
			t.Fatalf("trail actions = %v", acts)
		}
	})
}

func FuzzParseSetupValue(f *testing.F) {
	f.Add("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef|2026-03-03T08:00:00Z")
	f.Add("|")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		h, _, err := parseSetupValue(s)
		if err == nil && len(h) != 64 {
			t.Fatalf("accepted hash %q", h)
		}
	})
}
