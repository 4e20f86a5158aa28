package detect

import (
	"context"
	"net/netip"
	"sync"
	"testing"

	"github.com/medguard/medguard/internal/events"
	"github.com/medguard/medguard/internal/events/simulate"
)

var (
	benchOnce sync.Once
	benchSim  *simulate.Result
	benchEvs  []events.Stored
)

// benchEvents are the simulator's events (seed 1, default size) as stored events.
func benchEvents(b *testing.B) (*simulate.Result, []events.Stored) {
	benchOnce.Do(func() {
		sim, err := simulate.Generate(simulate.Config{Seed: 1})
		if err != nil {
			b.Fatal(err)
		}
		benchSim = sim
		benchEvs = make([]events.Stored, len(sim.Events))
		for i, e := range sim.Events {
			if r := events.Validate(&e); r != nil {
				b.Fatalf("event %d: %s %s", i, r.Field, r.Reason)
			}
			benchEvs[i] = events.Stored{Event: e, Seq: int64(i + 1), OrgID: 1}
		}
	})
	return benchSim, benchEvs
}

// BenchmarkEvaluate evaluates the simulator's events (in memory) on one goroutine and
// reports events per second (per core): "library" is the whole built-in library with
// the real explainer (its snapshot loaded before the timing); "no-explainer" the rules
// that need no explanation, which shows the engine's own cost.
func BenchmarkEvaluate(b *testing.B) {
	_, evs := benchEvents(b)
	jumps := []netip.Addr{netip.MustParseAddr("10.0.0.10"), netip.MustParseAddr("10.0.0.11")}
	b.Run("library", func(b *testing.B) {
		benchmarkEvaluate(b, evs, Builtin(), Env{JumpHosts: jumps, Explainer: benchExplainer(b)})
	})
	b.Run("no-explainer", func(b *testing.B) {
		var rules []Rule
		for _, r := range Builtin() {
			if !needsExplainer([]Rule{r}) {
				rules = append(rules, r)
			}
		}
		benchmarkEvaluate(b, evs, rules, Env{JumpHosts: jumps})
	})
}

func benchmarkEvaluate(b *testing.B, evs []events.Stored, rules []Rule, env Env) {
	ctx := context.Background()
	hits := 0
	emit := func(Hit) { hits++ }
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	n := 0
	for b.Loop() {
		b.StopTimer()
		eng, err := NewEngine(rules, env)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		for i := range evs {
			if err := eng.Evaluate(ctx, 1, &evs[i], emit); err != nil {
				b.Fatal(err)
			}
		}
		n += len(evs)
	}
	// Wall time on a shared machine understates a core's rate: events per second of CPU
	// time of the process (the evaluating goroutine and the collector) is the per-core
	// figure.
	b.ReportMetric(float64(n)/(cpuTime()-cpu0).Seconds(), "events/cpu-s")
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(hits)/float64(b.N), "hits/op")
}
