// Package cli is medguard's command line: serve, demo, migrate, user and token
// management, trail verification, the vulnerability database, SBOM checks and imports,
// delivery verification, and the inspection of internet-hospital APKs. Run returns an exit code instead of exiting, so every
// command is testable in-process.
package cli

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/app"
	"github.com/medguard/medguard/internal/auth"
	"github.com/medguard/medguard/internal/demo"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/report"
	"github.com/medguard/medguard/internal/trail"
)

type env struct {
	ctx    context.Context
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	cfg    app.Config
	flags  *pflag.FlagSet
	// ready is called with the base URL when a server starts (tests use it).
	ready func(url string)
	// reportSource gives `report generate` the Source of a report's data.
	reportSource func(a *app.App) report.Source
}

// Run executes the command line args and returns the process exit code.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return run(ctx, args, stdin, stdout, stderr, os.Getenv, nil)
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string, ready func(string)) int {
	e := &env{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv, ready: ready, reportSource: reportSource}
	root := e.rootCmd()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	strictUsage(root)
	if group, err := unknownWithHelp(root, args); err != nil {
		return exitCode(stderr, group, err)
	}
	cmd, err := root.ExecuteContextC(ctx)
	return exitCode(stderr, cmd, err)
}

func (e *env) rootCmd() *cobra.Command {
	defaults := app.Defaults()
	root := &cobra.Command{
		Use:           "medguard",
		Short:         "Security governance for hospitals, internet hospitals and their regulators",
		Long:          "Security governance for hospitals, internet hospitals and their regulators.\n\n" + exitCodesHelp,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			e.flags = cmd.Flags()
			return e.loadConfig(cmd)
		},
	}
	pf := root.PersistentFlags()
	pf.String("config", "", "YAML configuration file (env MEDGUARD_CONFIG)")
	pf.String("data", defaults.DataDir, "directory of the embedded SQLite store (env MEDGUARD_DATA)")
	pf.String("db", "", "PostgreSQL URL postgres://user:pass@host/db, instead of SQLite (env MEDGUARD_DB, MEDGUARD_DB_FILE)")
	pf.String("addr", defaults.Addr, "listen address (env MEDGUARD_ADDR)")
	pf.String("tls-cert", "", "TLS certificate (PEM) to serve HTTPS (env MEDGUARD_TLS_CERT)")
	pf.String("tls-key", "", "TLS private key (PEM) (env MEDGUARD_TLS_KEY)")
	pf.String("trail-hash", defaults.TrailHash, "hash of the audit trail chain: sha256 or sm3 (env MEDGUARD_TRAIL_HASH)")
	pf.String("log-format", defaults.LogFormat, "log format: text or json (env MEDGUARD_LOG_FORMAT)")
	pf.String("log-level", defaults.LogLevel, "log level: debug, info, warn, error (env MEDGUARD_LOG_LEVEL)")
	root.AddCommand(e.serveCmd(), e.demoCmd(), e.migrateCmd(), e.userCmd(), e.tokenCmd(), e.trailCmd(), e.versionCmd(),
		e.vulndbCmd(), e.sbomCmd(), e.deliveryCmd(), e.notifyCmd())
	root.AddCommand(e.scanCmd(), e.maskCmd(), e.alertsCmd(), e.referenceCmd(), e.eventsCmd(), e.detectCmd(), e.rulesCmd())
	root.AddCommand(e.authcodeCmd(), e.appCmd(), e.upstreamCmd(), e.riskCmd(), e.incidentCmd())
	root.AddCommand(e.complianceCmd())
	root.AddCommand(e.reportCmd())
	return root
}

