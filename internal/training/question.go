package training

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
)

// Kinds of question.
const (
	KindSingle    = "single"    // one right option
	KindMultiple  = "multiple"  // one or more right options, all of them to score
	KindTrueFalse = "truefalse" // two options: true, false
)

// Kinds lists the kinds of question.
var Kinds = []string{KindSingle, KindMultiple, KindTrueFalse}

// maxOptions is the most options a question has (A–H).
const maxOptions = 8

// Question is a question of a course's bank, with its answer: only managers see it.
type Question struct {
	ID       int64 `json:"id"`
	CourseID int64 `json:"course_id"`
	QuestionInput
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

// QuestionInput is a question as written: Answer holds the indexes (from 0) of the
// right options, in order.
type QuestionInput struct {
	Kind        string   `json:"kind"`
	Text        string   `json:"text"`
	TextEN      string   `json:"text_en"`
	Options     []string `json:"options"`
	Answer      []int    `json:"answer"`
	Explanation string   `json:"explanation"`
}

// trueFalseOptions are the options of a true/false question written without any.
var trueFalseOptions = []string{"正确", "错误"}

// checkQuestion validates and normalises q.
func checkQuestion(q QuestionInput) (QuestionInput, error) {
	var err error
	if !slices.Contains(Kinds, q.Kind) {
		return q, problem.OneOf("kind", Kinds...)
	}
	if q.Text, err = text("text", q.Text, 2000, true); err != nil {
		return q, err
	}
	if q.TextEN, err = text("text_en", q.TextEN, 2000, false); err != nil {
		return q, err
	}
	if q.Explanation, err = text("explanation", q.Explanation, 4000, false); err != nil {
		return q, err
	}
	if q.Kind == KindTrueFalse && len(q.Options) == 0 {
		q.Options = slices.Clone(trueFalseOptions)
	}
	opts := make([]string, 0, len(q.Options))
	for _, o := range q.Options {
		if o, err = text("options", o, 500, true); err != nil {
			return q, err
		}
		opts = append(opts, o)
	}
	q.Options = opts
	switch {
	case q.Kind == KindTrueFalse && len(opts) != 2:
		return q, problem.Invalid("options", "a true/false question has two options").WithMsg("training.error.truefalse_options")
	case len(opts) < 2 || len(opts) > maxOptions:
		return q, problem.Invalid("options", "a question has 2 to %d options", maxOptions).WithMsg("training.error.options", maxOptions)
	}
	ans := slices.Clone(q.Answer)
	slices.Sort(ans)
	ans = slices.Compact(ans)
	for _, i := range ans {
		if i < 0 || i >= len(opts) {
			return q, problem.Invalid("answer", "names an option the question does not have").WithMsg("training.error.answer_range")
		}
	}
	if len(ans) == 0 || (q.Kind != KindMultiple && len(ans) != 1) {
		return q, problem.Invalid("answer", "a single-choice or true/false question has one right option, a multiple-choice one at least one").
			WithMsg("training.error.answer_count")
	}
	q.Answer = ans
	return q, nil
}

const questionColumns = `q.id, q.course_id, q.kind, q.text, q.text_en, q.options, q.answer, q.explanation, q.created_by, q.created_at`

func scanQuestion(sc store.Scanner) (Question, error) {
	var q Question
	var opts, ans string
	var created store.Time
	if err := sc.Scan(&q.ID, &q.CourseID, &q.Kind, &q.Text, &q.TextEN, &opts, &ans, &q.Explanation, &q.CreatedBy, &created); err != nil {
		return q, err
	}
	q.CreatedAt = created.Time
	if err := json.Unmarshal([]byte(opts), &q.Options); err != nil {
		return q, err
	}
	return q, json.Unmarshal([]byte(ans), &q.Answer)
}

// insertQuestions stores checked questions of course c in tx.
func (s *Service) insertQuestions(ctx context.Context, tx *store.Tx, a actor.Actor, courseID int64, qs []QuestionInput) error {
	now := s.now()
	for _, q := range qs {
		opts, _ := json.Marshal(q.Options)
		ans, _ := json.Marshal(q.Answer)
		if _, err := tx.ExecContext(ctx, `INSERT INTO training_questions (course_id, kind, text, text_en, options, answer, explanation,
			created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, courseID, q.Kind, q.Text, q.TextEN, string(opts), string(ans),
			q.Explanation, a.Username, now); err != nil {
			return fmt.Errorf("training: question: %w", err)
		}
	}
	return nil
}

// AddQuestion adds one question to course courseID's bank.
func (s *Service) AddQuestion(ctx context.Context, a actor.Actor, courseID int64, in QuestionInput) (Question, error) {
	in, err := checkQuestion(in)
	if err != nil {
		return Question{}, err
	}
	var id int64
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		c, err := s.course(ctx, tx, a, courseID)
		if err != nil {
			return err
		}
		if err := s.insertQuestions(ctx, tx, a, c.ID, []QuestionInput{in}); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT MAX(id) FROM training_questions WHERE course_id = ?`, c.ID).Scan(&id); err != nil {
			return fmt.Errorf("training: question: %w", err)
		}
		return s.record(ctx, tx, a, c.OrgID, "training_course", c.ID, "training.question.add",
			fmt.Sprintf("question %d added to training course %d %s", id, c.ID, c.Title),
			"trail.summary.training.question.add", []any{id, c.ID, c.Title}, nil)
	})
	if err != nil {
		return Question{}, err
	}
	qs, err := s.Questions(ctx, a, courseID)
	if err != nil {
		return Question{}, err
	}
	for _, q := range qs {
		if q.ID == id {
			return q, nil
		}
	}
	return Question{}, problem.NotFound("question")
}

// Questions lists course courseID's bank, with the answers (for its managers).
func (s *Service) Questions(ctx context.Context, a actor.Actor, courseID int64) ([]Question, error) {
	if _, err := s.course(ctx, s.db, a, courseID); err != nil {
		return nil, err
	}
	qs, err := store.Collect(ctx, s.db, scanQuestion, `SELECT `+questionColumns+` FROM training_questions q WHERE q.course_id = ? ORDER BY q.id`, courseID)
	if err != nil {
		return nil, fmt.Errorf("training: questions: %w", err)
	}
	if qs == nil {
		qs = []Question{}
	}
	return qs, nil
}

// DeleteQuestion removes question id from its course's bank (attempts keep the copy
// they were shown).
func (s *Service) DeleteQuestion(ctx context.Context, a actor.Actor, courseID, id int64) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		c, err := s.course(ctx, tx, a, courseID)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM training_questions WHERE id = ? AND course_id = ?`, id, c.ID)
		if err != nil {
			return fmt.Errorf("training: delete question: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return problem.NotFound("question")
		}
		return s.record(ctx, tx, a, c.OrgID, "training_course", c.ID, "training.question.delete",
			fmt.Sprintf("question %d removed from training course %d %s", id, c.ID, c.Title),
			"trail.summary.training.question.delete", []any{id, c.ID, c.Title}, nil)
	})
}
