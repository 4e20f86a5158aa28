package licence_test

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/medguard/medguard/internal/licence"
)

type verdictCase struct {
	line int
	expr string
	want licence.Verdict
}

// readVerdicts reads testdata/verdicts.txt: "<expression> => <verdict>  # comment".
func readVerdicts(t testing.TB) []verdictCase {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "verdicts.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []verdictCase
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndex(line, "=>")
		if i < 0 {
			t.Fatalf("verdicts.txt:%d: no =>", n)
		}
		rest := strings.Fields(line[i+2:])
		if len(rest) == 0 {
			t.Fatalf("verdicts.txt:%d: no verdict", n)
		}
		cases = append(cases, verdictCase{line: n, expr: strings.TrimSpace(line[:i]), want: licence.Verdict(rest[0])})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return cases
}

func TestVerdicts(t *testing.T) {
	t.Parallel()
	cases := readVerdicts(t)
	if len(cases) < 40 {
		t.Fatalf("only %d cases", len(cases))
	}
	p := licence.DefaultPolicy()
	m := p.Matcher()
	for _, c := range cases {
		r := p.Evaluate(c.expr)
		if diff := cmp.Diff(r, m.Evaluate(c.expr)); diff != "" {
			t.Errorf("verdicts.txt:%d: Matcher and Policy disagree (-policy +matcher):\n%s", c.line, diff)
		}
		if r.Verdict != c.want {
			t.Errorf("verdicts.txt:%d: Evaluate(%q) = %s (%s), want %s", c.line, c.expr, r.Verdict, r.Reason, c.want)
		}
		if r.Reason == "" {
			t.Errorf("verdicts.txt:%d: Evaluate(%q) gives no reason", c.line, c.expr)
		}
	}
}

func TestEvaluateResult(t *testing.T) {
	t.Parallel()
	p := licence.DefaultPolicy()
	tests := []struct {
		expr string
		want licence.Result
	}{
		{"", licence.Result{Verdict: licence.VerdictUnknown, Reason: "no licence declared"}},
		{" noassertion ", licence.Result{Verdict: licence.VerdictUnknown, Reason: "no licence declared (NOASSERTION)"}},
		{"mit", licence.Result{Verdict: licence.VerdictAllowed, Reason: "MIT is on the allow list", Licenses: []string{"MIT"}}},
		{"GPL-2.0+ AND mit AND MIT", licence.Result{
			Verdict:  licence.VerdictDenied,
			Reason:   "GPL-2.0-or-later is on the deny list",
			Licenses: []string{"GPL-2.0-or-later", "MIT"},
		}},
		{"GPL-2.0 OR MPL-2.0", licence.Result{
			Verdict:  licence.VerdictReview,
			Reason:   "one of the alternatives may be chosen: MPL-2.0 is on the review list",
			Licenses: []string{"GPL-2.0-only", "MPL-2.0"},
		}},
		{"GPL-2.0-only WITH Linux-syscall-note", licence.Result{
			Verdict:  licence.VerdictDenied,
			Reason:   "GPL-2.0-only WITH Linux-syscall-note is not listed with its exception: GPL-2.0-only is on the deny list",
			Licenses: []string{"GPL-2.0-only WITH Linux-syscall-note"},
		}},
		{"MPL-1.1+", licence.Result{
			Verdict:  licence.VerdictReview,
			Reason:   "MPL-1.1+ is not listed, the version it starts from is: MPL-1.1 is on the review list",
			Licenses: []string{"MPL-1.1+"},
		}},
		{"LicenseRef-EULA", licence.Result{
			Verdict:  licence.VerdictUnknown,
			Reason:   "LicenseRef-EULA is not an SPDX licence and is on no list",
			Licenses: []string{"LicenseRef-EULA"},
		}},
		{"Beerware", licence.Result{
			Verdict:  licence.VerdictReview,
			Reason:   "Beerware is on no list; unlisted licences are review",
			Licenses: []string{"Beerware"},
		}},
		{"MIT AND Foo", licence.Result{Verdict: licence.VerdictUnknown, Reason: `invalid licence expression: unknown licence id "Foo"`}},
		{"MIT AND", licence.Result{Verdict: licence.VerdictUnknown, Reason: "invalid licence expression: expression ends where a licence was expected"}},
		{"(MIT", licence.Result{Verdict: licence.VerdictUnknown, Reason: "invalid licence expression: missing )"}},
		{strings.Repeat("(", 100) + "MIT" + strings.Repeat(")", 100), licence.Result{Verdict: licence.VerdictUnknown, Reason: "invalid licence expression: expression nested too deeply"}},
	}
	for _, tt := range tests {
		got := p.Evaluate(tt.expr)
		if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("Evaluate(%q) (-want +got):\n%s", tt.expr, diff)
		}
	}
}

