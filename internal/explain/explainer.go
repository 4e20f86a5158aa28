package explain

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/medguard/medguard/internal/events"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/reference"
)

// Explainer classifies patient-record accesses from in-memory snapshots of each
// organisation's reference data. It is safe for concurrent use.
type Explainer struct {
	ref  *reference.Service
	opt  Options
	mu   sync.Mutex                          // serialises additions to orgs
	orgs atomic.Pointer[map[int64]*orgState] // copied on write: reads take no lock

	// Shared reason slices of the unexplained cases, by unknown account (1) | unknown
	// patient (2).
	unexplained [4][]i18n.Message
}

// orgState is what the Explainer holds for one organisation.
type orgState struct {
	loadMu    sync.Mutex // one load at a time
	snap      atomic.Pointer[snapshot]
	nextCheck atomic.Int64 // UnixNano of the next look at the change counter

	ordersMu sync.RWMutex
	orders   map[orderKey]time.Time // earliest own order or note, by account and patient
}

type orderKey struct{ account, patient string }

// snapshot is one organisation's reference data, indexed for Explain.
type snapshot struct {
	version        int64
	staffByAccount map[string]*reference.Staff
	staffByID      map[string]*reference.Staff
	patients       map[string]*patient // by NormalizeID of the identifier
	// Reasons of the explained cases without flags, shared.
	staffReasons []i18n.Message
	orderReasons []i18n.Message
	deptReasons  map[string]*[2][]i18n.Message // department → encounter_department, current stay
}

type patient struct {
	reference.Patient
	deceasedFrom time.Time   // the day after the death date (zero: alive)
	enc          []encounter // by start
}

type encounter struct {
	staffID, dept string
	start, end    time.Time
	open          bool // no end
}

// New returns an Explainer reading reference data from ref.
func New(ref *reference.Service, opt Options) *Explainer {
	x := &Explainer{ref: ref, opt: opt.withDefaults()}
	m := map[int64]*orgState{}
	x.orgs.Store(&m)
	noEnc := i18n.M(ReasonNoEncounter)
	x.unexplained[0] = []i18n.Message{noEnc}
	x.unexplained[1] = []i18n.Message{i18n.M(ReasonUnknownAccount), noEnc}
	x.unexplained[2] = []i18n.Message{i18n.M(ReasonUnknownPatient), noEnc}
	x.unexplained[3] = []i18n.Message{i18n.M(ReasonUnknownAccount), i18n.M(ReasonUnknownPatient), noEnc}
	return x
}

