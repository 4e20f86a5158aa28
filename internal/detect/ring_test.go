package detect

import (
	"fmt"
	"testing"
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
			e := qentry{v: fmt.Sprint(n), t: int64(n)}
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
