package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/app"
)

func (e *env) upstreamCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "upstream", Short: "Upward reporting of internet-hospital apps to a regional medguard"}

	var orgRef string
	link := &cobra.Command{
		Use:   "link --org ID",
		Short: "At the region: link a hospital node and print the token and key its medguard reports with (shown once)",
		Long: `At the regional medguard: link a hospital node for upward reporting and print the two
secrets the hospital's medguard is configured with, shown this once:

  apps.upstream_token (MEDGUARD_APPS_UPSTREAM_TOKEN): an API token that may push reports
      for this node and do nothing else;
  apps.upstream_key (MEDGUARD_APPS_UPSTREAM_KEY): the key the region signs its
      acknowledgements with, which the hospital checks.

Linking a node again replaces both and revokes the previous token.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if orgRef == "" {
				return usagef("--org is required")
			}
			return e.withApp(func(a *app.App) error {
				id, err := e.resolveOrg(a, orgRef)
				if err != nil {
					return err
				}
				l, err := a.Upstream.LinkHospital(e.ctx, actor.CLI(), id)
				if err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "linked %s (organisation %d) for upward reporting; configure its medguard with:\n", l.Hospital, l.OrgID)
				fmt.Fprintf(e.stdout, "MEDGUARD_APPS_UPSTREAM_TOKEN=%s\n", l.Token)
				fmt.Fprintf(e.stdout, "MEDGUARD_APPS_UPSTREAM_KEY=%s\n", l.Key)
				return nil
			})
		},
	}
	link.Flags().StringVar(&orgRef, "org", "", "the hospital node: id, code or name")

	push := &cobra.Command{
		Use:   "push",
		Short: "At a hospital: push the apps report to the regional medguard once (apps.upstream_url) and print the acknowledgement",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withApp(func(a *app.App) error {
				p, err := a.UpstreamPusher()
				if err != nil {
					return err
				}
				ack, err := p.Push(e.ctx)
				if err != nil {
					return err
				}
				changed := "changed nothing (the region had it already)"
				if ack.Changed {
					changed = "stored"
				}
				fmt.Fprintf(e.stdout, "report %s acknowledged: %d apps, %d new incidents, %s\n", ack.ReportID, ack.Apps, ack.Incidents, changed)
				return nil
			})
		},
	}
	cmd.AddCommand(link, push)
	return cmd
}
