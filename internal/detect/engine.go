package detect

import (
	"cmp"
	"context"
	"fmt"
	"hash/maphash"
	"net/netip"
	"slices"
	"time"

	"github.com/medguard/medguard/internal/events"
	"github.com/medguard/medguard/internal/explain"
	"github.com/medguard/medguard/internal/strtab"
)

// maxEvidence is how many event ids a hit carries at most (the most recent).
const maxEvidence = 50

// sweepEvery is how many evaluated events pass between two sweeps of idle groups.
const sweepEvery = 1 << 16

// crule is a compiled rule with its window state.
type crule struct {
	idx       int
	r         *Rule
	kind      kindN // r.Kind as a number (a switch on it is a jump table)
	m         *matcher
	steps     []*matcher
	counts    []int // per step, at least 1
	groupF    []int
	groupN    []string
	distinctF int
	field     int
	window    int64 // sliding window (count, distinct, sequence)
	quiet     int64 // how long a group stays quiet after a hit
	horizon   int64 // how long an idle group is kept
	lookback  int64
	learning  int64
	idle      int64
	hourFrom  int
	hourTo    int
	hasHours  bool
	class     string
	flags     []string
	flagMask  uint32
	explains  bool // needs the explanation (relation, or a match on it)
	byAccount bool // groups by account alone: its groups are cached per account (Engine.accounts)
	acctSlot  int  // byAccount: the index of its group in account.groups
	groups    groupMap
	actions   []int    // dispatch: nil every action
	systems   []string // dispatch: nil every system
	threshold int
}

// kindN is a rule kind as a number.
type kindN uint8

// Kinds as numbers (kUnknown for a kind the engine does not know: it does nothing).
const (
	kUnknown kindN = iota
	kCount
	kDistinct
	kSequence
	kTimeOfDay
	kFirstSeen
	kDormant
	kRelation
	kZone
	kBastion
	kMatch
)

// kindNumber returns the number of kind k.
func kindNumber(k string) kindN {
	switch k {
	case KindCount:
		return kCount
	case KindDistinct:
		return kDistinct
	case KindSequence:
		return kSequence
	case KindTimeOfDay:
		return kTimeOfDay
	case KindFirstSeen:
		return kFirstSeen
	case KindDormant:
		return kDormant
	case KindRelation:
		return kRelation
	case KindZone:
		return kZone
	case KindBastion:
		return kBastion
	case KindMatch:
		return kMatch
	}
	return kUnknown
}

// gkey identifies a group: the organisation and the group fields' values.
type gkey struct {
	org int64
	v   [maxGroupBy]string
}

// equal compares the organisation and the first n values.
func (k *gkey) equal(o *gkey, n int) bool {
	if k.org != o.org {
		return false
	}
	for i := range n {
		if k.v[i] != o.v[i] {
			return false
		}
	}
	return true
}

// entry is an event in a window.
type entry struct {
	t   int64 // unix nanoseconds
	seq int64
	id  string
}

// ring is a bounded FIFO of entries.
type ring struct {
	buf     []entry
	head, n int
}

func (r *ring) push(e entry, limit int) {
	if r.n == limit && limit > 0 {
		r.buf[r.head] = e
		r.head = (r.head + 1) % len(r.buf)
		return
	}
	if r.n == len(r.buf) {
		nb := make([]entry, max(4, min(2*len(r.buf), max(limit, 4))))
		for i := range r.n {
			nb[i] = r.buf[(r.head+i)%len(r.buf)]
		}
		r.buf, r.head = nb, 0
	}
	r.buf[(r.head+r.n)%len(r.buf)] = e
	r.n++
}

func (r *ring) at(i int) entry { return r.buf[(r.head+i)%len(r.buf)] }

func (r *ring) expire(before int64) {
	for r.n > 0 && r.buf[r.head].t < before {
		r.buf[r.head] = entry{}
		r.head = (r.head + 1) % len(r.buf)
		r.n--
	}
}

func (r *ring) reset() {
	clear(r.buf)
	r.head, r.n = 0, 0
}

// last returns the most recent k entries, oldest first.
func (r *ring) last(k int) []entry {
	k = min(k, r.n)
	out := make([]entry, 0, k)
	for i := r.n - k; i < r.n; i++ {
		out = append(out, r.at(i))
	}
	return out
}

// qentry is a distinct value (packed) in the queue of its dset: when it is due to be
// looked at again, and its latest entry.
type qentry struct {
	k strtab.Key
	t int64 // due: the value is dropped, or queued again, once t falls out of the window
	e entry // the value's latest entry
}

// qring is a FIFO of qentries in a ring buffer that grows by doubling: its size
// follows the values alive in the window, not how many went through it. Entries are
// numbered in the order they were pushed (at finds one by its number).
type qring struct {
	buf     []qentry // len a power of two (or 0)
	head, n int
	first   uint64 // the number of the entry at head
}

