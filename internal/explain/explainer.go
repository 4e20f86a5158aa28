package explain

import (
	"cmp"
	"context"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/medguard/medguard/internal/events"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/reference"
	"github.com/medguard/medguard/internal/strtab"
)

// Explainer classifies patient-record accesses from in-memory snapshots of each
// organisation's reference data. It is safe for concurrent use.
type Explainer struct {
	ref  *reference.Service
	opt  Options
	mu   sync.Mutex                          // serialises additions to orgs
	orgs atomic.Pointer[map[int64]*orgState] // copied on write: reads take no lock
	last atomic.Pointer[orgState]            // the state state returned last

	// Shared reason slices of the unexplained cases, by unknown account (1) | unknown
	// patient (2).
	unexplained [4][]i18n.Message
	// The flags of each set of flag bits and each flag's sentence, shared.
	flagSets    [1 << 7][]string
	flagReasons [7]i18n.Message
}

// orgState is what the Explainer holds for one organisation.
type orgState struct {
	org       int64
	loadMu    sync.Mutex // one load at a time
	snap      atomic.Pointer[snapshot]
	nextCheck atomic.Int64 // with Options.Now: UnixNano of the next look at the change counter
	due       atomic.Bool  // by default: the next look at the change counter is due
	armed     atomic.Bool  // the timer that sets due is running

	// orders is the memory of own orders and notes: by time bucket (orderBucket, an
	// eighth of OrderMemory wide), the earliest order of each account and patient in that
	// bucket, unix nanoseconds. A bucket is dropped whole once it ended OrderMemory before the latest
	// order seen, so the memory holds what the stored events could rebuild, not every
	// order since the process started.
	ordersMu sync.RWMutex
	orders   map[int64]map[orderKey]int64
	latest   int64 // the latest order seen, unix nanoseconds
}

type orderKey struct{ account, patient string }

// snapshot is one organisation's reference data, indexed for Explain: the hashes and
// staff identifiers that relations and encounters compare are interned into small
// integers when it is built, times are unix nanoseconds, so that classifying an access
// costs a map lookup by account (none through ExplainAccount's cache), a slot of the
// patient table and integer comparisons.
type snapshot struct {
	version        int64
	ids            *reference.Interner // staff identifiers and the surname, address and building hashes
	depts          *reference.Interner // departments
	staffByAccount map[string]*staff
	staffByID      map[string]*staff
	patients       *strtab.Table[patient] // by NormalizeID of the identifier (the patient in the slot)
	// Reasons of the explained cases without flags, shared.
	staffReasons []i18n.Message
	orderReasons []i18n.Message
	deptReasons  [][2][]i18n.Message // by department key: encounter_department, current stay
	// flagged holds the reasons of flagged accesses, made on first use and shared: by
	// flag bits × filter slot (see reasonSlot).
	flagged []atomic.Pointer[[]i18n.Message]
	slots   int
}

type staff struct {
	id, deptName string
	keys         reference.Keys
	dept         reference.Key
}

type patient struct {
	keys         reference.Keys
	vip          bool
	deceased     bool
	deceasedFrom int64       // the day after the death date, unix nanoseconds
	enc          []encounter // by start
}

type encounter struct {
	staff, dept reference.Key
	start, end  int64 // unix nanoseconds; end is meaningless while open
	open        bool  // no end
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
	for i, fl := range Flags {
		x.flagReasons[i] = x.reason(fl, "")
	}
	for bits := 1; bits < len(x.flagSets); bits++ {
		for i, fl := range Flags {
			if bits&(1<<i) != 0 {
				x.flagSets[bits] = append(x.flagSets[bits], fl)
			}
		}
	}
	return x
}