// loadConfig applies defaults < file < environment < flags.
func (e *env) loadConfig(cmd *cobra.Command) error {
	cfg := app.Defaults()
	path, _ := cmd.Flags().GetString("config")
	if path == "" {
		path = e.getenv("MEDGUARD_CONFIG")
	}
	if path != "" {
		if err := cfg.LoadFile(path); err != nil {
			return err
		}
	}
	if err := cfg.LoadEnv(e.getenv); err != nil {
		return err
	}
	for flag, dst := range map[string]*string{"data": &cfg.DataDir, "db": &cfg.DB, "addr": &cfg.Addr, "tls-cert": &cfg.TLSCert,
		"tls-key": &cfg.TLSKey, "trail-hash": &cfg.TrailHash, "log-format": &cfg.LogFormat, "log-level": &cfg.LogLevel} {
		if f := cmd.Flags().Lookup(flag); f != nil && f.Changed {
			*dst = f.Value.String()
		}
	}
	for flag, dst := range map[string]*string{"trail-checkpoint-syslog": &cfg.TrailCheckpoint.Syslog,
		"trail-checkpoint-webhook": &cfg.TrailCheckpoint.Webhook} {
		if f := cmd.Flags().Lookup(flag); f != nil && f.Changed {
			*dst = f.Value.String()
		}
	}
	if f := cmd.Flags().Lookup("trail-checkpoint-interval"); f != nil && f.Changed {
		d, err := app.ParseCheckpointInterval("--trail-checkpoint-interval", f.Value.String())
		if err != nil {
			return err
		}
		cfg.TrailCheckpoint.Interval = d
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	e.cfg = cfg
	return nil
}

func (e *env) logger() *slog.Logger {
	if f, ok := e.stderr.(*os.File); ok {
		return e.cfg.Logger(f)
	}
	return slog.New(slog.NewTextHandler(e.stderr, nil))
}

// withApp opens the application (which migrates the store), runs fn on it and closes it
// again. An error opening the application is returned as it is, before fn runs.
func (e *env) withApp(fn func(a *app.App) error) error {
	a, err := app.Open(e.ctx, e.cfg, e.logger())
	if err != nil {
		return err
	}
	defer a.Close()
	return fn(a)
}

// checkpointFlags adds the flags of the trail's signed checkpoints, which `serve` writes.
func checkpointFlags(cmd *cobra.Command) {
	d := app.Defaults().TrailCheckpoint
	cmd.Flags().String("trail-checkpoint-interval", d.Interval.String(), "how often to sign a checkpoint of the audit trail's head, besides one at start (env MEDGUARD_TRAIL_CHECKPOINT_INTERVAL)")
	cmd.Flags().String("trail-checkpoint-syslog", "", "also send each checkpoint to this syslog server, udp://host:port or tcp://host:port (env MEDGUARD_TRAIL_CHECKPOINT_SYSLOG)")
	cmd.Flags().String("trail-checkpoint-webhook", "", "also POST each checkpoint as JSON to this http(s) URL (env MEDGUARD_TRAIL_CHECKPOINT_WEBHOOK)")
}

func (e *env) serveCmd() *cobra.Command {
	var cpuProfile, traceFile string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the platform (web UI and API)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if cpuProfile != "" {
				stop, err := startCPUProfile(cpuProfile)
				if err != nil {
					return err
				}
				defer stop()
			}
			if traceFile != "" {
				stop, err := startTrace(traceFile)
				if err != nil {
					return err
				}
				defer stop()
			}
			return e.withApp(func(a *app.App) error {
				n, err := a.Auth.CountUsers(e.ctx)
				if err != nil {
					return err
				}
				var setupToken string
				if n == 0 {
					if setupToken, err = a.Auth.IssueSetupToken(e.ctx); err != nil {
						return err
					}
				}
				// The checkpoint signed at start covers the setup token's trail entry.
				if err := a.Start(e.ctx); err != nil {
					return err
				}
				return a.Serve(e.ctx, func(url string) {
					fmt.Fprintf(e.stdout, "medguard is running at %s\n", url)
					if setupToken != "" {
						fmt.Fprintf(e.stdout, "\nNo account exists yet. Create the first administrator within 24 hours at:\n  %s/setup?token=%s\n(or run: medguard user add --role admin ...)\n", url, setupToken)
					}
					if e.ready != nil {
						e.ready(url)
					}
				})
			})
		},
	}
	checkpointFlags(cmd)
	cmd.Flags().StringVar(&cpuProfile, "cpuprofile", "", "write a Go CPU profile of the server to this file until it stops (for `go tool pprof`)")
	_ = cmd.Flags().MarkHidden("cpuprofile")
	cmd.Flags().StringVar(&traceFile, "trace", "", "write a Go execution trace of the server to this file until it stops (for `go tool trace`)")
	_ = cmd.Flags().MarkHidden("trace")
	return cmd
}

