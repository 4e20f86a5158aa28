package web

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/appreg"
	"github.com/medguard/medguard/internal/appscore"
	"github.com/medguard/medguard/internal/assess"
	"github.com/medguard/medguard/internal/assess/assesstest"
	"github.com/medguard/medguard/internal/asset"
	"github.com/medguard/medguard/internal/auth"
	"github.com/medguard/medguard/internal/authcode"
	"github.com/medguard/medguard/internal/dataflow"
	dlpsvc "github.com/medguard/medguard/internal/dlp/service"
	"github.com/medguard/medguard/internal/events"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/incident"
	"github.com/medguard/medguard/internal/notify"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/overview"
	"github.com/medguard/medguard/internal/policy"
	"github.com/medguard/medguard/internal/reference"
	"github.com/medguard/medguard/internal/report"
	"github.com/medguard/medguard/internal/risk"
	"github.com/medguard/medguard/internal/risksource"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/supply"
	"github.com/medguard/medguard/internal/trail"
	"github.com/medguard/medguard/internal/trail/trailtest"
	"github.com/medguard/medguard/internal/training"
	"github.com/medguard/medguard/internal/upstream"
	"github.com/medguard/medguard/internal/vuln"
)

// testPassword is the password of every seeded test user.
const testPassword = "Correct-Horse-42-battery"

// testEnv is a real server on loopback over a real database, with two hospitals, one
// user of each role in hospital A (the regulator sits at the region above both), a
// security officer in hospital B, an API token for each user and an asset in each
// hospital. newSupplyEnv adds each hospital's software supply chain.
type testEnv struct {
	t         *testing.T
	db        *store.DB
	srv       *Server
	ts        *httptest.Server
	URL       string
	Orgs      *org.Service
	Auth      *auth.Service
	Assets    *asset.Service
	Trail     *trail.Log
	Vulns     *vuln.DB
	Supply    *supply.Service
	DLP       *dlpsvc.Service
	Alerts    *alert.Service
	Reference *reference.Service
	Events    *events.Service
	// DLPRoot is the scan root of the DLP service.
	DLPRoot string
	// TrailCheckpoints is the checkpoint file the server reads.
	TrailCheckpoints string

	Region, HospA, HospB, DeptA org.Node
	Users                       map[string]auth.User // by username
	Tokens                      map[string]string    // username → write token
	AssetA, AssetB              asset.Asset
	VendorA, VendorB            supply.Vendor
	ProductA, ProductB          supply.Product
	VersionA, VersionB          supply.Version
	FindingA, FindingB          supply.Finding
	AlertA, AlertB              supply.Alert
	CaseA, CaseB                alert.CaseDetail // each grouping its hospital's alert
	SilenceA, SilenceB          alert.Silence
	DLPScanA, DLPScanB          dlpsvc.Scan    // a text scan of each hospital
	DLPFindingA, DLPFindingB    dlpsvc.Finding // its resident ID finding
	Notify                      *notify.Service
	NotifyChanA, NotifyChanB    notify.Channel // a webhook channel of each hospital
	NotifyDeadB                 int64          // a dead letter of hospital B's channel
	NotifyRouteA, NotifyRouteB  int64          // a route of each hospital (to its channel, for a source that raises nothing)
	NotifySubB                  int64          // a subscription of secofficer_b (for a source that raises nothing)
	Apps                        *appreg.Service
	AppCodes                    *appreg.SignedCodes
	AppA, AppB                  appreg.App // an admitted internet-hospital app of each hospital
	Upstream                    *upstream.Region
	Risks                       *risk.Service
	Incidents                   *incident.Service
	Plans                       *incident.Plans
	// Each hospital's risk, emergency plan (adopted from the ransomware template), the
	// incident opened under it with the plan's checklist, and a drill with one task.
	RiskA, RiskB           risk.Risk
	PlanA, PlanB           incident.Plan
	IncidentA, IncidentB   incident.Incident
	ChecklistA, ChecklistB incident.ChecklistRun
	DrillA, DrillB         incident.Drill
	// Compliance (issue 17): each module adds its services and each hospital's objects under its own heading.
	// Compliance: catalogues (package control).

	// Compliance: assessments (package assess).
	// Assess is built on the fixture catalogue (assesstest); AssessRisks is a register
	// whose source mux reads assessment items. Each hospital has an assessment with a gap
	// (8.1.4.1.d not met) and an evidence file.
	Assess                   *assess.Service
	AssessRisks              *risk.Service
	AssessA, AssessB         assess.Assessment
	AssessFileA, AssessFileB assess.Evidence

	// Compliance: policies (package policy).
	Policies               *policy.Service
	PolicyA, PolicyB       policy.Policy
	RoleA, RoleB           policy.Role
	SelfCheckA, SelfCheckB policy.SelfCheck

	// Compliance: training (package training).
	Training                           *training.Service
	TrainingCourseA, TrainingCourseB   training.Course
	TrainingSessionA, TrainingSessionB training.Session
	TrainingAttemptB                   training.Attempt // secofficer_b's attempt at hospital B's exam
	// Compliance: data flows (package dataflow).
	Dataflows            *dataflow.Service
	DataflowA, DataflowB dataflow.Flow // A's is deficient (no agreement, no encryption) and has a risk
	DataflowNow          time.Time     // the register's clock

	// Compliance: reports (package report).
	Reports                  *report.Service
	ReportA, ReportB         report.Report
	ReportTmplA, ReportTmplB report.Template

	// Compliance: overview (package overview).
	Overview *overview.Service
}

