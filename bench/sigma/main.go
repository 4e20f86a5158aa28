// Command sigma compares medguard's rule engine (package detect) with a Go Sigma engine,
// github.com/markuskont/go-sigma-rule-engine, on equivalent single-event field rules
// (kind match: a bulk export, a drug-usage query outside the pharmacy, a privilege
// change, a large deletion, print or search) over the same events: the simulator's
// hospital (seed 1, default size) held in memory. Both run on one goroutine; it prints
// events per second of each and the ratio, and checks that every event medguard alerted
// on is one Sigma matches (medguard fires once per account and hour, Sigma on every
// matching event).
//
// It is a module of its own so that the product's go.mod never gains the Sigma engine.
package main

import (
	"context"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"time"

	sigma "github.com/markuskont/go-sigma-rule-engine"
	"gopkg.in/yaml.v2"

	"github.com/medguard/medguard/internal/detect"
	"github.com/medguard/medguard/internal/events"
	"github.com/medguard/medguard/internal/events/simulate"
)

// ruleIDs are the built-in rules of kind match the Sigma rules below restate.
var ruleIDs = []string{"bulk-export", "drug-usage-query", "privilege-change", "record-deletion-large", "large-print", "large-search"}

// sigmaRules are the same rules in Sigma. The engine has no numeric comparison
// modifier (gte), so "record_count ≥ N" is a regular expression on its decimal form.
var sigmaRules = map[string]string{
	"bulk-export": `
title: Export of many records in one event
id: bulk-export
detection:
  selection:
    action: export
    record_count|re: '^[1-9][0-9]{3,}$'
  condition: selection`,
	"drug-usage-query": `
title: Drug-usage query by a non-pharmacy account
id: drug-usage-query
detection:
  selection:
    action: query_drug_usage
  pharmacy:
    department:
      - 药剂科
      - 药学部
      - 药房
      - 药库
      - pharmacy
      - Pharmacy
  condition: selection and not pharmacy`,
	"privilege-change": `
title: Account privileges changed
id: privilege-change
detection:
  selection:
    action: privilege_change
  condition: selection`,
	"record-deletion-large": `
title: One deletion of many records
id: record-deletion-large
detection:
  selection:
    action: delete
    record_count|re: '^([5-9][0-9]|[1-9][0-9]{2,})$'
  condition: selection`,
	"large-print": `
title: One print of many records
id: large-print
detection:
  selection:
    action: print
    record_count|re: '^([5-9][0-9]{2}|[1-9][0-9]{3,})$'
  condition: selection`,
	"large-search": `
title: One search returning many records
id: large-search
detection:
  selection:
    action: search
    record_count|re: '^[1-9][0-9]{3,}$'
  condition: selection`,
}

// sigmaEvent is an event as the Sigma engine selects fields of it; the record count's
// decimal form is computed once, before the timing.
type sigmaEvent struct {
	e     *events.Event
	count string
}

func (s *sigmaEvent) Keywords() ([]string, bool) { return nil, false }

func (s *sigmaEvent) Select(key string) (any, bool) {
	switch key {
	case "action":
		return s.e.Action, true
	case "department":
		return s.e.Department, true
	case "record_count":
		return s.count, true
	case "system":
		return s.e.System, true
	case "account":
		return s.e.Account, true
	case "outcome":
		return s.e.Outcome, true
	case "record_type":
		return s.e.RecordType, true
	}
	return nil, false
}

func main() {
	rounds := flag.Int("rounds", 5, "passes over the events for each engine (the best is reported)")
	seed := flag.Uint64("seed", 1, "simulator seed")
	flag.Parse()
	if err := run(*rounds, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "sigma:", err)
		os.Exit(1)
	}
}

