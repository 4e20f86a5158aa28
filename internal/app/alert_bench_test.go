package app

import (
	"context"
	"strconv"
	"testing"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/notify"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// BenchmarkRaiseNotified is the cost of raising an alert inside a caller's transaction as
// the application wires it: the alert's upsert plus its outbox rows for the routes it
// matches (one webhook channel, one role's in-app inbox). Raises share transactions of
// 100 ("new") or have one each ("own-tx").
func BenchmarkRaiseNotified(b *testing.B) {
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			ctx := context.Background()
			cfg := Defaults()
			cfg.DataDir = b.TempDir()
			if engine == "postgres" {
				cfg.DB = storetest.FreshPostgresURL(b)
			}
			a, err := Open(ctx, cfg, quiet())
			if err != nil {
				b.Fatal(err)
			}
			defer a.Close()
			top, err := a.Orgs.Create(ctx, actor.System(), org.Input{Kind: org.KindHospital, Name: "H"})
			if err != nil {
				b.Fatal(err)
			}
			c, err := a.Notify.AddChannel(ctx, actor.CLI(), notify.ChannelInput{OrgID: top.ID, Name: "hook", Kind: "webhook",
				URL: "http://127.0.0.1:9/hook"})
			if err != nil {
				b.Fatal(err)
			}
			for _, r := range []notify.Route{{OrgID: top.ID, ChannelID: c.ID, Subtree: true}, {OrgID: top.ID, Role: "security", Subtree: true}} {
				if _, err := a.Notify.AddRoute(ctx, actor.CLI(), r); err != nil {
					b.Fatal(err)
				}
			}
			in := alert.Input{OrgID: top.ID, Source: "supply", Kind: "new_vulnerability", Severity: "high",
				Title: i18n.M("supply.alert.new_vulnerability", "CVE-2026-0001", 3, 4), Subject: "CVE-2026-0001"}
			for _, mode := range []string{"new", "own-tx"} {
				b.Run(mode, func(b *testing.B) {
					per := 100
					if mode == "own-tx" {
						per = 1
					}
					i := 0
					for b.Loop() {
						if i%per == 0 {
							if err := a.DB.InTx(ctx, func(tx *store.Tx) error {
								for j := 0; j < per; j++ {
									in.DedupKey = mode + strconv.Itoa(i+j)
									if _, _, err := a.Alerts.Raise(ctx, tx, in); err != nil {
										return err
									}
								}
								return nil
							}); err != nil {
								b.Fatal(err)
							}
						}
						i++
					}
				})
			}
		})
	}
}
