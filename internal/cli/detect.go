package cli

import (
	"fmt"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/app"
	"github.com/medguard/medguard/internal/detect"
)

// detectCmd is `detect run`: the stored events through the rules, their alerts raised.
func (e *env) detectCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "detect", Short: "Evaluate stored audit events with the monitoring rules"}
	var fromS, toS, orgRef string
	run := &cobra.Command{
		Use:   "run",
		Short: "Evaluate stored audit events and raise their alerts",
		Long: "Evaluate the stored audit events of [--from, --to) (default: every stored event) in the\n" +
			"order they were stored, with the rules of the library, through the same engine as the\n" +
			"live runner, and raise their alerts (an open alert of the same rule and group is counted,\n" +
			"not repeated). The rules' windows see the events before --from as well. T is RFC 3339 or\n" +
			"YYYY-MM-DD (midnight in the monitor time zone). Prints the hits per rule.",
		Args: cobra.NoArgs,
		PreRunE: func(cmd *cobra.Command, args []string) error {
			_, err := span(fromS, toS, nil)
			return err
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withApp(func(a *app.App) error {
				env, sp, err := e.detectSpan(a, fromS, toS, orgRef)
				if err != nil {
					return err
				}
				// Each organisation through its own rules (the built-in library with what
				// it or an organisation above it stored).
				orgs := []int64{sp.OrgID}
				if sp.OrgID == 0 {
					nodes, err := a.Orgs.List(e.ctx, actor.CLI())
					if err != nil {
						return err
					}
					orgs = orgs[:0]
					for _, n := range nodes {
						orgs = append(orgs, n.ID)
					}
				}
				rep := detect.RunReport{PerRule: map[string]int{}}
				for _, id := range orgs {
					rules, err := a.Rules.Rules(e.ctx, id)
					if err != nil {
						return err
					}
					eng, err := detect.NewEngine(rules, env)
					if err != nil {
						return err
					}
					osp := sp
					osp.OrgID = id
					r, err := detect.Run(e.ctx, a.DB, a.Events, a.Alerts, eng, osp)
					if err != nil {
						return err
					}
					rep.Add(r)
				}
				tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "RULE\tHITS")
				for _, id := range slices.Sorted(func(yield func(string) bool) {
					for id := range rep.PerRule {
						if !yield(id) {
							return
						}
					}
				}) {
					fmt.Fprintf(tw, "%s\t%d\n", id, rep.PerRule[id])
				}
				if err := tw.Flush(); err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "events %d, hits %d, alerts created %d\n", rep.Events, rep.Hits, rep.Created)
				return nil
			})
		},
	}
	run.Flags().StringVar(&fromS, "from", "", "first event time, RFC 3339 or YYYY-MM-DD (default: the first stored)")
	run.Flags().StringVar(&toS, "to", "", "end of the events' time, exclusive, RFC 3339 or YYYY-MM-DD (default: none)")
	run.Flags().StringVar(&orgRef, "org", "", "organisation id, code or exact name (default: every organisation)")
	cmd.AddCommand(run)
	return cmd
}

// detectEnv is the engine's view of the hospital (app.DetectEnv): the monitor
// configuration and the explainer over the reference data.
func detectEnv(a *app.App) (detect.Env, error) { return a.DetectEnv() }

// detectSpan is what `detect run` and `rules test` evaluate with: the engine's
// environment and the span of --from, --to (in its time zone) and --org.
func (e *env) detectSpan(a *app.App, fromS, toS, orgRef string) (detect.Env, detect.Span, error) {
	env, err := detectEnv(a)
	if err != nil {
		return env, detect.Span{}, err
	}
	sp, err := span(fromS, toS, env.Location)
	if err != nil {
		return env, sp, err
	}
	if orgRef != "" {
		if sp.OrgID, err = e.resolveOrg(a, orgRef); err != nil {
			return env, sp, err
		}
	}
	return env, sp, nil
}

// span reads --from and --to: RFC 3339, or a date at midnight in loc.
func span(fromS, toS string, loc *time.Location) (detect.Span, error) {
	if loc == nil {
		loc = detect.Shanghai
	}
	var sp detect.Span
	for _, f := range []struct {
		name, v string
		t       *time.Time
	}{{"--from", fromS, &sp.From}, {"--to", toS, &sp.To}} {
		if f.v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, f.v)
		if err != nil {
			if t, err = time.ParseInLocation(time.DateOnly, f.v, loc); err != nil {
				return sp, usagef("%s must be a time (RFC 3339) or a date (YYYY-MM-DD)", f.name)
			}
		}
		*f.t = t.UTC()
	}
	if !sp.From.IsZero() && !sp.To.IsZero() && !sp.From.Before(sp.To) {
		return sp, usagef("--from must be before --to")
	}
	return sp, nil
}
