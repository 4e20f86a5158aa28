package training

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
)

// ShownQuestion is a question of an attempt as its taker sees it: it has no field for
// the answer or the explanation, so that neither can leave before submission.
type ShownQuestion struct {
	N       int      `json:"n"` // from 1
	Kind    string   `json:"kind"`
	Text    string   `json:"text"`
	TextEN  string   `json:"text_en,omitempty"`
	Options []string `json:"options"`
}

// drawn is a question as stored with an attempt: a copy, answer included.
type drawn struct {
	ID          int64    `json:"id"`
	Kind        string   `json:"kind"`
	Text        string   `json:"text"`
	TextEN      string   `json:"text_en,omitempty"`
	Options     []string `json:"options"`
	Answer      []int    `json:"answer"`
	Explanation string   `json:"explanation,omitempty"`
}

// Attempt is an exam attempt. Result is set once it is submitted.
type Attempt struct {
	ID          int64           `json:"id"`
	CourseID    int64           `json:"course_id"`
	CourseTitle string          `json:"course_title"`
	UserID      int64           `json:"user_id"`
	Username    string          `json:"username"`
	PassPercent int             `json:"pass_percent"`
	StartedAt   time.Time       `json:"started_at"`
	DeadlineAt  time.Time       `json:"deadline_at"`
	SubmittedAt *time.Time      `json:"submitted_at"`
	Questions   []ShownQuestion `json:"questions"`
	Result      *Result         `json:"result,omitempty"`
}

// Result is the score of a submitted attempt with, per question, the answer given, the
// right one and the explanation.
type Result struct {
	Correct int          `json:"correct"`
	Total   int          `json:"total"`
	Percent int          `json:"percent"`
	Passed  bool         `json:"passed"`
	Late    bool         `json:"late"` // submitted after the time limit: scored 0
	Items   []ResultItem `json:"items"`
}

// ResultItem is one question of a submitted attempt.
type ResultItem struct {
	N           int    `json:"n"`
	Given       []int  `json:"given"`
	Answer      []int  `json:"answer"`
	Right       bool   `json:"right"`
	Explanation string `json:"explanation"`
}

// attempt is an Attempt as stored.
type attempt struct {
	Attempt
	orgID   int64
	drawn   []drawn
	answers [][]int
	correct int
	total   int
	percent int
	passed  bool
	late    bool
}

const attemptColumns = `t.id, t.course_id, c.title, c.org_id, t.user_id, u.username, t.pass_percent, t.started_at, t.deadline_at,
	t.submitted_at, t.questions, t.answers, t.correct, t.total, t.percent, t.passed, t.late`

func scanAttempt(sc store.Scanner) (attempt, error) {
	var x attempt
	var started, deadline, submitted store.Time
	var qs, ans string
	if err := sc.Scan(&x.ID, &x.CourseID, &x.CourseTitle, &x.orgID, &x.UserID, &x.Username, &x.PassPercent, &started, &deadline,
		&submitted, &qs, &ans, &x.correct, &x.total, &x.percent, &x.passed, &x.late); err != nil {
		return x, err
	}
	x.StartedAt, x.DeadlineAt, x.SubmittedAt = started.Time, deadline.Time, submitted.Ptr()
	if err := json.Unmarshal([]byte(qs), &x.drawn); err != nil {
		return x, err
	}
	if err := json.Unmarshal([]byte(ans), &x.answers); err != nil {
		return x, err
	}
	x.Questions = make([]ShownQuestion, len(x.drawn))
	for i, d := range x.drawn {
		x.Questions[i] = ShownQuestion{N: i + 1, Kind: d.Kind, Text: d.Text, TextEN: d.TextEN, Options: d.Options}
	}
	if x.SubmittedAt != nil {
		r := &Result{Correct: x.correct, Total: x.total, Percent: x.percent, Passed: x.passed, Late: x.late, Items: make([]ResultItem, len(x.drawn))}
		for i, d := range x.drawn {
			var given []int
			if i < len(x.answers) {
				given = x.answers[i]
			}
			if given == nil {
				given = []int{}
			}
			r.Items[i] = ResultItem{N: i + 1, Given: given, Answer: d.Answer, Right: !x.late && slices.Equal(given, d.Answer), Explanation: d.Explanation}
		}
		x.Result = r
	}
	return x, nil
}

// takerCourse reads course id as user a may take it: a course of a's organisation or one
// above it, required of a's role or of nobody in particular.
func (s *Service) takerCourse(ctx context.Context, q store.Querier, a actor.Actor, id int64) (course, error) {
	if a.UserID == 0 {
		return course{}, problem.NotFound("training course")
	}
	c, err := scanCourse(q.QueryRowContext(ctx, `SELECT `+courseColumns+` FROM training_courses c JOIN orgs o ON o.id = c.org_id
		JOIN users u ON u.id = ? JOIN orgs uo ON uo.id = u.org_id
		WHERE c.id = ? AND NOT u.disabled AND `+actor.ContainsSQL("o.path", "uo.path"), a.UserID, id))
	if errors.Is(err, sql.ErrNoRows) || (err == nil && c.Required() && !c.RequiredOf(a.Role)) {
		return c, problem.NotFound("training course")
	}
	if err != nil {
		return c, fmt.Errorf("training: course %d: %w", id, err)
	}
	return c, nil
}