func TestEvaluateCustomPolicy(t *testing.T) {
	t.Parallel()
	p, err := licence.ParsePolicy(readTestdata(t, "policies/hospital.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]licence.Verdict{
		"MIT":                          licence.VerdictAllowed,
		"LicenseRef-Hospital-Internal": licence.VerdictAllowed,
		"licenseref-hospital-internal": licence.VerdictAllowed, // prefix in any case
		"LicenseRef-Other":             licence.VerdictUnknown,
		"GPL-2.0-only WITH Classpath-exception-2.0": licence.VerdictAllowed,
		"GPL-2.0-only":      licence.VerdictDenied,
		"GPL-2.0-or-later":  licence.VerdictDenied, // falls back to GPL-2.0-only
		"LGPL-2.1-or-later": licence.VerdictReview,
		"LGPL-2.1-only":     licence.VerdictDenied, // not listed: unlisted is denied
		"AGPL-3.0+":         licence.VerdictDenied,
		"ISC":               licence.VerdictDenied,
		"ISC OR MIT":        licence.VerdictAllowed,
	}
	for expr, want := range tests {
		if got := p.Evaluate(expr); got.Verdict != want {
			t.Errorf("Evaluate(%q) = %s (%s), want %s", expr, got.Verdict, got.Reason, want)
		}
	}
	// A programmatic policy with a bad entry: the entry is ignored, the rest applies.
	q := licence.Policy{Allow: []string{"MIT", "NotALicence"}, Deny: []string{"GPL-3.0-only"}, Unlisted: licence.VerdictAllowed}
	if got := q.Evaluate("MIT AND Beerware"); got.Verdict != licence.VerdictAllowed {
		t.Errorf("got %+v", got)
	}
	if err := q.Validate(); err == nil || !strings.Contains(err.Error(), `allow[1]: not one SPDX licence id (optionally WITH an exception): "NotALicence"`) {
		t.Errorf("Validate = %v", err)
	}
	// An unrecognised Unlisted verdict is treated as unknown.
	if got := (licence.Policy{Unlisted: "maybe"}).Evaluate("MIT"); got.Verdict != licence.VerdictUnknown {
		t.Errorf("got %+v", got)
	}
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestParsePolicy(t *testing.T) {
	t.Parallel()
	got, err := licence.ParsePolicy(readTestdata(t, "policies/hospital.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := licence.Policy{Allow: []string{"MIT", "Apache-2.0"}, Review: []string{"MPL-2.0"}, Deny: []string{"GPL-3.0-only"}, Unlisted: licence.VerdictUnknown}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("JSON policy (-want +got):\n%s", diff)
	}
	got, err = licence.ParsePolicy(readTestdata(t, "policies/minimal.yaml"))
	if err != nil || got.Evaluate("SSPL-1.0").Verdict != licence.VerdictDenied || got.Evaluate("MIT").Verdict != licence.VerdictReview {
		t.Errorf("minimal policy: %+v, %v", got, err)
	}

	// Error (command line, log) names the value at fault; Safe (clients of the server)
	// names its line and place only.
	errs := []struct {
		name, in, safe, detail string
	}{
		{"unknown id", "allow:\n  - MIT\n  - GPL-9.0\n", "line 3: allow[1]: not one SPDX licence id (optionally WITH an exception)", `"GPL-9.0": unknown licence id "GPL-9.0"`},
		{"unknown id in JSON", `{"deny": ["SSPL-1.0", "Foo"]}`, "line 1: deny[1]: not one SPDX licence id (optionally WITH an exception)", `"Foo": unknown licence id "Foo"`},
		{"expression", "review: [MIT OR ISC]\n", "line 1: review[0]: not one SPDX licence id (optionally WITH an exception)", `"MIT OR ISC" is an expression with OR`},
		{"on two lists", "allow: [GPL-2.0-only]\ndeny: [GPL-2.0]\n", "line 2: deny[0]: the licence is also on the allow list", `"GPL-2.0"`},
		{"same entry twice on one list", "deny: [GPL-2.0, GPL-2.0-only]\nallow: [x]\n", "line 2: allow[0]: not one SPDX licence id (optionally WITH an exception)", `unknown licence id "x"`},
		{"bad exception", "allow: [GPL-2.0-only WITH Nothing]\n", "line 1: allow[0]: not one SPDX licence id (optionally WITH an exception)", `unknown licence exception "Nothing"`},
		{"unknown key", "alow: [MIT]\n", "line 1: unknown key (the keys are allow, review, deny and unlisted)", "field alow not found"},
		{"not a list", "allow: MIT\n", "line 1: a value of the wrong type (allow, review and deny are lists of licence ids; unlisted is one verdict)", "cannot unmarshal"},
		{"not a string", "allow:\n  - {id: MIT}\n", "line 2: allow[0]: expected a licence id", ""},
		{"null entry", "allow:\n  -\n", "line 2: allow[0]: expected a licence id", ""},
		{"bad unlisted", "unlisted: maybe\n", "unlisted: must be allowed, review, denied or unknown", `"maybe"`},
		{"empty", "", "empty document", ""},
		{"two documents", "allow: [MIT]\n---\ndeny: [ISC]\n", "more than one document", ""},
		{"not yaml", "allow: [MIT\n", "line 1: not a valid YAML or JSON document", "did not find expected"},
		{"marker key", "allow: [MIT]\n'440305198807150031': x\n", "line 2: unknown key (the keys are allow, review, deny and unlisted)", "440305198807150031"},
		{"marker entry", "deny:\n  - 440305198807150031\n", "line 2: deny[0]: not one SPDX licence id (optionally WITH an exception)", "440305198807150031"},
		{"marker value", "allow: 440305198807150031\n", "line 1: a value of the wrong type (allow, review and deny are lists of licence ids; unlisted is one verdict)", "4403051"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			_, err := licence.ParsePolicy([]byte(tt.in))
			var pe *licence.PolicyError
			if !errors.As(err, &pe) {
				t.Fatalf("ParsePolicy error %T %v is not a *PolicyError", err, err)
			}
			if pe.Safe() != tt.safe {
				t.Errorf("Safe() = %q, want %q", pe.Safe(), tt.safe)
			}
			if tt.detail != "" && strings.Contains(pe.Safe(), tt.detail) {
				t.Errorf("Safe() = %q quotes the document", pe.Safe())
			}
			if !strings.HasPrefix(err.Error(), "licence: policy: "+tt.safe) || !strings.Contains(err.Error(), tt.detail) {
				t.Errorf("Error() = %q, want the prefix, %q and %q", err, tt.safe, tt.detail)
			}
		})
	}
}

func TestDefaultPolicy(t *testing.T) {
	t.Parallel()
	p := licence.DefaultPolicy()
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	if p.Unlisted != licence.VerdictReview {
		t.Errorf("Unlisted = %q", p.Unlisted)
	}
	// Every GNU and CC-BY-NC id is covered by a list, so none falls to Unlisted.
	for _, id := range []string{"GPL-1.0-or-later", "GPL-3.0-only", "AGPL-1.0-only", "AGPL-3.0-or-later", "LGPL-2.0-only", "LGPL-3.0-or-later", "CDDL-1.1", "CC-BY-NC-ND-3.0"} {
		if r := p.Evaluate(id); strings.Contains(r.Reason, "on no list") {
			t.Errorf("%s is on no list: %s", id, r.Reason)
		}
	}
}

func TestWorst(t *testing.T) {
	t.Parallel()
	A, R, U, D := licence.VerdictAllowed, licence.VerdictReview, licence.VerdictUnknown, licence.VerdictDenied
	tests := []struct {
		in   []licence.Verdict
		want licence.Verdict
	}{
		{nil, A},
		{[]licence.Verdict{A}, A},
		{[]licence.Verdict{A, R}, R},
		{[]licence.Verdict{R, U, A}, U},
		{[]licence.Verdict{U, D, R}, D},
		{[]licence.Verdict{D, U}, D},
		{[]licence.Verdict{A, "weird"}, U},
		{[]licence.Verdict{"weird", D}, D},
		{[]licence.Verdict{"", R}, U},
	}
	for _, tt := range tests {
		if got := licence.Worst(tt.in...); got != tt.want {
			t.Errorf("Worst(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