func run(rounds int, seed uint64) error {
	sim, err := simulate.Generate(simulate.Config{Seed: seed})
	if err != nil {
		return err
	}
	evs := make([]events.Stored, len(sim.Events))
	sevs := make([]sigmaEvent, len(sim.Events))
	for i, e := range sim.Events {
		if r := events.Validate(&e); r != nil {
			return fmt.Errorf("event %d: %s %s", i, r.Field, r.Reason)
		}
		evs[i] = events.Stored{Event: e, Seq: int64(i + 1), OrgID: 1}
	}
	for i := range evs {
		sevs[i] = sigmaEvent{e: &evs[i].Event, count: strconv.Itoa(evs[i].RecordCount)}
	}
	var rules []detect.Rule
	for _, id := range ruleIDs {
		r, ok := detect.BuiltinRule(id)
		if !ok {
			return fmt.Errorf("no built-in rule %s", id)
		}
		rules = append(rules, r)
	}
	var trees []*sigma.Tree
	for _, id := range ruleIDs {
		var r sigma.Rule
		if err := yaml.Unmarshal([]byte(sigmaRules[id]), &r); err != nil {
			return fmt.Errorf("sigma rule %s: %w", id, err)
		}
		t, err := sigma.NewTree(sigma.RuleHandle{Rule: r})
		if err != nil {
			return fmt.Errorf("sigma rule %s: %w", id, err)
		}
		trees = append(trees, t)
	}
	env := detect.Env{JumpHosts: []netip.Addr{netip.MustParseAddr("10.0.0.10")}}
	ctx := context.Background()

	// Sigma: every rule on every event (it has no index by field).
	sigmaMatch := map[string]map[string]bool{}
	for _, id := range ruleIDs {
		sigmaMatch[id] = map[string]bool{}
	}
	var bestSigma time.Duration
	for round := range rounds {
		start := time.Now()
		n := 0
		for i := range sevs {
			for j, t := range trees {
				if m, _ := t.Match(&sevs[i]); m {
					n++
					if round == 0 {
						sigmaMatch[ruleIDs[j]][sevs[i].e.ID] = true
					}
				}
			}
		}
		if d := time.Since(start); round == 0 || d < bestSigma {
			bestSigma = d
		}
		if n != len(sigmaMatch["bulk-export"])+len(sigmaMatch["drug-usage-query"])+len(sigmaMatch["privilege-change"])+
			len(sigmaMatch["record-deletion-large"])+len(sigmaMatch["large-print"])+len(sigmaMatch["large-search"]) {
			return fmt.Errorf("sigma: %d matches in round %d, not the first round's", n, round+1)
		}
	}
	// medguard: the same rules, through the engine's dispatch.
	ours := map[string][]string{}
	var bestOurs time.Duration
	for round := range rounds {
		eng, err := detect.NewEngine(rules, env)
		if err != nil {
			return err
		}
		emit := func(h detect.Hit) {
			if round == 0 {
				ours[h.Rule.ID] = append(ours[h.Rule.ID], h.Events...)
			}
		}
		start := time.Now()
		for i := range evs {
			if err := eng.Evaluate(ctx, 1, &evs[i], emit); err != nil {
				return err
			}
		}
		if d := time.Since(start); round == 0 || d < bestOurs {
			bestOurs = d
		}
	}
	for _, id := range ruleIDs {
		for _, ev := range ours[id] {
			if !sigmaMatch[id][ev] {
				return fmt.Errorf("rule %s: medguard fired on event %s, which the Sigma rule does not match", id, ev)
			}
		}
	}
	n := float64(len(evs))
	sigmaRate, oursRate := n/bestSigma.Seconds(), n/bestOurs.Seconds()
	fmt.Printf("events %d, rules %d (kind match), best of %d rounds, one goroutine, %s %s/%s\n", len(evs), len(ruleIDs), rounds,
		runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Printf("%-28s %14s %10s\n", "engine", "events/s", "matches")
	total := 0
	for _, m := range sigmaMatch {
		total += len(m)
	}
	alerts := 0
	for _, e := range ours {
		alerts += len(e)
	}
	fmt.Printf("%-28s %14.0f %10d\n", "go-sigma-rule-engine v0.3.0", sigmaRate, total)
	fmt.Printf("%-28s %14.0f %10d\n", "medguard detect", oursRate, alerts)
	fmt.Printf("ratio medguard / sigma: %.1f×\n", oursRate/sigmaRate)
	return nil
}
