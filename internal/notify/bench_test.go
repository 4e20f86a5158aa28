package notify

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/notify/channel"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
	"github.com/medguard/medguard/internal/trail"
	"github.com/medguard/medguard/internal/trail/trailtest"
)

// BenchmarkWebhookDispatch measures deliveries a second to a loopback webhook receiver:
// b.N alerts wait in the outbox of 16 webhook channels, one alert a message (so that
// each alert is one delivery: one grouping transaction, one signed POST, one update),
// and the dispatcher sends them all. Target: ≥ 1,000 deliveries/s.
func BenchmarkWebhookDispatch(b *testing.B) {
	for _, d := range storetest.Dialects {
		b.Run(string(d), func(b *testing.B) {
			ctx := context.Background()
			db := storetest.Open(b, d)
			tl, err := trail.New(trail.SHA256, trailtest.Key(b))
			if err != nil {
				b.Fatal(err)
			}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.Copy(io.Discard, r.Body) }))
			defer srv.Close()
			svc := New(db, tl, Options{Key: testKey, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Concurrency: 8,
				Limit: func(string) (channel.Limit, int) { return channel.Limit{}, 1 }})
			top, err := org.NewService(db, tl).Create(ctx, actor.System(), org.Input{Kind: org.KindHospital, Name: "H"})
			if err != nil {
				b.Fatal(err)
			}
			admin := actor.Actor{Username: "bench", Role: "admin", OrgID: top.ID, OrgPath: top.Path}
			for i := range 16 {
				c, err := svc.AddChannel(ctx, admin, ChannelInput{OrgID: top.ID, Name: fmt.Sprint("hook ", i), Kind: channel.KindWebhook,
					URL: srv.URL, Secret: "s3cret", Lang: i18n.EN})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := svc.AddRoute(ctx, admin, Route{OrgID: top.ID, ChannelID: c.ID, Source: fmt.Sprint("m", i%16)}); err != nil {
					b.Fatal(err)
				}
			}
			for lo := 0; lo < b.N; lo += 500 {
				err := db.InTx(ctx, func(tx *store.Tx) error {
					for i := lo; i < min(lo+500, b.N); i++ {
						now := time.Now()
						if err := svc.Enqueue(ctx, tx, Event{AlertID: int64(i + 1), OrgID: top.ID, Source: fmt.Sprint("m", i%16), Kind: "k",
							Severity: "high", Title: i18n.M("notify.test.title"), Created: true, FirstSeen: now, LastSeen: now, Count: 1}); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			start := time.Now()
			sent := 0
			for sent < b.N {
				n, err := svc.Pass(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if n == 0 {
					b.Fatalf("%d of %d sent, then nothing", sent, b.N)
				}
				sent += n
			}
			b.ReportMetric(float64(sent)/time.Since(start).Seconds(), "deliveries/s")
		})
	}
}
