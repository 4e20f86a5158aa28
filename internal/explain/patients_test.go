package explain

import (
	"fmt"
	"testing"
)

// TestPatientIndex: the index answers like a map by identifier, for short and long
// identifiers, identifiers that differ only in length or a trailing zero byte,
// replacements, absent identifiers, and past the size it was made for.
func TestPatientIndex(t *testing.T) {
	ids := []string{"P", "P1", "P1\x00", "P01000001", "123456789012345", "1234567890123456",
		"a-very-long-medical-record-number-0001", "患者", "患者一二三四五"}
	for i := range 3000 {
		ids = append(ids, fmt.Sprintf("P%08d", 1000001+i), fmt.Sprintf("%d", i), fmt.Sprintf("LONG-IDENTIFIER-%08d", i))
	}
	for _, made := range []int{len(ids), 10} { // sized right, and too small (grows)
		ix := newPatientIndex(made)
		model := map[string]patient{}
		for i, id := range ids {
			p := patient{deceasedFrom: int64(i + 1)}
			ix.put(id, p)
			model[id] = p
		}
		for i, id := range ids[:100] { // replaced
			p := patient{deceasedFrom: int64(-i - 1), vip: true}
			ix.put(id, p)
			model[id] = p
		}
		ix.put("", patient{vip: true})
		if ix.len() != len(model) {
			t.Errorf("made for %d: %d patients, want %d", made, ix.len(), len(model))
		}
		for id, want := range model {
			got := ix.get(id)
			if got == nil || got.deceasedFrom != want.deceasedFrom || got.vip != want.vip {
				t.Fatalf("made for %d: get(%q) = %+v, want %+v", made, id, got, want)
			}
		}
		for _, id := range []string{"", "P2\x00", "P0100000", "P010000011", "1234567890123457", "LONG-IDENTIFIER-99999999", "x"} {
			if got := ix.get(id); got != nil {
				t.Errorf("made for %d: get(%q) = %+v, want none", made, id, got)
			}
		}
	}
}
