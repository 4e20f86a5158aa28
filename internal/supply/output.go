package supply

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"
)

// CheckFormats are the output formats of WriteCheck.
var CheckFormats = []string{"table", "json", "sarif"}

// WriteCheck writes the result of an SBOM check in format (table, json or sarif); source
// names the checked file in the SARIF output.
func WriteCheck(w io.Writer, res CheckResult, format, source string) error {
	switch format {
	case "table", "":
		return writeCheckTable(w, res)
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	case "sarif":
		rep, err := CheckSARIF(res, source)
		if err != nil {
			return err
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return fmt.Errorf("supply: unknown format %q (want table, json or sarif)", format)
}

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

// sarifLevel maps a severity to a SARIF result level.
func sarifLevel(sev string) string {
	switch sev {
	case "critical", "high":
		return "error"
	case "medium":
		return "warning"
	}
	return "note"
}

// CheckSARIF converts a check result to a SARIF 2.1.0 log: one rule per vulnerability,
// one result per (component, vulnerability), and one result per failed gate rule.
func CheckSARIF(res CheckResult, source string) (*sarif.Report, error) {
	rep := sarif.NewReport()
	run := sarif.NewRunWithInformationURI("medguard", "https://github.com/medguard/medguard")
	if source == "" {
		source = "sbom"
	}
	run.AddDistinctArtifact(source)
	loc := func() *sarif.Location {
		return sarif.NewLocationWithPhysicalLocation(sarif.NewPhysicalLocation().
			WithArtifactLocation(sarif.NewSimpleArtifactLocation(source)))
	}
	rules := map[string]bool{}
	for _, f := range res.Findings {
		if !rules[f.ID] {
			rules[f.ID] = true
			desc := f.Summary
			if desc == "" {
				desc = f.ID
			}
			rule := run.AddRule(f.ID).WithDescription(desc).
				WithHelpURI("https://osv.dev/vulnerability/" + f.ID)
			props := sarif.NewPropertyBag().Add("severity", f.Severity).Add("aliases", f.Aliases)
			if f.Score > 0 {
				props.Add("security-severity", fmt.Sprintf("%.1f", f.Score))
			}
			rule.WithProperties(props)
		}
		msg := fmt.Sprintf("%s@%s is affected by %s (%s)", f.Package, f.Version, f.ID, f.Severity)
		if len(f.Fixed) > 0 {
			msg += "; fixed in " + strings.Join(f.Fixed, ", ")
		}
		r := run.CreateResultForRule(f.ID).WithLevel(sarifLevel(f.Severity)).WithMessage(sarif.NewTextMessage(msg)).
			AddLocation(loc())
		r.WithPartialFingerprints(map[string]string{"purl": f.PURL})
		r.WithProperties(sarif.NewPropertyBag().Add("purl", f.PURL))
	}
	cov := res.Coverage
	run.WithProperties(sarif.NewPropertyBag().Add("coverage", cov))
	if !cov.Complete() {
		const id = "medguard/coverage"
		rules[id] = true
		run.AddRule(id).WithDescription("components not checked against advisory data")
		run.CreateResultForRule(id).WithLevel("warning").
			WithMessage(sarif.NewTextMessage(fmt.Sprintf("%d of %d components not checked against advisory data: %s",
				cov.NotCovered, cov.Components, cov.Summary()))).AddLocation(loc())
	}
	if v := res.Verdict; v != nil && !v.Passed {
		for _, reason := range v.Reasons {
			id := "gate/" + reason.Rule
			if !rules[id] {
				rules[id] = true
				run.AddRule(id).WithDescription("gate rule " + reason.Rule)
			}
			run.CreateResultForRule(id).WithLevel("error").
				WithMessage(sarif.NewTextMessage("gate " + v.Gate + ": " + reason.Message)).AddLocation(loc())
		}
	}
	rep.AddRun(run)
	return rep, nil
}