// push queues e and returns its number.
func (q *qring) push(e qentry) uint64 {
	if q.n == len(q.buf) {
		nb := make([]qentry, max(4, 2*len(q.buf)))
		for i := range q.n {
			nb[i] = q.buf[(q.head+i)&(len(q.buf)-1)]
		}
		q.buf, q.head = nb, 0
	}
	q.buf[(q.head+q.n)&(len(q.buf)-1)] = e
	q.n++
	return q.first + uint64(q.n-1)
}

// front returns the oldest entry; the ring must not be empty.
func (q *qring) front() *qentry { return &q.buf[q.head] }

// at returns the i-th entry from the front (i < n).
func (q *qring) at(i int) *qentry { return &q.buf[(q.head+i)&(len(q.buf)-1)] }

// numbered returns the entry of number a, which must still be queued.
func (q *qring) numbered(a uint64) *qentry { return q.at(int(a - q.first)) }

func (q *qring) pop() qentry {
	e := q.buf[q.head]
	q.buf[q.head] = qentry{}
	q.head = (q.head + 1) & (len(q.buf) - 1)
	q.n--
	q.first++
	return e
}

// smallSet is how many values a dset finds by scanning its queue; past it, an index
// finds them.
const smallSet = 6

// dset is the values of a distinct rule's group in the window. Each value has one
// entry in a queue, in the order the values are due to be looked at again, holding
// its latest entry: a value due with a later entry is queued again, else dropped. A
// group holds few values at a time (an account's patients within the hour, a
// terminal's accounts): up to smallSet of them are found by scanning the queue, one
// run of memory; past it an index finds a value's queue entry by its number.
type dset struct {
	queue   qring
	index   *strtab.Table[uint64] // past smallSet values: value → its queue entry's number
	indexed bool                  // index is in use (else kept, cleared, for the next time)
	next    int64                 // queue.front().t when the queue is not empty (read without touching it)
}

// len returns how many values the window holds.
func (d *dset) len() int { return d.queue.n }

// find returns the queue entry of packed value k, nil when there is none.
func (d *dset) find(k strtab.Key) *qentry {
	if d.indexed {
		if a := d.index.GetKey(k); a != nil {
			return d.queue.numbered(*a)
		}
		return nil
	}
	for i := range d.queue.n {
		if q := d.queue.at(i); q.k == k {
			return q
		}
	}
	return nil
}

// see records en for value v (not "").
func (d *dset) see(v string, en entry) {
	k := strtab.KeyOf(v)
	if q := d.find(k); q != nil {
		q.e = en
		return
	}
	d.push(qentry{k: k, t: en.t, e: en})
}

// push queues q, keeping next and the index.
func (d *dset) push(q qentry) {
	if d.queue.n == 0 {
		d.next = q.t
	}
	a := d.queue.push(q)
	switch {
	case d.indexed:
		p, _ := d.index.PutKey(q.k)
		*p = a
	case d.queue.n > smallSet:
		if d.index == nil {
			d.index = strtab.New[uint64](2 * d.queue.n)
		} else {
			d.index.Clear()
		}
		d.indexed = true
		for i := range d.queue.n {
			p, _ := d.index.PutKey(d.queue.at(i).k)
			*p = d.queue.first + uint64(i)
		}
	}
}

// expire forgets the values last seen before before.
func (d *dset) expire(before int64) {
	if d.queue.n == 0 || d.next >= before {
		return
	}
	for d.queue.n > 0 && d.queue.front().t < before {
		q := d.queue.pop()
		if q.e.t < before {
			if d.indexed {
				d.index.DeleteKey(q.k)
			}
			continue
		}
		q.t = q.e.t // seen again since: due later
		d.push(q)
	}
	if d.queue.n > 0 {
		d.next = d.queue.front().t
	} else {
		d.indexed = false // empty: scanning again (the index's memory is kept)
	}
}

// entries appends the values' latest entries to out, in no order.
func (d *dset) entries(out []entry) []entry {
	for i := range d.queue.n {
		out = append(out, d.queue.at(i).e)
	}
	return out
}

// groupMap holds the groups of a rule by a hash of their key (a map of fixed-size
// integer keys is much cheaper than one keyed by the strings), chained on collisions.
type groupMap struct {
	m    map[uint64]*gstate
	seed maphash.Seed
	n    int
}

func (gm *groupMap) hash(k *gkey, n int) uint64 {
	h := uint64(k.org)*0x9e3779b97f4a7c15 + 0x632be59bd9b4e019
	for i := range n {
		h = (h ^ maphash.String(gm.seed, k.v[i])) * 0x100000001b3
	}
	return h
}

// get returns the group of k (n key fields), made when missing.
func (gm *groupMap) get(k *gkey, n int) *gstate {
	h := gm.hash(k, n)
	first := gm.m[h]
	for g := first; g != nil; g = g.next {
		if g.key.equal(k, n) {
			return g
		}
	}
	g := &gstate{key: *k, next: first}
	gm.m[h] = g
	gm.n++
	return g
}

