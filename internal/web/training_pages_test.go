package web

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

var (
	trainingCourseRe  = regexp.MustCompile(`/training/courses/(\d+)`)
	trainingAttemptRe = regexp.MustCompile(`[?&]attempt=(\d+)`)
	trainingSessionRe = regexp.MustCompile(`id="session-(\d+)"`)
	examQuestionRe    = regexp.MustCompile(`(?s)<li id="exam-q-(\d+)">\s*<fieldset><legend>(.*?)</legend>`)
)

// trainingRight is the right option of each question the test writes, by a word of its text.
var trainingRight = map[string]string{"锁屏题": "0", "判断题目": "1", "导入题": "2"}

// TestTrainingPages walks the training pages in each language as their users do: the
// officer creates a course (a course without a title is answered at the field in the
// page's language), adds questions through the form (a wrong answer letter refused at
// its field), imports a bank (a faulty file shows its lines and adds nothing), adds a
// session and records attendance, changes the exam settings; an app operator finds the
// course among theirs, starts the exam and sees no answer or explanation before
// submitting, then the result with the right answers and explanations; IT operations
// fails it; the officer sees the attempts, the completion and who is overdue. The
// Chinese pages carry no English.
func TestTrainingPages(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newSupplyEnv(t, db)
		for _, lang := range []string{i18n.EN, "zh-CN"} {
			t.Run(lang, func(t *testing.T) {
				vars := map[string]string{"org": strconv.FormatInt(e.HospA.ID, 10), "lang": lang, "title": "培训课程-" + lang}
				right, wrong := url.Values{}, url.Values{}
				zh := func(t *testing.T, body string, _ http.Header) {
					t.Helper()
					if lang != "zh-CN" {
						return
					}
					for _, line := range visibleText(body) {
						for _, m := range englishRe.FindAllString(line, -1) {
							if !allowedEnglish("/training", m) {
								t.Errorf("English on a zh-CN training page: %q", m)
							}
						}
					}
				}
				capture := func(name string, re *regexp.Regexp, fromBody bool) func(*testing.T, string, http.Header) {
					return func(t *testing.T, body string, h http.Header) {
						t.Helper()
						src := h.Get("Location")
						if fromBody {
							src = body
						}
						m := re.FindStringSubmatch(src)
						if m == nil {
							t.Fatalf("no %s in %.300s", name, src)
						}
						vars[name] = m[1]
					}
				}
				// answers fills right and wrong from the exam's questions.
				answers := func(t *testing.T, body string, h http.Header) {
					t.Helper()
					zh(t, body, h)
					qs := examQuestionRe.FindAllStringSubmatch(body, -1)
					if len(qs) != 2 {
						t.Fatalf("the exam shows %d questions, want 2", len(qs))
					}
					for _, q := range qs {
						found := false
						for word, opt := range trainingRight {
							if strings.Contains(q[2], word) {
								right.Set("q"+q[1], opt)
								wrong.Set("q"+q[1], map[string]string{"0": "1", "1": "0", "2": "0"}[opt])
								found = true
							}
						}
						if !found {
							t.Fatalf("unknown question %q", q[2])
						}
					}
				}
				T := func(key string) string { return e.srv.I18n.T(lang, key) }
				secret := []string{"EXPL-" + lang, T("training.right_answer"), `class="right-answer"`}
				const bank = "题型,题目,选项A,选项B,选项C,答案,解析\n单选,导入题：发现勒索病毒先做什么？,关机,继续工作,断网并报告,C,EXPL-"
				e.runPages(t, vars, []pageScenario{
					{name: "the officer's language", user: "secofficer", method: "POST", path: "/lang", form: url.Values{"lang": {lang}}, status: http.StatusSeeOther},
					{name: "the training page", user: "secofficer", method: "GET", path: "/training", status: http.StatusOK,
						expect:    []string{`id="training-course-form"`, "Security awareness A", `id="training-overdue-table"`, "itops", T("training.list.title")},
						notExpect: []string{productBName, "secofficer_b"}, after: zh},
					{name: "a course without a title", user: "secofficer", method: "POST", path: "/training/courses",
						form:   url.Values{"org_id": {vars["org"]}, "description": {"保留的说明"}, "rule": {"exam"}},
						status: http.StatusBadRequest, expect: []string{`id="err-title"`, "保留的说明", T("training.field.title")}, after: zh},
					{name: "the course", user: "secofficer", method: "POST", path: "/training/courses",
						form: url.Values{"org_id": {vars["org"]}, "title": {vars["title"]}, "all_staff": {"true"}, "rule": {"exam"},
							"recurrence_months": {"12"}, "exam_questions": {"2"}, "pass_percent": {"100"}, "time_limit_minutes": {"20"}, "max_attempts": {"2"}},
						status: http.StatusSeeOther, location: "/training/courses/", after: capture("course", trainingCourseRe, false)},
					{name: "a question", user: "secofficer", method: "POST", path: "/training/courses/{course}/questions",
						form: url.Values{"kind": {"single"}, "text": {"锁屏题：离开电脑时应当？"}, "options": {"锁屏\n不管"}, "answer": {"A"},
							"explanation": {"EXPL-" + lang + "-1"}}, status: http.StatusSeeOther, location: "/training/courses/{course}?flash="},
					{name: "a wrong answer letter", user: "secofficer", method: "POST", path: "/training/courses/{course}/questions",
						form:   url.Values{"kind": {"single"}, "text": {"保留的题目"}, "options": {"甲\n乙"}, "answer": {"Z"}},
						status: http.StatusBadRequest, expect: []string{`id="err-answer"`, "保留的题目", T("training.field.answer")}, after: zh},
					{name: "a true/false question", user: "secofficer", method: "POST", path: "/training/courses/{course}/questions",
						form:   url.Values{"kind": {"truefalse"}, "text": {"判断题目：U 盘可以随意带出病历。"}, "answer": {"B"}, "explanation": {"EXPL-" + lang + "-2"}},
						status: http.StatusSeeOther},
				})
				// The import form, with a faulty file and then a good one.
				br := e.newBrowser()
				br.login("privacy")
				br.post("/lang", url.Values{"lang": {lang}})
				br.get("/training/courses/" + vars["course"])
				code, body, _ := br.upload("/training/courses/"+vars["course"]+"/questions/import", "bank.csv", []byte(bank+"\n判断,坏的一行,,,,也许,\n"))
				if code != http.StatusUnprocessableEntity || !strings.Contains(body, `id="import-errors"`) || !strings.Contains(body, "<td class=\"num\">3</td>") ||
					!strings.Contains(body, T("training.import.failed")) {
					t.Fatalf("faulty import: %d %.3000s", code, body)
				}
				zh(t, body, nil)
				if code, _, h := br.upload("/training/courses/"+vars["course"]+"/questions/import", "bank.csv", []byte(bank+lang+"-3\n")); code != http.StatusSeeOther ||
					!strings.Contains(h.Get("Location"), "flash.training.imported") {
					t.Fatalf("import: %d %v", code, h)
				}
				e.runPages(t, vars, []pageScenario{
					{name: "the officer's language", user: "secofficer", method: "POST", path: "/lang", form: url.Values{"lang": {lang}}, status: http.StatusSeeOther},
					{name: "the course page", user: "secofficer", method: "GET", path: "/training/courses/{course}", status: http.StatusOK,
						expect: []string{"{title}", "锁屏题", "判断题目", "导入题", "EXPL-" + lang + "-3", `id="training-import-form"`, `id="training-session-form"`,
							`id="training-attempts-none"`}, after: zh},
					{name: "a session", user: "secofficer", method: "POST", path: "/training/courses/{course}/sessions",
						form: url.Values{"starts_at": {"2026-03-02T09:30"}, "place": {"三楼会议室"}, "trainer": {"王老师"}}, status: http.StatusSeeOther},
					{name: "a session without a place", user: "secofficer", method: "POST", path: "/training/courses/{course}/sessions",
						form: url.Values{"starts_at": {"2026-03-02T09:30"}}, status: http.StatusBadRequest, expect: []string{`id="err-place"`}, after: zh},
					{name: "the session", user: "secofficer", method: "GET", path: "/training/courses/{course}", status: http.StatusOK,
						expect: []string{"三楼会议室", "王老师"}, after: capture("session", trainingSessionRe, true)},
					{name: "an attendee of another hospital", user: "secofficer", method: "POST", path: "/training/sessions/{session}/attendance",
						form: url.Values{"present": {"secofficer_b"}}, status: http.StatusBadRequest, notExpect: []string{productBName}},
					{name: "attendance", user: "secofficer", method: "POST", path: "/training/sessions/{session}/attendance",
						form: url.Values{"present": {"itops，appops"}, "absent": {"auditor"}}, status: http.StatusSeeOther},
					{name: "the exam settings", user: "secofficer", method: "POST", path: "/training/courses/{course}",
						form: url.Values{"title": {vars["title"]}, "all_staff": {"true"}, "rule": {"exam"}, "recurrence_months": {"12"},
							"exam_questions": {"2"}, "pass_percent": {"90"}, "time_limit_minutes": {"20"}, "max_attempts": {"2"}},
						status: http.StatusSeeOther, location: "/training/courses/{course}?flash=flash.training.course_updated"},
					{name: "the auditor's language", user: "auditor", method: "POST", path: "/lang", form: url.Values{"lang": {lang}}, status: http.StatusSeeOther},
					{name: "the auditor reads, is offered no form", user: "auditor", method: "GET", path: "/training/courses/{course}", status: http.StatusOK,
						expect: []string{`id="exam-pass">90<`, T("training.attended")}, notExpect: []string{`id="training-import-form"`, `id="training-question-form"`, `id="attendance-form-`}},

					{name: "the operator's language", user: "appops", method: "POST", path: "/lang", form: url.Values{"lang": {lang}}, status: http.StatusSeeOther},
					{name: "my training", user: "appops", method: "GET", path: "/training/mine", status: http.StatusOK,
						expect: []string{"{title}", `href="/training/exams/{course}"`, T("training.status.due")}, notExpect: []string{productBName}, after: zh},
					{name: "not the manager's page", user: "appops", method: "GET", path: "/training", status: http.StatusForbidden},
					{name: "the exam", user: "appops", method: "GET", path: "/training/exams/{course}", status: http.StatusOK,
						expect: []string{`id="exam-start"`}, notExpect: append([]string{`id="exam-form"`}, secret...), after: zh},
					{name: "started", user: "appops", method: "POST", path: "/training/exams/{course}/attempts", status: http.StatusSeeOther,
						location: "/training/exams/{course}?attempt=", after: capture("attempt", trainingAttemptRe, false)},
					{name: "the questions, no answers", user: "appops", method: "GET", path: "/training/exams/{course}?attempt={attempt}", status: http.StatusOK,
						expect: []string{`id="exam-form"`, `type="radio"`, `action="/training/attempts/{attempt}/submit"`}, notExpect: secret, after: answers},
					{name: "continued without the link", user: "appops", method: "GET", path: "/training/exams/{course}", status: http.StatusOK,
						expect: []string{`action="/training/attempts/{attempt}/submit"`}, notExpect: append([]string{`id="exam-start"`}, secret...)},
					{name: "not another's attempt", user: "itops", method: "POST", path: "/training/attempts/{attempt}/submit", form: url.Values{"q1": {"0"}},
						status: http.StatusNotFound},
					{name: "submitted", user: "appops", method: "POST", path: "/training/attempts/{attempt}/submit", form: right, status: http.StatusSeeOther,
						location: "/training/exams/{course}?attempt={attempt}&flash=flash.training.submitted"},
					{name: "the result", user: "appops", method: "GET", path: "/training/exams/{course}?attempt={attempt}", status: http.StatusOK,
						expect: append([]string{`id="exam-passed"`, `id="exam-score"`, "100"}, secret...), notExpect: []string{`id="exam-form"`}, after: zh},
					{name: "submitted once", user: "appops", method: "POST", path: "/training/attempts/{attempt}/submit", form: right, status: http.StatusConflict},
					{name: "my training done", user: "appops", method: "GET", path: "/training/mine", status: http.StatusOK,
						expect: []string{T("training.status.done"), "100%"}, after: zh},

					{name: "IT's language", user: "itops", method: "POST", path: "/lang", form: url.Values{"lang": {lang}}, status: http.StatusSeeOther},
					{name: "IT starts", user: "itops", method: "POST", path: "/training/exams/{course}/attempts", status: http.StatusSeeOther,
						after: capture("attemptIT", trainingAttemptRe, false)},
					{name: "IT's questions", user: "itops", method: "GET", path: "/training/exams/{course}?attempt={attemptIT}", status: http.StatusOK,
						notExpect: secret, after: answers},
					{name: "IT answers wrong", user: "itops", method: "POST", path: "/training/attempts/{attemptIT}/submit", form: wrong, status: http.StatusSeeOther},
					{name: "IT failed", user: "itops", method: "GET", path: "/training/exams/{course}?attempt={attemptIT}", status: http.StatusOK,
						expect: []string{`id="exam-failed"`, T("training.exam.your_answer"), `id="exam-start"`}, after: zh},

					{name: "the attempts", user: "secofficer", method: "GET", path: "/training/courses/{course}", status: http.StatusOK,
						expect: []string{`id="training-attempt-table"`, "appops", T("training.passed"), T("training.failed")}, after: zh},
					{name: "completion and overdue", user: "secofficer", method: "GET", path: "/training", status: http.StatusOK,
						expect:    []string{`id="training-completion-{course}"`, `id="overdue-` + strconv.FormatInt(e.Users["itops"].ID, 10) + `-{course}"`},
						notExpect: []string{`id="overdue-` + strconv.FormatInt(e.Users["appops"].ID, 10) + `-{course}"`}, after: zh},
				})
			})
		}
	})
}
