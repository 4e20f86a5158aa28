package explain_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/events"
	"github.com/medguard/medguard/internal/explain"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/reference"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
	"github.com/medguard/medguard/internal/trail"
	"github.com/medguard/medguard/internal/trail/trailtest"
)

var refKey = bytes.Repeat([]byte{9}, reference.KeySize)

// world is two hospitals, reference data imported into A from CSV, and a clock.
type world struct {
	t            testing.TB
	ref          *reference.Service
	hospA, hospB org.Node
	now          atomic.Int64 // the Explainer's clock, UnixNano
}

func newWorld(t testing.TB, db *store.DB) *world {
	t.Helper()
	ctx := context.Background()
	tl, err := trail.New(trail.SHA256, trailtest.Key(t))
	if err != nil {
		t.Fatal(err)
	}
	orgs := org.NewService(db, tl)
	w := &world{t: t}
	if w.hospA, err = orgs.Create(ctx, actor.System(), org.Input{Kind: org.KindHospital, Name: "A"}); err != nil {
		t.Fatal(err)
	}
	if w.hospB, err = orgs.Create(ctx, actor.System(), org.Input{Kind: org.KindHospital, Name: "B"}); err != nil {
		t.Fatal(err)
	}
	if w.ref, err = reference.New(db, tl, reference.Options{Key: refKey}); err != nil {
		t.Fatal(err)
	}
	w.now.Store(time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC).UnixNano())
	return w
}

func (w *world) imp(orgID int64, kind, csv string) {
	w.t.Helper()
	rep, err := w.ref.Import(context.Background(), actor.System(), orgID, kind, strings.NewReader(csv))
	if err != nil {
		w.t.Fatalf("import %s: %v", kind, err)
	}
	if rep.ErrorCount != 0 || rep.Imported != rep.Rows {
		w.t.Fatalf("import %s: %+v", kind, rep)
	}
}

// impAll imports the staff, patients and encounters of the constants below into A.
func (w *world) impAll() {
	w.t.Helper()
	w.imp(w.hospA.ID, reference.KindStaff, staffCSV)
	w.imp(w.hospA.ID, reference.KindPatients, patientsCSV)
	w.imp(w.hospA.ID, reference.KindEncounters, encountersCSV)
}

func (w *world) explainer() *explain.Explainer {
	return explain.New(w.ref, explain.Options{Now: func() time.Time { return time.Unix(0, w.now.Load()) }})
}

const (
	staffCSV = "staff_id,account,name,department,role,address\n" +
		"S1,doc1,王伟,心内科,doctor,东城区和平里1号楼2单元301\n" +
		"S2,nur2,李娜,心内科,nurse,西城区复兴路5号楼1单元101\n" +
		"S3,doc3,张强,骨科,doctor,朝阳区建国路8号楼3单元501\n" +
		"S4,doc4,赵敏,骨科,doctor,海淀区中关村9号楼1单元101\n"
	patientsCSV = "patient_id,name,address,vip,deceased_on,staff_id\n" +
		"P1,陈明,丰台区1号楼1单元101,false,,\n" +
		"P2,周杰,丰台区2号楼1单元101,false,,\n" +
		"P3,吴刚,丰台区3号楼1单元101,false,,\n" +
		"P4,郑爽,丰台区4号楼1单元101,false,,\n" +
		"P5,孙丽,丰台区5号楼1单元101,false,,\n" +
		"P6,王芳,东城区和平里1号楼2单元301,false,,\n" +
		"P7,李娜,西城区复兴路5号楼1单元101,false,,S2\n" +
		"P8,刘洋,东城区和平里1号楼5单元902,false,,\n" +
		"P9,马云,丰台区9号楼1单元101,true,,\n" +
		"P10,钱七,丰台区10号楼1单元101,false,2026-02-01,\n" +
		"P11,冯巩,丰台区11号楼1单元101,false,,\n" +
		"P12,卫青,丰台区12号楼1单元101,false,,\n"
	encountersCSV = "patient_id,staff_id,department,start,end\n" +
		"P1,S1,心内科,2026-03-01 08:00:00,\n" +
		"P2,,心内科,2026-03-02 08:00:00,\n" +
		"P3,S3,骨科,2026-02-20 08:00:00,2026-03-02 10:00:00\n" +
		"P4,S3,骨科,2026-01-01 08:00:00,2026-01-20 10:00:00\n" +
		"P6,S1,心内科,2026-03-01 08:00:00,\n" +
		"P9,S1,心内科,2026-03-01 08:00:00,\n" +
		"P11,S1,心内科,2026-03-06 08:00:00,\n" +
		"P12,S2,,2026-03-04 08:00:00,\n"
)

