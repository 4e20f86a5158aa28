package dlp_test

import (
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/dlp"
	"github.com/medguard/medguard/internal/dlp/corpus"
)

// qualityDocs and qualitySeed fix the labelled corpus of TestQuality.
const (
	qualityDocs = 4000
	qualitySeed = 20241
)

// TestQuality scans a labelled synthetic corpus (package corpus) with every
// detector on and scores each type with exact span matching. It fails when
// a structured type falls below 0.99 precision or recall; dictionary types
// are logged only.
func TestQuality(t *testing.T) {
	t.Parallel()
	s := newScanner(t, dlp.Config{})
	score := corpus.Score{}
	for _, d := range corpus.GenerateLabelled(qualitySeed, qualityDocs) {
		var found []corpus.Span
		for _, f := range s.Scan([]byte(d.Text)) {
			found = append(found, corpus.Span{Type: f.Type, Start: f.Start, End: f.End})
		}
		score.Add(d.Spans, found)
	}
	var table strings.Builder
	if err := score.WriteMarkdown(&table, dlp.AllTypes()); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d documents, seed %d, exact span match:\n%s", qualityDocs, qualitySeed, table.String())
	for _, typ := range dlp.StructuredTypes() {
		c := score[typ]
		if c == nil || c.Labels == 0 {
			t.Errorf("%s: no labelled values in the corpus", typ)
			continue
		}
		if c.Precision() < 0.99 || c.Recall() < 0.99 {
			t.Errorf("%s: precision %.4f recall %.4f, want both ≥ 0.99 (tp %d fp %d fn %d)", typ, c.Precision(), c.Recall(), c.TP, c.FP, c.FN)
		}
	}
}