// state returns the state of organisation orgID, created empty when there is none.
func (x *Explainer) state(orgID int64) *orgState {
	if s := x.last.Load(); s != nil && s.org == orgID {
		return s // events come in runs of one organisation
	}
	if s := (*x.orgs.Load())[orgID]; s != nil {
		x.last.Store(s)
		return s
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	old := *x.orgs.Load()
	if s := old[orgID]; s != nil {
		return s
	}
	s := &orgState{org: orgID, orders: map[int64]map[orderKey]int64{}}
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
	if sn != nil {
		if !x.checkDue(s) {
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
	first := sn == nil
	sn = x.build(d)
	s.snap.Store(sn)
	if x.opt.Now != nil {
		s.nextCheck.Store(x.opt.Now().UnixNano() + int64(x.opt.CheckEvery))
	} else if first {
		x.arm(s)
	}
	return sn, nil
}

// checkDue reports whether it is time to look at the change counter of s, claiming the
// look for one caller. With Options.Now, it reads that clock; by default a timer marks
// the look due CheckEvery after the last, so that Explain reads no clock at all.
func (x *Explainer) checkDue(s *orgState) bool {
	if x.opt.Now == nil {
		if !s.due.Load() || !s.due.CompareAndSwap(true, false) {
			return false
		}
		x.arm(s)
		return true
	}
	now := x.opt.Now().UnixNano()
	next := s.nextCheck.Load()
	return now >= next && s.nextCheck.CompareAndSwap(next, now+int64(x.opt.CheckEvery))
}

// arm starts the timer that marks the next look at s's change counter due, unless one
// is running. Once it fired, the next Explain of the organisation arms the next: an
// organisation no event names holds no timer.
func (x *Explainer) arm(s *orgState) {
	if s.armed.CompareAndSwap(false, true) {
		time.AfterFunc(x.opt.CheckEvery, func() {
			s.armed.Store(false)
			s.due.Store(true)
		})
	}
}

// Warm loads the reference data of every organisation that has some, so that the first
// access explained after a start does not wait for it (at 1,500 staff, 15,000 patients
// and 55,000 encounters the load took half a second, in the live detection's step).
// An Explain meanwhile waits for the load under way instead of starting another.
func (x *Explainer) Warm(ctx context.Context) error {
	orgs, err := x.ref.Orgs(ctx)
	if err != nil {
		return err
	}
	for _, org := range orgs {
		if _, err := x.snapshot(ctx, org, x.state(org)); err != nil {
			return err
		}
	}
	return nil
}

// Reload makes the next Explain of orgID look at the change counter at once.
func (x *Explainer) Reload(orgID int64) {
	s := x.state(orgID)
	s.nextCheck.Store(0)
	s.due.Store(true)
}

func (x *Explainer) build(d *reference.Data) *snapshot {
	sn := &snapshot{
		version:        d.Version,
		ids:            reference.NewInterner(),
		depts:          reference.NewInterner(),
		staffByAccount: make(map[string]*staff, len(d.Staff)),
		staffByID:      make(map[string]*staff, len(d.Staff)),
		patients:       strtab.New[patient](len(d.Patients)),
		staffReasons:   []i18n.Message{x.reason(FilterEncounterStaff, "")},
		orderReasons:   []i18n.Message{x.reason(FilterOwnOrders, "")},
		deptReasons:    [][2][]i18n.Message{{}}, // NoKey: no department
	}
	dept := func(name string) reference.Key {
		k := sn.depts.Intern(name)
		if int(k) == len(sn.deptReasons) {
			sn.deptReasons = append(sn.deptReasons, [2][]i18n.Message{
				{x.reason(FilterEncounterDepartment, name)}, {x.reason(FilterCurrentStay, name)}})
		}
		return k
	}
	for i := range d.Staff {
		rs := &d.Staff[i]
		st := &staff{id: rs.StaffID, deptName: rs.Department, keys: sn.ids.StaffKeys(*rs), dept: dept(rs.Department)}
		sn.staffByID[rs.StaffID] = st
		if rs.Account != "" {
			if _, dup := sn.staffByAccount[rs.Account]; !dup { // staff_id order: the first wins, like StaffByAccount
				sn.staffByAccount[rs.Account] = st
			}
		}
	}
	// The patients and, in one array, their encounters (each patient's a run of it):
	// an access reads the patient from the table's slot and the encounters next to each
	// other, not from scattered allocations.
	pats := make([]patient, len(d.Patients))
	byHash := make(map[string]int, len(d.Patients))
	for i := range d.Patients {
		lp := &d.Patients[i]
		p := &pats[i]
		*p = patient{keys: sn.ids.PatientKeys(lp.Patient), vip: lp.VIP}
		if lp.DeceasedOn != "" {
			if day, err := time.ParseInLocation(time.DateOnly, lp.DeceasedOn, reference.Shanghai); err == nil {
				p.deceased, p.deceasedFrom = true, day.AddDate(0, 0, 1).UnixNano()
			}
		}
		byHash[lp.Hash] = i
	}
	counts := make([]int, len(pats))
	total := 0
	for _, e := range d.Encounters {
		if i, ok := byHash[e.PatientHash]; ok {
			counts[i]++
			total++
		}
	}
	arena := make([]encounter, total)
	off := 0
	for i := range pats {
		pats[i].enc = arena[off : off : off+counts[i]]
		off += counts[i]
	}
	for _, e := range d.Encounters {
		i, ok := byHash[e.PatientHash]
		if !ok {
			continue // an encounter of a patient not (yet) in the patient list
		}
		name := e.Department
		if name == "" {
			if st := sn.staffByID[e.StaffID]; st != nil {
				name = st.deptName
			}
		}
		en := encounter{staff: sn.ids.Intern(e.StaffID), dept: dept(name), start: e.Start.UnixNano(), open: e.End == nil}
		if e.End != nil {
			en.end = e.End.UnixNano()
		}
		pats[i].enc = append(pats[i].enc, en) // within its run: the capacity was counted
	}
	for i := range pats {
		slices.SortStableFunc(pats[i].enc, func(a, b encounter) int { return cmp.Compare(a.start, b.start) })
		if p, _ := sn.patients.Put(d.Patients[i].ID); p != nil { // the last of an identifier wins, as in a map
			*p = pats[i]
		}
	}
	sn.slots = 6 + 2*len(sn.deptReasons)
	sn.flagged = make([]atomic.Pointer[[]i18n.Message], (1<<len(Flags))*sn.slots)
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
// event, live and on replay. An order explains the accesses after it, not itself, for
// Options.OrderMemory.
func (x *Explainer) Observe(orgID int64, ev *events.Event) {
	if ev == nil || ev.PatientID == "" || !isOrderAction(ev.Action) || ev.Outcome == events.OutcomeFailure || ev.Account == "" {
		return
	}
	s := x.state(orgID)
	k := orderKey{account: ev.Account, patient: normID(ev.PatientID)}
	t := ev.Time.UnixNano()
	bucket := x.orderBucket(t)
	s.ordersMu.RLock()
	old, ok := s.orders[bucket][k]
	s.ordersMu.RUnlock()
	if ok && t >= old {
		return
	}
	s.ordersMu.Lock()
	defer s.ordersMu.Unlock()
	if t < s.latest-int64(x.opt.OrderMemory) {
		return // older than what is remembered
	}
	m := s.orders[bucket]
	if m == nil {
		m = map[orderKey]int64{}
		s.orders[bucket] = m
	}
	if old, ok := m[k]; !ok || t < old {
		m[k] = t
	}
	if t > s.latest {
		s.latest = t
		for b := range s.orders {
			if (b+1)*x.bucketNanos() <= t-int64(x.opt.OrderMemory) {
				delete(s.orders, b)
			}
		}
	}
}

// bucketNanos is the width of a bucket of the order memory: an eighth of OrderMemory.
func (x *Explainer) bucketNanos() int64 { return max(int64(x.opt.OrderMemory)/8, 1) }

// orderBucket is the bucket of the order memory a time (unix nanoseconds) falls in.
func (x *Explainer) orderBucket(t int64) int64 { return t / x.bucketNanos() }

// ordered reports whether account k ordered or charted for its patient before t (unix
// nanoseconds), as far as the order memory holds.
func (s *orgState) ordered(k orderKey, t int64) bool {
	s.ordersMu.RLock()
	defer s.ordersMu.RUnlock()
	for _, m := range s.orders {
		if first, ok := m[k]; ok && first < t {
			return true
		}
	}
	return false
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
	return x.classify(sn, s, ev, sn.staffByAccount[ev.Account]), nil
}

// AccountCache is what an Explainer found of one account of one organisation in the
// snapshot it last used: a caller that keeps one per account (the rule engine) saves
// ExplainAccount the lookup of the account in the staff list. The zero value is empty.
type AccountCache struct {
	sn *snapshot
	st staff // a copy of staffByAccount's in sn, held where the caller keeps the account
	ok bool  // the account is in sn's staff list
}

// ExplainAccount is Explain for an event of the account c caches (c is kept by the
// caller per organisation and account; an Explain of another account through it is
// wrong). c is filled or refreshed when the snapshot changed.
func (x *Explainer) ExplainAccount(ctx context.Context, orgID int64, ev *events.Event, c *AccountCache) (Explanation, error) {
	if !IsPatientAccess(ev) {
		return Explanation{}, nil
	}
	s := x.state(orgID)
	sn, err := x.snapshot(ctx, orgID, s)
	if err != nil {
		return Explanation{}, err
	}
	if c.sn != sn {
		c.sn, c.st, c.ok = sn, staff{}, false
		if st := sn.staffByAccount[ev.Account]; st != nil {
			c.st, c.ok = *st, true
		}
	}
	var st *staff
	if c.ok {
		st = &c.st
	}
	return x.classify(sn, s, ev, st), nil
}

// Filter slots of the shared reasons of flagged accesses: staff encounter, own
// orders, the four unexplained cases, then two per department (encounter, stay).
const (
	slotStaff       = 0
	slotOrders      = 1
	slotUnexplained = 2
	slotDept        = 6
)

// classify classifies ev in sn; st is the staff member of ev's account (nil: none).
func (x *Explainer) classify(sn *snapshot, s *orgState, ev *events.Event, st *staff) Explanation {
	if st == nil && ev.StaffID != "" {
		st = sn.staffByID[ev.StaffID]
	}
	var who reference.Keys // the reader as Relate sees them
	var dept reference.Key
	if st != nil {
		who, dept = st.keys, st.dept
	} else {
		// Neither the account nor the staff identifier is in the staff list: what the
		// event says, which matches what the snapshot holds of it (if anything).
		who.StaffID, dept = sn.ids.Lookup(ev.StaffID), sn.depts.Lookup(ev.Department)
	}
	pid := normID(ev.PatientID)
	p := sn.patients.Get(pid)
	t := ev.Time.UnixNano()

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
			if p.enc[m].start <= t {
				lo = m + 1
			} else {
				hi = m
			}
		}
		openNow := false
		var lastEnd int64
		hasEnd := false
		window := int64(x.opt.EncounterWindow)
		for i := lo - 1; i >= 0 && best != byStaff; i-- {
			e := &p.enc[i]
			open := e.open || e.end >= t
			if open {
				openNow = true
			} else if !hasEnd || e.end > lastEnd {
				lastEnd, hasEnd = e.end, true
			}
			if !open && t-e.end > window {
				continue
			}
			switch {
			case who.StaffID != reference.NoKey && e.staff == who.StaffID:
				best = byStaff
			case dept != reference.NoKey && e.dept == dept && open:
				best = max(best, byStay)
			case dept != reference.NoKey && e.dept == dept:
				best = max(best, byDept)
			}
		}
		if best == none && !openNow && hasEnd && t-lastEnd > int64(x.opt.DischargedAfter) {
			bits |= bDischarged
		}
		f := reference.RelateKeys(who, p.keys)
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
		if p.vip {
			bits |= bVIP
		}
		if p.deceased && t >= p.deceasedFrom {
			bits |= bDeceased
		}
	}
	ownOrders := false
	if best == none && ev.Account != "" {
		ownOrders = s.ordered(orderKey{account: ev.Account, patient: pid}, t)
		if ownOrders {
			bits &^= bDischarged
		}
	}

	var ex Explanation
	var filterReasons []i18n.Message
	var slot int
	switch {
	case best == byStaff:
		ex.Filter, filterReasons, slot = FilterEncounterStaff, sn.staffReasons, slotStaff
	case best == byStay || best == byDept:
		// dept matched an encounter's department: it is in the snapshot.
		ex.Filter = FilterCurrentStay
		if best == byDept {
			ex.Filter = FilterEncounterDepartment
		}
		filterReasons = sn.deptReasons[dept][best-byDept]
		slot = slotDept + 2*int(dept) + best - byDept
	case ownOrders:
		ex.Filter, filterReasons, slot = FilterOwnOrders, sn.orderReasons, slotOrders
	default:
		u := 0
		if st == nil {
			u |= 1
		}
		if p == nil {
			u |= 2
		}
		filterReasons, slot = x.unexplained[u], slotUnexplained+u
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
	ex.Flags = x.flagSets[bits]
	ex.Reasons = sn.flaggedReasons(x, bits, slot, filterReasons)
	return ex
}

// flaggedReasons returns the reasons of an access with flag bits and the filter (or
// unexplained case) of slot: the flags' sentences, then filterReasons; made once per
// snapshot and shared.
func (sn *snapshot) flaggedReasons(x *Explainer, bits, slot int, filterReasons []i18n.Message) []i18n.Message {
	c := &sn.flagged[bits*sn.slots+slot]
	if r := c.Load(); r != nil {
		return *r
	}
	r := make([]i18n.Message, 0, len(x.flagSets[bits])+len(filterReasons))
	for i := range Flags {
		if bits&(1<<i) != 0 {
			r = append(r, x.flagReasons[i])
		}
	}
	r = append(r, filterReasons...)
	c.Store(&r)
	return r
}
