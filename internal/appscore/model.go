package appscore

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Severity is a finding's severity.
type Severity string

// The severities, most severe first.
const (
	Critical Severity = "critical"
	High     Severity = "high"
	Medium   Severity = "medium"
	Low      Severity = "low"
	Info     Severity = "info"
)

// Severities lists the severities, most severe first.
var Severities = []Severity{Critical, High, Medium, Low, Info}

// rank orders severities: 0 for critical, 4 for info, -1 for an unknown one.
func (s Severity) rank() int { return slices.Index(Severities, s) }

// Valid reports whether s is one of Severities.
func (s Severity) Valid() bool { return s.rank() >= 0 }

// ParseSeverity returns the severity named s (critical, high, medium, low or info, in
// any case).
func ParseSeverity(s string) (Severity, error) {
	sev := Severity(strings.ToLower(strings.TrimSpace(s)))
	if !sev.Valid() {
		return "", fmt.Errorf("appscore: unknown severity %q (want critical, high, medium, low or info)", clip(s))
	}
	return sev, nil
}

// Label is the name of a finding type as a page shows it, in English and Simplified
// Chinese.
type Label struct {
	EN   string `yaml:"en" json:"en"`
	ZhCN string `yaml:"zh-CN" json:"zh-CN"`
}

// Rule is how much a finding type takes off: Deductions per severity for each finding,
// and at most Cap in all for the type.
type Rule struct {
	Label      Label            `yaml:"label"`
	Deductions map[Severity]int `yaml:"deductions"`
	Cap        int              `yaml:"cap"`
}

// Grades are the least scores of grades A and B; below B is C.
type Grades struct {
	A int `yaml:"a"`
	B int `yaml:"b"`
}

// Model is a scoring model: a Rule per finding type, Other for types it does not list,
// the grade thresholds and the days a rectification order gives.
type Model struct {
	Grades            Grades          `yaml:"grades"`
	RectificationDays int             `yaml:"rectification_days"`
	Types             map[string]Rule `yaml:"types"`
	// Other scores finding types the model does not list, so that no finding is free
	// because nobody thought of it.
	Other Rule `yaml:"other"`
}

// MaxModelSize bounds a model file.
const MaxModelSize = 1 << 20

// MaxScore is the score of an app without findings.
const MaxScore = 100

// typePattern is the shape of a finding type id: dotted lower-case words.
var typePattern = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$`)

//go:embed default.yaml
var defaultYAML []byte

// DefaultModel returns the built-in model (default.yaml in this package).
func DefaultModel() Model {
	m, err := ParseModel(defaultYAML)
	if err != nil {
		panic("appscore: the built-in model is invalid: " + err.Error())
	}
	return m
}

// DefaultModelYAML returns the built-in model's YAML, a starting point for a model of
// one's own.
func DefaultModelYAML() []byte { return bytes.Clone(defaultYAML) }

// ModelError is a model refused by Validate or ParseModel, with the field at fault.
type ModelError struct {
	Field  string // "types.apk.debuggable.deductions.high", "grades", "" for the whole document
	Reason string
}

func (e *ModelError) Error() string {
	if e.Field == "" {
		return "appscore: model: " + e.Reason
	}
	return "appscore: model: " + e.Field + ": " + e.Reason
}

func modelErr(field, format string, a ...any) error {
	return &ModelError{Field: field, Reason: fmt.Sprintf(format, a...)}
}

// ParseModel reads a model from YAML, strictly: unknown fields, duplicate keys, more than
// one document and anything Validate refuses are errors.
func ParseModel(data []byte) (Model, error) {
	if len(data) > MaxModelSize {
		return Model{}, modelErr("", "%d bytes, more than %d", len(data), MaxModelSize)
	}
	var raw struct {
		Grades *struct {
			A whole `yaml:"a"`
			B whole `yaml:"b"`
		} `yaml:"grades"`
		RectificationDays *whole               `yaml:"rectification_days"`
		Types             map[string]rawRule   `yaml:"types"`
		Other             *rawRule             `yaml:"other"`
		Extra             map[string]yaml.Node `yaml:",inline"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&raw); err != nil {
		if errors.Is(err, io.EOF) {
			return Model{}, modelErr("", "empty document")
		}
		return Model{}, modelErr("", "%s", yamlReason(err))
	}
	var more yaml.Node
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		return Model{}, modelErr("", "more than one YAML document")
	}
	if k, ok := firstKey(raw.Extra); ok {
		return Model{}, modelErr(clip(k), "unknown field (want grades, rectification_days, types, other)")
	}
	switch {
	case raw.Grades == nil:
		return Model{}, modelErr("grades", "required (a: and b:, the least scores of grades A and B)")
	case raw.RectificationDays == nil:
		return Model{}, modelErr("rectification_days", "required")
	case raw.Other == nil:
		return Model{}, modelErr("other", "required: the rule for finding types the model does not list")
	}
	m := Model{Grades: Grades{A: int(raw.Grades.A), B: int(raw.Grades.B)}, RectificationDays: int(*raw.RectificationDays),
		Types: map[string]Rule{}}
	var err error
	if m.Other, err = raw.Other.rule("other"); err != nil {
		return Model{}, err
	}
	for name, r := range raw.Types {
		if m.Types[name], err = r.rule("types." + clip(name)); err != nil {
			return Model{}, err
		}
	}
	if err := m.Validate(); err != nil {
		return Model{}, err
	}
	return m, nil
}

