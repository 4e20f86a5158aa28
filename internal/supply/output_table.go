package supply

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
)

// writeCheckTable writes a check result for people: the document and its coverage,
// the findings in aligned columns, the licences and the gate's verdict with its reasons.
func writeCheckTable(w io.Writer, res CheckResult) error {
	r := res.Report
	c := res.Coverage
	fmt.Fprintf(w, "%s %s: %d components, %d matched by purl, %d covered by advisory data, %d findings\n", r.Format,
		r.SpecVersion, r.Components, r.Matchable, c.Covered, len(res.Findings))
	if c.Complete() {
		fmt.Fprintf(w, "coverage: all %d components checked against advisory data\n", c.Components)
	} else {
		fmt.Fprintf(w, "coverage: %d of %d components NOT checked against advisory data: %s\n", c.NotCovered, c.Components, c.Summary())
		if len(c.EcosystemsWithoutData) > 0 {
			fmt.Fprintf(w, "  the vulnerability database holds no advisories for %s: import them (medguard vulndb import)\n",
				strings.Join(c.EcosystemsWithoutData, ", "))
		}
		for _, p := range c.NotComparableItems {
			fmt.Fprintf(w, "  not comparable: %s\n", p)
		}
	}
	if len(r.Unsupported) > 0 {
		var parts []string
		for t, n := range r.Unsupported {
			parts = append(parts, fmt.Sprintf("%s %d", t, n))
		}
		sort.Strings(parts)
		fmt.Fprintf(w, "not matched (no vulnerability data for the purl type): %s\n", strings.Join(parts, ", "))
	}
	missing := 0
	for _, wn := range r.Warnings {
		if wn.Code == "missing_purl" {
			missing++
		}
	}
	if missing > 0 {
		fmt.Fprintf(w, "%d components have no purl and were not matched\n", missing)
	}
	if len(res.Findings) > 0 {
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "\nSEVERITY\tID\tALIASES\tPACKAGE\tVERSION\tFIXED IN")
		for _, f := range res.Findings {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", f.Severity, f.ID, strings.Join(f.Aliases, ","), f.Package, f.Version,
				strings.Join(f.Fixed, ","))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(res.Licences) > 0 {
		counts := map[string]int{}
		for _, l := range res.Licences {
			counts[l.Verdict]++
		}
		fmt.Fprintf(w, "\nlicences: %d denied, %d to review, %d unknown\n", counts["denied"], counts["review"], counts["unknown"])
		for _, l := range res.Licences {
			if l.Verdict == "denied" {
				fmt.Fprintf(w, "  denied: %s (%s)\n", l.Component, l.License)
			}
		}
	}
	if v := res.Verdict; v != nil {
		if v.Passed {
			fmt.Fprintf(w, "\ngate %s: PASSED\n", v.Gate)
		} else {
			fmt.Fprintf(w, "\ngate %s: FAILED\n", v.Gate)
			for _, reason := range v.Reasons {
				fmt.Fprintf(w, "  - %s\n", reason.Message)
				for _, it := range reason.Items {
					fmt.Fprintf(w, "      %s\n", it)
				}
			}
		}
	}
	return nil
}
