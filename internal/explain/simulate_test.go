package explain_test

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/medguard/medguard/internal/events/simulate"
	"github.com/medguard/medguard/internal/explain"
	"github.com/medguard/medguard/internal/reference"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// TestSimulatedHospital explains the stream of the simulated hospital (seed 1) after
// importing its reference CSVs: at least 90 % of the normal (not injected) patient
// accesses are explained, and every relation scenario is flagged with its flag.
func TestSimulatedHospital(t *testing.T) {
	r, err := simulate.Generate(simulate.Config{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := r.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	injected := map[string]bool{}
	for _, sc := range r.Truth {
		for _, id := range sc.EventIDs {
			injected[id] = true
		}
	}
	relation := map[string]string{simulate.KindCoworker: explain.FlagCoworker, simulate.KindFamily: explain.FlagFamily,
		simulate.KindNeighbour: explain.FlagNeighbour, simulate.KindVIP: explain.FlagVIP, simulate.KindSelf: explain.FlagSelf,
		simulate.KindDeceased: explain.FlagDeceased}
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		for kind, f := range map[string]string{reference.KindStaff: simulate.FileStaff,
			reference.KindPatients: simulate.FilePatients, reference.KindEncounters: simulate.FileEncounters} {
			b, err := os.ReadFile(filepath.Join(dir, f))
			if err != nil {
				t.Fatal(err)
			}
			w.imp(w.hospA.ID, kind, string(b))
		}
		x := w.explainer()
		// ExplainAccount, with a cache per account as the rule engine keeps them, must
		// say exactly what Explain says.
		caches := map[string]*explain.AccountCache{}
		byID := map[string]explain.Explanation{}
		normal, explained := 0, 0
		classes := map[string]int{}
		for i := range r.Events {
			ev := &r.Events[i]
			x.Observe(w.hospA.ID, ev)
			ex, err := x.Explain(ctx, w.hospA.ID, ev)
			if err != nil {
				t.Fatal(err)
			}
			c := caches[ev.Account]
			if c == nil {
				c = &explain.AccountCache{}
				caches[ev.Account] = c
			}
			exa, err := x.ExplainAccount(ctx, w.hospA.ID, ev, c)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(exa, ex) {
				t.Fatalf("event %s: ExplainAccount %+v, Explain %+v", ev.ID, exa, ex)
			}
			if ex.Class == "" {
				continue
			}
			byID[ev.ID] = ex
			if !injected[ev.ID] {
				normal++
				classes[ex.Class]++
				if ex.Class == explain.Explained {
					explained++
				}
			}
		}
		share := float64(explained) / float64(normal)
		t.Logf("%d normal patient accesses: %v, explained share %.3f", normal, classes, share)
		if normal < 10_000 || share < 0.9 {
			t.Errorf("%d of %d normal accesses explained (%.3f), want ≥ 0.9", explained, normal, share)
		}
		seen := map[string]int{}
		for _, sc := range r.Truth {
			flag, ok := relation[sc.Kind]
			if !ok {
				continue
			}
			for _, id := range sc.EventIDs {
				ex := byID[id]
				seen[sc.Kind]++
				if ex.Class != explain.Flagged || !ex.Has(flag) {
					t.Errorf("%s scenario event %s: %+v, want flagged %s", sc.Kind, id, ex, flag)
				}
			}
		}
		for k := range relation {
			if seen[k] == 0 {
				t.Errorf("no %s scenario in the stream", k)
			}
		}
	})
}
