package simulate

import (
	"fmt"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/events"
)

// The kinds of injected misuse, one for each rule kind of the detection engine.
const (
	KindBruteForce     = "brute_force"      // login failures, then a success
	KindBatchLogin     = "batch_login"      // many accounts from one terminal
	KindManyPatients   = "many_patients"    // many distinct patients by one account
	KindAfterHours     = "after_hours"      // access in the night
	KindNewTerminal    = "new_terminal"     // a terminal and IP the account never used
	KindDormant        = "dormant_account"  // an account without activity active again
	KindCoworker       = "coworker"         // the record of a co-worker
	KindFamily         = "family"           // same surname and address
	KindNeighbour      = "neighbour"        // same building
	KindVIP            = "vip"              // a VIP's record, without an encounter
	KindSelf           = "self"             // one's own record
	KindDeceased       = "deceased"         // a deceased patient's record
	KindOutsideNetwork = "outside_network"  // from outside the internal network
	KindBastionBypass  = "bastion_bypass"   // admin login to a server not via a jump host
	KindBulkExport     = "bulk_export"      // an export of thousands of records
	KindDrugUsage      = "drug_usage_query" // 统方: drug-usage statistics by a prescriber
)

// Kinds lists every kind of injected misuse.
var Kinds = []string{KindBruteForce, KindBatchLogin, KindManyPatients, KindAfterHours, KindNewTerminal, KindDormant,
	KindCoworker, KindFamily, KindNeighbour, KindVIP, KindSelf, KindDeceased, KindOutsideNetwork, KindBastionBypass,
	KindBulkExport, KindDrugUsage}

// cast is who plays each injected scenario.
type cast struct {
	actors map[string][]*Staff
}

// cast picks the accounts of the scenarios — clinical staff, distinct while there are
// enough, administrators for the bastion bypass — and marks the dormant ones, who have
// no normal activity.
func (g *gen) cast() *cast {
	per := max(2, g.cfg.Staff/150)
	var clinical, admins []*Staff
	for _, i := range g.r.Perm(len(g.staff)) {
		s := g.staff[i]
		switch s.Role {
		case RoleDoctor, RoleNurse:
			clinical = append(clinical, s)
		case RoleAdmin:
			admins = append(admins, s)
		}
	}
	c := &cast{actors: map[string][]*Staff{}}
	next := 0
	for _, k := range Kinds {
		for j := range per {
			var s *Staff
			switch k {
			case KindBastionBypass:
				s = admins[j%len(admins)]
			case KindDrugUsage, KindDormant:
				// Prescribers query drug usage; a dormant account must not act otherwise.
				for s == nil || (k == KindDrugUsage && s.Role != RoleDoctor) || (k == KindDormant && s.Role != RoleDoctor) {
					s = clinical[next%len(clinical)]
					next++
				}
			default:
				s = clinical[next%len(clinical)]
				next++
			}
			if k == KindDormant {
				s.Dormant = true
			}
			c.actors[k] = append(c.actors[k], s)
		}
	}
	return c
}

// at returns a time of a day staff member s works (from the second day when there is
// one), between from and to hours.
func (g *gen) at(s *Staff, from, to int) time.Time {
	idx := g.indexOf(s)
	d := 0
	for range 10 {
		d = g.r.IntN(g.cfg.Days)
		if works(idx, d) || s.Dormant {
			break
		}
	}
	return g.day(d).Add(time.Duration(from*3600+g.r.IntN((to-from)*3600)) * time.Second)
}

// view adds a view of patient p by s at t.
func (g *gen) view(s *Staff, t time.Time, p string) *events.Event {
	e := g.add(s, t, systemsOf(s)[0], events.ActionView)
	e.PatientID, e.RecordType, e.RecordCount = p, recordType[e.System], 1
	return e
}

// explained returns patients s's department treats around t (or any ordinary patient).
func (g *gen) explained(s *Staff, t time.Time, n int) []string {
	cs := g.candidates(s, t)
	var out []string
	for range n {
		if len(cs) > 0 {
			out = append(out, cs[g.r.IntN(len(cs))].PatientID)
		} else {
			out = append(out, g.ordinary().PatientID)
		}
	}
	return out
}

// ordinaries returns the patients who are not special (the first patient never is).
// Patients added later are all special, so the list is made once.
func (g *gen) ordinaries() []*Patient {
	if g.ord == nil {
		for _, p := range g.patients {
			if !p.Special {
				g.ord = append(g.ord, p)
			}
		}
	}
	return g.ord
}

func (g *gen) ordinary() *Patient {
	ord := g.ordinaries()
	return ord[g.r.IntN(len(ord))]
}