// at is the time of the accesses of the tests: 2026-03-05 10:00 in Shanghai.
var at = time.Date(2026, 3, 5, 10, 0, 0, 0, reference.Shanghai)

func view(account, patient string, t time.Time) *events.Event {
	return &events.Event{ID: "e", Time: t, System: "EMR", Account: account, Action: events.ActionView, PatientID: patient}
}

func keys(ms []i18n.Message) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Key)
	}
	return out
}

// TestExplain checks each filter and each flag and the precedence of the classes on
// reference data imported from CSV, on SQLite and PostgreSQL.
func TestExplain(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		w.impAll()
		x := w.explainer()
		for _, c := range []struct {
			name    string
			ev      *events.Event
			class   string
			filter  string
			flags   []string
			reasons []string // leading reason keys
		}{
			{"open encounter with the staff member", view("doc1", "P1", at), explain.Explained, explain.FilterEncounterStaff, nil,
				[]string{"explain.reason.encounter_staff"}},
			{"identifier normalized", view("doc1", " p1", at), explain.Explained, explain.FilterEncounterStaff, nil, nil},
			{"open encounter of a colleague in the department: current stay", view("nur2", "P1", at), explain.Explained, explain.FilterCurrentStay, nil,
				[]string{"explain.reason.current_stay_department"}},
			{"staff-only open encounter of a colleague: the colleague's department", view("doc1", "P12", at), explain.Explained, explain.FilterCurrentStay, nil, nil},
			{"department-only open encounter: current stay", view("nur2", "P2", at), explain.Explained, explain.FilterCurrentStay, nil, nil},
			{"encounter ended 3 days ago with the staff member", view("doc3", "P3", at), explain.Explained, explain.FilterEncounterStaff, nil, nil},
			{"encounter ended 3 days ago in the department", view("doc4", "P3", at), explain.Explained, explain.FilterEncounterDepartment, nil,
				[]string{"explain.reason.encounter_department"}},
			{"recent encounter of another department", view("doc1", "P3", at), explain.Unexplained, "", nil,
				[]string{explain.ReasonNoEncounter}},
			{"encounter ended 8 days after the window", view("doc3", "P3", at.AddDate(0, 0, 8)), explain.Unexplained, "", nil, nil},
			{"discharged 44 days ago, no filter", view("doc3", "P4", at), explain.Flagged, "", []string{explain.FlagDischarged},
				[]string{"explain.reason.discharged", explain.ReasonNoEncounter}},
			{"no encounter at all", view("doc1", "P5", at), explain.Unexplained, "", nil, []string{explain.ReasonNoEncounter}},
			{"encounter that starts after the access", view("doc1", "P11", at), explain.Unexplained, "", nil, nil},
			{"family, even with an open encounter", view("doc1", "P6", at), explain.Flagged, explain.FilterEncounterStaff, []string{explain.FlagFamily},
				[]string{"explain.reason.family", "explain.reason.encounter_staff"}},
			{"family without encounter", view("doc1", "P6", at.AddDate(0, 0, -10)), explain.Flagged, "", []string{explain.FlagFamily}, nil},
			{"self", view("nur2", "P7", at), explain.Flagged, "", []string{explain.FlagSelf}, []string{"explain.reason.self"}},
			{"co-worker", view("doc1", "P7", at), explain.Flagged, "", []string{explain.FlagCoworker}, []string{"explain.reason.coworker"}},
			{"neighbour", view("doc1", "P8", at), explain.Flagged, "", []string{explain.FlagNeighbour}, []string{"explain.reason.neighbour"}},
			{"VIP without encounter", view("doc3", "P9", at), explain.Flagged, "", []string{explain.FlagVIP}, []string{"explain.reason.vip"}},
			{"VIP explained by an encounter keeps the flag", view("doc1", "P9", at), explain.Explained, explain.FilterEncounterStaff,
				[]string{explain.FlagVIP}, []string{"explain.reason.vip", "explain.reason.encounter_staff"}},
			{"deceased, access after the death date", view("doc1", "P10", at), explain.Flagged, "", []string{explain.FlagDeceased},
				[]string{"explain.reason.deceased"}},
			{"deceased, access on the death day", view("doc1", "P10", time.Date(2026, 2, 1, 15, 0, 0, 0, reference.Shanghai)),
				explain.Unexplained, "", nil, nil},
			{"unknown account", view("ghost", "P5", at), explain.Unexplained, "", nil,
				[]string{explain.ReasonUnknownAccount, explain.ReasonNoEncounter}},
			{"unknown patient", view("doc1", "P999", at), explain.Unexplained, "", nil,
				[]string{explain.ReasonUnknownPatient, explain.ReasonNoEncounter}},
		} {
			got, err := x.Explain(ctx, w.hospA.ID, c.ev)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if got.Class != c.class || got.Filter != c.filter || !slices.Equal(got.Flags, c.flags) {
				t.Errorf("%s: got %s/%s/%v, want %s/%s/%v", c.name, got.Class, got.Filter, got.Flags, c.class, c.filter, c.flags)
			}
			if k := keys(got.Reasons); len(k) < len(c.reasons) || !slices.Equal(k[:len(c.reasons)], c.reasons) {
				t.Errorf("%s: reasons %v, want to begin with %v", c.name, k, c.reasons)
			}
			if len(got.Reasons) == 0 {
				t.Errorf("%s: no reason", c.name)
			}
			for _, r := range got.Reasons {
				for _, a := range r.Args {
					if s, ok := a.(string); ok && (strings.Contains(s, "P") || strings.Contains(s, "区")) {
						t.Errorf("%s: reason %s carries %q", c.name, r.Key, s)
					}
				}
			}
		}
		// The department is named in the department filters' sentences.
		got, _ := x.Explain(ctx, w.hospA.ID, view("doc4", "P3", at))
		if len(got.Reasons) != 1 || !slices.Equal(got.Reasons[0].Args, []any{"骨科"}) {
			t.Errorf("encounter_department reasons %+v", got.Reasons)
		}
		// Another hospital knows neither the account nor the patient.
		got, err := x.Explain(ctx, w.hospB.ID, view("doc1", "P1", at))
		if err != nil || got.Class != explain.Unexplained ||
			!slices.Equal(keys(got.Reasons), []string{explain.ReasonUnknownAccount, explain.ReasonUnknownPatient, explain.ReasonNoEncounter}) {
			t.Errorf("other hospital: %+v, %v", got, err)
		}
		// Not a patient-record access: no class.
		for _, ev := range []*events.Event{
			{Time: at, Account: "doc1", Action: events.ActionLogin},
			{Time: at, Account: "doc1", Action: events.ActionQueryDrugUsage, PatientID: "P1"},
			{Time: at, Account: "doc1", Action: events.ActionView},
		} {
			if got, err := x.Explain(ctx, w.hospA.ID, ev); err != nil || got.Class != "" || got.Reasons != nil {
				t.Errorf("%s: %+v, %v", ev.Action, got, err)
			}
		}
	})
}