func (e *env) demoCmd() *cobra.Command {
	var adminPassword string
	var assets int
	var seedOnly bool
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Seed a realistic demo hospital group (idempotent), then serve it",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if adminPassword == "" {
				adminPassword = e.getenv("MEDGUARD_ADMIN_PASSWORD")
			}
			if adminPassword == "" {
				if p := e.getenv("MEDGUARD_ADMIN_PASSWORD_FILE"); p != "" {
					b, err := os.ReadFile(p)
					if err != nil {
						return fmt.Errorf("MEDGUARD_ADMIN_PASSWORD_FILE: %w", err)
					}
					adminPassword = strings.TrimSpace(string(b))
				}
			}
			// The demo's synthetic patient files live under the data directory, which
			// this command makes a scan root.
			dlpRoot, err := filepath.Abs(filepath.Join(e.cfg.DataDir, demo.DLPRootName))
			if err != nil {
				return err
			}
			// The data directory holds the database and keys: 0700, as the store
			// creates it, even when the demo creates it first.
			if err := os.MkdirAll(cmp.Or(e.cfg.DataDir, "data"), 0o700); err != nil {
				return fmt.Errorf("demo: %w", err)
			}
			if err := os.MkdirAll(dlpRoot, 0o750); err != nil {
				return fmt.Errorf("demo: %w", err)
			}
			e.cfg.DLP.ScanRoots = append(e.cfg.DLP.ScanRoots, dlpRoot)
			return e.withApp(func(a *app.App) error {
				env, err := a.DetectEnv()
				if err != nil {
					return err
				}
				res, err := demo.Seed(e.ctx, demo.Deps{DB: a.DB, Orgs: a.Orgs, Auth: a.Auth, Assets: a.Assets,
					Vulns: a.Vulns, Supply: a.Supply, DLP: a.DLP, Alerts: a.Alerts, Notify: a.Notify,
					Events: a.Events, Reference: a.Reference, Rules: a.Rules.Rules, DetectEnv: env, Apps: a.Apps, Upstream: a.Upstream,
					Risks: a.Risks, Incidents: a.Incidents, Plans: a.Plans, Assess: a.Assess, Policies: a.Policies, Training: a.Training,
					Dataflows: a.Dataflows, Reports: a.Reports, Overview: a.Overview},
					demo.Options{AdminPassword: adminPassword, Assets: assets, DLPRoot: dlpRoot})
				if err != nil {
					return err
				}
				printLogins := func(url string) {
					fmt.Fprintf(e.stdout, "medguard demo is running at %s\n\n", url)
					if res.Seeded {
						fmt.Fprintln(e.stdout, "Seeded the demo organisation, users and assets.")
					} else {
						fmt.Fprintln(e.stdout, "The demo data was already there; nothing re-created.")
					}
					fmt.Fprintln(e.stdout, "Logins (username / password):")
					for _, l := range res.Logins {
						pw := l.Password
						if pw == "" {
							pw = "(unchanged: set --admin-password to reset)"
						}
						fmt.Fprintf(e.stdout, "  %-14s %-24s %s\n", l.Username, pw, l.Role)
					}
					if e.ready != nil {
						e.ready(url)
					}
				}
				if seedOnly {
					printLogins("(not serving: --seed-only)")
					return nil
				}
				// After seeding (whose scan job ends within it), so that the
				// checkpoint signed at start covers the demo data.
				if err := a.Start(e.ctx); err != nil {
					return err
				}
				return a.Serve(e.ctx, printLogins)
			})
		},
	}
	cmd.Flags().StringVar(&adminPassword, "admin-password", "", "password for the demo administrator (env MEDGUARD_ADMIN_PASSWORD); random when not set")
	cmd.Flags().IntVar(&assets, "assets", 400, "number of demo assets to create on first seeding")
	cmd.Flags().BoolVar(&seedOnly, "seed-only", false, "seed and exit without serving")
	checkpointFlags(cmd)
	return cmd
}

