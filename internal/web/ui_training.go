package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/training"
)

// trainingFail shows err (a problem) at the top of p with its field named in the page's
// language (training.field.<name>), and returns the status the page is served with.
func (s *Server) trainingFail(p *page, err error) (int, error) {
	if err == nil {
		return http.StatusOK, nil
	}
	pe, ok := problem.As(err)
	if !ok {
		return 0, err
	}
	code := p.fail(pe)
	if pe.Kind == problem.KindInvalid && pe.Field != "" && s.I18n.Has(p.Lang, "training.field."+pe.Field) {
		p.Error = p.T("error.invalid_field", p.T("training.field."+pe.Field)) + ": " + s.problemMessage(p.Lang, pe)
	}
	return code, nil
}

// trainingListData is the training page: the courses with their completion, who is
// overdue, and the form of a new course.
type trainingListData struct {
	Courses []training.CourseStat
	Overdue []training.OverdueItem
	Form    courseForm
}

// courseForm is the form of a course (new, or the settings of one).
type courseForm struct {
	In    training.CourseInput
	Orgs  []orgOption
	Roles []string
	Rules []string
}

func newCourseForm(in training.CourseInput) courseForm {
	return courseForm{In: in, Roles: training.Roles, Rules: training.Rules}
}

// HasRole reports whether the form's course is required of role (template helper).
func (f courseForm) HasRole(role string) bool { return slices.Contains(f.In.Roles, role) }

func (s *Server) uiTrainingList(w http.ResponseWriter, r *http.Request) error {
	return s.showTrainingList(w, r, training.CourseInput{AllStaff: true, RecurrenceMonths: 12, Rule: training.RuleExam}, nil)
}

// showTrainingList renders /training with the course form holding in, and failed (the
// problem of creating it) at the top.
func (s *Server) showTrainingList(w http.ResponseWriter, r *http.Request, in training.CourseInput, failed error) error {
	t, err := s.training()
	if err != nil {
		return err
	}
	p := s.newPage(r, w, "training.list.title", "compliance")
	p.Sub = "training"
	code, err := s.trainingFail(p, failed)
	if err != nil {
		return err
	}
	d := trainingListData{Form: newCourseForm(in)}
	if d.Courses, err = t.CourseStats(r.Context(), reqActor(r), 0); err != nil {
		return err
	}
	if d.Overdue, err = t.Overdue(r.Context(), reqActor(r), 0); err != nil {
		return err
	}
	if p.Can("compliance.write") {
		if d.Form.Orgs, err = s.orgOptions(r.Context(), reqActor(r)); err != nil {
			return err
		}
	}
	p.Data = d
	return s.render(w, code, "training.html", p)
}

// courseInput reads the course form.
func courseInput(r *http.Request) training.CourseInput {
	in := training.CourseInput{Title: r.PostFormValue("title"), Description: r.PostFormValue("description"),
		AllStaff: r.PostFormValue("all_staff") == "true", Roles: r.PostForm["roles"], Rule: r.PostFormValue("rule")}
	in.OrgID, _ = strconv.ParseInt(r.PostFormValue("org_id"), 10, 64)
	in.Hours, _ = strconv.ParseFloat(strings.TrimSpace(r.PostFormValue("hours")), 64)
	num := func(name string) int {
		n, _ := strconv.Atoi(strings.TrimSpace(r.PostFormValue(name)))
		return n
	}
	in.RecurrenceMonths = num("recurrence_months")
	in.Exam = training.Exam{Questions: num("exam_questions"), PassPercent: num("pass_percent"),
		TimeLimitMinutes: num("time_limit_minutes"), MaxAttempts: num("max_attempts")}
	return in
}

func (s *Server) uiTrainingCourseCreate(w http.ResponseWriter, r *http.Request) error {
	t, err := s.training()
	if err != nil {
		return err
	}
	in := courseInput(r)
	c, err := t.CreateCourse(r.Context(), reqActor(r), in)
	if err != nil {
		if _, ok := problem.As(err); !ok {
			return err
		}
		return s.showTrainingList(w, r, in, err)
	}
	return redirect(w, r, idPath("/training/courses/", c.ID)+"?flash=flash.training.course_created")
}

// trainingCourseData is a course's page.
type trainingCourseData struct {
	Course    training.Course
	Form      courseForm
	Sessions  []training.Session
	Questions []trainingBankQuestion
	Attempts  []training.AttemptSummary
	Import    *training.ImportResult // the outcome of an import just made
	Question  trainingQuestionForm
	Kinds     []string
}

// trainingBankQuestion is a question of the bank with its right options marked.
type trainingBankQuestion struct {
	training.Question
	Opts []examOption
}