func (g *gen) newPatient(name, addr string) *Patient {
	p := &Patient{PatientID: fmt.Sprintf("P%08d", 8000001+len(g.patients)), Name: name, Address: addr, Special: true}
	g.patients = append(g.patients, p)
	return p
}

// inject adds the misuse scenarios of the cast to the stream and to the truth.
func (g *gen) inject(c *cast) {
	for _, k := range Kinds {
		for n, s := range c.actors[k] {
			sc := Scenario{Kind: k, Account: s.Account, StaffID: s.StaffID}
			switch k {
			case KindBruteForce:
				t := g.at(s, 9, 17)
				fails := 6 + g.r.IntN(5)
				for i := range fails {
					e := g.add(s, t.Add(time.Duration(i*8)*time.Second), SystemHIS, events.ActionLoginFailure)
					e.Outcome = events.OutcomeFailure
					sc.evs = append(sc.evs, e)
				}
				sc.evs = append(sc.evs, g.add(s, t.Add(time.Duration(fails*8+5)*time.Second), SystemHIS, events.ActionLogin))
				sc.Note = fmt.Sprintf("%d failed logins, then a success", fails)
			case KindBatchLogin:
				t := g.at(s, 9, 17)
				sc.Account, sc.StaffID = "", ""
				sc.Terminal, sc.SourceIP = fmt.Sprintf("WS-SHARED-%02d", n+1), fmt.Sprintf("10.99.0.%d", n+10)
				i := 0
				for _, j := range g.r.Perm(len(g.staff)) {
					o := g.staff[j]
					if o.Dormant || i == 10 {
						continue
					}
					e := g.add(o, t.Add(time.Duration(i*25)*time.Second), SystemHIS, events.ActionLogin)
					e.Terminal, e.SourceIP = sc.Terminal, sc.SourceIP
					sc.evs = append(sc.evs, e)
					sc.Accounts = append(sc.Accounts, o.Account)
					i++
				}
				sc.Note = "10 accounts logged in from one terminal within 5 minutes"
			case KindManyPatients:
				t := g.at(s, 9, 16)
				ord := g.ordinaries()
				n := min(120, len(ord))
				for i, j := range g.r.Perm(len(ord))[:n] {
					sc.evs = append(sc.evs, g.view(s, t.Add(time.Duration((i+1)*25)*time.Second), ord[j].PatientID))
				}
				sc.Note = "120 distinct patients viewed within an hour"
			case KindAfterHours:
				t := g.at(s, 1, 4)
				sc.evs = append(sc.evs, g.add(s, t, systemsOf(s)[0], events.ActionLogin))
				for i, p := range g.explained(s, t, 5) {
					sc.evs = append(sc.evs, g.view(s, t.Add(time.Duration(i+1)*time.Minute), p))
				}
				sc.Note = "login and views between 01:00 and 05:00"
			case KindNewTerminal:
				t := g.at(s, 9, 16)
				sc.Terminal, sc.SourceIP = fmt.Sprintf("WS-NEW-%04d", n+1), fmt.Sprintf("10.201.%d.%d", n/200, n%200+10)
				for i, p := range append([]string{""}, g.explained(s, t, 3)...) {
					var e *events.Event
					if p == "" {
						e = g.add(s, t, systemsOf(s)[0], events.ActionLogin)
					} else {
						e = g.view(s, t.Add(time.Duration(i)*time.Minute), p)
					}
					e.Terminal, e.SourceIP = sc.Terminal, sc.SourceIP
					sc.evs = append(sc.evs, e)
				}
				sc.Note = "a terminal and IP address the account never used before"
			case KindDormant:
				t := g.day(g.cfg.Days - 1).Add(time.Duration(10*3600+g.r.IntN(5*3600)) * time.Second)
				sc.evs = append(sc.evs, g.add(s, t, systemsOf(s)[0], events.ActionLogin))
				for i, p := range g.explained(s, t, 4) {
					sc.evs = append(sc.evs, g.view(s, t.Add(time.Duration(i+1)*time.Minute), p))
				}
				sc.Note = "an account with no activity in the stream before logs in and views records"
			case KindCoworker:
				var p *Patient
				for _, o := range g.staff {
					if q := g.employee[o.StaffID]; q != nil && o != s && o.Department != s.Department {
						p = q
						break
					}
				}
				if p == nil {
					o := g.staff[(g.indexOf(s)+1)%len(g.staff)]
					p = g.newPatient(o.Name, o.Address)
					p.StaffID = o.StaffID
					g.employee[o.StaffID] = p
				}
				sc.PatientID = p.PatientID
				sc.evs = append(sc.evs, g.view(s, g.at(s, 9, 17), p.PatientID))
				sc.Note = "the record of a co-worker of another department, without an encounter"
			case KindFamily:
				sn := surnameOf(s.Name)
				p := g.newPatient(sn+string(givenChars[g.r.IntN(len(givenChars))])+string(givenChars[g.r.IntN(len(givenChars))]), s.Address)
				sc.PatientID = p.PatientID
				sc.evs = append(sc.evs, g.view(s, g.at(s, 9, 17), p.PatientID))
				sc.Note = "a patient with the same surname and address as the viewer"
			case KindNeighbour:
				other := surnames[g.r.IntN(len(surnames))]
				for other.han == surnameOf(s.Name) {
					other = surnames[g.r.IntN(len(surnames))]
				}
				// Same building, another unit: "…号楼2单元501" → "…号楼9单元1201".
				addr := s.Address[:strings.Index(s.Address, "号楼")+len("号楼")] + fmt.Sprintf("9单元%d", 1201+n)
				p := g.newPatient(g.name(other), addr)
				sc.PatientID = p.PatientID
				sc.evs = append(sc.evs, g.view(s, g.at(s, 9, 17), p.PatientID))
				sc.Note = "a patient living in the viewer's building"
			case KindVIP:
				var p *Patient
				for _, q := range g.patients {
					if q.VIP {
						p = q
						if g.r.IntN(2) == 0 {
							break
						}
					}
				}
				if p == nil {
					p = g.newPatient(g.name(surnames[0]), flat("patient", 1, 1, 101))
					p.VIP = true
				}
				sc.PatientID = p.PatientID
				sc.evs = append(sc.evs, g.view(s, g.at(s, 9, 17), p.PatientID))
				sc.Note = "a VIP patient's record, without an encounter"
			case KindSelf:
				p := g.employee[s.StaffID]
				if p == nil {
					p = g.newPatient(s.Name, s.Address)
					p.StaffID = s.StaffID
					g.employee[s.StaffID] = p
				}
				sc.PatientID = p.PatientID
				sc.evs = append(sc.evs, g.view(s, g.at(s, 9, 17), p.PatientID))
				sc.Note = "the viewer's own record"
			case KindDeceased:
				var p *Patient
				for _, q := range g.patients {
					if q.DeceasedOn != "" {
						p = q
						if g.r.IntN(2) == 0 {
							break
						}
					}
				}
				if p == nil {
					p = g.newPatient(g.name(surnames[1]), flat("patient", 2, 1, 101))
					p.DeceasedOn = g.start.AddDate(0, -2, 0).Format(time.DateOnly)
				}
				sc.PatientID = p.PatientID
				sc.evs = append(sc.evs, g.view(s, g.at(s, 9, 17), p.PatientID))
				sc.Note = "a deceased patient's record"
			case KindOutsideNetwork:
				t := g.at(s, 19, 23)
				t = t.Add(-11 * time.Hour) // 08:00–12:00: within working hours
				sc.Terminal, sc.SourceIP = "", fmt.Sprintf("203.0.113.%d", 10+n)
				for i, p := range append([]string{""}, g.explained(s, t, 3)...) {
					var e *events.Event
					if p == "" {
						e = g.add(s, t, systemsOf(s)[0], events.ActionLogin)
					} else {
						e = g.view(s, t.Add(time.Duration(i)*time.Minute), p)
					}
					e.Terminal, e.SourceIP = "", sc.SourceIP
					sc.evs = append(sc.evs, e)
				}
				sc.Note = "login and views from an address outside the internal network"
			case KindBastionBypass:
				t := g.at(s, 9, 17)
				e := g.add(s, t, SystemHIS, events.ActionLogin)
				e.Terminal, e.RecordType = servers[n%len(servers)], "server"
				sc.Terminal, sc.SourceIP = e.Terminal, e.SourceIP
				sc.evs = append(sc.evs, e)
				sc.Note = "an administrative login to a server from a workstation, not a jump host"
			case KindBulkExport:
				e := g.add(s, g.at(s, 9, 17), SystemEMR, events.ActionExport)
				e.RecordType, e.RecordCount = "emr", 5000+g.r.IntN(15000)
				sc.evs = append(sc.evs, e)
				sc.Note = fmt.Sprintf("an export of %d records", e.RecordCount)
			case KindDrugUsage:
				t := g.at(s, 9, 17)
				for i := range 3 {
					e := g.add(s, t.Add(time.Duration(i*3)*time.Minute), SystemHIS, events.ActionQueryDrugUsage)
					e.RecordType, e.RecordCount = "drug_usage", 200+g.r.IntN(800)
					sc.evs = append(sc.evs, e)
				}
				sc.Note = "drug-usage statistics (统方) queried by a prescriber"
			}
			g.truth = append(g.truth, sc)
		}
	}
}

func (g *gen) indexOf(s *Staff) int {
	for i, x := range g.staff {
		if x == s {
			return i
		}
	}
	return 0
}
