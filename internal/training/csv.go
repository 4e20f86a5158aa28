package training

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/textenc"
)

// Limits of a question-bank import.
const (
	MaxImportBytes     = 4 << 20 // the most a file may hold
	MaxImportQuestions = 2000    // the most questions one file adds
	maxLineErrors      = 100     // errors reported before the parser stops
)

// LineError is what is wrong with one line of an imported file (line 0: the file).
type LineError struct {
	Line  int          `json:"line"`
	Field string       `json:"field,omitempty"`
	Error string       `json:"error"` // English
	Msg   i18n.Message `json:"msg"`
}

// ImportResult is the outcome of an import: the questions added, or (none added) the
// lines at fault.
type ImportResult struct {
	Added  int         `json:"added"`
	Errors []LineError `json:"errors"`
}

// columns maps header names (English and Chinese) to the column they are.
var columns = map[string]string{
	"type": "type", "kind": "type", "题型": "type", "类型": "type",
	"question": "question", "text": "question", "题目": "question", "试题": "question",
	"question_en": "question_en", "text_en": "question_en", "英文题目": "question_en",
	"answer": "answer", "答案": "answer", "正确答案": "answer",
	"explanation": "explanation", "解析": "explanation", "说明": "explanation",
}

func init() {
	for i := range maxOptions {
		l := string(rune('a' + i))
		u := strings.ToUpper(l)
		for _, n := range []string{"option_" + l, "option" + l, "选项" + u, "选项" + l} {
			columns[n] = "option_" + l
		}
	}
}

var kindNames = map[string]string{
	"single": KindSingle, "单选": KindSingle, "单选题": KindSingle,
	"multiple": KindMultiple, "multi": KindMultiple, "多选": KindMultiple, "多选题": KindMultiple,
	"truefalse": KindTrueFalse, "true_false": KindTrueFalse, "tf": KindTrueFalse, "判断": KindTrueFalse, "判断题": KindTrueFalse,
}

var trueWords = map[string]bool{"true": true, "t": true, "对": true, "正确": true, "是": true, "√": true, "y": true, "yes": true}
var falseWords = map[string]bool{"false": true, "f": true, "错": true, "错误": true, "否": true, "×": true, "n": true, "no": true}

// ParseQuestions reads a question bank in CSV — UTF-8 (with or without a byte-order
// mark) or GBK/GB18030, a header row naming the columns (type, question, option_a …
// option_h, answer, explanation, optional question_en; or their Chinese names 题型,
// 题目, 选项A …, 答案, 解析), then one question a line. type is single, multiple or
// truefalse (单选, 多选, 判断); answer is the letters of the right options ("B", "ACD",
// "A,C") or, for a true/false question, 对/错, true/false. It returns the questions, or
// the lines at fault (at most 100) and no questions.
func ParseQuestions(data []byte) ([]QuestionInput, []LineError) {
	fail := func(line int, field, key, english string, args ...any) []LineError {
		return []LineError{{Line: line, Field: field, Error: english, Msg: i18n.M(key, args...)}}
	}
	if len(data) > MaxImportBytes {
		return nil, fail(0, "file", "training.import.too_big", fmt.Sprintf("the file is larger than %d MB", MaxImportBytes>>20), MaxImportBytes>>20)
	}
	t, err := textenc.Decode(data)
	if err != nil {
		return nil, fail(0, "file", "training.import.encoding", "the file is not UTF-8 or GBK text")
	}
	r := csv.NewReader(bytes.NewReader(t.Bytes))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, fail(0, "file", "training.import.empty", "the file is empty")
	}
	if err != nil {
		return nil, fail(1, "", "training.import.csv", "the header row is not valid CSV")
	}
	col := map[string]int{}
	for i, h := range header {
		name, ok := columns[strings.ToLower(strings.TrimSpace(h))]
		if strings.TrimSpace(h) == "" {
			continue
		}
		if !ok {
			return nil, fail(1, h, "training.import.unknown_column", fmt.Sprintf("unknown column %q", h), h)
		}
		if _, dup := col[name]; dup {
			return nil, fail(1, h, "training.import.duplicate_column", fmt.Sprintf("column %q appears twice", h), h)
		}
		col[name] = i
	}
	for _, need := range []string{"type", "question", "answer"} {
		if _, ok := col[need]; !ok {
			return nil, fail(1, need, "training.import.missing_column", fmt.Sprintf("the header has no %q column", need), need)
		}
	}
	var out []QuestionInput
	var errs []LineError
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line := 0
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.StartLine
			}
			errs = append(errs, fail(line, "", "training.import.csv", "the line is not valid CSV")...)
			break
		}
		line, _ := r.FieldPos(0)
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		blank := true
		for _, f := range rec {
			if strings.TrimSpace(f) != "" {
				blank = false
			}
		}
		if blank {
			continue
		}
		if len(out) >= MaxImportQuestions {
			errs = append(errs, fail(line, "", "training.import.too_many", fmt.Sprintf("a file adds at most %d questions", MaxImportQuestions), MaxImportQuestions)...)
			break
		}
		q, le := parseLine(line, get)
		if le != nil {
			errs = append(errs, *le)
			if len(errs) >= maxLineErrors {
				break
			}
			continue
		}
		out = append(out, q)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	if len(out) == 0 {
		return nil, fail(0, "file", "training.import.no_questions", "the file has no questions")
	}
	return out, nil
}

