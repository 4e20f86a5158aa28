package cli

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/app"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/lease"
	"github.com/medguard/medguard/internal/notify"
	"github.com/medguard/medguard/internal/notify/channel"
)

// notifyTestWait is how long `notify test` waits for the outcome of its message.
const notifyTestWait = 30 * time.Second

func (e *env) notifyCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "notify", Short: "Notification channels, routes and test messages"}
	chans := &cobra.Command{Use: "channel", Short: "Manage notification channels (webhook, e-mail, WeCom, DingTalk, Feishu)"}

	var in notify.ChannelInput
	var orgRef string
	add := &cobra.Command{
		Use:   "add",
		Short: "Add a channel; a running server uses it without a restart",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !slices.Contains(channel.Kinds(), in.Kind) {
				return usagef("--kind must be one of %s", strings.Join(channel.Kinds(), ", "))
			}
			if !slices.Contains(i18n.Languages, in.Lang) {
				return usagef("--lang must be one of %s", strings.Join(i18n.Languages, ", "))
			}
			return e.withApp(func(a *app.App) error {
				var err error
				if in.OrgID, err = e.resolveOrg(a, orgRef); err != nil {
					return err
				}
				c, err := a.Notify.AddChannel(e.ctx, actor.CLI(), in)
				if err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "added %s channel %s (id %d)\n", c.Kind, c.Name, c.ID)
				return nil
			})
		},
	}
	f := add.Flags()
	f.StringVar(&in.Name, "name", "", "channel name, unique in its organisation")
	f.StringVar(&in.Kind, "kind", "", "kind: "+strings.Join(channel.Kinds(), ", "))
	f.StringVar(&in.URL, "url", "", "webhook or robot URL; for e-mail smtp://host:port (STARTTLS) or smtps://host:port")
	f.StringVar(&in.Secret, "secret", "", "webhook HMAC secret, DingTalk/Feishu signing secret or SMTP password")
	f.StringVar(&in.Lang, "lang", i18n.ZhCN, "language of the messages: zh-CN or en")
	f.StringVar(&orgRef, "org", "", "organisation id, code or exact name (default: the top organisation)")
	f.StringVar(&in.Username, "smtp-username", "", "SMTP user name")
	f.StringVar(&in.From, "smtp-from", "", "sender address of e-mail messages")
	f.StringSliceVar(&in.To, "smtp-to", nil, "recipient addresses of e-mail messages (comma-separated)")
	f.BoolVar(&in.StartTLS, "smtp-starttls", true, "require STARTTLS on smtp://")
	_ = add.MarkFlagRequired("name")
	_ = add.MarkFlagRequired("kind")
	_ = add.MarkFlagRequired("url")

	list := &cobra.Command{
		Use:   "list",
		Short: "List the channels",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withApp(func(a *app.App) error {
				cs, err := a.Notify.Channels(e.ctx, actor.CLI())
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tNAME\tKIND\tLANG\tSECRET\tENABLED\tURL")
				yn := map[bool]string{true: "yes", false: "no"}
				for _, c := range cs {
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", c.ID, c.Name, c.Kind, c.Lang, yn[c.HasSecret], yn[c.Enabled], c.RedactedURL())
				}
				return tw.Flush()
			})
		},
	}
	setEnabled := func(use, short string, enabled bool) *cobra.Command {
		return &cobra.Command{
			Use:   use + " NAME",
			Short: short,
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return e.withApp(func(a *app.App) error {
					c, err := a.Notify.ChannelByName(e.ctx, actor.CLI(), args[0])
					if err != nil {
						return err
					}
					if c, err = a.Notify.SetChannelEnabled(e.ctx, actor.CLI(), c.ID, enabled); err != nil {
						return err
					}
					fmt.Fprintf(e.stdout, "channel %s (id %d) is %s\n", c.Name, c.ID, map[bool]string{true: "enabled", false: "disabled"}[c.Enabled])
					return nil
				})
			},
		}
	}
	chans.AddCommand(add, list,
		setEnabled("disable", "Disable a channel: no new messages are queued for it, and those waiting are held until it is enabled", false),
		setEnabled("enable", "Enable a channel again: the messages held for it are sent", true))

	routes := &cobra.Command{Use: "route", Short: "Manage the routes that send alerts to channels"}
	var r notify.Route
	var chanName, routeOrg, quiet, escalateTo string
	var escalateAfter time.Duration
	var onlyOrg bool
	routeAdd := &cobra.Command{
		Use:   "add",
		Short: "Send the alerts of an organisation and those below it to a channel; a running server uses it without a restart",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if r.MinSeverity != "" && !slices.Contains(notify.Severities, r.MinSeverity) {
				return usagef("--min-severity must be one of %s", strings.Join(notify.Severities, ", "))
			}
			if quiet != "" {
				var err error
				if r.QuietStart, r.QuietEnd, err = notify.ParseQuietHours(quiet); err != nil {
					return usagef("--quiet: %v", err)
				}
			}
			if (escalateAfter > 0) != (escalateTo != "") || escalateAfter < 0 || escalateAfter%time.Minute != 0 {
				return usagef("--escalate-after (a whole number of minutes) and --escalate-to go together")
			}
			r.EscalateMinutes = int(escalateAfter / time.Minute)
			if _, err := time.LoadLocation(r.TimeZone); err != nil || r.TimeZone == "" {
				return usagef("--time-zone must be an IANA time zone such as Asia/Shanghai")
			}
			return e.withApp(func(a *app.App) error {
				// The channel first: a route to no channel creates nothing, not even the
				// default organisation.
				c, err := a.Notify.ChannelByName(e.ctx, actor.CLI(), chanName)
				if err != nil {
					return err
				}
				if r.OrgID, err = e.resolveOrg(a, routeOrg); err != nil {
					return err
				}
				if escalateTo != "" {
					esc, err := a.Notify.ChannelByName(e.ctx, actor.CLI(), escalateTo)
					if err != nil {
						return err
					}
					r.EscalateChannelID = esc.ID
				}
				r.ChannelID, r.Subtree = c.ID, !onlyOrg
				out, err := a.Notify.AddRoute(e.ctx, actor.CLI(), r)
				if err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "added route %d to channel %s\n", out.ID, c.Name)
				return nil
			})
		},
	}
	rf := routeAdd.Flags()
	rf.StringVar(&chanName, "channel", "", "name of the channel to send to")
	rf.StringVar(&r.Source, "source", "", "only alerts of this module (supply, dlp, …; default: all)")
	rf.StringVar(&r.Kind, "alert-kind", "", "only alerts of this kind (default: all)")
	rf.StringVar(&r.MinSeverity, "min-severity", "", "only alerts at least this severe: "+strings.Join(notify.Severities, ", ")+" (default: all)")
	rf.StringVar(&routeOrg, "org", "", "organisation id, code or exact name (default: the top organisation)")
	rf.BoolVar(&onlyOrg, "only-org", false, "only the organisation's own alerts, not those of the organisations below it")
	rf.StringVar(&quiet, "quiet", "", "quiet hours HH:MM-HH:MM (such as 22:00-07:00): messages below critical wait until they end")
	rf.StringVar(&r.TimeZone, "time-zone", "Asia/Shanghai", "time zone of the quiet hours")
	rf.DurationVar(&escalateAfter, "escalate-after", 0, "send a critical alert not acknowledged after this long (such as 15m) to --escalate-to as well")
	rf.StringVar(&escalateTo, "escalate-to", "", "name of the escalation channel")
	_ = routeAdd.MarkFlagRequired("channel")
	routeRemove := &cobra.Command{
		Use:   "remove ID",
		Short: "Remove a route; a running server stops using it within seconds",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || id <= 0 {
				return usagef("the route ID must be a positive number")
			}
			return e.withApp(func(a *app.App) error {
				if err := a.Notify.RemoveRoute(e.ctx, actor.CLI(), id); err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "removed route %d\n", id)
				return nil
			})
		},
	}
	routeList := &cobra.Command{
		Use:   "list",
		Short: "List the routes (subscriptions are routes to one user)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withApp(func(a *app.App) error {
				rs, err := a.Notify.Routes(e.ctx, actor.CLI())
				if err != nil {
					return err
				}
				any := func(v string) string { return cmp.Or(v, "*") }
				tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tORG\tRECEIVER\tSOURCE\tKIND\tMIN SEVERITY\tSUBTREE")
				for _, r := range rs {
					recv := "role " + r.Role
					switch {
					case r.ChannelID != 0:
						recv = "channel " + strconv.FormatInt(r.ChannelID, 10)
					case r.UserID != 0:
						recv = "user " + strconv.FormatInt(r.UserID, 10)
					}
					fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\t%s\t%t\n", r.ID, r.OrgID, recv, any(r.Source), any(r.Kind), any(r.MinSeverity), r.Subtree)
				}
				return tw.Flush()
			})
		},
	}
	routes.AddCommand(routeAdd, routeList, routeRemove)

	var testChan string
	test := &cobra.Command{
		Use:   "test",
		Short: "Send a test message through the outbox and wait (up to 30 s) for the outcome",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withApp(func(a *app.App) error { return e.notifyTest(a, testChan) })
		},
	}
	test.Flags().StringVar(&testChan, "channel", "", "name of the channel")
	_ = test.MarkFlagRequired("channel")

	var state, format string
	deliveries := &cobra.Command{
		Use:   "deliveries",
		Short: "List the latest deliveries (messages) and their state; --state dead lists the dead letters",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if state != "" && !slices.Contains([]string{notify.StatePending, notify.StateSent, notify.StateDead}, state) {
				return usagef("--state must be pending, sent or dead")
			}
			if format != "table" && format != "json" {
				return usagef("--format must be table or json")
			}
			return e.withApp(func(a *app.App) error {
				ds, err := a.Notify.Deliveries(e.ctx, actor.CLI(), state, 500)
				if err != nil {
					return err
				}
				if format == "json" {
					if ds == nil {
						ds = []notify.Delivery{}
					}
					enc := json.NewEncoder(e.stdout)
					enc.SetIndent("", "  ")
					return enc.Encode(ds)
				}
				tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tCHANNEL\tSTATE\tATTEMPTS\tKEY\tLAST ERROR")
				for _, d := range ds {
					fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\t%s\n", d.ID, d.ChannelName, d.State, d.Attempts, d.Key, d.LastError)
				}
				return tw.Flush()
			})
		},
	}
	deliveries.Flags().StringVar(&state, "state", "", "only deliveries in this state: pending, sent or dead")
	deliveries.Flags().StringVar(&format, "format", "table", "output format: table or json")

	resend := &cobra.Command{
		Use:   "resend ID",
		Short: "Send a dead letter again (under its idempotency key); the serving process sends it",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || id <= 0 {
				return usagef("the delivery ID must be a positive number")
			}
			return e.withApp(func(a *app.App) error {
				if err := a.Notify.Resend(e.ctx, actor.CLI(), id); err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "delivery %d is pending again\n", id)
				return nil
			})
		},
	}

	cmd.AddCommand(chans, routes, test, deliveries, resend)
	return cmd
}

