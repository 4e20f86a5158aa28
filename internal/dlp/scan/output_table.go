package scan

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
)

func writeTable(w io.Writer, res *Result) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	if len(res.Files) > 0 {
		fmt.Fprintln(tw, "PATH\tLINE\tOFFSET\tTYPE\tLEVEL\tCONF\tFIELD\tPREVIEW")
		for _, fr := range res.Files {
			for _, f := range fr.Findings {
				field := f.Field
				if field == "" {
					field = "-"
				}
				fmt.Fprintf(tw, "%s\t%d\t%d-%d\t%s\t%d\t%.2f\t%s\t%s\n", clean(f.Path), f.Line, f.Start, f.End, f.Type,
					f.Level, f.Confidence, clean(field), clean(f.Preview))
			}
		}
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
	_, err := fmt.Fprintf(w, "%d files, %d bytes: %d findings, highest level %d, %d files identify a person, %d problems\n",
		s.Files, s.Bytes, s.Findings, s.HighestLevel, s.IdentifiesPersonFiles, s.Problems)
	return err
}

// clean keeps tabs and line breaks in names from breaking the table.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7F {
			return ' '
		}
		return r
	}, s)
}