// retain keeps the groups keep reports true for.
func (gm *groupMap) retain(keep func(*gstate) bool) {
	for h, first := range gm.m {
		var head, tail *gstate
		for g := first; g != nil; {
			next := g.next
			if keep(g) {
				g.next = nil
				if head == nil {
					head = g
				} else {
					tail.next = g
				}
				tail = g
			} else {
				gm.n--
			}
			g = next
		}
		if head == nil {
			delete(gm.m, h)
		} else if head != first {
			gm.m[h] = head
		}
	}
}

// gstate is the state of one group of one rule. The fields an event reads come first,
// within a cache line; the key (read when a hit is built, or a hash chain walked) last.
type gstate struct {
	last  int64            // last matching event (eviction; dormant: last activity)
	quiet int64            // no hit before this time
	ring  ring             // count: the last threshold events; sequence: the first step's events
	dist  *dset            // distinct: the values in the window (made on first use)
	vals  map[string]entry // first_seen: the values and when they were last seen
	step  int              // sequence: the step waited for (0: collecting the first)
	stepN int
	start int64
	evid  []entry
	next  *gstate // the next group of the same hash
	key   gkey
}

// evalState is the per-event state of an evaluation: the explanation, computed once
// when a rule needs it, and the event's account, looked up once.
type evalState struct {
	patient  bool // the event is a patient-record access
	done     bool
	ok       bool
	bitsDone bool
	bits     uint32
	org      int64
	ctx      context.Context
	x        Explainer
	ax       accountExplainer // x, when it takes the account's cache (nil otherwise)
	acct     *account         // the event's account (nil until asked)
	err      error
	expl     explain.Explanation
}

// reset prepares s for the next event, writing only what an evaluation reads before
// it sets it (the explanation is read only once done).
func (s *evalState) reset(ctx context.Context, org int64, patient bool) {
	s.patient, s.done, s.ok, s.bitsDone = patient, false, false, false
	s.org, s.ctx, s.acct, s.err = org, ctx, nil, nil
}

// flagBits returns the flags of the explanation (computed) as a bit set.
func (s *evalState) flagBits() uint32 {
	if !s.bitsDone {
		s.bits, s.bitsDone = flagMask(s.expl.Flags), true
	}
	return s.bits
}

// flagMask returns flags as a bit set, a bit per explanationFlags entry.
func flagMask(flags []string) uint32 {
	var m uint32
	for _, f := range flags {
		if i := slices.Index(explanationFlags, f); i >= 0 {
			m |= 1 << i
		}
	}
	return m
}

// explanation returns the event's explanation, asked of the explainer once per event;
// false when there is none (no explainer, no patient-record access, or an error).
func (s *evalState) explanation(ev *events.Event) (*explain.Explanation, bool) {
	if !s.done {
		s.done = true
		s.expl = explain.Explanation{}
		if s.x != nil && s.patient {
			if s.ax != nil && ev.Account != "" {
				s.expl, s.err = s.ax.ExplainAccount(s.ctx, s.org, ev, &s.acct.staff)
			} else {
				s.expl, s.err = s.x.Explain(s.ctx, s.org, ev)
			}
			s.ok = s.err == nil
		}
	}
	return &s.expl, s.ok
}

// sysLists are the rules of a system by action.
type sysLists struct {
	name  string
	lists []candList
}

// candList is the rules an event of one system and action can match, in rule order.
type candList struct {
	rules []*crule
	runs  []relRun // by index of rules: set for the relation rules without conditions
}

// relRun is what the relation rules without conditions from one in a candList to the
// end of their run (consecutive such rules) look for: an explanation with none of the
// classes and flags passes the rest of the run at once.
type relRun struct {
	end     int      // the index after the run
	classes []string // the rules' classes
	mask    uint32   // the rules' flags
}

// newCandList returns the candList of rules.
func newCandList(rules []*crule) candList {
	l := candList{rules: rules, runs: make([]relRun, len(rules))}
	for i := len(rules) - 1; i >= 0; i-- {
		cr := rules[i]
		if cr.kind != kRelation || !cr.m.always {
			continue
		}
		run := relRun{end: i + 1, mask: cr.flagMask}
		if i+1 < len(rules) && l.runs[i+1].end > 0 {
			next := l.runs[i+1]
			run.end, run.mask, run.classes = next.end, run.mask|next.mask, slices.Clone(next.classes)
		}
		if cr.class != "" && !slices.Contains(run.classes, cr.class) {
			run.classes = append(run.classes, cr.class)
		}
		l.runs[i] = run
	}
	return l
}

