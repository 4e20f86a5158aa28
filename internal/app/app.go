package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/alertnotify"
	"github.com/medguard/medguard/internal/appreg"
	"github.com/medguard/medguard/internal/appscore"
	"github.com/medguard/medguard/internal/assess"
	"github.com/medguard/medguard/internal/asset"
	"github.com/medguard/medguard/internal/auth"
	"github.com/medguard/medguard/internal/dataflow"
	"github.com/medguard/medguard/internal/detect"
	dlpsvc "github.com/medguard/medguard/internal/dlp/service"
	"github.com/medguard/medguard/internal/events"
	"github.com/medguard/medguard/internal/events/syslogd"
	"github.com/medguard/medguard/internal/explain"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/incident"
	"github.com/medguard/medguard/internal/keyfile"
	"github.com/medguard/medguard/internal/lease"
	"github.com/medguard/medguard/internal/notify"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/overview"
	"github.com/medguard/medguard/internal/policy"
	"github.com/medguard/medguard/internal/reference"
	"github.com/medguard/medguard/internal/report"
	"github.com/medguard/medguard/internal/reportsrc"
	"github.com/medguard/medguard/internal/risk"
	"github.com/medguard/medguard/internal/risksource"
	"github.com/medguard/medguard/internal/rulestore"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/supply"
	"github.com/medguard/medguard/internal/trail"
	"github.com/medguard/medguard/internal/training"
	"github.com/medguard/medguard/internal/upstream"
	"github.com/medguard/medguard/internal/vuln"
	"github.com/medguard/medguard/internal/web"
)

// Version is the release, set at build time with -ldflags "-X ...app.Version=v1.2.3".
var Version = "dev"

// App is an opened platform: store and services.
type App struct {
	Config Config
	Logger *slog.Logger
	DB     *store.DB
	Trail  *trail.Log
	Orgs   *org.Service
	Auth   *auth.Service
	Assets *asset.Service
	Vulns  *vuln.DB
	Supply *supply.Service
	DLP    *dlpsvc.Service
	Notify *notify.Service
	Alerts *alert.Service
	// Reference is the reference data (staff, patients, encounters) that explains
	// patient-record accesses.
	Reference *reference.Service
	Events    *events.Service
	// Syslog is the syslog listener Start runs when events.syslog_* is set; nil otherwise.
	Syslog *syslogd.Listener
	// Explain classifies patient-record accesses, for the live detection and the
	// investigation pages alike (one snapshot of the reference data).
	Explain *explain.Explainer
	// Rules are the monitoring rules each organisation stored, over the built-in library.
	Rules *rulestore.Service
	// Detect is the live detection: Start runs it on the process holding its lease.
	Detect *detect.Runner
	// Apps is the registry of internet-hospital apps; AppCodes signs and verifies their
	// authorization codes with the keys of DATA/authcode.
	Apps     *appreg.Service
	AppCodes *appreg.SignedCodes
	// AppModel is the scoring model the registry evaluates apps with.
	AppModel appscore.Model
	// Upstream is the regional side of upward reporting: the links of the hospital nodes
	// and the app reports they push; its key file is DATA/upstream.key.
	Upstream *upstream.Region
	// Risks is the risk register; Incidents the incidents with their reporting clocks;
	// Plans the emergency plans, their checklists and drills.
	Risks     *risk.Service
	Incidents *incident.Service
	Plans     *incident.Plans
	// Compliance (issue 17): policies, roles and self-checks; training and exams; the
	// overview dashboard; periodic reports.
	Policies  *policy.Service
	Assess    *assess.Service // compliance assessments with their automatic evidence
	Training  *training.Service
	Dataflows *dataflow.Service // the register of outbound patient-data flows
	Overview  *overview.Service
	Reports   *report.Service
	// ReportSource builds the reports' sections from the overview and the compliance
	// modules (the scheduled reports, the pages' and `report generate`'s alike).
	ReportSource reportsrc.Source
	riskSources  risk.SourceMux // the register's readers of other modules' records

	// Set by Start.
	leases    *lease.Manager
	node      string // this process's own lease, owner of the jobs it runs
	stopLoops func() // ends the background loops and waits for them
	stopNode  func() // ends the heartbeat of the node's lease and releases it
	// ruleReloads counts the live detection's reloads after a change of the stored rules
	// (tests wait for one instead of sleeping).
	ruleReloads atomic.Int64
}

