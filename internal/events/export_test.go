package events

import "time"

// PkeyOf is pkeyOf, for the tests of migration 0040.
var PkeyOf = pkeyOf

// PartShift is partShift, for tests that span parts.
const PartShift = partShift

// BeginPending notes a batch of n events numbered from first as pending, as Append does
// before its transaction commits; DropPending forgets it.
func BeginPending(s *Service, first int64, n int) { s.tail.begin(first, n) }

// DropPending is tail.drop.
func DropPending(s *Service, first int64) { s.tail.drop(first) }

// SetTailClock sets the clock the tail times pending batches with.
func SetTailClock(s *Service, now func() time.Time) { s.tail.now = now }
