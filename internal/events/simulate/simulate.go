package simulate

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"time"

	"github.com/medguard/medguard/internal/events"
	"github.com/medguard/medguard/internal/reference"
)

// Config sizes a simulation.
type Config struct {
	Seed     uint64
	Days     int       // days of events (default 14)
	Staff    int       // staff members (default 300)
	Patients int       // patients (default 3000)
	Start    time.Time // first day, midnight Asia/Shanghai (default Monday 2026-03-02)
}

// Limits of a Config.
const (
	MinStaff    = 60
	MinPatients = 200
	MaxDays     = 366
	MaxStaff    = 20_000
	MaxPatients = 1_000_000
)

// Shanghai is the zone of the simulated hospital, as of reference data without a zone.
var Shanghai = reference.Shanghai

// withDefaults fills the zero fields of c and checks the rest.
func (c Config) withDefaults() (Config, error) {
	if c.Days == 0 {
		c.Days = 14
	}
	if c.Staff == 0 {
		c.Staff = 300
	}
	if c.Patients == 0 {
		c.Patients = 3000
	}
	if c.Start.IsZero() {
		c.Start = time.Date(2026, 3, 2, 0, 0, 0, 0, Shanghai)
	}
	switch {
	case c.Days < 1 || c.Days > MaxDays:
		return c, fmt.Errorf("days must be between 1 and %d", MaxDays)
	case c.Staff < MinStaff || c.Staff > MaxStaff:
		return c, fmt.Errorf("staff must be between %d and %d", MinStaff, MaxStaff)
	case c.Patients < MinPatients || c.Patients > MaxPatients:
		return c, fmt.Errorf("patients must be between %d and %d", MinPatients, MaxPatients)
	}
	return c, nil
}

// ErrConfig is wrapped by the error of Generate for a Config out of its limits.
var ErrConfig = errors.New("simulate: bad configuration")

// Scenario is one injected misuse: the ground truth a detection is scored against.
type Scenario struct {
	Kind      string    `json:"kind"`
	Account   string    `json:"account,omitempty"`  // "" for a batch login: see Accounts
	Accounts  []string  `json:"accounts,omitempty"` // the accounts of a batch login
	StaffID   string    `json:"staff_id,omitempty"`
	PatientID string    `json:"patient_id,omitempty"`
	Terminal  string    `json:"terminal,omitempty"`
	SourceIP  string    `json:"source_ip,omitempty"`
	EventIDs  []string  `json:"event_ids"`
	From      time.Time `json:"from"`
	To        time.Time `json:"to"`
	Note      string    `json:"note"` // what happened, in English
	evs       []*events.Event
}

// Result is a simulated hospital and its event stream.
type Result struct {
	Config     Config
	Staff      []*Staff
	Patients   []*Patient
	Encounters []*Encounter
	Events     []events.Event // in time order
	Truth      []Scenario
}

// gen is the state of one Generate.
type gen struct {
	ctx      context.Context // ends the generation early (checked once a staff member and day)
	cfg      Config
	r        *rand.Rand
	start    time.Time
	staff    []*Staff
	byDept   map[string][]*Staff
	patients []*Patient
	employee map[string]*Patient // by staff id
	ord      []*Patient          // the ordinary patients
	enc      []*Encounter
	deptEnc  map[string]*deptEncounters
	evs      []*events.Event
	truth    []Scenario
}

// Generate simulates the hospital of cfg and its events. The same cfg always gives the
// same Result.
func Generate(cfg Config) (*Result, error) { return GenerateContext(context.Background(), cfg) }

