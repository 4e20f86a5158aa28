package rulestore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/detect"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/rulestore"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
	"github.com/medguard/medguard/internal/trail"
	"github.com/medguard/medguard/internal/trail/trailtest"
)

type world struct {
	svc                *rulestore.Service
	db                 *store.DB
	prov, hospA, hospB org.Node
}

func newWorld(t *testing.T, db *store.DB) *world {
	t.Helper()
	ctx := context.Background()
	tl, err := trail.New(trail.SHA256, trailtest.Key(t))
	if err != nil {
		t.Fatal(err)
	}
	orgs := org.NewService(db, tl)
	mk := func(parent int64, kind, name string) org.Node {
		n, err := orgs.Create(ctx, actor.System(), org.Input{ParentID: parent, Kind: kind, Name: name})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	w := &world{db: db, svc: rulestore.New(db, tl)}
	w.prov = mk(0, org.KindProvince, "省")
	w.hospA = mk(w.prov.ID, org.KindHospital, "A")
	w.hospB = mk(w.prov.ID, org.KindHospital, "B")
	return w
}

func officer(n org.Node) actor.Actor {
	return actor.Actor{Username: "sec-" + n.Name, Role: "security_officer", OrgID: n.ID, OrgPath: n.Path}
}

// bruteForce is the built-in brute-force rule's YAML with replacements applied.
func bruteForce(t *testing.T, repl ...string) []byte {
	t.Helper()
	r, ok := detect.BuiltinRule("brute-force")
	if !ok {
		t.Fatal("no built-in brute-force rule")
	}
	y := string(r.YAML())
	for i := 0; i+1 < len(repl); i += 2 {
		if !strings.Contains(y, repl[i]) {
			t.Fatalf("the brute-force rule has no %q:\n%s", repl[i], y)
		}
		y = strings.Replace(y, repl[i], repl[i+1], 1)
	}
	return []byte(y)
}

const customRule = `id: night-export
version: "1"
name: {zh: 夜间导出, en: Export at night}
severity: medium
kind: time_of_day
match: {action: export}
group_by: [account]
hours: "08:00-18:00"
`

func find(t *testing.T, rs []detect.Rule, id string) (detect.Rule, bool) {
	t.Helper()
	i := slices.IndexFunc(rs, func(r detect.Rule) bool { return r.ID == id })
	if i < 0 {
		return detect.Rule{}, false
	}
	return rs[i], true
}

// TestSaveVersionsAndEffectiveRules: an edit of a built-in rule is stored as its next
// version and replaces it in the effective set; a second edit adds a version and keeps
// the first viewable; Rules returns the built-ins with the stored versions in place.
func TestSaveVersionsAndEffectiveRules(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		a := officer(w.hospA)
		list, err := w.svc.List(ctx, a, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != len(detect.Builtin()) || !list[0].Builtin || list[0].Overridden || !list[0].Enabled || list[0].Version != 1 {
			t.Fatalf("fresh list: %d entries, first %+v", len(list), list[0])
		}
		e, err := w.svc.Save(ctx, a, 0, "brute-force", bruteForce(t, "count: 5", "count: 8"))
		if err != nil {
			t.Fatal(err)
		}
		if e.Version != 2 || !e.Overridden || !e.Builtin || e.SavedBy != a.Username || !strings.Contains(e.YAML, `version: "2"`) {
			t.Fatalf("first edit: %+v", e)
		}
		e, err = w.svc.Save(ctx, a, 0, "brute-force", bruteForce(t, "count: 5", "count: 6", "severity: high", "severity: critical"))
		if err != nil {
			t.Fatal(err)
		}
		if e.Version != 3 || e.Severity != "critical" {
			t.Fatalf("second edit: version %d severity %s", e.Version, e.Severity)
		}
		_, hist, err := w.svc.Get(ctx, a, 0, "brute-force")
		if err != nil {
			t.Fatal(err)
		}
		if len(hist) != 2 || hist[0].Version != 3 || hist[1].Version != 2 || !strings.Contains(hist[1].YAML, "count: 8") {
			t.Fatalf("history: %+v", hist)
		}
		rs, err := w.svc.Rules(ctx, w.hospA.ID)
		if err != nil {
			t.Fatal(err)
		}
		r, ok := find(t, rs, "brute-force")
		if len(rs) != len(detect.Builtin()) || !ok || r.Version != "3" || r.Severity != "critical" || r.Steps[0].Count != 6 {
			t.Fatalf("effective rules: %d, brute-force %+v", len(rs), r)
		}
		// Hospital B still has the built-in.
		rs, err = w.svc.Rules(ctx, w.hospB.ID)
		if err != nil {
			t.Fatal(err)
		}
		if r, _ := find(t, rs, "brute-force"); r.Version != "1" || r.Steps[0].Count != 5 {
			t.Fatalf("hospital B's brute-force: %+v", r)
		}
	})
}

