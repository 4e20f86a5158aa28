// Package demo seeds a realistic demonstration of medguard: a province health
// commission, a city region, two hospitals with departments, one user for each role and a
// few hundred assets of every kind, and the first hospital's software supply chain
// (vendors, products with real SBOMs matched against real OSV advisories, a risk
// decision, gate results, deliveries and an alert), its patient-data detection history
// (synthetic files under a scan root, a path job, a text scan, pre-send checks that
// allow, alert and block), its risk register and incidents, and its compliance records
// (assessments, policies, training, data flows, reports). Seeding is idempotent: a second run finds the demo
// organisation and changes nothing (except the administrator's password when one is
// given).
package demo

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	mrand "math/rand"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/appreg"
	"github.com/medguard/medguard/internal/assess"
	"github.com/medguard/medguard/internal/asset"
	"github.com/medguard/medguard/internal/auth"
	"github.com/medguard/medguard/internal/dataflow"
	"github.com/medguard/medguard/internal/detect"
	dlpsvc "github.com/medguard/medguard/internal/dlp/service"
	"github.com/medguard/medguard/internal/events"
	"github.com/medguard/medguard/internal/incident"
	"github.com/medguard/medguard/internal/notify"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/overview"
	"github.com/medguard/medguard/internal/policy"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/reference"
	"github.com/medguard/medguard/internal/report"
	"github.com/medguard/medguard/internal/risk"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/supply"
	"github.com/medguard/medguard/internal/training"
	"github.com/medguard/medguard/internal/upstream"
	"github.com/medguard/medguard/internal/vuln"
)

// Deps are the services the seeder uses.
type Deps struct {
	DB     *store.DB
	Orgs   *org.Service
	Auth   *auth.Service
	Assets *asset.Service
	Vulns  *vuln.DB        // optional: with Supply, seeds the software supply chain
	Supply *supply.Service // optional
	DLP    *dlpsvc.Service // optional: with Options.DLPRoot, seeds patient-data scans
	Alerts *alert.Service  // optional: seeds a silence and a case in the alert inbox
	Notify *notify.Service // optional: seeds notification channels and routes
	// Events and Reference, both optional: with both, the first hospital gets the
	// simulated hospital's reference data and two weeks of its audit events.
	Events    *events.Service
	Reference *reference.Service
	// Rules and DetectEnv, optional with Events and Alerts: the demo runs detection over
	// the events it seeds (the live detection only sees what comes after it started)
	// and opens an investigation of one account.
	Rules     func(ctx context.Context, orgID int64) ([]detect.Rule, error)
	DetectEnv detect.Env
	// Apps, optional: the hospitals' internet-hospital apps in every grade, one evicted
	// and one application waiting for review.
	Apps *appreg.Service
	// Upstream, optional: the regional side of upward reporting; the demo's hospitals
	// report their apps to it, so that the region's page has them.
	Upstream *upstream.Region
	// Risks, Incidents and Plans, optional: the risk register, the incidents and the
	// emergency plans of the first hospital.
	Risks     *risk.Service
	Incidents *incident.Service
	Plans     *incident.Plans
	// The compliance modules, each optional (nil skips it): the first hospital's
	// assessments, policies, role book and self-checks, training, data flows, reports and
	// this week's security score. AssessRisks is the register an assessment's gap becomes
	// a risk in (nil: Risks); it must read assessment items as risk sources.
	Assess      *assess.Service
	AssessRisks assess.RiskRaiser
	Policies    *policy.Service
	Training    *training.Service
	Dataflows   *dataflow.Service
	Reports     *report.Service
	Overview    *overview.Service
}

// Options tune the seeding.
type Options struct {
	AdminPassword string // fixed admin password; random when empty on first seeding
	Assets        int    // number of assets on first seeding (default 400)
	// DLPRoot is a scan root of the DLP service where the demo writes its synthetic
	// patient files; empty skips the patient-data history.
	DLPRoot string
	// Now is the end of the demo's two weeks of audit events (zero: the current time).
	Now time.Time
}

// Login is a demo account to print.
type Login struct {
	Username, Password, Role string
}

// Result says what Seed did.
type Result struct {
	Seeded bool
	Logins []Login
}

