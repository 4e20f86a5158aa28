package alert_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/auth"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
	"github.com/medguard/medguard/internal/trail"
)

func wantKind(t *testing.T, what string, err error, k problem.Kind) {
	t.Helper()
	if problem.KindOf(err) != k {
		t.Errorf("%s: got %v (kind %v), want kind %v", what, err, problem.KindOf(err), k)
	}
}

// trailActions lists the actions in the trail, oldest first.
func (w *world) trailActions(t *testing.T) []string {
	t.Helper()
	es, err := trail.List(context.Background(), w.db, actor.System(), trail.Filter{Action: "alert.", Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(es) - 1; i >= 0; i-- {
		out = append(out, es[i].Action+" "+es[i].ObjectID)
	}
	return out
}

func TestCases(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := context.Background()
		high, _ := w.raise(t, vulnInput(w.deptA1.ID, "CVE-H", "high")) // due in 72h
		w.now = w.now.Add(time.Hour)
		med, _ := w.raise(t, vulnInput(w.hospA.ID, "CVE-M", "medium"))     // due in 7d
		other, _ := w.raise(t, vulnInput(w.hospB.ID, "CVE-B", "critical")) // hospital B's
		spare, _ := w.raise(t, vulnInput(w.hospA.ID, "CVE-S", "low"))

		// Bad cases.
		_, err := w.svc.CreateCase(ctx, w.actorA, alert.CaseInput{OrgID: w.hospA.ID, Title: " ", AlertIDs: []int64{high.ID}})
		wantKind(t, "no title", err, problem.KindInvalid)
		_, err = w.svc.CreateCase(ctx, w.actorA, alert.CaseInput{OrgID: w.hospA.ID, Title: "x"})
		wantKind(t, "no alerts", err, problem.KindInvalid)
		_, err = w.svc.CreateCase(ctx, w.actorA, alert.CaseInput{OrgID: w.hospA.ID, Title: "x", AlertIDs: []int64{high.ID, other.ID}})
		wantKind(t, "another hospital's alert", err, problem.KindNotFound)
		_, err = w.svc.CreateCase(ctx, actor.System(), alert.CaseInput{OrgID: w.deptA1.ID, Title: "x", AlertIDs: []int64{med.ID}})
		wantKind(t, "an alert above the case's organisation", err, problem.KindInvalid)
		_, err = w.svc.CreateCase(ctx, w.actorA, alert.CaseInput{OrgID: w.hospB.ID, Title: "x", AlertIDs: []int64{high.ID}})
		wantKind(t, "a case in another hospital", err, problem.KindNotFound)

		c, err := w.svc.CreateCase(ctx, w.actorA, alert.CaseInput{OrgID: w.hospA.ID, Title: "OpenSSL on the HIS",
			AlertIDs: []int64{high.ID, med.ID}, Assignee: "alice"})
		if err != nil {
			t.Fatal(err)
		}
		if c.Severity != "high" || c.Status != alert.StatusNew || c.Alerts != 2 || len(c.AlertList) != 2 || c.Assignee != "alice" ||
			c.DueAt == nil || !c.DueAt.Equal(*high.DueAt) {
			t.Fatalf("case = %+v (due %v, want %v)", c.Case, c.DueAt, high.DueAt)
		}
		_, err = w.svc.CreateCase(ctx, w.actorA, alert.CaseInput{OrgID: w.hospA.ID, Title: "again", AlertIDs: []int64{med.ID}})
		wantKind(t, "an alert in another case", err, problem.KindConflict)
		if _, err := w.svc.Case(ctx, w.actorB, c.ID); problem.KindOf(err) != problem.KindNotFound {
			t.Errorf("hospital B reads the case: %v", err)
		}
		if _, err := w.svc.CommentCase(ctx, w.actorB, c.ID, "hi"); problem.KindOf(err) != problem.KindNotFound {
			t.Errorf("hospital B comments: %v", err)
		}
		if _, err := w.svc.CommentCase(ctx, w.actorA, c.ID, "vendor says patch on Friday"); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.AddToCase(ctx, w.actorA, c.ID, []int64{spare.ID}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.AssignCase(ctx, w.actorA, c.ID, "bob"); err != nil {
			t.Fatal(err)
		}
		// Workflow: new → investigating → resolved (risk accepted needs a reason and an
		// expiry) → closed; closed is final.
		if _, err := w.svc.SetCaseStatus(ctx, w.actorA, c.ID, alert.Change{Status: alert.StatusClosed}); problem.KindOf(err) != problem.KindConflict {
			t.Errorf("new → closed: %v", err)
		}
		if _, err := w.svc.SetCaseStatus(ctx, w.actorA, c.ID, alert.Change{Status: alert.StatusInvestigating}); err != nil {
			t.Fatal(err)
		}
		until := w.now.Add(90 * 24 * time.Hour)
		for name, ch := range map[string]alert.Change{
			"no resolution":        {Status: alert.StatusResolved},
			"accepted, no reason":  {Status: alert.StatusResolved, Resolution: alert.ResolutionRiskAccepted, AcceptedUntil: &until},
			"accepted, no expiry":  {Status: alert.StatusResolved, Resolution: alert.ResolutionRiskAccepted, Reason: "r"},
			"accepted, two years":  {Status: alert.StatusResolved, Resolution: alert.ResolutionRiskAccepted, Reason: "r", AcceptedUntil: ptr(w.now.Add(800 * 24 * time.Hour))},
			"unknown resolution":   {Status: alert.StatusResolved, Resolution: "ignored"},
			"resolution when open": {Status: alert.StatusInvestigating, Resolution: alert.ResolutionConfirmed},
		} {
			_, err := w.svc.SetCaseStatus(ctx, w.actorA, c.ID, ch)
			wantKind(t, name, err, problem.KindInvalid)
		}
		done, err := w.svc.SetCaseStatus(ctx, w.actorA, c.ID, alert.Change{Status: alert.StatusResolved,
			Resolution: alert.ResolutionRiskAccepted, Reason: "compensating WAF rule", AcceptedUntil: &until})
		if err != nil {
			t.Fatal(err)
		}
		for _, al := range done.AlertList {
			if al.Status != alert.StatusResolved || al.Resolution != alert.ResolutionRiskAccepted || al.AcceptedUntil == nil ||
				al.AcknowledgedBy != "alice" {
				t.Errorf("alert of the resolved case: %+v", al)
			}
		}
		closed, err := w.svc.SetCaseStatus(ctx, w.actorA, c.ID, alert.Change{Status: alert.StatusClosed})
		if err != nil || closed.Status != alert.StatusClosed || closed.Resolution != alert.ResolutionRiskAccepted {
			t.Fatalf("close: %+v %v", closed.Case, err)
		}
		if _, err := w.svc.SetCaseStatus(ctx, w.actorA, c.ID, alert.Change{Status: alert.StatusInvestigating}); problem.KindOf(err) != problem.KindConflict {
			t.Errorf("closed → investigating: %v", err)
		}
		if len(closed.Comments) != 1 || closed.Comments[0].Author != "alice" || closed.Assignee != "bob" || closed.Alerts != 3 {
			t.Errorf("closed case: %+v", closed)
		}
		got := w.trailActions(t)
		want := []string{"alert.case_create", "alert.case_comment", "alert.case_add", "alert.case_assign", "alert.case_status",
			"alert.status", "alert.status", "alert.status", "alert.case_status", "alert.status", "alert.status", "alert.status",
			"alert.case_status", "alert.status", "alert.status", "alert.status"}
		var acts []string
		for _, g := range got {
			acts = append(acts, strings.Fields(g)[0])
		}
		if !slices.Equal(acts, want) {
			t.Errorf("trail:\n%s", strings.Join(got, "\n"))
		}
	})
}

func ptr[T any](v T) *T { return &v }

func TestBulkActions(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := context.Background()
		var ids []int64
		for i := range 3 {
			al, _ := w.raise(t, vulnInput(w.hospA.ID, fmt.Sprintf("CVE-%d", i), "high"))
			ids = append(ids, al.ID)
		}
		b, _ := w.raise(t, vulnInput(w.hospB.ID, "CVE-B", "high"))
		// One alert A does not see: nothing changes.
		_, err := w.svc.SetStatus(ctx, w.actorA, append(ids, b.ID), alert.Change{Status: alert.StatusInvestigating})
		wantKind(t, "bulk with another hospital's alert", err, problem.KindNotFound)
		_, err = w.svc.Assign(ctx, w.actorA, append(ids, b.ID), "alice")
		wantKind(t, "bulk assign with another hospital's alert", err, problem.KindNotFound)
		if as, _, _ := w.svc.List(ctx, w.actorA, alert.Filter{Status: alert.StatusNew, Limit: 10}); len(as) != 3 || as[0].Assignee != "" {
			t.Fatalf("after refused bulk actions: %d new", len(as))
		}
		as, err := w.svc.SetStatus(ctx, w.actorA, ids, alert.Change{Status: alert.StatusInvestigating})
		if err != nil || len(as) != 3 {
			t.Fatalf("bulk status: %v", err)
		}
		// A move one of them does not allow: none moves.
		if _, err := w.svc.SetStatus(ctx, w.actorA, ids[:1], alert.Change{Status: alert.StatusResolved, Resolution: alert.ResolutionConfirmed}); err != nil {
			t.Fatal(err)
		}
		_, err = w.svc.SetStatus(ctx, w.actorA, ids, alert.Change{Status: alert.StatusClosed})
		wantKind(t, "close investigating alerts", err, problem.KindConflict)
		if as, err = w.svc.Assign(ctx, w.actorA, ids, "carol"); err != nil || as[2].Assignee != "carol" {
			t.Fatalf("bulk assign: %v", err)
		}
		_, err = w.svc.Assign(ctx, w.actorA, ids, "bad name")
		wantKind(t, "assignee with a space", err, problem.KindInvalid)
		if _, err := w.svc.SetStatus(ctx, w.actorA, make([]int64, alert.MaxBulk+1), alert.Change{Status: alert.StatusInvestigating}); problem.KindOf(err) != problem.KindInvalid {
			t.Errorf("too many ids: %v", err)
		}
		inv, _, _ := w.svc.List(ctx, w.actorA, alert.Filter{Status: alert.StatusOpen, Limit: 10})
		if len(inv) != 2 {
			t.Errorf("open after the bulk actions: %d", len(inv))
		}
		// A reopened alert whose key raised a newer one meanwhile cannot be reopened.
		fresh, created := w.raise(t, vulnInput(w.hospA.ID, "CVE-0", "high"))
		if !created {
			t.Fatal("raise after resolving counted the resolved alert")
		}
		_, err = w.svc.SetStatus(ctx, w.actorA, ids[:1], alert.Change{Status: alert.StatusInvestigating})
		wantKind(t, "reopen beside a newer open alert", err, problem.KindConflict)
		_ = fresh
	})
}