func (e *env) migrateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Apply pending database migrations and print the schema version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			// Opening the application migrates the store; the conversions that need
			// the services (masking the names of old scans) follow, so that a store
			// migrated before its servers are upgraded holds no names in clear.
			return e.withApp(func(a *app.App) error {
				converted, left, err := a.ConvertIfKeyed(e.ctx)
				if err != nil {
					return err
				}
				v, err := a.DB.SchemaVersion(e.ctx)
				if err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "%s store at schema version %d\n", a.DB.Dialect(), v)
				if converted > 0 {
					fmt.Fprintf(e.stdout, "masked patient data in the names of %d stored scans\n", converted)
				}
				if left > 0 {
					fmt.Fprintf(e.stdout, "%d stored scans keep patient data in their names until a server starts: %s is not in this data directory\n",
						left, app.DLPKeyFile)
				}
				return nil
			})
		},
	}
}

func (e *env) versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:               "version",
		Short:             "Print the version",
		Args:              cobra.NoArgs,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error { return nil },
		RunE: func(cmd *cobra.Command, args []string) error {
			fmt.Fprintf(e.stdout, "medguard %s\n", app.Version)
			return nil
		},
	}
}

func (e *env) trailCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "trail", Short: "Work with the tamper-evident audit trail"}
	var checkpointFile string
	verify := &cobra.Command{
		Use:   "verify",
		Short: "Verify the whole chain and that it extends the signed checkpoints of --checkpoint (default: the data directory's " + app.TrailCheckpointFile + "); exit 3 and name the first broken entry if it fails",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withApp(func(a *app.App) error {
				path := checkpointFile
				if path == "" {
					// Without --checkpoint, the data directory's own checkpoint file, if any.
					path = a.DataFile(app.TrailCheckpointFile)
					if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
						path = ""
					}
				}
				var cps []trail.Checkpoint
				if path != "" {
					var err error
					if cps, err = e.readCheckpoints(a, path); err != nil {
						return err
					}
				}
				rep, err := a.Trail.Verify(e.ctx, a.DB, cps...)
				if err != nil {
					return err
				}
				if !rep.OK {
					fmt.Fprintf(e.stdout, "BROKEN at entry %d: %s\n", rep.BadSeq, rep.Problem)
					return ErrTrailBroken
				}
				fmt.Fprintf(e.stdout, "OK: %d entries, head %d %s\n", rep.Entries, rep.HeadSeq, rep.HeadHash)
				if rep.LegacyUntil > 0 {
					fmt.Fprintf(e.stdout, "entries 1 to %d predate the trail key and were checked as an unkeyed hash chain\n", rep.LegacyUntil)
				}
				if len(cps) > 0 {
					last := cps[0]
					for _, c := range cps {
						if c.Seq >= last.Seq {
							last = c
						}
					}
					pub, _ := last.PublicKeyBytes()
					fmt.Fprintf(e.stdout, "extends %d signed checkpoint(s); the newest: %s, key %s\n", len(cps), last, trail.KeyID(pub))
				}
				return nil
			})
		},
	}
	verify.Flags().StringVar(&checkpointFile, "checkpoint", "", "file of signed checkpoints (one JSON document a line, as `serve` writes to "+app.TrailCheckpointFile+" in the data directory, which is read when this is not set); the chain must extend each")
	cmd.AddCommand(verify)
	return cmd
}