// Names of hospital B's supply-chain objects, which nobody in hospital A may see.
const (
	vendorBName  = "Bsoft Medical Ltd"
	productBName = "Bsoft PACS viewer"
	// notifyChanBName is hospital B's notification channel.
	notifyChanBName = "bsoft-duty-robot"
)

// newSupplyEnv is newTestEnv with a DLP text scan in each hospital (see seedDLP) and a
// software supply chain in each hospital: a vendor, a
// product whose version 1.0 runs on the hospital's asset and carries
// testdata/supply/app-1.0.cdx.json, the findings the advisories of testdata/supply/osv
// raise in it, and the alerts they raised.
func newSupplyEnv(t *testing.T, db *store.DB) *testEnv {
	t.Helper()
	e := newTestEnv(t, db)
	e.seedSupply()
	e.seedDLP()
	e.seedAlerts()
	e.seedApps()
	e.seedGovernance()
	// Compliance (issue 17): each module seeds each hospital's objects under its own heading.
	// Compliance: catalogues (package control).

	// Compliance: assessments (package assess).
	e.seedAssess()

	// Compliance: policies (package policy).
	e.seedPolicies()

	// Compliance: training (package training).
	e.seedTraining()
	// Compliance: data flows (package dataflow).
	e.seedDataflows()

	// Compliance: reports (package report).
	e.seedReports()

	// Compliance: overview (package overview).

	return e
}

// seedApps files and admits an internet-hospital app in each hospital.
func (e *testEnv) seedApps() {
	ctx := context.Background()
	for _, h := range []struct {
		org org.Node
		app *appreg.App
	}{{e.HospA, &e.AppA}, {e.HospB, &e.AppB}} {
		ap, err := e.Apps.Apply(ctx, actor.System(), appreg.Input{OrgID: h.org.ID, Name: "App of " + h.org.Name, Platform: appreg.PlatformAndroid,
			Package: "cn.example.app" + strconv.FormatInt(h.org.ID, 10), Operator: "Example Ltd", Purpose: "online consultation",
			Contacts: []appreg.Contact{{Role: "security", Name: "Sec", Phone: "13800000001", Email: "sec@example.cn"},
				{Role: "technical", Name: "Tech", Phone: "13800000002", Email: "tech@example.cn"},
				{Role: "management", Name: "Boss", Phone: "13800000003", Email: "boss@example.cn"}},
			Channels: []appreg.Channel{{Name: "official-site"}}, Versions: []appreg.Version{{Version: "1.0"}}})
		if err != nil {
			e.t.Fatal(err)
		}
		if *h.app, err = e.Apps.Review(ctx, actor.System(), ap.ID, appreg.Decision{Approve: true}); err != nil {
			e.t.Fatal(err)
		}
	}
}

