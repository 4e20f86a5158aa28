package alert_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
	"github.com/medguard/medguard/internal/trail"
	"github.com/medguard/medguard/internal/trail/trailtest"
)

// world is a province with hospital A (and its department A1) and hospital B.
type world struct {
	db             *store.DB
	svc            *alert.Service
	tl             *trail.Log
	prov           org.Node
	hospA, hospB   org.Node
	deptA1         org.Node
	actorA, actorB actor.Actor
	now            time.Time
}

func newWorld(t testing.TB, db *store.DB) *world {
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
			t.Fatalf("create org %s: %v", name, err)
		}
		return n
	}
	w := &world{db: db, tl: tl, now: time.Date(2026, 4, 1, 8, 0, 0, 0, time.UTC)}
	if w.svc, err = alert.New(db, tl); err != nil {
		t.Fatal(err)
	}
	w.svc.SetClock(func() time.Time { return w.now })
	w.prov = mk(0, org.KindProvince, "某省卫健委")
	w.hospA = mk(w.prov.ID, org.KindHospital, "第一人民医院")
	w.deptA1 = mk(w.hospA.ID, org.KindDepartment, "信息科")
	w.hospB = mk(w.prov.ID, org.KindHospital, "第二人民医院")
	w.actorA = actor.Actor{UserID: 1, Username: "alice", Role: "security_officer", OrgID: w.hospA.ID, OrgPath: w.hospA.Path}
	w.actorB = actor.Actor{UserID: 2, Username: "bob", Role: "security_officer", OrgID: w.hospB.ID, OrgPath: w.hospB.Path}
	return w
}

// raise raises in its own transaction.
func (w *world) raise(t testing.TB, in alert.Input) (alert.Alert, bool) {
	t.Helper()
	var al alert.Alert
	var created bool
	err := w.db.InTx(context.Background(), func(tx *store.Tx) error {
		var err error
		al, created, err = w.svc.Raise(context.Background(), tx, in)
		return err
	})
	if err != nil {
		t.Fatalf("raise: %v", err)
	}
	return al, created
}

func vulnInput(orgID int64, vuln, severity string) alert.Input {
	return alert.Input{OrgID: orgID, Source: "supply", Kind: "new_vulnerability", Severity: severity,
		Title: i18n.M("supply.alert.new_vulnerability", vuln, 1, 2), Subject: vuln, DedupKey: "new_vulnerability:" + vuln,
		Evidence: map[string]any{"vuln_id": vuln}}
}

func TestRaiseDedup(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := context.Background()
		first, created := w.raise(t, vulnInput(w.hospA.ID, "CVE-2026-0001", "medium"))
		if !created || first.Count != 1 || first.Status != alert.StatusNew {
			t.Fatalf("first raise: created %v, %+v", created, first)
		}
		if first.Title != "CVE-2026-0001 affects 1 product version(s), 2 asset(s)" {
			t.Errorf("English title %q", first.Title)
		}
		w.now = w.now.Add(time.Hour)
		again, created := w.raise(t, vulnInput(w.hospA.ID, "CVE-2026-0001", "high"))
		if created || again.ID != first.ID || again.Count != 2 {
			t.Fatalf("second raise: created %v, id %d (first %d), count %d", created, again.ID, first.ID, again.Count)
		}
		if first.PrevSeverity != "" || again.PrevSeverity != "medium" {
			t.Errorf("previous severities %q, %q", first.PrevSeverity, again.PrevSeverity)
		}
		if !again.LastSeen.Equal(w.now) || !again.FirstSeen.Equal(first.FirstSeen) || again.Severity != "high" {
			t.Errorf("after the second raise: first %v last %v severity %s", again.FirstSeen, again.LastSeen, again.Severity)
		}
		// A lower severity does not lower it.
		third, _ := w.raise(t, vulnInput(w.hospA.ID, "CVE-2026-0001", "low"))
		if third.Count != 3 || third.Severity != "high" || third.PrevSeverity != "high" {
			t.Errorf("third raise: count %d severity %s", third.Count, third.Severity)
		}
		// Same key in another organisation: another alert.
		if other, created := w.raise(t, vulnInput(w.hospB.ID, "CVE-2026-0001", "medium")); !created || other.ID == first.ID {
			t.Errorf("other organisation: created %v id %d", created, other.ID)
		}
		// Once resolved, the key raises a new alert.
		if _, err := w.svc.SetStatus(ctx, w.actorA, []int64{first.ID}, alert.Change{Status: alert.StatusResolved,
			Resolution: alert.ResolutionConfirmed}); err != nil {
			t.Fatal(err)
		}
		if fresh, created := w.raise(t, vulnInput(w.hospA.ID, "CVE-2026-0001", "medium")); !created || fresh.ID == first.ID {
			t.Errorf("after resolving: created %v id %d", created, fresh.ID)
		}
		as, total, err := w.svc.List(ctx, w.actorA, alert.Filter{Source: "supply", Limit: 10})
		if err != nil || total != 2 || len(as) != 2 {
			t.Fatalf("list A: %d/%d %v", len(as), total, err)
		}
		if as[0].OrgName != w.hospA.Name {
			t.Errorf("org name %q", as[0].OrgName)
		}
	})
}

