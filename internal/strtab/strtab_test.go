package strtab

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
)

// check compares t with the model: every key's value, the count, absent keys, and All.
func check(t *testing.T, tab *Table[int], model map[string]int, absent []string) {
	t.Helper()
	if tab.Len() != len(model) {
		t.Fatalf("Len %d, want %d", tab.Len(), len(model))
	}
	for k, want := range model {
		if p := tab.Get(k); p == nil || *p != want {
			t.Fatalf("Get(%q) = %v, want %d", k, p, want)
		}
	}
	for _, k := range absent {
		if _, ok := model[k]; ok {
			continue
		}
		if p := tab.Get(k); p != nil {
			t.Fatalf("Get(%q) = %d, want none", k, *p)
		}
	}
	var got, want []int
	tab.All(func(v *int) bool { got = append(got, *v); return true })
	for _, v := range model {
		want = append(want, v)
	}
	sort.Ints(got)
	sort.Ints(want)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("All = %v, want %v", got, want)
	}
}

// TestTable runs random puts and deletes of short, long and look-alike keys against a
// map, through growth, backward shifts that wrap around the end of the slots, and
// Clear.
func TestTable(t *testing.T) {
	keys := []string{"a", "a\x00", "P1", "P1\x00", "123456789012345", "1234567890123456", "患者一二三四五", "患者一二三四五六"}
	for i := range 400 {
		keys = append(keys, fmt.Sprintf("P%08d", i), fmt.Sprint(i), fmt.Sprintf("LONG-IDENTIFIER-%08d", i))
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, tab := range []*Table[int]{{}, New[int](1000), New[int](4)} {
		model := map[string]int{}
		for step := range 20000 {
			k := keys[r.IntN(len(keys))]
			switch r.IntN(3) {
			case 0, 1:
				p, added := tab.Put(k)
				_, had := model[k]
				if added == had {
					t.Fatalf("step %d: Put(%q) added %v, the model had it %v", step, k, added, had)
				}
				*p = step
				model[k] = step
			case 2:
				tab.Delete(k)
				delete(model, k)
			}
			if step%1000 == 0 {
				check(t, tab, model, keys)
			}
		}
		check(t, tab, model, keys)
		tab.Clear()
		clear(model)
		check(t, tab, model, keys)
		if p, added := tab.Put("P1"); !added || *p != 0 {
			t.Fatalf("Put after Clear: %d, %v", *p, added)
		}
	}
}

// TestTableWrap fills a small table so that runs wrap past the last slot, then deletes
// every key in turn: the others stay reachable.
func TestTableWrap(t *testing.T) {
	for round := range 50 {
		tab := New[int](4) // 8 slots
		model := map[string]int{}
		for i := range 4 {
			k := fmt.Sprint(round*10 + i)
			p, _ := tab.Put(k)
			*p = i
			model[k] = i
		}
		for k := range model {
			tab.DeleteKey(KeyOf(k))
			delete(model, k)
			check(t, tab, model, []string{k})
		}
	}
}

func TestEmptyKey(t *testing.T) {
	var tab Table[int]
	if p, added := tab.Put(""); p != nil || added {
		t.Errorf("Put(\"\") = %v, %v", p, added)
	}
	if tab.Get("") != nil || tab.Len() != 0 {
		t.Errorf("the empty key is kept")
	}
	tab.Delete("")
}

// FuzzTable interprets the input as operations (put, delete) on keys cut from it, and
// checks the table against a map.
func FuzzTable(f *testing.F) {
	f.Add([]byte("\x00P1\x01P1\x02P1\x00P1\x00"))
	f.Add([]byte("\x00a-long-key-of-twenty-bytes\x01a-long-key-of-twenty-bytes\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var tab Table[int]
		model := map[string]int{}
		var seen []string
		for i := 0; i < len(data); {
			op := data[i] % 3
			i++
			j := i
			for j < len(data) && data[j] > 2 {
				j++
			}
			k := string(data[i:j])
			i = j
			seen = append(seen, k)
			switch op {
			case 0, 1:
				p, _ := tab.Put(k)
				if k == "" {
					continue
				}
				*p = i
				model[k] = i
			case 2:
				tab.Delete(k)
				delete(model, k)
			}
		}
		check(t, &tab, model, seen)
	})
}
