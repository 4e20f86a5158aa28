package detect

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/events"
	"github.com/medguard/medguard/internal/explain"

	"github.com/medguard/medguard/internal/strtab"
)

// TestQring: the distinct rules' expiry queue is a FIFO through wrap-arounds and
// growth (against a slice as the model), and its buffer follows the values alive, not
// how many went through it.
func TestQring(t *testing.T) {
	var q qring
	var model []qentry
	n, maxLive := 0, 0
	for round := range 200 {
		// Push a few, pop a few: the live count wanders, below ~20.
		push, pop := (round*7)%11, (round*5)%9
		if len(model) > 15 {
			pop = 10
		}
		for range push {
			e := qentry{k: strtab.KeyOf(fmt.Sprint(n)), t: int64(n), e: entry{seq: int64(n)}}
			n++
			q.push(e)
			model = append(model, e)
		}
		for range pop {
			if q.n == 0 {
				break
			}
			if f := q.front(); *f != model[0] {
				t.Fatalf("round %d: front %+v, want %+v", round, *f, model[0])
			}
			if got := q.pop(); got != model[0] {
				t.Fatalf("round %d: pop %+v, want %+v", round, got, model[0])
			}
			model = model[1:]
		}
		maxLive = max(maxLive, len(model))
		if q.n != len(model) {
			t.Fatalf("round %d: %d queued, want %d", round, q.n, len(model))
		}
	}
	if n < 500 {
		t.Fatalf("only %d pushed", n)
	}
	if len(q.buf) > 2*maxLive {
		t.Errorf("buffer of %d for at most %d alive (%d went through)", len(q.buf), maxLive, n)
	}
	for q.n > 0 {
		if got := q.pop(); got != model[0] {
			t.Fatalf("drain: %+v, want %+v", got, model[0])
		}
		model = model[1:]
	}
	for i, e := range q.buf {
		if e != (qentry{}) {
			t.Errorf("slot %d keeps %+v after the pop", i, e)
		}
	}
}

// TestDset: a distinct rule's values in the window, against a map of the latest entry
// of each value as the model, through expiries, repeats and reused slots.
func TestDset(t *testing.T) {
	var d dset
	model := map[string]entry{}
	const window = 50
	maxLive, indexed, scanned := 0, 0, 0
	for n := range 2000 {
		tn := int64(n)
		v := string(rune('a' + (n*n+3*n)%37%23))
		before := tn - window
		d.expire(before)
		for k, x := range model {
			if x.t < before {
				delete(model, k)
			}
		}
		en := entry{t: tn, seq: int64(n + 1), id: v}
		d.see(v, en)
		model[v] = en
		if d.len() != len(model) {
			t.Fatalf("step %d: %d values, want %d", n, d.len(), len(model))
		}
		got := d.entries(nil)
		if len(got) != len(model) {
			t.Fatalf("step %d: %d entries, want %d", n, len(got), len(model))
		}
		for _, x := range got {
			if model[x.id] != x {
				t.Fatalf("step %d: entry %+v, want %+v", n, x, model[x.id])
			}
		}
		maxLive = max(maxLive, len(model))
		if d.indexed {
			indexed++
		} else if d.len() > 0 {
			scanned++
		}
		if n%500 == 499 { // a pause: everything expires
			d.expire(tn + 1)
			clear(model)
			if d.len() != 0 || len(d.entries(nil)) != 0 {
				t.Fatalf("step %d: %d values left after the window", n, d.len())
			}
		}
	}
	if indexed == 0 || scanned == 0 {
		t.Errorf("%d steps with an index, %d scanning: both ways should be tested", indexed, scanned)
	}
	if d.queue.n > maxLive {
		t.Errorf("%d queued for at most %d values alive", d.queue.n, maxLive)
	}
}

// TestKindNumbers: every kind has its own number, so that the engine's switch on it
// reaches the kind's case.
func TestKindNumbers(t *testing.T) {
	seen := map[kindN]string{}
	for _, k := range Kinds {
		n := kindNumber(k)
		if n == kUnknown {
			t.Errorf("kind %s has no number", k)
		}
		if o, dup := seen[n]; dup {
			t.Errorf("kinds %s and %s share number %d", k, o, n)
		}
		seen[n] = k
	}
	if kindNumber("no-such-kind") != kUnknown {
		t.Errorf("an unknown kind has a number")
	}
}

