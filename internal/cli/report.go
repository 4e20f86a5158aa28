package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/app"
	"github.com/medguard/medguard/internal/report"
)

// reportSource is where `report generate` takes a report's data from: the application's
// own Source (the overview dashboard and the compliance modules), the one the scheduled
// reports and the web pages use.
func reportSource(a *app.App) report.Source { return a.ReportSource }

// reportLangs are the values of `report generate --lang`.
var reportLangs = []string{"zh-CN", "en"}

func (e *env) reportCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "report", Short: "Periodic security reports (周报/月报) of a hospital or a region, in PDF or HTML"}
	var orgRef, period, format, out, lang string
	var sections []string
	gen := &cobra.Command{
		Use:   "generate --period YYYY-MM|YYYY-Www --format pdf|html --out FILE",
		Short: "Make the report of an organisation for a month or an ISO week, store it and write it to a file",
		Long: "Make the weekly (--period 2026-W48) or monthly (--period 2026-11) report of an organisation\n" +
			"and everything below it, store it with the platform's reports (as the web page's\n" +
			"\"generate\" does) and write it to --out. --org takes an id, code or name; without it,\n" +
			"the first top-level organisation (the region, or the only hospital). --sections picks\n" +
			"sections (default: all). Nothing is written when the period, format, language,\n" +
			"sections or organisation is wrong.",
		Args: cobra.NoArgs,
		PreRunE: func(cmd *cobra.Command, args []string) error {
			if _, err := report.ParsePeriod(period); err != nil {
				return usagef("--period %q: want a month YYYY-MM or an ISO week YYYY-Www (e.g. 2026-11, 2026-W48)", period)
			}
			if !slices.Contains(report.Formats, format) {
				return usagef("--format must be one of %s", strings.Join(report.Formats, ", "))
			}
			if !slices.Contains(reportLangs, lang) {
				return usagef("--lang must be one of %s", strings.Join(reportLangs, ", "))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withApp(func(a *app.App) error {
				src := e.reportSource(a)
				for _, s := range sections {
					if !slices.Contains(src.Sections(), s) {
						return usagef("--sections: %q is not one of %s", s, strings.Join(src.Sections(), ", "))
					}
				}
				orgID, err := e.reportOrg(a, orgRef)
				if err != nil {
					return err
				}
				svc, err := report.New(a.DB, a.Trail, nil, src, report.Options{})
				if err != nil {
					return err
				}
				r, err := svc.Generate(e.ctx, actor.CLI(), report.GenerateInput{OrgID: orgID, Period: period, Lang: lang,
					Sections: sections, Formats: []string{format}})
				if err != nil {
					return err
				}
				b, err := svc.File(e.ctx, actor.CLI(), r.ID, format)
				if err != nil {
					return err
				}
				if err := writeFileAtomic(out, b); err != nil {
					return fmt.Errorf("report generate: %w", err)
				}
				note := ""
				if r.Empty {
					note = "; nothing to report in this period"
				}
				fmt.Fprintf(e.stdout, "report %d: %s, %s %s, %s (%d bytes, sha256 %s) written to %s%s\n", r.ID, r.OrgName, r.Kind, r.Period,
					format, r.Files[0].Size, r.Files[0].SHA256, out, note)
				return nil
			})
		},
	}
	f := gen.Flags()
	f.StringVar(&orgRef, "org", "", "the organisation: id, code or name (default: the first top-level one)")
	f.StringVar(&period, "period", "", "the month YYYY-MM or the ISO week YYYY-Www")
	f.StringVar(&format, "format", "", "pdf or html")
	f.StringVar(&out, "out", "", "the file to write")
	f.StringVar(&lang, "lang", "zh-CN", "language: zh-CN or en")
	f.StringSliceVar(&sections, "sections", nil, "sections to include, comma separated (default: all)")
	for _, name := range []string{"period", "format", "out"} {
		_ = gen.MarkFlagRequired(name)
	}
	cmd.AddCommand(gen)
	return cmd
}

// reportOrg finds the organisation of a report by id, code or name; with no reference,
// the first top-level organisation. Unlike resolveOrg it never creates one: a report of
// an organisation that does not exist is an error.
func (e *env) reportOrg(a *app.App, ref string) (int64, error) {
	nodes, err := a.Orgs.List(e.ctx, actor.CLI())
	if err != nil {
		return 0, err
	}
	if ref == "" {
		if len(nodes) == 0 {
			return 0, fmt.Errorf("no organisation yet: create one first (medguard demo makes a demo group)")
		}
		return nodes[0].ID, nil
	}
	id, _ := strconv.ParseInt(ref, 10, 64)
	for _, n := range nodes {
		if n.ID == id || (n.Code != "" && n.Code == ref) || n.Name == ref {
			return n.ID, nil
		}
	}
	return 0, fmt.Errorf("no organisation with id, code or name %q", ref)
}

// writeFileAtomic writes b to path through a temporary file in the same directory, so
// that path is either left as it was or holds all of b.
func writeFileAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
