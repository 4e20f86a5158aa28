package alert_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// BenchmarkRaise measures raising an alert inside a caller's transaction (the target is
// under 1 ms an alert on both engines): "new" creates an alert each time, "repeat"
// counts the same open alert again, each with an active silence to match against;
// "own-tx" gives each raise a transaction of its own, begin and commit included.
func BenchmarkRaise(b *testing.B) {
	for _, d := range storetest.Dialects {
		b.Run(string(d), func(b *testing.B) {
			db := storetest.Open(b, d)
			w := newWorld(b, db)
			ctx := context.Background()
			if _, err := w.svc.CreateSilence(ctx, w.actorA, alert.SilenceInput{OrgID: w.hospA.ID, Kind: "something_else",
				Reason: "bench", ExpiresAt: w.now.Add(24 * 3600 * 1e9)}); err != nil {
				b.Fatal(err)
			}
			in := alert.Input{OrgID: w.deptA1.ID, Source: "supply", Kind: "new_vulnerability", Severity: "high",
				Title: i18n.M("supply.alert.new_vulnerability", "CVE-2026-0001", 3, 4), Subject: "CVE-2026-0001",
				Evidence: map[string]any{"vuln_id": "CVE-2026-0001", "products": []string{"HIS 5.2", "PACS 3.1"}}}
			// What raising adds to a caller's transaction: raises share transactions of
			// 100 (new, repeat); and what a transaction of its own costs besides (own-tx).
			for _, mode := range []string{"new", "repeat", "own-tx"} {
				b.Run(mode, func(b *testing.B) {
					b.ReportAllocs()
					per := 100
					if mode == "own-tx" {
						per = 1
					}
					i := 0
					for b.Loop() {
						if i%per == 0 {
							if err := db.InTx(ctx, func(tx *store.Tx) error {
								for j := 0; j < per; j++ {
									in.DedupKey = "bench"
									if mode != "repeat" {
										in.DedupKey = mode + strconv.Itoa(i+j)
									}
									if _, _, err := w.svc.Raise(ctx, tx, in); err != nil {
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