// notifyTest enqueues a test message for the channel called name and waits for its
// outcome. A server holding the dispatcher's lease sends it; when none does, this process
// takes the lease and dispatches the channel itself.
func (e *env) notifyTest(a *app.App, name string) error {
	c, err := a.Notify.ChannelByName(e.ctx, actor.CLI(), name)
	if err != nil {
		return err
	}
	id, err := a.Notify.EnqueueTest(e.ctx, c)
	if err != nil {
		return err
	}
	leases := lease.New(a.DB, lease.NewHolder(), a.Config.LeaseTTL, e.logger())
	held := false
	defer func() {
		if held {
			_ = leases.Release(e.ctx, notify.LeaseName)
		}
	}()
	deadline := time.Now().Add(notifyTestWait)
	for {
		d, ok, err := a.Notify.DeliveryOfOutbox(e.ctx, id)
		if err != nil {
			return err
		}
		switch {
		case ok && d.State == notify.StateSent:
			fmt.Fprintf(e.stdout, "test message sent to channel %s (delivery %s)\n", c.Name, d.Key)
			return nil
		case ok && d.State == notify.StateDead:
			return fmt.Errorf("the test message to channel %s failed and went to dead letters: %s", c.Name, d.LastError)
		case ok && d.Attempts > 0:
			return fmt.Errorf("the test message to channel %s failed (%s); the dispatcher tries again at %s",
				c.Name, d.LastError, d.NextAttemptAt.Local().Format(time.DateTime))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the test message to channel %s was not sent within %s: is a server dispatching?", c.Name, notifyTestWait)
		}
		// Without a server holding the lease, this process dispatches the channel.
		if held, err = leases.Acquire(e.ctx, notify.LeaseName); err != nil {
			return err
		} else if held {
			if _, err := a.Notify.DispatchChannel(e.ctx, c.ID); err != nil {
				return err
			}
			continue
		}
		select {
		case <-e.ctx.Done():
			return e.ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}