// Files of the audit trail under the data directory: the key its entries are chained
// with (created 0600 on first open), the Ed25519 key its checkpoints are signed with
// (created 0600 by the first checkpoint) and the checkpoint file `serve` appends to.
const (
	TrailKeyFile        = "trail.key"
	TrailSignKeyFile    = "trail-sign.key"
	TrailCheckpointFile = "trail-checkpoints.jsonl"
)

// DLPKeyFile is the file under the data directory holding the SM4 key that seals the raw
// values of patient-data findings; it is created (mode 0600) by the first scan.
const DLPKeyFile = "dlp.key"

// NotifyKeyFile is the file under the data directory holding the SM4 key that seals the
// secrets of notification channels (webhook and robot signing secrets, SMTP passwords);
// created 0600 on first open.
const NotifyKeyFile = "notify.key"

// ReferenceKeyFile is the file under the data directory holding the secret from which
// the reference data's seal key (SM4-GCM, for names, addresses and patient identifiers)
// and hash key (HMAC-SM3, for matching) are derived; created 0600 on first open.
const ReferenceKeyFile = reference.KeyFile

// EventsKeyFile is the file under the data directory holding the keys of the audit events
// (SM4 key sealing patient identifiers and raw originals, HMAC key of the patient hash);
// created 0600 on first open.
const EventsKeyFile = "events.key"

