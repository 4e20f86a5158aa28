// Package trailtest builds trail logs for the tests of other packages: one fixed test
// key held in memory, so that a Log made anywhere in a test verifies the entries of
// another.
package trailtest

import (
	"testing"

	"github.com/medguard/medguard/internal/trail"
)

// Key returns the fixed test key (no unkeyed entries allowed).
func Key(t testing.TB) trail.Key {
	t.Helper()
	k, err := trail.NewKey([]byte("medguard-trail-test-key-32-bytes"), 0)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// New returns a Log chaining with alg under the test key.
func New(t testing.TB, alg string) *trail.Log {
	t.Helper()
	tl, err := trail.New(alg, Key(t))
	if err != nil {
		t.Fatal(err)
	}
	return tl
}
