package cli

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/app"
)

// alertStatuses are the values of `alerts list --status`.
var alertStatuses = append([]string{alert.StatusOpen}, alert.Statuses...)

var sourceName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

func (e *env) alertsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "alerts", Short: "The alert inbox of every module (supply chain, patient data …)"}
	var source, status, format string
	list := &cobra.Command{
		Use:   "list",
		Short: "List alerts, most recently seen first",
		Long: "List alerts, most recently seen first. A patient identifier is shown masked (its last\n" +
			"characters only). --status open selects new and investigating alerts.",
		Args: cobra.NoArgs,
		PreRunE: func(cmd *cobra.Command, args []string) error {
			if format != "table" && format != "json" {
				return usagef("--format must be table or json")
			}
			if status != "" && !oneOf(status, alertStatuses) {
				return usagef("--status must be one of %s", strings.Join(alertStatuses, ", "))
			}
			if source != "" && !sourceName.MatchString(source) {
				return usagef("--source must be a module name such as supply or dlp")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withApp(func(a *app.App) error {
				var all []alert.Alert
				for {
					page, total, err := a.Alerts.List(e.ctx, actor.CLI(), alert.Filter{Source: source, Status: status,
						Limit: 500, Offset: len(all)})
					if err != nil {
						return err
					}
					all = append(all, page...)
					if len(page) == 0 || len(all) >= total {
						break
					}
				}
				if format == "json" {
					return writeAlertsJSON(e, all)
				}
				writeAlertsTable(e, all)
				return nil
			})
		},
	}
	list.Flags().StringVar(&source, "source", "", "only alerts of this module: supply, dlp …")
	list.Flags().StringVar(&status, "status", "", "only alerts with this status: "+strings.Join(alertStatuses, ", "))
	list.Flags().StringVar(&format, "format", "table", "output format: table or json")
	cmd.AddCommand(list)
	return cmd
}

// cliAlert is an alert as `alerts list --format json` writes it.
type cliAlert struct {
	ID           int64      `json:"id"`
	Organisation string     `json:"organisation"`
	Source       string     `json:"source"`
	Kind         string     `json:"kind"`
	Severity     string     `json:"severity"`
	Status       string     `json:"status"`
	Resolution   string     `json:"resolution"`
	Title        string     `json:"title"`
	Subject      string     `json:"subject"`
	Account      string     `json:"account"`
	PatientID    string     `json:"patient_id"` // masked: alert.Alert holds it so
	Silenced     bool       `json:"silenced"`
	CaseID       int64      `json:"case_id,omitempty"`
	Assignee     string     `json:"assignee"`
	DueAt        *time.Time `json:"due_at"`
	FirstSeen    time.Time  `json:"first_seen"`
	LastSeen     time.Time  `json:"last_seen"`
	Count        int64      `json:"count"`
	// A detection rule's alert: the rule, the fields it grouped by and their values
	// (terminal and source_ip also as fields of their own), the events' time range.
	Rule       string            `json:"rule,omitempty"`
	GroupBy    []string          `json:"group_by,omitempty"`
	Group      map[string]string `json:"group,omitempty"`
	System     string            `json:"system,omitempty"`
	Department string            `json:"department,omitempty"`
	StaffID    string            `json:"staff_id,omitempty"`
	Terminal   string            `json:"terminal,omitempty"`
	SourceIP   string            `json:"source_ip,omitempty"`
	From       *time.Time        `json:"from,omitempty"`
	To         *time.Time        `json:"to,omitempty"`
	// Evidence is what a detection rule stored with its alert (its events and the
	// explanation); never a clear patient value.
	Evidence json.RawMessage `json:"evidence,omitempty"`
}

func writeAlertsJSON(e *env, as []alert.Alert) error {
	out := make([]cliAlert, len(as))
	for i, al := range as {
		out[i] = cliAlert{ID: al.ID, Organisation: al.OrgName, Source: al.Source, Kind: al.Kind, Severity: al.Severity,
			Status: al.Status, Resolution: al.Resolution, Title: al.Title, Subject: al.Subject, Account: al.Account,
			PatientID: al.PatientID, Silenced: al.Silenced(), CaseID: al.CaseID, Assignee: al.Assignee,
			DueAt: al.DueAt, FirstSeen: al.FirstSeen, LastSeen: al.LastSeen, Count: al.Count,
			Rule: al.Rule, GroupBy: al.GroupBy, Group: al.Group, System: al.System, Department: al.Department,
			StaffID: al.StaffID, Terminal: al.Terminal, SourceIP: al.SourceIP, From: al.From, To: al.To}
		if al.Rule != "" {
			out[i].Evidence = al.Evidence
		}
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func writeAlertsTable(e *env, as []alert.Alert) {
	if len(as) == 0 {
		fmt.Fprintln(e.stdout, "no alerts")
		return
	}
	fmt.Fprintf(e.stdout, "%-6s %-8s %-13s %-7s %-20s %5s  %-20s %s\n", "ID", "SEVERITY", "STATUS", "SOURCE", "KIND", "COUNT",
		"LAST SEEN", "TITLE")
	silenced := false
	for _, al := range as {
		st := al.Status
		if al.Silenced() {
			st += "*"
			silenced = true
		}
		title := al.Title
		if al.PatientID != "" {
			title += " [patient " + al.PatientID + "]"
		}
		fmt.Fprintf(e.stdout, "%-6d %-8s %-13s %-7s %-20s %5d  %-20s %s\n", al.ID, al.Severity, st, al.Source, al.Kind, al.Count,
			al.LastSeen.Format("2006-01-02 15:04:05Z"), title)
	}
	if silenced {
		fmt.Fprintln(e.stdout, "(* silenced: stored and shown, not notified)")
	}
}
