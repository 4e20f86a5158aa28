package events

import (
	"sort"
	"sync"
	"sync/atomic"
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
// 40,000 events/s). A batch is noted as pending when it has its sequence numbers, before
// it commits, so that the runner, woken by a later batch, waits for it instead of
// reading the store; once committed its events are held if every one was new (their
// numbers are then contiguous). A run of held batches with no number missing between
// them is everything stored in that range; whatever else — a batch with duplicates,
// another node's, one pending too long — is read from the store.
type tail struct {
	// wanted is set by the first Recent: until then nothing is held (a process that
	// never runs the live detection, `medguard events import` say, pays nothing).
	wanted atomic.Bool
	mu     sync.Mutex
	chunks []tailChunk // in sequence order, none overlapping
	n      int         // events held
	now    func() time.Time
}

// tailChunks bounds the chunks held (a batch with duplicates holds no events but a
// chunk).
const tailChunks = 4096

// pendingMax is how long a pending batch is waited for before Recent leaves its numbers
// to the store (a batch's transaction takes milliseconds to a second).
const pendingMax = 10 * time.Second

// tailChunk is one batch: the sequence numbers lo … hi it took and, when every one of
// its events was new, its events (numbered lo, lo+1, … hi); nil evs while it is pending
// (since when) or when some were duplicates — which numbers were left unused is not
// known here.
type tailChunk struct {
	lo, hi  int64
	evs     []Stored
	pending bool
	since   time.Time
}

// begin notes that a batch of n events took the numbers first … first+n-1 and has not
// committed yet. Called again with the same first, it starts over.
func (t *tail) begin(first int64, n int) {
	if n > 0 && t.wanted.Load() {
		t.put(tailChunk{lo: first, hi: first + int64(n) - 1, pending: true, since: t.clock()})
	}
}

// drop forgets the pending batch that began at first: it did not commit.
func (t *tail) drop(first int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if i, ok := t.find(first); ok {
		t.n -= len(t.chunks[i].evs)
		t.chunks = append(t.chunks[:i], t.chunks[i+1:]...)
	}
}

// add holds the events of a committed batch, stored as sequence numbers first,
// first+1, … (all of rows: none was a duplicate) of organisation orgID at now. The
// times are those the store gives back (PostgreSQL keeps microseconds of received_at).
func (t *tail) add(d store.Dialect, orgID, first int64, now time.Time, rows []sealedEvent) {
	if len(rows) == 0 || !t.wanted.Load() {
		return
	}
	if len(rows) > TailCap {
		t.skip(first, len(rows))
		return
	}
	evs := make([]Stored, len(rows))
	for i := range rows {
		e := &evs[i]
		e.Event = rows[i].Event
		e.Raw = "" // Since leaves the raw originals out
		e.Seq, e.OrgID, e.ReceivedAt = first+int64(i), orgID, now
		if d == store.Postgres { // (event times are microseconds already: Validate)
			e.ReceivedAt = e.ReceivedAt.Truncate(time.Microsecond)
		}
	}
	t.put(tailChunk{lo: first, hi: first + int64(len(rows)) - 1, evs: evs})
}

// skip notes that a committed batch took the sequence numbers first … first+n-1 but left
// some unused (duplicates): what it stored is for the store to tell.
func (t *tail) skip(first int64, n int) {
	if n > 0 && t.wanted.Load() {
		t.put(tailChunk{lo: first, hi: first + int64(n) - 1})
	}
}

func (t *tail) clock() time.Time {
	if t.now != nil {
		return t.now()
	}
	return time.Now()
}

// find returns the index of the chunk beginning at lo.
func (t *tail) find(lo int64) (int, bool) {
	i := sort.Search(len(t.chunks), func(i int) bool { return t.chunks[i].lo >= lo })
	return i, i < len(t.chunks) && t.chunks[i].lo == lo
}

// put adds c, or replaces the chunk beginning where c does (a pending batch committed).
func (t *tail) put(c tailChunk) {
	t.mu.Lock()
	defer t.mu.Unlock()
	// Batches commit in sequence order on SQLite, but their goroutines may come here out
	// of order, and on PostgreSQL they may commit out of order: keep the chunks sorted.
	i, ok := t.find(c.lo)
	if ok {
		t.n -= len(t.chunks[i].evs)
		t.chunks[i] = c
	} else {
		t.chunks = append(t.chunks, tailChunk{})
		copy(t.chunks[i+1:], t.chunks[i:])
		t.chunks[i] = c
	}
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
// ok is false when the number after+1 is not held or pending. It stops at a batch still
// pending (more false: that batch's commit wakes the caller again). more is true when it
// stopped short of limit at a number not held while later ones are, at a batch with
// duplicates, or at one pending longer than pendingMax.
func (t *tail) recent(after int64, limit int) (out []Stored, ok, more bool) {
	t.wanted.Store(true)
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.clock()
	i := sort.Search(len(t.chunks), func(i int) bool { return t.chunks[i].hi > after })
	if i == len(t.chunks) || t.chunks[i].lo > after+1 {
		return nil, false, false
	}
	next := after + 1
	for ; i < len(t.chunks) && len(out) < limit; i++ {
		c := t.chunks[i]
		switch {
		case c.pending && now.Sub(c.since) < pendingMax: // its commit wakes the caller
			return out, true, false
		case c.lo > next || c.evs == nil: // a number not held: for the store to tell
			if len(out) == 0 { // (every held chunk met before gave at least one event)
				return nil, false, false
			}
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
// does not hold the event numbered after+1 (the caller reads the store with Since). A
// service holds nothing until the first call of Recent. What it returns is contiguous: no
// sequence number is skipped between after and the last event returned. It stops at a batch of this process that has its numbers but has not
// committed yet, with more false: the caller waits to be woken by that batch's commit
// (OnCommit). more is true when it stopped short of limit at a number it does not hold
// while it holds later ones (another node's batch), at a batch of its own that had
// duplicates, or at one pending for longer than ten seconds: the caller reads on from
// the store.
func (s *Service) Recent(after int64, limit int) (evs []Stored, ok, more bool) {
	if limit <= 0 {
		limit = 1000
	}
	return s.tail.recent(after, limit)
}
