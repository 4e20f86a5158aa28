package detect

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/events"
	"github.com/medguard/medguard/internal/i18n"
)

// TestBuiltinNamesInCatalogue: every built-in rule's alert title is a catalogue key
// whose text in each language is the rule's name there.
func TestBuiltinNamesInCatalogue(t *testing.T) {
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range Builtin() {
		if got := cat.T(i18n.EN, TitleKey(r.ID)); got != r.Name.En {
			t.Errorf("%s: English catalogue %q, rule name %q", r.ID, got, r.Name.En)
		}
		if got := cat.T(i18n.ZhCN, TitleKey(r.ID)); got != r.Name.Zh {
			t.Errorf("%s: Chinese catalogue %q, rule name %q", r.ID, got, r.Name.Zh)
		}
	}
	if !cat.Has(i18n.EN, TitleCustom) || !cat.Has(i18n.ZhCN, TitleCustom) {
		t.Errorf("%s is not in both catalogues", TitleCustom)
	}
}

// TestAlertInput: a hit's alert is source monitor, kind the rule id, titled by the
// catalogue for a built-in rule and by its own names for another; its dedup key and
// evidence never hold the patient id in clear, and two patients make two alerts.
func TestAlertInput(t *testing.T) {
	b, _ := BuiltinRule("family-access")
	at := time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)
	h := Hit{Rule: &b, OrgID: 7, Account: "doc1", PatientID: "P0012345", GroupBy: []string{"account", "patient_id"},
		Group: map[string]string{"account": "doc1", "patient_id": "P0012345"}, From: at, To: at, Events: []string{"e1"}, Seqs: []int64{1}}
	in := h.AlertInput()
	if in.Source != Source || in.Kind != "family-access" || in.Severity != b.Severity || in.OrgID != 7 || in.Account != "doc1" ||
		in.PatientID != "P0012345" || in.Title.Key != TitleKey("family-access") || !in.At.Equal(at) || in.Rule != "family-access" ||
		strings.Join(in.GroupBy, ",") != "account,patient_id" || in.Group["account"] != "doc1" || !in.From.Equal(at) || !in.To.Equal(at) {
		t.Errorf("AlertInput = %+v", in)
	}
	ev, err := json.Marshal(in.Evidence)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{in.DedupKey, in.Subject, string(ev)} {
		if strings.Contains(s, "P0012345") {
			t.Errorf("%q holds the patient id", s)
		}
	}
	if !strings.Contains(string(ev), `"events":["e1"]`) || !strings.Contains(string(ev), `"rule":"family-access"`) {
		t.Errorf("evidence %s", ev)
	}
	other := h
	other.PatientID = "P0099999"
	other.Group = map[string]string{"account": "doc1", "patient_id": "P0099999"}
	if other.AlertInput().DedupKey == in.DedupKey {
		t.Error("two patients share a dedup key")
	}
	custom := b
	custom.Name = Text{Zh: "亲属", En: "Relatives"}
	h.Rule = &custom
	if got := h.AlertInput().Title; got.Key != TitleCustom || fmt.Sprint(got.Args) != "[亲属｜Relatives]" {
		t.Errorf("custom title %+v", got)
	}
}

// TestDispatch: an event is tested only against the rules that can match its action
// and system.
func TestDispatch(t *testing.T) {
	rules, err := ParseAll([]byte(`id: emr-exports
version: 1
name: {zh: 甲, en: A}
severity: low
kind: match
match: {system: EMR, action: export}
---
id: logins
version: 1
name: {zh: 乙, en: B}
severity: low
kind: count
match: {action: [login, login_failure]}
threshold: 3
window: 1h
---
id: everything
version: 1
name: {zh: 丙, en: C}
severity: low
kind: dormant
idle: 30d
`))
	if err != nil {
		t.Fatal(err)
	}
	e := mustEngine(t, rules, Env{})
	ids := func(system, action string) string {
		var out []string
		for _, cr := range e.candidates(system, actionIndex(action)) {
			out = append(out, cr.r.ID)
		}
		return strings.Join(out, ",")
	}
	for _, c := range []struct{ system, action, want string }{
		{"EMR", "export", "emr-exports,everything"}, {"HIS", "export", "everything"},
		{"HIS", "login", "logins,everything"}, {"EMR", "login_failure", "logins,everything"}, {"PACS", "view", "everything"},
	} {
		if got := ids(c.system, c.action); got != c.want {
			t.Errorf("%s %s: rules %s; want %s", c.system, c.action, got, c.want)
		}
	}
}