// Engine evaluates events against compiled rules. Rules are indexed by action and
// system, so that an event is tested only against the rules that can match it; window
// state lives in memory per rule and group, bounded by Env.MaxGroups and swept of idle
// groups. An Engine is not safe for concurrent use: one goroutine evaluates (the runner).
type Engine struct {
	env       Env
	rules     []*crule
	bySystem  map[string][]candList // system → action → rules (built on first sight)
	sysCache  []sysLists            // the first systems seen, scanned before the map
	holidays  map[int]bool
	orgFirst  map[int64]int64 // the organisation's earliest event seen
	now       int64           // the latest event time seen
	n         uint64
	st        evalState
	longest   time.Duration
	hseed     maphash.Seed
	day       localDay // the last local day a time-of-day rule looked at
	zoneCache map[string]bool
	// accounts holds, per organisation and account, the groups of the rules grouped by
	// account alone (most of the library) and the explainer's cache of the account: one
	// lookup per event instead of one per rule and one in the explainer. Cleared by
	// every sweep, the only place groups are dropped.
	accounts    map[int64]*orgAccounts
	accountsOrg int64        // the organisation of accountsCur
	accountsCur *orgAccounts // accounts[accountsOrg], nil when not looked up
	eagerAcct   bool         // look the account up before the rules (some rule or the explainer will)
	acctSlots   int          // how many rules group by account alone
}

// orgAccounts are the accounts of one organisation.
type orgAccounts struct {
	byName strtab.Table[*account]
	none   *account // the events that name no account
}

// account is what the engine keeps of one account of one organisation.
type account struct {
	groups []*gstate // of the rules grouped by account alone, by crule.acctSlot (nil: not looked up yet)
	staff  explain.AccountCache
	ip     string // the source address the account came from last (zone rules), and
	ipIn   bool   // whether it is inside
}

// accountExplainer is an Explainer that keeps what it knows of an account in a cache
// the caller holds per account (*explain.Explainer is one): the engine, which looks the
// account up anyway, saves the explainer a lookup per access.
type accountExplainer interface {
	ExplainAccount(ctx context.Context, orgID int64, ev *events.Event, c *explain.AccountCache) (explain.Explanation, error)
}

// NewEngine compiles rules (validated again) for evaluation in env.
func NewEngine(rules []Rule, env Env) (*Engine, error) {
	env, err := env.withDefaults()
	if err != nil {
		return nil, err
	}
	e := &Engine{env: env, bySystem: map[string][]candList{}, holidays: map[int]bool{}, orgFirst: map[int64]int64{},
		hseed: maphash.MakeSeed(), zoneCache: map[string]bool{}, accounts: map[int64]*orgAccounts{}}
	e.st.x = env.Explainer
	e.st.ax, _ = env.Explainer.(accountExplainer)
	for _, h := range env.Holidays {
		e.holidays[dayKey(h)] = true
	}
	ids := map[string]bool{}
	for i := range rules {
		r := rules[i] // a copy the engine owns
		if err := r.Validate(); err != nil {
			return nil, err
		}
		if ids[r.ID] {
			return nil, fmt.Errorf("%w %s: the id is used twice", ErrInvalid, r.ID)
		}
		ids[r.ID] = true
		cr, err := e.compile(i, &r)
		if err != nil {
			return nil, err
		}
		e.rules = append(e.rules, cr)
		if cr.byAccount {
			cr.acctSlot = e.acctSlots
			e.acctSlots++
		}
	}
	e.eagerAcct = e.acctSlots > 0 || e.st.ax != nil
	return e, nil
}

func dayKey(t time.Time) int {
	y, m, d := t.Date()
	return y*10000 + int(m)*100 + d
}

