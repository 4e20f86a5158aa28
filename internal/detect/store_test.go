package detect

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/events"
	"github.com/medguard/medguard/internal/events/simulate"
	"github.com/medguard/medguard/internal/explain"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
	"github.com/medguard/medguard/internal/trail"
	"github.com/medguard/medguard/internal/trail/trailtest"
)

// world is a database with a hospital, its event store and the alert inbox.
type world struct {
	db   *store.DB
	evs  *events.Service
	al   *alert.Service
	tl   *trail.Log
	hosp org.Node
}

func newWorld(t testing.TB, db *store.DB) *world {
	t.Helper()
	ctx := context.Background()
	tl, err := trail.New(trail.SHA256, trailtest.Key(t))
	if err != nil {
		t.Fatal(err)
	}
	w := &world{db: db, tl: tl}
	orgs := org.NewService(db, tl)
	if w.hosp, err = orgs.Create(ctx, actor.System(), org.Input{Kind: org.KindHospital, Name: "医院"}); err != nil {
		t.Fatal(err)
	}
	key := make([]byte, events.KeySize)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	if w.evs, err = events.New(db, events.Options{Key: key, Retention: 10 * 365 * 24 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	if w.al, err = alert.New(db, tl); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) append(t testing.TB, evs []events.Event) {
	t.Helper()
	for len(evs) > 0 {
		n := min(len(evs), 20000)
		res, err := w.evs.Append(context.Background(), w.hosp.ID, evs[:n])
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Rejected) > 0 {
			t.Fatalf("rejected: %+v", res.Rejected[0])
		}
		evs = evs[n:]
	}
}

// hitKey identifies a hit for comparisons.
func hitKey(h Hit) string {
	var g []string
	for _, f := range h.GroupBy {
		g = append(g, f+"="+h.Group[f])
	}
	return fmt.Sprintf("%s %s %s %s-%s %v", h.Rule.ID, strings.Join(g, ","), h.Account, h.From.Format(time.RFC3339),
		h.To.Format(time.RFC3339), h.Events)
}

// storeRules are the built-in rules the store tests run: those that need no explainer
// until package explain provides one to the tests.
func storeRules() []Rule {
	var out []Rule
	for _, r := range Builtin() {
		if !needsExplainer([]Rule{r}) {
			out = append(out, r)
		}
	}
	return out
}

// TestRestartSameHits: an engine whose state was rebuilt from storage (Prepare: SQL
// aggregates for first_seen and dormant, replay of the longest window for the rest)
// after the events up to a cut gives, on the events after it, the hits an uninterrupted
// engine gives — on the simulator's hospital, SQLite and PostgreSQL.
func TestRestartSameHits(t *testing.T) {
	sim, err := simulate.Generate(simulate.Config{Seed: 1, Staff: 60, Patients: 300, Days: 14})
	if err != nil {
		t.Fatal(err)
	}
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		ref := w.importReference(t, sim)
		w.append(t, sim.Events)
		// Each engine has an explainer of its own, as a restarted process would.
		envOf := func() Env { return simEnv(ref) }
		env := envOf()
		rules := Builtin()
		all, err := Test(ctx, w.evs, rules, env, Span{})
		if err != nil {
			t.Fatal(err)
		}
		if len(all) < 10 {
			t.Fatalf("only %d hits on the simulator: the comparison would prove little", len(all))
		}
		var want []string
		for _, h := range all {
			want = append(want, hitKey(h))
		}
		last, err := w.evs.LastSeq(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// Cuts in the middle of windowed scenarios (brute force, batch login, many
		// patients, drug-usage queries), and a few others.
		seqOf := map[string]int64{}
		page, err := w.evs.Since(ctx, events.SeqFilter{Limit: 1 << 30})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page {
			seqOf[e.ID] = e.Seq
		}
		cuts := []int64{last / 3, last - last/10}
		for _, sc := range sim.Truth {
			switch sc.Kind {
			case simulate.KindBruteForce, simulate.KindBatchLogin, simulate.KindManyPatients, simulate.KindDrugUsage:
				cuts = append(cuts, seqOf[sc.EventIDs[len(sc.EventIDs)/2]])
			}
		}
		for _, cut := range cuts {
			t.Run(fmt.Sprint(cut), func(t *testing.T) {
				var got []string
				emit := func(h Hit) { got = append(got, hitKey(h)) }
				before, err := NewEngine(rules, envOf())
				if err != nil {
					t.Fatal(err)
				}
				evalSeq(t, w.evs, before, 0, cut, emit)
				after, err := NewEngine(rules, envOf())
				if err != nil {
					t.Fatal(err)
				}
				if err := Prepare(ctx, w.evs, after, 0, cut, time.Time{}); err != nil {
					t.Fatal(err)
				}
				evalSeq(t, w.evs, after, cut, 0, emit)
				if d := cmp.Diff(want, got); d != "" {
					t.Errorf("hits after a restart at seq %d differ (-uninterrupted +restarted):\n%s", cut, d)
				}
			})
		}
	})
}

