package risk_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/risk"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// riskAlerts returns "kind dedup_key" of the alerts of source risk, in order.
func riskAlerts(t *testing.T, w *world) []string {
	t.Helper()
	rows, err := w.db.QueryContext(context.Background(), `SELECT kind, dedup_key, title FROM alerts WHERE source = 'risk' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var k, d, title string
		if err := rows.Scan(&k, &d, &title); err != nil {
			t.Fatal(err)
		}
		out = append(out, k+" "+d)
	}
	return out
}

// TestAcceptanceExpiryReopens: created → submitted → accepted by the named approver (the
// rating kept as the snapshot; the risk accepted); at the expiry Sweep re-opens the risk
// and raises "risk acceptance expired" once.
func TestAcceptanceExpiryReopens(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db, risk.Options{Playbooks: map[string][]risk.PlaybookTask{}})
		r, err := w.reg.Create(ctx, w.secA, input(w))
		if err != nil {
			t.Fatal(err)
		}
		exp := w.now.AddDate(0, 0, 20)
		in := risk.AcceptanceInput{Approver: "boss-a", Reason: "替代系统上线前无法加密", ExpiresAt: exp}
		for name, bad := range map[string]risk.AcceptanceInput{
			"self approval": {Approver: "sec-a", Reason: "x", ExpiresAt: exp},
			"no reason":     {Approver: "boss-a", ExpiresAt: exp},
			"past expiry":   {Approver: "boss-a", Reason: "x", ExpiresAt: w.now.Add(-time.Hour)},
		} {
			if _, err := w.reg.CreateAcceptance(ctx, w.secA, r.ID, bad); problem.KindOf(err) != problem.KindInvalid {
				t.Errorf("%s: %v", name, err)
			}
		}
		if _, err := w.reg.CreateAcceptance(ctx, w.secB, r.ID, in); problem.KindOf(err) != problem.KindNotFound {
			t.Fatalf("B asks to accept A's risk: %v", err)
		}
		x, err := w.reg.CreateAcceptance(ctx, w.secA, r.ID, in)
		if err != nil || x.Status != risk.AcceptCreated {
			t.Fatalf("create: %+v %v", x, err)
		}
		if _, err := w.reg.CreateAcceptance(ctx, w.secA, r.ID, in); problem.KindOf(err) != problem.KindConflict {
			t.Fatalf("a second acceptance: %v", err)
		}
		if _, err := w.reg.DecideAcceptance(ctx, w.boss, r.ID, x.ID, true, ""); problem.KindOf(err) != problem.KindConflict {
			t.Fatalf("deciding a draft: %v", err)
		}
		if x, err = w.reg.SubmitAcceptance(ctx, w.secA, r.ID, x.ID); err != nil || x.Status != risk.AcceptSubmitted {
			t.Fatalf("submit: %+v %v", x, err)
		}
		if _, err := w.reg.DecideAcceptance(ctx, w.secA, r.ID, x.ID, true, ""); problem.KindOf(err) != problem.KindForbidden {
			t.Fatalf("the requester decides: %v", err)
		}
		if x, err = w.reg.DecideAcceptance(ctx, w.boss, r.ID, x.ID, true, "同意，限期整改"); err != nil {
			t.Fatal(err)
		}
		got := []any{x.Status, x.DecidedBy, x.SnapshotLikelihood, x.SnapshotImpact, x.SnapshotLevel, x.SnapshotScore}
		if d := cmp.Diff([]any{risk.AcceptAccepted, "boss-a", 3, 4, "high", 12}, got); d != "" {
			t.Fatalf("decision (-want +got):\n%s", d)
		}
		if r, err = w.reg.Risk(ctx, w.secA, r.ID); err != nil || r.Status != risk.StatusAccepted || r.Treatment != risk.TreatAccept {
			t.Fatalf("accepted risk: %s %s %v", r.Status, r.Treatment, err)
		}
		if _, err := w.reg.SetStatus(ctx, w.secA, r.ID, risk.StatusOpen, "x"); problem.KindOf(err) != problem.KindConflict {
			t.Fatalf("re-open an accepted risk by hand: %v", err)
		}

		// The day before the expiry nothing expires.
		if res, err := w.reg.Sweep(ctx, exp.Add(-24*time.Hour)); err != nil || res.Expired != 0 {
			t.Fatalf("sweep before expiry: %+v %v", res, err)
		}
		w.now = exp.Add(time.Hour)
		res, err := w.reg.Sweep(ctx, w.now)
		if err != nil || res.Expired != 1 {
			t.Fatalf("sweep after expiry: %+v %v", res, err)
		}
		if r, err = w.reg.Risk(ctx, w.secA, r.ID); err != nil || r.Status != risk.StatusOpen || r.Acceptances[0].Status != risk.AcceptExpired {
			t.Fatalf("after expiry: %s %+v %v", r.Status, r.Acceptances, err)
		}
		if h := r.History[len(r.History)-1]; h.Action != "risk.acceptance_expire" || h.By != "system" {
			t.Fatalf("history %+v", h)
		}
		want := []string{"risk.acceptance_expired risk.acceptance_expired:" + itoa(x.ID)}
		if d := cmp.Diff(want, riskAlerts(t, w)); d != "" {
			t.Fatalf("alerts (-want +got):\n%s", d)
		}
		if res, err := w.reg.Sweep(ctx, w.now); err != nil || res != (risk.SweepResult{}) {
			t.Fatalf("second sweep: %+v %v", res, err)
		}
		if n := len(riskAlerts(t, w)); n != 1 {
			t.Fatalf("%d alerts after the second sweep", n)
		}
		// A new acceptance can be drafted now; revoking an accepted one re-opens too.
		x2, err := w.reg.CreateAcceptance(ctx, w.secA, r.ID, risk.AcceptanceInput{Approver: "boss-a", Reason: "再次接受", ExpiresAt: w.now.AddDate(0, 1, 0)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.reg.SubmitAcceptance(ctx, w.secA, r.ID, x2.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := w.reg.DecideAcceptance(ctx, w.boss, r.ID, x2.ID, false, ""); problem.KindOf(err) != problem.KindInvalid {
			t.Fatalf("reject without a reason: %v", err)
		}
		if x2, err = w.reg.DecideAcceptance(ctx, w.boss, r.ID, x2.ID, false, "请先完成加密"); err != nil || x2.Status != risk.AcceptRejected {
			t.Fatalf("reject: %+v %v", x2, err)
		}
		if r, _ = w.reg.Risk(ctx, w.secA, r.ID); r.Status != risk.StatusOpen {
			t.Fatalf("rejected: risk %s", r.Status)
		}
	})
}

// TestReviewAndTaskReminders: reviews and tasks coming due within RemindBefore raise a
// "due" reminder, past their date an "overdue" one, each once; a done task and a
// reviewed risk raise nothing more.
func TestReviewAndTaskReminders(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db, risk.Options{Playbooks: map[string][]risk.PlaybookTask{}, RemindBefore: 5 * 24 * time.Hour})
		r, err := w.reg.Create(ctx, w.secA, input(w)) // high: review in 30 days
		if err != nil {
			t.Fatal(err)
		}
		due := w.now.AddDate(0, 0, 10)
		tk, err := w.reg.AddTask(ctx, w.secA, r.ID, risk.TaskInput{Title: "备份加密", Assignee: "sec-a", DueAt: &due})
		if err != nil {
			t.Fatal(err)
		}
		steps := []struct {
			at   time.Time
			want risk.SweepResult
		}{
			{w.now, risk.SweepResult{}},
			{w.now.AddDate(0, 0, 6), risk.SweepResult{TasksDue: 1}},
			{w.now.AddDate(0, 0, 7), risk.SweepResult{}}, // raised already
			{w.now.AddDate(0, 0, 11), risk.SweepResult{TasksOverdue: 1}},
			{w.now.AddDate(0, 0, 26), risk.SweepResult{ReviewsDue: 1}},
			{w.now.AddDate(0, 0, 31), risk.SweepResult{ReviewsOverdue: 1}},
			{w.now.AddDate(0, 0, 31), risk.SweepResult{}},
		}
		for i, st := range steps {
			res, err := w.reg.Sweep(ctx, st.at)
			if err != nil {
				t.Fatal(err)
			}
			if res != st.want {
				t.Errorf("step %d (%s): %+v, want %+v", i, st.at.Format(time.DateOnly), res, st.want)
			}
		}
		want := []string{
			"risk.task_due risk.task_due:" + itoa(tk.ID) + ":2026-05-11",
			"risk.task_overdue risk.task_overdue:" + itoa(tk.ID) + ":2026-05-11",
			"risk.review_due risk.review_due:" + itoa(r.ID) + ":2026-05-31",
			"risk.review_overdue risk.review_overdue:" + itoa(r.ID) + ":2026-05-31",
		}
		if d := cmp.Diff(want, riskAlerts(t, w)); d != "" {
			t.Fatalf("alerts (-want +got):\n%s", d)
		}
		// Done and reviewed: nothing more, even much later.
		w.now = w.now.AddDate(0, 0, 32)
		if _, err := w.reg.CompleteTask(ctx, w.secA, r.ID, tk.ID, true); err != nil {
			t.Fatal(err)
		}
		if r, err = w.reg.Review(ctx, w.secA, r.ID, "已复核"); err != nil || !r.NextReviewAt.Equal(w.now.AddDate(0, 0, 30)) {
			t.Fatalf("review: %v %v", r.NextReviewAt, err)
		}
		if res, err := w.reg.Sweep(ctx, w.now.AddDate(0, 0, 20)); err != nil || res != (risk.SweepResult{}) {
			t.Fatalf("after the review: %+v %v", res, err)
		}
		if _, err := w.reg.CompleteTask(ctx, w.secB, r.ID, tk.ID, false); problem.KindOf(err) != problem.KindNotFound {
			t.Fatalf("B re-opens A's task: %v", err)
		}
	})
}