func (e *Engine) compile(i int, r *Rule) (*crule, error) {
	cr := &crule{idx: i, r: r, kind: kindNumber(r.Kind), m: compileMatch(&r.Match), groups: groupMap{m: map[uint64]*gstate{}, seed: e.hseed}, threshold: r.Threshold,
		distinctF: -1, field: -1, class: r.Explanation, flags: r.Flags}
	for _, g := range r.groupBy() {
		cr.groupF = append(cr.groupF, fieldIndex(g))
		cr.groupN = append(cr.groupN, g)
	}
	if r.Distinct != "" {
		cr.distinctF = fieldIndex(r.Distinct)
	}
	if r.Field != "" {
		cr.field = fieldIndex(r.Field)
	}
	cr.window = int64(r.Window)
	switch r.Kind {
	case KindCount, KindDistinct, KindSequence:
		cr.quiet = cr.window
	default:
		cr.quiet = cr.window
		if cr.quiet == 0 {
			cr.quiet = int64(defaultSingle)
		}
	}
	cr.lookback, cr.idle = int64(r.Lookback), int64(r.Idle)
	cr.learning = int64(r.Learning)
	if r.Learning == 0 && r.Kind == KindFirstSeen {
		cr.learning = int64(3 * 24 * time.Hour)
	}
	if r.Kind == KindDormant {
		cr.learning = max(cr.learning, cr.idle)
	}
	if r.Hours != "" {
		cr.hourFrom, cr.hourTo, _ = parseHours(r.Hours)
		cr.hasHours = true
	}
	cr.explains = r.Kind == KindRelation || r.Match.needsExplanation()
	cr.byAccount = len(cr.groupF) == 1 && cr.groupF[0] == fAccount
	cr.flagMask = flagMask(r.Flags)
	cr.actions, cr.systems = cr.m.actions(), cr.m.systems()
	cr.m.unindex(cr.actions, cr.systems)
	if r.Kind == KindSequence {
		for j := range r.Steps {
			cr.steps = append(cr.steps, compileMatch(&r.Steps[j].Match))
			cr.counts = append(cr.counts, max(1, r.Steps[j].Count))
			cr.explains = cr.explains || r.Steps[j].Match.needsExplanation()
		}
		if cr.actions == nil {
			var union []int
			for _, s := range cr.steps {
				a := s.actions()
				if a == nil {
					union = nil
					break
				}
				union = append(union, a...)
			}
			slices.Sort(union)
			cr.actions = slices.Compact(union)
		}
	}
	if r.Kind == KindRelation && cr.actions == nil {
		// Only patient-record accesses can be flagged.
		for _, a := range []string{events.ActionView, events.ActionSearch, events.ActionCreate, events.ActionModify,
			events.ActionPrint, events.ActionExport, events.ActionPrescribe, events.ActionDelete} {
			cr.actions = append(cr.actions, actionIndex(a))
		}
		slices.Sort(cr.actions)
	}
	if cr.explains && e.env.Explainer == nil {
		return nil, fmt.Errorf("%w %s: the rule looks at explanations of patient-record access and no explainer is configured", ErrInvalid, r.ID)
	}
	switch r.Kind {
	case KindFirstSeen, KindDormant:
		cr.horizon = int64(e.env.Retention)
		if cr.lookback > 0 && r.Kind == KindFirstSeen {
			cr.horizon = min(cr.horizon, max(cr.lookback, cr.quiet))
		}
	default:
		cr.horizon = max(cr.window, cr.quiet)
	}
	e.longest = max(e.longest, time.Duration(cr.window), time.Duration(cr.quiet))
	return cr, nil
}

// Longest returns the longest window or quiet time of the rules: how far back Warm
// must replay for the state to be as if the engine had never stopped (first_seen and
// dormant state aside, which Prepare seeds by SQL aggregates; Prepare replays twice
// this span).
func (e *Engine) Longest() time.Duration { return e.longest }

// Rules returns the engine's rules.
func (e *Engine) Rules() []Rule {
	out := make([]Rule, len(e.rules))
	for i, cr := range e.rules {
		out[i] = *cr.r
	}
	return out
}

// candidates returns the rules an event of system and action index a can match.
func (e *Engine) candidates(system string, a int) []*crule { return e.candidateList(system, a).rules }

// candidateList returns the candList of an event of system and action index a.
func (e *Engine) candidateList(system string, a int) *candList {
	for i := range e.sysCache {
		if e.sysCache[i].name == system {
			return &e.sysCache[i].lists[a]
		}
	}
	lists, ok := e.bySystem[system]
	if !ok {
		byAction := make([][]*crule, numActions)
		for _, cr := range e.rules {
			if cr.systems != nil && !slices.Contains(cr.systems, system) {
				continue
			}
			for ai := range numActions {
				if cr.actions == nil || slices.Contains(cr.actions, ai) {
					byAction[ai] = append(byAction[ai], cr)
				}
			}
		}
		lists = make([]candList, numActions)
		for ai := range lists {
			lists[ai] = newCandList(byAction[ai])
		}
		if len(e.bySystem) < 4096 { // systems are few; an open-ended stream of names is not cached
			e.bySystem[system] = lists
		}
	}
	if len(e.sysCache) < 8 {
		e.sysCache = append(e.sysCache, sysLists{name: system, lists: lists})
	}
	return &lists[a]
}

// Evaluate runs ev of organisation orgID through the rules and calls emit for every hit.
// The explainer observes every event. An error (the explainer failing) is returned after
// the event was evaluated as far as it could be; the caller should not trust the state
// afterwards (the runner builds its engine again).
func (e *Engine) Evaluate(ctx context.Context, orgID int64, ev *events.Stored, emit func(Hit)) error {
	return e.eval(ctx, orgID, ev, emit)
}

// Warm runs ev through the rules to build their state, without emitting hits (a hit
// still makes its group quiet, as it did the first time).
func (e *Engine) Warm(ctx context.Context, orgID int64, ev *events.Stored) error {
	return e.eval(ctx, orgID, ev, nil)
}