// TestObserveOwnOrders: an account's own order on a patient explains its later
// accesses, not its earlier ones, not another account's, not itself; a failed order
// explains nothing.
func TestObserveOwnOrders(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		w.imp(w.hospA.ID, reference.KindStaff, staffCSV)
		w.imp(w.hospA.ID, reference.KindPatients, patientsCSV)
		x := w.explainer()
		order := &events.Event{Time: at, System: "HIS", Account: "doc3", Action: events.ActionPrescribe, PatientID: "p5"}
		failed := &events.Event{Time: at, System: "HIS", Account: "doc4", Action: events.ActionCreate, PatientID: "P5",
			Outcome: events.OutcomeFailure}
		x.Observe(w.hospA.ID, order)
		x.Observe(w.hospA.ID, failed)
		x.Observe(w.hospA.ID, &events.Event{Time: at, Account: "doc1", Action: events.ActionView, PatientID: "P5"})
		for _, c := range []struct {
			name  string
			ev    *events.Event
			class string
		}{
			{"later view by the same account", view("doc3", "P5", at.Add(time.Hour)), explain.Explained},
			{"earlier view", view("doc3", "P5", at.Add(-time.Hour)), explain.Unexplained},
			{"the order itself", order, explain.Unexplained},
			{"another account", view("doc1", "P5", at.Add(time.Hour)), explain.Unexplained},
			{"after a failed order", view("doc4", "P5", at.Add(time.Hour)), explain.Unexplained},
			{"another hospital", view("doc3", "P5", at.Add(time.Hour)), explain.Unexplained},
		} {
			org := w.hospA.ID
			if c.name == "another hospital" {
				org = w.hospB.ID
			}
			got, err := x.Explain(ctx, org, c.ev)
			if err != nil || got.Class != c.class {
				t.Errorf("%s: %+v, %v; want %s", c.name, got, err, c.class)
			}
			if c.class == explain.Explained && (got.Filter != explain.FilterOwnOrders || got.Reasons[0].Key != "explain.reason.own_orders") {
				t.Errorf("%s: %+v", c.name, got)
			}
		}
		// An earlier order observed later (replay out of order) moves the mark back.
		x.Observe(w.hospA.ID, &events.Event{Time: at.Add(-2 * time.Hour), Account: "doc3", Action: events.ActionModify, PatientID: "P5"})
		if got, _ := x.Explain(ctx, w.hospA.ID, view("doc3", "P5", at.Add(-time.Hour))); got.Filter != explain.FilterOwnOrders {
			t.Errorf("after an earlier order: %+v", got)
		}
	})
}