// StartAttempt starts an exam attempt of course courseID for user a, or returns the
// attempt a has open (not submitted, its time not up). The attempt draws the course's
// exam questions from its bank, in an order fixed by the attempt's seed, and keeps a
// copy of them. It fails when the course has no exam, its bank is smaller than the
// exam, or a has used the exam's attempts of the current due period.
func (s *Service) StartAttempt(ctx context.Context, a actor.Actor, courseID int64) (Attempt, error) {
	var id int64
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		c, err := s.takerCourse(ctx, tx, a, courseID)
		if err != nil {
			return err
		}
		if c.Rule == RuleAttendance {
			return problem.Conflict("this course has no exam").WithMsg("training.error.no_exam")
		}
		now := s.now()
		err = tx.QueryRowContext(ctx, `SELECT id FROM training_attempts WHERE course_id = ? AND user_id = ? AND submitted_at IS NULL
			AND deadline_at > ? ORDER BY id DESC LIMIT 1`, c.ID, a.UserID, now.Add(-s.opt.Grace)).Scan(&id)
		if err == nil {
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("training: attempt: %w", err)
		}
		from, err := s.periodStart(ctx, tx, c.Course, a.UserID, now)
		if err != nil {
			return err
		}
		var used int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM training_attempts WHERE course_id = ? AND user_id = ? AND started_at >= ?`,
			c.ID, a.UserID, from).Scan(&used); err != nil {
			return fmt.Errorf("training: attempt: %w", err)
		}
		if used >= c.Exam.MaxAttempts {
			return problem.Conflict("all %d attempts of this exam are used", c.Exam.MaxAttempts).WithMsg("training.error.attempts_used", c.Exam.MaxAttempts)
		}
		bank, err := store.Collect(ctx, tx, scanQuestion, `SELECT `+questionColumns+` FROM training_questions q WHERE q.course_id = ? ORDER BY q.id`, c.ID)
		if err != nil {
			return fmt.Errorf("training: attempt: %w", err)
		}
		if len(bank) < c.Exam.Questions {
			return problem.Conflict("the question bank has %d questions, fewer than the %d the exam draws", len(bank), c.Exam.Questions).
				WithMsg("training.error.bank_small", len(bank), c.Exam.Questions)
		}
		seed := rand.Int64()
		if s.opt.Seed != nil {
			seed = s.opt.Seed()
		}
		qs := make([]drawn, c.Exam.Questions)
		for i, j := range draw(seed, len(bank), c.Exam.Questions) {
			q := bank[j]
			qs[i] = drawn{ID: q.ID, Kind: q.Kind, Text: q.Text, TextEN: q.TextEN, Options: q.Options, Answer: q.Answer, Explanation: q.Explanation}
		}
		js, err := json.Marshal(qs)
		if err != nil {
			return fmt.Errorf("training: attempt: %w", err)
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO training_attempts (course_id, user_id, seed, questions, pass_percent, started_at, deadline_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, c.ID, a.UserID, seed, string(js), c.Exam.PassPercent, now,
			now.Add(time.Duration(c.Exam.TimeLimitMinutes)*time.Minute)).Scan(&id); err != nil {
			return fmt.Errorf("training: attempt: %w", err)
		}
		return s.record(ctx, tx, a, c.OrgID, "training_attempt", id, "training.attempt.start",
			fmt.Sprintf("%s started exam attempt %d of training course %s", a.Username, id, c.Title),
			"trail.summary.training.attempt.start", []any{a.Username, id, c.Title}, nil)
	})
	if err != nil {
		return Attempt{}, err
	}
	return s.Attempt(ctx, a, id)
}

// draw returns n distinct indexes below size, in the order seed gives.
func draw(seed int64, size, n int) []int {
	r := rand.New(rand.NewPCG(uint64(seed), 0x6d65646775617264)) // "medguard"
	return r.Perm(size)[:n]
}

// periodStart is when the current due period of course c began for user uid: the end of
// the validity of the user's last completion when that has ended, else the beginning.
func (s *Service) periodStart(ctx context.Context, q store.Querier, c Course, uid int64, now time.Time) (time.Time, error) {
	st, err := s.statuses(ctx, q, []Course{c}, []user{{ID: uid}}, now)
	if err != nil {
		return time.Time{}, err
	}
	x := st[pair{uid, c.ID}]
	if x.CompletedAt != nil && x.ValidUntil != nil && !x.ValidUntil.After(now) {
		return *x.ValidUntil, nil
	}
	return time.Time{}, nil
}

// attempt reads attempt id of user a.
func (s *Service) attempt(ctx context.Context, q store.Querier, a actor.Actor, id int64) (attempt, error) {
	x, err := scanAttempt(q.QueryRowContext(ctx, `SELECT `+attemptColumns+` FROM training_attempts t
		JOIN training_courses c ON c.id = t.course_id JOIN users u ON u.id = t.user_id WHERE t.id = ? AND t.user_id = ?`, id, a.UserID))
	if errors.Is(err, sql.ErrNoRows) || a.UserID == 0 {
		return x, problem.NotFound("exam attempt")
	}
	if err != nil {
		return x, fmt.Errorf("training: attempt %d: %w", id, err)
	}
	return x, nil
}

// Attempt returns user a's own attempt id: before submission its questions only, after
// it the result with the right answers and explanations.
func (s *Service) Attempt(ctx context.Context, a actor.Actor, id int64) (Attempt, error) {
	x, err := s.attempt(ctx, s.db, a, id)
	return x.Attempt, err
}

// Submit scores user a's attempt id with answers (per question in the order shown, the
// indexes of the options chosen; a question without one is wrong). A submission after
// the time limit (and Options.Grace) is stored as late and scored 0. An attempt is
// submitted once.
func (s *Service) Submit(ctx context.Context, a actor.Actor, id int64, answers [][]int) (Attempt, error) {
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		x, err := s.attempt(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if x.SubmittedAt != nil {
			return problem.Conflict("this attempt was submitted already").WithMsg("training.error.submitted")
		}
		if len(answers) > len(x.drawn) {
			return problem.Invalid("answers", "more answers than questions").WithMsg("training.error.answers_count")
		}
		given := make([][]int, len(x.drawn))
		correct := 0
		for i, d := range x.drawn {
			g := []int{}
			if i < len(answers) {
				g = slices.Clone(answers[i])
			}
			slices.Sort(g)
			g = slices.Compact(g)
			for _, o := range g {
				if o < 0 || o >= len(d.Options) {
					return problem.Invalid("answers", "an answer names an option the question does not have").WithMsg("training.error.answer_option", i+1)
				}
			}
			if d.Kind != KindMultiple && len(g) > 1 {
				return problem.Invalid("answers", "a single-choice question takes one answer").WithMsg("training.error.answer_single", i+1)
			}
			if g == nil {
				g = []int{}
			}
			given[i] = g
			if slices.Equal(g, d.Answer) {
				correct++
			}
		}
		now := s.now()
		late := now.After(x.DeadlineAt.Add(s.opt.Grace))
		if late {
			correct = 0
		}
		total := len(x.drawn)
		percent := 0
		if total > 0 {
			percent = correct * 100 / total
		}
		passed := !late && percent >= x.PassPercent
		js, _ := json.Marshal(given)
		if _, err := tx.ExecContext(ctx, `UPDATE training_attempts SET answers = ?, submitted_at = ?, correct = ?, total = ?, percent = ?,
			passed = ?, late = ? WHERE id = ? AND submitted_at IS NULL`, string(js), now, correct, total, percent, passed, late, x.ID); err != nil {
			return fmt.Errorf("training: submit: %w", err)
		}
		outcome := "failed"
		if passed {
			outcome = "passed"
		}
		return s.record(ctx, tx, a, x.orgID, "training_attempt", x.ID, "training.attempt.submit",
			fmt.Sprintf("%s %s exam attempt %d of training course %s: %d%% (%d of %d)", a.Username, outcome, x.ID, x.CourseTitle, percent, correct, total),
			"trail.summary.training.attempt."+outcome, []any{a.Username, x.ID, x.CourseTitle, percent, correct, total},
			map[string]any{"correct": correct, "total": total, "percent": percent, "passed": passed, "late": late})
	})
	if err != nil {
		return Attempt{}, err
	}
	return s.Attempt(ctx, a, id)
}

// AttemptSummary is an attempt as a course's managers list it: who, when, the score.
type AttemptSummary struct {
	ID          int64      `json:"id"`
	Username    string     `json:"username"`
	StartedAt   time.Time  `json:"started_at"`
	SubmittedAt *time.Time `json:"submitted_at"`
	Percent     int        `json:"percent"`
	Passed      bool       `json:"passed"`
	Late        bool       `json:"late"`
}

// Attempts lists the attempts at course courseID's exam, newest first (for managers).
func (s *Service) Attempts(ctx context.Context, a actor.Actor, courseID int64) ([]AttemptSummary, error) {
	if _, err := s.course(ctx, s.db, a, courseID); err != nil {
		return nil, err
	}
	xs, err := store.Collect(ctx, s.db, scanAttempt, `SELECT `+attemptColumns+` FROM training_attempts t
		JOIN training_courses c ON c.id = t.course_id JOIN users u ON u.id = t.user_id WHERE t.course_id = ? ORDER BY t.id DESC LIMIT 500`, courseID)
	if err != nil {
		return nil, fmt.Errorf("training: attempts: %w", err)
	}
	out := make([]AttemptSummary, len(xs))
	for i, x := range xs {
		out[i] = AttemptSummary{ID: x.ID, Username: x.Username, StartedAt: x.StartedAt, SubmittedAt: x.SubmittedAt,
			Percent: x.percent, Passed: x.passed, Late: x.late}
	}
	return out, nil
}
