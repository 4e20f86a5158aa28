package supply

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"
)

// writeCheckSARIF writes a check result as an indented SARIF 2.1.0 log (CheckSARIF);
// source names the checked file.
func writeCheckSARIF(w io.Writer, res CheckResult, source string) error {
	rep, err := CheckSARIF(res, source)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
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
