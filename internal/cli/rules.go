package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/app"
	"github.com/medguard/medguard/internal/detect"
)

// rulesCmd is `rules list` and `rules test`.
func (e *env) rulesCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "rules", Short: "The monitoring rules of audit events"}
	var listFormat string
	list := &cobra.Command{
		Use:   "list",
		Short: "List the built-in monitoring rules",
		Args:  cobra.NoArgs,
		PreRunE: func(cmd *cobra.Command, args []string) error {
			if listFormat != "table" && listFormat != "json" {
				return usagef("--format must be table or json")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			rules := detect.Builtin()
			if listFormat == "json" {
				enc := json.NewEncoder(e.stdout)
				enc.SetEscapeHTML(false)
				enc.SetIndent("", "  ")
				return enc.Encode(rules)
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tKIND\tSEVERITY\tNAME")
			for _, r := range rules {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.ID, r.Kind, r.Severity, r.Name.En)
			}
			return tw.Flush()
		},
	}
	list.Flags().StringVar(&listFormat, "format", "table", "output format: table or json")

	var fromS, toS, orgRef, format string
	test := &cobra.Command{
		Use:   "test RULE --from T --to T",
		Short: "Show what a rule would have fired on stored events",
		Long: "Evaluate one rule on the stored audit events of [--from, --to) and show what it would have\n" +
			"fired, without raising anything. RULE is the id of a built-in rule or a YAML file of one\n" +
			"rule (validated: an unknown key or event field is refused). T is RFC 3339 or YYYY-MM-DD\n" +
			"(midnight in the monitor time zone). Patient identifiers are masked.",
		Args: cobra.ExactArgs(1),
		PreRunE: func(cmd *cobra.Command, args []string) error {
			if format != "table" && format != "json" {
				return usagef("--format must be table or json")
			}
			_, err := span(fromS, toS, nil)
			return err
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			rule, err := ruleArg(args[0])
			if err != nil {
				return err
			}
			return e.withApp(func(a *app.App) error {
				env, sp, err := e.detectSpan(a, fromS, toS, orgRef)
				if err != nil {
					return err
				}
				hits, err := detect.Test(e.ctx, a.Events, []detect.Rule{rule}, env, sp)
				if err != nil {
					return err
				}
				out := make([]cliHit, 0, len(hits))
				for _, h := range hits {
					out = append(out, toCLIHit(h))
				}
				if format == "json" {
					enc := json.NewEncoder(e.stdout)
					enc.SetEscapeHTML(false)
					enc.SetIndent("", "  ")
					return enc.Encode(out)
				}
				tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "FROM\tTO\tACCOUNT\tPATIENT\tGROUP\tEVENTS")
				for _, h := range out {
					var g []string
					for _, f := range h.GroupBy {
						if v, ok := h.Group[f]; ok {
							g = append(g, f+"="+v)
						}
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\n", h.From.Format(time.RFC3339), h.To.Format(time.RFC3339), dash(h.Account),
						dash(h.PatientID), dash(strings.Join(g, " ")), len(h.Events))
				}
				if err := tw.Flush(); err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "%s: %d hit(s)\n", rule.ID, len(out))
				return nil
			})
		},
	}
	f := test.Flags()
	f.StringVar(&fromS, "from", "", "first event time, RFC 3339 or YYYY-MM-DD")
	f.StringVar(&toS, "to", "", "end of the events' time, exclusive, RFC 3339 or YYYY-MM-DD")
	f.StringVar(&orgRef, "org", "", "organisation id, code or exact name (default: every organisation)")
	f.StringVar(&format, "format", "table", "output format: table or json")
	_ = test.MarkFlagRequired("from")
	_ = test.MarkFlagRequired("to")
	cmd.AddCommand(list, test)
	return cmd
}

// ruleArg is a built-in rule id or a YAML file of one rule.
func ruleArg(arg string) (detect.Rule, error) {
	if r, ok := detect.BuiltinRule(arg); ok {
		return r, nil
	}
	if !strings.HasSuffix(arg, ".yaml") && !strings.HasSuffix(arg, ".yml") && !strings.ContainsAny(arg, `/\`) {
		return detect.Rule{}, usagef("%q is neither a built-in rule (medguard rules list) nor a .yaml file", arg)
	}
	b, err := os.ReadFile(arg)
	if err != nil {
		return detect.Rule{}, fmt.Errorf("read the rule file: %w", err)
	}
	return detect.Parse(b)
}

// cliHit is a hit as `rules test --format json` writes it: the patient id masked.
type cliHit struct {
	Rule      string            `json:"rule"`
	Account   string            `json:"account"`
	PatientID string            `json:"patient_id"`
	GroupBy   []string          `json:"group_by"`
	Group     map[string]string `json:"group"`
	From      time.Time         `json:"from"`
	To        time.Time         `json:"to"`
	Events    []string          `json:"events"`
	Class     string            `json:"explanation,omitempty"`
	Flags     []string          `json:"flags,omitempty"`
}

func toCLIHit(h detect.Hit) cliHit {
	g := map[string]string{}
	for k, v := range h.Group {
		if k == "patient_id" {
			v = alert.MaskPatientID(v)
		}
		g[k] = v
	}
	groupBy := h.GroupBy
	if groupBy == nil {
		groupBy = []string{}
	}
	return cliHit{Rule: h.Rule.ID, Account: h.Account, PatientID: alert.MaskPatientID(h.PatientID), GroupBy: groupBy, Group: g,
		From: h.From, To: h.To, Events: h.Events, Class: h.Explanation.Class, Flags: h.Explanation.Flags}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
