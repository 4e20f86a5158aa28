package incident

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// The phases of an emergency response, in the order a plan's steps and checklist follow.
const (
	PhaseDetect    = "detect"    // 发现与研判
	PhaseContain   = "contain"   // 遏制
	PhaseEradicate = "eradicate" // 根除
	PhaseRecover   = "recover"   // 恢复
	PhaseReport    = "report"    // 报告与通报
	PhaseReview    = "review"    // 总结与改进
)

// Phases lists the phases in order.
var Phases = []string{PhaseDetect, PhaseContain, PhaseEradicate, PhaseRecover, PhaseReport, PhaseReview}

// Limits of a plan's content.
const (
	MaxPlanSize    = 256 << 10 // bytes of a plan's YAML
	maxRoles       = 20
	maxPeople      = 10 // per role
	maxSteps       = 200
	maxItems       = 200
	maxTitleRunes  = 200
	maxTextRunes   = 2000
	maxPersonRunes = 100
)

// Text is a text in both languages of the product. A template has both; a hospital's
// own plan may be written in one of them.
type Text struct {
	EN string `json:"en" yaml:"en"`
	ZH string `json:"zh-CN" yaml:"zh-CN"`
}

// In returns the text in lang (i18n.EN or i18n.ZhCN), or in the other language when it
// has none in lang.
func (t Text) In(lang string) string {
	if lang == "zh-CN" {
		if t.ZH != "" {
			return t.ZH
		}
		return t.EN
	}
	if t.EN != "" {
		return t.EN
	}
	return t.ZH
}

// Role is a part people play in a response (incident commander, IT, security, privacy
// and legal, communications, clinical lead …).
type Role struct {
	ID     string `json:"id" yaml:"id"`
	Name   Text   `json:"name" yaml:"name"`
	Duties Text   `json:"duties" yaml:"duties"`
	// ContactHint says who in a hospital usually holds the role (信息科科长, 医务部主任):
	// the placeholder a template offers for a contact.
	ContactHint Text `json:"contact_hint" yaml:"contact_hint"`
	// People are who holds the role in an adopted plan, in the order to call them;
	// a template names nobody.
	People []Person `json:"people" yaml:"people,omitempty"`
}

// Person is someone named for a role: a medguard user, or a name and a telephone number
// (or both).
type Person struct {
	Username string `json:"username,omitempty" yaml:"username,omitempty"`
	Name     string `json:"name,omitempty" yaml:"name,omitempty"`
	Phone    string `json:"phone,omitempty" yaml:"phone,omitempty"`
}

// Step is one step of the response, done by a role in a phase.
type Step struct {
	Phase string `json:"phase" yaml:"phase"`
	Role  string `json:"role" yaml:"role"`
	Text  Text   `json:"text" yaml:"text"`
}

// Item is one item of a plan's checklist: something concrete that is done, or not, during
// an incident (isolate the affected hosts, report to the authorities …). ID names it
// within the plan.
type Item struct {
	ID    string `json:"id" yaml:"id"`
	Phase string `json:"phase" yaml:"phase"`
	Role  string `json:"role" yaml:"role"`
	Text  Text   `json:"text" yaml:"text"`
}

// Content is what a plan says: its title, summary, roles, steps and checklist. A template
// is content; a hospital adopts it as a plan and edits it.
type Content struct {
	Title     Text   `json:"title" yaml:"title"`
	Summary   Text   `json:"summary" yaml:"summary"`
	Roles     []Role `json:"roles" yaml:"roles"`
	Steps     []Step `json:"steps" yaml:"steps"`
	Checklist []Item `json:"checklist" yaml:"checklist"`
}

// Template is a built-in plan template (ransomware, patient-data leak, HIS outage …).
type Template struct {
	ID      string `json:"id" yaml:"id"`
	Content `yaml:",inline"`
}

// PlanError is content refused by ParsePlan or by a plan's update, with the field at
// fault and the catalogue key that says why.
type PlanError struct {
	Field  string // "steps[3].role", "" for the whole document
	Reason string // English
	Key    string // catalogue key of the reason ("plan.error.…")
	Args   []any  // the key's arguments: never a user-supplied value
}

func (e *PlanError) Error() string {
	if e.Field == "" {
		return "incident: plan: " + e.Reason
	}
	return "incident: plan: " + e.Field + ": " + e.Reason
}

func planErr(field, key, format string, a ...any) *PlanError {
	return &PlanError{Field: field, Key: key, Reason: fmt.Sprintf(format, a...), Args: a}
}

