package detect

import (
	"slices"

	"github.com/medguard/medguard/internal/events"
	"github.com/medguard/medguard/internal/explain"
)

// Field indexes, in the order of Fields.
const (
	fSystem = iota
	fAccount
	fStaffID
	fDepartment
	fAction
	fOutcome
	fPatientID
	fRecordType
	fSourceIP
	fTerminal
	numFields
)

func fieldIndex(name string) int { return slices.Index(Fields, name) }

// fieldOf returns field f of ev without allocating.
func fieldOf(ev *events.Event, f int) string {
	switch f {
	case fSystem:
		return ev.System
	case fAccount:
		return ev.Account
	case fStaffID:
		return ev.StaffID
	case fDepartment:
		return ev.Department
	case fAction:
		return ev.Action
	case fOutcome:
		if ev.Outcome == "" {
			return events.OutcomeSuccess
		}
		return ev.Outcome
	case fPatientID:
		return ev.PatientID
	case fRecordType:
		return ev.RecordType
	case fSourceIP:
		return ev.SourceIP
	case fTerminal:
		return ev.Terminal
	}
	return ""
}

// numActions is the number of actions; actionIndex maps an action to 0..numActions-1
// (-1 for an unknown one).
var numActions = len(events.Actions())

func actionIndex(a string) int {
	switch a {
	case events.ActionLogin:
		return 0
	case events.ActionLogout:
		return 1
	case events.ActionLoginFailure:
		return 2
	case events.ActionView:
		return 3
	case events.ActionSearch:
		return 4
	case events.ActionCreate:
		return 5
	case events.ActionModify:
		return 6
	case events.ActionPrint:
		return 7
	case events.ActionExport:
		return 8
	case events.ActionDelete:
		return 9
	case events.ActionPrescribe:
		return 10
	case events.ActionQueryDrugUsage:
		return 11
	case events.ActionPrivilegeChange:
		return 12
	}
	return -1
}

// cond is one field condition: the field's value is one of vals.
type cond struct {
	field int
	one   string   // the value, when there is one
	set   []string // the values, when there are several
	any   map[string]struct{}
}

func (c *cond) holds(ev *events.Event) bool {
	v := fieldOf(ev, c.field)
	switch {
	case c.any != nil:
		_, ok := c.any[v]
		return ok
	case c.set != nil:
		return slices.Contains(c.set, v)
	}
	return v == c.one
}

// matcher is a compiled Match.
type matcher struct {
	conds            []cond
	gte, lte         int
	hasGTE, hasLTE   bool
	patient          int8 // 1: a patient access; -1: not one
	classes, flags   []string
	flagMask         uint32 // flags as bits (flagMask): a flag no explanation carries has none
	not              *matcher
	needsExplanation bool
	always           bool   // no condition at all: every event the rule's index gives it holds
	unindexed        []cond // conds but those the engine's index tests (set by unindex)
}

func compileMatch(m *Match) *matcher {
	if m == nil {
		return nil
	}
	c := &matcher{classes: m.Explanation, flags: m.Flags, flagMask: flagMask(m.Flags), needsExplanation: m.needsExplanation()}
	// Cheap, selective conditions first: action, outcome, record type, system.
	order := []int{fAction, fOutcome, fRecordType, fSystem, fDepartment, fAccount, fStaffID, fTerminal, fSourceIP, fPatientID}
	for _, f := range order {
		vs, ok := m.Fields[Fields[f]]
		if !ok {
			continue
		}
		cd := cond{field: f}
		switch {
		case len(vs) == 1:
			cd.one = vs[0]
		case len(vs) <= 8:
			cd.set = slices.Clone(vs)
		default:
			cd.any = make(map[string]struct{}, len(vs))
			for _, v := range vs {
				cd.any[v] = struct{}{}
			}
		}
		c.conds = append(c.conds, cd)
	}
	if m.RecordCountGTE != nil {
		c.gte, c.hasGTE = *m.RecordCountGTE, true
	}
	if m.RecordCountLTE != nil {
		c.lte, c.hasLTE = *m.RecordCountLTE, true
	}
	if m.Patient != nil {
		c.patient = -1
		if *m.Patient {
			c.patient = 1
		}
	}
	c.not = compileMatch(m.Not)
	c.always = len(c.conds) == 0 && !c.hasGTE && !c.hasLTE && c.patient == 0 && len(c.classes) == 0 && len(c.flags) == 0 && c.not == nil
	return c
}

// actions returns the action indexes m can match (nil: every action).
func (m *matcher) actions() []int {
	if m == nil {
		return nil
	}
	for _, c := range m.conds {
		if c.field != fAction {
			continue
		}
		var out []int
		vals := c.set
		if c.set == nil && c.any == nil {
			vals = []string{c.one}
		}
		for v := range c.any {
			vals = append(vals, v)
		}
		for _, v := range vals {
			if i := actionIndex(v); i >= 0 {
				out = append(out, i)
			}
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	return nil
}

// systems returns the systems m can match (nil: every system).
func (m *matcher) systems() []string {
	if m == nil {
		return nil
	}
	for _, c := range m.conds {
		if c.field != fSystem {
			continue
		}
		if c.set == nil && c.any == nil {
			return []string{c.one}
		}
		out := slices.Clone(c.set)
		for v := range c.any {
			out = append(out, v)
		}
		return out
	}
	return nil
}

// patientActions is the set of actions (bits of actionIndex) of a patient-record
// access: those explain.IsPatientAccess accepts, computed from it.
var patientActions = func() uint32 {
	var m uint32
	for _, a := range events.Actions() {
		if explain.IsPatientAccess(&events.Event{Action: a, PatientID: "P"}) {
			m |= 1 << actionIndex(a)
		}
	}
	return m
}()

// match reports whether ev holds m. x supplies the explanation when a condition needs it.
func (m *matcher) match(ev *events.Event, x *evalState) bool {
	if m == nil {
		return true
	}
	return m.matchConds(m.conds, ev, x)
}

// matchCandidate is match for an event the engine's index gave the rule of m: its
// action and system conditions, which the index already tested, are not tested again.
func (m *matcher) matchCandidate(ev *events.Event, x *evalState) bool {
	return m.matchConds(m.unindexed, ev, x)
}

// unindex sets m.unindexed: m's conditions but those on the action (when the rule is
// indexed by action: actions is not nil) and the system (when indexed by system).
func (m *matcher) unindex(actions []int, systems []string) {
	m.unindexed = nil
	for _, c := range m.conds {
		if (c.field == fAction && actions != nil) || (c.field == fSystem && systems != nil) {
			continue
		}
		m.unindexed = append(m.unindexed, c)
	}
}

// matchConds is match with conds in place of m.conds.
func (m *matcher) matchConds(conds []cond, ev *events.Event, x *evalState) bool {
	for i := range conds {
		if !conds[i].holds(ev) {
			return false
		}
	}
	if m.hasGTE && ev.RecordCount < m.gte {
		return false
	}
	if m.hasLTE && ev.RecordCount > m.lte {
		return false
	}
	if m.patient != 0 && (m.patient == 1) != x.patient {
		return false
	}
	if len(m.classes) > 0 || len(m.flags) > 0 {
		e, ok := x.explanation(ev)
		if !ok {
			return false
		}
		if len(m.classes) > 0 && !slices.Contains(m.classes, e.Class) {
			return false
		}
		if len(m.flags) > 0 && x.flagBits()&m.flagMask == 0 {
			return false
		}
	}
	if m.not != nil && m.not.match(ev, x) {
		return false
	}
	return true
}