// TestReloadAfterImport: the snapshot is used as it is until CheckEvery has passed, then
// a reference import (which moves the change counter) is seen.
func TestReloadAfterImport(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		w.imp(w.hospA.ID, reference.KindStaff, staffCSV)
		w.imp(w.hospA.ID, reference.KindPatients, patientsCSV)
		x := w.explainer()
		ev := view("doc3", "P5", at)
		if got, _ := x.Explain(ctx, w.hospA.ID, ev); got.Class != explain.Unexplained {
			t.Fatalf("before: %+v", got)
		}
		w.imp(w.hospA.ID, reference.KindEncounters, "patient_id,staff_id,department,start,end\nP5,S3,骨科,2026-03-04 08:00:00,\n")
		if got, _ := x.Explain(ctx, w.hospA.ID, ev); got.Class != explain.Unexplained {
			t.Errorf("within CheckEvery the snapshot is kept: %+v", got)
		}
		w.now.Add(int64(2 * time.Second))
		if got, _ := x.Explain(ctx, w.hospA.ID, ev); got.Class != explain.Explained || got.Filter != explain.FilterEncounterStaff {
			t.Errorf("after the import and CheckEvery: %+v", got)
		}
		// A new patient of a second import is found too.
		w.imp(w.hospA.ID, reference.KindPatients, "patient_id,name,address,vip,deceased_on,staff_id\nP77,新人,某地,true,,\n")
		x.Reload(w.hospA.ID)
		if got, _ := x.Explain(ctx, w.hospA.ID, view("doc3", "P77", at)); !got.Has(explain.FlagVIP) {
			t.Errorf("after Reload: %+v", got)
		}
		v, err := w.ref.Version(ctx, w.hospA.ID)
		if err != nil || v != 4 {
			t.Errorf("Version = %d, %v; want 4 imports", v, err)
		}
		if v, err := w.ref.Version(ctx, w.hospB.ID); err != nil || v != 0 {
			t.Errorf("Version of B = %d, %v", v, err)
		}
	})
}

