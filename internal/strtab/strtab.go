// Package strtab is a hash table keyed by strings that are mostly short (account names,
// record numbers, terminal names): a key of up to 15 bytes is packed with its length
// into two words held in the table's slot next to the value, so that a lookup hashes
// two words and reads one slot, where a Go map by string reads a control word, a slot
// and the key's bytes elsewhere in memory. Longer keys go to a map. The rule engine
// and the access explainer look such strings up for every audit event.
package strtab

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
)

// MaxShort is the longest key kept in the slots.
const MaxShort = 15

// Key is a key packed for a Table: a short key in two words (the bytes, then the
// length in the last byte: two keys pack alike exactly when they are equal), a long
// one as its text.
type Key struct {
	k0, k1 uint64
	long   string
}

// KeyOf returns s packed. The empty string packs to the zero Key, which no Table
// holds.
func KeyOf(s string) Key {
	if len(s) > MaxShort {
		return Key{long: s}
	}
	var b [16]byte
	copy(b[:MaxShort], s)
	b[15] = byte(len(s))
	return Key{k0: binary.LittleEndian.Uint64(b[:8]), k1: binary.LittleEndian.Uint64(b[8:])}
}

// Table maps keys to values of type V. The zero Table is empty and ready to use. A
// pointer Get or Put returns stays valid until the next Put, Delete or Clear. Lookups
// may run concurrently once nothing changes the table.
type Table[V any] struct {
	slots []slot[V] // a power of two, at most half full; k1 == 0: empty (a packed key never is)
	shift uint      // 64 - log2(len(slots))
	seed  uint64
	n     int // short keys
	long  map[string]*V
}

type slot[V any] struct {
	k0, k1 uint64
	v      V
}

// New returns a Table sized for n short keys.
func New[V any](n int) *Table[V] {
	t := &Table[V]{}
	t.init(n)
	return t
}

func (t *Table[V]) init(n int) {
	size := 8
	for size < 2*n {
		size *= 2
	}
	t.slots = make([]slot[V], size)
	t.shift = uint(64 - bits.TrailingZeros(uint(size)))
	if t.seed == 0 {
		t.seed = rand.Uint64() | 1
	}
}

// home returns the first slot to probe for a packed key.
func (t *Table[V]) home(k0, k1 uint64) uint64 {
	h := (k0 ^ t.seed) * 0xbf58476d1ce4e5b9
	h = (h ^ k1 ^ h>>31) * 0x94d049bb133111eb
	return (h ^ h>>29) >> t.shift
}

// Len returns how many keys the table holds.
func (t *Table[V]) Len() int { return t.n + len(t.long) }

// Get returns the value of s, nil when s is not in the table.
func (t *Table[V]) Get(s string) *V { return t.GetKey(KeyOf(s)) }

// GetKey is Get of a packed key.
func (t *Table[V]) GetKey(k Key) *V {
	if k.k1 == 0 {
		if k.long == "" {
			return nil
		}
		return t.long[k.long]
	}
	if t.n == 0 {
		return nil
	}
	mask := uint64(len(t.slots) - 1)
	for i := t.home(k.k0, k.k1); ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.k0 == k.k0 && s.k1 == k.k1 {
			return &s.v
		}
		if s.k1 == 0 {
			return nil
		}
	}
}

// Put returns the value of s, added as the zero V when missing (added reports it).
// The empty string is not kept: Put returns a value of no key (nil, false).
func (t *Table[V]) Put(s string) (v *V, added bool) { return t.PutKey(KeyOf(s)) }

// PutKey is Put of a packed key.
func (t *Table[V]) PutKey(k Key) (v *V, added bool) {
	if k.k1 == 0 {
		if k.long == "" {
			return nil, false
		}
		if p := t.long[k.long]; p != nil {
			return p, false
		}
		if t.long == nil {
			t.long = map[string]*V{}
		}
		p := new(V)
		t.long[k.long] = p
		return p, true
	}
	if len(t.slots) == 0 {
		t.init(0)
	}
	mask := uint64(len(t.slots) - 1)
	for i := t.home(k.k0, k.k1); ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.k0 == k.k0 && s.k1 == k.k1 {
			return &s.v, false
		}
		if s.k1 == 0 {
			if 2*(t.n+1) > len(t.slots) {
				t.grow()
				return t.PutKey(k)
			}
			s.k0, s.k1 = k.k0, k.k1
			t.n++
			return &s.v, true
		}
	}
}

// grow doubles the slots.
func (t *Table[V]) grow() {
	old := t.slots
	t.slots = make([]slot[V], 2*len(old))
	t.shift--
	mask := uint64(len(t.slots) - 1)
	for j := range old {
		if old[j].k1 == 0 {
			continue
		}
		i := t.home(old[j].k0, old[j].k1)
		for t.slots[i].k1 != 0 {
			i = (i + 1) & mask
		}
		t.slots[i] = old[j]
	}
}

// Delete removes s.
func (t *Table[V]) Delete(s string) { t.DeleteKey(KeyOf(s)) }

// DeleteKey removes a packed key: a caller that kept the Key deletes without reading
// the string again.
func (t *Table[V]) DeleteKey(k Key) {
	if k.k1 == 0 {
		delete(t.long, k.long)
		return
	}
	if t.n == 0 {
		return
	}
	mask := uint64(len(t.slots) - 1)
	i := t.home(k.k0, k.k1)
	for {
		s := &t.slots[i]
		if s.k1 == 0 {
			return // not there
		}
		if s.k0 == k.k0 && s.k1 == k.k1 {
			break
		}
		i = (i + 1) & mask
	}
	// Backward shift: move up the keys of the run after i that probed past it, so that
	// every key stays reachable from its home without tombstones.
	for j := (i + 1) & mask; t.slots[j].k1 != 0; j = (j + 1) & mask {
		h := t.home(t.slots[j].k0, t.slots[j].k1)
		// The key at j may fill the hole at i unless its home lies cyclically in (i, j].
		if (i < j && i < h && h <= j) || (i > j && (h > i || h <= j)) {
			continue
		}
		t.slots[i] = t.slots[j]
		i = j
	}
	t.slots[i] = slot[V]{}
	t.n--
}

// Clear removes every key, keeping the slots' memory.
func (t *Table[V]) Clear() {
	clear(t.slots)
	t.n = 0
	clear(t.long)
}

// All calls yield for every key's value (short keys in slot order, then the long ones)
// until it returns false. The table must not change meanwhile.
func (t *Table[V]) All(yield func(*V) bool) {
	for i := range t.slots {
		if t.slots[i].k1 != 0 && !yield(&t.slots[i].v) {
			return
		}
	}
	for _, p := range t.long {
		if !yield(p) {
			return
		}
	}
}
