package dlp_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/medguard/medguard/internal/dlp"
)

func newScanner(t testing.TB, cfg dlp.Config) *dlp.Scanner {
	t.Helper()
	s, err := dlp.NewScanner(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestNewScannerRejectsBadConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  dlp.Config
		want string
	}{
		{"unknown type", dlp.Config{Types: []string{"ssn"}}, `types: unknown type "ssn"`},
		{"confidence above 1", dlp.Config{MinConfidence: 1.5}, "min_confidence"},
		{"custom name", dlp.Config{Custom: []dlp.CustomIdentifier{{Name: "MRN!", Pattern: `\d+`}}}, "custom[0].name"},
		{"custom duplicates builtin", dlp.Config{Custom: []dlp.CustomIdentifier{{Name: "email", Pattern: `\d+`}}}, "duplicates a type"},
		{"custom bad pattern", dlp.Config{Custom: []dlp.CustomIdentifier{{Name: "mrn", Pattern: `(`}}}, "custom[0].pattern"},
		{"custom empty pattern", dlp.Config{Custom: []dlp.CustomIdentifier{{Name: "mrn"}}}, "custom[0].pattern: empty"},
		{"custom require without words", dlp.Config{Custom: []dlp.CustomIdentifier{{Name: "mrn", Pattern: `\d+`, RequireContext: true}}}, "custom[0].context"},
		{"custom level", dlp.Config{Custom: []dlp.CustomIdentifier{{Name: "mrn", Pattern: `\d+`, Level: 9}}}, "custom[0].level"},
		{"custom category", dlp.Config{Custom: []dlp.CustomIdentifier{{Name: "mrn", Pattern: `\d+`, Category: "secret"}}}, "custom[0].category"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := dlp.NewScanner(tt.cfg)
			if !errors.Is(err, dlp.ErrConfig) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want ErrConfig containing %q", err, tt.want)
			}
		})
	}
}

func TestScanFindingFields(t *testing.T) {
	t.Parallel()
	s := newScanner(t, dlp.Config{})
	text := "第一行\n患者身份证号：11010519491231002X\n手机 13812345678"
	got := s.Scan([]byte(text))
	want := []dlp.Finding{
		{Type: dlp.TypeResidentID, Start: 31, End: 49, Line: 2, Confidence: 0.99, Preview: "110***********002X", Category: dlp.CategoryPersonalAttribute, Level: 4},
		{Type: dlp.TypeMobile, Start: 57, End: 68, Line: 3, Confidence: 0.98, Preview: "138****5678", Category: dlp.CategoryPersonalAttribute, Level: 4},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("Scan mismatch (-want +got):\n%s", d)
	}
}

func TestScanTypesAndMinConfidence(t *testing.T) {
	t.Parallel()
	text := []byte("手机 13812345678 邮箱 a@example.com 护照 E12345678 订单号 E87654321")
	only := newScanner(t, dlp.Config{Types: []string{dlp.TypeEmail}}).Scan(text)
	if len(only) != 1 || only[0].Type != dlp.TypeEmail {
		t.Fatalf("Types filter: got %+v", only)
	}
	all := newScanner(t, dlp.Config{}).Scan(text)
	high := newScanner(t, dlp.Config{MinConfidence: 0.9}).Scan(text)
	if len(high) >= len(all) {
		t.Fatalf("MinConfidence dropped nothing: %d vs %d", len(high), len(all))
	}
	for _, f := range high {
		if f.Confidence < 0.9 {
			t.Errorf("finding below MinConfidence: %+v", f)
		}
	}
}

func TestNegativeContextLowersConfidence(t *testing.T) {
	t.Parallel()
	s := newScanner(t, dlp.Config{})
	conf := func(text string) float64 {
		fs := s.Scan([]byte(text))
		if len(fs) != 1 {
			t.Fatalf("%q: %d findings", text, len(fs))
		}
		return fs[0].Confidence
	}
	plain, pos, neg := conf("xx 13812345678"), conf("手机 13812345678"), conf("订单号 13812345678")
	if !(neg < plain && plain < pos) {
		t.Fatalf("confidences: negative %.2f, plain %.2f, positive %.2f", neg, plain, pos)
	}
}