// parseLine reads one question; get returns a column's value by its canonical name.
func parseLine(line int, get func(string) string) (QuestionInput, *LineError) {
	bad := func(field, key, english string, args ...any) *LineError {
		return &LineError{Line: line, Field: field, Error: english, Msg: i18n.M(key, args...)}
	}
	kind, ok := kindNames[strings.ToLower(get("type"))]
	if !ok {
		return QuestionInput{}, bad("type", "training.import.type", "type must be single, multiple or truefalse")
	}
	q := QuestionInput{Kind: kind, Text: get("question"), TextEN: get("question_en"), Explanation: get("explanation")}
	gap := false
	for i := range maxOptions {
		o := get("option_" + string(rune('a'+i)))
		switch {
		case o == "":
			gap = true
		case gap:
			return q, bad("option_"+string(rune('a'+i)), "training.import.option_gap", "an option follows an empty one")
		default:
			q.Options = append(q.Options, o)
		}
	}
	ans := get("answer")
	if ans == "" {
		return q, bad("answer", "training.import.answer_missing", "the answer is missing")
	}
	if kind == KindTrueFalse && (trueWords[strings.ToLower(ans)] || falseWords[strings.ToLower(ans)]) {
		if len(q.Options) == 0 {
			q.Options = trueFalseOptions
		}
		q.Answer = []int{1}
		if trueWords[strings.ToLower(ans)] {
			q.Answer = []int{0}
		}
	} else {
		for _, r := range strings.ToUpper(ans) {
			switch {
			case r >= 'A' && r < 'A'+maxOptions:
				q.Answer = append(q.Answer, int(r-'A'))
			case unicode.IsSpace(r) || strings.ContainsRune(",;，；、|/", r):
			default:
				return q, bad("answer", "training.import.answer", "the answer must be option letters (A–H) or, for true/false, true or false")
			}
		}
	}
	q, err := checkQuestion(q)
	if err != nil {
		var p *problem.Error
		if errors.As(err, &p) {
			le := &LineError{Line: line, Field: p.Field, Error: p.Field + " " + p.Message}
			if p.Msg != nil {
				le.Msg = *p.Msg
			} else {
				le.Msg = i18n.M("training.import.invalid", p.Field)
			}
			if le.Field == "text" {
				le.Field = "question"
			}
			return q, le
		}
		return q, bad("", "training.import.invalid", err.Error(), "")
	}
	return q, nil
}

// ImportQuestions adds the questions of a CSV file (see ParseQuestions) to course
// courseID's bank: all of them, or none when a line is at fault (the result lists
// them, and err is nil).
func (s *Service) ImportQuestions(ctx context.Context, a actor.Actor, courseID int64, data []byte) (ImportResult, error) {
	if _, err := s.course(ctx, s.db, a, courseID); err != nil {
		return ImportResult{}, err
	}
	qs, errs := ParseQuestions(data)
	if len(errs) > 0 {
		return ImportResult{Errors: errs}, nil
	}
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		c, err := s.course(ctx, tx, a, courseID)
		if err != nil {
			return err
		}
		if err := s.insertQuestions(ctx, tx, a, c.ID, qs); err != nil {
			return err
		}
		return s.record(ctx, tx, a, c.OrgID, "training_course", c.ID, "training.question.import",
			fmt.Sprintf("%d questions imported into training course %d %s", len(qs), c.ID, c.Title),
			"trail.summary.training.question.import", []any{len(qs), c.ID, c.Title}, nil)
	})
	if err != nil {
		return ImportResult{}, err
	}
	return ImportResult{Added: len(qs), Errors: []LineError{}}, nil
}