// Open opens the store named by cfg, applies pending migrations and builds the services,
// and does nothing else: a command that opens the platform neither takes over jobs nor
// purges data. What a serving process does at start and in the background is Start's.
func Open(ctx context.Context, cfg Config, logger *slog.Logger) (*App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.Default()
	}
	db, err := store.Open(ctx, store.Config{DataDir: cfg.DataDir, DSN: cfg.DB})
	if err != nil {
		return nil, err
	}
	applied, err := db.Migrate(ctx)
	if err != nil {
		db.Close()
		return nil, err
	}
	for _, m := range applied {
		logger.Info("applied migration", "migration", m)
	}
	dataDir := cfg.dataDir()
	key, err := trail.LoadOrCreateKey(ctx, filepath.Join(dataDir, TrailKeyFile), db)
	if err != nil {
		db.Close()
		return nil, err
	}
	tl, err := trail.New(cfg.TrailHash, key)
	if err != nil {
		db.Close()
		return nil, err
	}
	orgs := org.NewService(db, tl)
	a := &App{
		Config: cfg, Logger: logger, DB: db, Trail: tl, Orgs: orgs,
		Auth:   auth.NewService(db, tl, auth.Options{MFAPolicy: orgs}),
		Assets: asset.NewService(db, tl),
		Vulns:  vuln.Open(db),
	}
	if a.Alerts, err = alert.New(db, tl); err != nil {
		db.Close()
		return nil, err
	}
	a.Alerts.SetUsers(func(ctx context.Context, who actor.Actor, username string) error {
		_, err := a.Auth.UserByName(ctx, who, username)
		return err
	})
	a.Supply = supply.NewService(db, tl, a.Vulns, a.Alerts, logger)
	notifyKey, err := keyfile.LoadOrCreate(filepath.Join(dataDir, NotifyKeyFile), notify.KeySize)
	if err != nil {
		db.Close()
		return nil, err
	}
	a.Notify = notify.New(db, tl, notify.Options{Logger: logger, BaseURL: cfg.baseURL(), MaxAttempts: cfg.Notify.MaxAttempts, Key: notifyKey})
	// Every raised alert writes its notifications to the outbox in the raising
	// transaction, so no alert exists without them.
	alertnotify.Wire(a.Alerts, a.Notify)
	a.Assets.CheckLinks(a.Supply)
	refKey, err := keyfile.LoadOrCreate(filepath.Join(dataDir, ReferenceKeyFile), reference.KeySize)
	if err != nil {
		db.Close()
		return nil, err
	}
	if a.Reference, err = reference.New(db, tl, reference.Options{Key: refKey}); err != nil {
		db.Close()
		return nil, err
	}
	a.DLP, err = dlpsvc.New(db, tl, dlpsvc.Options{KeyFile: filepath.Join(dataDir, DLPKeyFile), ScanRoots: cfg.DLP.ScanRoots,
		RawRetention: time.Duration(cfg.DLP.RawRetentionDays) * 24 * time.Hour,
		MayReveal:    func(role string) bool { return auth.Allowed(role, auth.PermDLPReveal) }, Alerts: a.Alerts, Logger: logger})
	if err != nil {
		db.Close()
		return nil, err
	}
	eventsKey, err := keyfile.LoadOrCreate(filepath.Join(dataDir, EventsKeyFile), events.KeySize)
	if err != nil {
		db.Close()
		return nil, err
	}
	if a.Events, err = events.New(db, events.Options{Key: eventsKey}); err != nil {
		db.Close()
		return nil, err
	}
	a.Explain = explain.New(a.Reference, explain.Options{OrderMemory: a.Events.Retention()})
	a.Rules = rulestore.New(db, tl)
	env, err := a.DetectEnv()
	if err != nil {
		db.Close()
		return nil, err
	}
	a.Detect = detect.NewRunner(db, a.Events, a.Alerts, detect.RunnerOptions{Env: env, RulesFor: a.Rules.Rules, Logger: logger,
		Raised: a.Notify.Wake})
	// Events stored by this process (API, syslog) wake the runner at once.
	a.Events.OnCommit(a.Detect.Notify)
	if a.AppCodes, err = openCodes(filepath.Join(dataDir, AuthcodeDir), cfg.Apps.CodeAlgorithm); err != nil {
		db.Close()
		return nil, err
	}
	if a.AppModel, err = scoreModel(cfg.Apps.ScoreModel); err != nil {
		db.Close()
		return nil, err
	}
	a.Apps = appreg.New(db, tl, a.AppCodes, appreg.ModelScorer{Model: a.AppModel}, a.Alerts, appreg.Options{CodeValidity: cfg.Apps.CodeValidity,
		Vulns: appreg.SupplyVulns{Supply: a.Supply}, Contacts: appreg.MailContacts{Notify: a.Notify}, Logger: logger})
	upKey, err := keyfile.LoadOrCreate(filepath.Join(dataDir, upstream.KeyFile), upstream.KeySize)
	if err != nil {
		db.Close()
		return nil, err
	}
	if a.Upstream, err = upstream.NewRegion(db, tl, a.Auth, upKey); err != nil {
		db.Close()
		return nil, err
	}
	a.Upstream.SetAlerts(a.Alerts)
	users := func(ctx context.Context, who actor.Actor, username string) error {
		_, err := a.Auth.UserByName(ctx, who, username)
		return err
	}
	// The compliance modules add their readers to the mux below once they exist (they
	// raise risks through the register, which reads their records back).
	a.riskSources = risksource.Mux(a.Alerts, a.Supply, a.DLP, a.Apps)
	if a.Risks, err = risk.New(db, tl, a.Alerts, risk.Options{Sources: a.riskSources, Users: users, EmergencyLink: "/plans"}); err != nil {
		db.Close()
		return nil, err
	}
	if a.Incidents, err = incident.New(db, tl, a.Alerts, incident.Options{Logger: logger, OperatorType: cfg.Incidents.OperatorType,
		Regime: cfg.Incidents.Regime}); err != nil {
		db.Close()
		return nil, err
	}
	a.Plans = incident.NewPlans(db, tl, incident.PlanOptions{Alerts: a.Alerts})
	// Compliance (issue 17).
	a.Policies = policy.New(db, tl, a.Alerts, policy.Options{})
	a.riskSources[risk.ModuleSelfCheck] = risksource.SelfCheckSource{Checks: a.Policies}
	a.Training = training.New(db, tl, a.Alerts, training.Options{})
	a.Dataflows = dataflow.New(db, tl, dataflow.Options{})
	a.Dataflows.SetRisks(a.Risks)
	a.riskSources[risk.ModuleDataflow] = risksource.Dataflow(a.Dataflows)
	if a.Assess, err = assess.New(db, tl, assess.ControlCatalogues{}, assess.Options{Checks: assess.DefaultChecks(assess.Sources{DB: db,
		Trail: tl, MFA: a.Orgs, Events: a.Events, Findings: a.Supply, SLA: a.Alerts, Training: a.Training, Policies: a.Policies,
		Dataflows: a.Dataflows})}); err != nil {
		db.Close()
		return nil, err
	}
	a.riskSources[risk.ModuleAssessItem] = risksource.AssessItems(a.Assess)
	if a.Overview, err = overview.New(db, overview.Deps{Alerts: a.Alerts, Findings: a.Supply, Risks: a.Risks, Incidents: a.Incidents,
		Apps: a.Apps, Compliance: assess.OverviewCompliance{S: a.Assess}}); err != nil {
		db.Close()
		return nil, err
	}
	a.ReportSource = reportsrc.Source{DB: db, Overview: a.Overview, Training: a.Training, SelfChecks: a.Policies,
		Dataflows: a.Dataflows, I18n: i18n.MustLoad()}
	if a.Reports, err = report.New(db, tl, a.Alerts, a.ReportSource, report.Options{BaseURL: cfg.baseURL()}); err != nil {
		db.Close()
		return nil, err
	}
	return a, nil
}