// GenerateContext is Generate that stops, returning the context's cause, when ctx ends
// (a large hospital takes minutes).
func GenerateContext(ctx context.Context, cfg Config) (*Result, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	g := &gen{ctx: ctx, cfg: cfg, r: newRand(cfg.Seed), start: cfg.Start.In(Shanghai), employee: map[string]*Patient{}}
	stopped := func() error {
		if ctx.Err() != nil {
			return fmt.Errorf("simulate: stopped: %w", context.Cause(ctx))
		}
		return nil
	}
	g.hospital()
	if err := stopped(); err != nil { // a part of the encounters: nothing after may use them
		return nil, err
	}
	cast := g.cast()
	g.normal(cast)
	if err := stopped(); err != nil {
		return nil, err
	}
	g.inject(cast)

	// Time order, then ids: the system's prefix and the position in the stream.
	slices.SortStableFunc(g.evs, func(a, b *events.Event) int { return a.Time.Compare(b.Time) })
	out := make([]events.Event, len(g.evs))
	for i, e := range g.evs {
		e.ID = fmt.Sprintf("%s-%09d", systemCode[e.System], i+1)
		out[i] = *e
	}
	for i := range g.truth {
		sc := &g.truth[i]
		for _, e := range sc.evs {
			sc.EventIDs = append(sc.EventIDs, e.ID)
			if sc.From.IsZero() || e.Time.Before(sc.From) {
				sc.From = e.Time
			}
			if e.Time.After(sc.To) {
				sc.To = e.Time
			}
		}
		sc.evs = nil
	}
	slices.SortStableFunc(g.enc, func(a, b *Encounter) int { return a.Start.Compare(b.Start) })
	return &Result{Config: cfg, Staff: g.staff, Patients: g.patients, Encounters: g.enc, Events: out, Truth: g.truth}, nil
}

var systemCode = map[string]string{SystemHIS: "HIS", SystemEMR: "EMR", SystemLIS: "LIS", SystemPACS: "PACS", SystemInternet: "IH"}

// add appends an event of s.
func (g *gen) add(s *Staff, t time.Time, system, action string) *events.Event {
	e := &events.Event{Time: t, System: system, Account: s.Account, StaffID: s.StaffID, Department: s.Department,
		Action: action, SourceIP: s.IP, Terminal: s.Terminal}
	g.evs = append(g.evs, e)
	return e
}

// day returns midnight of day d of the window.
func (g *gen) day(d int) time.Time { return g.start.AddDate(0, 0, d) }

// works reports whether staff member i works on day d: five days of seven, staggered.
func works(i, d int) bool { return (i+d)%7 < 5 }

// systemsOf are the systems a role works in, the first the one it views records in.
func systemsOf(s *Staff) []string {
	switch s.Role {
	case RoleTechnician:
		if s.Department == deptRadiology {
			return []string{SystemPACS, SystemHIS}
		}
		return []string{SystemLIS, SystemHIS}
	case RolePharmacist:
		return []string{SystemHIS}
	case RoleAdmin:
		return []string{SystemHIS}
	}
	return []string{SystemEMR, SystemHIS}
}

// deptEncounters are a department's encounters in start order, with the positions of
// the open ones and the length of the longest closed one, so that candidates need not
// read every encounter begun before t (which made a simulation slow down with the square
// of its size).
type deptEncounters struct {
	encs    []*Encounter
	open    []int // positions in encs of the encounters without an end
	longest time.Duration
}

func (d *deptEncounters) add(e *Encounter) {
	if e.End == nil {
		d.open = append(d.open, len(d.encs))
	} else {
		d.longest = max(d.longest, e.End.Sub(e.Start))
	}
	d.encs = append(d.encs, e)
}

// recent is how long after its end an encounter still explains an access.
const recent = 72 * time.Hour

// candidates returns the patients whose encounter with s or s's department is open at t
// or ended less than three days before it, in start order. A closed encounter begun
// before t - longest - recent has ended more than three days before t: only the open
// ones among those are read.
func (g *gen) candidates(s *Staff, t time.Time) []*Encounter {
	var out []*Encounter
	d := g.deptEnc[s.Department]
	if d == nil {
		return nil
	}
	hi := sort.Search(len(d.encs), func(i int) bool { return d.encs[i].Start.After(t) })
	from := t.Add(-d.longest - recent)
	lo := sort.Search(hi, func(i int) bool { return !d.encs[i].Start.Before(from) })
	for _, i := range d.open {
		if i >= lo {
			break
		}
		out = append(out, d.encs[i])
	}
	for _, e := range d.encs[lo:hi] {
		if e.End == nil || t.Sub(*e.End) < recent {
			out = append(out, e)
		}
	}
	return out
}

