package simulate_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/events"
	"github.com/medguard/medguard/internal/events/simulate"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/reference"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
	"github.com/medguard/medguard/internal/trail"
	"github.com/medguard/medguard/internal/trail/trailtest"
)

// small is the configuration of the tests: quick, and large enough for every scenario.
var small = simulate.Config{Seed: 7, Days: 4, Staff: 80, Patients: 400}

func generate(t testing.TB, cfg simulate.Config) (*simulate.Result, string) {
	t.Helper()
	r, err := simulate.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := r.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	return r, dir
}

var files = []string{simulate.FileStaff, simulate.FilePatients, simulate.FileEncounters, simulate.FileEvents, simulate.FileTruth}

func TestDeterministic(t *testing.T) {
	_, a := generate(t, small)
	_, b := generate(t, small)
	other := small
	other.Seed++
	_, c := generate(t, other)
	for _, f := range files {
		x, err := os.ReadFile(filepath.Join(a, f))
		if err != nil {
			t.Fatal(err)
		}
		y, _ := os.ReadFile(filepath.Join(b, f))
		z, _ := os.ReadFile(filepath.Join(c, f))
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between two runs of the same seed", f)
		}
		if bytes.Equal(x, z) {
			t.Errorf("%s is the same for seeds %d and %d", f, small.Seed, other.Seed)
		}
		if len(x) == 0 {
			t.Errorf("%s is empty", f)
		}
	}
}

func TestConfigLimits(t *testing.T) {
	for _, cfg := range []simulate.Config{{Days: -1}, {Staff: 5}, {Patients: 10}, {Days: simulate.MaxDays + 1}} {
		if _, err := simulate.Generate(cfg); !errors.Is(err, simulate.ErrConfig) {
			t.Errorf("Generate(%+v) = %v, want ErrConfig", cfg, err)
		}
	}
}

// TestEveryKindInjected checks that each kind of misuse is in the truth with its events
// in the stream, and that the events show what the kind says.
func TestEveryKindInjected(t *testing.T) {
	cfgs := []simulate.Config{small}
	for seed := range uint64(8) {
		cfgs = append(cfgs, simulate.Config{Seed: seed, Days: 1 + int(seed%3), Staff: simulate.MinStaff, Patients: simulate.MinPatients})
	}
	for _, cfg := range cfgs {
		t.Run(fmt.Sprintf("seed%d-days%d-staff%d", cfg.Seed, cfg.Days, cfg.Staff), func(t *testing.T) {
			r, err := simulate.Generate(cfg)
			if err != nil {
				t.Fatal(err)
			}
			checkInjected(t, r)
		})
	}
}

