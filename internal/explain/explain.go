// Package explain classifies patient-record accesses the way the privacy products do
// (Maize EBAS; Fabbri & LeFevre, VLDB 2011): an access is explained by a filter (an open
// or recent encounter of the patient with the staff member or their department, the
// department of the patient's current stay, the account's own orders or notes), flagged
// by a relation (self, co-worker, family, neighbour, VIP, deceased, discharged long ago)
// or else unexplained. Each explanation carries its sentences as catalogue messages in
// zh-CN and English, never with patient data in their arguments.
//
// The Explainer keeps an in-memory snapshot of each organisation's reference data
// (package reference) and reloads it when the organisation's change counter moved,
// looked at no more than once per Options.CheckEvery; once loaded, Explain never
// queries the database per event.
package explain

import (
	"slices"
	"time"

	"github.com/medguard/medguard/internal/events"
	"github.com/medguard/medguard/internal/i18n"
)

// Classes.
const (
	Explained   = "explained"
	Flagged     = "flagged"
	Unexplained = "unexplained"
)

// Classes lists the classes in the order pages show them.
var Classes = []string{Explained, Flagged, Unexplained}

// Filters that explain an access.
const (
	FilterEncounterStaff      = "encounter_staff"
	FilterEncounterDepartment = "encounter_department"
	FilterCurrentStay         = "current_stay_department"
	FilterOwnOrders           = "own_orders"
)

// Flags.
const (
	FlagSelf       = "self"
	FlagCoworker   = "coworker"
	FlagFamily     = "family"
	FlagNeighbour  = "neighbour"
	FlagVIP        = "vip"
	FlagDeceased   = "deceased"
	FlagDischarged = "discharged"
)

// Flags lists every flag, in the order an Explanation lists them.
var Flags = []string{FlagSelf, FlagFamily, FlagCoworker, FlagNeighbour, FlagVIP, FlagDeceased, FlagDischarged}

// Explanation is the classification of one event.
type Explanation struct {
	Class  string   `json:"class"` // "" when the event is not a patient-record access
	Filter string   `json:"filter,omitempty"`
	Flags  []string `json:"flags,omitempty"`
	// Reasons are sentences (catalogue key + args, no patient data in args): the flags'
	// first, then the filter's or why none explains the access. The slice may be shared
	// between explanations: do not modify it (nor Flags, shared too).
	Reasons []i18n.Message `json:"reasons"`
}

// Has reports whether the explanation carries flag.
func (e Explanation) Has(flag string) bool { return slices.Contains(e.Flags, flag) }

// isAccessAction reports whether action reads or changes a patient's record (a switch:
// cheaper per event than a map).
func isAccessAction(action string) bool {
	switch action {
	case events.ActionView, events.ActionSearch, events.ActionCreate, events.ActionModify,
		events.ActionPrint, events.ActionExport, events.ActionPrescribe, events.ActionDelete:
		return true
	}
	return false
}

// isOrderAction reports whether action is one by which an account charts in or orders
// for a patient.
func isOrderAction(action string) bool {
	switch action {
	case events.ActionCreate, events.ActionModify, events.ActionPrescribe:
		return true
	}
	return false
}

// IsPatientAccess reports whether the event names a patient and its action reads or
// changes the record (view, search, create, modify, print, export, prescribe, delete).
func IsPatientAccess(ev *events.Event) bool {
	return ev != nil && ev.PatientID != "" && isAccessAction(ev.Action)
}

// Options configure an Explainer. Zero fields take the defaults.
type Options struct {
	// EncounterWindow is how long after its end an encounter still explains an access
	// (default 7 days).
	EncounterWindow time.Duration
	// DischargedAfter: an access with no filter to a patient whose last encounter ended
	// longer ago than this is flagged discharged (default 30 days).
	DischargedAfter time.Duration
	// CheckEvery is how often the reference data's change counter is read (default 1 s).
	CheckEvery time.Duration
	// OrderMemory is how long an account's own order or note is remembered to explain its
	// later accesses to the patient (default the events' default retention, what a
	// restart rebuilds from the stored events); it is counted back from the latest order
	// seen, and kept to within an eighth more.
	OrderMemory time.Duration
	// Now is the clock of the change checks, read on every Explain (nil: none is read; a
	// timer marks each check due CheckEvery after the previous one).
	Now func() time.Time
}

// Defaults of Options.
const (
	DefaultEncounterWindow = 7 * 24 * time.Hour
	DefaultDischargedAfter = 30 * 24 * time.Hour
	DefaultCheckEvery      = time.Second
)

func (o Options) withDefaults() Options {
	if o.EncounterWindow <= 0 {
		o.EncounterWindow = DefaultEncounterWindow
	}
	if o.DischargedAfter <= 0 {
		o.DischargedAfter = DefaultDischargedAfter
	}
	if o.CheckEvery <= 0 {
		o.CheckEvery = DefaultCheckEvery
	}
	if o.OrderMemory <= 0 {
		o.OrderMemory = events.DefaultRetention
	}
	return o
}

// Message keys of the reasons ("explain.reason.<filter or flag>").
const reasonPrefix = "explain.reason."

// Reason keys that are neither a filter nor a flag.
const (
	ReasonNoEncounter    = "explain.reason.no_encounter"    // never charted in nor ordered for this patient
	ReasonUnknownAccount = "explain.reason.unknown_account" // the account is in no staff list
	ReasonUnknownPatient = "explain.reason.unknown_patient" // the patient is in no patient list
)

// ReasonKey returns the catalogue key of the sentence of a filter or flag.
func ReasonKey(filterOrFlag string) string { return reasonPrefix + filterOrFlag }

// reason returns the sentence of a filter or flag. Department filters name the
// department (not patient data); discharged names the days.
func (x *Explainer) reason(what, dept string) i18n.Message {
	switch what {
	case FilterEncounterDepartment, FilterCurrentStay:
		return i18n.M(ReasonKey(what), dept)
	case FlagDischarged:
		return i18n.M(ReasonKey(what), int(x.opt.DischargedAfter/(24*time.Hour)))
	}
	return i18n.M(ReasonKey(what))
}
