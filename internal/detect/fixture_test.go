package detect

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medguard/medguard/internal/events"
)

var update = flag.Bool("update", false, "rewrite the expected hits of the fixtures")

// fixtureHit is a hit as the fixtures' expected JSON holds it.
type fixtureHit struct {
	Rule      string            `json:"rule"`
	Account   string            `json:"account,omitempty"`
	PatientID string            `json:"patient_id,omitempty"`
	Group     map[string]string `json:"group,omitempty"`
	From      time.Time         `json:"from"`
	To        time.Time         `json:"to"`
	Events    []string          `json:"events"`
	Class     string            `json:"class,omitempty"`
	Flags     []string          `json:"flags,omitempty"`
}

// fixtureEnv is the hospital of the fixtures: jump hosts 10.0.0.10 and 10.0.0.11, a
// holiday on 2026-05-01, Asia/Shanghai.
func fixtureEnv(t *testing.T) Env {
	return Env{JumpHosts: []netip.Addr{netip.MustParseAddr("10.0.0.10"), netip.MustParseAddr("10.0.0.11")},
		Holidays: []time.Time{time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)}}
}

// readEvents reads an NDJSON fixture: one event a line, "#" lines are comments. Each
// event's Seq is its position; an event without an id gets "e<seq>".
func readEvents(t *testing.T, path string) []events.Stored {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []events.Stored
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var e events.Event
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			t.Fatalf("%s: %q: %v", path, line, err)
		}
		seq := int64(len(out) + 1)
		if e.ID == "" {
			e.ID = "e" + itoa(seq)
		}
		if e.System == "" {
			e.System = "HIS"
		}
		if r := events.Validate(&e); r != nil {
			t.Fatalf("%s: event %s: %s %s", path, e.ID, r.Field, r.Reason)
		}
		out = append(out, events.Stored{Event: e, Seq: seq, OrgID: 1})
	}
	return out
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// evaluate runs evs through a fresh engine of rules and returns the hits as fixtures hold them.
func evaluate(t *testing.T, rules []Rule, env Env, evs []events.Stored) []fixtureHit {
	t.Helper()
	eng, err := NewEngine(rules, env)
	if err != nil {
		t.Fatal(err)
	}
	out := []fixtureHit{}
	for i := range evs {
		if err := eng.Evaluate(context.Background(), evs[i].OrgID, &evs[i], func(h Hit) { out = append(out, toFixture(h)) }); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func toFixture(h Hit) fixtureHit {
	return fixtureHit{Rule: h.Rule.ID, Account: h.Account, PatientID: h.PatientID, Group: h.Group, From: h.From, To: h.To,
		Events: h.Events, Class: h.Explanation.Class, Flags: h.Explanation.Flags}
}

// checkGolden compares got with the expected JSON file (rewritten with -update).
func checkGolden(t *testing.T, path string, got []fixtureHit) {
	t.Helper()
	if *update {
		b, err := json.MarshalIndent(got, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to write it, then check it)", err)
	}
	var want []fixtureHit
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("hits (-want +got):\n%s", d)
	}
}

// TestKinds: one fixture per rule kind — testdata/kinds/NAME.yaml (the rules),
// NAME.ndjson (the events) and NAME.json (the hits expected). Every kind has one.
func TestKinds(t *testing.T) {
	files, _ := filepath.Glob("testdata/kinds/*.yaml")
	covered := map[string]bool{}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			rules, err := ParseAll(b)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rules {
				covered[r.Kind] = true
			}
			env := fixtureEnv(t)
			base := strings.TrimSuffix(f, ".yaml")
			evs := readEvents(t, base+".ndjson")
			if needsExplainer(rules) {
				env.Explainer = fixtureExplainer(t)
			}
			checkGolden(t, base+".json", evaluate(t, rules, env, evs))
		})
	}
	for _, k := range Kinds {
		if !covered[k] {
			t.Errorf("kind %s has no fixture in testdata/kinds", k)
		}
	}
}

// TestBuiltinRules: one fixture per built-in rule — testdata/rules/ID.ndjson and
// ID.json, the hits of that rule alone. A built-in rule without a fixture fails.
func TestBuiltinRules(t *testing.T) {
	for _, r := range Builtin() {
		t.Run(r.ID, func(t *testing.T) {
			base := filepath.Join("testdata", "rules", r.ID)
			if _, err := os.Stat(base + ".ndjson"); err != nil {
				t.Fatalf("built-in rule %s has no fixture %s.ndjson", r.ID, base)
			}
			env := fixtureEnv(t)
			if needsExplainer([]Rule{r}) {
				env.Explainer = fixtureExplainer(t)
			}
			got := evaluate(t, []Rule{r}, env, readEvents(t, base+".ndjson"))
			if len(got) == 0 {
				t.Errorf("the fixture of %s raises nothing: it must show the rule firing", r.ID)
			}
			checkGolden(t, base+".json", got)
		})
	}
}

func needsExplainer(rules []Rule) bool {
	for i := range rules {
		r := &rules[i]
		if r.Kind == KindRelation || r.Match.needsExplanation() {
			return true
		}
		for j := range r.Steps {
			if r.Steps[j].Match.needsExplanation() {
				return true
			}
		}
	}
	return false
}
