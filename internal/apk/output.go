package apk

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Formats are the output formats of WriteReport.
var Formats = []string{"table", "json"}

// WriteReport writes rep in format "json" (the Report contract) or "table" (a summary for
// people, in English).
func WriteReport(w io.Writer, rep *Report, format string) error {
	switch format {
	case "json":
		return writeJSON(w, rep)
	case "table":
		return writeTable(w, rep)
	}
	return fmt.Errorf("apk: unknown format %q (table or json)", format)
}

func writeJSON(w io.Writer, rep *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

func writeTable(w io.Writer, rep *Report) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	p := func(k, v string) { fmt.Fprintf(tw, "%s\t%s\n", k, v) }
	if rep.File.Name != "" {
		p("File", rep.File.Name)
	}
	p("Size", fmt.Sprintf("%d bytes", rep.File.Size))
	p("SHA-256", rep.File.SHA256)
	p("SM3", rep.File.SM3)
	sig := rep.Signature
	verdict := "no"
	if sig.Verified {
		verdict = "yes"
	}
	p("Signature verified", verdict)
	p("Schemes verified", joinOr(sig.Schemes, "none"))
	p("Schemes present", joinOr(sig.Present, "none"))
	for _, f := range sig.Failures {
		p("  failure", f.Scheme+": "+f.Reason)
	}
	for i, s := range sig.Signers {
		p(fmt.Sprintf("Signer #%d", i+1), s.Subject)
		p("  schemes", strings.Join(s.Schemes, ", "))
		p("  SHA-256", s.SHA256)
		p("  MD5", s.MD5)
		p("  key", fmt.Sprintf("%s %d bits, %s", s.KeyAlgorithm, s.KeySize, s.SignatureAlgorithm))
	}
	for i, l := range sig.Lineage {
		p(fmt.Sprintf("Lineage #%d", i+1), l)
	}
	m := rep.Manifest
	if m.Error != "" {
		p("Manifest", "unreadable: "+m.Error)
	} else {
		p("Package", m.Package)
		p("Version", fmt.Sprintf("%s (code %d)", m.VersionName, m.VersionCode))
		p("SDK", fmt.Sprintf("min %d, target %d", m.MinSDK, m.TargetSDK))
		p("Permissions", fmt.Sprintf("%d", len(m.Permissions)))
		p("Components", fmt.Sprintf("%d", len(m.Components)))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(rep.Findings) == 0 {
		_, err := fmt.Fprintln(w, "\nNo findings.")
		return err
	}
	fmt.Fprintf(w, "\nFindings (%d):\n", len(rep.Findings))
	tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEVERITY\tID\tTITLE\tEVIDENCE")
	for _, f := range rep.Findings {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", f.Severity, f.ID, f.Title, f.Evidence)
	}
	return tw.Flush()
}