func (e *Engine) eval(ctx context.Context, orgID int64, ev *events.Stored, emit func(Hit)) error {
	t := ev.Time.UnixNano()
	if f, ok := e.orgFirst[orgID]; !ok || t < f {
		e.orgFirst[orgID] = t
	}
	if t > e.now {
		e.now = t
	}
	a := actionIndex(ev.Action)
	e.st.reset(ctx, orgID, a >= 0 && ev.PatientID != "" && patientActions&(1<<a) != 0)
	if e.eagerAcct && ev.Account != "" {
		e.st.acct = e.account(orgID, ev.Account)
	}
	if a >= 0 {
		l := e.candidateList(ev.System, a)
		for i := 0; i < len(l.rules); i++ {
			cr := l.rules[i]
			if cr.kind == kRelation && cr.m.always {
				// The relation rules (seven in the library, in a run) read the event's one
				// explanation: when it has none of the run's classes and flags, the rest
				// of the run is passed at once.
				x, ok := e.st.explanation(&ev.Event)
				if run := &l.runs[i]; !ok || (!slices.Contains(run.classes, x.Class) && e.st.flagBits()&run.mask == 0) {
					i = run.end - 1
					continue
				}
				if cr.relates(x, &e.st) {
					e.single(cr, orgID, ev, entry{t: t, seq: ev.Seq, id: ev.ID}, emit)
				}
				continue
			}
			if !cr.m.always && !cr.m.matchCandidate(&ev.Event, &e.st) {
				continue
			}
			e.apply(cr, orgID, ev, t, emit)
		}
	}
	if e.env.Explainer != nil {
		// Explain was asked (once) only if a rule needed it; Observe sees every event.
		e.env.Explainer.Observe(orgID, &ev.Event)
	}
	e.n++
	if e.n%sweepEvery == 0 {
		e.sweep()
	}
	err := e.st.err
	e.st.ctx, e.st.acct, e.st.err = nil, nil, nil
	if err != nil {
		return fmt.Errorf("detect: explain an access: %w", err)
	}
	return nil
}

// account returns the engine's record of account name of orgID, made when missing.
func (e *Engine) account(orgID int64, name string) *account {
	oa := e.accountsCur
	if oa == nil || e.accountsOrg != orgID {
		if oa = e.accounts[orgID]; oa == nil {
			oa = &orgAccounts{}
			e.accounts[orgID] = oa
		}
		e.accountsOrg, e.accountsCur = orgID, oa
	}
	if name == "" {
		if oa.none == nil {
			oa.none = e.newAccount()
		}
		return oa.none
	}
	p, added := oa.byName.Put(name)
	if added {
		*p = e.newAccount()
	}
	return *p
}

// newAccount returns an account record with room for the groups of the rules grouped by
// account alone.
func (e *Engine) newAccount() *account {
	return &account{groups: make([]*gstate, e.acctSlots)}
}

// group returns the state of ev's group of cr, made when missing.
func (e *Engine) group(cr *crule, orgID int64, ev *events.Event) *gstate {
	var cache []*gstate
	if cr.byAccount {
		ac := e.st.acct
		if ac == nil {
			ac = e.account(orgID, ev.Account)
			e.st.acct = ac
		}
		cache = ac.groups
		if g := cache[cr.acctSlot]; g != nil {
			return g
		}
	}
	k := gkey{org: orgID}
	for i, f := range cr.groupF {
		k.v[i] = fieldOf(ev, f)
	}
	g := cr.groups.get(&k, len(cr.groupF))
	if cache != nil {
		cache[cr.acctSlot] = g
	}
	return g
}