func TestRaiseRejectsBadInput(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		for name, in := range map[string]alert.Input{
			"no org":           {Source: "supply", Kind: "k", Severity: "high", Title: i18n.M("alert.case.created")},
			"bad severity":     {OrgID: w.hospA.ID, Source: "supply", Kind: "k", Severity: "unknown", Title: i18n.M("alert.case.created")},
			"unknown key":      {OrgID: w.hospA.ID, Source: "supply", Kind: "k", Severity: "high", Title: i18n.M("no.such.key")},
			"space in source":  {OrgID: w.hospA.ID, Source: "sup ply", Kind: "k", Severity: "high", Title: i18n.M("alert.case.created")},
			"empty kind":       {OrgID: w.hospA.ID, Source: "supply", Severity: "high", Title: i18n.M("alert.case.created")},
			"NUL in a subject": {OrgID: w.hospA.ID, Source: "supply", Kind: "k", Severity: "high", Title: i18n.M("alert.case.created"), Account: "a\x00b"},
		} {
			err := db.InTx(context.Background(), func(tx *store.Tx) error {
				_, _, err := w.svc.Raise(context.Background(), tx, in)
				return err
			})
			if !errors.Is(err, alert.ErrInvalid) {
				t.Errorf("%s: err %v, want ErrInvalid", name, err)
			}
		}
	})
}

// TestRaiseIsTheCallersTransaction: an alert raised in a transaction that rolls back
// does not exist, and a hook's error fails the raise.
func TestRaiseIsTheCallersTransaction(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := context.Background()
		boom := errors.New("caller failed")
		err := db.InTx(ctx, func(tx *store.Tx) error {
			if _, _, err := w.svc.Raise(ctx, tx, vulnInput(w.hospA.ID, "CVE-1", "high")); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		var seen []string
		w.svc.OnRaise(func(ctx context.Context, tx *store.Tx, al alert.Alert, created bool) error {
			seen = append(seen, fmt.Sprintf("%s %v %v", al.Subject, created, al.Silenced()))
			if al.Subject == "CVE-3" {
				return boom
			}
			return nil
		})
		w.raise(t, vulnInput(w.hospA.ID, "CVE-2", "high"))
		w.raise(t, vulnInput(w.hospA.ID, "CVE-2", "high"))
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			_, _, err := w.svc.Raise(ctx, tx, vulnInput(w.hospA.ID, "CVE-3", "high"))
			return err
		}); !errors.Is(err, boom) {
			t.Fatalf("hook error: %v", err)
		}
		_, total, err := w.svc.List(ctx, actor.System(), alert.Filter{Limit: 10})
		if err != nil || total != 1 {
			t.Errorf("stored alerts: %d, %v (want only CVE-2)", total, err)
		}
		if fmt.Sprint(seen) != "[CVE-2 true false CVE-2 false false CVE-3 true false]" {
			t.Errorf("hook calls %v", seen)
		}
	})
}

