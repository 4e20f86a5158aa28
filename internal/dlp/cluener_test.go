package dlp_test

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"testing"

	"github.com/medguard/medguard/internal/dlp"
	"github.com/medguard/medguard/internal/dlp/corpus"
)

// cluenerCounts holds exact-span match counts for one type.
type cluenerCounts struct{ tp, fp, fn int }

func (c cluenerCounts) scores() (p, r, f1 float64) {
	p = float64(c.tp) / float64(max(1, c.tp+c.fp))
	r = float64(c.tp) / float64(max(1, c.tp+c.fn))
	return p, r, 2 * p * r / max(1e-9, p+r)
}

// TestCLUENER measures person_name and address detection on the CLUENER2020
// training split in ../shared/data (not shipped: "use from here only"). It
// logs precision, recall and F1 with exact span matching for each half of
// the split separately (the first half was used while developing the rules,
// the second half was not) and fails when F1 falls below the floor reached
// when the rules were last changed, so that a regression shows.
//
// With MEDGUARD_CLUENER_DUMP=file it writes every false positive and false
// negative to file for error analysis; the file must stay out of the
// repository.
func TestCLUENER(t *testing.T) {
	const path = "../../../shared/data/ner/cluener/train.jsonl"
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("CLUENER data not available (%v); see /work/shared/data/SOURCES.md", err)
	}
	defer f.Close()
	var dump *bufio.Writer
	if name := os.Getenv("MEDGUARD_CLUENER_DUMP"); name != "" {
		df, err := os.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		defer df.Close()
		dump = bufio.NewWriter(df)
		defer dump.Flush()
	}
	s := newScanner(t, dlp.Config{Types: []string{dlp.TypePersonName, dlp.TypeAddress}})
	recs, err := corpus.ReadCLUENER(f)
	if err != nil {
		t.Fatal(err)
	}
	kinds := []string{dlp.TypePersonName, dlp.TypeAddress}
	var score [2][2]cluenerCounts // [half][kind]
	// shown counts findings at or above reportAt, what a user running with
	// --min-confidence 0.5 would see.
	const reportAt = 0.5
	var shown [2][2]cluenerCounts
	for n, rec := range recs {
		half := 0
		if n >= len(recs)/2 {
			half = 1
		}
		want := map[[3]int]bool{}
		for _, sp := range rec.Spans {
			want[[3]int{slices.Index(kinds, sp.Type), sp.Start, sp.End}] = true
		}
		for _, fd := range s.Scan([]byte(rec.Text)) {
			kind := slices.Index(kinds, fd.Type)
			if kind < 0 {
				t.Fatalf("record %d: unexpected type %s", n+1, fd.Type)
			}
			k := [3]int{kind, fd.Start, fd.End}
			if fd.Confidence >= reportAt {
				if want[k] {
					shown[half][kind].tp++
				} else {
					shown[half][kind].fp++
				}
			}
			if want[k] {
				score[half][kind].tp++
				delete(want, k)
				continue
			}
			score[half][kind].fp++
			if dump != nil {
				fmt.Fprintf(dump, "%d\tFP\t%s\t%.2f\t%s\t%s\n", half+1, kinds[kind], fd.Confidence, rec.Text[fd.Start:fd.End], rec.Text)
			}
		}
		for k := range want {
			score[half][k[0]].fn++
			if dump != nil {
				fmt.Fprintf(dump, "%d\tFN\t%s\t-\t%s\t%s\n", half+1, kinds[k[0]], rec.Text[k[1]:k[2]], rec.Text)
			}
		}
	}
	// Floors: F1 reached per half when the rules were last changed, minus
	// a margin of about 0.03.
	floor := [2][2]float64{{0.39, 0.22}, {0.36, 0.21}}
	for half := range 2 {
		for kind, typ := range kinds {
			c := score[half][kind]
			p, r, f1 := c.scores()
			t.Logf("CLUENER half %d (%d texts) %s: precision %.3f recall %.3f F1 %.3f (tp %d fp %d fn %d)",
				half+1, len(recs)/2+half*(len(recs)%2), typ, p, r, f1, c.tp, c.fp, c.fn)
			v := shown[half][kind]
			v.fn = c.tp + c.fn - v.tp
			vp, vr, vf1 := v.scores()
			t.Logf("  at confidence >= %.1f: precision %.3f recall %.3f F1 %.3f (tp %d fp %d fn %d)", reportAt, vp, vr, vf1, v.tp, v.fp, v.fn)
			if f1 < floor[half][kind] {
				t.Errorf("half %d: %s F1 %.3f fell below %.2f", half+1, typ, f1, floor[half][kind])
			}
		}
	}
}