func TestOverdueCases(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := context.Background()
		info, _ := w.raise(t, vulnInput(w.hospA.ID, "CVE-I", "info")) // no due date
		crit, _ := w.raise(t, vulnInput(w.hospA.ID, "CVE-C", "critical"))
		c1, err := w.svc.CreateCase(ctx, w.actorA, alert.CaseInput{OrgID: w.hospA.ID, Title: "info only", AlertIDs: []int64{info.ID}})
		if err != nil {
			t.Fatal(err)
		}
		if c1.DueAt != nil {
			t.Errorf("info case due %v", c1.DueAt)
		}
		c2, err := w.svc.CreateCase(ctx, w.actorA, alert.CaseInput{OrgID: w.hospA.ID, Title: "critical", AlertIDs: []int64{crit.ID}})
		if err != nil || c2.DueAt == nil || !c2.DueAt.Equal(w.now.Add(24*time.Hour)) {
			t.Fatalf("critical case: %+v %v", c2.Case, err)
		}
		overdue := func(a actor.Actor) []int64 {
			cs, _, err := w.svc.Cases(ctx, a, alert.CaseQuery{Overdue: true, Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for _, c := range cs {
				ids = append(ids, c.ID)
			}
			return ids
		}
		if got := overdue(w.actorA); len(got) != 0 {
			t.Errorf("overdue at once: %v", got)
		}
		w.now = w.now.Add(25 * time.Hour)
		if got := overdue(w.actorA); !slices.Equal(got, []int64{c2.ID}) {
			t.Errorf("overdue after 25h: %v", got)
		}
		if got := overdue(w.actorB); len(got) != 0 {
			t.Errorf("hospital B's overdue cases: %v", got)
		}
		if cs, total, err := w.svc.Cases(ctx, w.actorA, alert.CaseQuery{Status: alert.StatusOpen, Limit: 1}); err != nil || total != 2 || len(cs) != 1 {
			t.Errorf("open cases page: %d of %d, %v", len(cs), total, err)
		}
	})
}