// TestSaveRefusesInvalidRules: a rule naming a field that does not exist, a key its kind
// does not use, an unknown key, YAML that is not a rule or a rule whose id is not the
// edited one is refused with an invalid-input problem that names a catalogue key and
// carries the parser's message; nothing is stored and nothing is trailed.
func TestSaveRefusesInvalidRules(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		a := officer(w.hospA)
		cases := []struct {
			name, id string
			yaml     []byte
			key      string
			message  string
		}{
			{"unknown field in group_by", "brute-force", bruteForce(t, "[account, system]", "[account, sytem]"), "monitor.rule.err.field", `"sytem"`},
			{"unknown field in a match", "brute-force", bruteForce(t, "action: login_failure", "acton: login_failure"), "monitor.rule.err.field", `"acton"`},
			{"key the kind does not use", "brute-force", bruteForce(t, "window: 10m", "window: 10m\nthreshold: 3"), "monitor.rule.err.invalid", "threshold"},
			{"unknown key", "brute-force", bruteForce(t, "window: 10m", "window: 10m\nwindw: 5m"), "monitor.rule.err.invalid", "windw"},
			{"not YAML of a rule", "brute-force", []byte("- just\n- a list\n"), "monitor.rule.err.invalid", ""},
			{"empty", "brute-force", nil, "monitor.rule.err.invalid", ""},
			{"another id", "login-failures", bruteForce(t), "monitor.rule.err.id_mismatch", ""},
		}
		for _, c := range cases {
			_, err := w.svc.Save(ctx, a, 0, c.id, c.yaml)
			pe, ok := problem.As(err)
			if !ok || pe.Kind != problem.KindInvalid || pe.Msg == nil || pe.Msg.Key != c.key || !strings.Contains(pe.Message, c.message) {
				t.Errorf("%s: got %v (%+v), want invalid input with key %s naming %s", c.name, err, pe, c.key, c.message)
			}
		}
		var n int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM monitor_rules`).Scan(&n); err != nil || n != 0 {
			t.Errorf("stored %d rules (%v), want none", n, err)
		}
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM trail WHERE action LIKE 'monitor.%'`).Scan(&n); err != nil || n != 0 {
			t.Errorf("trailed %d rule changes (%v), want none", n, err)
		}
	})
}

// TestTreeAndEnabling: a rule stored at the province applies to every hospital below it
// until a hospital stores its own version; disabling a rule at a hospital takes it out of
// that hospital's effective set only; enabling it again brings it back; every change is
// trailed; an officer of one hospital cannot touch another's rules.
func TestTreeAndEnabling(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		w.svc.SetClock(func() time.Time { return time.Date(2026, 4, 1, 8, 0, 0, 0, time.UTC) })
		prov := officer(w.prov)
		e, err := w.svc.Save(ctx, prov, 0, "night-export", []byte(customRule))
		if err != nil {
			t.Fatal(err)
		}
		if e.Version != 1 || e.Builtin || e.Overridden || e.StoredAt != w.prov.ID {
			t.Fatalf("province rule: %+v", e)
		}
		has := func(orgID int64, id, version string) bool {
			t.Helper()
			rs, err := w.svc.Rules(ctx, orgID)
			if err != nil {
				t.Fatal(err)
			}
			r, ok := find(t, rs, id)
			return ok && (version == "" || r.Version == version)
		}
		if !has(w.hospA.ID, "night-export", "1") || !has(w.hospB.ID, "night-export", "1") {
			t.Fatal("the province's rule does not apply to its hospitals")
		}
		a := officer(w.hospA)
		if _, err := w.svc.Save(ctx, a, 0, "night-export", []byte(strings.Replace(customRule, "18:00", "20:00", 1))); err != nil {
			t.Fatal(err)
		}
		if !has(w.hospA.ID, "night-export", "2") || !has(w.hospB.ID, "night-export", "1") || !has(w.prov.ID, "night-export", "1") {
			t.Fatal("hospital A's version is not A's alone")
		}
		_, hist, err := w.svc.Get(ctx, a, 0, "night-export")
		if err != nil || len(hist) != 2 || hist[0].OrgID != w.hospA.ID || hist[1].OrgID != w.prov.ID {
			t.Fatalf("hospital A's history: %+v %v", hist, err)
		}
		for _, id := range []string{"night-export", "after-hours"} {
			e, err := w.svc.SetEnabled(ctx, a, 0, id, false)
			if err != nil || e.Enabled || e.StateBy != a.Username {
				t.Fatalf("disable %s: %+v %v", id, e, err)
			}
			if has(w.hospA.ID, id, "") || !has(w.hospB.ID, id, "") {
				t.Fatalf("%s disabled at A: A has it or B lost it", id)
			}
		}
		if _, err := w.svc.SetEnabled(ctx, a, 0, "after-hours", true); err != nil || !has(w.hospA.ID, "after-hours", "") {
			t.Fatalf("enable after-hours again: %v", err)
		}
		list, err := w.svc.List(ctx, a, 0)
		if err != nil {
			t.Fatal(err)
		}
		var off []string
		for _, e := range list {
			if !e.Enabled {
				off = append(off, e.ID)
			}
		}
		if fmt.Sprint(off) != "[night-export]" {
			t.Errorf("disabled in A's list: %v", off)
		}
		// Another hospital's officer: not found, nothing changed.
		b := officer(w.hospB)
		for name, err := range map[string]error{
			"save":    func() error { _, err := w.svc.Save(ctx, b, w.hospA.ID, "brute-force", bruteForce(t)); return err }(),
			"disable": func() error { _, err := w.svc.SetEnabled(ctx, b, w.hospA.ID, "brute-force", false); return err }(),
			"list":    func() error { _, err := w.svc.List(ctx, b, w.hospA.ID); return err }(),
			"get":     func() error { _, _, err := w.svc.Get(ctx, b, w.hospA.ID, "brute-force"); return err }(),
		} {
			if problem.KindOf(err) != problem.KindNotFound {
				t.Errorf("B's officer %s at A: %v, want not found", name, err)
			}
		}
		if _, _, err := w.svc.Get(ctx, a, 0, "no-such-rule"); problem.KindOf(err) != problem.KindNotFound {
			t.Errorf("unknown rule: %v", err)
		}
		if _, err := w.svc.SetEnabled(ctx, a, 0, "no-such-rule", false); problem.KindOf(err) != problem.KindNotFound {
			t.Errorf("disable an unknown rule: %v", err)
		}
		var actions []string
		rows, err := db.QueryContext(ctx, `SELECT action FROM trail WHERE action LIKE 'monitor.%' ORDER BY seq`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			actions = append(actions, s)
		}
		rows.Close()
		want := "[monitor.rule_save monitor.rule_save monitor.rule_disable monitor.rule_disable monitor.rule_enable]"
		if fmt.Sprint(actions) != want {
			t.Errorf("trail: %v, want %s", actions, want)
		}
	})
}