// normal writes the working days of every staff member not in the cast of a dormant
// account: logins at the start of a shift, views, searches, prescriptions, prints and
// small exports of the patients their department treats, logouts at the end; the
// administrators' server logins go through the jump hosts.
func (g *gen) normal(c *cast) {
	g.deptEnc = map[string]*deptEncounters{}
	sorted := slices.Clone(g.enc)
	slices.SortStableFunc(sorted, func(a, b *Encounter) int { return a.Start.Compare(b.Start) })
	for _, e := range sorted {
		d := g.deptEnc[e.Department]
		if d == nil {
			d = &deptEncounters{}
			g.deptEnc[e.Department] = d
		}
		d.add(e)
	}
	for d := range g.cfg.Days {
		day := g.day(d)
		for i, s := range g.staff {
			if g.ctx.Err() != nil {
				return
			}
			if s.Dormant || !works(i, d) {
				continue
			}
			in := day.Add(7*time.Hour + 30*time.Minute + time.Duration(g.r.IntN(90*60))*time.Second)
			out := day.Add(17*time.Hour + time.Duration(g.r.IntN(90*60))*time.Second)
			systems := systemsOf(s)
			if s.Role == RoleDoctor && g.r.IntN(4) == 0 {
				systems = append(systems, SystemInternet)
			}
			for k, sys := range systems {
				g.add(s, in.Add(time.Duration(k*20)*time.Second), sys, events.ActionLogin)
				g.add(s, out.Add(time.Duration(k*20)*time.Second), sys, events.ActionLogout)
			}
			if s.Role == RoleAdmin {
				for range 1 + g.r.IntN(3) {
					e := g.add(s, in.Add(time.Duration(1+g.r.IntN(8*3600))*time.Second), SystemHIS, events.ActionLogin)
					e.SourceIP = JumpHosts[g.r.IntN(len(JumpHosts))]
					e.Terminal = servers[g.r.IntN(len(servers))]
					e.RecordType = "server"
				}
				continue
			}
			n := 15 + g.r.IntN(25)
			for range n {
				t := in.Add(time.Duration(60+g.r.IntN(int(out.Sub(in).Seconds())-120)) * time.Second)
				cs := g.candidates(s, t)
				if len(cs) == 0 {
					g.add(s, t, systems[len(systems)-1], events.ActionSearch).RecordCount = 1 + g.r.IntN(20)
					continue
				}
				p := cs[g.r.IntN(len(cs))].PatientID
				if g.r.IntN(100) < 3 {
					// A consultation (会诊) or a colleague's patient: no filter explains it.
					p = g.ordinary().PatientID
				}
				sys := systems[0]
				action := events.ActionView
				switch x := g.r.IntN(100); {
				case x < 8:
					e := g.add(s, t, systems[len(systems)-1], events.ActionSearch)
					e.RecordCount = 1 + g.r.IntN(20)
					continue
				case x < 18 && s.Role == RoleDoctor:
					sys, action = SystemHIS, events.ActionPrescribe
				case x < 22:
					action = events.ActionPrint
				case x < 23:
					action = events.ActionExport
				case x < 26 && s.Role == RoleDoctor && len(systems) > 2:
					sys = SystemInternet
				}
				e := g.add(s, t, sys, action)
				e.PatientID = p
				e.RecordType = recordType[sys]
				e.RecordCount = 1
			}
		}
	}
}

var servers = []string{"his-db-01", "emr-app-01", "lis-db-01", "pacs-store-01", "core-sw-01"}

var recordType = map[string]string{SystemHIS: "order", SystemEMR: "emr", SystemLIS: "lab_result", SystemPACS: "image", SystemInternet: "consultation"}
