// Package risk owns the risk register (风险管理) of a hospital: risks identified on its
// assets, rated on a likelihood × impact matrix (Matrix, default 5 × 5) before and after
// treatment (inherent and current/residual), owned, treated (mitigate / transfer / avoid
// / accept) through tasks with due dates, accepted by an approver until an expiry,
// reviewed on a cadence that depends on their level, and linked both ways to the
// findings and alerts they came from (FromSource, RisksOf).
//
// Every change of a risk is in its history and in the trail; every read and write is
// limited to the actor's subtree (another hospital's risk is not found). Tasks of a
// level's playbook are added when a risk is created or its residual level changes.
// Sweep, run periodically, expires acceptances (re-opening their risks) and raises the
// reminders of reviews and tasks coming due or overdue through the alert inbox, each
// once.
package risk

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

// The states of a risk.
const (
	StatusOpen     = "open"     // identified, not yet treated
	StatusTreating = "treating" // treatment under way
	StatusAccepted = "accepted" // an acceptance holds it (until its expiry)
	StatusClosed   = "closed"   // no longer a risk
)

// Statuses lists the states in workflow order.
var Statuses = []string{StatusOpen, StatusTreating, StatusAccepted, StatusClosed}

// The treatments of a risk.
const (
	TreatMitigate = "mitigate"
	TreatTransfer = "transfer"
	TreatAvoid    = "avoid"
	TreatAccept   = "accept"
)

// Treatments lists the treatments ("" is none chosen yet).
var Treatments = []string{TreatMitigate, TreatTransfer, TreatAvoid, TreatAccept}

// Categories lists the categories of a risk; each has a catalogue key
// "risk.category.<id>".
var Categories = []string{"data_leak", "ransomware", "availability", "access", "supply_chain", "app",
	"medical_device", "third_party", "compliance", "other"}

// Risk is a risk of the register. Likelihood, Impact, Level and Score are the current
// (residual) rating; the Inherent ones the rating before treatment. Tasks, History and
// Acceptances are filled by Risk, not by lists.
type Risk struct {
	ID                 int64      `json:"id"`
	OrgID              int64      `json:"org_id"`
	OrgName            string     `json:"hospital"`
	Title              string     `json:"title"`
	Description        string     `json:"description"`
	Category           string     `json:"category"`
	Threat             string     `json:"threat"`
	Vulnerability      string     `json:"vulnerability"`
	AssetIDs           []int64    `json:"asset_ids"`
	InherentLikelihood int        `json:"inherent_likelihood"`
	InherentImpact     int        `json:"inherent_impact"`
	InherentLevel      string     `json:"inherent_level"`
	InherentScore      int        `json:"inherent_score"`
	Likelihood         int        `json:"likelihood"`
	Impact             int        `json:"impact"`
	Level              string     `json:"level"`
	Score              int        `json:"score"`
	Owner              string     `json:"owner"`
	Treatment          string     `json:"treatment"`
	Status             string     `json:"status"`
	NextReviewAt       time.Time  `json:"next_review_at"`
	LastReviewedAt     *time.Time `json:"last_reviewed_at"`
	Sources            []Source   `json:"sources"`
	CreatedBy          string     `json:"created_by"`
	CreatedAt          time.Time  `json:"created_at"`
	UpdatedAt          time.Time  `json:"updated_at"`

	Tasks       []Task         `json:"tasks,omitempty"`
	Acceptances []Acceptance   `json:"acceptances,omitempty"`
	History     []HistoryEntry `json:"history,omitempty"`
}

// Source is a record of another module a risk came from or is linked to: an alert, a
// supply-chain vulnerability finding, a privacy case, an app, a delivery …
type Source struct {
	Module string `json:"module"`
	ID     int64  `json:"id"`
}

// Input is what a person writes of a risk. Likelihood and Impact, the current rating,
// default to the inherent one when 0.
type Input struct {
	OrgID              int64   `json:"org_id"`
	Title              string  `json:"title"`
	Description        string  `json:"description"`
	Category           string  `json:"category"`
	Threat             string  `json:"threat"`
	Vulnerability      string  `json:"vulnerability"`
	AssetIDs           []int64 `json:"asset_ids"`
	InherentLikelihood int     `json:"inherent_likelihood"`
	InherentImpact     int     `json:"inherent_impact"`
	Likelihood         int     `json:"likelihood"`
	Impact             int     `json:"impact"`
	Owner              string  `json:"owner"`
	Treatment          string  `json:"treatment"`
}

// Raiser raises alerts (alert.Service) inside the caller's transaction.
type Raiser interface {
	Raise(ctx context.Context, tx *store.Tx, in alert.Input) (alert.Alert, bool, error)
}

// Options configures a Service.
type Options struct {
	// Matrix rates the risks (default DefaultMatrix()).
	Matrix *Matrix
	// Playbooks gives the tasks added when a risk reaches a level, by level id
	// (default DefaultPlaybooks()).
	Playbooks map[string][]PlaybookTask
	// EmergencyLink is where a playbook task that points at emergency response links
	// (default "/incidents/plans").
	EmergencyLink string
	// RemindBefore is how long before a review or a task's due date Sweep reminds
	// (default 7 days).
	RemindBefore time.Duration
	// Sources, optional, reads the facts of a source for FromSource.
	Sources SourceReader
	// Users, optional, checks that an owner, approver or assignee is a user actor a may
	// see (auth's UserByName); without it any well-formed name is accepted.
	Users func(ctx context.Context, a actor.Actor, username string) error
	Now   func() time.Time
}

