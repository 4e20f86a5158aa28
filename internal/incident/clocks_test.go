package incident_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/incident"
)

// TestDefaultClocks: the built-in table says what the measures and HIPAA say.
func TestDefaultClocks(t *testing.T) {
	c := incident.DefaultClocks()
	tests := []struct {
		regime, operator, level string
		want                    time.Duration
		ok                      bool
	}{
		{"cn", incident.OperatorCII, incident.LevelLarge, time.Hour, true},
		{"cn", incident.OperatorCII, incident.LevelExtraordinary, time.Hour, true},
		{"cn", incident.OperatorState, incident.LevelMajor, 2 * time.Hour, true},
		{"cn", incident.OperatorOther, incident.LevelLarge, 4 * time.Hour, true},
		{"cn", incident.OperatorOther, incident.LevelGeneral, 0, false},
		{"hipaa", incident.OperatorOther, incident.LevelGeneral, 60 * 24 * time.Hour, true},
		{"hipaa", incident.OperatorCII, incident.LevelMajor, 60 * 24 * time.Hour, true},
		{"gdpr", incident.OperatorOther, incident.LevelMajor, 0, false},
	}
	for _, tc := range tests {
		d, ok := c.ReportWithin(tc.regime, tc.operator, tc.level)
		if d != tc.want || ok != tc.ok {
			t.Errorf("%s %s %s: %v %v, want %v %v", tc.regime, tc.operator, tc.level, d, ok, tc.want, tc.ok)
		}
	}
	for level, want := range map[string]bool{incident.LevelExtraordinary: true, incident.LevelMajor: true, incident.LevelLarge: false} {
		if d, ok := c.PassOnWithin("cn", level); ok != want || (ok && d != time.Hour) {
			t.Errorf("pass on %s: %v %v", level, d, ok)
		}
	}
	if c.WarnBefore("cn") != 15*time.Minute || c.WarnBefore("hipaa") != 7*24*time.Hour {
		t.Errorf("warning leads %v %v", c.WarnBefore("cn"), c.WarnBefore("hipaa"))
	}
}

// TestParseClocks: what a table of one's own may not say.
func TestParseClocks(t *testing.T) {
	const ok = "regimes:\n  cn:\n    warn_before: 10m\n    report:\n      other: {large: 3h}\n"
	if c, err := incident.ParseClocks([]byte(ok)); err != nil {
		t.Fatal(err)
	} else if d, _ := c.ReportWithin("cn", incident.OperatorOther, incident.LevelLarge); d != 3*time.Hour {
		t.Fatalf("parsed %v", d)
	}
	tests := []struct{ name, yaml, field string }{
		{"empty", "", ""},
		{"unknown field", ok + "extra: 1\n", ""},
		{"no cn", "regimes:\n  hipaa:\n    warn_before: 1d\n    report:\n      any: {general: 60d}\n", "regimes"},
		{"bad regime name", ok + "  Bad-Name:\n    warn_before: 1h\n    report:\n      any: {general: 2h}\n", "regimes.Bad-Name"},
		{"unknown operator", strings.Replace(ok, "other:", "bank:", 1), "regimes.cn.report.bank"},
		{"unknown level", strings.Replace(ok, "large:", "severe:", 1), "regimes.cn.report.other.severe"},
		{"bad duration", strings.Replace(ok, "3h", "three hours", 1), "regimes.cn.report.other.large"},
		{"negative", strings.Replace(ok, "3h", "-3h", 1), "regimes.cn.report.other.large"},
		{"too long", strings.Replace(ok, "3h", "400d", 1), "regimes.cn.report.other.large"},
		{"not past the warning", strings.Replace(ok, "3h", "5m", 1), "regimes.cn.report.other.large"},
		{"no warning", strings.Replace(ok, "    warn_before: 10m\n", "", 1), "regimes.cn.warn_before"},
		{"no report", "regimes:\n  cn:\n    warn_before: 10m\n", "regimes.cn.report"},
		{"any and types", ok + "      any: {large: 3h}\n", ""},
		{"two documents", ok + "---\n" + ok, ""},
		{"duplicate key", ok + "regimes: {}\n", ""},
	}
	for _, tc := range tests {
		_, err := incident.ParseClocks([]byte(tc.yaml))
		var ce *incident.ClocksError
		if !errors.As(err, &ce) {
			t.Errorf("%s: %v, want a ClocksError", tc.name, err)
			continue
		}
		if tc.field != "" && ce.Field != tc.field {
			t.Errorf("%s: field %q (%v), want %q", tc.name, ce.Field, err, tc.field)
		}
	}
}

// FuzzParseClocks: ParseClocks never panics, and a table it takes has the cn regime and
// only deadlines longer than their warning lead and at most 366 days.
func FuzzParseClocks(f *testing.F) {
	f.Add(incident.DefaultClocksYAML())
	f.Add([]byte("regimes:\n  cn:\n    warn_before: 10m\n    report:\n      other: {large: 3h}\n"))
	f.Add([]byte("regimes: {cn: {warn_before: 1d, report: {any: {general: 2d}}, pass_on: {major: 25h}}}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := incident.ParseClocks(data)
		if err != nil {
			return
		}
		if _, ok := c.Regimes["cn"]; !ok {
			t.Fatal("taken without cn")
		}
		for name, r := range c.Regimes {
			for _, levels := range r.Report {
				for _, d := range levels {
					if d <= r.WarnBefore || d > 366*24*time.Hour {
						t.Fatalf("%s: deadline %v, warning %v", name, d, r.WarnBefore)
					}
				}
			}
		}
	})
}
