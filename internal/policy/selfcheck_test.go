package policy_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medguard/medguard/internal/policy"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// TestRoleBook: holders are appointed; one person holding two of the three
// administrators is reported; another hospital's holder is not found.
func TestRoleBook(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		appoint := func(in policy.RoleInput) policy.Role {
			t.Helper()
			in.OrgID = w.hospA.ID
			r, err := w.svc.SaveRole(ctx, w.secA, 0, in)
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		appoint(policy.RoleInput{Role: policy.RoleCSO, Person: "王院长", Phone: "0571-8888 1234", Responsibilities: "全面负责"})
		sys := appoint(policy.RoleInput{Role: policy.RoleSystemAdmin, Username: "sec-a"})
		appoint(policy.RoleInput{Role: policy.RoleAuditAdmin, Person: "李审计"})
		book, err := w.svc.RoleBook(ctx, w.secA, w.hospA.ID)
		if err != nil || len(book.Roles) != 3 || len(book.Separation) != 0 || book.Roles[0].Role != policy.RoleCSO {
			t.Fatalf("book %v %+v", err, book)
		}
		appoint(policy.RoleInput{Role: policy.RoleSecurityAdmin, Username: "sec-a"})
		if book, err = w.svc.RoleBook(ctx, w.secA, w.hospA.ID); err != nil {
			t.Fatal(err)
		}
		want := []policy.Separation{{Holder: "sec-a", Roles: []string{policy.RoleSystemAdmin, policy.RoleSecurityAdmin}}}
		if d := cmp.Diff(want, book.Separation); d != "" {
			t.Fatalf("separation (-want +got):\n%s", d)
		}
		// Fixed by giving the system administrator role to someone else.
		if _, err := w.svc.SaveRole(ctx, w.secA, sys.ID, policy.RoleInput{Role: policy.RoleSystemAdmin, Username: "boss-a"}); err != nil {
			t.Fatal(err)
		}
		if book, _ = w.svc.RoleBook(ctx, w.secA, w.hospA.ID); len(book.Separation) != 0 {
			t.Fatalf("still %+v", book.Separation)
		}
		for name, in := range map[string]policy.RoleInput{
			"no holder":      {OrgID: w.hospA.ID, Role: policy.RoleCSO},
			"unknown role":   {OrgID: w.hospA.ID, Role: "king", Person: "x"},
			"other hospital": {OrgID: w.hospA.ID, Role: policy.RoleCSO, Username: "sec-b"},
			"bad phone":      {OrgID: w.hospA.ID, Role: policy.RoleCSO, Person: "x", Phone: "call me"},
		} {
			if _, err := w.svc.SaveRole(ctx, w.secA, 0, in); kindOf(err) != problem.KindInvalid {
				t.Errorf("%s: %v", name, err)
			}
		}
		if _, err := w.svc.RoleBook(ctx, w.secB, w.hospA.ID); kindOf(err) != problem.KindNotFound {
			t.Fatalf("B reads A's roles: %v", err)
		}
		if _, err := w.svc.SaveRole(ctx, w.secB, sys.ID, policy.RoleInput{Role: policy.RoleSystemAdmin, Person: "x"}); kindOf(err) != problem.KindNotFound {
			t.Fatalf("B changes A's role: %v", err)
		}
		if err := w.svc.RemoveRole(ctx, w.secB, sys.ID); kindOf(err) != problem.KindNotFound {
			t.Fatalf("B removes A's role: %v", err)
		}
		if err := w.svc.RemoveRole(ctx, w.secA, sys.ID); err != nil {
			t.Fatal(err)
		}
	})
}