func mustEngine(t *testing.T, rules []Rule, env Env) *Engine {
	t.Helper()
	e, err := NewEngine(rules, env)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// evalSeq evaluates the stored events after seq from up to seq to (0: the last).
func evalSeq(t *testing.T, evs *events.Service, eng *Engine, from, to int64, emit func(Hit)) {
	t.Helper()
	ctx := context.Background()
	for {
		page, err := evs.Since(ctx, events.SeqFilter{AfterSeq: from, UpToSeq: to, Limit: 5000})
		if err != nil {
			t.Fatal(err)
		}
		for i := range page {
			if err := eng.Evaluate(ctx, page[i].OrgID, &page[i], emit); err != nil {
				t.Fatal(err)
			}
		}
		if len(page) < 5000 {
			return
		}
		from = page[len(page)-1].Seq
	}
}

// TestRunner: the live runner starts after the events stored before its first start,
// raises the alerts of new events and moves its checkpoint with them; a runner started
// again (a restart) resumes at the checkpoint with its window state rebuilt, so a brute
// force whose failures came before the restart and success after it is found once.
func TestRunner(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		base := time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)
		ev := func(id string, sec int, action, account string) events.Event {
			e := events.Event{ID: id, Time: base.Add(time.Duration(sec) * time.Second), System: "HIS", Account: account, Action: action}
			if action == events.ActionLoginFailure {
				e.Outcome = events.OutcomeFailure
			}
			return e
		}
		// History before the first start: a whole brute force, never alerted live.
		var old []events.Event
		for i := range 6 {
			old = append(old, ev(fmt.Sprint("old", i), i, events.ActionLoginFailure, "doc0"))
		}
		w.append(t, append(old, ev("old-ok", 7, events.ActionLogin, "doc0")))
		opt := RunnerOptions{Rules: func(context.Context) ([]Rule, error) { return storeRules(), nil }}
		r := NewRunner(db, w.evs, w.al, opt)
		if n, err := r.Step(ctx); err != nil || n != 0 {
			t.Fatalf("first step: %d events, %v; want none (history is for detect run)", n, err)
		}
		// Live: 6 failures of doc1; the runner evaluates them; no alert yet.
		var fails []events.Event
		for i := range 6 {
			fails = append(fails, ev(fmt.Sprint("f", i), 100+i*5, events.ActionLoginFailure, "doc1"))
		}
		w.append(t, fails)
		if n, err := r.Step(ctx); err != nil || n != 6 {
			t.Fatalf("step: %d events, %v; want 6", n, err)
		}
		if got := monitorAlerts(t, w); len(got) != 0 {
			t.Fatalf("alerts after the failures alone: %v", got)
		}
		cp := r.Checkpoint()
		// A restart; then the success.
		r2 := NewRunner(db, w.evs, w.al, opt)
		w.append(t, []events.Event{ev("ok", 140, events.ActionLogin, "doc1")})
		if n, err := r2.Step(ctx); err != nil || n != 1 {
			t.Fatalf("step after the restart: %d events, %v; want 1", n, err)
		}
		if r2.Checkpoint() != cp+1 {
			t.Errorf("checkpoint %d after the restart; want %d", r2.Checkpoint(), cp+1)
		}
		got := monitorAlerts(t, w)
		if !slices.Contains(got, "brute-force doc1") || slices.ContainsFunc(got, func(s string) bool { return strings.Contains(s, "doc0") }) {
			t.Errorf("alerts %v; want brute-force doc1 and nothing of doc0's history", got)
		}
		var seq int64
		if err := db.QueryRowContext(ctx, `SELECT seq FROM detect_checkpoint WHERE name = 'live'`).Scan(&seq); err != nil || seq != r2.Checkpoint() {
			t.Errorf("stored checkpoint %d (%v); want %d", seq, err, r2.Checkpoint())
		}
	})
}

