package training_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
	"github.com/medguard/medguard/internal/trail"
	"github.com/medguard/medguard/internal/trail/trailtest"
	"github.com/medguard/medguard/internal/training"
)

// raised records the alerts a sweep raises.
type raised struct{ in []alert.Input }

func (r *raised) Raise(_ context.Context, _ *store.Tx, in alert.Input) (alert.Alert, bool, error) {
	r.in = append(r.in, in)
	return alert.Alert{}, true, nil
}

type world struct {
	t            *testing.T
	db           *store.DB
	svc          *training.Service
	alerts       *raised
	hospA, hospB org.Node
	secA, secB   actor.Actor
	alice, bob   actor.Actor // it_ops and app_operator of A
	carol        actor.Actor // it_ops of B
	now          time.Time
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
	w := &world{t: t, db: db, alerts: &raised{}, now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	for h, name := range map[*org.Node]string{&w.hospA: "甲医院", &w.hospB: "乙医院"} {
		if *h, err = orgs.Create(ctx, actor.System(), org.Input{ParentID: prov.ID, Kind: org.KindHospital, Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	w.secA = w.user("sec-a", "security_officer", w.hospA)
	w.secB = w.user("sec-b", "security_officer", w.hospB)
	w.alice = w.user("alice", "it_ops", w.hospA)
	w.bob = w.user("bob", "app_operator", w.hospA)
	w.carol = w.user("carol", "it_ops", w.hospB)
	seed := int64(0)
	w.svc = training.New(db, tl, w.alerts, training.Options{Now: func() time.Time { return w.now },
		Seed: func() int64 { seed++; return seed }})
	return w
}

func (w *world) user(name, role string, o org.Node) actor.Actor {
	w.t.Helper()
	var id int64
	if err := w.db.QueryRowContext(context.Background(), `INSERT INTO users (org_id, username, role, password_hash, password_changed_at, created_at, updated_at)
		VALUES (?, ?, ?, 'x', ?, ?, ?) RETURNING id`, o.ID, name, role, w.now, w.now, w.now).Scan(&id); err != nil {
		w.t.Fatal(err)
	}
	return actor.Actor{UserID: id, Username: name, Role: role, OrgID: o.ID, OrgPath: o.Path}
}

func isNotFound(err error) bool { return problem.KindOf(err) == problem.KindNotFound }

const bank = `type,question,option_a,option_b,option_c,option_d,answer,explanation
single,收到自称信息科的电话索要密码，应当？,告知密码,挂断并向信息科核实,发到微信,写在便签上,B,信息科不会索要密码
multiple,以下哪些属于患者隐私数据？,姓名,诊断结果,医院地址,身份证号,ABD,医院地址是公开信息
truefalse,U 盘可以随意带出病历数据。,,,,,错,病历外带须审批并加密
`

// TestCourseScopeAndInput: a course is created, read and listed in its hospital only;
// bad input is refused with the field at fault.
func TestCourseScopeAndInput(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		c, err := w.svc.CreateCourse(ctx, w.secA, training.CourseInput{OrgID: w.hospA.ID, Title: "年度网络安全意识培训", Hours: 2,
			Roles: []string{"it_ops", "it_ops", "admin"}, RecurrenceMonths: 12, Rule: training.RuleBoth})
		if err != nil {
			t.Fatal(err)
		}
		want := training.Exam{Questions: 10, PassPercent: 80, TimeLimitMinutes: 30, MaxAttempts: 3}
		if d := cmp.Diff([]any{[]string{"admin", "it_ops"}, want, training.RuleBoth, 12}, []any{c.Roles, c.Exam, c.Rule, c.RecurrenceMonths}); d != "" {
			t.Fatalf("course (-want +got):\n%s", d)
		}
		if _, err := w.svc.Course(ctx, w.secB, c.ID); !isNotFound(err) {
			t.Fatalf("B reads A's course: %v", err)
		}
		if _, err := w.svc.UpdateCourse(ctx, w.secB, c.ID, training.CourseInput{Title: "x"}); !isNotFound(err) {
			t.Fatalf("B updates A's course: %v", err)
		}
		if _, err := w.svc.AddSession(ctx, w.secB, c.ID, training.SessionInput{StartsAt: w.now, Place: "x"}); !isNotFound(err) {
			t.Fatalf("B adds a session: %v", err)
		}
		if res, err := w.svc.ImportQuestions(ctx, w.secB, c.ID, []byte(bank)); !isNotFound(err) || res.Added != 0 {
			t.Fatalf("B imports: %v %v", res, err)
		}
		if cs, err := w.svc.Courses(ctx, w.secB, 0); err != nil || len(cs) != 0 {
			t.Fatalf("B lists %v %v", cs, err)
		}
		if _, err := w.svc.CreateCourse(ctx, w.secB, training.CourseInput{OrgID: w.hospA.ID, Title: "x"}); !isNotFound(err) {
			t.Fatalf("B creates in A: %v", err)
		}
		bad := []struct {
			name  string
			in    training.CourseInput
			field string
		}{
			{"no title", training.CourseInput{Title: " "}, "title"},
			{"role", training.CourseInput{Title: "x", Roles: []string{"nurse"}}, "roles"},
			{"rule", training.CourseInput{Title: "x", Rule: "vibes"}, "rule"},
			{"recurrence", training.CourseInput{Title: "x", RecurrenceMonths: -1}, "recurrence_months"},
			{"hours", training.CourseInput{Title: "x", Hours: -2}, "hours"},
			{"pass mark", training.CourseInput{Title: "x", Exam: training.Exam{PassPercent: 101}}, "exam.pass_percent"},
			{"attempts", training.CourseInput{Title: "x", Exam: training.Exam{MaxAttempts: -1}}, "exam.max_attempts"},
		}
		for _, b := range bad {
			b.in.OrgID = w.hospA.ID
			_, err := w.svc.CreateCourse(ctx, w.secA, b.in)
			p, ok := problem.As(err)
			if !ok || p.Field != b.field {
				t.Errorf("%s: %v, want a problem with field %s", b.name, err, b.field)
			}
		}
	})
}

// TestExam: a taker never sees the answers before submitting; the attempt is graded by
// the questions it showed even when the bank changes; attempts stop at the maximum; a
// user of another hospital cannot take the exam; a role the course is not for cannot.
func TestExam(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		c, err := w.svc.CreateCourse(ctx, w.secA, training.CourseInput{OrgID: w.hospA.ID, Title: "数据安全考试", Roles: []string{"it_ops"},
			Rule: training.RuleExam, Exam: training.Exam{Questions: 3, PassPercent: 60, TimeLimitMinutes: 20, MaxAttempts: 2}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.StartAttempt(ctx, w.alice, c.ID); problem.KindOf(err) != problem.KindConflict {
			t.Fatalf("empty bank: %v", err)
		}
		res, err := w.svc.ImportQuestions(ctx, w.secA, c.ID, []byte(bank))
		if err != nil || res.Added != 3 {
			t.Fatalf("import %+v %v", res, err)
		}
		for _, who := range []actor.Actor{w.carol, w.bob} {
			if _, err := w.svc.StartAttempt(ctx, who, c.ID); !isNotFound(err) {
				t.Fatalf("%s starts: %v", who.Username, err)
			}
		}
		at, err := w.svc.StartAttempt(ctx, w.alice, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		js, _ := json.Marshal(at)
		for _, leak := range []string{"answer", "explanation", "信息科不会", "医院地址是公开信息"} {
			if strings.Contains(string(js), leak) {
				t.Fatalf("the open attempt shows %q: %s", leak, js)
			}
		}
		if again, err := w.svc.StartAttempt(ctx, w.alice, c.ID); err != nil || again.ID != at.ID {
			t.Fatalf("starting again resumes the open attempt: %v %v", again.ID, err)
		}
		if _, err := w.svc.Attempt(ctx, w.bob, at.ID); !isNotFound(err) {
			t.Fatalf("bob reads alice's attempt: %v", err)
		}
		// The bank changes under the attempt: it is graded by what it showed.
		qs, _ := w.svc.Questions(ctx, w.secA, c.ID)
		for _, q := range qs {
			if err := w.svc.DeleteQuestion(ctx, w.secA, c.ID, q.ID); err != nil {
				t.Fatal(err)
			}
		}
		right := map[string][]int{"收到": {1}, "以下": {0, 1, 3}, "U 盘": {1}}
		answers := make([][]int, len(at.Questions))
		for i, q := range at.Questions {
			for prefix, a := range right {
				if strings.HasPrefix(q.Text, prefix) {
					answers[i] = a
				}
			}
		}
		answers[0] = []int{0} // no question's right answer: one wrong of three, 66 %, passes 60 %
		w.now = w.now.Add(10 * time.Minute)
		done, err := w.svc.Submit(ctx, w.alice, at.ID, answers)
		if err != nil {
			t.Fatal(err)
		}
		if r := done.Result; r == nil || r.Correct != 2 || r.Total != 3 || r.Percent != 66 || !r.Passed || r.Items[0].Right || r.Items[0].Explanation == "" {
			t.Fatalf("result %+v", done.Result)
		}
		if _, err := w.svc.Submit(ctx, w.alice, at.ID, answers); problem.KindOf(err) != problem.KindConflict {
			t.Fatalf("submitted twice: %v", err)
		}
		// Second (last) attempt: the bank is empty now, so refill it; then late.
		if _, err := w.svc.ImportQuestions(ctx, w.secA, c.ID, []byte(bank)); err != nil {
			t.Fatal(err)
		}
		at2, err := w.svc.StartAttempt(ctx, w.alice, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		w.now = w.now.Add(time.Hour)
		late, err := w.svc.Submit(ctx, w.alice, at2.ID, nil)
		if err != nil || !late.Result.Late || late.Result.Passed {
			t.Fatalf("late: %+v %v", late.Result, err)
		}
		if _, err := w.svc.StartAttempt(ctx, w.alice, c.ID); problem.KindOf(err) != problem.KindConflict {
			t.Fatalf("third attempt of two: %v", err)
		}
		mine, err := w.svc.Mine(ctx, w.alice)
		if err != nil || len(mine) != 1 || mine[0].AttemptsUsed != 2 || !mine[0].Status.Done {
			t.Fatalf("mine %+v %v", mine, err)
		}
	})
}

// TestCompletionOverdueSweep: required training by role; completion holds for the
// recurrence period; the overdue list and reminders once per due period.
func TestCompletionOverdueSweep(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		created := w.now
		c, err := w.svc.CreateCourse(ctx, w.secA, training.CourseInput{OrgID: w.hospA.ID, Title: "年度安全意识", Roles: []string{"it_ops", "app_operator"},
			RecurrenceMonths: 12, Rule: training.RuleAttendance})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.CreateCourse(ctx, w.secB, training.CourseInput{OrgID: w.hospB.ID, Title: "乙院课程", AllStaff: true}); err != nil {
			t.Fatal(err)
		}
		check := func(name string, wantReq, wantDone int, wantOverdue []string) {
			t.Helper()
			req, done, err := w.svc.Completion(ctx, w.hospA.ID)
			if err != nil || req != wantReq || done != wantDone {
				t.Fatalf("%s: completion %d/%d %v, want %d/%d", name, done, req, err, wantDone, wantReq)
			}
			od, err := w.svc.Overdue(ctx, w.secA, w.hospA.ID)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, o := range od {
				got = append(got, o.Username+" "+o.DueSince.Format(time.DateOnly))
			}
			if d := cmp.Diff(wantOverdue, got); d != "" {
				t.Fatalf("%s: overdue (-want +got):\n%s", name, d)
			}
		}
		day := created.Format(time.DateOnly)
		check("new", 2, 0, []string{"alice " + day, "bob " + day})
		if _, err := w.svc.Overdue(ctx, w.secB, w.hospA.ID); !isNotFound(err) {
			t.Fatalf("B reads A's overdue list: %v", err)
		}
		res, err := w.svc.Sweep(ctx, w.now)
		// Hospital A's two and hospital B's two (its course is for all staff).
		if err != nil || res.Reminded != 4 || len(w.alerts.in) != 4 || w.alerts.in[0].Account != "alice" || w.alerts.in[0].OrgID != w.hospA.ID ||
			w.alerts.in[2].OrgID != w.hospB.ID {
			t.Fatalf("sweep %+v %v %+v", res, err, w.alerts.in)
		}
		res, err = w.svc.Sweep(ctx, w.now.Add(24*time.Hour))
		if err != nil || res.Reminded != 0 || res.Overdue < 2 {
			t.Fatalf("second sweep %+v %v", res, err)
		}
		sess, err := w.svc.AddSession(ctx, w.secA, c.ID, training.SessionInput{StartsAt: w.now.Add(48 * time.Hour), Place: "门诊楼三楼会议室", Trainer: "信息科"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.RecordAttendance(ctx, w.secA, sess.ID, []training.Mark{{Username: "carol", Attended: true}}); problem.KindOf(err) != problem.KindInvalid {
			t.Fatalf("B's user attends A's session: %v", err)
		}
		if _, err := w.svc.RecordAttendance(ctx, w.secA, sess.ID, []training.Mark{{Username: "alice", Attended: true}, {Username: "bob", Attended: false}}); err != nil {
			t.Fatal(err)
		}
		check("session in the future", 2, 0, []string{"alice " + day, "bob " + day})
		w.now = w.now.Add(72 * time.Hour)
		check("alice attended", 2, 1, []string{"bob " + day})
		// A year after the session alice's completion runs out: due again, reminded again once.
		w.now = sess.StartsAt.AddDate(1, 0, 1)
		expiry := sess.StartsAt.AddDate(1, 0, 0).Format(time.DateOnly)
		check("expired", 2, 0, []string{"bob " + day, "alice " + expiry})
		w.alerts.in = nil
		res, err = w.svc.Sweep(ctx, w.now)
		if err != nil || res.Reminded != 1 || len(w.alerts.in) != 1 || w.alerts.in[0].Account != "alice" {
			t.Fatalf("sweep after expiry %+v %v %+v", res, err, w.alerts.in)
		}
		if rs, err := w.svc.Reminders(ctx, w.alice.UserID, c.ID); err != nil || len(rs) != 2 {
			t.Fatalf("alice's reminders %v %v", rs, err)
		}
		stats, err := w.svc.CourseStats(ctx, w.secA, w.hospA.ID)
		if err != nil || len(stats) != 1 || stats[0].Required != 2 || stats[0].Done != 0 {
			t.Fatalf("stats %+v %v", stats, err)
		}
	})
}