// state returns the state of organisation orgID, created empty when there is none.
func (x *Explainer) state(orgID int64) *orgState {
	if s := (*x.orgs.Load())[orgID]; s != nil {
		return s
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	old := *x.orgs.Load()
	if s := old[orgID]; s != nil {
		return s
	}
	s := &orgState{orders: map[orderKey]time.Time{}}
	m := make(map[int64]*orgState, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	m[orgID] = s
	x.orgs.Store(&m)
	return s
}

// snapshot returns the current snapshot of orgID: loaded on first use, reloaded when
// the change counter moved (looked at once per CheckEvery). A failed look keeps the
// snapshot in use and is logged; a failed first load is returned.
func (x *Explainer) snapshot(ctx context.Context, orgID int64, s *orgState) (*snapshot, error) {
	sn := s.snap.Load()
	now := x.opt.Now().UnixNano()
	if sn != nil {
		next := s.nextCheck.Load()
		if now < next || !s.nextCheck.CompareAndSwap(next, now+int64(x.opt.CheckEvery)) {
			return sn, nil
		}
		v, err := x.ref.Version(ctx, orgID)
		if err != nil {
			slog.Warn("explain: reference data version", "org_id", orgID, "err", err)
			return sn, nil
		}
		if v == sn.version {
			return sn, nil
		}
	}
	s.loadMu.Lock()
	defer s.loadMu.Unlock()
	if cur := s.snap.Load(); cur != sn && cur != nil {
		return cur, nil // another caller loaded it meanwhile
	}
	d, err := x.ref.Load(ctx, orgID)
	if err != nil {
		if sn != nil {
			slog.Warn("explain: reload reference data", "org_id", orgID, "err", err)
			return sn, nil
		}
		return nil, err
	}
	sn = x.build(d)
	s.snap.Store(sn)
	s.nextCheck.Store(now + int64(x.opt.CheckEvery))
	return sn, nil
}

// Reload makes the next Explain of orgID look at the change counter at once.
func (x *Explainer) Reload(orgID int64) { x.state(orgID).nextCheck.Store(0) }

func (x *Explainer) build(d *reference.Data) *snapshot {
	sn := &snapshot{
		version:        d.Version,
		staffByAccount: make(map[string]*reference.Staff, len(d.Staff)),
		staffByID:      make(map[string]*reference.Staff, len(d.Staff)),
		patients:       make(map[string]*patient, len(d.Patients)),
		staffReasons:   []i18n.Message{x.reason(FilterEncounterStaff, "")},
		orderReasons:   []i18n.Message{x.reason(FilterOwnOrders, "")},
		deptReasons:    map[string]*[2][]i18n.Message{},
	}
	addDept := func(dept string) {
		if dept != "" && sn.deptReasons[dept] == nil {
			sn.deptReasons[dept] = &[2][]i18n.Message{
				{x.reason(FilterEncounterDepartment, dept)}, {x.reason(FilterCurrentStay, dept)}}
		}
	}
	for i := range d.Staff {
		st := &d.Staff[i]
		sn.staffByID[st.StaffID] = st
		if st.Account != "" {
			if _, dup := sn.staffByAccount[st.Account]; !dup { // staff_id order: the first wins, like StaffByAccount
				sn.staffByAccount[st.Account] = st
			}
		}
		addDept(st.Department)
	}
	byHash := make(map[string]*patient, len(d.Patients))
	for i := range d.Patients {
		lp := &d.Patients[i]
		p := &patient{Patient: lp.Patient}
		if lp.DeceasedOn != "" {
			if day, err := time.ParseInLocation(time.DateOnly, lp.DeceasedOn, reference.Shanghai); err == nil {
				p.deceasedFrom = day.AddDate(0, 0, 1)
			}
		}
		sn.patients[lp.ID] = p
		byHash[lp.Hash] = p
	}
	for _, e := range d.Encounters {
		p := byHash[e.PatientHash]
		if p == nil {
			continue // an encounter of a patient not (yet) in the patient list
		}
		dept := e.Department
		if dept == "" {
			if st := sn.staffByID[e.StaffID]; st != nil {
				dept = st.Department
			}
		}
		addDept(dept)
		en := encounter{staffID: e.StaffID, dept: dept, start: e.Start, open: e.End == nil}
		if e.End != nil {
			en.end = *e.End
		}
		p.enc = append(p.enc, en)
	}
	for _, p := range byHash {
		slices.SortStableFunc(p.enc, func(a, b encounter) int { return a.start.Compare(b.start) })
	}
	return sn
}

// normID returns NormalizeID(id), without allocating when id is already normalized
// (printable ASCII, no space, no lower case), as identifiers mostly are.
func normID(id string) string {
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c >= 0x7f || (c >= 'a' && c <= 'z') {
			return reference.NormalizeID(id)
		}
	}
	return id
}

// Observe records what explains later accesses: an account's own orders and notes
// (create, modify, prescribe on a patient, successful). The engine calls it for every
// event, live and on replay. An order explains the accesses after it, not itself.
func (x *Explainer) Observe(orgID int64, ev *events.Event) {
	if ev == nil || ev.PatientID == "" || !orderActions[ev.Action] || ev.Outcome == events.OutcomeFailure || ev.Account == "" {
		return
	}
	s := x.state(orgID)
	k := orderKey{account: ev.Account, patient: normID(ev.PatientID)}
	s.ordersMu.RLock()
	old, ok := s.orders[k]
	s.ordersMu.RUnlock()
	if ok && !ev.Time.Before(old) {
		return
	}
	s.ordersMu.Lock()
	if old, ok := s.orders[k]; !ok || ev.Time.Before(old) {
		s.orders[k] = ev.Time
	}
	s.ordersMu.Unlock()
}

// Flag bits.
const (
	bSelf = 1 << iota
	bFamily
	bCoworker
	bNeighbour
	bVIP
	bDeceased
	bDischarged
)

// Explain classifies ev of organisation orgID from in-memory snapshots of the reference
// data (loaded on first use, reloaded when the organisation's reference data changed);
// it never queries the database per event once the snapshot is loaded. An event that
// is no patient-record access gets the zero Explanation.
func (x *Explainer) Explain(ctx context.Context, orgID int64, ev *events.Event) (Explanation, error) {
	if !IsPatientAccess(ev) {
		return Explanation{}, nil
	}
	s := x.state(orgID)
	sn, err := x.snapshot(ctx, orgID, s)
	if err != nil {
		return Explanation{}, err
	}
	return x.classify(sn, s, ev), nil
}

func (x *Explainer) classify(sn *snapshot, s *orgState, ev *events.Event) Explanation {
	st := sn.staffByAccount[ev.Account]
	if st == nil && ev.StaffID != "" {
		st = sn.staffByID[ev.StaffID]
	}
	staffID, dept := ev.StaffID, ev.Department
	if st != nil {
		staffID, dept = st.StaffID, st.Department
	}
	pid := normID(ev.PatientID)
	p := sn.patients[pid]
	t := ev.Time

	const (
		none = iota
		byDept
		byStay
		byStaff
	)
	best := none
	var bits int
	if p != nil {
		// Encounters that had started by t, latest first.
		lo, hi := 0, len(p.enc)
		for lo < hi {
			m := int(uint(lo+hi) >> 1)
			if !p.enc[m].start.After(t) {
				lo = m + 1
			} else {
				hi = m
			}
		}
		openNow := false
		var lastEnd time.Time
		for i := lo - 1; i >= 0 && best != byStaff; i-- {
			e := &p.enc[i]
			open := e.open || !e.end.Before(t)
			if open {
				openNow = true
			} else if e.end.After(lastEnd) {
				lastEnd = e.end
			}
			if !open && t.Sub(e.end) > x.opt.EncounterWindow {
				continue
			}
			switch {
			case staffID != "" && e.staffID == staffID:
				best = byStaff
			case dept != "" && e.dept == dept && open:
				best = max(best, byStay)
			case dept != "" && e.dept == dept:
				best = max(best, byDept)
			}
		}
		if best == none && !openNow && !lastEnd.IsZero() && t.Sub(lastEnd) > x.opt.DischargedAfter {
			bits |= bDischarged
		}
		var f reference.Flags
		if st != nil {
			f = reference.Relate(*st, p.Patient)
		} else {
			f = reference.Relate(reference.Staff{StaffID: staffID}, p.Patient)
		}
		if f.Self {
			bits |= bSelf
		}
		if f.Family {
			bits |= bFamily
		}
		if f.CoWorker {
			bits |= bCoworker
		}
		if f.Neighbour {
			bits |= bNeighbour
		}
		if p.VIP {
			bits |= bVIP
		}
		if !p.deceasedFrom.IsZero() && !t.Before(p.deceasedFrom) {
			bits |= bDeceased
		}
	}
	ownOrders := false
	if best == none && ev.Account != "" {
		s.ordersMu.RLock()
		first, ok := s.orders[orderKey{account: ev.Account, patient: pid}]
		s.ordersMu.RUnlock()
		ownOrders = ok && first.Before(t)
		if ownOrders {
			bits &^= bDischarged
		}
	}

	var ex Explanation
	var filterReasons []i18n.Message
	switch {
	case best == byStaff:
		ex.Filter, filterReasons = FilterEncounterStaff, sn.staffReasons
	case best == byStay || best == byDept:
		ex.Filter = FilterCurrentStay
		if best == byDept {
			ex.Filter = FilterEncounterDepartment
		}
		if r := sn.deptReasons[dept]; r != nil {
			filterReasons = r[best-byDept]
		} else {
			filterReasons = []i18n.Message{x.reason(ex.Filter, dept)}
		}
	case ownOrders:
		ex.Filter, filterReasons = FilterOwnOrders, sn.orderReasons
	default:
		u := 0
		if st == nil {
			u |= 1
		}
		if p == nil {
			u |= 2
		}
		filterReasons = x.unexplained[u]
	}
	switch {
	case bits&(bSelf|bFamily) != 0:
		ex.Class = Flagged
	case ex.Filter != "":
		ex.Class = Explained
	case bits != 0:
		ex.Class = Flagged
	default:
		ex.Class = Unexplained
	}
	if bits == 0 {
		ex.Reasons = filterReasons
		return ex
	}
	ex.Flags = make([]string, 0, 4)
	ex.Reasons = make([]i18n.Message, 0, 4+len(filterReasons))
	for i, fl := range Flags {
		if bits&(1<<i) != 0 {
			ex.Flags = append(ex.Flags, fl)
			ex.Reasons = append(ex.Reasons, x.reason(fl, ""))
		}
	}
	ex.Reasons = append(ex.Reasons, filterReasons...)
	return ex
}
