package incident

import (
	"bytes"
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
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
	return clipPrintable(strings.TrimPrefix(msg, "yaml: "))
}

// clipPrintable makes s printable and at most 120 characters long.
func clipPrintable(s string) string {
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

// The states of a stored plan.
const (
	PlanDraft    = "draft"    // adopted or edited, not approved in this version
	PlanApproved = "approved" // the version in force
)

// PlanOptions configures Plans.
type PlanOptions struct {
	// DrillInterval is how long a plan may go without a drill before Sweep raises an
	// alert (default one year).
	DrillInterval time.Duration
	// ReviewInterval sets an approved plan's review date when it has none (default one
	// year after approval).
	ReviewInterval time.Duration
	// Alerts, optional, raises Sweep's alerts.
	Alerts Raiser
	Now    func() time.Time
}

// Plans keeps the emergency plans of each organisation, the checklists run from them
// for incidents, and their drills.
type Plans struct {
	db        *store.DB
	trail     *trail.Log
	templates []Template
	opt       PlanOptions
}

// NewPlans returns the plans on db. It panics if the built-in templates do not parse
// (they are embedded: a test catches it first).
func NewPlans(db *store.DB, tl *trail.Log, opt PlanOptions) *Plans {
	ts, err := BuiltinTemplates()
	if err != nil {
		panic(err)
	}
	if opt.DrillInterval <= 0 {
		opt.DrillInterval = 365 * 24 * time.Hour
	}
	if opt.ReviewInterval <= 0 {
		opt.ReviewInterval = 365 * 24 * time.Hour
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Plans{db: db, trail: tl, templates: ts, opt: opt}
}

func (p *Plans) now() time.Time { return p.opt.Now().UTC().Truncate(time.Microsecond) }

// Templates returns the built-in templates, ordered by id.
func (p *Plans) Templates() []Template { return slices.Clone(p.templates) }

// Template returns the built-in template id.
func (p *Plans) Template(id string) (Template, error) {
	for _, t := range p.templates {
		if t.ID == id {
			return t, nil
		}
	}
	return Template{}, problem.NotFound("plan template")
}

// Plan is an organisation's emergency plan: a template adopted and edited, with its
// version and approval.
type Plan struct {
	ID         int64   `json:"id"`
	OrgID      int64   `json:"org_id"`
	OrgName    string  `json:"org"`
	TemplateID string  `json:"template_id"`
	Content    Content `json:"content"`
	// Version is raised by every edit; an edit of an approved plan makes it a draft.
	Version    int        `json:"version"`
	Status     string     `json:"status"` // draft, approved
	ApprovedBy string     `json:"approved_by,omitempty"`
	ApprovedAt *time.Time `json:"approved_at,omitempty"`
	ReviewDue  *time.Time `json:"review_due,omitempty"`
	// LastDrill is the day of the plan's latest drill (nil: never drilled).
	LastDrill *time.Time `json:"last_drill,omitempty"`
	CreatedBy string     `json:"created_by"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedBy string     `json:"updated_by"`
	UpdatedAt time.Time  `json:"updated_at"`
}

// invalid turns content refused by Check into a client-safe problem. It is built as a
// struct rather than by problem.Invalid because its catalogue key is the PlanError's
// (every plan.error key is checked against both catalogues by TestPlanKeysCatalogued).
func invalid(err error) error {
	var pe *PlanError
	if !errors.As(err, &pe) {
		return err
	}
	m := i18n.M(pe.Key, pe.Args...)
	return &problem.Error{Kind: problem.KindInvalid, Code: "invalid", Field: pe.Field, Message: pe.Reason, Msg: &m}
}

const planColumns = `p.id, p.org_id, o.name, p.template_id, p.content, p.version, p.status, p.approved_by, p.approved_at,
	p.review_due, (SELECT MAX(d.held_on) FROM plan_drills d WHERE d.plan_id = p.id), p.created_by, p.created_at,
	p.updated_by, p.updated_at`

func scanPlan(sc interface{ Scan(...any) error }) (Plan, error) {
	var pl Plan
	var content string
	var approved, review, drill, created, updated store.Time
	if err := sc.Scan(&pl.ID, &pl.OrgID, &pl.OrgName, &pl.TemplateID, &content, &pl.Version, &pl.Status, &pl.ApprovedBy,
		&approved, &review, &drill, &pl.CreatedBy, &created, &pl.UpdatedBy, &updated); err != nil {
		return Plan{}, err
	}
	if err := json.Unmarshal([]byte(content), &pl.Content); err != nil {
		return Plan{}, fmt.Errorf("plan %d content: %w", pl.ID, err)
	}
	pl.ApprovedAt, pl.ReviewDue, pl.LastDrill, pl.CreatedAt, pl.UpdatedAt = approved.Ptr(), review.Ptr(), drill.Ptr(), created.Time, updated.Time
	return pl, nil
}

// get reads plan id as a sees it (another organisation's plan is not found).
func (p *Plans) get(ctx context.Context, q store.Querier, a actor.Actor, id int64) (Plan, error) {
	cond, arg := a.SeesSQL("o.path")
	pl, err := scanPlan(q.QueryRowContext(ctx, `SELECT `+planColumns+` FROM plans p JOIN orgs o ON o.id = p.org_id
		WHERE p.id = ? AND `+cond, id, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return Plan{}, problem.NotFound("plan")
	}
	if err != nil {
		return Plan{}, fmt.Errorf("incident: plan %d: %w", id, err)
	}
	return pl, nil
}

// Plan returns plan id.
func (p *Plans) Plan(ctx context.Context, a actor.Actor, id int64) (Plan, error) {
	return p.get(ctx, p.db, a, id)
}

// PlanQuery narrows Plans; zero fields match everything.
type PlanQuery struct {
	OrgID      int64
	Status     string
	TemplateID string
}

// Plans lists the plans a sees, by organisation and title.
func (p *Plans) Plans(ctx context.Context, a actor.Actor, q PlanQuery) ([]Plan, error) {
	cond, arg := a.SeesSQL("o.path")
	where, args := []string{cond}, []any{arg}
	if q.OrgID != 0 {
		where, args = append(where, "p.org_id = ?"), append(args, q.OrgID)
	}
	if q.Status != "" {
		where, args = append(where, "p.status = ?"), append(args, q.Status)
	}
	if q.TemplateID != "" {
		where, args = append(where, "p.template_id = ?"), append(args, q.TemplateID)
	}
	rows, err := p.db.QueryContext(ctx, `SELECT `+planColumns+` FROM plans p JOIN orgs o ON o.id = p.org_id
		WHERE `+strings.Join(where, " AND ")+` ORDER BY o.name, p.title, p.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("incident: plans: %w", err)
	}
	defer rows.Close()
	out := []Plan{}
	for rows.Next() {
		pl, err := scanPlan(rows)
		if err != nil {
			return nil, fmt.Errorf("incident: plans: %w", err)
		}
		out = append(out, pl)
	}
	return out, rows.Err()
}

func listTitle(c Content) string {
	if c.Title.ZH != "" {
		return c.Title.ZH
	}
	return c.Title.EN
}

// AdoptTemplate copies template templateID into a draft plan (version 1) of organisation
// orgID, for the organisation to name its people, edit and approve. An organisation
// adopts a template once: adopting it again is a conflict.
func (p *Plans) AdoptTemplate(ctx context.Context, a actor.Actor, orgID int64, templateID string) (Plan, error) {
	t, err := p.Template(templateID)
	if err != nil {
		return Plan{}, err
	}
	var id int64
	err = p.db.InTx(ctx, func(tx *store.Tx) error {
		o, err := org.Visible(ctx, tx, a, orgID)
		if err != nil {
			return err
		}
		var exists int64
		err = tx.QueryRowContext(ctx, `SELECT id FROM plans WHERE org_id = ? AND template_id = ?`, o.ID, t.ID).Scan(&exists)
		if err == nil {
			return problem.Conflict("this organisation has adopted that template already (plan %d)", exists).WithMsg("plan.error.adopted", exists)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("incident: adopt: %w", err)
		}
		content, err := json.Marshal(t.Content)
		if err != nil {
			return fmt.Errorf("incident: adopt: %w", err)
		}
		now := p.now()
		if err := tx.QueryRowContext(ctx, `INSERT INTO plans (org_id, template_id, title, content, version, status, created_by,
			created_at, updated_by, updated_at) VALUES (?, ?, ?, ?, 1, 'draft', ?, ?, ?, ?) RETURNING id`,
			o.ID, t.ID, listTitle(t.Content), string(content), a.Username, now, a.Username, now).Scan(&id); err != nil {
			return fmt.Errorf("incident: adopt: %w", err)
		}
		_, err = p.trail.Append(ctx, tx, a, trail.Event{Action: "plan.adopt", ObjectType: "plan", ObjectID: itoa(id), OrgID: o.ID,
			Summary: fmt.Sprintf("emergency plan %q adopted from template %s", t.Title.EN, t.ID),
			Msg:     trail.Msg("trail.summary.plan.adopt", t.Title.ZH, t.ID)})
		return err
	})
	if err != nil {
		return Plan{}, err
	}
	return p.Plan(ctx, a, id)
}

// PlanUpdate is an edit of a plan.
type PlanUpdate struct {
	// Version is the version the editor saw: an edit of another version is a conflict.
	Version int     `json:"version"`
	Content Content `json:"content"`
	// ReviewDue, optional, sets the date of the next review.
	ReviewDue *time.Time `json:"review_due,omitempty"`
}

// UpdatePlan replaces the content of plan id (roles and their people, steps, checklist),
// checked by Check in one language at least. The version goes up by one and the plan is
// a draft until approved again; the approved versions stay in PlanVersions.
func (p *Plans) UpdatePlan(ctx context.Context, a actor.Actor, id int64, in PlanUpdate) (Plan, error) {
	c, err := Check(in.Content, false)
	if err != nil {
		return Plan{}, invalid(err)
	}
	content, err := json.Marshal(c)
	if err != nil {
		return Plan{}, fmt.Errorf("incident: update plan: %w", err)
	}
	err = p.db.InTx(ctx, func(tx *store.Tx) error {
		pl, err := p.get(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if in.Version != pl.Version {
			return problem.Conflict("the plan was changed meanwhile (version %d, not %d)", pl.Version, in.Version).WithMsg("plan.error.version", pl.Version)
		}
		review := pl.ReviewDue
		if in.ReviewDue != nil {
			r := in.ReviewDue.UTC()
			review = &r
		}
		if _, err := tx.ExecContext(ctx, `UPDATE plans SET title = ?, content = ?, version = version + 1, status = 'draft',
			review_due = ?, updated_by = ?, updated_at = ? WHERE id = ?`,
			listTitle(c), string(content), review, a.Username, p.now(), id); err != nil {
			return fmt.Errorf("incident: update plan: %w", err)
		}
		_, err = p.trail.Append(ctx, tx, a, trail.Event{Action: "plan.update", ObjectType: "plan", ObjectID: itoa(id), OrgID: pl.OrgID,
			Summary: fmt.Sprintf("emergency plan %q edited: version %d", listTitle(c), pl.Version+1),
			Msg:     trail.Msg("trail.summary.plan.update", listTitle(c), pl.Version+1), Before: pl.Content, After: c})
		return err
	})
	if err != nil {
		return Plan{}, err
	}
	return p.Plan(ctx, a, id)
}

// ApprovePlan approves version version of plan id (the version the approver read: another
// is a conflict) and keeps it in PlanVersions. Without a review date, or with one already
// past, the next review is ReviewInterval after the approval.
func (p *Plans) ApprovePlan(ctx context.Context, a actor.Actor, id int64, version int) (Plan, error) {
	err := p.db.InTx(ctx, func(tx *store.Tx) error {
		pl, err := p.get(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if version != pl.Version {
			return problem.Conflict("the plan was changed meanwhile (version %d, not %d)", pl.Version, version).WithMsg("plan.error.version", pl.Version)
		}
		if pl.Status == PlanApproved {
			return problem.Conflict("version %d is approved already", pl.Version).WithMsg("plan.error.approved", pl.Version)
		}
		now := p.now()
		review := pl.ReviewDue
		if review == nil || !review.After(now) {
			r := now.Add(p.opt.ReviewInterval)
			review = &r
		}
		content, err := json.Marshal(pl.Content)
		if err != nil {
			return fmt.Errorf("incident: approve plan: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE plans SET status = 'approved', approved_by = ?, approved_at = ?, review_due = ?,
			review_alerted_at = NULL, updated_at = ? WHERE id = ?`, a.Username, now, review, now, id); err != nil {
			return fmt.Errorf("incident: approve plan: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO plan_versions (plan_id, version, content, approved_by, approved_at)
			VALUES (?, ?, ?, ?, ?)`, id, pl.Version, string(content), a.Username, now); err != nil {
			return fmt.Errorf("incident: approve plan: %w", err)
		}
		_, err = p.trail.Append(ctx, tx, a, trail.Event{Action: "plan.approve", ObjectType: "plan", ObjectID: itoa(id), OrgID: pl.OrgID,
			Summary: fmt.Sprintf("emergency plan %q version %d approved, next review %s", listTitle(pl.Content), pl.Version, review.Format("2006-01-02")),
			Msg:     trail.Msg("trail.summary.plan.approve", listTitle(pl.Content), pl.Version, review.Format("2006-01-02"))})
		return err
	})
	if err != nil {
		return Plan{}, err
	}
	return p.Plan(ctx, a, id)
}

// PlanVersion is an approved version of a plan as it was approved.
type PlanVersion struct {
	Version    int       `json:"version"`
	Content    Content   `json:"content"`
	ApprovedBy string    `json:"approved_by"`
	ApprovedAt time.Time `json:"approved_at"`
}

// PlanVersions lists the approved versions of plan id, newest first.
func (p *Plans) PlanVersions(ctx context.Context, a actor.Actor, id int64) ([]PlanVersion, error) {
	if _, err := p.get(ctx, p.db, a, id); err != nil {
		return nil, err
	}
	rows, err := p.db.QueryContext(ctx, `SELECT version, content, approved_by, approved_at FROM plan_versions
		WHERE plan_id = ? ORDER BY version DESC`, id)
	if err != nil {
		return nil, fmt.Errorf("incident: plan versions: %w", err)
	}
	defer rows.Close()
	out := []PlanVersion{}
	for rows.Next() {
		var v PlanVersion
		var content string
		var at store.Time
		if err := rows.Scan(&v.Version, &content, &v.ApprovedBy, &at); err != nil {
			return nil, fmt.Errorf("incident: plan versions: %w", err)
		}
		if err := json.Unmarshal([]byte(content), &v.Content); err != nil {
			return nil, fmt.Errorf("incident: plan versions: %w", err)
		}
		v.ApprovedAt = at.Time
		out = append(out, v)
	}
	return out, rows.Err()
}

// ChecklistRun is a plan's checklist instantiated for an incident.
type ChecklistRun struct {
	ID          int64     `json:"id"`
	PlanID      int64     `json:"plan_id"`
	PlanTitle   Text      `json:"plan_title"`
	PlanVersion int       `json:"plan_version"`
	OrgID       int64     `json:"org_id"`
	IncidentID  int64     `json:"incident_id"`
	StartedBy   string    `json:"started_by"`
	StartedAt   time.Time `json:"started_at"`
	Items       []RunItem `json:"items"`
	Done        int       `json:"done"` // items ticked
}

// RunItem is one checklist item of a run: the plan's item as it was when the run started,
// and who ticked it when.
type RunItem struct {
	ID     int64      `json:"id"`
	Key    string     `json:"key"` // the plan's item id
	Phase  string     `json:"phase"`
	Role   string     `json:"role"`
	Text   Text       `json:"text"`
	Done   bool       `json:"done"`
	DoneBy string     `json:"done_by,omitempty"`
	DoneAt *time.Time `json:"done_at,omitempty"`
	Note   string     `json:"note,omitempty"`
}

// StartChecklist copies the checklist of plan planID, as it is now, into a run for
// incident incidentID, in tx (the transaction that opens the incident). The plan must be
// one a sees; a draft plan may be run (an emergency does not wait for an approval) and
// the run records the version. A plan runs once per incident: again is a conflict.
func (p *Plans) StartChecklist(ctx context.Context, tx *store.Tx, a actor.Actor, planID, incidentID int64) (ChecklistRun, error) {
	if incidentID <= 0 {
		return ChecklistRun{}, problem.Invalid("incident_id", "must be an incident's id").WithMsg("plan.error.incident")
	}
	pl, err := p.get(ctx, tx, a, planID)
	if err != nil {
		return ChecklistRun{}, err
	}
	// The incident must be of the plan's organisation or one below it: a hospital's plan
	// does not run for another hospital's incident.
	var one int
	err = tx.QueryRowContext(ctx, `SELECT 1 FROM incidents i JOIN orgs io ON io.id = i.org_id JOIN orgs po ON po.id = ?
		WHERE i.id = ? AND `+actor.ContainsSQL("po.path", "io.path"), pl.OrgID, incidentID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return ChecklistRun{}, problem.Invalid("incident_id", "the incident is not of the plan's organisation").WithMsg("plan.error.incident_org")
	}
	if err != nil {
		return ChecklistRun{}, fmt.Errorf("incident: start checklist: %w", err)
	}
	var exists int64
	err = tx.QueryRowContext(ctx, `SELECT id FROM plan_runs WHERE incident_id = ? AND plan_id = ?`, incidentID, planID).Scan(&exists)
	if err == nil {
		return ChecklistRun{}, problem.Conflict("the plan's checklist runs for this incident already (run %d)", exists).WithMsg("plan.error.running", exists)
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return ChecklistRun{}, fmt.Errorf("incident: start checklist: %w", err)
	}
	var id int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO plan_runs (plan_id, plan_version, incident_id, started_by, started_at)
		VALUES (?, ?, ?, ?, ?) RETURNING id`, planID, pl.Version, incidentID, a.Username, p.now()).Scan(&id); err != nil {
		return ChecklistRun{}, fmt.Errorf("incident: start checklist: %w", err)
	}
	for i, it := range pl.Content.Checklist {
		if _, err := tx.ExecContext(ctx, `INSERT INTO plan_run_items (run_id, position, item_key, phase, role, text_en, text_zh)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, id, i, it.ID, it.Phase, it.Role, it.Text.EN, it.Text.ZH); err != nil {
			return ChecklistRun{}, fmt.Errorf("incident: start checklist: %w", err)
		}
	}
	if _, err := p.trail.Append(ctx, tx, a, trail.Event{Action: "plan.checklist_start", ObjectType: "plan", ObjectID: itoa(planID), OrgID: pl.OrgID,
		Summary: fmt.Sprintf("checklist of %q (version %d, %d items) started for incident %d", listTitle(pl.Content), pl.Version, len(pl.Content.Checklist), incidentID),
		Msg:     trail.Msg("trail.summary.plan.checklist_start", listTitle(pl.Content), pl.Version, len(pl.Content.Checklist), incidentID)}); err != nil {
		return ChecklistRun{}, err
	}
	return p.run(ctx, tx, a, id)
}

const runColumns = `r.id, r.plan_id, p.content, r.plan_version, p.org_id, r.incident_id, r.started_by, r.started_at`

func scanRun(sc interface{ Scan(...any) error }) (ChecklistRun, error) {
	var r ChecklistRun
	var content string
	var started store.Time
	if err := sc.Scan(&r.ID, &r.PlanID, &content, &r.PlanVersion, &r.OrgID, &r.IncidentID, &r.StartedBy, &started); err != nil {
		return r, err
	}
	var c Content
	if err := json.Unmarshal([]byte(content), &c); err != nil {
		return r, err
	}
	r.PlanTitle, r.StartedAt = c.Title, started.Time
	return r, nil
}

// run reads run id with its items as a sees it (scoped by the plan's organisation).
func (p *Plans) run(ctx context.Context, q store.Querier, a actor.Actor, id int64) (ChecklistRun, error) {
	cond, arg := a.SeesSQL("o.path")
	r, err := scanRun(q.QueryRowContext(ctx, `SELECT `+runColumns+` FROM plan_runs r JOIN plans p ON p.id = r.plan_id
		JOIN orgs o ON o.id = p.org_id WHERE r.id = ? AND `+cond, id, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return ChecklistRun{}, problem.NotFound("checklist")
	}
	if err != nil {
		return ChecklistRun{}, fmt.Errorf("incident: checklist %d: %w", id, err)
	}
	return r, p.fillRun(ctx, q, &r)
}

func (p *Plans) fillRun(ctx context.Context, q store.Querier, r *ChecklistRun) error {
	rows, err := q.QueryContext(ctx, `SELECT id, item_key, phase, role, text_en, text_zh, done, done_by, done_at, note
		FROM plan_run_items WHERE run_id = ? ORDER BY position`, r.ID)
	if err != nil {
		return fmt.Errorf("incident: checklist items: %w", err)
	}
	defer rows.Close()
	r.Items, r.Done = []RunItem{}, 0
	for rows.Next() {
		var it RunItem
		var at store.Time
		if err := rows.Scan(&it.ID, &it.Key, &it.Phase, &it.Role, &it.Text.EN, &it.Text.ZH, &it.Done, &it.DoneBy, &at, &it.Note); err != nil {
			return fmt.Errorf("incident: checklist items: %w", err)
		}
		it.DoneAt = at.Ptr()
		if it.Done {
			r.Done++
		}
		r.Items = append(r.Items, it)
	}
	return rows.Err()
}

// TickItem marks item itemID of checklist run runID done (or not done again), recording
// who and when, with an optional note (what was done, by whom outside medguard).
func (p *Plans) TickItem(ctx context.Context, a actor.Actor, runID, itemID int64, done bool, note string) (ChecklistRun, error) {
	note, err := checkString("note", note, maxTextRunes)
	if err != nil {
		return ChecklistRun{}, invalid(err)
	}
	var out ChecklistRun
	err = p.db.InTx(ctx, func(tx *store.Tx) error {
		r, err := p.run(ctx, tx, a, runID)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(r.Items, func(it RunItem) bool { return it.ID == itemID })
		if i < 0 {
			return problem.NotFound("checklist item")
		}
		it := r.Items[i]
		by, at := "", (*time.Time)(nil)
		if done {
			now := p.now()
			by, at = a.Username, &now
		}
		if _, err := tx.ExecContext(ctx, `UPDATE plan_run_items SET done = ?, done_by = ?, done_at = ?, note = ? WHERE id = ?`,
			done, by, at, note, itemID); err != nil {
			return fmt.Errorf("incident: tick: %w", err)
		}
		state := "done"
		if !done {
			state = "not done"
		}
		if _, err := p.trail.Append(ctx, tx, a, trail.Event{Action: "plan.checklist_tick", ObjectType: "plan", ObjectID: itoa(r.PlanID), OrgID: r.OrgID,
			Summary: fmt.Sprintf("incident %d: checklist item %s %s", r.IncidentID, it.Key, state),
			Msg:     trail.Msg("trail.summary.plan.checklist_tick", r.IncidentID, it.Key, i18n.M("plan.tick."+strconv.FormatBool(done))),
			After:   map[string]any{"run_id": runID, "item": it.Key, "done": done, "note": note}}); err != nil {
			return err
		}
		out, err = p.run(ctx, tx, a, runID)
		return err
	})
	return out, err
}

// ChecklistOf returns the checklist runs of incident incidentID that a sees (those of
// plans of another organisation are not there), in the order they started.
func (p *Plans) ChecklistOf(ctx context.Context, a actor.Actor, incidentID int64) ([]ChecklistRun, error) {
	cond, arg := a.SeesSQL("o.path")
	rows, err := p.db.QueryContext(ctx, `SELECT `+runColumns+` FROM plan_runs r JOIN plans p ON p.id = r.plan_id
		JOIN orgs o ON o.id = p.org_id WHERE r.incident_id = ? AND `+cond+` ORDER BY r.id`, incidentID, arg)
	if err != nil {
		return nil, fmt.Errorf("incident: checklists: %w", err)
	}
	out := []ChecklistRun{}
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("incident: checklists: %w", err)
		}
		out = append(out, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("incident: checklists: %w", err)
	}
	for i := range out {
		if err := p.fillRun(ctx, p.db, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}