// trainingQuestionForm is what was typed in the form of a question.
type trainingQuestionForm struct {
	Kind, Text, TextEN, Options, Answer, Explanation string
}

func (s *Server) uiTrainingCourse(w http.ResponseWriter, r *http.Request) error {
	return s.showTrainingCourse(w, r, nil, nil, nil)
}

// showTrainingCourse renders course {id}; form, when not nil, holds what was typed in
// the course or question form that failed with failed; imp is an import's outcome.
func (s *Server) showTrainingCourse(w http.ResponseWriter, r *http.Request, failed error, form func(*trainingCourseData), imp *training.ImportResult) error {
	t, err := s.training()
	if err != nil {
		return err
	}
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	ctx, a := r.Context(), reqActor(r)
	c, err := t.Course(ctx, a, id)
	if err != nil {
		return err
	}
	p := s.newPage(r, w, "training.course.title", "compliance")
	p.Sub = "training"
	code, err := s.trainingFail(p, failed)
	if err != nil {
		return err
	}
	if imp != nil && len(imp.Errors) > 0 && code == http.StatusOK {
		code = http.StatusUnprocessableEntity
		p.Error = p.T("training.import.failed")
	}
	d := trainingCourseData{Course: c, Import: imp, Kinds: training.Kinds, Question: trainingQuestionForm{Kind: training.KindSingle}}
	d.Form = newCourseForm(training.CourseInput{Title: c.Title, Description: c.Description, Hours: c.Hours, AllStaff: c.AllStaff,
		Roles: c.Roles, RecurrenceMonths: c.RecurrenceMonths, Rule: c.Rule, Exam: c.Exam})
	if d.Sessions, err = t.Sessions(ctx, a, id); err != nil {
		return err
	}
	qs, err := t.Questions(ctx, a, id)
	if err != nil {
		return err
	}
	for _, q := range qs {
		d.Questions = append(d.Questions, trainingBankQuestion{Question: q, Opts: examOptions(q.Options, nil, q.Answer)})
	}
	if d.Attempts, err = t.Attempts(ctx, a, id); err != nil {
		return err
	}
	if form != nil {
		form(&d)
	}
	p.Data = d
	return s.render(w, code, "training_course.html", p)
}

// uiTrainingAction runs do on course {id} (which the reader must see) and returns to the
// course with flash, or shows it with the problem and what was typed (form).
func (s *Server) uiTrainingAction(w http.ResponseWriter, r *http.Request, flash string, form func(*trainingCourseData),
	do func(t *training.Service, id int64) error) error {
	t, err := s.training()
	if err != nil {
		return err
	}
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	if _, err := t.Course(r.Context(), reqActor(r), id); err != nil {
		return err
	}
	if err := do(t, id); err != nil {
		if _, ok := problem.As(err); !ok {
			return err
		}
		return s.showTrainingCourse(w, r, err, form, nil)
	}
	return redirect(w, r, idPath("/training/courses/", id)+"?flash="+flash)
}

func (s *Server) uiTrainingCourseUpdate(w http.ResponseWriter, r *http.Request) error {
	in := courseInput(r)
	return s.uiTrainingAction(w, r, "flash.training.course_updated", func(d *trainingCourseData) { d.Form.In = in },
		func(t *training.Service, id int64) error {
			_, err := t.UpdateCourse(r.Context(), reqActor(r), id, in)
			return err
		})
}

func (s *Server) uiTrainingSessionAdd(w http.ResponseWriter, r *http.Request) error {
	return s.uiTrainingAction(w, r, "flash.training.session_added", nil, func(t *training.Service, id int64) error {
		in := training.SessionInput{Place: r.PostFormValue("place"), Link: r.PostFormValue("link"), Trainer: r.PostFormValue("trainer")}
		if v := strings.TrimSpace(r.PostFormValue("starts_at")); v != "" {
			at, err := time.ParseInLocation("2006-01-02T15:04", v, time.Local)
			if err != nil {
				return problem.NotDate("starts_at")
			}
			in.StartsAt = at
		}
		_, err := t.AddSession(r.Context(), reqActor(r), id, in)
		return err
	})
}

// usernames splits a list of user names (one a line, or separated by commas, spaces or
// Chinese commas).
func usernames(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool {
		return r == ',' || r == '，' || r == '、' || r == ';' || r == '；' || r == ' ' || r == '\n' || r == '\r' || r == '\t'
	})
}

