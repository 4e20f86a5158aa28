package scan

import (
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/medguard/medguard/internal/dlp"
)

// TestVerdictAccMatchesVerdict checks the running verdict of chunked files
// against dlp.Verdict over all findings.
func TestVerdictAccMatchesVerdict(t *testing.T) {
	t.Parallel()
	types := append(dlp.AllTypes(), "medical_record_no", "ward_no")
	r := rand.New(rand.NewPCG(7, 1))
	for n := range 200 {
		var all []dlp.Finding
		var acc verdictAcc
		for range r.IntN(n%20 + 1) {
			typ := types[r.IntN(len(types))]
			c, ok := dlp.Classify(typ)
			if !ok {
				c = dlp.Classification{Category: dlp.Categories()[r.IntN(6)], Level: 1 + r.IntN(5)}
			}
			f := dlp.Finding{Type: typ, Category: c.Category, Level: max(c.Level, r.IntN(6))}
			all = append(all, f)
			acc.add(f)
		}
		if diff := cmp.Diff(dlp.Verdict(all), acc.result()); diff != "" {
			t.Fatalf("case %d: verdict (-want +got):\n%s", n, diff)
		}
	}
}
