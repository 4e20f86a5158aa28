package policy_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/asset"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/policy"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
	"github.com/medguard/medguard/internal/trail"
	"github.com/medguard/medguard/internal/trail/trailtest"
)

type world struct {
	db                *store.DB
	svc               *policy.Service
	hospA, hospB      org.Node
	secA, bossA, secB actor.Actor
	assetA, assetB    int64
	now               time.Time
}

func newWorld(t *testing.T, db *store.DB) *world {
	t.Helper()
	ctx := context.Background()
	tl, err := trail.New(trail.SHA256, trailtest.Key(t))
	if err != nil {
		t.Fatal(err)
	}
	orgs := org.NewService(db, tl)
	prov, err := orgs.Create(ctx, actor.System(), org.Input{Kind: org.KindProvince, Name: "省卫健委"})
	if err != nil {
		t.Fatal(err)
	}
	w := &world{db: db, now: time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)}
	for h, name := range map[*org.Node]string{&w.hospA: "甲医院", &w.hospB: "乙医院"} {
		if *h, err = orgs.Create(ctx, actor.System(), org.Input{ParentID: prov.ID, Kind: org.KindHospital, Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	w.secA = actor.Actor{Username: "sec-a", Role: "security_officer", OrgID: w.hospA.ID, OrgPath: w.hospA.Path}
	w.bossA = actor.Actor{Username: "boss-a", Role: "admin", OrgID: w.hospA.ID, OrgPath: w.hospA.Path}
	w.secB = actor.Actor{Username: "sec-b", Role: "security_officer", OrgID: w.hospB.ID, OrgPath: w.hospB.Path}
	for _, u := range []actor.Actor{w.secA, w.bossA, w.secB} {
		if _, err := db.ExecContext(ctx, `INSERT INTO users (org_id, username, role, password_hash, password_changed_at, created_at, updated_at)
			VALUES (?, ?, ?, 'x', ?, ?, ?)`, u.OrgID, u.Username, u.Role, w.now, w.now, w.now); err != nil {
			t.Fatal(err)
		}
	}
	al, err := alert.New(db, tl)
	if err != nil {
		t.Fatal(err)
	}
	al.SetClock(func() time.Time { return w.now })
	assets := asset.NewService(db, tl)
	for _, x := range []struct {
		id  *int64
		a   actor.Actor
		org int64
	}{{&w.assetA, w.secA, w.hospA.ID}, {&w.assetB, w.secB, w.hospB.ID}} {
		as, err := assets.Create(ctx, x.a, asset.Input{OrgID: x.org, Code: "HIS-01", Name: "HIS 数据库服务器", Kind: "server", Zone: "internal"})
		if err != nil {
			t.Fatal(err)
		}
		*x.id = as.ID
	}
	w.svc = policy.New(db, tl, al, policy.Options{Now: func() time.Time { return w.now }})
	return w
}

func (w *world) alerts(t *testing.T, kind string) int {
	t.Helper()
	var n int
	if err := w.db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM alerts WHERE kind = ?`, kind).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// none is the kind of no error.
const none problem.Kind = -1

func kindOf(err error) problem.Kind {
	if err == nil {
		return none
	}
	return problem.KindOf(err)
}

func input(w *world) policy.Input {
	return policy.Input{OrgID: w.hospA.ID, Title: "网络安全管理制度", Category: policy.CategoryRule, Owner: "sec-a",
		Body: "第一条 为加强本院网络安全管理……"}
}

// approved creates a policy written by secA and approved by bossA, effective now.
func (w *world) approved(t *testing.T) policy.Policy {
	t.Helper()
	ctx := context.Background()
	p, err := w.svc.Create(ctx, w.secA, input(w))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.Submit(ctx, w.secA, p.ID); err != nil {
		t.Fatal(err)
	}
	if p, err = w.svc.Approve(ctx, w.bossA, p.ID, policy.Decision{Approve: true}); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestApprovalAndVersions: a policy is approved by someone other than its author, due
// for review after 12 months; a revision is a new version while the approved one stays
// in force; approving it supersedes the old one; history is kept.
func TestApprovalAndVersions(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		p, err := w.svc.Create(ctx, w.secA, input(w))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.Approve(ctx, w.bossA, p.ID, policy.Decision{Approve: true}); kindOf(err) != problem.KindConflict {
			t.Fatalf("a draft approved: %v", err)
		}
		if _, err := w.svc.Submit(ctx, w.secA, p.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.Approve(ctx, w.secA, p.ID, policy.Decision{Approve: true}); kindOf(err) != problem.KindForbidden {
			t.Fatalf("the author approved: %v", err)
		}
		if p, err = w.svc.Approve(ctx, w.bossA, p.ID, policy.Decision{Approve: true}); err != nil {
			t.Fatal(err)
		}
		got := []any{p.Status, p.Version, p.ApprovedVersion, *p.NextReviewAt, p.Versions[0].ApprovedBy, p.Versions[0].Author}
		want := []any{policy.StatusApproved, 1, 1, w.now.AddDate(1, 0, 0), "boss-a", "sec-a"}
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("approved (-want +got):\n%s", d)
		}
		// A revision: version 2 draft, version 1 still in force.
		w.now = w.now.AddDate(0, 2, 0)
		in := input(w)
		in.Body = "第一条（修订）"
		in.Owner = "boss-a"
		if p, err = w.svc.Revise(ctx, w.secA, p.ID, in); err != nil {
			t.Fatal(err)
		}
		if p.Version != 2 || p.ApprovedVersion != 1 || p.Status != policy.StatusDraft || len(p.Versions) != 2 || p.Owner != "boss-a" {
			t.Fatalf("revised %+v", p)
		}
		if _, err := w.svc.Submit(ctx, w.secA, p.ID); err != nil {
			t.Fatal(err)
		}
		// Returned, revised in place, submitted, approved by the new owner (not the author).
		if p, err = w.svc.Approve(ctx, w.bossA, p.ID, policy.Decision{Approve: false, Note: "补充第三条"}); err != nil || p.Status != policy.StatusDraft {
			t.Fatalf("returned %v %+v", err, p)
		}
		if p, err = w.svc.Revise(ctx, w.secA, p.ID, in); err != nil || p.Version != 2 {
			t.Fatalf("revised again %v %+v", err, p)
		}
		if _, err := w.svc.Submit(ctx, w.secA, p.ID); err != nil {
			t.Fatal(err)
		}
		eff := w.now.AddDate(0, 0, 10)
		if p, err = w.svc.Approve(ctx, w.bossA, p.ID, policy.Decision{Approve: true, EffectiveAt: eff}); err != nil {
			t.Fatal(err)
		}
		var statuses []string
		for _, v := range p.Versions {
			statuses = append(statuses, v.Status)
		}
		if d := cmp.Diff([]string{policy.StatusApproved, policy.StatusSuperseded}, statuses); d != "" {
			t.Fatalf("versions (-want +got):\n%s", d)
		}
		if !p.NextReviewAt.Equal(eff.AddDate(1, 0, 0)) || p.Versions[1].Body != input(w).Body {
			t.Fatalf("after v2: next %v, v1 body %q", p.NextReviewAt, p.Versions[1].Body)
		}
		// Bad input.
		bad := input(w)
		bad.Owner = "sec-b" // a user of another hospital
		if _, err := w.svc.Create(ctx, w.secA, bad); kindOf(err) != problem.KindInvalid {
			t.Fatalf("owner of hospital B: %v", err)
		}
		bad = input(w)
		bad.Category = "manifesto"
		if _, err := w.svc.Create(ctx, w.secA, bad); kindOf(err) != problem.KindInvalid {
			t.Fatalf("category: %v", err)
		}
		empty := input(w)
		empty.Body = ""
		e, err := w.svc.Create(ctx, w.secA, empty)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.Submit(ctx, w.secA, e.ID); kindOf(err) != problem.KindInvalid {
			t.Fatalf("empty submitted: %v", err)
		}
	})
}

// TestOtherHospital: hospital B neither reads nor changes hospital A's policy.
func TestOtherHospital(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		p := w.approved(t)
		calls := map[string]func() error{
			"read":    func() error { _, err := w.svc.Policy(ctx, w.secB, p.ID); return err },
			"revise":  func() error { _, err := w.svc.Revise(ctx, w.secB, p.ID, input(w)); return err },
			"submit":  func() error { _, err := w.svc.Submit(ctx, w.secB, p.ID); return err },
			"approve": func() error { _, err := w.svc.Approve(ctx, w.secB, p.ID, policy.Decision{Approve: true}); return err },
			"retire":  func() error { _, err := w.svc.Retire(ctx, w.secB, p.ID, "x"); return err },
			"review": func() error {
				_, err := w.svc.CompleteReview(ctx, w.secB, p.ID, policy.ReviewInput{Outcome: policy.OutcomeNoChange})
				return err
			},
			"attach": func() error {
				_, err := w.svc.AttachFile(ctx, w.secB, p.ID, "a.txt", strings.NewReader("text"))
				return err
			},
			"file":   func() error { _, err := w.svc.File(ctx, w.secB, p.ID, 1); return err },
			"create": func() error { in := input(w); _, err := w.svc.Create(ctx, w.secB, in); return err },
		}
		for name, f := range calls {
			if err := f(); kindOf(err) != problem.KindNotFound {
				t.Errorf("%s: %v", name, err)
			}
		}
		list, n, err := w.svc.Policies(ctx, w.secB, policy.Query{})
		if err != nil || n != 0 || len(list) != 0 {
			t.Fatalf("B lists %d %v", n, err)
		}
	})
}

// TestReviewSweep: a review is opened (alert raised once) within the reminder window,
// marked overdue once its date passes (alert once), counted by OverdueReviews, and
// completed with no change or by a revision.
func TestReviewSweep(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		start := w.now
		p := w.approved(t)
		due := start.AddDate(1, 0, 0)
		step := func(at time.Time, want policy.SweepResult) {
			t.Helper()
			got, err := w.svc.Sweep(ctx, at)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Fatalf("sweep at %s (-want +got):\n%s", at, d)
			}
		}
		counts := func(at time.Time, wantTotal, wantOverdue int) {
			t.Helper()
			total, overdue, err := w.svc.OverdueReviews(ctx, w.hospA.ID, at)
			if err != nil || total != wantTotal || overdue != wantOverdue {
				t.Fatalf("OverdueReviews at %s = %d, %d, %v; want %d, %d", at, total, overdue, err, wantTotal, wantOverdue)
			}
		}
		step(due.AddDate(0, 0, -31), policy.SweepResult{})
		counts(due.AddDate(0, 0, -31), 1, 0)
		w.now = due.AddDate(0, 0, -20)
		step(w.now, policy.SweepResult{ReviewsOpened: 1})
		step(w.now, policy.SweepResult{})
		if n := w.alerts(t, policy.KindReviewDue); n != 1 {
			t.Fatalf("%d review_due alerts", n)
		}
		w.now = due.AddDate(0, 0, 1)
		counts(w.now, 1, 1)
		step(w.now, policy.SweepResult{ReviewsOverdue: 1})
		step(w.now.AddDate(0, 0, 5), policy.SweepResult{})
		if n := w.alerts(t, policy.KindReviewOverdue); n != 1 {
			t.Fatalf("%d review_overdue alerts", n)
		}
		got, err := w.svc.Policy(ctx, w.secA, p.ID)
		if err != nil || len(got.Reviews) != 1 || got.Reviews[0].Status != policy.ReviewOverdue {
			t.Fatalf("reviews %v %+v", err, got.Reviews)
		}
		// Completed with no change by the owner: next review a year on.
		if got, err = w.svc.CompleteReview(ctx, w.secA, p.ID, policy.ReviewInput{Outcome: policy.OutcomeNoChange, Note: "仍适用"}); err != nil {
			t.Fatal(err)
		}
		r := got.Reviews[0]
		if r.Status != policy.ReviewDone || r.DoneBy != "sec-a" || !r.DoneAt.Equal(w.now) || !got.NextReviewAt.Equal(w.now.AddDate(1, 0, 0)) {
			t.Fatalf("review done %+v next %v", r, got.NextReviewAt)
		}
		counts(w.now, 1, 0)
		step(w.now, policy.SweepResult{})
		// The next cycle: a review completed by revision leaves a new draft version.
		w.now = got.NextReviewAt.AddDate(0, 0, -1)
		step(w.now, policy.SweepResult{ReviewsOpened: 1})
		if n := w.alerts(t, policy.KindReviewDue); n != 2 {
			t.Fatalf("%d review_due alerts after the second cycle", n)
		}
		if got, err = w.svc.CompleteReview(ctx, w.bossA, p.ID, policy.ReviewInput{Outcome: policy.OutcomeRevised, Body: "修订稿"}); err != nil {
			t.Fatal(err)
		}
		if got.Version != 2 || got.Status != policy.StatusDraft || got.Versions[0].Body != "修订稿" || got.Reviews[0].Outcome != policy.OutcomeRevised {
			t.Fatalf("revised by review %+v", got)
		}
		// A retired policy is no longer counted nor reviewed.
		if _, err := w.svc.Retire(ctx, w.secA, p.ID, "并入新制度"); err != nil {
			t.Fatal(err)
		}
		counts(w.now.AddDate(5, 0, 0), 0, 0)
		step(w.now.AddDate(5, 0, 0), policy.SweepResult{})
		if _, _, err := w.svc.OverdueReviews(ctx, 999999, w.now); kindOf(err) != problem.KindNotFound {
			t.Fatalf("unknown org: %v", err)
		}
	})
}

// TestAttachFile: a document is content-checked and size-bounded.
func TestAttachFile(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		p, err := w.svc.Create(ctx, w.secA, input(w))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name, file, data string
			want             problem.Kind
		}{
			{"html", "policy.txt", "<html><script>alert(1)</script>", problem.KindInvalid},
			{"disguised", "policy.pdf", "plain text", problem.KindInvalid},
			{"exe", "policy.exe", "MZ\x90", problem.KindInvalid},
			{"empty", "policy.txt", "", problem.KindInvalid},
			{"too large", "policy.txt", strings.Repeat("制", 7<<20), problem.KindInvalid},
			{"pdf", "网络安全管理制度.pdf", "%PDF-1.7\n...", none},
		} {
			_, err := w.svc.AttachFile(ctx, w.secA, p.ID, c.file, strings.NewReader(c.data))
			if kindOf(err) != c.want {
				t.Errorf("%s: %v", c.name, err)
			}
		}
		f, err := w.svc.File(ctx, w.secA, p.ID, 1)
		if err != nil || f.Kind != "pdf" || f.ContentType != "application/pdf" || string(f.Content) != "%PDF-1.7\n..." {
			t.Fatalf("file %v %+v", err, f)
		}
		if _, err := w.svc.File(ctx, w.secA, p.ID, 2); kindOf(err) != problem.KindNotFound {
			t.Fatalf("missing version: %v", err)
		}
	})
}
