package explain

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
)

// maxShortID is the longest identifier a patientIndex keeps in its slots (the 16th
// byte of the packed key is the length).
const maxShortID = 15

// patientIndex finds a snapshot's patients by normalised identifier. Identifiers of
// at most maxShortID bytes (hospital record numbers are) are packed with their length
// into two words kept in an open-addressing table together with the patient: a lookup
// hashes two words and reads one slot, where a map by string reads its control word,
// its slot and the key's bytes elsewhere in memory. Longer identifiers go to a map.
// Built once per snapshot, then only read (safe for concurrent lookups).
type patientIndex struct {
	slots []pslot // a power of two, at most half full; k1 == 0: empty (a packed key never is)
	shift uint    // 64 - log2(len(slots))
	seed  uint64
	long  map[string]*patient
	n     int
}

// pslot is a slot of a patientIndex: the packed identifier and the patient.
type pslot struct {
	k0, k1 uint64
	p      patient
}

// newPatientIndex returns an empty index sized for n patients.
func newPatientIndex(n int) *patientIndex {
	size := 8
	for size < 2*n {
		size *= 2
	}
	return &patientIndex{slots: make([]pslot, size), shift: uint(64 - bits.TrailingZeros(uint(size))),
		seed: rand.Uint64() | 1, long: map[string]*patient{}}
}

// pack returns id (1..maxShortID bytes) as two words: the bytes, then the length in the
// last byte, so that two identifiers pack alike exactly when they are equal.
func pack(id string) (k0, k1 uint64) {
	var b [16]byte
	copy(b[:maxShortID], id)
	b[15] = byte(len(id))
	return binary.LittleEndian.Uint64(b[:8]), binary.LittleEndian.Uint64(b[8:])
}

// slot returns the first slot to probe for k0, k1.
func (ix *patientIndex) slot(k0, k1 uint64) uint64 {
	h := (k0 ^ ix.seed) * 0xbf58476d1ce4e5b9
	h = (h ^ k1 ^ h>>31) * 0x94d049bb133111eb
	return (h ^ h>>29) >> ix.shift
}

// put adds the patient of identifier id, replacing one of the same identifier (the
// empty identifier, which reference data never has, is not kept).
func (ix *patientIndex) put(id string, p patient) {
	if id == "" {
		return
	}
	if len(id) > maxShortID {
		if old := ix.long[id]; old != nil {
			*old = p
			return
		}
		ix.long[id] = &p
		ix.n++
		return
	}
	k0, k1 := pack(id)
	mask := uint64(len(ix.slots) - 1)
	for i := ix.slot(k0, k1); ; i = (i + 1) & mask {
		s := &ix.slots[i]
		if s.k1 == 0 {
			if 2*(ix.n+1) > len(ix.slots) {
				ix.grow()
				ix.put(id, p)
				return
			}
			*s = pslot{k0: k0, k1: k1, p: p}
			ix.n++
			return
		}
		if s.k0 == k0 && s.k1 == k1 {
			s.p = p
			return
		}
	}
}

// grow doubles the table (put sizes it for the patients it expects; this is a guard).
func (ix *patientIndex) grow() {
	old := ix.slots
	ix.slots = make([]pslot, 2*len(old))
	ix.shift--
	mask := uint64(len(ix.slots) - 1)
	for _, s := range old {
		if s.k1 == 0 {
			continue
		}
		i := ix.slot(s.k0, s.k1)
		for ix.slots[i].k1 != 0 {
			i = (i + 1) & mask
		}
		ix.slots[i] = s
	}
}

// get returns the patient of identifier id, nil when there is none.
func (ix *patientIndex) get(id string) *patient {
	if len(id) > maxShortID {
		return ix.long[id]
	}
	if id == "" {
		return nil
	}
	k0, k1 := pack(id)
	mask := uint64(len(ix.slots) - 1)
	for i := ix.slot(k0, k1); ; i = (i + 1) & mask {
		s := &ix.slots[i]
		if s.k0 == k0 && s.k1 == k1 {
			return &s.p
		}
		if s.k1 == 0 {
			return nil
		}
	}
}

// len returns how many patients the index holds.
func (ix *patientIndex) len() int { return ix.n }