func TestSilences(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := context.Background()
		var hooked []bool
		w.svc.OnRaise(func(ctx context.Context, tx *store.Tx, al alert.Alert, created bool) error {
			hooked = append(hooked, al.Silenced())
			return nil
		})
		expires := w.now.Add(7 * 24 * time.Hour)
		// Bad silences.
		for name, in := range map[string]alert.SilenceInput{
			"no expiry":      {OrgID: w.hospA.ID, Source: "supply", Reason: "r"},
			"past expiry":    {OrgID: w.hospA.ID, Source: "supply", Reason: "r", ExpiresAt: w.now.Add(-time.Hour)},
			"over a year":    {OrgID: w.hospA.ID, Source: "supply", Reason: "r", ExpiresAt: w.now.Add(400 * 24 * time.Hour)},
			"no reason":      {OrgID: w.hospA.ID, Source: "supply", ExpiresAt: expires},
			"no matcher":     {OrgID: w.hospA.ID, Reason: "r", ExpiresAt: expires},
			"bad severity":   {OrgID: w.hospA.ID, Severity: "urgent", Reason: "r", ExpiresAt: expires},
			"other hospital": {OrgID: w.hospB.ID, Source: "supply", Reason: "r", ExpiresAt: expires},
		} {
			if _, err := w.svc.CreateSilence(ctx, w.actorA, in); problem.KindOf(err) != problem.KindInvalid && problem.KindOf(err) != problem.KindNotFound {
				t.Errorf("%s: %v", name, err)
			}
		}
		sl, err := w.svc.CreateSilence(ctx, w.actorA, alert.SilenceInput{OrgID: w.hospA.ID, Source: "supply",
			Kind: "new_vulnerability", Subject: "CVE-2026-0001", Reason: "vendor patch scheduled", ExpiresAt: expires})
		if err != nil {
			t.Fatal(err)
		}
		unused, _ := w.silenceIDs(t, alert.SilenceQuery{Unused: true})
		// Matches in the subtree (the department), not in hospital B, not another subject.
		inDept, _ := w.raise(t, vulnInput(w.deptA1.ID, "CVE-2026-0001", "high"))
		inB, _ := w.raise(t, vulnInput(w.hospB.ID, "CVE-2026-0001", "high"))
		other, _ := w.raise(t, vulnInput(w.hospA.ID, "CVE-2026-0002", "high"))
		if inDept.SilenceID != sl.ID || inB.Silenced() || other.Silenced() {
			t.Errorf("silenced: dept %d, B %v, other %v", inDept.SilenceID, inB.Silenced(), other.Silenced())
		}
		if fmt.Sprint(hooked) != "[true false false]" {
			t.Errorf("hooks saw silenced %v", hooked)
		}
		got, err := w.svc.Silence(ctx, w.actorA, sl.ID)
		if err != nil || got.Matched != 1 || got.LastMatchedAt == nil {
			t.Errorf("silence after a match: %+v %v", got, err)
		}
		if _, err := w.svc.Silence(ctx, w.actorB, sl.ID); problem.KindOf(err) != problem.KindNotFound {
			t.Errorf("other hospital sees the silence: %v", err)
		}
		silenced := true
		if as, total, _ := w.svc.List(ctx, w.actorA, alert.Filter{Silenced: &silenced, Limit: 10}); total != 1 || as[0].ID != inDept.ID {
			t.Errorf("silenced list: %d", total)
		}
		// Unused: none at first (too new); 31 days after its last match, listed.
		if len(unused) != 0 {
			t.Errorf("unused at creation: %v", unused)
		}
		w.now = w.now.Add(6 * 24 * time.Hour)
		if ids, _ := w.silenceIDs(t, alert.SilenceQuery{Unused: true}); len(ids) != 0 {
			t.Errorf("unused after 6 days: %v", ids)
		}
		long, err := w.svc.CreateSilence(ctx, w.actorA, alert.SilenceInput{OrgID: w.hospA.ID, Kind: "dlp_block",
			Reason: "gateway test week", ExpiresAt: w.now.Add(300 * 24 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		w.now = w.now.Add(31 * 24 * time.Hour)
		if ids, _ := w.silenceIDs(t, alert.SilenceQuery{Unused: true}); fmt.Sprint(ids) != fmt.Sprint([]int64{long.ID}) {
			t.Errorf("unused after 37 days: %v, want [%d] (the first has expired)", ids, long.ID)
		}
		// Expired: no longer silences.
		again, _ := w.raise(t, vulnInput(w.deptA1.ID, "CVE-2026-0001", "high"))
		if again.Silenced() || again.ID != inDept.ID || again.Count != 2 {
			t.Errorf("after expiry: %+v", again)
		}
		if _, err := w.svc.ExpireSilence(ctx, w.actorB, long.ID); problem.KindOf(err) != problem.KindNotFound {
			t.Errorf("other hospital expires: %v", err)
		}
		if x, err := w.svc.ExpireSilence(ctx, w.actorA, long.ID); err != nil || x.Active(w.now) {
			t.Errorf("expire: %+v %v", x, err)
		}
	})
}

func (w *world) silenceIDs(t *testing.T, q alert.SilenceQuery) ([]int64, int) {
	t.Helper()
	q.Limit = 100
	ss, total, err := w.svc.Silences(context.Background(), w.actorA, q)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, s := range ss {
		ids = append(ids, s.ID)
	}
	return ids, total
}

func TestSLAOverdue(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := context.Background()
		crit, _ := w.raise(t, vulnInput(w.hospA.ID, "CVE-C", "critical"))
		if crit.DueAt == nil || !crit.DueAt.Equal(w.now.Add(24*time.Hour)) {
			t.Fatalf("critical due %v", crit.DueAt)
		}
		info, _ := w.raise(t, vulnInput(w.hospA.ID, "CVE-I", "info"))
		if info.DueAt != nil {
			t.Errorf("info has a due date %v", info.DueAt)
		}
		// Hospital A sets high to 2 hours; its department inherits it, hospital B not.
		if _, err := w.svc.SetSLA(ctx, w.actorA, w.hospA.ID, map[string]int{"high": 2}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.SetSLA(ctx, w.actorA, w.hospA.ID, map[string]int{"high": -1}); problem.KindOf(err) != problem.KindInvalid {
			t.Errorf("negative SLA: %v", err)
		}
		if _, err := w.svc.SetSLA(ctx, w.actorA, w.hospB.ID, map[string]int{"high": 1}); problem.KindOf(err) != problem.KindNotFound {
			t.Errorf("SLA of another hospital: %v", err)
		}
		high, _ := w.raise(t, vulnInput(w.deptA1.ID, "CVE-H", "high"))
		highB, _ := w.raise(t, vulnInput(w.hospB.ID, "CVE-H", "high"))
		if !high.DueAt.Equal(w.now.Add(2*time.Hour)) || !highB.DueAt.Equal(w.now.Add(72*time.Hour)) {
			t.Errorf("due: dept %v, B %v", high.DueAt, highB.DueAt)
		}
		overdue := func(a actor.Actor) []string {
			as, _, err := w.svc.Overdue(ctx, a, 50, 0)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, al := range as {
				out = append(out, al.Subject)
			}
			return out
		}
		w.now = w.now.Add(3 * time.Hour)
		if got := fmt.Sprint(overdue(w.actorA)); got != "[CVE-H]" {
			t.Errorf("overdue after 3h: %s", got)
		}
		w.now = w.now.Add(24 * time.Hour)
		if got := fmt.Sprint(overdue(w.actorA)); got != "[CVE-H CVE-C]" {
			t.Errorf("overdue after 27h: %s", got)
		}
		if got := fmt.Sprint(overdue(w.actorB)); got != "[]" {
			t.Errorf("B overdue after 27h: %s", got)
		}
		// Resolved alerts are not overdue.
		if _, err := w.svc.SetStatus(ctx, w.actorA, []int64{crit.ID}, alert.Change{Status: alert.StatusResolved,
			Resolution: alert.ResolutionFalsePositive, Reason: "test system"}); err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(overdue(w.actorA)); got != "[CVE-H]" {
			t.Errorf("overdue after resolving: %s", got)
		}
	})
}