// rawRule is a Rule as written, its severities still text, so that an unknown one is
// reported by name.
type rawRule struct {
	Label      *Label               `yaml:"label"`
	Deductions map[string]whole     `yaml:"deductions"`
	Cap        *whole               `yaml:"cap"`
	Extra      map[string]yaml.Node `yaml:",inline"`
}

// firstKey returns the first of m's keys in order, and false when m is empty.
func firstKey[V any](m map[string]V) (string, bool) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) == 0 {
		return "", false
	}
	return keys[0], true
}

func (r rawRule) rule(field string) (Rule, error) {
	if k, ok := firstKey(r.Extra); ok {
		return Rule{}, modelErr(field+"."+clip(k), "unknown field (want label, deductions, cap)")
	}
	if r.Label == nil {
		return Rule{}, modelErr(field+".label", "required (en: and zh-CN:)")
	}
	if r.Cap == nil {
		return Rule{}, modelErr(field+".cap", "required: the most the type can take off in all")
	}
	out := Rule{Label: *r.Label, Cap: int(*r.Cap), Deductions: map[Severity]int{}}
	for s, n := range r.Deductions {
		if !Severity(s).Valid() {
			return Rule{}, modelErr(field+".deductions", "unknown severity %q (want critical, high, medium, low, info)", clip(s))
		}
		out.Deductions[Severity(s)] = int(n)
	}
	return out, nil
}

// whole is a number of points or days: a YAML integer, never a fraction, which yaml.v3
// would otherwise truncate quietly (2.5 → 2).
type whole int

func (w *whole) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
		return fmt.Errorf("line %d: %q is not a whole number", n.Line, clip(n.Value))
	}
	var i int
	if err := n.Decode(&i); err != nil {
		return fmt.Errorf("line %d: %q is not a whole number", n.Line, clip(n.Value))
	}
	if i < -1_000_000 || i > 1_000_000 {
		return fmt.Errorf("line %d: %d is out of range", n.Line, i)
	}
	*w = whole(i)
	return nil
}