// TestExplainAccountAfterReload keeps an AccountCache across a reload of the staff
// list: the account unknown before the import is the staff member after it, and an
// account removed from the list is unknown again.
func TestExplainAccountAfterReload(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		w.imp(w.hospA.ID, reference.KindPatients, patientsCSV)
		w.imp(w.hospA.ID, reference.KindEncounters, encountersCSV)
		x := w.explainer()
		var c explain.AccountCache
		ev := view("doc1", "P1", at)
		got, err := x.ExplainAccount(ctx, w.hospA.ID, ev, &c)
		if err != nil || got.Class != explain.Unexplained || !slices.Contains(keys(got.Reasons), explain.ReasonUnknownAccount) {
			t.Fatalf("before the staff list: %+v, %v", got, err)
		}
		w.imp(w.hospA.ID, reference.KindStaff, staffCSV)
		x.Reload(w.hospA.ID)
		got, err = x.ExplainAccount(ctx, w.hospA.ID, ev, &c)
		if err != nil || got.Class != explain.Explained || got.Filter != explain.FilterEncounterStaff {
			t.Errorf("after the staff list: %+v, %v", got, err)
		}
		if want, _ := x.Explain(ctx, w.hospA.ID, ev); !slices.Equal(keys(want.Reasons), keys(got.Reasons)) || want.Class != got.Class {
			t.Errorf("ExplainAccount %+v, Explain %+v", got, want)
		}
		// Not a patient access: the zero Explanation, and the cache is left alone.
		if got, err := x.ExplainAccount(ctx, w.hospA.ID, &events.Event{Account: "doc1", Action: events.ActionLogin}, &c); err != nil || got.Class != "" {
			t.Errorf("login: %+v, %v", got, err)
		}
		// S1 takes another account (an import updates the staff members it names).
		w.imp(w.hospA.ID, reference.KindStaff, "staff_id,account,name,department,role,address\nS1,doc1new,王伟,心内科,doctor,东城区和平里1号楼2单元301\n")
		x.Reload(w.hospA.ID)
		got, err = x.ExplainAccount(ctx, w.hospA.ID, ev, &c)
		if err != nil || got.Class != explain.Unexplained || !slices.Contains(keys(got.Reasons), explain.ReasonUnknownAccount) {
			t.Errorf("after doc1 left the staff list: %+v, %v", got, err)
		}
		if want, _ := x.Explain(ctx, w.hospA.ID, ev); !slices.Equal(keys(want.Reasons), keys(got.Reasons)) || want.Class != got.Class {
			t.Errorf("ExplainAccount %+v, Explain %+v", got, want)
		}
	})
}

// BenchmarkExplain measures Explain on a loaded snapshot: an explained view (no
// allocation) and a flagged one.
func BenchmarkExplain(b *testing.B) {
	{
		db := storetest.Open(b, store.SQLite)
		ctx := context.Background()
		w := newWorld(b, db)
		w.impAll()
		x := w.explainer()
		for _, c := range []struct {
			name string
			ev   *events.Event
		}{{"explained", view("doc1", "P1", at)}, {"flagged", view("doc1", "P6", at)}, {"unexplained", view("doc1", "P5", at)}} {
			if _, err := x.Explain(ctx, w.hospA.ID, c.ev); err != nil {
				b.Fatal(err)
			}
			b.Run(c.name, func(b *testing.B) {
				b.ReportAllocs()
				cpu0 := cpuTime()
				for b.Loop() {
					x.Explain(ctx, w.hospA.ID, c.ev)
				}
				b.ReportMetric(float64(b.N)/(cpuTime()-cpu0).Seconds(), "events/cpu-s")
			})
		}
		b.Run("PatientHash", func(b *testing.B) {
			// What keying the snapshot by the keyed hash would cost per event instead.
			b.ReportAllocs()
			for b.Loop() {
				w.ref.PatientHash("P1")
			}
		})
	}
}

