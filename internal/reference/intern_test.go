package reference

import (
	"strings"
	"testing"
)

// TestInternKeys: two strings get the same key exactly when they are equal; the empty
// string is NoKey; Lookup numbers nothing and answers UnknownKey for an unseen string.
func TestInternKeys(t *testing.T) {
	in := NewInterner()
	h := func(c byte) string { return strings.Repeat(string(c), 64) } // 64-hex-character hashes
	vals := []string{"", h('a'), h('b'), h('a')[:63] + "b", "S1", "s1", ""}
	keys := make([]Key, len(vals))
	for i, v := range vals {
		keys[i] = in.Intern(v)
	}
	for i := range vals {
		for j := range vals {
			if (keys[i] == keys[j]) != (vals[i] == vals[j]) {
				t.Errorf("Intern(%q) = %d, Intern(%q) = %d", vals[i], keys[i], vals[j], keys[j])
			}
		}
		if (keys[i] == NoKey) != (vals[i] == "") {
			t.Errorf("Intern(%q) = %d; NoKey is for the empty string only", vals[i], keys[i])
		}
		if got := in.Lookup(vals[i]); got != keys[i] {
			t.Errorf("Lookup(%q) = %d, Intern gave %d", vals[i], got, keys[i])
		}
	}
	if in.Len() != 5 {
		t.Errorf("Len = %d, want 5 distinct non-empty strings", in.Len())
	}
	if k := in.Lookup("never interned"); k != UnknownKey || in.Len() != 5 {
		t.Errorf("Lookup of an unseen string = %d (Len %d), want UnknownKey and nothing numbered", k, in.Len())
	}
}

// TestRelateKeys: RelateKeys over interned keys gives Relate's relation flags for every
// combination of empty, equal and different staff identifiers, surnames, addresses and
// buildings; in particular two empty hashes never make a family or a neighbour.
func TestRelateKeys(t *testing.T) {
	vals := []string{"", "x", "y"}
	in := NewInterner()
	n := 0
	var idx [8]int
	for {
		v := func(i int) string { return vals[idx[i]] }
		st := Staff{StaffID: v(0), SurnameHash: v(1), AddressHash: v(2), BuildingHash: v(3)}
		p := Patient{StaffID: v(4), SurnameHash: v(5), AddressHash: v(6), BuildingHash: v(7), VIP: n%2 == 0}
		want := Relate(st, p)
		want.VIP, want.Deceased = false, false
		if got := RelateKeys(in.StaffKeys(st), in.PatientKeys(p)); got != want {
			t.Errorf("staff %+v patient %+v: RelateKeys %+v, Relate %+v", st, p, got, want)
		}
		n++
		i := 0
		for i < len(idx) {
			if idx[i]++; idx[i] < len(vals) {
				break
			}
			idx[i] = 0
			i++
		}
		if i == len(idx) {
			break
		}
	}
	if n != 6561 {
		t.Fatalf("%d combinations", n)
	}
	// An event's staff identifier the snapshot never saw relates like an unknown one.
	p := in.PatientKeys(Patient{StaffID: "x"})
	if f := RelateKeys(Keys{StaffID: in.Lookup("S404")}, p); f != (Flags{CoWorker: true}) {
		t.Errorf("unknown staff id reading an employee: %+v", f)
	}
	if f := RelateKeys(Keys{}, in.PatientKeys(Patient{})); f != (Flags{}) {
		t.Errorf("all empty: %+v", f)
	}
}
