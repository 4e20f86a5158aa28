package events

import (
	"sort"
	"sync"
	"time"

	"github.com/medguard/medguard/internal/store"
)

// TailCap is how many of the events this process committed last are kept in memory for
// Recent. The live runner reads up to DefaultBatch (50,000) a step; twice that lets it
// read from memory while it is one step behind.
const TailCap = 100_000

// tail holds the batches this process committed last, as Since would return them, so
// that the live detection runner does not read back from the store what ingest has just
// written (reading them back through database/sql was a fifth of the server's CPU at
// 40,000 events/s). Only batches whose every event was new are held: their sequence
// numbers are contiguous, and a run of held batches with no number missing between them
// is known to be everything stored in that range — whatever else cannot be told from
// memory and is read from the store.
type tail struct {
	mu     sync.Mutex
	chunks []tailChunk // in sequence order, none overlapping
	n      int         // events held
}

// tailChunks bounds the chunks held (a batch with duplicates holds no events but a
// chunk).
const tailChunks = 4096

// tailChunk is one batch: the sequence numbers lo … hi it took and, when every one of
// its events was new, its events (numbered lo, lo+1, … hi); nil evs when some were
// duplicates — which numbers were left unused is not known here.
type tailChunk struct {
	lo, hi int64
	evs    []Stored
}

// add holds the events of a committed batch, stored as sequence numbers first,
// first+1, … (all of rows: none was a duplicate) of organisation orgID at now. The
// times are those the store gives back (PostgreSQL keeps microseconds).
func (t *tail) add(d store.Dialect, orgID, first int64, now time.Time, rows []sealedEvent) {
	if len(rows) == 0 || len(rows) > TailCap {
		return
	}
	evs := make([]Stored, len(rows))
	for i := range rows {
		e := &evs[i]
		e.Event = rows[i].Event
		e.Raw = "" // Since leaves the raw originals out
		e.Seq, e.OrgID, e.ReceivedAt = first+int64(i), orgID, now
		if d == store.Postgres {
			e.Time = e.Time.Truncate(time.Microsecond)
			e.ReceivedAt = e.ReceivedAt.Truncate(time.Microsecond)
		}
	}
	t.put(tailChunk{lo: first, hi: first + int64(len(rows)) - 1, evs: evs})
}

// skip notes that a committed batch took the sequence numbers first … first+n-1 but left
// some unused (duplicates): what it stored is for the store to tell.
func (t *tail) skip(first int64, n int) {
	if n > 0 {
		t.put(tailChunk{lo: first, hi: first + int64(n) - 1})
	}
}

func (t *tail) put(c tailChunk) {
	t.mu.Lock()
	defer t.mu.Unlock()
	// Batches commit in sequence order on SQLite, but their goroutines may come here out
	// of order, and on PostgreSQL they may commit out of order: keep the chunks sorted.
	i := sort.Search(len(t.chunks), func(i int) bool { return t.chunks[i].lo > c.lo })
	t.chunks = append(t.chunks, tailChunk{})
	copy(t.chunks[i+1:], t.chunks[i:])
	t.chunks[i] = c
	t.n += len(c.evs)
	drop := 0
	for t.n > TailCap || len(t.chunks)-drop > tailChunks {
		t.n -= len(t.chunks[drop].evs)
		drop++
	}
	if drop > 0 {
		t.chunks = append(t.chunks[:0], t.chunks[drop:]...)
	}
}

// recent returns copies of the held events numbered after `after`, at most limit, when
// the held chunks account for every number from after+1 on up to the last one returned;
// ok is false when the number after+1 is not held. more is true when it stopped short of
// limit at a number not held while later ones are, or at a batch with duplicates.
func (t *tail) recent(after int64, limit int) (out []Stored, ok, more bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	i := sort.Search(len(t.chunks), func(i int) bool { return t.chunks[i].hi > after })
	if i == len(t.chunks) || t.chunks[i].lo > after+1 || t.chunks[i].evs == nil {
		return nil, false, false
	}
	next := after + 1
	for ; i < len(t.chunks) && len(out) < limit; i++ {
		c := t.chunks[i]
		if c.lo > next || c.evs == nil { // a number not held: what follows is for the store to tell
			return out, true, true
		}
		evs := c.evs[next-c.lo:]
		evs = evs[:min(len(evs), limit-len(out))]
		if out == nil {
			out = make([]Stored, 0, min(limit, t.n))
		}
		out = append(out, evs...)
		next = evs[len(evs)-1].Seq + 1
	}
	return out, true, false
}

// Recent returns the events stored after sequence number after, in sequence order and at
// most limit, as Since(SeqFilter{AfterSeq: after, Limit: limit}) would, when this
// process committed them itself lately and so holds them in memory; ok is false when it
// does not hold the event numbered after+1 (the caller reads the store with Since). What
// it returns is contiguous: no sequence number is skipped between after and the last
// event returned. more is true when it stopped short of limit at a number it does not
// hold while it holds later ones (another node's batch), or at a batch of its own that
// had duplicates: the caller reads on from the store.
func (s *Service) Recent(after int64, limit int) (evs []Stored, ok, more bool) {
	if limit <= 0 {
		limit = 1000
	}
	return s.tail.recent(after, limit)
}
