package dlp_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/medguard/medguard/internal/dlp"
)

func TestClassifyCoversEveryType(t *testing.T) {
	t.Parallel()
	for _, typ := range dlp.AllTypes() {
		c, ok := dlp.Classify(typ)
		if !ok || c.Level < 1 || c.Level > 5 || c.Category == "" {
			t.Errorf("Classify(%s) = %+v, %v", typ, c, ok)
		}
	}
	if _, ok := dlp.Classify("nope"); ok {
		t.Error("Classify(nope) ok")
	}
}

func TestVerdict(t *testing.T) {
	t.Parallel()
	s := newScanner(t, dlp.Config{Custom: []dlp.CustomIdentifier{{Name: "medical_record_no", Pattern: `MR\d{6}`}}})
	tests := []struct {
		name string
		text string
		want dlp.FileVerdict
	}{
		{"empty", "今天天气很好", dlp.FileVerdict{CountsByType: map[string]int{}}},
		{"identifier only", "手机 13812345678，13912345678",
			dlp.FileVerdict{HighestLevel: 4, CountsByType: map[string]int{"cn_mobile": 2}}},
		{"health data only", "诊断：高血压",
			dlp.FileVerdict{HighestLevel: 3, CountsByType: map[string]int{"diagnosis": 1}}},
		{"identifier and health data", "患者王小明，诊断：高血压",
			dlp.FileVerdict{HighestLevel: 4, CountsByType: map[string]int{"person_name": 1, "diagnosis": 1}, IdentifiesPerson: true}},
		{"sensitive diagnosis", "诊断：精神分裂症",
			dlp.FileVerdict{HighestLevel: 5, CountsByType: map[string]int{"diagnosis": 1}}},
		{"sensitive ICD code", "出院诊断 B20.1",
			dlp.FileVerdict{HighestLevel: 5, CountsByType: map[string]int{"diagnosis": 1}}},
		{"site identifier and lab", "病案号 MR123456 白细胞 12.5×10^9/L",
			dlp.FileVerdict{HighestLevel: 4, CountsByType: map[string]int{"medical_record_no": 1, "lab_result": 1}, IdentifiesPerson: true}},
		{"public organisation code", "统一社会信用代码 91350100M000100Y43",
			dlp.FileVerdict{HighestLevel: 1, CountsByType: map[string]int{"cn_uscc": 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := dlp.Verdict(s.Scan([]byte(tt.text)))
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("Verdict (-want +got):\n%s", d)
			}
		})
	}
}