func TestCustomIdentifiers(t *testing.T) {
	t.Parallel()
	s := newScanner(t, dlp.Config{Custom: []dlp.CustomIdentifier{
		{Name: "medical_record_no", Pattern: `\bMR\d{8}\b`, Context: []string{"病案号"}},
		{Name: "inpatient_no", Pattern: `\b\d{7}\b`, Context: []string{"住院号", "ZYH"}, RequireContext: true, Level: 3},
	}})
	text := "病案号 MR12345678\n与本次就诊无关的其他记录编号如下所示 MR87654321\n住院号：1234567\n与本次就诊无关的电话分机号码 7654321\nzyh 2345678"
	var got []string
	for _, f := range s.Scan([]byte(text)) {
		got = append(got, f.Type+"="+text[f.Start:f.End]+"@"+ftoa(f.Confidence))
		if f.Type == "inpatient_no" && (f.Level != 3 || f.Category != dlp.CategoryMedicalApplication) {
			t.Errorf("classification of %+v", f)
		}
	}
	want := []string{"medical_record_no=MR12345678@0.9", "medical_record_no=MR87654321@0.6", "inpatient_no=1234567@0.9", "inpatient_no=2345678@0.9"}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("custom findings (-want +got):\n%s", d)
	}
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func TestPreviewNeverHoldsRawValue(t *testing.T) {
	t.Parallel()
	s := newScanner(t, dlp.Config{})
	text := "姓名：欧阳娜娜 身份证 11010519491231002X 手机 13812345678 卡号 6222021234567890128 邮箱 zhang.san@example.com 住址：北京市海淀区中关村大街27号 护照 E12345678"
	fs := s.Scan([]byte(text))
	if len(fs) < 7 {
		t.Fatalf("only %d findings: %+v", len(fs), fs)
	}
	for _, f := range fs {
		raw := text[f.Start:f.End]
		if strings.Contains(f.Preview, raw) || !strings.Contains(f.Preview, "*") || !utf8.ValidString(f.Preview) {
			t.Errorf("%s preview %q reveals %q", f.Type, f.Preview, raw)
		}
	}
}

func TestMask(t *testing.T) {
	t.Parallel()
	tests := []struct{ typ, in, want string }{
		{dlp.TypeResidentID, "110105194912310021", "110***********0021"},
		{dlp.TypeMobile, "13812345678", "138****5678"},
		{dlp.TypeEmail, "zhang@example.com", "z***@example.com"},
		{dlp.TypePersonName, "欧阳娜娜", "欧***"},
		{dlp.TypePassport, "E12345678", "E1*****78"},
		{"custom", "ab", "**"},
		{dlp.TypeAddress, "北京市海淀区中关村", "北京市海*****"},
		{dlp.TypeMobile, "\xff\xfe12345678901", "\uFFFD12*****8901"},
	}
	for _, tt := range tests {
		if got := dlp.Mask(tt.typ, []byte(tt.in)); got != tt.want {
			t.Errorf("Mask(%s, %q) = %q, want %q", tt.typ, tt.in, got, tt.want)
		}
	}
}

func TestScanOverlapsResolved(t *testing.T) {
	t.Parallel()
	s := newScanner(t, dlp.Config{})
	fs := s.Scan([]byte("联系 13812345678@qq.com 或 138-1234-5678"))
	for i := 1; i < len(fs); i++ {
		if fs[i].Start < fs[i-1].End {
			t.Fatalf("overlapping findings %+v and %+v", fs[i-1], fs[i])
		}
	}
	if len(fs) != 2 || fs[0].Type != dlp.TypeEmail || fs[1].Type != dlp.TypeMobile {
		t.Fatalf("got %+v", fs)
	}
}