// Validate checks a model: thresholds in order within 0–100, rectification days 1–365,
// every rule labelled in both languages with a deduction for every severity, none
// negative, a cap between 0 and 100, type ids of dotted lower-case words.
func (m Model) Validate() error {
	if m.Grades.A < 1 || m.Grades.A > MaxScore {
		return modelErr("grades.a", "%d is not between 1 and %d", m.Grades.A, MaxScore)
	}
	if m.Grades.B < 0 || m.Grades.B >= m.Grades.A {
		return modelErr("grades.b", "%d must be at least 0 and below grades.a (%d)", m.Grades.B, m.Grades.A)
	}
	if m.RectificationDays < 1 || m.RectificationDays > 365 {
		return modelErr("rectification_days", "%d is not between 1 and 365", m.RectificationDays)
	}
	if err := m.Other.validate("other"); err != nil {
		return err
	}
	names := make([]string, 0, len(m.Types))
	for name := range m.Types {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if !typePattern.MatchString(name) || len(name) > 64 {
			return modelErr("types."+clip(name), "not a finding type id (dotted lower-case words such as apk.debuggable)")
		}
		if err := m.Types[name].validate("types." + name); err != nil {
			return err
		}
	}
	return nil
}

func (r Rule) validate(field string) error {
	if strings.TrimSpace(r.Label.EN) == "" || strings.TrimSpace(r.Label.ZhCN) == "" {
		return modelErr(field+".label", "both en and zh-CN are required")
	}
	if len(r.Label.EN) > 200 || len(r.Label.ZhCN) > 200 {
		return modelErr(field+".label", "longer than 200 bytes")
	}
	for s := range r.Deductions {
		if !s.Valid() {
			return modelErr(field+".deductions", "unknown severity %q (want critical, high, medium, low, info)", clip(string(s)))
		}
	}
	for _, s := range Severities {
		n, ok := r.Deductions[s]
		switch {
		case !ok:
			return modelErr(field+".deductions."+string(s), "required: every severity needs a deduction (0 is allowed)")
		case n < 0:
			return modelErr(field+".deductions."+string(s), "%d is negative: a finding never adds points", n)
		case n > MaxScore:
			return modelErr(field+".deductions."+string(s), "%d is more than %d", n, MaxScore)
		}
	}
	if r.Cap < 0 || r.Cap > MaxScore {
		return modelErr(field+".cap", "%d is not between 0 and %d", r.Cap, MaxScore)
	}
	return nil
}

// rule returns the rule of a finding type and whether the model lists it.
func (m Model) rule(typ string) (Rule, bool) {
	r, ok := m.Types[typ]
	if !ok {
		return m.Other, false
	}
	return r, true
}

// YAML writes the model as ParseModel reads it.
func (m Model) YAML() ([]byte, error) {
	type rule struct {
		Label      Label            `yaml:"label"`
		Deductions map[Severity]int `yaml:"deductions,flow"`
		Cap        int              `yaml:"cap"`
	}
	out := struct {
		Grades            Grades          `yaml:"grades"`
		RectificationDays int             `yaml:"rectification_days"`
		Types             map[string]rule `yaml:"types"`
		Other             rule            `yaml:"other"`
	}{Grades: m.Grades, RectificationDays: m.RectificationDays, Types: map[string]rule{},
		Other: rule(m.Other)}
	for k, r := range m.Types {
		out.Types[k] = rule(r)
	}
	return yaml.Marshal(out)
}

// yamlReason is a YAML error without the package's prefix and the Go types it names.
func yamlReason(err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs := make([]string, 0, len(te.Errors))
		for _, e := range te.Errors {
			if i := strings.Index(e, " into "); i >= 0 {
				e = e[:i]
			}
			e = strings.NewReplacer("cannot unmarshal !!seq", "a list is not allowed here",
				"cannot unmarshal !!map", "a mapping is not allowed here",
				"cannot unmarshal !!str", "text is not allowed here").Replace(e)
			msgs = append(msgs, strings.TrimSpace(e))
		}
		return clip(strings.Join(msgs, "; "))
	}
	return clip(strings.TrimPrefix(err.Error(), "yaml: "))
}

// clip shortens text from a model file before it goes into a message.
func clip(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
	if r := []rune(s); len(r) > 120 {
		s = string(r[:120]) + "…"
	}
	return s
}