// readCheckpoints reads a checkpoint file given to `trail verify`. A checkpoint that is
// malformed, whose signature does not verify, or that another key than this
// installation's signed, fails verification (ErrTrailBroken); a file that cannot be read
// is an error.
func (e *env) readCheckpoints(a *app.App, path string) ([]trail.Checkpoint, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("trail verify: %w", err)
	}
	defer f.Close()
	cps, err := trail.ParseCheckpoints(f)
	if err != nil {
		fmt.Fprintf(e.stdout, "CHECKPOINT REJECTED: %s\n", strings.TrimPrefix(err.Error(), "trail: "))
		return nil, ErrTrailBroken
	}
	pub, _ := cps[0].PublicKeyBytes()
	signer, err := trail.LoadSigner(a.DataFile(app.TrailSignKeyFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		fmt.Fprintf(e.stderr, "note: no %s in the data directory: the checkpoints' own key %s was trusted\n", app.TrailSignKeyFile, trail.KeyID(pub))
	case err != nil:
		return nil, err
	case !bytes.Equal(signer.PublicKey(), pub):
		fmt.Fprintf(e.stdout, "CHECKPOINT REJECTED: signed by key %s, not by this installation's key %s\n", trail.KeyID(pub), trail.KeyID(signer.PublicKey()))
		return nil, ErrTrailBroken
	}
	return cps, nil
}

// readPassword takes a password from --password, or from the first line of stdin with
// --password-stdin.
func (e *env) readPassword(flagValue string, fromStdin bool) (string, error) {
	if fromStdin {
		line, err := bufio.NewReader(e.stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("read password from stdin: %w", err)
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
	if flagValue == "" {
		return "", usagef("give --password or --password-stdin")
	}
	return flagValue, nil
}

func (e *env) userCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "user", Short: "Manage user accounts"}
	var in auth.UserInput
	var orgRef, password string
	var pwStdin bool
	add := &cobra.Command{
		Use:   "add",
		Short: "Create a user",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withApp(func(a *app.App) error {
				var err error
				if in.Password, err = e.readPassword(password, pwStdin); err != nil {
					return err
				}
				if in.OrgID, err = e.resolveOrg(a, orgRef); err != nil {
					return err
				}
				u, err := a.Auth.CreateUser(e.ctx, actor.CLI(), in)
				if err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "created user %s (id %d, role %s, organisation %s)\n", u.Username, u.ID, u.Role, u.OrgName)
				return nil
			})
		},
	}
	add.Flags().StringVar(&in.Username, "username", "", "login name")
	add.Flags().StringVar(&in.DisplayName, "name", "", "display name")
	add.Flags().StringVar(&in.Email, "email", "", "e-mail address")
	add.Flags().StringVar(&in.Role, "role", auth.RoleAuditor, "role: "+strings.Join(auth.Roles, ", "))
	add.Flags().StringVar(&in.Locale, "locale", "", "language: en or zh-CN (empty = browser)")
	add.Flags().StringVar(&orgRef, "org", "", "organisation id, code or exact name (default: the top organisation, created if none exists)")
	add.Flags().StringVar(&password, "password", "", "password (prefer --password-stdin)")
	add.Flags().BoolVar(&pwStdin, "password-stdin", false, "read the password from the first line of stdin")
	_ = add.MarkFlagRequired("username")

	list := &cobra.Command{
		Use:   "list",
		Short: "List users",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withApp(func(a *app.App) error {
				page := 1
				fmt.Fprintf(e.stdout, "%-6s %-20s %-18s %-8s %-5s %s\n", "ID", "USERNAME", "ROLE", "STATUS", "MFA", "ORGANISATION")
				for {
					users, total, err := a.Auth.Users(e.ctx, actor.CLI(), auth.UserQuery{Page: page, PerPage: 500})
					if err != nil {
						return err
					}
					for _, u := range users {
						status := "active"
						if u.Disabled {
							status = "disabled"
						}
						mfa := "no"
						if u.MFAEnabled {
							mfa = "yes"
						}
						fmt.Fprintf(e.stdout, "%-6d %-20s %-18s %-8s %-5s %s\n", u.ID, u.Username, u.Role, status, mfa, u.OrgName)
					}
					if page*500 >= total {
						return nil
					}
					page++
				}
			})
		},
	}

	var pwPass string
	var pwPassStdin bool
	passwd := &cobra.Command{
		Use:   "passwd USERNAME",
		Short: "Set a user's password (the user must change it at next sign-in)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withUser(args[0], func(a *app.App, u auth.User) error {
				pw, err := e.readPassword(pwPass, pwPassStdin)
				if err != nil {
					return err
				}
				if err := a.Auth.SetPassword(e.ctx, actor.CLI(), u.ID, pw); err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "password of %s changed\n", u.Username)
				return nil
			})
		},
	}
	passwd.Flags().StringVar(&pwPass, "password", "", "new password (prefer --password-stdin)")
	passwd.Flags().BoolVar(&pwPassStdin, "password-stdin", false, "read the password from the first line of stdin")

	disable := e.userAction("disable USERNAME", "Disable an account and end its sessions", "%s disabled",
		func(a *app.App, id int64) error { return a.Auth.DisableUser(e.ctx, actor.CLI(), id) })
	resetMFA := e.userAction("reset-mfa USERNAME", "Remove a user's MFA enrolment (after a lost phone)", "MFA of %s reset",
		func(a *app.App, id int64) error { return a.Auth.ResetMFA(e.ctx, actor.CLI(), id) })
	cmd.AddCommand(add, list, passwd, disable, resetMFA)
	return cmd
}

