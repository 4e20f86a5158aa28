//go:build race

package events_test

// raceEnabled: the race detector's sync.Pool drops values at random, so allocation
// counts mean nothing under it.
const raceEnabled = true