func checkInjected(t *testing.T, r *simulate.Result) {
	byID := map[string]events.Event{}
	for _, e := range r.Events {
		if _, dup := byID[e.ID]; dup {
			t.Fatalf("event id %s twice", e.ID)
		}
		byID[e.ID] = e
	}
	patients := map[string]*simulate.Patient{}
	for _, p := range r.Patients {
		patients[p.PatientID] = p
	}
	staff := map[string]*simulate.Staff{}
	for _, s := range r.Staff {
		staff[s.Account] = s
	}
	internal := netip.MustParsePrefix(simulate.InternalNetwork)
	seen := map[string]int{}
	for _, sc := range r.Truth {
		seen[sc.Kind]++
		if len(sc.EventIDs) == 0 {
			t.Errorf("%s: no events", sc.Kind)
			continue
		}
		var evs []events.Event
		for _, id := range sc.EventIDs {
			e, ok := byID[id]
			if !ok {
				t.Fatalf("%s: event %s not in the stream", sc.Kind, id)
			}
			if e.Time.Before(sc.From) || e.Time.After(sc.To) {
				t.Errorf("%s: event %s outside the scenario's time range", sc.Kind, id)
			}
			if sc.Account != "" && e.Account != sc.Account {
				t.Errorf("%s: event %s of account %s, want %s", sc.Kind, id, e.Account, sc.Account)
			}
			if sc.PatientID != "" && e.PatientID != sc.PatientID {
				t.Errorf("%s: event %s of another patient", sc.Kind, id)
			}
			evs = append(evs, e)
		}
		s := staff[sc.Account]
		p := patients[sc.PatientID]
		last := evs[len(evs)-1]
		check := func(ok bool, what string) {
			t.Helper()
			if !ok {
				t.Errorf("%s (%s): %s", sc.Kind, sc.Account, what)
			}
		}
		switch sc.Kind {
		case simulate.KindBruteForce:
			check(len(evs) >= 6 && evs[0].Action == events.ActionLoginFailure && evs[0].Outcome == events.OutcomeFailure &&
				last.Action == events.ActionLogin, "failures then a success")
		case simulate.KindBatchLogin:
			accounts := map[string]bool{}
			for _, e := range evs {
				accounts[e.Account] = true
				check(e.Terminal == sc.Terminal && e.Action == events.ActionLogin, "logins from the one terminal")
			}
			check(len(accounts) >= 10 && last.Time.Sub(evs[0].Time) <= 10*time.Minute, "10 accounts within minutes")
		case simulate.KindManyPatients:
			ps := map[string]bool{}
			for _, e := range evs {
				ps[e.PatientID] = true
			}
			check(len(ps) >= 100 && last.Time.Sub(evs[0].Time) <= time.Hour, "100 patients within an hour")
		case simulate.KindAfterHours:
			for _, e := range evs {
				h := e.Time.In(simulate.Shanghai).Hour()
				check(h >= 1 && h < 5, "at night")
			}
		case simulate.KindNewTerminal:
			for _, e := range r.Events {
				if e.Account == sc.Account && e.Time.Before(sc.From) {
					check(e.Terminal != sc.Terminal && e.SourceIP != sc.SourceIP, "terminal never used before")
				}
			}
		case simulate.KindDormant:
			for _, e := range r.Events {
				if e.Account == sc.Account && e.Time.Before(sc.From) {
					t.Errorf("dormant account %s active before its scenario", sc.Account)
					break
				}
			}
		case simulate.KindCoworker:
			check(p != nil && p.StaffID != "" && p.StaffID != s.StaffID, "a co-worker's record")
		case simulate.KindFamily:
			check(p != nil && reference.Surname(p.Name) == reference.Surname(s.Name) &&
				reference.NormalizeAddress(p.Address) == reference.NormalizeAddress(s.Address) && p.StaffID == "", "same surname and address")
		case simulate.KindNeighbour:
			check(p != nil && reference.Building(p.Address) == reference.Building(s.Address) &&
				p.Address != s.Address && reference.Surname(p.Name) != reference.Surname(s.Name), "same building")
		case simulate.KindVIP:
			check(p != nil && p.VIP, "a VIP")
		case simulate.KindSelf:
			check(p != nil && p.StaffID == s.StaffID, "own record")
		case simulate.KindDeceased:
			check(p != nil && p.DeceasedOn != "" && p.DeceasedOn < evs[0].Time.Format(time.DateOnly), "deceased before")
		case simulate.KindOutsideNetwork:
			for _, e := range evs {
				check(!internal.Contains(netip.MustParseAddr(e.SourceIP)), "from outside the internal network")
			}
		case simulate.KindBastionBypass:
			check(s.Role == simulate.RoleAdmin && last.RecordType == "server" && !slices.Contains(simulate.JumpHosts, last.SourceIP),
				"admin server login not from a jump host")
		case simulate.KindBulkExport:
			check(last.Action == events.ActionExport && last.RecordCount >= 1000, "a bulk export")
		case simulate.KindDrugUsage:
			check(last.Action == events.ActionQueryDrugUsage, "a drug-usage query")
		default:
			t.Errorf("unknown kind %s", sc.Kind)
		}
	}
	for _, k := range simulate.Kinds {
		if seen[k] == 0 {
			t.Errorf("kind %s not injected", k)
		}
	}
	// Normal activity never looks like the misuse: no night access, no outside address,
	// admin logins through a jump host.
	injected := injectedIDs(r)
	for _, e := range r.Events {
		if injected[e.ID] {
			continue
		}
		h := e.Time.In(simulate.Shanghai).Hour()
		if h < 7 || h >= 19 || !internal.Contains(netip.MustParseAddr(e.SourceIP)) ||
			e.RecordType == "server" && !slices.Contains(simulate.JumpHosts, e.SourceIP) ||
			e.Action == events.ActionQueryDrugUsage || e.RecordCount > 100 || e.Outcome == events.OutcomeFailure {
			t.Errorf("normal event %s looks like misuse: %+v", e.ID, e)
		}
	}
}

func injectedIDs(r *simulate.Result) map[string]bool {
	m := map[string]bool{}
	for _, sc := range r.Truth {
		for _, id := range sc.EventIDs {
			m[id] = true
		}
	}
	return m
}

