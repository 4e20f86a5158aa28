package input_test

import (
	"testing"

	"github.com/medguard/medguard/internal/dlp"
	"github.com/medguard/medguard/internal/dlp/input"
)

// TestScanUnits runs the real scanner over decoded units: findings in
// structured inputs are named by the field that holds them.
func TestScanUnits(t *testing.T) {
	t.Parallel()
	s, err := dlp.NewScanner(dlp.Config{Types: []string{dlp.TypeResidentID, dlp.TypeMobile}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data []byte
		want map[string]string // finding type → field
	}{
		{"patients.csv", readFixture(t, "patients.csv"), map[string]string{dlp.TypeResidentID: "身份证号", dlp.TypeMobile: "手机"}},
		{"adt.hl7", readFixture(t, "adt.hl7"), map[string]string{dlp.TypeMobile: "PID-13"}},
		{"patient.json", readFixture(t, "patient.json"), map[string]string{dlp.TypeResidentID: "/patient/idCard", dlp.TypeMobile: "/patient/phones/0"}},
		{"a.docx", docx(t), map[string]string{dlp.TypeResidentID: "word/document.xml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := map[string]string{}
			_, err := input.Decode(tt.name, tt.data, input.Limits{}, func(u input.Unit) error {
				for _, f := range s.Scan(u.Text) {
					if _, seen := got[f.Type]; !seen {
						got[f.Type] = u.Field(f.Start)
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			for typ, field := range tt.want {
				if got[typ] != field {
					t.Errorf("first %s finding in field %q, want %q (all: %v)", typ, got[typ], field, got)
				}
			}
		})
	}
}
