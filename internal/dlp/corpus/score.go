package corpus

import (
	"fmt"
	"io"
	"slices"
)

// Counts holds the outcome of matching found spans against labels of one
// type. TP, FP and FN use exact span match (same type, start and end);
// Overlap counts the labels that some found span of the same type overlaps
// at least partly.
type Counts struct {
	TP, FP, FN, Overlap int
	Labels              int
}

// Precision is TP/(TP+FP), 1 when nothing was found.
func (c Counts) Precision() float64 {
	if c.TP+c.FP == 0 {
		return 1
	}
	return float64(c.TP) / float64(c.TP+c.FP)
}

// Recall is TP/(TP+FN), 1 when there was nothing to find.
func (c Counts) Recall() float64 {
	if c.TP+c.FN == 0 {
		return 1
	}
	return float64(c.TP) / float64(c.TP+c.FN)
}

// F1 is the harmonic mean of precision and recall.
func (c Counts) F1() float64 {
	p, r := c.Precision(), c.Recall()
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

// Score accumulates Counts per type over documents.
type Score map[string]*Counts

func (s Score) of(typ string) *Counts {
	c := s[typ]
	if c == nil {
		c = &Counts{}
		s[typ] = c
	}
	return c
}

// Add scores the spans found in one document against its labels.
func (s Score) Add(labels, found []Span) {
	want := map[Span]bool{}
	for _, l := range labels {
		want[l] = true
		s.of(l.Type).Labels++
	}
	matched := map[Span]bool{}
	for _, f := range found {
		if want[f] && !matched[f] {
			matched[f] = true
			s.of(f.Type).TP++
		} else {
			s.of(f.Type).FP++
		}
	}
	for _, l := range labels {
		if matched[l] {
			s.of(l.Type).Overlap++
			continue
		}
		s.of(l.Type).FN++
		for _, f := range found {
			if f.Type == l.Type && f.Start < l.End && l.Start < f.End {
				s.of(l.Type).Overlap++
				break
			}
		}
	}
}

// Types returns the scored types in the order of order, then any others
// sorted.
func (s Score) Types(order []string) []string {
	var out []string
	for _, t := range order {
		if s[t] != nil {
			out = append(out, t)
		}
	}
	var rest []string
	for t := range s {
		if !slices.Contains(order, t) {
			rest = append(rest, t)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
}

// WriteMarkdown writes a markdown table of the score, one row per type in
// the order of Types(order).
func (s Score) WriteMarkdown(w io.Writer, order []string) error {
	if _, err := fmt.Fprintln(w, "| type | labels | TP | FP | FN | precision | recall | F1 | overlap-matched |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"); err != nil {
		return fmt.Errorf("corpus: write table: %w", err)
	}
	for _, t := range s.Types(order) {
		c := s[t]
		if _, err := fmt.Fprintf(w, "| %s | %d | %d | %d | %d | %.4f | %.4f | %.4f | %d |\n", t, c.Labels, c.TP, c.FP, c.FN, c.Precision(), c.Recall(), c.F1(), c.Overlap); err != nil {
			return fmt.Errorf("corpus: write table: %w", err)
		}
	}
	return nil
}
