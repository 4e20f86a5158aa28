// Package assess owns compliance assessments (合规评估): a hospital, or one of its business
// systems with its MLPS level, assessed against a control catalogue (MLPS 2.0 level 3,
// GB/T 39725, HIPAA). Each requirement item has a status (met, partly, not met, not
// applicable, unassessed) with note, assessor, date and history, and evidence: files
// (content-checked like incident evidence), links to platform records and the results
// of automatic checks run on the platform's own data (Check), each with an expiry. A
// gap becomes a risk through the register (the reader of module "assess_item" lives in
// internal/risksource). Progress — counts by status and the share met — is recorded on
// every change and by Sweep, which also re-runs the checks on a schedule.
//
// Every read and write is limited to the actor's subtree: another hospital's assessment
// is not found. Every change is in the trail.
package assess

import (
	"fmt"
	"strconv"
	"time"

	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

// The statuses of an item.
const (
	StatusMet           = "met"
	StatusPartly        = "partly"
	StatusNotMet        = "not_met"
	StatusNotApplicable = "not_applicable"
	StatusUnassessed    = "unassessed"
)

// Statuses lists the statuses of an item; each has a catalogue key
// "assess.status.<id>".
var Statuses = []string{StatusMet, StatusPartly, StatusNotMet, StatusNotApplicable, StatusUnassessed}

// Item is a requirement item of a catalogue as the catalogue adapter gives it: its id,
// its title and text by language ("zh-CN", "en"), the automatic checks that serve as its
// evidence, and its ancestors in the catalogue's tree, root first (for grouping).
type Item struct {
	ID      string
	Title   map[string]string
	Text    map[string]string
	Checks  []string
	Parents []Heading
}

// Heading is a node above an item in its catalogue (a category or a control point).
type Heading struct {
	ID    string
	Title map[string]string
}

// Catalogues gives the items of the embedded control catalogues (the integrator adapts
// internal/control). Items of an unknown catalogue is an error.
type Catalogues interface {
	Names() []string
	Items(catalogue string) ([]Item, error)
}

// In returns the text of m in lang, falling back to zh-CN, then English.
func In(m map[string]string, lang string) string {
	if v := m[lang]; v != "" {
		return v
	}
	if v := m[i18n.ZhCN]; v != "" {
		return v
	}
	return m[i18n.EN]
}

// Options configures a Service.
type Options struct {
	// MaxAttachment bounds an evidence file (default 20 MiB).
	MaxAttachment int64
	// FileValidity is how long an uploaded file or a link is evidence when no expiry is
	// given (default 365 days).
	FileValidity time.Duration
	// CheckValidity is how long an automatic check's result is evidence (default 7 days).
	CheckValidity time.Duration
	// RecheckEvery is how old the last run of an assessment's checks is before Sweep runs
	// them again (default 24 hours).
	RecheckEvery time.Duration
	// Period is how far back a check looks for activity ("a scan in the period"; default
	// 30 days).
	Period time.Duration
	// Checks are the automatic checks, by name; nil: none.
	Checks []Check
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Service keeps the assessments.
type Service struct {
	db     *store.DB
	trail  *trail.Log
	cats   Catalogues
	cat    *i18n.Catalog
	checks map[string]Check
	opt    Options
}

// New returns the assessments on db, with items from cats; changes are trailed in tl.
func New(db *store.DB, tl *trail.Log, cats Catalogues, opt Options) (*Service, error) {
	if cats == nil {
		return nil, fmt.Errorf("assess: no catalogues")
	}
	cat, err := i18n.Load()
	if err != nil {
		return nil, fmt.Errorf("assess: %w", err)
	}
	if opt.MaxAttachment <= 0 {
		opt.MaxAttachment = 20 << 20
	}
	if opt.FileValidity <= 0 {
		opt.FileValidity = 365 * 24 * time.Hour
	}
	if opt.CheckValidity <= 0 {
		opt.CheckValidity = 7 * 24 * time.Hour
	}
	if opt.RecheckEvery <= 0 {
		opt.RecheckEvery = 24 * time.Hour
	}
	if opt.Period <= 0 {
		opt.Period = 30 * 24 * time.Hour
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	checks := map[string]Check{}
	for _, c := range opt.Checks {
		if _, dup := checks[c.Name()]; dup {
			return nil, fmt.Errorf("assess: check %s given twice", c.Name())
		}
		checks[c.Name()] = c
	}
	return &Service{db: db, trail: tl, cats: cats, cat: cat, checks: checks, opt: opt}, nil
}

// Catalogues returns the catalogue adapter the service reads items from.
func (s *Service) Catalogues() Catalogues { return s.cats }

func (s *Service) now() time.Time { return s.opt.Now().UTC().Truncate(time.Microsecond) }

func itoa(id int64) string { return strconv.FormatInt(id, 10) }

// text checks a required or optional text field (problem.Text).
var text = problem.Text