func TestMaskPatientID(t *testing.T) {
	for in, want := range map[string]string{"": "", "7": "****", "123": "****", "1234": "****34", "1234567": "****567",
		"110105194912310021": "****0021", "病案号12345": "****345"} {
		if got := alert.MaskPatientID(in); got != want {
			t.Errorf("MaskPatientID(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPatientIDIsMaskedInJSON(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		in := alert.Input{OrgID: w.hospA.ID, Source: "dlp", Kind: "dlp_alert", Severity: "high",
			Title: i18n.M("alert.dlp.alert", "x.docx", 4), PatientID: "110105194912310021"}
		al, _ := w.raise(t, in)
		got, err := w.svc.Get(context.Background(), w.actorA, al.ID)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(got)
		if got.PatientID != "****0021" || json.Valid(b) == false || strings.Contains(string(b), "11010519491231") {
			t.Errorf("patient id %q in %s", got.PatientID, b)
		}
		if _, err := w.svc.Get(context.Background(), w.actorB, al.ID); problem.KindOf(err) != problem.KindNotFound {
			t.Errorf("other hospital: %v", err)
		}
	})
}

// TestListByTextAndAssignee checks the inbox's text filter (title, subject, account,
// app, kind — a LIKE wildcard in the text is taken literally) and "assigned to".
func TestListByTextAndAssignee(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := context.Background()
		a1, _ := w.raise(t, vulnInput(w.hospA.ID, "CVE-2026-1111", "high"))
		w.raise(t, vulnInput(w.hospA.ID, "CVE-2026-2222", "low"))
		w.raise(t, vulnInput(w.hospB.ID, "CVE-2026-1111", "low"))
		if _, err := w.svc.Assign(ctx, w.actorA, []int64{a1.ID}, w.actorA.Username); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name string
			f    alert.Filter
			want int
		}{
			{"title text", alert.Filter{Text: "2026-1111"}, 1},
			{"text of every alert", alert.Filter{Text: "CVE-"}, 2},
			{"a wildcard is literal", alert.Filter{Text: "CVE%1111"}, 0},
			{"no match", alert.Filter{Text: "nothing like it"}, 0},
			{"assigned", alert.Filter{Assignee: w.actorA.Username}, 1},
			{"assigned to someone else", alert.Filter{Assignee: "nobody"}, 0},
		} {
			c.f.Limit = 10
			as, total, err := w.svc.List(ctx, w.actorA, c.f)
			if err != nil || total != c.want || len(as) != c.want {
				t.Errorf("%s: %d/%d alerts, %v; want %d", c.name, len(as), total, err, c.want)
			}
		}
		if _, _, err := w.svc.List(ctx, w.actorA, alert.Filter{Text: strings.Repeat("x", 201)}); err == nil {
			t.Error("a text of 201 characters was accepted")
		}
	})
}

