package scan

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"

	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"

	"github.com/medguard/medguard/internal/dlp"
)

func writeSARIF(w io.Writer, res *Result) error {
	rep := SARIF(res)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(rep)
}

// sarifLevel maps a GB/T 39725 level to a SARIF result level.
func sarifLevel(level int) string {
	switch {
	case level >= 4:
		return "error"
	case level == 3:
		return "warning"
	}
	return "note"
}

// artifactURI turns a path (possibly "a.zip!/b.txt", possibly with
// non-ASCII names) into a relative URI reference.
func artifactURI(path string) string {
	return (&url.URL{Path: path}).String()
}

// SARIF converts res to a SARIF 2.1.0 log: one rule per finding type,
// one result per finding located by line and byte offset, and one tool
// execution notification per problem.
func SARIF(res *Result) *sarif.Report {
	rep := sarif.NewReport()
	run := sarif.NewRunWithInformationURI("medguard", "https://github.com/medguard/medguard")
	rules := map[string]bool{}
	for _, fr := range res.Files {
		for _, f := range fr.Findings {
			if !rules[f.Type] {
				rules[f.Type] = true
				run.AddRule(f.Type).WithDescription(ruleDescription(f.Type, f.Category, f.Level)).
					WithProperties(sarif.NewPropertyBag().Add("category", f.Category).Add("level", f.Level))
			}
			msg := fmt.Sprintf("%s (%s, level %d): %s", f.Type, f.Category, f.Level, f.Preview)
			if f.Field != "" {
				msg += " in " + f.Field
			}
			region := sarif.NewRegion().WithStartLine(max(f.Line, 1)).WithByteOffset(f.Start).WithByteLength(f.End - f.Start)
			loc := sarif.NewLocationWithPhysicalLocation(sarif.NewPhysicalLocation().
				WithArtifactLocation(sarif.NewSimpleArtifactLocation(artifactURI(f.Path))).WithRegion(region))
			props := sarif.NewPropertyBag().Add("confidence", f.Confidence).Add("category", f.Category).Add("level", f.Level)
			if f.Field != "" {
				props.Add("field", f.Field)
			}
			run.CreateResultForRule(f.Type).WithLevel(sarifLevel(f.Level)).WithMessage(sarif.NewTextMessage(msg)).
				AddLocation(loc).WithProperties(props)
		}
	}
	inv := sarif.NewInvocation().WithExecutionSuccessful(true)
	for _, p := range res.Problems {
		n := sarif.NewNotification().WithLevel("warning").WithMessage(sarif.NewTextMessage(p.String())).
			AddLocation(sarif.NewLocationWithPhysicalLocation(sarif.NewPhysicalLocation().
				WithArtifactLocation(sarif.NewSimpleArtifactLocation(artifactURI(p.Path)))))
		inv.AddToolExecutionNotification(n)
	}
	run.AddInvocation(inv)
	rep.AddRun(run)
	return rep
}

func ruleDescription(typ, category string, level int) string {
	if _, builtin := dlp.Classify(typ); !builtin {
		return fmt.Sprintf("site identifier %s (%s, level %d)", typ, category, level)
	}
	return fmt.Sprintf("%s: %s data, GB/T 39725-2020 level %d", typ, category, level)
}
