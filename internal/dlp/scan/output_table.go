package scan

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
)

// tableBlock is how many finding rows of the table are aligned together:
// the table is written a block at a time so that it is not held whole.
const tableBlock = 4096

// tableWriter writes the findings as they come, in blocks of aligned
// rows, then the per-file verdicts and the summary.
type tableWriter struct {
	w    io.Writer
	tw   *tabwriter.Writer
	rows int // finding rows written
}

func newTableWriter(w io.Writer) *tableWriter {
	return &tableWriter{w: w, tw: tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)}
}

func (t *tableWriter) batch(fs []Finding) error {
	for _, f := range fs {
		if t.rows == 0 {
			fmt.Fprintln(t.tw, "PATH\tLINE\tOFFSET\tTYPE\tLEVEL\tCONF\tFIELD\tPREVIEW")
		} else if t.rows%tableBlock == 0 {
			if err := t.tw.Flush(); err != nil {
				return err
			}
		}
		t.rows++
		field := f.Field
		if field == "" {
			field = "-"
		}
		fmt.Fprintf(t.tw, "%s\t%d\t%d-%d\t%s\t%d\t%.2f\t%s\t%s\n", clean(f.Path), f.Line, f.Start, f.End, f.Type,
			f.Level, f.Confidence, clean(field), clean(f.Preview))
	}
	return nil
}

func (t *tableWriter) finish(res *Result) error {
	tw := t.tw
	if t.rows > 0 {
		fmt.Fprintln(tw)
		fmt.Fprintln(tw, "FILE\tHIGHEST LEVEL\tIDENTIFIES PERSON\tFINDINGS")
		for _, fr := range res.Files {
			ident := "no"
			if fr.Verdict.IdentifiesPerson {
				ident = "yes"
			}
			var counts []string
			for _, t := range slices.Sorted(maps.Keys(fr.Verdict.CountsByType)) {
				counts = append(counts, fmt.Sprintf("%s=%d", t, fr.Verdict.CountsByType[t]))
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", clean(fr.Path), fr.Verdict.HighestLevel, ident, strings.Join(counts, " "))
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	s := res.Summary()
	_, err := fmt.Fprintf(t.w, "%d files, %d bytes: %d findings, highest level %d, %d files identify a person, %d problems\n",
		s.Files, s.Bytes, s.Findings, s.HighestLevel, s.IdentifiesPersonFiles, s.Problems)
	return err
}

func (t *tableWriter) close() error { return nil }

// clean keeps tabs and line breaks in names from breaking the table.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7F {
			return ' '
		}
		return r
	}, s)
}