// ProvinceCode marks the demo's top organisation; its presence means "already seeded".
const ProvinceCode = "DEMO-PROV"

type demoUser struct {
	username, name, role, orgCode string
}

var users = []demoUser{
	{"admin", "平台管理员 Platform Admin", auth.RoleAdmin, ProvinceCode},
	{"secofficer", "王安全 Wang An (信息科)", auth.RoleSecurity, "DEMO-H1"},
	{"privacy", "李合规 Li Hegui", auth.RolePrivacy, "DEMO-H1"},
	{"auditor", "赵审计 Zhao Shenji", auth.RoleAuditor, "DEMO-H1"},
	{"itops", "陈运维 Chen Yunwei", auth.RoleITOps, "DEMO-H1-IT"},
	{"appops", "周运营 Zhou Yunying", auth.RoleAppOperator, "DEMO-H1"},
	{"regulator", "孙监管 Sun Jianguan", auth.RoleRegulator, "DEMO-CITY"},
	{"secofficer2", "刘安全 Liu An (二院)", auth.RoleSecurity, "DEMO-H2"},
}

type demoOrg struct {
	code, parent, kind, name string
}

var orgs = []demoOrg{
	{ProvinceCode, "", org.KindProvince, "示范省卫生健康委员会"},
	{"DEMO-CITY", ProvinceCode, org.KindRegion, "示范市卫生健康局"},
	{"DEMO-H1", "DEMO-CITY", org.KindHospital, "示范市第一人民医院"},
	{"DEMO-H1-IT", "DEMO-H1", org.KindDepartment, "信息科"},
	{"DEMO-H1-RAD", "DEMO-H1", org.KindDepartment, "放射科"},
	{"DEMO-H1-LAB", "DEMO-H1", org.KindDepartment, "检验科"},
	{"DEMO-H1-CARD", "DEMO-H1", org.KindDepartment, "心血管内科"},
	{"DEMO-H1-ICU", "DEMO-H1", org.KindDepartment, "重症医学科"},
	{"DEMO-H1-OPD", "DEMO-H1", org.KindDepartment, "门诊部"},
	{"DEMO-H1-PHARM", "DEMO-H1", org.KindDepartment, "药剂科"},
	{"DEMO-H2", "DEMO-CITY", org.KindHospital, "示范市中医院"},
	{"DEMO-H2-IT", "DEMO-H2", org.KindDepartment, "信息中心"},
	{"DEMO-H2-RAD", "DEMO-H2", org.KindDepartment, "医学影像科"},
	{"DEMO-H2-OPD", "DEMO-H2", org.KindDepartment, "门诊部"},
	{"DEMO-H2-INET", "DEMO-H2", org.KindDepartment, "互联网医院办公室"},
}