// DetectEnv is the detection engine's view of the hospital: the monitor configuration
// (internal networks, jump hosts, holidays, time zone) and the shared explainer.
func (a *App) DetectEnv() (detect.Env, error) {
	m := a.Config.Monitor
	env, err := detect.ParseEnv(m.InternalNetworks, m.JumpHosts, m.Holidays, m.Timezone)
	if err != nil {
		return detect.Env{}, err
	}
	env.Explainer = a.Explain
	return env, nil
}

// baseURL is the platform's address as a link in a notification names it: notify.base_url,
// or else the listen address.
func (c Config) baseURL() string {
	if c.Notify.BaseURL != "" {
		return c.Notify.BaseURL
	}
	if c.TLSCert != "" {
		return "https://" + c.Addr
	}
	return "http://" + c.Addr
}

// DataFile returns the path of the file name in the data directory.
func (a *App) DataFile(name string) string { return filepath.Join(a.Config.dataDir(), name) }

// TrailPublisher returns the publisher of the trail's signed checkpoints, creating the
// signing key (mode 0600) on first use.
func (a *App) TrailPublisher() (*trail.Publisher, error) {
	s, err := trail.LoadOrCreateSigner(a.DataFile(TrailSignKeyFile))
	if err != nil {
		return nil, err
	}
	return &trail.Publisher{Log: a.Trail, DB: a.DB, Signer: s, File: a.DataFile(TrailCheckpointFile),
		Syslog: a.Config.TrailCheckpoint.Syslog, Webhook: a.Config.TrailCheckpoint.Webhook, Logger: a.Logger}, nil
}

// Close stops the background work Start began and the running scan jobs (they are
// marked failed), releases this process's leases and closes the store.
func (a *App) Close() error {
	if a.stopLoops != nil {
		a.stopLoops()
	}
	a.DLP.Close()
	if a.stopNode != nil {
		a.stopNode()
	}
	return a.DB.Close()
}

// Handler builds the HTTP handler.
func (a *App) Handler() (http.Handler, error) {
	env, err := a.DetectEnv()
	if err != nil {
		return nil, err
	}
	srv, err := web.New(web.Deps{DB: a.DB, Trail: a.Trail, Orgs: a.Orgs, Auth: a.Auth, Assets: a.Assets,
		Supply: a.Supply, Vulns: a.Vulns, DLP: a.DLP, Notify: a.Notify, Alerts: a.Alerts, Reference: a.Reference, Events: a.Events,
		Apps: a.Apps, Upstream: a.Upstream, AppKeys: PublicKeysPEM(a.AppCodes), AppModel: &a.AppModel, Risks: a.Risks, Incidents: a.Incidents, Plans: a.Plans,
		Policies: a.Policies, Training: a.Training, Assess: a.Assess, AssessRisks: a.Risks, Dataflows: a.Dataflows, Overview: a.Overview, Reports: a.Reports, Explain: a.Explain, DetectEnv: env, I18n: i18n.MustLoad(), Logger: a.Logger, TLS: a.Config.TLSCert != "", Version: Version,
		TrailCheckpoints: a.DataFile(TrailCheckpointFile)})
	if err != nil {
		return nil, err
	}
	return srv.Handler(), nil
}

// Serve listens on the configured address until ctx ends, then shuts down gracefully.
// ready, if not nil, gets the base URL once the listener is open. A serving process
// calls Start first.
func (a *App) Serve(ctx context.Context, ready func(url string)) error {
	h, err := a.Handler()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", a.Config.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", a.Config.Addr, err)
	}
	hs := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       5 * time.Minute, // CSV uploads
		WriteTimeout:      5 * time.Minute, // CSV exports
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(a.Logger.Handler(), slog.LevelWarn),
	}
	scheme := "http"
	if a.Config.TLSCert != "" {
		scheme = "https"
		hs.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	url := scheme + "://" + ln.Addr().String()
	errc := make(chan error, 1)
	go func() {
		if a.Config.TLSCert != "" {
			errc <- hs.ServeTLS(ln, a.Config.TLSCert, a.Config.TLSKey)
		} else {
			errc <- hs.Serve(ln)
		}
	}()
	a.Logger.Info("medguard listening", "url", url, "store", string(a.DB.Dialect()))
	if ready != nil {
		ready(url)
	}
	select {
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		a.Logger.Info("shutting down")
		return hs.Shutdown(sctx)
	}
}