// seedAlerts gives each hospital a case holding its supply-chain alert and a silence.
func (e *testEnv) seedAlerts() {
	t := e.t
	t.Helper()
	ctx := context.Background()
	var err error
	for _, h := range []struct {
		org org.Node
		al  supply.Alert
		c   *alert.CaseDetail
		s   *alert.Silence
	}{{e.HospA, e.AlertA, &e.CaseA, &e.SilenceA}, {e.HospB, e.AlertB, &e.CaseB, &e.SilenceB}} {
		if *h.c, err = e.Alerts.CreateCase(ctx, actor.System(), alert.CaseInput{OrgID: h.org.ID, Title: "Case of " + h.org.Name,
			AlertIDs: []int64{h.al.ID}}); err != nil {
			t.Fatalf("seed case: %v", err)
		}
		if *h.s, err = e.Alerts.CreateSilence(ctx, actor.System(), alert.SilenceInput{OrgID: h.org.ID, Source: "dlp",
			Kind: "dlp_alert", Reason: "reviewed at " + h.org.Name, ExpiresAt: time.Now().Add(30 * 24 * time.Hour)}); err != nil {
			t.Fatalf("seed silence: %v", err)
		}
	}
}

// seedSupply gives each hospital its vendor, product, version, SBOM, findings and alerts.
func (e *testEnv) seedSupply() {
	t := e.t
	t.Helper()
	ctx := context.Background()
	sys := actor.System()
	sbom, err := os.ReadFile("testdata/supply/app-1.0.cdx.json")
	if err != nil {
		t.Fatal(err)
	}
	seed := func(hosp org.Node, x asset.Asset, vendor, product string) (supply.Vendor, supply.Product, supply.Version) {
		v, err := e.Supply.CreateVendor(ctx, sys, supply.VendorInput{OrgID: hosp.ID, Name: vendor, Approved: true})
		if err != nil {
			t.Fatalf("vendor %s: %v", vendor, err)
		}
		p, err := e.Supply.CreateProduct(ctx, sys, supply.ProductInput{OrgID: hosp.ID, VendorID: v.ID, Name: product, Source: "purchased"})
		if err != nil {
			t.Fatalf("product %s: %v", product, err)
		}
		ver, err := e.Supply.CreateVersion(ctx, sys, p.ID, supply.VersionInput{Version: "1.0", AssetIDs: []int64{x.ID}})
		if err != nil {
			t.Fatalf("version of %s: %v", product, err)
		}
		if _, err := e.Supply.ImportSBOM(ctx, sys, ver.ID, "app-1.0.cdx.json", sbom); err != nil {
			t.Fatalf("SBOM of %s: %v", product, err)
		}
		return v, p, ver
	}
	e.VendorA, e.ProductA, e.VersionA = seed(e.HospA, e.AssetA, "Acme Medical Software", "Outpatient app A")
	e.VendorB, e.ProductB, e.VersionB = seed(e.HospB, e.AssetB, vendorBName, productBName)
	// The advisories arrive after the SBOMs: the re-match finds the findings and raises
	// the alerts, as it does in production.
	res, err := e.Vulns.Import(ctx, "testdata/supply/osv", vuln.ImportOptions{})
	if err != nil {
		t.Fatalf("import advisories: %v", err)
	}
	if _, err := e.Supply.Rematch(ctx, sys, res.Changed); err != nil {
		t.Fatalf("rematch: %v", err)
	}
	for _, h := range []struct {
		p   supply.Product
		org int64
		f   *supply.Finding
		al  *supply.Alert
	}{{e.ProductA, e.HospA.ID, &e.FindingA, &e.AlertA}, {e.ProductB, e.HospB.ID, &e.FindingB, &e.AlertB}} {
		pg, err := e.Supply.Findings(ctx, sys, supply.FindingQuery{ProductID: h.p.ID, VulnID: "GHSA-test-0001"})
		if err != nil || len(pg.Items) != 1 {
			t.Fatalf("seeded finding of %s: %v %+v", h.p.Name, err, pg)
		}
		*h.f = pg.Items[0]
		alerts, err := e.Supply.Alerts(ctx, sys, true, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, al := range alerts {
			if al.OrgID == h.org {
				*h.al = al
			}
		}
		if h.al.ID == 0 {
			t.Fatalf("no seeded alert for organisation %d", h.org)
		}
	}
}

// roleUser names the hospital-A user of each role.
var roleUser = map[string]string{
	auth.RoleAdmin:       "admin",
	auth.RoleSecurity:    "secofficer",
	auth.RolePrivacy:     "privacy",
	auth.RoleAuditor:     "auditor",
	auth.RoleITOps:       "itops",
	auth.RoleAppOperator: "appops",
	auth.RoleRegulator:   "regulator",
}

// newBareEnv is a real server on loopback over db, with every service and no data: the
// seeding is the caller's (newTestEnv's test organisations, or the demo's). Its
// assessments read the fixture catalogue (assesstest).
func newBareEnv(t *testing.T, db *store.DB) *testEnv {
	t.Helper()
	return newBareEnvCatalogues(t, db, assesstest.New())
}

// newBareEnvCatalogues is newBareEnv with the assessments reading cats (the demo's need
// the embedded catalogues).
func newBareEnvCatalogues(t *testing.T, db *store.DB, cats assess.Catalogues) *testEnv {
	t.Helper()
	tl, err := trail.New(trail.SHA256, trailtest.Key(t))
	if err != nil {
		t.Fatal(err)
	}
	e := &testEnv{t: t, db: db, Trail: tl, Users: map[string]auth.User{}, Tokens: map[string]string{}}
	e.Orgs = org.NewService(db, tl)
	e.Auth = auth.NewService(db, tl, auth.Options{MFAPolicy: e.Orgs})
	e.Assets = asset.NewService(db, tl)
	e.Vulns = vuln.Open(db)
	if e.Alerts, err = alert.New(db, tl); err != nil {
		t.Fatal(err)
	}
	e.Alerts.SetUsers(func(ctx context.Context, a actor.Actor, username string) error {
		_, err := e.Auth.UserByName(ctx, a, username)
		return err
	})
	e.Supply = supply.NewService(db, tl, e.Vulns, e.Alerts, slog.New(slog.NewTextHandler(io.Discard, nil)))
	e.Assets.CheckLinks(e.Supply)
	e.DLPRoot = t.TempDir()
	e.TrailCheckpoints = filepath.Join(t.TempDir(), "trail-checkpoints.jsonl")
	e.DLP, err = dlpsvc.New(db, tl, dlpsvc.Options{Key: []byte("test-key-16bytes"), ScanRoots: []string{e.DLPRoot}, Workers: 2,
		MayReveal: func(role string) bool { return auth.Allowed(role, auth.PermDLPReveal) }, Alerts: e.Alerts,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.DLP.Close)
	e.Notify = notify.New(db, tl, notify.Options{Key: make([]byte, notify.KeySize), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if e.Reference, err = reference.New(db, tl, reference.Options{Key: make([]byte, reference.KeySize)}); err != nil {
		t.Fatal(err)
	}
	evKey := make([]byte, events.KeySize)
	evKey[0] = 1
	if e.Events, err = events.New(db, events.Options{Key: evKey}); err != nil {
		t.Fatal(err)
	}
	signer, err := authcode.GenerateKey(authcode.Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	if e.AppCodes, err = appreg.NewSignedCodes(signer); err != nil {
		t.Fatal(err)
	}
	e.Apps = appreg.New(db, tl, e.AppCodes, appreg.ModelScorer{Model: appscore.DefaultModel()}, e.Alerts,
		appreg.Options{Vulns: appreg.SupplyVulns{Supply: e.Supply}})
	if e.Upstream, err = upstream.NewRegion(db, tl, e.Auth, make([]byte, upstream.KeySize)); err != nil {
		t.Fatal(err)
	}
	riskSources := risksource.Mux(e.Alerts, e.Supply, e.DLP, e.Apps)
	if e.Risks, err = risk.New(db, tl, e.Alerts, risk.Options{Sources: riskSources, EmergencyLink: "/plans"}); err != nil {
		t.Fatal(err)
	}
	if e.Incidents, err = incident.New(db, tl, e.Alerts, incident.Options{}); err != nil {
		t.Fatal(err)
	}
	e.Plans = incident.NewPlans(db, tl, incident.PlanOptions{Alerts: e.Alerts})
	deps := Deps{DB: db, Trail: tl, Orgs: e.Orgs, Auth: e.Auth, Assets: e.Assets, Supply: e.Supply, Vulns: e.Vulns, DLP: e.DLP,
		Notify: e.Notify, Alerts: e.Alerts, Reference: e.Reference, Events: e.Events, Apps: e.Apps, Upstream: e.Upstream, Risks: e.Risks, Incidents: e.Incidents, Plans: e.Plans, AppKeys: e.AppCodes.Signer.Public().MarshalPEM(),
		I18n: i18n.MustLoad(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Version: "test",
		TrailCheckpoints: e.TrailCheckpoints}
	// Compliance (issue 17): each module makes its service and sets it in deps under its own heading.
	// Compliance: catalogues (package control).

	// Compliance: assessments (package assess).
	if e.Assess, err = assess.New(db, tl, cats, assess.Options{Checks: assess.DefaultChecks(assess.Sources{DB: db, Trail: tl,
		MFA: e.Orgs, Events: e.Events, Findings: e.Supply, SLA: e.Alerts})}); err != nil {
		t.Fatal(err)
	}
	if e.AssessRisks, err = risk.New(db, tl, e.Alerts, risk.Options{Sources: risk.SourceMux{risk.ModuleAssessItem: risksource.AssessItems(e.Assess)},
		EmergencyLink: "/plans"}); err != nil {
		t.Fatal(err)
	}
	deps.Assess, deps.AssessRisks = e.Assess, e.AssessRisks

	// Compliance: policies (package policy).
	e.Policies = policy.New(db, tl, e.Alerts, policy.Options{})
	deps.Policies = e.Policies
	riskSources[risk.ModuleSelfCheck] = risksource.SelfCheckSource{Checks: e.Policies}

	// Compliance: training (package training).
	e.Training = training.New(db, tl, e.Alerts, training.Options{})
	deps.Training = e.Training
	// Compliance: data flows (package dataflow).
	e.DataflowNow = time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	e.Dataflows = dataflow.New(db, tl, dataflow.Options{Risks: e.Risks, Now: func() time.Time { return e.DataflowNow }})
	riskSources[risk.ModuleDataflow] = risksource.Dataflow(e.Dataflows)
	deps.Dataflows = e.Dataflows

	// Compliance: reports (package report).
	if e.Reports, err = report.New(db, tl, e.Alerts, report.BasicSource{DB: db}, report.Options{BaseURL: "https://medguard.test"}); err != nil {
		t.Fatal(err)
	}
	deps.Reports = e.Reports

	// Compliance: overview (package overview).
	if e.Overview, err = overview.New(db, overview.Deps{Alerts: e.Alerts, Findings: e.Supply, Risks: e.Risks, Incidents: e.Incidents, Apps: e.Apps,
		Compliance: assess.OverviewCompliance{S: e.Assess}}); err != nil {
		t.Fatal(err)
	}
	deps.Overview = e.Overview
	srv, err := New(deps)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = srv
	e.ts = httptest.NewServer(srv.Handler())
	t.Cleanup(e.ts.Close)
	e.URL = e.ts.URL
	return e
}

func newTestEnv(t *testing.T, db *store.DB) *testEnv {
	t.Helper()
	ctx := context.Background()
	e := newBareEnv(t, db)
	var err error
	sys := actor.System()
	mk := func(parent int64, kind, name, code string) org.Node {
		n, err := e.Orgs.Create(ctx, sys, org.Input{ParentID: parent, Kind: kind, Name: name, Code: code})
		if err != nil {
			t.Fatalf("create org %s: %v", name, err)
		}
		return n
	}
	e.Region = mk(0, org.KindRegion, "Test City Health Bureau", "CITY")
	e.HospA = mk(e.Region.ID, org.KindHospital, "Hospital A", "HA")
	e.HospB = mk(e.Region.ID, org.KindHospital, "Hospital B", "HB")
	e.DeptA = mk(e.HospA.ID, org.KindDepartment, "Radiology A", "HA-RAD")
	addUser := func(name, role string, orgID int64) {
		u, err := e.Auth.CreateUser(ctx, sys, auth.UserInput{OrgID: orgID, Username: name, Role: role, Password: testPassword, DisplayName: name})
		if err != nil {
			t.Fatalf("create user %s: %v", name, err)
		}
		e.Users[name] = u
		tok, _, err := e.Auth.CreateToken(ctx, sys, u.ID, "test", "write", 0)
		if err != nil {
			t.Fatalf("token for %s: %v", name, err)
		}
		e.Tokens[name] = tok
	}
	for role, name := range roleUser {
		orgID := e.HospA.ID
		if role == auth.RoleRegulator {
			orgID = e.Region.ID
		}
		addUser(name, role, orgID)
	}
	addUser("secofficer_b", auth.RoleSecurity, e.HospB.ID)
	for _, c := range []struct {
		ch   *notify.Channel
		org  int64
		name string
	}{{&e.NotifyChanA, e.HospA.ID, "duty-a"}, {&e.NotifyChanB, e.HospB.ID, notifyChanBName}} {
		if *c.ch, err = e.Notify.AddChannel(ctx, sys, notify.ChannelInput{OrgID: c.org, Name: c.name, Kind: "webhook",
			URL: "http://127.0.0.1:9/hook?token=tok-" + c.name, Secret: "s3cret-" + c.name}); err != nil {
			t.Fatalf("channel %s: %v", c.name, err)
		}
	}
	now := time.Now().UTC()
	if err := db.QueryRowContext(ctx, `INSERT INTO notify_deliveries (channel_id, delivery_key, state, attempts, next_attempt_at, created_at)
		VALUES (?, 'mgd-b', 'dead', 8, ?, ?) RETURNING id`, e.NotifyChanB.ID, now, now).Scan(&e.NotifyDeadB); err != nil {
		t.Fatalf("dead letter of B: %v", err)
	}
	for _, c := range []struct {
		dst *int64
		org int64
		ch  int64
	}{{&e.NotifyRouteA, e.HospA.ID, e.NotifyChanA.ID}, {&e.NotifyRouteB, e.HospB.ID, e.NotifyChanB.ID}} {
		rt, err := e.Notify.AddRoute(ctx, sys, notify.Route{OrgID: c.org, ChannelID: c.ch, Source: "incident"})
		if err != nil {
			t.Fatalf("route of %d: %v", c.org, err)
		}
		*c.dst = rt.ID
	}
	subB, err := e.Notify.Subscribe(ctx, e.Users["secofficer_b"].Actor(""), notify.SubscriptionInput{Source: "incident"})
	if err != nil {
		t.Fatalf("subscription of B: %v", err)
	}
	e.NotifySubB = subB.ID
	e.AssetA, err = e.Assets.Create(ctx, sys, asset.Input{OrgID: e.HospA.ID, Code: "A-001", Name: "HIS database server A",
		Kind: "server", Zone: "internal", Lifecycle: "in_service", MLPSLevel: 3, IP: "10.1.1.10"})
	if err != nil {
		t.Fatalf("asset A: %v", err)
	}
	e.AssetB, err = e.Assets.Create(ctx, sys, asset.Input{OrgID: e.HospB.ID, Code: "B-001", Name: "PACS archive B",
		Kind: "server", Zone: "internal", Lifecycle: "in_service", MLPSLevel: 3, IP: "10.2.1.10"})
	if err != nil {
		t.Fatalf("asset B: %v", err)
	}
	return e
}

// api performs a JSON API request with the token of user (none when user is "").
func (e *testEnv) api(method, path, user string, body any) (int, []byte) {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	contentType := ""
	if rd != nil {
		contentType = "application/json"
	}
	code, out, _ := e.raw(method, path, user, rd, contentType)
	return code, out
}

// browser is a cookie-keeping client that does not follow redirects.
type browser struct {
	e      *testEnv
	client *http.Client
	csrf   string
}

func (e *testEnv) newBrowser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, client: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// get fetches path and remembers the page's CSRF token.
func (b *browser) get(path string) (int, string, http.Header) {
	b.e.t.Helper()
	resp, err := b.client.Get(b.e.URL + path)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if m := csrfRe.FindSubmatch(body); m != nil {
		b.csrf = string(m[1])
	}
	return resp.StatusCode, string(body), resp.Header
}

// post submits a form with the remembered CSRF token (unless the form sets its own).
func (b *browser) post(path string, form url.Values) (int, string, http.Header) {
	b.e.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", b.csrf)
	}
	resp, err := b.client.PostForm(b.e.URL+path, form)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if m := csrfRe.FindSubmatch(body); m != nil {
		b.csrf = string(m[1])
	}
	return resp.StatusCode, string(body), resp.Header
}

// login signs user in through the form and fails the test if that does not work.
func (b *browser) login(user string) {
	b.e.t.Helper()
	b.get("/login")
	code, body, h := b.post("/login", url.Values{"username": {user}, "password": {testPassword}, "next": {"/"}})
	if code != http.StatusSeeOther || h.Get("Location") != "/" {
		b.e.t.Fatalf("login %s: status %d location %q body %.300s", user, code, h.Get("Location"), body)
	}
	b.get("/")
}