// uiTrainingAttendance records session {id}'s attendance: the user names present and
// those absent.
func (s *Server) uiTrainingAttendance(w http.ResponseWriter, r *http.Request) error {
	t, err := s.training()
	if err != nil {
		return err
	}
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	x, err := t.Session(r.Context(), reqActor(r), id)
	if err != nil {
		return err
	}
	var marks []training.Mark
	for _, u := range usernames(r.PostFormValue("present")) {
		marks = append(marks, training.Mark{Username: u, Attended: true})
	}
	for _, u := range usernames(r.PostFormValue("absent")) {
		marks = append(marks, training.Mark{Username: u})
	}
	if _, err := t.RecordAttendance(r.Context(), reqActor(r), id, marks); err != nil {
		if _, ok := problem.As(err); !ok {
			return err
		}
		r.SetPathValue("id", strconv.FormatInt(x.CourseID, 10))
		return s.showTrainingCourse(w, r, err, nil, nil)
	}
	return redirect(w, r, idPath("/training/courses/", x.CourseID)+"?flash=flash.training.attendance#session-"+strconv.FormatInt(id, 10))
}

// answerLetters reads option letters ("B", "A,C", "acd") as option indexes.
func answerLetters(v string) ([]int, error) {
	var out []int
	for _, c := range strings.ToUpper(v) {
		switch {
		case c >= 'A' && c <= 'H':
			out = append(out, int(c-'A'))
		case c == ',' || c == ' ' || c == '，' || c == '、':
		default:
			return nil, problem.Invalid("answer", "must be option letters A–H").WithMsg("training.import.answer")
		}
	}
	return out, nil
}

func (s *Server) uiTrainingQuestionAdd(w http.ResponseWriter, r *http.Request) error {
	f := trainingQuestionForm{Kind: r.PostFormValue("kind"), Text: r.PostFormValue("text"), TextEN: r.PostFormValue("text_en"),
		Options: r.PostFormValue("options"), Answer: r.PostFormValue("answer"), Explanation: r.PostFormValue("explanation")}
	return s.uiTrainingAction(w, r, "flash.training.question_added", func(d *trainingCourseData) { d.Question = f },
		func(t *training.Service, id int64) error {
			in := training.QuestionInput{Kind: f.Kind, Text: f.Text, TextEN: f.TextEN, Explanation: f.Explanation}
			for _, o := range strings.Split(strings.ReplaceAll(f.Options, "\r\n", "\n"), "\n") {
				if o = strings.TrimSpace(o); o != "" {
					in.Options = append(in.Options, o)
				}
			}
			var err error
			if in.Answer, err = answerLetters(f.Answer); err != nil {
				return err
			}
			_, err = t.AddQuestion(r.Context(), reqActor(r), id, in)
			return err
		})
}

// uiTrainingImport imports an uploaded question bank: the course again with the number
// added, or (none added) the lines at fault.
func (s *Server) uiTrainingImport(w http.ResponseWriter, r *http.Request) error {
	t, err := s.training()
	if err != nil {
		return err
	}
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	res, err := s.trainingImport(w, r, t, id)
	if err != nil {
		if _, ok := problem.As(err); !ok {
			return err
		}
		return s.showTrainingCourse(w, r, err, nil, nil)
	}
	if len(res.Errors) > 0 {
		return s.showTrainingCourse(w, r, nil, nil, &res)
	}
	return redirect(w, r, idPath("/training/courses/", id)+"?flash=flash.training.imported")
}

// LineErrorText is an import line error in the page's language.
func (p *page) LineErrorText(e training.LineError) string { return p.Msg(&e.Msg, e.Error) }

// examOption is an option of a question as a page shows it.
type examOption struct {
	Index  int
	Letter string
	Text   string
	Given  bool // chosen by the taker
	Right  bool // a right option (known only after submission, or to managers)
}

func examOptions(opts []string, given, right []int) []examOption {
	out := make([]examOption, len(opts))
	for i, o := range opts {
		out[i] = examOption{Index: i, Letter: string(rune('A' + i)), Text: o, Given: slices.Contains(given, i), Right: slices.Contains(right, i)}
	}
	return out
}

// examItem is a question of an attempt with, after submission, its result.
type examItem struct {
	training.ShownQuestion
	Opts   []examOption
	Result *training.ResultItem
}

// trainingExamData is the exam page of a course: where the taker stands, the open
// attempt's questions or an attempt's result.
type trainingExamData struct {
	Course    training.MyCourse
	Attempt   *training.Attempt
	Items     []examItem
	CanStart  bool
	Remaining int
	Now       time.Time
}

// myCourse finds course id among those that apply to the signed-in user.
func (s *Server) myCourse(r *http.Request, t *training.Service, id int64) (training.MyCourse, error) {
	mine, err := t.Mine(r.Context(), reqActor(r))
	if err != nil {
		return training.MyCourse{}, err
	}
	for _, m := range mine {
		if m.ID == id && m.Rule != training.RuleAttendance {
			return m, nil
		}
	}
	return training.MyCourse{}, problem.NotFound("training course")
}