// userAction is a command that does one thing to the user named by its argument and
// reports it with done (a format with the username).
func (e *env) userAction(use, short, done string, do func(a *app.App, id int64) error) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withUser(args[0], func(a *app.App, u auth.User) error {
				if err := do(a, u.ID); err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, done+"\n", u.Username)
				return nil
			})
		},
	}
}

func (e *env) withUser(name string, fn func(a *app.App, u auth.User) error) error {
	return e.withApp(func(a *app.App) error {
		u, err := a.Auth.UserByName(e.ctx, actor.CLI(), name)
		if err != nil {
			return err
		}
		return fn(a, u)
	})
}

// resolveOrg finds an organisation by id, code or name; with no reference it uses the
// first top-level organisation, creating one when the store is empty.
func (e *env) resolveOrg(a *app.App, ref string) (int64, error) {
	nodes, err := a.Orgs.List(e.ctx, actor.CLI())
	if err != nil {
		return 0, err
	}
	if ref == "" {
		if len(nodes) > 0 {
			return nodes[0].ID, nil
		}
		n, err := a.Orgs.Create(e.ctx, actor.CLI(), org.Input{Kind: org.KindHospital, Name: "Hospital"})
		if err != nil {
			return 0, err
		}
		fmt.Fprintf(e.stdout, "created organisation %q (id %d)\n", n.Name, n.ID)
		return n.ID, nil
	}
	id, _ := strconv.ParseInt(ref, 10, 64)
	for _, n := range nodes {
		if n.ID == id || (n.Code != "" && n.Code == ref) || n.Name == ref {
			return n.ID, nil
		}
	}
	return 0, fmt.Errorf("no organisation with id, code or name %q", ref)
}

func (e *env) tokenCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "token", Short: "Manage API tokens"}
	var user, name, scope string
	var days int
	create := &cobra.Command{
		Use:   "create",
		Short: "Create an API token for a user and print it alone on stdout",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withUser(user, func(a *app.App, u auth.User) error {
				if name == "" {
					name = "cli " + time.Now().UTC().Format("2006-01-02 15:04")
				}
				plain, _, err := a.Auth.CreateToken(e.ctx, actor.CLI(), u.ID, name, scope, time.Duration(days)*24*time.Hour)
				if err != nil {
					return err
				}
				fmt.Fprintln(e.stdout, plain)
				return nil
			})
		},
	}
	create.Flags().StringVar(&user, "user", "", "username the token acts as")
	create.Flags().StringVar(&name, "name", "", "label for the token")
	create.Flags().StringVar(&scope, "scope", "write", "read, write, dlp.check (only the pre-send check of patient data: a gateway's token) or events.ingest (only sending audit events: a hospital system's token)")
	create.Flags().IntVar(&days, "days", 90, "validity in days (0 = no expiry)")
	_ = create.MarkFlagRequired("user")
	cmd.AddCommand(create)
	return cmd
}
