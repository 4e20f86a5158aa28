// Package appreg is the registry of a hospital's internet-hospital apps — Android, iOS and
// HarmonyOS apps, WeChat and Alipay mini-programs, H5 portals — and their risk control:
// admission (事前备案) by an application a reviewer approves or rejects, an authorization
// code (授权码) issued on approval and revoked on eviction, what the distribution channels
// are seen to serve (事中监测) checked against the official versions and signers, findings,
// the 100-point evaluation with its grade, and eviction (清出) with re-admission by a new
// application. Every step is in the trail; findings raise alerts.
//
// The registry does not sign codes or compute scores itself: it asks a Codes and a Scorer
// (internal/authcode and internal/appscore, joined in internal/app), so that both can be
// tested and replaced on their own.
package appreg

import (
	"context"
	"encoding/hex"
	"io"
	"log/slog"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

// The platforms an app runs on.
const (
	PlatformAndroid   = "android"
	PlatformIOS       = "ios"
	PlatformHarmonyOS = "harmonyos"
	PlatformWeChat    = "wechat_mini"
	PlatformAlipay    = "alipay_mini"
	PlatformH5        = "h5"
)

// Platforms lists the platforms in the order forms offer them.
var Platforms = []string{PlatformAndroid, PlatformIOS, PlatformHarmonyOS, PlatformWeChat, PlatformAlipay, PlatformH5}

// The states of an app.
const (
	StatusPending  = "pending"  // an application waits for review
	StatusAdmitted = "admitted" // approved: it holds a valid authorization code
	StatusRejected = "rejected" // the application was rejected
	StatusEvicted  = "evicted"  // 清出: its codes are revoked
)

// The contact roles an application names.
var ContactRoles = []string{"security", "technical", "management"}

// App is a registered app.
type App struct {
	ID       int64     `json:"id"`
	OrgID    int64     `json:"org_id"`
	OrgName  string    `json:"hospital"`
	Name     string    `json:"name"`
	Platform string    `json:"platform"`
	Package  string    `json:"package"`
	Operator string    `json:"operator"`
	Purpose  string    `json:"purpose"`
	Status   string    `json:"status"`
	Score    *int      `json:"score"`
	Grade    string    `json:"grade"`
	Contacts []Contact `json:"contacts"`
	Channels []Channel `json:"channels"`
	Versions []Version `json:"versions"`
	// RectifyBy is the deadline of the rectification order of a grade-B app.
	RectifyBy *time.Time `json:"rectify_by,omitempty"`
	CreatedBy string     `json:"created_by"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
}

// Contact is one person the hospital names for an app.
type Contact struct {
	Role  string `json:"role"`
	Name  string `json:"name"`
	Phone string `json:"phone"`
	Email string `json:"email"`
}

// Channel is a place the app is distributed through (an app store, the official site,
// a mini-program platform).
type Channel struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

// Version is an official version: its artifact digests and the fingerprints (SHA-256 of
// the certificate) of the certificates that sign it.
type Version struct {
	Version     string   `json:"version"`
	VersionCode int64    `json:"version_code"`
	SHA256      string   `json:"sha256"`
	SM3         string   `json:"sm3"`
	Signers     []string `json:"signers"`
	// Current marks the version the channels should serve now; older official
	// versions still served are outdated.
	Current bool `json:"current"`
	// SupplyVersionID names the software version of the supply chain that holds this
	// version's SBOM (0: none): the open vulnerabilities of its components are findings
	// of the app while it is the current version.
	SupplyVersionID int64 `json:"supply_version_id,omitempty"`
}

// Input is an application's content: the app and everything filed about it.
type Input struct {
	OrgID    int64     `json:"org_id"`
	Name     string    `json:"name"`
	Platform string    `json:"platform"`
	Package  string    `json:"package"`
	Operator string    `json:"operator"`
	Purpose  string    `json:"purpose"`
	Contacts []Contact `json:"contacts"`
	Channels []Channel `json:"channels"`
	Versions []Version `json:"versions"`
	// Evidence is what a re-admission shows of the hardening done.
	Evidence string `json:"evidence"`
}

// Application is one application for admission or re-admission and its decision.
type Application struct {
	ID          int64      `json:"id"`
	AppID       int64      `json:"app_id"`
	Kind        string     `json:"kind"`   // admission, readmission
	Status      string     `json:"status"` // pending, approved, rejected
	Evidence    string     `json:"evidence"`
	SubmittedBy string     `json:"submitted_by"`
	SubmittedAt time.Time  `json:"submitted_at"`
	DecidedBy   string     `json:"decided_by,omitempty"`
	DecidedAt   *time.Time `json:"decided_at,omitempty"`
	Comment     string     `json:"comment"`
}

// CodeClaims is what an authorization code holds.
type CodeClaims struct {
	ID         string    `json:"code_id"`
	AppID      int64     `json:"app_id"`
	HospitalID int64     `json:"hospital_id"`
	Hospital   string    `json:"hospital"`
	IssuedAt   time.Time `json:"issued_at"`
	ExpiresAt  time.Time `json:"expires_at"`
}

// Codes signs authorization codes and checks them offline (signature and dates).
type Codes interface {
	// Issue signs c and returns the code, the signing key's id and algorithm.
	Issue(c CodeClaims) (code, kid, alg string, err error)
	// Verify checks code's signature and dates at now and returns its claims.
	Verify(code string, now time.Time) (CodeClaims, error)
}

// Scorer evaluates an app from its open findings.
type Scorer interface {
	Evaluate(open []Finding) Evaluation
}

// Evaluation is a Scorer's verdict.
type Evaluation struct {
	Score int
	Grade string
	// Details explains every point lost; stored as JSON with the score.
	Details any
	// Rectify asks for a rectification order within RectifyDays (grade B).
	Rectify     bool
	RectifyDays int
	// Evict proposes eviction (grade C, or a critical finding open past its deadline).
	Evict bool
}

// VulnSource tells the open vulnerabilities of a software version of the supply chain,
// as the hospital at orgPath sees them (supply.Service, joined in internal/app): a version
// the hospital does not see has none.
type VulnSource interface {
	OpenVulns(ctx context.Context, orgPath string, versionID int64) ([]Vuln, error)
}

// Vuln is an open vulnerability of a component.
type Vuln struct {
	ID       string // the advisory (CVE, GHSA …)
	Package  string // the component and its version
	Severity string // critical, high, medium, low
}

// Raiser raises alerts (alert.Service) inside the caller's transaction.
type Raiser interface {
	Raise(ctx context.Context, tx *store.Tx, in alert.Input) (alert.Alert, bool, error)
}

// ContactNotifier sends a notification of an alert about an app to the app's registered
// contacts (people outside medguard), in tx, the transaction that raised the alert. It
// returns the name of what it sent through, or an error (notify.ErrNoMailChannel when the
// hospital has no way to send mail).
type ContactNotifier interface {
	NotifyContacts(ctx context.Context, tx *store.Tx, al alert.Alert, title i18n.Message, emails []string) (string, error)
	// MailChannel names what a notification of organisation orgID's alerts would be sent
	// through, or says why none can be.
	MailChannel(ctx context.Context, tx *store.Tx, orgID int64) (string, error)
}

// Options configures a Service.
type Options struct {
	// CodeValidity is how long an authorization code is valid (default one year).
	CodeValidity time.Duration
	// CriticalDeadline is how long a critical finding may stay open before eviction is
	// proposed (default 7 days).
	CriticalDeadline time.Duration
	// Vulns, optional, gives the open vulnerabilities of the SBOMs the versions name.
	Vulns VulnSource
	// Contacts, optional, notifies an app's registered contacts of its incidents.
	Contacts ContactNotifier
	// Logger receives what cannot be said otherwise (contacts with no mail channel).
	Logger *slog.Logger
	Now    func() time.Time
}

// Service keeps the registry.
type Service struct {
	db     *store.DB
	trail  *trail.Log
	codes  Codes
	scorer Scorer
	alerts Raiser
	opt    Options
}

// New returns the registry on db.
func New(db *store.DB, tl *trail.Log, codes Codes, scorer Scorer, alerts Raiser, opt Options) *Service {
	if opt.CodeValidity <= 0 {
		opt.CodeValidity = 365 * 24 * time.Hour
	}
	if opt.CriticalDeadline <= 0 {
		opt.CriticalDeadline = 7 * 24 * time.Hour
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Service{db: db, trail: tl, codes: codes, scorer: scorer, alerts: alerts, opt: opt}
}

func (s *Service) now() time.Time { return s.opt.Now().UTC().Truncate(time.Microsecond) }

// text checks a required or optional text field (problem.Text).
var text = problem.Text

// fingerprint normalises a SHA-256 or SM3 digest or certificate fingerprint: 64 hex
// digits, colons and spaces allowed, returned in lower case.
func fingerprint(field, v string) (string, error) {
	v = strings.ToLower(strings.NewReplacer(":", "", " ", "").Replace(strings.TrimSpace(v)))
	if v == "" {
		return "", nil
	}
	if b, err := hex.DecodeString(v); err != nil || len(b) != 32 {
		return "", problem.Invalid(field, "must be 64 hexadecimal digits (a SHA-256 or SM3 digest)").WithMsg("app.error.digest")
	}
	return v, nil
}

// check validates and normalises an application's content.
func check(in Input) (Input, error) {
	var err error
	if in.Name, err = text("name", in.Name, 200, true); err != nil {
		return in, err
	}
	if !slices.Contains(Platforms, in.Platform) {
		return in, problem.OneOf("platform", Platforms...)
	}
	if in.Package, err = text("package", in.Package, 300, true); err != nil {
		return in, err
	}
	if in.Operator, err = text("operator", in.Operator, 200, true); err != nil {
		return in, err
	}
	if in.Purpose, err = text("purpose", in.Purpose, 2000, true); err != nil {
		return in, err
	}
	if in.Evidence, err = text("evidence", in.Evidence, 10000, false); err != nil {
		return in, err
	}
	if len(in.Contacts) > 20 || len(in.Channels) > 50 || len(in.Versions) > 100 {
		return in, problem.Invalid("contacts", "too many contacts, channels or versions (at most 20, 50 and 100)").WithMsg("app.error.too_many")
	}
	for i := range in.Contacts {
		c := &in.Contacts[i]
		if !slices.Contains(ContactRoles, c.Role) {
			return in, problem.OneOf("contacts.role", ContactRoles...)
		}
		if c.Name, err = text("contacts.name", c.Name, 100, true); err != nil {
			return in, err
		}
		if c.Phone, err = text("contacts.phone", c.Phone, 30, true); err != nil {
			return in, err
		}
		if strings.Trim(c.Phone, "+0123456789- ()") != "" || len(strings.Trim(c.Phone, "+- ()")) < 5 {
			return in, problem.Invalid("contacts.phone", "is not a telephone number").WithMsg("app.error.phone")
		}
		if c.Email, err = text("contacts.email", c.Email, 200, true); err != nil {
			return in, err
		}
		if a, err := mail.ParseAddress(c.Email); err != nil || a.Address != c.Email {
			return in, problem.Invalid("contacts.email", "is not an e-mail address").WithMsg("app.error.email")
		}
	}
	seen := map[string]bool{}
	for i := range in.Channels {
		c := &in.Channels[i]
		if c.Name, err = text("channels.name", c.Name, 100, true); err != nil {
			return in, err
		}
		if seen[c.Name] {
			return in, problem.Invalid("channels.name", "names a channel twice").WithMsg("app.error.channel_twice")
		}
		seen[c.Name] = true
		if c.URL, err = text("channels.url", c.URL, 500, false); err != nil {
			return in, err
		}
		if c.URL != "" {
			if u, err := url.Parse(c.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				return in, problem.Invalid("channels.url", "must be an http(s) address").WithMsg("app.error.url")
			}
		}
	}
	seen = map[string]bool{}
	current := 0
	for i := range in.Versions {
		v := &in.Versions[i]
		if v.Version, err = text("versions.version", v.Version, 100, true); err != nil {
			return in, err
		}
		if seen[v.Version] {
			return in, problem.Invalid("versions.version", "names a version twice").WithMsg("app.error.version_twice")
		}
		seen[v.Version] = true
		if v.SupplyVersionID < 0 {
			return in, problem.Invalid("versions.supply_version_id", "must not be negative").WithMsg("app.error.version_code")
		}
		if v.VersionCode < 0 {
			return in, problem.Invalid("versions.version_code", "must not be negative").WithMsg("app.error.version_code")
		}
		if v.SHA256, err = fingerprint("versions.sha256", v.SHA256); err != nil {
			return in, err
		}
		if v.SM3, err = fingerprint("versions.sm3", v.SM3); err != nil {
			return in, err
		}
		var signers []string
		for _, f := range v.Signers {
			f, err := fingerprint("versions.signers", f)
			if err != nil {
				return in, err
			}
			if f != "" && !slices.Contains(signers, f) {
				signers = append(signers, f)
			}
		}
		v.Signers = signers
		if v.Current {
			current++
		}
	}
	if current > 1 {
		return in, problem.Invalid("versions.current", "more than one version is marked current").WithMsg("app.error.current_twice")
	}
	if current == 0 && len(in.Versions) > 0 {
		in.Versions[len(in.Versions)-1].Current = true // the last one listed
	}
	return in, nil
}