func (s *Server) uiTrainingExam(w http.ResponseWriter, r *http.Request) error {
	return s.showTrainingExam(w, r, nil)
}

// showTrainingExam renders the exam page of course {id} (?attempt=N: that attempt of
// the user's), with failed (the problem of an action) at the top.
func (s *Server) showTrainingExam(w http.ResponseWriter, r *http.Request, failed error) error {
	t, err := s.training()
	if err != nil {
		return err
	}
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	m, err := s.myCourse(r, t, id)
	if err != nil {
		return err
	}
	p := s.newPage(r, w, "training.exam.title", "compliance")
	p.Sub = "training"
	code, err := s.trainingFail(p, failed)
	if err != nil {
		return err
	}
	now := time.Now()
	d := trainingExamData{Course: m, Now: now, Remaining: max(0, m.Exam.MaxAttempts-m.AttemptsUsed)}
	var aid int64
	if v := r.URL.Query().Get("attempt"); v != "" {
		if aid, err = strconv.ParseInt(v, 10, 64); err != nil || aid <= 0 {
			return problem.NotFound("exam attempt")
		}
	} else {
		for _, x := range m.Attempts {
			if x.SubmittedAt == nil {
				aid = x.ID
				break
			}
		}
	}
	if aid > 0 {
		x, err := t.Attempt(r.Context(), reqActor(r), aid)
		if err != nil {
			return err
		}
		if x.CourseID != id {
			return problem.NotFound("exam attempt")
		}
		if x.SubmittedAt != nil || x.DeadlineAt.After(now) || r.URL.Query().Has("attempt") {
			d.Attempt = &x
			for i, q := range x.Questions {
				it := examItem{ShownQuestion: q, Opts: examOptions(q.Options, nil, nil)}
				if x.Result != nil && i < len(x.Result.Items) {
					res := x.Result.Items[i]
					it.Result = &res
					it.Opts = examOptions(q.Options, res.Given, res.Answer)
				}
				d.Items = append(d.Items, it)
			}
		}
	}
	d.CanStart = (d.Attempt == nil || d.Attempt.SubmittedAt != nil) && d.Remaining > 0
	p.Data = d
	return s.render(w, code, "training_exam.html", p)
}

// uiTrainingAttemptStart starts (or resumes) the user's attempt at course {id}'s exam.
func (s *Server) uiTrainingAttemptStart(w http.ResponseWriter, r *http.Request) error {
	t, err := s.training()
	if err != nil {
		return err
	}
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	if _, err := s.myCourse(r, t, id); err != nil {
		return err
	}
	x, err := t.StartAttempt(r.Context(), reqActor(r), id)
	if err != nil {
		if _, ok := problem.As(err); !ok {
			return err
		}
		return s.showTrainingExam(w, r, err)
	}
	return redirect(w, r, idPath("/training/exams/", id)+"?attempt="+strconv.FormatInt(x.ID, 10))
}

// uiTrainingSubmit submits the user's attempt {id}: per question N the options chosen
// in the form fields qN.
func (s *Server) uiTrainingSubmit(w http.ResponseWriter, r *http.Request) error {
	t, err := s.training()
	if err != nil {
		return err
	}
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	x, err := t.Attempt(r.Context(), reqActor(r), id)
	if err != nil {
		return err
	}
	answers := make([][]int, len(x.Questions))
	for i := range x.Questions {
		answers[i] = []int{}
		for _, v := range r.PostForm["q"+strconv.Itoa(i+1)] {
			n, err := strconv.Atoi(v)
			if err != nil {
				n = -1 // refused by Submit as an option the question does not have
			}
			answers[i] = append(answers[i], n)
		}
	}
	if _, err := t.Submit(r.Context(), reqActor(r), id, answers); err != nil {
		if _, ok := problem.As(err); !ok {
			return err
		}
		r.SetPathValue("id", strconv.FormatInt(x.CourseID, 10))
		r.URL.RawQuery = "attempt=" + strconv.FormatInt(id, 10)
		return s.showTrainingExam(w, r, err)
	}
	return redirect(w, r, idPath("/training/exams/", x.CourseID)+"?attempt="+strconv.FormatInt(id, 10)+"&flash=flash.training.submitted")
}

// uiTrainingMine lists the signed-in user's courses: required ones first, due dates,
// where they stand and their results.
func (s *Server) uiTrainingMine(w http.ResponseWriter, r *http.Request) error {
	t, err := s.training()
	if err != nil {
		return err
	}
	mine, err := t.Mine(r.Context(), reqActor(r))
	if err != nil {
		return err
	}
	p := s.newPage(r, w, "training.mine.title", "compliance")
	p.Sub = "training"
	p.Data = mine
	return s.render(w, http.StatusOK, "training_mine.html", p)
}
