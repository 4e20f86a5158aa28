package training_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/medguard/medguard/internal/training"
)

// TestParseQuestions: each case is a file and the questions it gives, or the line and
// field of its first error.
func TestParseQuestions(t *testing.T) {
	gbk, err := simplifiedchinese.GBK.NewEncoder().String("题型,题目,选项A,选项B,答案,解析\n单选,密码多久更换一次？,90天,从不,A,按制度\n")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		in        string
		want      []training.QuestionInput
		errLine   int
		errField  string
		errsCount int
	}{
		{name: "utf8 with bom", in: "\ufefftype,question,option_a,option_b,option_c,answer,explanation,question_en\nmultiple,选出弱口令,123456,Zx#9q!,admin,A C,常见弱口令,Pick weak passwords\n",
			want: []training.QuestionInput{{Kind: "multiple", Text: "选出弱口令", TextEN: "Pick weak passwords", Options: []string{"123456", "Zx#9q!", "admin"}, Answer: []int{0, 2}, Explanation: "常见弱口令"}}},
		{name: "gbk", in: gbk, want: []training.QuestionInput{{Kind: "single", Text: "密码多久更换一次？", Options: []string{"90天", "从不"}, Answer: []int{0}, Explanation: "按制度"}}},
		{name: "true false words", in: "type,question,answer\n判断,可以共用账号,错\ntruefalse,离开要锁屏,true\n",
			want: []training.QuestionInput{{Kind: "truefalse", Text: "可以共用账号", Options: []string{"正确", "错误"}, Answer: []int{1}},
				{Kind: "truefalse", Text: "离开要锁屏", Options: []string{"正确", "错误"}, Answer: []int{0}}}},
		{name: "unknown column", in: "type,question,answer,score\n", errLine: 1, errField: "score", errsCount: 1},
		{name: "missing answer column", in: "type,question\n", errLine: 1, errField: "answer", errsCount: 1},
		{name: "errors per line", in: "type,question,option_a,option_b,answer\nsingle,q1,a,b,C\nessay,q2,a,b,A\nsingle,,a,b,A\nsingle,q4,a,b,AB\nsingle,q5,a,b,A\n",
			errLine: 2, errField: "answer", errsCount: 4},
		{name: "option gap", in: "type,question,option_a,option_b,option_c,answer\nsingle,q,a,,c,A\n", errLine: 2, errField: "option_c", errsCount: 1},
		{name: "bad csv", in: "type,question,answer\nsingle,\"q,A\n", errLine: 2, errsCount: 1},
		{name: "header only", in: "type,question,answer\n", errLine: 0, errField: "file", errsCount: 1},
		{name: "empty", in: "", errLine: 0, errField: "file", errsCount: 1},
		{name: "binary", in: "type\x00\x01\x02", errLine: 0, errField: "file", errsCount: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, errs := training.ParseQuestions([]byte(tc.in))
			if tc.errsCount == 0 {
				if len(errs) > 0 {
					t.Fatalf("errors %+v", errs)
				}
				if d := cmp.Diff(tc.want, got); d != "" {
					t.Fatalf("questions (-want +got):\n%s", d)
				}
				return
			}
			if len(got) != 0 || len(errs) != tc.errsCount || errs[0].Line != tc.errLine || errs[0].Field != tc.errField || errs[0].Msg.Key == "" {
				t.Fatalf("got %v, errors %+v; want %d errors, first at line %d field %q", got, errs, tc.errsCount, tc.errLine, tc.errField)
			}
		})
	}
}

// FuzzParseQuestions: any input gives questions or errors, never both, never a panic;
// every question is valid (answers within its options) and every error has a message.
func FuzzParseQuestions(f *testing.F) {
	f.Add([]byte("type,question,option_a,option_b,answer\nsingle,q,a,b,B\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		qs, errs := training.ParseQuestions(data)
		if (len(qs) == 0) == (len(errs) == 0) {
			t.Fatalf("questions %d and errors %d", len(qs), len(errs))
		}
		for _, e := range errs {
			if e.Msg.Key == "" || e.Line < 0 {
				t.Fatalf("error %+v", e)
			}
		}
		for _, q := range qs {
			if len(q.Answer) == 0 || len(q.Options) < 2 || strings.TrimSpace(q.Text) == "" {
				t.Fatalf("question %+v", q)
			}
			for _, a := range q.Answer {
				if a < 0 || a >= len(q.Options) {
					t.Fatalf("answer out of range %+v", q)
				}
			}
		}
	})
}