var idPattern = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,39}$`)

// ParsePlan reads a plan template from YAML, strictly: unknown fields, duplicate keys,
// more than one document, anything over MaxPlanSize and content that Check with both
// languages required refuses are errors.
func ParsePlan(data []byte) (Template, error) {
	if len(data) > MaxPlanSize {
		return Template{}, planErr("", "plan.error.too_big", "%d bytes, more than %d", len(data), MaxPlanSize)
	}
	if bytes.Contains(data, []byte("*")) && anchorsUsed(data) {
		// Aliases make a small document large (and a template has no use for them).
		return Template{}, planErr("", "plan.error.yaml", "YAML anchors and aliases are not allowed")
	}
	var t Template
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&t); err != nil {
		if errors.Is(err, io.EOF) {
			return Template{}, planErr("", "plan.error.yaml", "empty document")
		}
		return Template{}, planErr("", "plan.error.yaml", "not a plan template: %s", yamlReason(err))
	}
	var more yaml.Node
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		return Template{}, planErr("", "plan.error.yaml", "more than one YAML document")
	}
	if !idPattern.MatchString(t.ID) {
		return Template{}, planErr("id", "plan.error.id", "must be lower-case letters, digits, - and _ (at most 40), starting with a letter")
	}
	for i, r := range t.Roles {
		if len(r.People) > 0 {
			return Template{}, planErr(fmt.Sprintf("roles[%d].people", i), "plan.error.template_people", "a template names nobody")
		}
	}
	c, err := Check(t.Content, true)
	if err != nil {
		return Template{}, err
	}
	t.Content = c
	return t, nil
}

// anchorsUsed reports whether data holds a YAML alias node.
func anchorsUsed(data []byte) bool {
	var n yaml.Node
	if yaml.Unmarshal(data, &n) != nil {
		return false // the decoder reports it
	}
	var walk func(*yaml.Node) bool
	walk = func(n *yaml.Node) bool {
		if n.Kind == yaml.AliasNode || n.Anchor != "" {
			return true
		}
		return slices.ContainsFunc(n.Content, walk)
	}
	return walk(&n)
}

// yamlReason is a YAML error without the package's prefix and the Go types it names.
func yamlReason(err error) string {
	msg := err.Error()
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs := make([]string, 0, len(te.Errors))
		for _, e := range te.Errors {
			if i := strings.Index(e, " into "); i >= 0 {
				e = e[:i]
			}
			msgs = append(msgs, e)
		}
		msg = strings.Join(msgs, "; ")
	}
	return clip(strings.TrimPrefix(msg, "yaml: "))
}

// clip makes s printable and at most 120 characters long.
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

// Check validates and normalises plan content (spaces trimmed): every text valid and
// within its length, both languages present when both is set (a template) or at least
// one otherwise, role and item ids well formed and unique, every step and item naming a
// role of the plan and a known phase, steps and items grouped by phase in order, people
// named by a username or a name, telephone numbers that are numbers.
func Check(c Content, both bool) (Content, error) {
	var err error
	if c.Title, err = checkText("title", c.Title, maxTitleRunes, both); err != nil {
		return c, err
	}
	if c.Summary, err = checkText("summary", c.Summary, maxTextRunes, both); err != nil {
		return c, err
	}
	switch {
	case len(c.Roles) == 0:
		return c, planErr("roles", "plan.error.required", "required: at least one role")
	case len(c.Roles) > maxRoles:
		return c, planErr("roles", "plan.error.too_many", "at most %d", maxRoles)
	case len(c.Steps) == 0:
		return c, planErr("steps", "plan.error.required", "required: at least one step")
	case len(c.Steps) > maxSteps:
		return c, planErr("steps", "plan.error.too_many", "at most %d", maxSteps)
	case len(c.Checklist) == 0:
		return c, planErr("checklist", "plan.error.required", "required: at least one item")
	case len(c.Checklist) > maxItems:
		return c, planErr("checklist", "plan.error.too_many", "at most %d", maxItems)
	}
	c.Roles, c.Steps, c.Checklist = slices.Clone(c.Roles), slices.Clone(c.Steps), slices.Clone(c.Checklist)
	roles := map[string]bool{}
	for i := range c.Roles {
		r := &c.Roles[i]
		f := fmt.Sprintf("roles[%d]", i)
		r.ID = strings.TrimSpace(r.ID)
		if !idPattern.MatchString(r.ID) {
			return c, planErr(f+".id", "plan.error.id", "must be lower-case letters, digits, - and _ (at most 40), starting with a letter")
		}
		if roles[r.ID] {
			return c, planErr(f+".id", "plan.error.duplicate_id", "names a role twice")
		}
		roles[r.ID] = true
		if r.Name, err = checkText(f+".name", r.Name, maxTitleRunes, both); err != nil {
			return c, err
		}
		if r.Duties, err = checkText(f+".duties", r.Duties, maxTextRunes, both); err != nil {
			return c, err
		}
		if r.ContactHint, err = checkText(f+".contact_hint", r.ContactHint, maxTitleRunes, both); err != nil && (both || !emptyErr(err)) {
			return c, err
		}
		if len(r.People) > maxPeople {
			return c, planErr(f+".people", "plan.error.too_many", "at most %d", maxPeople)
		}
		r.People = slices.Clone(r.People)
		for j := range r.People {
			if r.People[j], err = checkPerson(fmt.Sprintf("%s.people[%d]", f, j), r.People[j]); err != nil {
				return c, err
			}
		}
	}
	last := 0
	for i := range c.Steps {
		s := &c.Steps[i]
		f := fmt.Sprintf("steps[%d]", i)
		if last, err = checkPhase(f+".phase", s.Phase, last); err != nil {
			return c, err
		}
		if !roles[s.Role] {
			return c, planErr(f+".role", "plan.error.unknown_role", "names no role of the plan")
		}
		if s.Text, err = checkText(f+".text", s.Text, maxTextRunes, both); err != nil {
			return c, err
		}
	}
	last = 0
	items := map[string]bool{}
	for i := range c.Checklist {
		it := &c.Checklist[i]
		f := fmt.Sprintf("checklist[%d]", i)
		it.ID = strings.TrimSpace(it.ID)
		if !idPattern.MatchString(it.ID) {
			return c, planErr(f+".id", "plan.error.id", "must be lower-case letters, digits, - and _ (at most 40), starting with a letter")
		}
		if items[it.ID] {
			return c, planErr(f+".id", "plan.error.duplicate_id", "names an item twice")
		}
		items[it.ID] = true
		if last, err = checkPhase(f+".phase", it.Phase, last); err != nil {
			return c, err
		}
		if !roles[it.Role] {
			return c, planErr(f+".role", "plan.error.unknown_role", "names no role of the plan")
		}
		if it.Text, err = checkText(f+".text", it.Text, maxTextRunes, both); err != nil {
			return c, err
		}
	}
	return c, nil
}

// checkPhase checks that phase is known and not before the phase at index last, and
// returns its index.
func checkPhase(field, phase string, last int) (int, error) {
	i := slices.Index(Phases, phase)
	if i < 0 {
		return last, planErr(field, "plan.error.phase", "must be one of %s", strings.Join(Phases, ", "))
	}
	if i < last {
		return last, planErr(field, "plan.error.phase_order", "comes after a later phase (%s); keep the phases in order", Phases[last])
	}
	return i, nil
}

func emptyErr(err error) bool {
	var pe *PlanError
	return errors.As(err, &pe) && pe.Key == "plan.error.required"
}

// checkText trims t and checks it: valid printable text within max runes, both
// languages when both is set, at least one otherwise.
func checkText(field string, t Text, max int, both bool) (Text, error) {
	var err error
	if t.EN, err = checkString(field+".en", t.EN, max); err != nil {
		return t, err
	}
	if t.ZH, err = checkString(field+".zh-CN", t.ZH, max); err != nil {
		return t, err
	}
	switch {
	case both && t.EN == "":
		return t, planErr(field+".en", "plan.error.required", "required")
	case both && t.ZH == "":
		return t, planErr(field+".zh-CN", "plan.error.required", "required")
	case t.EN == "" && t.ZH == "":
		return t, planErr(field, "plan.error.required", "required (in English or Chinese)")
	}
	return t, nil
}

func checkString(field, s string, max int) (string, error) {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }) {
		return s, planErr(field, "plan.error.text", "is not valid text")
	}
	if utf8.RuneCountInString(s) > max {
		return s, planErr(field, "plan.error.too_long", "is longer than %d characters", max)
	}
	return s, nil
}

func checkPerson(field string, p Person) (Person, error) {
	var err error
	if p.Username, err = checkString(field+".username", p.Username, maxPersonRunes); err != nil {
		return p, err
	}
	if p.Name, err = checkString(field+".name", p.Name, maxPersonRunes); err != nil {
		return p, err
	}
	if p.Phone, err = checkString(field+".phone", p.Phone, 30); err != nil {
		return p, err
	}
	if p.Username == "" && p.Name == "" {
		return p, planErr(field, "plan.error.person", "names nobody (a username or a name is required)")
	}
	if strings.ContainsFunc(p.Username, unicode.IsSpace) {
		return p, planErr(field+".username", "plan.error.username", "is not a username")
	}
	if p.Phone != "" && (strings.Trim(p.Phone, "+0123456789- ()") != "" || len(strings.Trim(p.Phone, "+- ()")) < 3) {
		return p, planErr(field+".phone", "plan.error.phone", "is not a telephone number")
	}
	return p, nil
}

//go:embed plans/*.yaml
var templateFS embed.FS

// BuiltinTemplates parses the templates medguard ships (plans/*.yaml), ordered by id.
func BuiltinTemplates() ([]Template, error) {
	names, err := fs.Glob(templateFS, "plans/*.yaml")
	if err != nil {
		return nil, fmt.Errorf("incident: templates: %w", err)
	}
	out := make([]Template, 0, len(names))
	for _, n := range names {
		b, err := templateFS.ReadFile(n)
		if err != nil {
			return nil, fmt.Errorf("incident: template %s: %w", n, err)
		}
		t, err := ParsePlan(b)
		if err != nil {
			return nil, fmt.Errorf("incident: template %s: %w", n, err)
		}
		if want := strings.TrimSuffix(strings.TrimPrefix(n, "plans/"), ".yaml"); t.ID != want {
			return nil, fmt.Errorf("incident: template %s: id %q, want %q (its file name)", n, t.ID, want)
		}
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// TemplateYAML writes t as ParsePlan reads it: a hospital's starting point for a
// template of its own.
func TemplateYAML(t Template) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(t); err != nil {
		return nil, fmt.Errorf("incident: template yaml: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("incident: template yaml: %w", err)
	}
	return buf.Bytes(), nil
}
