package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// TestWriteGateOrder: waiters are served in the order they came, those that asked to go
// first ahead of the rest; one whose context ends leaves the queue without taking the
// gate or blocking those behind it.
func TestWriteGateOrder(t *testing.T) {
	var g writeGate
	ctx := context.Background()
	if err := g.acquire(ctx, false); err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 10)
	queue := 0
	wait := func(name string, first bool) {
		go func() {
			if err := g.acquire(ctx, first); err != nil {
				got <- "error " + name
				return
			}
			got <- name
			g.release()
		}()
		queue++
		waitLen(t, &g, queue) // queued before the next one comes
	}
	cctx, cancel := context.WithCancel(ctx)
	gone := make(chan error, 1)
	wait("bulk1", false)
	go func() { gone <- g.acquire(cctx, false) }()
	queue++
	waitLen(t, &g, queue)
	wait("bulk2", false)
	wait("alert1", true)
	wait("alert2", true)
	cancel()
	if err := <-gone; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled waiter: %v", err)
	}
	g.release()
	var order []string
	for range 4 {
		order = append(order, <-got)
	}
	if fmt.Sprint(order) != "[alert1 alert2 bulk1 bulk2]" {
		t.Errorf("served %v, want [alert1 alert2 bulk1 bulk2]", order)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.busy || len(g.first)+len(g.rest) != 0 {
		t.Errorf("gate after all released: busy %v, %d waiting", g.busy, len(g.first)+len(g.rest))
	}
}

// waitLen waits until n waiters queue at g.
func waitLen(t *testing.T, g *writeGate, n int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; {
		g.mu.Lock()
		l := len(g.first) + len(g.rest)
		g.mu.Unlock()
		if l >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d waiting, want %d", l, n)
		}
		time.Sleep(time.Millisecond)
	}
}