// TestSelfChecks: a recurring check plans its successor when performed (once); an
// unperformed past check is overdue; the scope is this hospital's assets; reports are
// content-checked; SelfChecks lists a period; another hospital's check is not found.
func TestSelfChecks(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		plan := policy.CheckInput{OrgID: w.hospA.ID, Kind: "vuln_scan", Title: "季度漏洞扫描", PlannedAt: w.now,
			AssetIDs: []int64{w.assetA}, RecurMonths: 3}
		c, err := w.svc.SaveCheck(ctx, w.secA, 0, plan)
		if err != nil {
			t.Fatal(err)
		}
		list, n, err := w.svc.SelfCheckList(ctx, w.secA, policy.CheckQuery{Overdue: true, Now: w.now.AddDate(0, 0, 1)})
		if err != nil || n != 1 || list[0].ID != c.ID {
			t.Fatalf("overdue %v %d", err, n)
		}
		done := plan
		at := w.now.AddDate(0, 0, 2)
		done.PerformedAt, done.ThirdParty, done.Result, done.Findings, done.Summary = &at, "某测评公司", policy.ResultIssues, 7, "7 个中危漏洞"
		if c, err = w.svc.SaveCheck(ctx, w.secA, c.ID, done); err != nil {
			t.Fatal(err)
		}
		if c.NextID == 0 {
			t.Fatal("no successor planned")
		}
		next, err := w.svc.SelfCheck(ctx, w.secA, c.NextID)
		if err != nil {
			t.Fatal(err)
		}
		got := []any{next.PlannedAt, next.PerformedAt == nil, next.AssetIDs, next.RecurMonths}
		if d := cmp.Diff([]any{w.now.AddDate(0, 3, 0), true, []int64{w.assetA}, 3}, got); d != "" {
			t.Fatalf("successor (-want +got):\n%s", d)
		}
		// Recording the result again plans no second successor.
		if c2, err := w.svc.SaveCheck(ctx, w.secA, c.ID, done); err != nil || c2.NextID != c.NextID {
			t.Fatalf("again %v %d", err, c2.NextID)
		}
		if _, n, _ := w.svc.SelfCheckList(ctx, w.secA, policy.CheckQuery{}); n != 2 {
			t.Fatalf("%d checks", n)
		}
		period, err := w.svc.SelfChecks(ctx, w.secA, w.hospA.ID, w.now, w.now.AddDate(0, 1, 0))
		if err != nil || len(period) != 1 || period[0].ID != c.ID {
			t.Fatalf("period %v %+v", err, period)
		}
		for name, in := range map[string]func(policy.CheckInput) policy.CheckInput{
			"asset of B":       func(in policy.CheckInput) policy.CheckInput { in.AssetIDs = []int64{w.assetB}; return in },
			"kind":             func(in policy.CheckInput) policy.CheckInput { in.Kind = "audit"; return in },
			"pass with issues": func(in policy.CheckInput) policy.CheckInput { in.Result = policy.ResultPass; return in },
			"no performer": func(in policy.CheckInput) policy.CheckInput {
				in.ThirdParty = ""
				return in
			},
			"result unperformed": func(in policy.CheckInput) policy.CheckInput { in.PerformedAt = nil; return in },
		} {
			if _, err := w.svc.SaveCheck(ctx, w.secA, 0, in(done)); kindOf(err) != problem.KindInvalid {
				t.Errorf("%s: %v", name, err)
			}
		}
		if _, err := w.svc.AttachReport(ctx, w.secA, c.ID, "report.txt", strings.NewReader("<script>x</script>")); kindOf(err) != problem.KindInvalid {
			t.Fatalf("script report: %v", err)
		}
		if _, err := w.svc.Report(ctx, w.secA, c.ID); kindOf(err) != problem.KindNotFound {
			t.Fatalf("no report yet: %v", err)
		}
		if _, err := w.svc.AttachReport(ctx, w.secA, c.ID, "扫描报告.pdf", strings.NewReader("%PDF-1.4 report")); err != nil {
			t.Fatal(err)
		}
		if f, err := w.svc.Report(ctx, w.secA, c.ID); err != nil || f.Name != "扫描报告.pdf" {
			t.Fatalf("report %v %+v", err, f)
		}
		for name, f := range map[string]func() error{
			"read": func() error { _, err := w.svc.SelfCheck(ctx, w.secB, c.ID); return err },
			"save": func() error { _, err := w.svc.SaveCheck(ctx, w.secB, c.ID, done); return err },
			"attach": func() error {
				_, err := w.svc.AttachReport(ctx, w.secB, c.ID, "r.pdf", strings.NewReader("%PDF-"))
				return err
			},
			"report": func() error { _, err := w.svc.Report(ctx, w.secB, c.ID); return err },
			"period": func() error {
				_, err := w.svc.SelfChecks(ctx, w.secB, w.hospA.ID, w.now, w.now.Add(time.Hour))
				return err
			},
		} {
			if err := f(); kindOf(err) != problem.KindNotFound {
				t.Errorf("B %s: %v", name, err)
			}
		}
	})
}