func (e *Engine) apply(cr *crule, orgID int64, ev *events.Stored, t int64, emit func(Hit)) {
	en := entry{t: t, seq: ev.Seq, id: ev.ID}
	switch cr.kind {
	case kCount:
		g := e.group(cr, orgID, &ev.Event)
		g.last = max(g.last, t)
		g.ring.push(en, cr.threshold)
		g.ring.expire(t - cr.window)
		if g.ring.n >= cr.threshold && t >= g.quiet {
			g.quiet = t + cr.quiet
			evid := g.ring.last(maxEvidence)
			e.fire(cr, &g.key, ev, evid, g.ring.at(0).t, t, emit)
		}
	case kDistinct:
		v := fieldOf(&ev.Event, cr.distinctF)
		if v == "" {
			return
		}
		g := e.group(cr, orgID, &ev.Event)
		g.last = max(g.last, t)
		if g.dist == nil {
			g.dist = &dset{}
		}
		g.dist.expire(t - cr.window)
		g.dist.see(v, en)
		if g.dist.len() >= cr.threshold && t >= g.quiet {
			g.quiet = t + cr.quiet
			evid := g.dist.entries(make([]entry, 0, g.dist.len()))
			slices.SortFunc(evid, func(a, b entry) int { return cmp.Compare(a.seq, b.seq) })
			from := evid[0].t
			if len(evid) > maxEvidence {
				evid = evid[len(evid)-maxEvidence:]
			}
			e.fire(cr, &g.key, ev, evid, from, t, emit)
		}
	case kSequence:
		e.sequence(cr, orgID, ev, en, emit)
	case kTimeOfDay:
		c := e.clock(t)
		off := false
		if cr.hasHours {
			m := c.minute(t)
			if cr.hourFrom < cr.hourTo {
				off = m >= cr.hourFrom && m < cr.hourTo
			} else { // over midnight
				off = m >= cr.hourFrom || m < cr.hourTo
			}
		}
		if !off && cr.r.Weekends {
			off = c.weekday == time.Saturday || c.weekday == time.Sunday
		}
		if !off && cr.r.Holidays {
			off = c.holiday
		}
		if off {
			e.single(cr, orgID, ev, en, emit)
		}
	case kFirstSeen:
		v := fieldOf(&ev.Event, cr.field)
		if v == "" {
			return
		}
		g := e.group(cr, orgID, &ev.Event)
		g.last = max(g.last, t)
		if g.vals == nil {
			g.vals = map[string]entry{}
		}
		known := len(g.vals) > 0
		old, seen := g.vals[v]
		if seen && cr.lookback > 0 && t-old.t > cr.lookback {
			seen = false
		}
		if !seen || t > old.t {
			g.vals[v] = en
		}
		if !seen && known && t-e.orgFirst[orgID] >= cr.learning && t >= g.quiet {
			g.quiet = t + cr.quiet
			e.fire(cr, &g.key, ev, []entry{en}, t, t, emit)
		}
	case kDormant:
		g := e.group(cr, orgID, &ev.Event)
		prev := g.last
		g.last = max(g.last, t)
		fire := false
		if prev != 0 {
			fire = t-prev >= cr.idle
		} else {
			fire = t-e.orgFirst[orgID] >= cr.learning
		}
		if fire && t >= g.quiet {
			g.quiet = t + cr.quiet
			e.fire(cr, &g.key, ev, []entry{en}, t, t, emit)
		}
	case kRelation:
		if x, ok := e.st.explanation(&ev.Event); ok && cr.relates(x, &e.st) {
			e.single(cr, orgID, ev, en, emit)
		}
	case kZone:
		if ev.SourceIP == "" || e.insideFor(ev.SourceIP) {
			return
		}
		e.single(cr, orgID, ev, en, emit)
	case kBastion:
		if len(e.env.JumpHosts) == 0 || ev.SourceIP == "" {
			return
		}
		a, err := netip.ParseAddr(ev.SourceIP)
		if err != nil {
			return
		}
		if slices.Contains(e.env.JumpHosts, a.Unmap()) {
			return
		}
		e.single(cr, orgID, ev, en, emit)
	case kMatch:
		e.single(cr, orgID, ev, en, emit)
	}
}

// relates reports whether relation rule cr fires on explanation x (of st's event): its
// class, or one of its flags.
func (cr *crule) relates(x *explain.Explanation, st *evalState) bool {
	return (cr.class != "" && x.Class == cr.class) || st.flagBits()&cr.flagMask != 0
}

// localDay is a day of the hospital's calendar: [start, end) in unix nanoseconds.
type localDay struct {
	start, end int64
	weekday    time.Weekday
	holiday    bool
}

// minute returns the local minute of the day of t, within d.
func (d *localDay) minute(t int64) int { return int((t - d.start) / int64(time.Minute)) }

// clock returns the local day of t (unix nanoseconds), computed once per day seen:
// time-of-day rules read local time without a time zone conversion per event.
func (e *Engine) clock(t int64) *localDay {
	d := &e.day
	if t >= d.start && t < d.end {
		return d
	}
	lt := time.Unix(0, t).In(e.env.Location)
	y, m, dd := lt.Date()
	start := time.Date(y, m, dd, 0, 0, 0, 0, e.env.Location)
	*d = localDay{start: start.UnixNano(), end: start.AddDate(0, 0, 1).UnixNano(), weekday: lt.Weekday(),
		holiday: e.holidays[dayKey(lt)]}
	return d
}

// inside reports whether source address ip is in the internal network (an address
// that does not parse counts as inside: nothing can be said of it). Answers are cached
// per address text, as a hospital's addresses repeat.
func (e *Engine) inside(ip string) bool {
	if in, ok := e.zoneCache[ip]; ok {
		return in
	}
	in := true
	if a, err := netip.ParseAddr(ip); err == nil {
		a = a.Unmap()
		in = slices.ContainsFunc(e.env.InternalNets, func(p netip.Prefix) bool { return p.Contains(a) })
	}
	if len(e.zoneCache) >= 1<<16 {
		clear(e.zoneCache)
	}
	e.zoneCache[ip] = in
	return in
}

// insideFor is inside for the event's source address ip, remembered per account: an
// account mostly comes from the same address, compared without a map lookup.
func (e *Engine) insideFor(ip string) bool {
	ac := e.st.acct
	if ac == nil {
		return e.inside(ip)
	}
	if ac.ip != ip || ac.ip == "" {
		ac.ip, ac.ipIn = ip, e.inside(ip)
	}
	return ac.ipIn
}

// single fires a single-event rule unless its group is quiet.
func (e *Engine) single(cr *crule, orgID int64, ev *events.Stored, en entry, emit func(Hit)) {
	g := e.group(cr, orgID, &ev.Event)
	g.last = max(g.last, en.t)
	if en.t < g.quiet {
		return
	}
	g.quiet = en.t + cr.quiet
	e.fire(cr, &g.key, ev, []entry{en}, en.t, en.t, emit)
}