// Seed creates the demo data unless it is already there.
func Seed(ctx context.Context, d Deps, opt Options) (Result, error) {
	sys := actor.System()
	if opt.Assets <= 0 {
		opt.Assets = 400
	}
	existing, err := d.Orgs.List(ctx, sys)
	if err != nil {
		return Result{}, err
	}
	byCode := map[string]org.Node{}
	for _, n := range existing {
		if n.Code != "" {
			byCode[n.Code] = n
		}
	}
	if _, ok := byCode[ProvinceCode]; ok {
		return reseed(ctx, d, opt)
	}
	if opt.AdminPassword != "" {
		if err := auth.ValidatePassword(opt.AdminPassword, "admin"); err != nil {
			return Result{}, fmt.Errorf("demo: --admin-password: %w", err)
		}
	}
	for _, o := range orgs {
		in := org.Input{Kind: o.kind, Name: o.name, Code: o.code}
		if o.parent != "" {
			in.ParentID = byCode[o.parent].ID
		}
		n, err := d.Orgs.Create(ctx, sys, in)
		if err != nil {
			return Result{}, fmt.Errorf("demo: create %s: %w", o.name, err)
		}
		byCode[o.code] = n
	}
	res := Result{Seeded: true}
	for _, u := range users {
		// Scripts that fix the admin password get the same password for every demo login.
		pw := opt.AdminPassword
		if pw == "" {
			pw = randomPassword()
		}
		if _, err := d.Auth.CreateUser(ctx, sys, auth.UserInput{OrgID: byCode[u.orgCode].ID, Username: u.username,
			DisplayName: u.name, Role: u.role, Password: pw}); err != nil {
			return Result{}, fmt.Errorf("demo: create user %s: %w", u.username, err)
		}
		res.Logins = append(res.Logins, Login{Username: u.username, Password: pw, Role: u.role})
	}
	var holders []asset.DemoOrg
	for _, o := range orgs {
		if o.kind == org.KindHospital || o.kind == org.KindDepartment {
			n := byCode[o.code]
			holders = append(holders, asset.DemoOrg{ID: n.ID, Code: n.Code, Name: n.Name, Kind: n.Kind})
		}
	}
	rng := mrand.New(mrand.NewSource(20261123))
	if _, err := d.Assets.BulkCreate(ctx, sys, asset.Generate(rng, holders, opt.Assets)); err != nil {
		return Result{}, fmt.Errorf("demo: assets: %w", err)
	}
	if err := seedSilence(ctx, d); err != nil {
		return Result{}, err
	}
	if err := seedNotify(ctx, d); err != nil {
		return Result{}, err
	}
	if err := seedSupply(ctx, d, byCode); err != nil {
		return Result{}, err
	}
	if err := seedDLP(ctx, d, opt.DLPRoot); err != nil {
		return Result{}, err
	}
	if err := seedEvents(ctx, d, opt.now()); err != nil {
		return Result{}, err
	}
	if err := seedCase(ctx, d); err != nil {
		return Result{}, err
	}
	if err := seedInvestigation(ctx, d); err != nil {
		return Result{}, err
	}
	if err := seedApps(ctx, d); err != nil {
		return Result{}, err
	}
	if err := seedRegion(ctx, d); err != nil {
		return Result{}, err
	}
	if err := seedGovernance(ctx, d, opt.now()); err != nil {
		return Result{}, err
	}
	if err := seedCompliance(ctx, d, opt.now()); err != nil {
		return Result{}, err
	}
	return res, nil
}

func (o Options) now() time.Time {
	if o.Now.IsZero() {
		return time.Now()
	}
	return o.Now
}

// reseed leaves existing demo data alone; it only resets the administrator's password
// when one is given, so that scripts can always log in, and adds the patient-data history
// to a demo seeded before it existed.
func reseed(ctx context.Context, d Deps, opt Options) (Result, error) {
	sys := actor.System()
	res := Result{}
	if err := seedSilence(ctx, d); err != nil {
		return Result{}, err
	}
	if err := seedNotify(ctx, d); err != nil {
		return Result{}, err
	}
	if err := seedDLP(ctx, d, opt.DLPRoot); err != nil {
		return Result{}, err
	}
	if err := seedEvents(ctx, d, opt.now()); err != nil {
		return Result{}, err
	}
	if err := seedCase(ctx, d); err != nil {
		return Result{}, err
	}
	if err := seedInvestigation(ctx, d); err != nil {
		return Result{}, err
	}
	if err := seedApps(ctx, d); err != nil {
		return Result{}, err
	}
	if err := seedRegion(ctx, d); err != nil {
		return Result{}, err
	}
	if err := seedGovernance(ctx, d, opt.now()); err != nil {
		return Result{}, err
	}
	if err := seedCompliance(ctx, d, opt.now()); err != nil {
		return Result{}, err
	}
	for _, u := range users {
		l := Login{Username: u.username, Role: u.role}
		if opt.AdminPassword != "" {
			usr, err := d.Auth.UserByName(ctx, sys, u.username)
			if err != nil {
				var pe *problem.Error
				if errors.As(err, &pe) && pe.Kind == problem.KindNotFound {
					continue
				}
				return Result{}, err
			}
			if err := d.Auth.SetPasswordNoChange(ctx, sys, usr.ID, opt.AdminPassword); err != nil {
				return Result{}, fmt.Errorf("demo: reset password of %s: %w", u.username, err)
			}
			l.Password = opt.AdminPassword
		}
		res.Logins = append(res.Logins, l)
	}
	return res, nil
}

func randomPassword() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	// 16 base64url characters plus a fixed tail that satisfies the class rules.
	return base64.RawURLEncoding.EncodeToString(b[:]) + "-7a"
}