// TestNormalViewsExplained checks that at least 90 % of the normal views are of a patient
// with an encounter, open or ended within three days, with the viewer or their department.
func TestNormalViewsExplained(t *testing.T) {
	r, _ := generate(t, small)
	dept := map[string]string{}
	for _, s := range r.Staff {
		dept[s.StaffID] = s.Department
	}
	enc := map[string][]*simulate.Encounter{}
	for _, e := range r.Encounters {
		enc[e.PatientID] = append(enc[e.PatientID], e)
	}
	injected := injectedIDs(r)
	views, explained := 0, 0
	for _, e := range r.Events {
		if injected[e.ID] || e.PatientID == "" {
			continue
		}
		views++
		for _, x := range enc[e.PatientID] {
			if (x.StaffID == e.StaffID || x.Department == dept[e.StaffID]) && !x.Start.After(e.Time) &&
				(x.End == nil || e.Time.Sub(*x.End) < 7*24*time.Hour) {
				explained++
				break
			}
		}
	}
	share := float64(explained) / float64(views)
	t.Logf("%d normal accesses, %.3f explained", views, share)
	if views < 1000 || share < 0.9 {
		t.Errorf("%d of %d normal accesses explained (%.3f), want ≥ 0.9", explained, views, share)
	}
}

// TestImportable imports the files the way the CLI does: the CSVs with reference.Import
// (no rejected row), events.ndjson with events.DecodeJSON and Append (no rejection).
func TestImportable(t *testing.T) {
	r, dir := generate(t, small)
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		tl, err := trail.New(trail.SHA256, trailtest.Key(t))
		if err != nil {
			t.Fatal(err)
		}
		orgs := org.NewService(db, tl)
		hosp, err := orgs.Create(ctx, actor.System(), org.Input{Kind: org.KindHospital, Name: "sim"})
		if err != nil {
			t.Fatal(err)
		}
		key := make([]byte, reference.KeySize)
		rand.Read(key)
		ref, err := reference.New(db, tl, reference.Options{Key: key})
		if err != nil {
			t.Fatal(err)
		}
		for kind, f := range map[string]string{reference.KindStaff: simulate.FileStaff,
			reference.KindPatients: simulate.FilePatients, reference.KindEncounters: simulate.FileEncounters} {
			b, err := os.ReadFile(filepath.Join(dir, f))
			if err != nil {
				t.Fatal(err)
			}
			rep, err := ref.Import(ctx, actor.System(), hosp.ID, kind, bytes.NewReader(b))
			if err != nil {
				t.Fatalf("import %s: %v", kind, err)
			}
			if rep.ErrorCount != 0 || rep.Imported != rep.Rows || rep.Rows != strings.Count(string(b), "\n")-1 {
				t.Errorf("import %s: %d rows, %d imported, errors %+v", kind, rep.Rows, rep.Imported, rep.Errors)
			}
		}
		ek := make([]byte, events.KeySize)
		rand.Read(ek)
		evSvc, err := events.New(db, events.Options{Key: ek})
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(filepath.Join(dir, simulate.FileEvents))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		evs, err := events.DecodeJSON(f)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != len(r.Events) {
			t.Fatalf("decoded %d events, generated %d", len(evs), len(r.Events))
		}
		accepted := 0
		for start := 0; start < len(evs); start += 10_000 {
			res, err := evSvc.Append(ctx, hosp.ID, evs[start:min(start+10_000, len(evs))])
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Rejected) > 0 || res.Duplicates > 0 {
				t.Fatalf("append: %d rejected (first %+v), %d duplicates", len(res.Rejected), res.Rejected[0], res.Duplicates)
			}
			accepted += res.Accepted
		}
		if accepted != len(evs) {
			t.Errorf("accepted %d of %d", accepted, len(evs))
		}
	})
}

// TestGenerateContextStops: a context that has ended, or ends while the hospital is
// being generated, stops the generation with its cause and no result — never a partial
// hospital, never a panic on one.
func TestGenerateContextStops(t *testing.T) {
	cause := errors.New("terminated")
	for _, after := range []time.Duration{0, time.Millisecond, 20 * time.Millisecond} {
		ctx, cancel := context.WithCancelCause(context.Background())
		if after == 0 {
			cancel(cause)
		} else {
			time.AfterFunc(after, func() { cancel(cause) })
		}
		r, err := simulate.GenerateContext(ctx, simulate.Config{Seed: 1, Staff: 3000, Patients: 60000})
		cancel(nil)
		if r != nil || !errors.Is(err, cause) {
			t.Errorf("cancelled after %v: result %v, error %v; want none and %v", after, r != nil, err, cause)
		}
	}
}
