package scan

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// TestAppendFindingMatchesEncoder checks the hand-written JSON line against
// encoding/json for strings that need escaping and for odd numbers.
func TestAppendFindingMatchesEncoder(t *testing.T) {
	t.Parallel()
	strs := []string{"", "a.zip!/b/c.docx", "患者王**", "q\"uote\\back", "ctl\x00\x01\x1f\x7f\b\f\n\r\t", "bad\xff\xe4\xb8utf8",
		"sep\u2028\u2029end", "<html>&amp;", "😀 emoji", "\xe2\x80"}
	nums := []float64{0, 0.05, 0.85, 0.9, 0.99, 1, 0.123456789, 1e-7, 3e21, -0.5}
	// One cache across rounds, more strings than it holds: hits, misses
	// and evictions.
	var q quoteCache
	for i := range 3 * len(strs) {
		s := strs[i%len(strs)] + strings.Repeat("x", i/len(strs)*7)
		f := jsonFinding{Path: s, Type: strs[(i+1)%len(strs)], Start: i, End: -i * 1000, Line: 1 << 40,
			Confidence: nums[i%len(nums)], Category: s, Level: i, Field: strs[(i+3)%len(strs)], Preview: s}
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(f); err != nil {
			t.Fatal(err)
		}
		if got := appendFinding(nil, f); string(got) != want.String() {
			t.Errorf("appendFinding:\ngot  %s\nwant %s", got, want.Bytes())
		}
		if got := q.appendFinding(nil, f); string(got) != want.String() {
			t.Errorf("quoteCache.appendFinding:\ngot  %s\nwant %s", got, want.Bytes())
		}
	}
	for k := range 101 {
		nums = append(nums, float64(k)/100)
	}
	for _, x := range nums {
		want, _ := json.Marshal(x)
		if k := int(x*100 + 0.5); k >= 0 && k <= 100 && float64(k)/100 == x && percents[k] != string(want) {
			t.Errorf("percents[%d] = %s, want %s", k, percents[k], want)
		}
		if got := appendJSONFloat(nil, x); string(got) != string(want) {
			t.Errorf("appendJSONFloat(%v) = %s, want %s", x, got, want)
		}
	}
}
