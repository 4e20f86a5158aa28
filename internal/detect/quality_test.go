package detect

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/events/simulate"
	"github.com/medguard/medguard/internal/explain"
	"github.com/medguard/medguard/internal/reference"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// simWorld is the simulator's hospital (seed 1, default size) imported into a fresh
// SQLite store: reference data and events.
func simWorld(t *testing.T) (*world, *simulate.Result, *reference.Service) {
	t.Helper()
	sim, err := simulate.Generate(simulate.Config{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	db := storetest.Open(t, store.SQLite)
	w := newWorld(t, db)
	ref := w.importReference(t, sim)
	w.append(t, sim.Events)
	return w, sim, ref
}

// importReference imports the simulated hospital's staff, patients and encounters.
func (w *world) importReference(t testing.TB, sim *simulate.Result) *reference.Service {
	t.Helper()
	dir := t.TempDir()
	if err := sim.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	return w.importReferenceDir(t, dir)
}

// importReferenceDir imports staff.csv, patients.csv and encounters.csv of dir into
// the hospital.
func (w *world) importReferenceDir(t testing.TB, dir string) *reference.Service {
	t.Helper()
	ctx := context.Background()
	key := make([]byte, reference.KeySize)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	ref, err := reference.New(w.db, w.tl, reference.Options{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []struct{ kind, file string }{{reference.KindStaff, simulate.FileStaff},
		{reference.KindPatients, simulate.FilePatients}, {reference.KindEncounters, simulate.FileEncounters}} {
		b, err := os.ReadFile(filepath.Join(dir, k.file))
		if err != nil {
			t.Fatal(err)
		}
		rep, err := ref.Import(ctx, actor.System(), w.hosp.ID, k.kind, bytes.NewReader(b))
		if err != nil || rep.ErrorCount != 0 {
			t.Fatalf("import %s: %v %+v", k.kind, err, rep.Errors)
		}
	}
	return ref
}

// simEnv is the simulated hospital's network: 10.0.0.0/8 inside, jump hosts 10.0.0.10
// and 10.0.0.11.
func simEnv(ref *reference.Service) Env {
	var jumps []netip.Addr
	for _, h := range simulate.JumpHosts {
		jumps = append(jumps, netip.MustParseAddr(h))
	}
	return Env{InternalNets: []netip.Prefix{netip.MustParsePrefix(simulate.InternalNetwork)}, JumpHosts: jumps,
		Explainer: explain.New(ref, explain.Options{})}
}

// TestQuality runs the built-in library over the simulator's two weeks (seed 1, default
// size, SQLite) through detect.Run and scores it against the ground truth: a scenario is
// found when an alert raised for it has evidence events among the scenario's; a hit whose
// evidence touches no scenario is a false alert. Recall must be at least 0.95 (per
// scenario) and precision (hits that touch a scenario) at least 0.9. The per-rule table
// is logged for bench/RESULTS.md.
func TestQuality(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates two weeks of a hospital")
	}
	ctx := context.Background()
	w, sim, ref := simWorld(t)
	env := simEnv(ref)
	// The hits, through the same engine and walk as Run (Test raises nothing) …
	hits, err := Test(ctx, w.evs, Builtin(), env, Span{})
	if err != nil {
		t.Fatal(err)
	}
	// … and the alerts of detect.Run.
	eng, err := NewEngine(Builtin(), simEnv(ref))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Run(ctx, w.db, w.evs, w.al, eng, Span{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Hits != len(hits) || rep.Events != len(sim.Events) {
		t.Errorf("Run: %d hits of %d events; Test: %d hits of %d events", rep.Hits, rep.Events, len(hits), len(sim.Events))
	}
	scenarioOf := map[string][]int{} // event id → scenarios
	for i, sc := range sim.Truth {
		for _, id := range sc.EventIDs {
			scenarioOf[id] = append(scenarioOf[id], i)
		}
	}
	found := make([]bool, len(sim.Truth))
	type row struct{ hits, tp, fp int }
	perRule := map[string]*row{}
	for _, r := range Builtin() {
		perRule[r.ID] = &row{}
	}
	tp, fp := 0, 0
	for _, h := range hits {
		rw := perRule[h.Rule.ID]
		rw.hits++
		hit := false
		for _, id := range h.Events {
			for _, i := range scenarioOf[id] {
				found[i] = true
				hit = true
			}
		}
		if hit {
			rw.tp++
			tp++
		} else {
			rw.fp++
			fp++
		}
	}
	// The alerts as stored: their evidence names the same events.
	alerts := monitorAlertEvidence(t, w)
	alertFound := make([]bool, len(sim.Truth))
	for _, ids := range alerts {
		for _, id := range ids {
			for _, i := range scenarioOf[id] {
				alertFound[i] = true
			}
		}
	}
	perKind := map[string][2]int{} // kind → found, total
	nFound, nAlertFound := 0, 0
	for i, sc := range sim.Truth {
		c := perKind[sc.Kind]
		c[1]++
		if found[i] {
			c[0]++
			nFound++
		} else {
			t.Logf("missed: %s %s %s (%s)", sc.Kind, sc.Account, strings.Join(sc.Accounts, ","), sc.Note)
		}
		if alertFound[i] {
			nAlertFound++
		}
		perKind[sc.Kind] = c
	}
	recall := float64(nFound) / float64(len(sim.Truth))
	precision := float64(tp) / float64(max(1, tp+fp))
	var b strings.Builder
	fmt.Fprintf(&b, "\nDetection quality, simulator seed 1 (%d staff, %d days, %d events), %d built-in rules\n\n", sim.Config.Staff,
		sim.Config.Days, len(sim.Events), len(Builtin()))
	b.WriteString("| scenario kind | scenarios | found |\n| --- | ---: | ---: |\n")
	for _, k := range simulate.Kinds {
		c := perKind[k]
		fmt.Fprintf(&b, "| %s | %d | %d |\n", k, c[1], c[0])
	}
	b.WriteString("\n| rule | kind | hits | on a scenario | false |\n| --- | --- | ---: | ---: | ---: |\n")
	for _, r := range Builtin() {
		rw := perRule[r.ID]
		fmt.Fprintf(&b, "| %s | %s | %d | %d | %d |\n", r.ID, r.Kind, rw.hits, rw.tp, rw.fp)
	}
	fmt.Fprintf(&b, "\nrecall %.3f (%d of %d scenarios; %d by the stored alerts' evidence), precision %.3f (%d of %d hits), alerts %d\n",
		recall, nFound, len(sim.Truth), nAlertFound, precision, tp, tp+fp, len(alerts))
	t.Log(b.String())
	if recall < 0.95 {
		t.Errorf("recall %.3f < 0.95", recall)
	}
	if precision < 0.9 {
		t.Errorf("precision %.3f < 0.9", precision)
	}
	for _, k := range simulate.Kinds {
		if perKind[k][0] == 0 {
			t.Errorf("no scenario of kind %s found", k)
		}
	}
}

// monitorAlertEvidence returns the evidence event ids of every monitoring alert.
func monitorAlertEvidence(t *testing.T, w *world) [][]string {
	t.Helper()
	rows, err := w.db.QueryContext(context.Background(), `SELECT evidence FROM alerts WHERE source = 'monitor' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out [][]string
	for rows.Next() {
		var raw string
		if err := rows.Scan(&raw); err != nil {
			t.Fatal(err)
		}
		var ev Evidence
		if err := json.Unmarshal([]byte(raw), &ev); err != nil {
			t.Fatalf("evidence %s: %v", raw, err)
		}
		out = append(out, slices.Clone(ev.Events))
	}
	return out
}