// Service keeps the register.
type Service struct {
	db     *store.DB
	trail  *trail.Log
	alerts Raiser
	cat    *i18n.Catalog
	m      *Matrix
	opt    Options
}

// New returns the register on db; changes are trailed in tl and alerts raised through
// alerts.
func New(db *store.DB, tl *trail.Log, alerts Raiser, opt Options) (*Service, error) {
	cat, err := i18n.Load()
	if err != nil {
		return nil, fmt.Errorf("risk: %w", err)
	}
	if opt.Matrix == nil {
		opt.Matrix = DefaultMatrix()
	}
	if opt.Playbooks == nil {
		opt.Playbooks = DefaultPlaybooks()
	}
	for lvl, tasks := range opt.Playbooks {
		for _, t := range tasks {
			if !cat.Has(i18n.EN, t.Key) || !cat.Has(i18n.ZhCN, t.Key) {
				return nil, fmt.Errorf("risk: playbook %s: task %q is not in both catalogues", lvl, t.Key)
			}
		}
	}
	if opt.EmergencyLink == "" {
		opt.EmergencyLink = "/incidents/plans"
	}
	if opt.RemindBefore <= 0 {
		opt.RemindBefore = 7 * 24 * time.Hour
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Service{db: db, trail: tl, alerts: alerts, cat: cat, m: opt.Matrix, opt: opt}, nil
}

// Matrix returns the matrix the service rates risks on.
func (s *Service) Matrix() *Matrix { return s.m }

func (s *Service) now() time.Time { return s.opt.Now().UTC().Truncate(time.Microsecond) }

// text checks a required or optional text field (problem.Text).
var text = problem.Text

// username checks a user name field (owner, approver, assignee) and, when the service
// knows the users, that a may see that user.
func (s *Service) username(ctx context.Context, a actor.Actor, field, v string, required bool) (string, error) {
	v, err := text(field, v, 100, required)
	if err != nil || v == "" {
		return v, err
	}
	if strings.ContainsAny(v, " \t\r\n") {
		return "", problem.Invalid(field, "is not a user name").WithMsg("risk.error.username")
	}
	if s.opt.Users != nil {
		if err := s.opt.Users(ctx, a, v); err != nil {
			return "", problem.Invalid(field, "is not a user you can see").WithMsg("risk.error.unknown_user").WithErr(err)
		}
	}
	return v, nil
}

// rating checks likelihood l and impact i on the matrix; the field at fault is
// prefix+"likelihood" or prefix+"impact", as the JSON of Input names them.
func (s *Service) rating(prefix string, l, i int) error {
	if !s.m.Valid(l, i) {
		field := prefix + "impact"
		if l < 1 || l > len(s.m.Likelihood) {
			field = prefix + "likelihood"
		}
		return problem.Invalid(field, "likelihood must be 1 to %d and impact 1 to %d", len(s.m.Likelihood), len(s.m.Impact)).
			WithMsg("risk.error.rating", len(s.m.Likelihood), len(s.m.Impact))
	}
	return nil
}

// check validates and normalises in.
func (s *Service) check(ctx context.Context, a actor.Actor, in Input) (Input, error) {
	var err error
	if in.Title, err = text("title", in.Title, 200, true); err != nil {
		return in, err
	}
	if in.Description, err = text("description", in.Description, 10000, false); err != nil {
		return in, err
	}
	if !slices.Contains(Categories, in.Category) {
		return in, problem.OneOf("category", Categories...)
	}
	if in.Threat, err = text("threat", in.Threat, 2000, false); err != nil {
		return in, err
	}
	if in.Vulnerability, err = text("vulnerability", in.Vulnerability, 2000, false); err != nil {
		return in, err
	}
	if err := s.rating("inherent_", in.InherentLikelihood, in.InherentImpact); err != nil {
		return in, err
	}
	if in.Likelihood == 0 && in.Impact == 0 {
		in.Likelihood, in.Impact = in.InherentLikelihood, in.InherentImpact
	}
	if err := s.rating("", in.Likelihood, in.Impact); err != nil {
		return in, err
	}
	if in.Owner, err = s.username(ctx, a, "owner", in.Owner, false); err != nil {
		return in, err
	}
	if in.Treatment != "" && !slices.Contains(Treatments, in.Treatment) {
		return in, problem.OneOf("treatment", Treatments...)
	}
	if len(in.AssetIDs) > 100 {
		return in, problem.Invalid("asset_ids", "at most 100 assets").WithMsg("risk.error.too_many_assets", 100)
	}
	ids := []int64{}
	for _, id := range in.AssetIDs {
		if id <= 0 {
			return in, problem.Invalid("asset_ids", "is not an asset id").WithMsg("risk.error.asset")
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	in.AssetIDs = ids
	return in, nil
}

func itoa(id int64) string { return strconv.FormatInt(id, 10) }