// TestMatchCandidate: for every event the engine's index gives a rule, testing the
// rule without the conditions the index already tested says what the whole matcher
// says (rules of the library and rules with system and action conditions).
func TestMatchCandidate(t *testing.T) {
	three, many := 3, 100
	rules := []Rule{
		{ID: "sys-one", Kind: KindMatch, Match: Match{Fields: map[string][]string{"system": {"EMR"}, "action": {"view", "print"}}}},
		{ID: "sys-two", Kind: KindMatch, Match: Match{Fields: map[string][]string{"system": {"EMR", "PACS"}, "outcome": {"failure"}}}},
		{ID: "counts", Kind: KindMatch, Match: Match{Fields: map[string][]string{"action": {"export", "print"}}, RecordCountGTE: &three,
			RecordCountLTE: &many}},
	}
	for _, r := range Builtin() {
		if !r.Match.needsExplanation() && r.Kind != KindRelation {
			rules = append(rules, r)
		}
	}
	var sink []Rule
	for _, r := range rules {
		r.Name, r.Severity, r.Version = Text{Zh: "测试", En: "test"}, "low", "1"
		if r.Window == 0 && r.Kind == KindMatch {
			r.Window = Duration(time.Hour)
		}
		sink = append(sink, r)
	}
	e, err := NewEngine(sink, Env{})
	if err != nil {
		t.Fatal(err)
	}
	tested := 0
	for _, sys := range []string{"EMR", "PACS", "HIS", "VPN"} {
		for _, act := range events.Actions() {
			for _, out := range []string{"", events.OutcomeSuccess, events.OutcomeFailure} {
				for _, rt := range []string{"", "server", "record"} {
					for _, n := range []int{0, 5, 1000} {
						ev := events.Event{System: sys, Action: act, Outcome: out, RecordType: rt, RecordCount: n, Account: "a", PatientID: "P1"}
						a := actionIndex(act)
						st := evalState{patient: patientActions&(1<<a) != 0}
						for _, cr := range e.candidates(sys, a) {
							if cr.m.always {
								continue
							}
							tested++
							if got, want := cr.m.matchCandidate(&ev, &st), cr.m.match(&ev, &st); got != want {
								t.Errorf("rule %s, event %+v: matchCandidate %v, match %v", cr.r.ID, ev, got, want)
							}
						}
					}
				}
			}
		}
	}
	if tested < 1000 {
		t.Errorf("only %d rule-event pairs tested", tested)
	}
}

// TestRelationRuns: a run of relation rules is passed at once exactly when none of its
// rules (from the position on) would fire on the explanation, for every class and
// every set of flags.
func TestRelationRuns(t *testing.T) {
	rel := func(class string, flags ...string) *crule {
		return &crule{kind: kRelation, m: &matcher{always: true}, class: class, flagMask: flagMask(flags)}
	}
	other := &crule{kind: kCount, m: &matcher{always: true}}
	rules := []*crule{rel("", explain.FlagSelf), rel(explain.Unexplained), rel("", explain.FlagVIP, explain.FlagDeceased), other,
		rel("", explain.FlagDischarged), other, rel(explain.Flagged)}
	l := newCandList(rules)
	wantEnd := []int{3, 3, 3, 0, 5, 0, 7}
	for i, w := range wantEnd {
		if l.runs[i].end != w {
			t.Errorf("runs[%d].end = %d, want %d", i, l.runs[i].end, w)
		}
	}
	for _, class := range explain.Classes {
		for bits := range 1 << len(explain.Flags) {
			var flags []string
			for j, f := range explain.Flags {
				if bits&(1<<j) != 0 {
					flags = append(flags, f)
				}
			}
			st := evalState{done: true, ok: true, expl: explain.Explanation{Class: class, Flags: flags}}
			for i, cr := range rules {
				if cr.kind != kRelation {
					continue
				}
				run := l.runs[i]
				pass := !slices.Contains(run.classes, class) && st.flagBits()&run.mask == 0
				fires := false
				for _, r := range rules[i:run.end] {
					fires = fires || r.relates(&st.expl, &st)
				}
				if pass == fires {
					t.Errorf("class %s, flags %v, rule %d: passed %v, a rule of the run fires %v", class, flags, i, pass, fires)
				}
			}
		}
	}
}
