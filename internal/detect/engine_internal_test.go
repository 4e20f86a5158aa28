package detect

import (
	"fmt"
	"testing"

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
		if d.index != nil {
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