// sequence advances the steps of a sequence rule. The first step slides over the
// window (its last count events); the later steps count from the moment the previous
// one completed. An event of a step other than the one waited for (or the one before,
// which repeats) breaks the sequence.
func (e *Engine) sequence(cr *crule, orgID int64, ev *events.Stored, en entry, emit func(Hit)) {
	which := -1 // the first step ev matches, from the one waited for backwards
	g := e.group(cr, orgID, &ev.Event)
	g.last = max(g.last, en.t)
	if g.step > 0 && en.t-g.start > cr.window {
		g.step, g.stepN, g.evid = 0, 0, g.evid[:0]
		g.ring.reset()
	}
	matches := func(i int) bool { return cr.steps[i].match(&ev.Event, &e.st) }
	switch {
	case matches(g.step):
		which = g.step
	case g.step > 0 && matches(g.step-1):
		which = g.step - 1
	}
	if which < 0 {
		for i := range cr.steps {
			if matches(i) {
				// Out of order: the sequence is broken.
				g.step, g.stepN, g.evid = 0, 0, g.evid[:0]
				g.ring.reset()
				return
			}
		}
		return
	}
	if g.step == 0 {
		g.ring.push(en, cr.counts[0])
		g.ring.expire(en.t - cr.window)
		if g.ring.n < cr.counts[0] {
			return
		}
		g.step, g.stepN, g.start = 1, 0, g.ring.at(0).t
		g.evid = append(g.evid[:0], g.ring.last(cr.counts[0])...)
		if len(cr.steps) > 1 {
			return
		}
	} else {
		g.evid = append(g.evid, en)
		if len(g.evid) > maxEvidence {
			g.evid = append(g.evid[:0], g.evid[len(g.evid)-maxEvidence:]...)
		}
		if which == g.step-1 {
			return // a repeat of the completed step
		}
		g.stepN++
		if g.stepN < cr.counts[g.step] {
			return
		}
		g.step, g.stepN = g.step+1, 0
		if g.step < len(cr.steps) {
			return
		}
	}
	evid, from := slices.Clone(g.evid), g.start
	g.step, g.stepN, g.evid = 0, 0, g.evid[:0]
	g.ring.reset()
	if en.t < g.quiet {
		return
	}
	g.quiet = en.t + cr.quiet
	e.fire(cr, &g.key, ev, evid, from, en.t, emit)
}

// fire builds the hit and emits it (when emit is set: Warm has none).
func (e *Engine) fire(cr *crule, k *gkey, ev *events.Stored, evid []entry, from, to int64, emit func(Hit)) {
	if emit == nil {
		return
	}
	h := Hit{Rule: cr.r, OrgID: k.org, GroupBy: cr.groupN, Group: make(map[string]string, len(cr.groupF)),
		From: time.Unix(0, from).UTC(), To: time.Unix(0, to).UTC(), Events: make([]string, len(evid)), Seqs: make([]int64, len(evid))}
	for i, f := range cr.groupF {
		h.Group[Fields[f]] = k.v[i]
		switch f {
		case fAccount:
			h.Account = k.v[i]
		case fPatientID:
			h.PatientID = k.v[i]
		}
	}
	single := len(evid) == 1 && evid[0].seq == ev.Seq
	if single && h.Account == "" && !slices.Contains(cr.groupF, fAccount) && cr.r.Kind != KindDistinct {
		h.Account = ev.Account
	}
	if single && h.PatientID == "" && e.st.patient {
		h.PatientID = ev.PatientID
	}
	for i, x := range evid {
		h.Events[i], h.Seqs[i] = x.id, x.seq
	}
	if e.st.done && e.st.ok && (cr.explains || h.PatientID != "") {
		h.Explanation = e.st.expl
	}
	emit(h)
}

// sweep forgets the groups idle past their rule's horizon, and the first-seen values
// past their lookback; past MaxGroups the least recently active go too.
func (e *Engine) sweep() {
	clear(e.accounts) // it may point at groups dropped below
	e.accountsCur = nil
	for _, cr := range e.rules {
		before := e.now - cr.horizon
		cr.groups.retain(func(g *gstate) bool {
			if g.last < before && g.quiet < e.now {
				return false
			}
			if cr.r.Kind == KindFirstSeen {
				for v, x := range g.vals {
					if x.t < before {
						delete(g.vals, v)
					}
				}
			}
			return true
		})
		if cr.groups.n > e.env.MaxGroups {
			lasts := make([]int64, 0, cr.groups.n)
			cr.groups.retain(func(g *gstate) bool {
				lasts = append(lasts, g.last)
				return true
			})
			slices.Sort(lasts)
			cut := lasts[len(lasts)-e.env.MaxGroups]
			cr.groups.retain(func(g *gstate) bool { return g.last >= cut })
		}
	}
}

// Groups returns how many groups the engine holds in memory (for tests and metrics).
func (e *Engine) Groups() int {
	n := 0
	for _, cr := range e.rules {
		n += cr.groups.n
	}
	return n
}