// TestGroupsBounded: groups idle past their rule's window are forgotten, and no rule
// keeps more than MaxGroups.
func TestGroupsBounded(t *testing.T) {
	rules, err := ParseAll([]byte(`id: prints
version: 1
name: {zh: 甲, en: A}
severity: low
kind: count
match: {action: print}
group_by: [account]
threshold: 1000
window: 10m
`))
	if err != nil {
		t.Fatal(err)
	}
	e := mustEngine(t, rules, Env{MaxGroups: 500})
	base := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	ctx := context.Background()
	for i := range 2 * sweepEvery {
		ev := events.Stored{Event: events.Event{ID: fmt.Sprint(i), System: "HIS", Action: "print", Account: fmt.Sprint("a", i%3000),
			Time: base.Add(time.Duration(i) * time.Millisecond)}, Seq: int64(i + 1)}
		if err := e.Evaluate(ctx, 1, &ev, func(Hit) {}); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.Groups(); n > 500 {
		t.Errorf("%d groups kept; at most 500", n)
	}
	// Ten minutes later every group is idle past the window: the next sweep forgets them.
	late := base.Add(time.Hour)
	for i := range sweepEvery {
		ev := events.Stored{Event: events.Event{ID: fmt.Sprint("v", i), System: "HIS", Action: "view", Account: "x",
			Time: late.Add(time.Duration(i) * time.Millisecond)}, Seq: int64(3*sweepEvery + i)}
		if err := e.Evaluate(ctx, 1, &ev, func(Hit) {}); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.Groups(); n != 0 {
		t.Errorf("%d groups kept an hour after their last event; want 0", n)
	}
}

// TestAccountGroupCache: the groups of rules grouped by account alone, cached per
// organisation and account, are those of the rule's own group map: two organisations'
// same account stay apart, and after a sweep dropped an idle account's group its next
// event makes a new group the engine counts, not the dropped one.
func TestAccountGroupCache(t *testing.T) {
	rules, err := ParseAll([]byte(`id: prints
version: 1
name: {zh: 甲, en: A}
severity: low
kind: count
match: {action: print}
group_by: [account]
threshold: 2
window: 10m
`))
	if err != nil {
		t.Fatal(err)
	}
	e := mustEngine(t, rules, Env{})
	if !e.rules[0].byAccount {
		t.Fatal("a rule grouped by account alone is not cached by account")
	}
	base := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	ctx := context.Background()
	hits := 0
	seq := int64(0)
	eval := func(org int64, action, account string, at time.Time) {
		t.Helper()
		seq++
		ev := events.Stored{Event: events.Event{ID: fmt.Sprint(seq), System: "HIS", Action: action, Account: account, Time: at}, Seq: seq}
		if err := e.Evaluate(ctx, org, &ev, func(Hit) { hits++ }); err != nil {
			t.Fatal(err)
		}
	}
	eval(1, "print", "a", base)
	eval(2, "print", "a", base.Add(time.Second))
	if hits != 0 || e.Groups() != 2 {
		t.Fatalf("one print of a in each of two organisations: %d hits, %d groups; want 0 and 2", hits, e.Groups())
	}
	// An hour of other events: the sweep drops both idle groups.
	late := base.Add(time.Hour)
	for i := e.n; i%sweepEvery != 0; i++ {
		eval(1, "view", "x", late)
	}
	if n := e.Groups(); n != 0 {
		t.Fatalf("%d groups after the sweep; want 0", n)
	}
	// Organisation 2, whose account a was looked up last before the sweep.
	eval(2, "print", "a", late)
	if n := e.Groups(); n != 1 {
		t.Fatalf("a prints again after the sweep: %d groups; want 1 (a new one)", n)
	}
	eval(2, "print", "a", late.Add(time.Second))
	if hits != 1 {
		t.Errorf("two prints of a within the window after the sweep: %d hits; want 1", hits)
	}
}