// TestStoredRuleThatNoLongerParses: a stored version the library no longer accepts makes
// Rules fail loudly instead of leaving the rule out.
func TestStoredRuleThatNoLongerParses(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	ctx := context.Background()
	w := newWorld(t, db)
	if _, err := db.ExecContext(ctx, `INSERT INTO monitor_rules (org_id, rule_id, version, yaml, created_by, created_at)
		VALUES (?, 'old', 1, 'id: old', 'x', ?)`, w.hospA.ID, time.Now().UTC()); err != nil {
		t.Fatal(err)
	}
	_, err := w.svc.Rules(ctx, w.hospA.ID)
	if err == nil || !errors.Is(err, detect.ErrInvalid) {
		t.Fatalf("Rules: %v, want the parse error", err)
	}
}

// TestSaveAll: a file of several rules is stored in one go, each as its next version; one
// refused rule in the file stores none of them.
func TestSaveAll(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		a := officer(w.hospA)
		file := string(bruteForce(t, "count: 5", "count: 8")) + "---\n" + customRule
		es, err := w.svc.SaveAll(ctx, a, 0, []byte(file))
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != 2 || es[0].ID != "brute-force" || es[0].Version != 2 || es[1].ID != "night-export" || es[1].Version != 1 {
			t.Fatalf("saved: %+v", es)
		}
		bad := customRule + "---\n" + string(bruteForce(t, "[account, system]", "[account, sytem]"))
		_, err = w.svc.SaveAll(ctx, a, 0, []byte(bad))
		if pe, ok := problem.As(err); !ok || pe.Kind != problem.KindInvalid || pe.Msg == nil || pe.Msg.Key != "monitor.rule.err.field" {
			t.Fatalf("a file with a bad rule: %v", err)
		}
		var n int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM monitor_rules`).Scan(&n); err != nil || n != 2 {
			t.Errorf("%d stored versions (%v), want the first file's 2", n, err)
		}
	})
}

// TestVersionMarksChanges: the marker the live detection watches changes with a save,
// a disable and an enable, and not without one.
func TestVersionMarksChanges(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := context.Background()
		v := func() string {
			t.Helper()
			s, err := w.svc.Version(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		v0 := v()
		if v() != v0 {
			t.Fatal("the version changed without a change")
		}
		if _, err := w.svc.Save(ctx, officer(w.hospA), w.hospA.ID, "brute-force", bruteForce(t, "count: 5", "count: 8")); err != nil {
			t.Fatal(err)
		}
		v1 := v()
		if v1 == v0 {
			t.Error("a save left the version")
		}
		if _, err := w.svc.SetEnabled(ctx, officer(w.hospA), w.hospA.ID, "brute-force", false); err != nil {
			t.Fatal(err)
		}
		v2 := v()
		if v2 == v1 {
			t.Error("a disable left the version")
		}
		if _, err := w.svc.SetEnabled(ctx, officer(w.hospA), w.hospA.ID, "brute-force", true); err != nil {
			t.Fatal(err)
		}
		if v() == v2 {
			t.Error("an enable left the version")
		}
	})
}