func monitorAlerts(t *testing.T, w *world) []string {
	t.Helper()
	rows, err := w.db.QueryContext(context.Background(), `SELECT kind, account FROM alerts WHERE source = 'monitor' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var k, a string
		if err := rows.Scan(&k, &a); err != nil {
			t.Fatal(err)
		}
		out = append(out, k+" "+a)
	}
	return out
}

// TestPrepareOwnOrders: what the explainer knew of an account's own orders survives a
// restart — a prescription five days before the restart still explains the account's
// views of that patient after it (no unexplained burst), on SQLite and PostgreSQL.
func TestPrepareOwnOrders(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		ref := w.importReferenceDir(t, filepath.Join("testdata", "reference"))
		base := time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)
		ev := func(id string, at time.Duration, action, patient string) events.Event {
			return events.Event{ID: id, Time: base.Add(at), System: "HIS", Account: "doc1", Department: "心内科", Action: action,
				PatientID: patient}
		}
		evs := []events.Event{ev("rx", 0, events.ActionPrescribe, "P008"), ev("login", 72*time.Hour, events.ActionLogin, "")}
		for i := range 5 {
			evs = append(evs, ev(fmt.Sprint("v", i), 120*time.Hour+time.Duration(i)*10*time.Minute, events.ActionView, "P008"))
		}
		w.append(t, evs)
		rule, _ := BuiltinRule("unexplained-burst")
		rules := []Rule{rule}
		env := func() Env { return Env{Explainer: explain.New(ref, explain.Options{})} }
		var hits []string
		emit := func(h Hit) { hits = append(hits, hitKey(h)) }
		evalSeq(t, w.evs, mustEngine(t, rules, env()), 0, 0, emit)
		if len(hits) != 0 {
			t.Fatalf("uninterrupted: %v; the prescription explains the views", hits)
		}
		page, err := w.evs.Since(ctx, events.SeqFilter{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		cut := page[1].Seq // after the login, three days after the prescription
		before := mustEngine(t, rules, env())
		evalSeq(t, w.evs, before, 0, cut, emit)
		after := mustEngine(t, rules, env())
		if err := Prepare(ctx, w.evs, after, 0, cut, time.Time{}); err != nil {
			t.Fatal(err)
		}
		evalSeq(t, w.evs, after, cut, 0, emit)
		if len(hits) != 0 {
			t.Errorf("after a restart: %v; the prescription before it still explains the views", hits)
		}
	})
}

// TestRunnerCheckpointMoved: a runner whose checkpoint another runner moved (two
// processes, the lease lost in between) raises nothing for that step, then resumes from
// the stored checkpoint: every event is evaluated once.
func TestRunnerCheckpointMoved(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		base := time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)
		export := func(id string, min int) events.Event {
			return events.Event{ID: id, Time: base.Add(time.Duration(min) * time.Minute), System: "EMR", Account: "doc" + id,
				Action: events.ActionExport, RecordCount: 5000}
		}
		rule, _ := BuiltinRule("bulk-export")
		opt := RunnerOptions{Rules: func(context.Context) ([]Rule, error) { return []Rule{rule}, nil }}
		r1, r2 := NewRunner(db, w.evs, w.al, opt), NewRunner(db, w.evs, w.al, opt)
		for _, r := range []*Runner{r1, r2} {
			if _, err := r.Step(ctx); err != nil {
				t.Fatal(err)
			}
		}
		w.append(t, []events.Event{export("1", 0)})
		if n, err := r2.Step(ctx); err != nil || n != 1 {
			t.Fatalf("r2: %d, %v", n, err)
		}
		w.append(t, []events.Event{export("2", 1)})
		if _, err := r1.Step(ctx); err == nil {
			t.Fatal("r1 stepped from a checkpoint another runner had moved")
		}
		if n, err := r1.Step(ctx); err != nil || n != 1 {
			t.Fatalf("r1 after rebuilding: %d, %v; want the one new event", n, err)
		}
		got := monitorAlerts(t, w)
		if strings.Join(got, ";") != "bulk-export doc1;bulk-export doc2" {
			t.Errorf("alerts %v; want one per export", got)
		}
		var count int
		if err := db.QueryRowContext(ctx, `SELECT SUM(count) FROM alerts WHERE source = 'monitor'`).Scan(&count); err != nil || count != 2 {
			t.Errorf("raised %d times (%v); want 2", count, err)
		}
	})
}

// TestRunnerPerOrganisation: with RulesFor each hospital's events go through its own
// rules — hospital B disabled brute force, so only A's brute force is an alert — and a
// restart between a failure run and its success rebuilds each hospital's state from its
// own events.
func TestRunnerPerOrganisation(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		other, err := org.NewService(db, w.tl).Create(ctx, actor.System(), org.Input{Kind: org.KindHospital, Name: "二院"})
		if err != nil {
			t.Fatal(err)
		}
		base := time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)
		ev := func(id string, sec int, action string) events.Event {
			e := events.Event{ID: id, Time: base.Add(time.Duration(sec) * time.Second), System: "HIS", Account: "doc1", Action: action}
			if action == events.ActionLoginFailure {
				e.Outcome = events.OutcomeFailure
			}
			return e
		}
		both := func(evs []events.Event) {
			t.Helper()
			w.append(t, evs)
			if _, err := w.evs.Append(ctx, other.ID, evs); err != nil {
				t.Fatal(err)
			}
		}
		var asked []int64
		opt := RunnerOptions{RulesFor: func(_ context.Context, orgID int64) ([]Rule, error) {
			asked = append(asked, orgID)
			if orgID == other.ID {
				return slices.DeleteFunc(storeRules(), func(r Rule) bool { return r.ID == "brute-force" }), nil
			}
			return storeRules(), nil
		}}
		both([]events.Event{ev("first", 0, events.ActionLogin)})
		r := NewRunner(db, w.evs, w.al, opt)
		if _, err := r.Step(ctx); err != nil {
			t.Fatal(err)
		}
		var fails []events.Event
		for i := range 6 {
			fails = append(fails, ev(fmt.Sprint("f", i), 100+i*5, events.ActionLoginFailure))
		}
		both(fails)
		if n, err := r.Step(ctx); err != nil || n != 12 {
			t.Fatalf("step: %d events, %v; want 12", n, err)
		}
		r2 := NewRunner(db, w.evs, w.al, opt)
		both([]events.Event{ev("ok", 140, events.ActionLogin)})
		if n, err := r2.Step(ctx); err != nil || n != 2 {
			t.Fatalf("step after the restart: %d events, %v; want 2", n, err)
		}
		var orgs []int64
		rows, err := db.QueryContext(ctx, `SELECT org_id FROM alerts WHERE source = 'monitor' AND kind = 'brute-force'`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			orgs = append(orgs, id)
		}
		rows.Close()
		if len(orgs) != 1 || orgs[0] != w.hosp.ID {
			t.Errorf("brute-force alerts of organisations %v; want only %d", orgs, w.hosp.ID)
		}
		if !slices.Contains(asked, other.ID) || !slices.Contains(asked, w.hosp.ID) {
			t.Errorf("rules asked for %v", asked)
		}
	})
}

// TestRunnerLateCommit: on PostgreSQL a batch takes its sequence numbers when it is
// inserted and shows them when it commits, so a batch with lower numbers can become
// visible after one with higher numbers was evaluated. The runner evaluates the later
// batch at once, keeps the checkpoint below the gap, and evaluates the late batch when
// it shows — its alert is not lost; a gap that never fills (a rollback) is given up
// after the grace period.
func TestRunnerLateCommit(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		if db.Dialect() != store.Postgres {
			t.Skip("SQLite has one writer: sequence numbers show in order")
		}
		ctx := context.Background()
		w := newWorld(t, db)
		rule, ok := BuiltinRule("privilege-change")
		if !ok {
			t.Fatal("no privilege-change rule")
		}
		r := NewRunner(db, w.evs, w.al, RunnerOptions{Rules: func(context.Context) ([]Rule, error) { return []Rule{rule}, nil }})
		if _, err := r.Step(ctx); err != nil {
			t.Fatal(err)
		}
		at := time.Now().UTC()
		priv := func(id, account string) events.Event {
			return events.Event{ID: id, Time: at, System: "HIS", Account: account, Action: events.ActionPrivilegeChange}
		}
		// A transaction inserts an event (taking its number) and stays open.
		insertHeld := func(account string, commit bool) (int64, chan struct{}, chan error) {
			got, release, done := make(chan int64, 1), make(chan struct{}), make(chan error, 1)
			go func() {
				done <- db.InTx(ctx, func(tx *store.Tx) error {
					var id int64
					if err := tx.QueryRowContext(ctx, `INSERT INTO events (org_id, system, event_id, time, account, action, received_at)
						VALUES (?, 'HIS', ?, ?, ?, 'privilege_change', ?) RETURNING id`, w.hosp.ID, "held-"+account, at, account, at).Scan(&id); err != nil {
						got <- 0
						return err
					}
					got <- id
					<-release
					if !commit {
						return errors.New("rolled back")
					}
					return nil
				})
			}()
			id := <-got
			if id == 0 {
				t.Fatal(<-done)
			}
			return id, release, done
		}
		heldID, release, done := insertHeld("late", true)
		w.append(t, []events.Event{priv("b", "early")})
		if _, err := r.Step(ctx); err != nil {
			t.Fatal(err)
		}
		if got := monitorAlerts(t, w); !slices.Contains(got, "privilege-change early") {
			t.Fatalf("alerts %v: the committed event was not evaluated at once", got)
		}
		if cp := r.Checkpoint(); cp >= heldID {
			t.Fatalf("checkpoint %d moved past the open gap at %d", cp, heldID)
		}
		close(release)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if _, err := r.Step(ctx); err != nil {
			t.Fatal(err)
		}
		if got := monitorAlerts(t, w); !slices.Contains(got, "privilege-change late") {
			t.Fatalf("alerts %v: the late commit was lost", got)
		}
		last, err := w.evs.LastSeq(ctx)
		if err != nil || r.Checkpoint() != last {
			t.Fatalf("checkpoint %d, last event %d (%v)", r.Checkpoint(), last, err)
		}

		// A rolled-back insert leaves a gap that never fills: given up after the grace.
		rolled, release, done := insertHeld("rolled", false)
		w.append(t, []events.Event{priv("c", "after")})
		close(release)
		<-done
		if _, err := r.Step(ctx); err != nil {
			t.Fatal(err)
		}
		if cp := r.Checkpoint(); cp >= rolled {
			t.Fatalf("checkpoint %d past the gap %d before its grace", cp, rolled)
		}
		r.now = func() time.Time { return time.Now().Add(2 * DefaultGrace) }
		if _, err := r.Step(ctx); err != nil {
			t.Fatal(err)
		}
		if last, _ := w.evs.LastSeq(ctx); r.Checkpoint() != last {
			t.Errorf("checkpoint %d after the grace, want %d", r.Checkpoint(), last)
		}
	})
}

// TestRunnerWokenByCommit: with a poll interval of an hour, a runner wired to the event
// store's OnCommit evaluates a batch as soon as it is committed, and calls Raised after
// the alert it raised was committed — the alert is visible when Raised runs.
func TestRunnerWokenByCommit(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		w := newWorld(t, db)
		rule, ok := BuiltinRule("privilege-change")
		if !ok {
			t.Fatal("no privilege-change rule")
		}
		raised := make(chan struct{}, 4)
		r := NewRunner(db, w.evs, w.al, RunnerOptions{Poll: time.Hour,
			Rules:  func(context.Context) ([]Rule, error) { return []Rule{rule}, nil },
			Raised: func() { raised <- struct{}{} }})
		if _, err := r.Step(ctx); err != nil { // the checkpoint before any event
			t.Fatal(err)
		}
		w.evs.OnCommit(r.Notify)
		defer w.evs.OnCommit(nil)
		done := make(chan struct{})
		go func() { r.Run(ctx); close(done) }()
		// The first event may be found by Run's first step; the second comes while the
		// runner sleeps for its hour, so only the wake-up can have it evaluated.
		for _, account := range []string{"ops1", "ops2"} {
			w.append(t, []events.Event{{ID: account, Time: time.Now().UTC(), System: "HIS", Account: account, Action: events.ActionPrivilegeChange}})
			select {
			case <-raised:
				if got := monitorAlerts(t, w); !slices.Contains(got, "privilege-change "+account) {
					t.Fatalf("alerts after Raised: %v", got)
				}
			case <-done:
				t.Fatal("the runner stopped")
			case <-time.After(30 * time.Second):
				t.Fatalf("the batch of %s did not wake the runner (it polls hourly)", account)
			}
		}
		cancel()
		<-done
	})
}

// TestRunnerSQLiteHoleIsNoGap: on SQLite a batch's sequence numbers are given inside the
// writer's transaction, so the number of an event dropped as a duplicate is a hole that
// never fills: the runner's checkpoint moves past it at once instead of waiting for it
// the grace period (as it must on PostgreSQL).
func TestRunnerSQLiteHoleIsNoGap(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	ctx := context.Background()
	w := newWorld(t, db)
	r := NewRunner(db, w.evs, w.al, RunnerOptions{Rules: func(context.Context) ([]Rule, error) { return nil, nil }})
	if _, err := r.Step(ctx); err != nil { // the runner starts where the stream ends
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	view := func(id string) events.Event {
		return events.Event{ID: id, Time: at, System: "HIS", Account: "doc", Action: events.ActionView}
	}
	if _, err := w.evs.Append(ctx, w.hosp.ID, []events.Event{view("a")}); err != nil {
		t.Fatal(err)
	}
	// "a" again takes the next number and is dropped: a hole between the others.
	res, err := w.evs.Append(ctx, w.hosp.ID, []events.Event{view("a"), view("b")})
	if err != nil || res.Accepted != 1 || res.Duplicates != 1 {
		t.Fatalf("append: %+v %v", res, err)
	}
	last, err := w.evs.LastSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if last != 3 {
		t.Fatalf("last sequence number %d, want 3 (1, the hole 2, 3)", last)
	}
	if _, err := r.Step(ctx); err != nil {
		t.Fatal(err)
	}
	if r.Checkpoint() != last {
		t.Errorf("checkpoint %d after one step, want %d (past the hole)", r.Checkpoint(), last)
	}
}
