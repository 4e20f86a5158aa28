package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/app"
	"github.com/medguard/medguard/internal/incident"
	"github.com/medguard/medguard/internal/risk"
)

// riskStatuses are the values of `risk list --status`.
var riskStatuses = append([]string{"active"}, risk.Statuses...)

func (e *env) riskCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "risk", Short: "The risk register (风险管理): risks rated on the matrix, treated, accepted, reviewed"}
	var status, level, format string
	list := &cobra.Command{
		Use:   "list",
		Short: "List the risks, highest level first",
		Long: "List the risks of every organisation, highest current level first, then score, then\n" +
			"next review. --status active selects every risk not closed. The JSON holds each risk's\n" +
			"current (residual) rating and the records it came from (sources: module and id).",
		Args: cobra.NoArgs,
		PreRunE: func(cmd *cobra.Command, args []string) error {
			if format != "table" && format != "json" {
				return usagef("--format must be table or json")
			}
			if status != "" && !oneOf(status, riskStatuses) {
				return usagef("--status must be one of %s", strings.Join(riskStatuses, ", "))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withApp(func(a *app.App) error {
				if m := a.Risks.Matrix(); level != "" && m.Rank(level) == 0 {
					var ids []string
					for _, l := range m.Levels {
						ids = append(ids, l.ID)
					}
					return usagef("--level must be one of %s", strings.Join(ids, ", "))
				}
				all := []risk.Risk{}
				for {
					page, total, err := a.Risks.Risks(e.ctx, actor.CLI(), risk.Query{Status: status, Level: level, Limit: 500, Offset: len(all)})
					if err != nil {
						return err
					}
					all = append(all, page...)
					if len(page) == 0 || len(all) >= total {
						break
					}
				}
				if format == "json" {
					enc := json.NewEncoder(e.stdout)
					enc.SetIndent("", "  ")
					return enc.Encode(all)
				}
				writeRisksTable(e, all)
				return nil
			})
		},
	}
	list.Flags().StringVar(&status, "status", "", "only risks with this status: "+strings.Join(riskStatuses, ", "))
	list.Flags().StringVar(&level, "level", "", "only risks at this current level (low, medium, high, critical on the default matrix)")
	list.Flags().StringVar(&format, "format", "table", "output format: table or json")
	cmd.AddCommand(list)
	return cmd
}

func writeRisksTable(e *env, rs []risk.Risk) {
	if len(rs) == 0 {
		fmt.Fprintln(e.stdout, "no risks")
		return
	}
	fmt.Fprintf(e.stdout, "%-6s %-9s %-5s %-9s %-10s %-11s %-14s %s\n", "ID", "LEVEL", "L×I", "STATUS", "TREATMENT", "NEXT REVIEW", "OWNER", "TITLE")
	for _, r := range rs {
		var src []string
		for _, s := range r.Sources {
			src = append(src, fmt.Sprintf("%s %d", s.Module, s.ID))
		}
		title := r.Title
		if len(src) > 0 {
			title += " [" + strings.Join(src, ", ") + "]"
		}
		fmt.Fprintf(e.stdout, "%-6d %-9s %-5s %-9s %-10s %-11s %-14s %s\n", r.ID, r.Level, fmt.Sprintf("%d×%d", r.Likelihood, r.Impact),
			r.Status, r.Treatment, r.NextReviewAt.Format(time.DateOnly), r.Owner, title)
	}
}

func (e *env) incidentCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "incident", Short: "Incidents (事件分级) with their regulatory reporting clocks"}
	var status, level, format string
	var overdue bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List the incidents, newest detection first",
		Long: "List the incidents of every organisation, newest detection first, with their GB/T\n" +
			"20986-2023 category and level and the reporting deadline (report_due: null when the\n" +
			"level has no clock). --overdue selects those whose deadline passed unreported.",
		Args: cobra.NoArgs,
		PreRunE: func(cmd *cobra.Command, args []string) error {
			if format != "table" && format != "json" {
				return usagef("--format must be table or json")
			}
			if status != "" && !oneOf(status, incident.Statuses) {
				return usagef("--status must be one of %s", strings.Join(incident.Statuses, ", "))
			}
			if level != "" && !incident.ValidLevel(level) {
				return usagef("--level must be one of %s", strings.Join(incident.LevelIDs(), ", "))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withApp(func(a *app.App) error {
				all, err := a.Incidents.Incidents(e.ctx, actor.CLI(), incident.Query{Status: status, Level: level, Overdue: overdue})
				if err != nil {
					return err
				}
				if all == nil {
					all = []incident.Incident{}
				}
				if format == "json" {
					enc := json.NewEncoder(e.stdout)
					enc.SetIndent("", "  ")
					return enc.Encode(all)
				}
				writeIncidentsTable(e, all)
				return nil
			})
		},
	}
	list.Flags().StringVar(&status, "status", "", "only incidents with this status: "+strings.Join(incident.Statuses, ", "))
	list.Flags().StringVar(&level, "level", "", "only incidents of this level: "+strings.Join(incident.LevelIDs(), ", "))
	list.Flags().BoolVar(&overdue, "overdue", false, "only incidents whose reporting deadline passed unreported")
	list.Flags().StringVar(&format, "format", "table", "output format: table or json")
	cmd.AddCommand(list)
	return cmd
}

func writeIncidentsTable(e *env, is []incident.Incident) {
	if len(is) == 0 {
		fmt.Fprintln(e.stdout, "no incidents")
		return
	}
	fmt.Fprintf(e.stdout, "%-6s %-13s %-18s %-9s %-20s %-21s %s\n", "ID", "LEVEL", "CATEGORY", "STATUS", "DETECTED", "REPORT DUE", "TITLE")
	for _, in := range is {
		due := "—"
		switch {
		case in.ReportedAt != nil:
			due = "reported " + in.ReportedAt.UTC().Format("2006-01-02 15:04Z")
		case in.ReportDue != nil:
			due = in.ReportDue.UTC().Format("2006-01-02 15:04Z")
			if in.Overdue {
				due += " OVERDUE"
			}
		}
		fmt.Fprintf(e.stdout, "%-6d %-13s %-18s %-9s %-20s %-21s %s\n", in.ID, in.Level, in.Category, in.Status,
			in.DetectedAt.UTC().Format("2006-01-02 15:04Z"), due, in.Title)
	}
}