// TestConcurrent runs Explain, Observe and reloads from several goroutines (meant for
// -race): every result stays consistent with a single-threaded run.
func TestConcurrent(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	ctx := context.Background()
	w := newWorld(t, db)
	w.impAll()
	x := w.explainer()
	done := make(chan error, 8)
	for g := range 8 {
		go func() {
			for i := range 300 {
				if g%2 == 0 {
					x.Observe(w.hospA.ID, &events.Event{Time: at, Account: "doc3", Action: events.ActionCreate, PatientID: "P5"})
				}
				if i%50 == 0 {
					w.now.Add(int64(2 * time.Second))
					x.Reload(w.hospA.ID)
				}
				got, err := x.Explain(ctx, w.hospA.ID, view("doc1", "P1", at))
				if err != nil {
					done <- err
					return
				}
				if got.Class != explain.Explained || got.Filter != explain.FilterEncounterStaff {
					done <- fmt.Errorf("goroutine %d: %+v", g, got)
					return
				}
			}
			done <- nil
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

// TestExplainNoAllocation: on a loaded snapshot Explain allocates nothing, flagged
// accesses included (their flags and reasons are made once per snapshot and shared),
// and the shared reasons of a flagged access are its flags' sentences then those of
// its own filter (a different filter with the same flags gets its own).
func TestExplainNoAllocation(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	ctx := context.Background()
	w := newWorld(t, db)
	w.impAll()
	x := w.explainer()
	for _, c := range []struct {
		name    string
		ev      *events.Event
		reasons []string // with args of department sentences after a colon
	}{
		{"explained", view("doc1", "P1", at), []string{"explain.reason.encounter_staff"}},
		{"VIP, staff encounter", view("doc1", "P9", at), []string{"explain.reason.vip", "explain.reason.encounter_staff"}},
		{"VIP, current stay", view("nur2", "P9", at), []string{"explain.reason.vip", "explain.reason.current_stay_department:心内科"}},
		{"family, staff encounter", view("doc1", "P6", at), []string{"explain.reason.family", "explain.reason.encounter_staff"}},
		{"co-worker, unexplained", view("doc1", "P7", at), []string{"explain.reason.coworker", "explain.reason.no_encounter"}},
		{"VIP, unknown account", view("nobody", "P9", at), []string{"explain.reason.vip", "explain.reason.unknown_account", "explain.reason.no_encounter"}},
		{"deceased", view("doc1", "P10", at), []string{"explain.reason.deceased", "explain.reason.no_encounter"}},
		{"unexplained", view("doc1", "P5", at), []string{"explain.reason.no_encounter"}},
	} {
		first, err := x.Explain(ctx, w.hospA.ID, c.ev)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range first.Reasons {
			k := m.Key
			if len(m.Args) > 0 && strings.HasSuffix(k, "department") {
				k += fmt.Sprint(":", m.Args[0])
			}
			got = append(got, k)
		}
		if !slices.Equal(got, c.reasons) {
			t.Errorf("%s: reasons %q, want %q", c.name, got, c.reasons)
		}
		again, _ := x.Explain(ctx, w.hospA.ID, c.ev)
		if fmt.Sprint(again) != fmt.Sprint(first) {
			t.Errorf("%s: %+v, then %+v", c.name, first, again)
		}
		if n := testing.AllocsPerRun(100, func() { x.Explain(ctx, w.hospA.ID, c.ev) }); n != 0 {
			t.Errorf("%s: Explain allocates %.0f times a call, want 0", c.name, n)
		}
	}
}

// TestExplainAlternatingOrganisations: events of two organisations in turn are each
// classified on their own organisation's snapshot (the Explainer remembers the last
// organisation it served).
func TestExplainAlternatingOrganisations(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	ctx := context.Background()
	w := newWorld(t, db)
	w.impAll()
	x := w.explainer()
	for i := range 4 {
		a, err := x.Explain(ctx, w.hospA.ID, view("doc1", "P1", at))
		if err != nil || a.Class != explain.Explained || a.Filter != explain.FilterEncounterStaff {
			t.Errorf("round %d, A: %+v, %v", i, a, err)
		}
		b, err := x.Explain(ctx, w.hospB.ID, view("doc1", "P1", at))
		if err != nil || b.Class != explain.Unexplained ||
			!slices.Equal(keys(b.Reasons), []string{explain.ReasonUnknownAccount, explain.ReasonUnknownPatient, explain.ReasonNoEncounter}) {
			t.Errorf("round %d, B (no reference data): %+v, %v", i, b, err)
		}
	}
}

// TestReloadDefaultClock: without Options.Now the Explainer reads no clock per Explain;
// Reload makes the next Explain see an import at once, and without Reload the import
// is seen once CheckEvery has passed (polled, never asserted on a duration).
func TestReloadDefaultClock(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	ctx := context.Background()
	w := newWorld(t, db)
	w.imp(w.hospA.ID, reference.KindStaff, staffCSV)
	w.imp(w.hospA.ID, reference.KindPatients, patientsCSV)
	x := explain.New(w.ref, explain.Options{CheckEvery: time.Millisecond})
	if got, err := x.Explain(ctx, w.hospA.ID, view("doc1", "P1", at)); err != nil || got.Class != explain.Unexplained {
		t.Fatalf("before the encounters: %+v, %v", got, err)
	}
	w.imp(w.hospA.ID, reference.KindEncounters, encountersCSV)
	x.Reload(w.hospA.ID)
	if got, _ := x.Explain(ctx, w.hospA.ID, view("doc1", "P1", at)); got.Filter != explain.FilterEncounterStaff {
		t.Errorf("after the import and Reload: %+v", got)
	}
	w.imp(w.hospA.ID, reference.KindPatients, "patient_id,name,address,vip,deceased_on,staff_id\nP77,新人,某地,true,,\n")
	deadline := time.Now().Add(20 * time.Second)
	for {
		got, err := x.Explain(ctx, w.hospA.ID, view("doc3", "P77", at))
		if err != nil {
			t.Fatal(err)
		}
		if got.Has(explain.FlagVIP) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the new patient is still unknown long after CheckEvery: %+v", got)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestWarm: Warm loads the reference data of every organisation that has some, so that
// Explain then needs no database (closed here); an organisation without reference data
// is not loaded.
func TestWarm(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	ctx := context.Background()
	w := newWorld(t, db)
	w.impAll()
	x := w.explainer()
	if err := x.Warm(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := x.Explain(ctx, w.hospA.ID, view("doc1", "P1", at))
	if err != nil {
		t.Fatalf("Explain after Warm with the database closed: %v", err)
	}
	if got.Class != explain.Explained {
		t.Errorf("class %q, want explained", got.Class)
	}
	if _, err := x.Explain(ctx, w.hospB.ID, view("doc1", "P1", at)); err == nil {
		t.Error("hospital B, which has no reference data, was loaded by Warm")
	}
}

// TestOrderMemoryBounded: an own order explains later accesses for OrderMemory (counted
// back from the latest order seen, to within an eighth more), then is forgotten with its
// time bucket, so that the memory of a long-running process holds what its stored events
// could rebuild; an order older than that, replayed, is not taken in.
func TestOrderMemoryBounded(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	ctx := context.Background()
	w := newWorld(t, db)
	w.imp(w.hospA.ID, reference.KindStaff, staffCSV)
	w.imp(w.hospA.ID, reference.KindPatients, patientsCSV)
	const memory = 80 * 24 * time.Hour // buckets of 10 days
	x := explain.New(w.ref, explain.Options{OrderMemory: memory, Now: func() time.Time { return time.Unix(0, w.now.Load()) }})
	order := func(account, patient string, at time.Time) {
		x.Observe(w.hospA.ID, &events.Event{Time: at, System: "HIS", Account: account, Action: events.ActionPrescribe, PatientID: patient})
	}
	class := func(account, patient string, at time.Time) string {
		t.Helper()
		got, err := x.Explain(ctx, w.hospA.ID, view(account, patient, at))
		if err != nil {
			t.Fatal(err)
		}
		return got.Filter
	}
	order("doc3", "P5", at)
	if f := class("doc3", "P5", at.Add(time.Hour)); f != explain.FilterOwnOrders {
		t.Fatalf("right after the order: filter %q", f)
	}
	// Other orders move the latest on: 70 days later the order is still remembered.
	order("doc1", "P4", at.Add(70*24*time.Hour))
	if f := class("doc3", "P5", at.Add(70*24*time.Hour)); f != explain.FilterOwnOrders {
		t.Errorf("70 days later: filter %q, want own_orders", f)
	}
	if n := explain.OrderBuckets(x, w.hospA.ID); n != 2 {
		t.Errorf("%d buckets, want 2", n)
	}
	// 100 days later its bucket has ended more than 80 days before the latest order.
	order("doc1", "P4", at.Add(100*24*time.Hour))
	if f := class("doc3", "P5", at.Add(100*24*time.Hour)); f == explain.FilterOwnOrders {
		t.Error("100 days later the order still explains (memory not bounded)")
	}
	if n := explain.OrderBuckets(x, w.hospA.ID); n != 2 {
		t.Errorf("%d buckets after the first was dropped, want 2", n)
	}
	// An order older than the memory, replayed now, is not taken in.
	order("doc4", "P5", at)
	if f := class("doc4", "P5", at.Add(time.Hour)); f == explain.FilterOwnOrders {
		t.Error("an order older than the memory was taken in")
	}
}
