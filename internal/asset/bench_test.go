package asset_test

import (
	"bytes"
	"context"
	"math/rand"
	"testing"

	"github.com/medguard/medguard/internal/asset"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// BenchmarkList lists, searches and counts a 100,000-asset inventory on SQLite (10,000
// with -short).
func BenchmarkList(b *testing.B) {
	n := 100_000
	if testing.Short() {
		n = 10_000
	}
	ctx := context.Background()
	db := storetest.Open(b, store.SQLite)
	w := newWorld(b, db)
	ins := asset.Generate(rand.New(rand.NewSource(1)), demoOrgs(w), n)
	if _, err := w.svc.BulkCreate(ctx, w.prov1, ins); err != nil {
		b.Fatal(err)
	}
	cases := []struct {
		name string
		a    string
		q    asset.Query
	}{
		{"first page by name", "P", asset.Query{}},
		{"hospital A, page 20", "A", asset.Query{Page: 20}},
		{"kind and zone", "P", asset.Query{Kind: "medical_device", Zone: "medical", Sort: "-updated_at"}},
		{"search", "P", asset.Query{Q: "迈瑞"}},
		{"tag", "A", asset.Query{Tag: "核心", Sort: "-mlps_level"}},
		{"500 per page by org", "P", asset.Query{PerPage: 500, Sort: "org"}},
	}
	for _, c := range cases {
		a := w.prov1
		if c.a == "A" {
			a = w.actorA
		}
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := w.svc.List(ctx, a, c.q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("stats", func(b *testing.B) {
		for b.Loop() {
			if _, err := w.svc.Stats(ctx, w.prov1); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkImport imports a 5,000-row CSV file into a fresh SQLite database per run.
func BenchmarkImport(b *testing.B) {
	const rows = 5_000
	var data []byte
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		db := storetest.Open(b, store.SQLite)
		w := newWorld(b, db)
		if data == nil {
			orgs := demoOrgs(w)[:3]
			codes := map[int64]string{}
			for _, o := range orgs {
				codes[o.ID] = o.Code
			}
			data = generatedCSV(b, asset.Generate(rand.New(rand.NewSource(2)), orgs, rows), codes)
		}
		b.StartTimer()
		rep, err := w.svc.Import(context.Background(), w.actorA, bytes.NewReader(data), asset.ImportOptions{})
		if err != nil || rep.Created != rows {
			b.Fatalf("import: %+v, %v", rep, err)
		}
		b.StopTimer()
		db.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}
