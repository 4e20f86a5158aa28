package detect

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestParseInvalid reads testdata/invalid/*.yaml: each file is a rule that must be
// refused, its first line "# error: TEXT" (the message must contain TEXT) or "# field:
// WHERE NAME" (a FieldError naming the rule and the field). A rule naming a field that
// does not exist is refused, never silently inert.
func TestParseInvalid(t *testing.T) {
	files, err := filepath.Glob("testdata/invalid/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".yaml"), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			first, _, _ := strings.Cut(string(b), "\n")
			_, perr := ParseAll(b)
			if perr == nil {
				t.Fatalf("parsed; want an error")
			}
			if !errors.Is(perr, ErrInvalid) {
				t.Errorf("error %q does not wrap ErrInvalid", perr)
			}
			switch {
			case strings.HasPrefix(first, "# error: "):
				if want := strings.TrimPrefix(first, "# error: "); !strings.Contains(perr.Error(), want) {
					t.Errorf("error %q does not contain %q", perr, want)
				}
			case strings.HasPrefix(first, "# field: "):
				w := strings.Fields(strings.TrimPrefix(first, "# field: "))
				var fe *FieldError
				if !errors.As(perr, &fe) {
					t.Fatalf("error %q is not a FieldError", perr)
				}
				if fe.Field != w[1] {
					t.Errorf("FieldError names field %q, want %q", fe.Field, w[1])
				}
				if id := ruleIDOf(b); fe.Rule != id || !strings.Contains(perr.Error(), "rule "+id+":") {
					t.Errorf("error %q does not name rule %q (FieldError.Rule %q)", perr, id, fe.Rule)
				}
			default:
				t.Fatalf("first line %q is neither # error: nor # field:", first)
			}
		})
	}
}

func ruleIDOf(b []byte) string {
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "id: "); ok {
			return v
		}
	}
	return ""
}

// TestParseValid checks the values Parse reads, of the brief's example among them.
func TestParseValid(t *testing.T) {
	r, err := Parse([]byte(`
id: batch-login
version: 1
name: {zh: 同一终端批量登录多个账号, en: Many accounts logged in from one terminal}
severity: high
kind: distinct
match:
  action: [login]
  outcome: success
  record_count_gte: 0
  not: {department: 药剂科}
group_by: [terminal, source_ip]
distinct: account
threshold: 5
window: 10m
`))
	if err != nil {
		t.Fatal(err)
	}
	zero, pharmacy := 0, "药剂科"
	want := Rule{ID: "batch-login", Version: "1", Name: Text{Zh: "同一终端批量登录多个账号", En: "Many accounts logged in from one terminal"},
		Severity: "high", Kind: KindDistinct, Match: Match{Fields: map[string][]string{"action": {"login"}, "outcome": {"success"}},
			RecordCountGTE: &zero, Not: &Match{Fields: map[string][]string{"department": {pharmacy}}}},
		GroupBy: []string{"terminal", "source_ip"}, Distinct: "account", Threshold: 5, Window: Duration(10 * 60e9)}
	if d := cmp.Diff(want, r); d != "" {
		t.Errorf("Parse (-want +got):\n%s", d)
	}
}

// TestParseDuration covers the day unit and the range.
func TestParseDuration(t *testing.T) {
	for _, c := range []struct {
		in   string
		want string // "" when refused
	}{{"10m", "10m"}, {"90d", "90d"}, {"1h30m", "1h30m"}, {"2d12h", "60h"}, {"1h", "1h"}, {"45s", "45s"},
		{"401d", ""}, {"-1h", ""}, {"d", ""}, {"x", ""}, {"3dd", ""}, {"", "0s"}} {
		d, err := ParseDuration(c.in)
		if c.want == "" {
			if err == nil {
				t.Errorf("ParseDuration(%q) = %v; want an error", c.in, d)
			}
			continue
		}
		if err != nil || d.String() != c.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %s", c.in, d, err, c.want)
		}
	}
}

// TestBuiltin checks the library: at least 25 rules, unique ids, names in both
// languages, and every rule reads back from its YAML unchanged.
func TestBuiltin(t *testing.T) {
	rs := Builtin()
	if len(rs) < 25 {
		t.Errorf("%d built-in rules; want at least 25", len(rs))
	}
	ids := map[string]bool{}
	kinds := map[string]bool{}
	for _, r := range rs {
		if ids[r.ID] {
			t.Errorf("rule %s twice", r.ID)
		}
		ids[r.ID] = true
		kinds[r.Kind] = true
		if r.Name.Zh == "" || r.Name.En == "" || r.Description.Zh == "" || r.Description.En == "" {
			t.Errorf("rule %s: name or description missing a language", r.ID)
		}
		back, err := Parse(r.YAML())
		if err != nil {
			t.Errorf("rule %s: its YAML does not parse: %v\n%s", r.ID, err, r.YAML())
			continue
		}
		if d := cmp.Diff(r, back); d != "" {
			t.Errorf("rule %s: YAML round trip (-want +got):\n%s", r.ID, d)
		}
	}
	for _, k := range Kinds {
		if !kinds[k] {
			t.Errorf("no built-in rule of kind %s", k)
		}
	}
}

// TestParseEnv reads the monitor configuration's texts and refuses bad ones.
func TestParseEnv(t *testing.T) {
	e, err := ParseEnv([]string{"10.0.0.0/8", "192.168.1.7/24"}, []string{"10.0.0.10", "::ffff:10.0.0.11"}, []string{"2026-05-01"}, "Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	if len(e.InternalNets) != 2 || e.InternalNets[1].String() != "192.168.1.0/24" || e.JumpHosts[1].String() != "10.0.0.11" ||
		len(e.Holidays) != 1 || e.Location.String() != "Asia/Shanghai" {
		t.Errorf("ParseEnv = %+v", e)
	}
	for _, bad := range [][4]string{{"10.0.0.0", "", "", ""}, {"", "10.0.0", "", ""}, {"", "", "2026-13-01", ""}, {"", "", "", "Mars/Base"}} {
		l := func(s string) []string {
			if s == "" {
				return nil
			}
			return []string{s}
		}
		if _, err := ParseEnv(l(bad[0]), l(bad[1]), l(bad[2]), bad[3]); err == nil {
			t.Errorf("ParseEnv(%q) accepted", bad)
		}
	}
}

// TestDurationJSON: durations are texts in JSON too ("10m", "90d").
func TestDurationJSON(t *testing.T) {
	r, _ := BuiltinRule("dormant-account")
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"idle":"10d"`) || !strings.Contains(string(b), `"window":"1d"`) {
		t.Errorf("JSON %s", b)
	}
	var d Duration
	if err := json.Unmarshal([]byte(`"1h30m"`), &d); err != nil || d.String() != "1h30m" {
		t.Errorf("Unmarshal: %v %v", d, err)
	}
	if err := json.Unmarshal([]byte(`5`), &d); err == nil {
		t.Error("a number was read as a duration")
	}
}