// TestAssigneeMustBeAUserTheActorSees: with the users check wired (as the application
// does, through auth), alerts and cases are assigned only to users the acting person
// sees: not to an unknown name, not to another hospital's officer.
func TestAssigneeMustBeAUserTheActorSees(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := context.Background()
		users := auth.NewService(db, w.tl, auth.Options{})
		for _, u := range []auth.UserInput{
			{OrgID: w.hospA.ID, Username: "alice", Role: auth.RoleSecurity, Password: "Str0ng-Passw0rd-Here"},
			{OrgID: w.deptA1.ID, Username: "carol", Role: auth.RoleITOps, Password: "Str0ng-Passw0rd-Here"},
			{OrgID: w.hospB.ID, Username: "bob", Role: auth.RoleSecurity, Password: "Str0ng-Passw0rd-Here"},
		} {
			if _, err := users.CreateUser(ctx, actor.System(), u); err != nil {
				t.Fatal(err)
			}
		}
		w.svc.SetUsers(func(ctx context.Context, a actor.Actor, username string) error {
			_, err := users.UserByName(ctx, a, username)
			return err
		})
		al, _ := w.raise(t, vulnInput(w.hospA.ID, "CVE-1", "high"))
		for _, who := range []string{"bob", "nobody"} {
			_, err := w.svc.Assign(ctx, w.actorA, []int64{al.ID}, who)
			wantKind(t, "assign to "+who, err, problem.KindInvalid)
			_, err = w.svc.CreateCase(ctx, w.actorA, alert.CaseInput{OrgID: w.hospA.ID, Title: "x", AlertIDs: []int64{al.ID}, Assignee: who})
			wantKind(t, "case for "+who, err, problem.KindInvalid)
		}
		if as, err := w.svc.Assign(ctx, w.actorA, []int64{al.ID}, "carol"); err != nil || as[0].Assignee != "carol" {
			t.Fatalf("assign to carol: %v", err)
		}
		c, err := w.svc.CreateCase(ctx, w.actorA, alert.CaseInput{OrgID: w.hospA.ID, Title: "x", AlertIDs: []int64{al.ID}, Assignee: "alice"})
		if err != nil || c.Assignee != "alice" {
			t.Fatalf("case for alice: %v", err)
		}
		_, err = w.svc.AssignCase(ctx, w.actorA, c.ID, "bob")
		wantKind(t, "case reassigned to bob", err, problem.KindInvalid)
		if c, err = w.svc.AssignCase(ctx, w.actorA, c.ID, ""); err != nil || c.Assignee != "" {
			t.Errorf("unassign: %v", err)
		}
	})
}