// TestRuleGroupAndRange checks a detection rule's alert: the rule, the grouped fields
// (readable directly as terminal and source_ip, a patient identifier never among them)
// and the time range, which every count of the alert widens.
func TestRuleGroupAndRange(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		t0 := time.Date(2026, 3, 31, 22, 0, 0, 0, time.UTC)
		in := func(from, to time.Time) alert.Input {
			return alert.Input{OrgID: w.hospA.ID, Source: "monitor", Kind: "batch-login", Severity: "high",
				Title: i18n.M("alert.title.text", "batch login"), DedupKey: "batch-login:WS-7", Rule: "batch-login",
				GroupBy: []string{"terminal", "source_ip"},
				Group:   map[string]string{"terminal": "WS-7", "source_ip": "10.1.2.3", "patient_id": "110105194912310021"},
				From:    from, To: to}
		}
		first, _ := w.raise(t, in(t0, t0.Add(5*time.Minute)))
		if first.Rule != "batch-login" || first.Terminal != "WS-7" || first.SourceIP != "10.1.2.3" ||
			len(first.GroupBy) != 2 || first.Group["patient_id"] != "" {
			t.Fatalf("first raise: %+v", first)
		}
		again, _ := w.raise(t, in(t0.Add(-time.Minute), t0.Add(3*time.Minute)))
		if again.Count != 2 || !again.From.Equal(t0.Add(-time.Minute)) || !again.To.Equal(t0.Add(5*time.Minute)) {
			t.Errorf("range after a second raise: %v – %v (count %d)", again.From, again.To, again.Count)
		}
		got, err := w.svc.Get(context.Background(), w.actorA, first.ID)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(got)
		for _, want := range []string{`"rule":"batch-login"`, `"terminal":"WS-7"`, `"source_ip":"10.1.2.3"`, `"group_by":["terminal","source_ip"]`, `"from":`, `"to":`} {
			if !strings.Contains(string(b), want) {
				t.Errorf("JSON lacks %s: %s", want, b)
			}
		}
		if strings.Contains(string(b), "11010519491231") {
			t.Errorf("patient id in JSON: %s", b)
		}
		// Other modules' alerts have none of it.
		other, _ := w.raise(t, vulnInput(w.hospA.ID, "CVE-2026-0009", "low"))
		b, _ = json.Marshal(other)
		if strings.Contains(string(b), `"rule"`) || strings.Contains(string(b), `"from"`) {
			t.Errorf("a supply alert shows monitoring fields: %s", b)
		}
	})
}
