package dlp_test

import (
	"bufio"
	"encoding/json"
	"os"
	"testing"

	"github.com/medguard/medguard/internal/dlp"
)

// TestCLUENER measures person_name and address detection on the CLUENER2020
// training split in ../shared/data (not shipped: "use from here only"). It
// logs precision, recall and F1 with exact span matching; it fails only when
// scores fall far below the levels reached when it was written, so that a
// regression shows.
func TestCLUENER(t *testing.T) {
	const path = "../../../shared/data/ner/cluener/train.jsonl"
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("CLUENER data not available (%v); see /work/shared/data/SOURCES.md", err)
	}
	defer f.Close()
	s := newScanner(t, dlp.Config{Types: []string{dlp.TypePersonName, dlp.TypeAddress}})
	type counts struct{ tp, fp, fn int }
	score := map[string]*counts{dlp.TypePersonName: {}, dlp.TypeAddress: {}}
	label := map[string]string{"name": dlp.TypePersonName, "address": dlp.TypeAddress}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	texts := 0
	for sc.Scan() {
		var rec struct {
			Text  string                         `json:"text"`
			Label map[string]map[string][][2]int `json:"label"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("%s: record %d: %v", path, texts+1, err)
		}
		texts++
		// CLUENER spans are rune indexes, end inclusive; convert to bytes.
		byteAt := make([]int, 0, len(rec.Text)+1)
		for i := range rec.Text {
			byteAt = append(byteAt, i)
		}
		byteAt = append(byteAt, len(rec.Text))
		want := map[[3]int]bool{}
		for lab, ents := range rec.Label {
			typ, ok := label[lab]
			if !ok {
				continue
			}
			kind := 0
			if typ == dlp.TypeAddress {
				kind = 1
			}
			for _, spans := range ents {
				for _, sp := range spans {
					if sp[0] < 0 || sp[1]+1 >= len(byteAt) {
						continue
					}
					want[[3]int{kind, byteAt[sp[0]], byteAt[sp[1]+1]}] = true
				}
			}
		}
		for _, fd := range s.Scan([]byte(rec.Text)) {
			kind := 0
			if fd.Type == dlp.TypeAddress {
				kind = 1
			}
			k := [3]int{kind, fd.Start, fd.End}
			if want[k] {
				score[fd.Type].tp++
				delete(want, k)
			} else {
				score[fd.Type].fp++
			}
		}
		for k := range want {
			typ := dlp.TypePersonName
			if k[0] == 1 {
				typ = dlp.TypeAddress
			}
			score[typ].fn++
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	floor := map[string]float64{dlp.TypePersonName: 0.15, dlp.TypeAddress: 0.18}
	for typ, c := range score {
		p := float64(c.tp) / float64(max(1, c.tp+c.fp))
		r := float64(c.tp) / float64(max(1, c.tp+c.fn))
		f1 := 2 * p * r / max(1e-9, p+r)
		t.Logf("CLUENER %s over %d texts: precision %.3f recall %.3f F1 %.3f (tp %d fp %d fn %d)", typ, texts, p, r, f1, c.tp, c.fp, c.fn)
		if f1 < floor[typ] {
			t.Errorf("%s F1 %.3f fell below %.2f", typ, f1, floor[typ])
		}
	}
}
