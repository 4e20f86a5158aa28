package web

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
	"github.com/medguard/medguard/internal/training"
)

// trainingBank is a question bank of three; its explanations must never reach a taker
// before submission.
const trainingBank = "type,question,option_a,option_b,answer,explanation\n" +
	"single,收到索要密码的电话应当？,告知,挂断并核实,B,SECRET-EXPLANATION-1\n" +
	"truefalse,U 盘可以随意带出病历。,,,错,SECRET-EXPLANATION-2\n" +
	"single,离开电脑时应当？,锁屏,不管,A,SECRET-EXPLANATION-3\n"

// seedTraining gives each hospital a course required of every role with an exam of two
// questions from a bank of three (two attempts), a session, and hospital B an attempt by
// its security officer.
func (e *testEnv) seedTraining() {
	t := e.t
	t.Helper()
	ctx := context.Background()
	sys := actor.System()
	for _, h := range []struct {
		org  int64
		name string
		c    *training.Course
		s    *training.Session
	}{{e.HospA.ID, "Security awareness A", &e.TrainingCourseA, &e.TrainingSessionA},
		{e.HospB.ID, "Awareness for " + productBName, &e.TrainingCourseB, &e.TrainingSessionB}} {
		var err error
		if *h.c, err = e.Training.CreateCourse(ctx, sys, training.CourseInput{OrgID: h.org, Title: h.name, AllStaff: true, RecurrenceMonths: 12,
			Rule: training.RuleExam, Exam: training.Exam{Questions: 2, PassPercent: 50, MaxAttempts: 2}}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Training.ImportQuestions(ctx, sys, h.c.ID, []byte(trainingBank)); err != nil {
			t.Fatal(err)
		}
		if *h.s, err = e.Training.AddSession(ctx, sys, h.c.ID, training.SessionInput{StartsAt: time.Now().Add(24 * time.Hour), Place: "Room of " + h.name}); err != nil {
			t.Fatal(err)
		}
	}
	var err error
	if e.TrainingAttemptB, err = e.Training.StartAttempt(ctx, e.Users["secofficer_b"].Actor(""), e.TrainingCourseB.ID); err != nil {
		t.Fatal(err)
	}
}

// TestTrainingExamAPI: an app operator (PermSelf only) takes an exam: the open attempt
// shows no answers or explanations; the result does; the third attempt of two is
// refused; the manager's lists show the course and who is overdue.
func TestTrainingExamAPI(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newSupplyEnv(t, db)
		cid := strconv.FormatInt(e.TrainingCourseA.ID, 10)
		do := func(user, method, path, body string, want int) string {
			t.Helper()
			req, _ := http.NewRequest(method, e.URL+path, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+e.Tokens[user])
			if body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var buf strings.Builder
			_, _ = io_Copy(&buf, resp)
			if resp.StatusCode != want {
				t.Fatalf("%s %s as %s: %d, want %d: %s", method, path, user, resp.StatusCode, want, buf.String())
			}
			return buf.String()
		}
		for i := range 2 {
			body := do("appops", "POST", "/api/v1/training/exams/"+cid+"/attempts", "", http.StatusCreated)
			for _, leak := range []string{"SECRET-EXPLANATION", `"answer"`, `"explanation"`, productBName} {
				if strings.Contains(body, leak) {
					t.Fatalf("attempt %d before submission shows %q: %s", i, leak, body)
				}
			}
			var at training.Attempt
			if err := json.Unmarshal([]byte(body), &at); err != nil || len(at.Questions) != 2 {
				t.Fatalf("attempt %s %v", body, err)
			}
			aid := strconv.FormatInt(at.ID, 10)
			if got := do("appops", "GET", "/api/v1/training/attempts/"+aid, "", http.StatusOK); strings.Contains(got, "SECRET-EXPLANATION") {
				t.Fatalf("open attempt read shows explanations: %s", got)
			}
			do("itops", "GET", "/api/v1/training/attempts/"+aid, "", http.StatusNotFound)
			res := do("appops", "POST", "/api/v1/training/attempts/"+aid+"/submit", `{"answers":[[0],[0]]}`, http.StatusOK)
			if !strings.Contains(res, "SECRET-EXPLANATION") || !strings.Contains(res, `"result"`) {
				t.Fatalf("result without explanations: %s", res)
			}
		}
		do("appops", "POST", "/api/v1/training/exams/"+cid+"/attempts", "", http.StatusConflict)
		mine := do("appops", "GET", "/api/v1/training/mine", "", http.StatusOK)
		if !strings.Contains(mine, "Security awareness A") || strings.Contains(mine, productBName) {
			t.Fatalf("mine: %s", mine)
		}
		list := do("secofficer", "GET", "/api/v1/training/courses", "", http.StatusOK)
		if !strings.Contains(list, "Security awareness A") || strings.Contains(list, productBName) {
			t.Fatalf("courses: %s", list)
		}
		od := do("secofficer", "GET", "/api/v1/training/overdue", "", http.StatusOK)
		if !strings.Contains(od, `"itops"`) || strings.Contains(od, "secofficer_b") {
			t.Fatalf("overdue: %s", od)
		}
		bad := do("secofficer", "POST", "/api/v1/training/courses/"+cid+"/questions/import", "", http.StatusUnprocessableEntity)
		if !strings.Contains(bad, "training.import.empty") {
			t.Fatalf("empty import: %s", bad)
		}
	})
}

// io_Copy reads a response body into b.
func io_Copy(b *strings.Builder, resp *http.Response) (int64, error) { return io.Copy(b, resp.Body) }
