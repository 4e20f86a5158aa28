// Package detect owns the monitoring rules of audit events: the rule model and its YAML
// form, their validation (a rule naming a field that does not exist is refused, never
// silently inert), the built-in library, the engine that evaluates events against the
// rules with window state in memory, and the runners that turn hits into alerts.
package detect

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/events"
)

// The kinds of rule.
const (
	KindCount     = "count"       // more than threshold matching events in a sliding window
	KindDistinct  = "distinct"    // more than threshold distinct values of a field in a window
	KindSequence  = "sequence"    // steps in order within a window (failures, then a success)
	KindTimeOfDay = "time_of_day" // an event outside working hours, on a weekend or holiday
	KindFirstSeen = "first_seen"  // a value of a field never seen before for the group
	KindDormant   = "dormant"     // a group (an account) active again after a long idle time
	KindRelation  = "relation"    // a patient-record access flagged or left unexplained
	KindZone      = "zone"        // a source address outside the internal network
	KindBastion   = "bastion"     // an administrative login that bypassed the jump hosts
	KindMatch     = "match"       // a single event with the matching fields
)

// Kinds lists the kinds of rule.
var Kinds = []string{KindCount, KindDistinct, KindSequence, KindTimeOfDay, KindFirstSeen, KindDormant, KindRelation,
	KindZone, KindBastion, KindMatch}

// Fields lists the event fields a rule may match, group by or count distinct values of:
// the JSON names of events.Event.
var Fields = []string{"system", "account", "staff_id", "department", "action", "outcome", "patient_id", "record_type",
	"source_ip", "terminal"}

// The classes and flags of an explanation a relation rule may name (the values of
// package explain).
var (
	explanationClasses = []string{"explained", "flagged", "unexplained"}
	explanationFlags   = []string{"self", "coworker", "family", "neighbour", "vip", "deceased", "discharged"}
)

// Limits of a rule.
const (
	maxRuleID     = 64
	maxText       = 500
	maxThreshold  = 1_000_000
	maxWindow     = 400 * 24 * time.Hour
	maxSteps      = 10
	maxValues     = 1000
	maxGroupBy    = 4
	defaultSingle = time.Hour // how long a single-event rule stays quiet for a group after a hit
)

// Text is a sentence in Chinese and English.
type Text struct {
	Zh string `yaml:"zh" json:"zh"`
	En string `yaml:"en" json:"en"`
}

// In returns the text in language lang ("zh…" Chinese, anything else English).
func (t Text) In(lang string) string {
	if strings.HasPrefix(strings.ToLower(lang), "zh") && t.Zh != "" {
		return t.Zh
	}
	return t.En
}

// Duration is a time span written as Go durations are ("10m", "1h30m") or in days ("90d").
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String writes d as ParseDuration reads it: whole days as "90d", else "1h30m".
func (d Duration) String() string {
	t := time.Duration(d)
	if t > 0 && t%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(t/(24*time.Hour)), 10) + "d"
	}
	s := t.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// ParseDuration reads "90d", "2d12h" or a Go duration ("10m", "1h30m").
func ParseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	var days int64
	if i := strings.IndexByte(s, 'd'); i >= 0 {
		n, err := strconv.ParseInt(s[:i], 10, 32)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%q is not a duration like 10m, 2h or 90d", s)
		}
		days, s = n, s[i+1:]
	}
	var rest time.Duration
	if s != "" {
		var err error
		if rest, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("%q is not a duration like 10m, 2h or 90d", s)
		}
	}
	d := time.Duration(days)*24*time.Hour + rest
	if d < 0 || d > maxWindow {
		return 0, fmt.Errorf("duration %s is out of range (0 to %d days)", d, maxWindow/(24*time.Hour))
	}
	return Duration(d), nil
}

// UnmarshalYAML reads a Duration.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: a duration must be a text like 10m or 90d", n.Line)
	}
	v, err := ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = v
	return nil
}

// MarshalYAML writes a Duration as ParseDuration reads it.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// MarshalJSON writes a Duration as a text ParseDuration reads ("10m", "90d").
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads a Duration written by MarshalJSON.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a duration must be a text like 10m or 90d")
	}
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// Match is what an event must hold for a rule: every condition set must hold; a list of
// values means any of them. Fields are event fields (Fields); RecordCountGTE/LTE bound
// record_count; Explanation and Flags look at the explanation of a patient-record access;
// Patient requires (true) or excludes (false) an event naming a patient; Not rejects the
// events it matches.
type Match struct {
	Fields         map[string][]string
	RecordCountGTE *int
	RecordCountLTE *int
	Explanation    []string
	Flags          []string
	Patient        *bool
	Not            *Match
}

// Empty reports whether m has no condition.
func (m *Match) Empty() bool {
	return m == nil || (len(m.Fields) == 0 && m.RecordCountGTE == nil && m.RecordCountLTE == nil &&
		len(m.Explanation) == 0 && len(m.Flags) == 0 && m.Patient == nil && m.Not.Empty())
}

// needsExplanation reports whether m (or its Not) looks at the explanation.
func (m *Match) needsExplanation() bool {
	if m == nil {
		return false
	}
	return len(m.Explanation) > 0 || len(m.Flags) > 0 || m.Not.needsExplanation()
}

// names reports whether m (or its Not) has a condition on field f.
func (m *Match) names(f string) bool {
	if m == nil {
		return false
	}
	_, ok := m.Fields[f]
	return ok || m.Not.names(f)
}

// UnmarshalYAML reads a Match from a mapping, refusing unknown keys and values.
func (m *Match) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: match must be a mapping of event fields to values", n.Line)
	}
	*m = Match{}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := k.Value
		if seen[key] {
			return fmt.Errorf("line %d: match names %q twice", k.Line, key)
		}
		seen[key] = true
		switch {
		case key == "record_count_gte" || key == "record_count_lte":
			var c int
			if v.Kind != yaml.ScalarNode || v.Decode(&c) != nil || c < 0 {
				return fmt.Errorf("line %d: match %s must be a whole number ≥ 0", v.Line, key)
			}
			if key == "record_count_gte" {
				m.RecordCountGTE = &c
			} else {
				m.RecordCountLTE = &c
			}
		case key == "patient":
			var b bool
			if v.Kind != yaml.ScalarNode || v.Decode(&b) != nil {
				return fmt.Errorf("line %d: match patient must be true or false", v.Line)
			}
			m.Patient = &b
		case key == "not":
			var sub Match
			if err := sub.UnmarshalYAML(v); err != nil {
				return err
			}
			m.Not = &sub
		case key == "explanation" || key == "flag" || slices.Contains(Fields, key):
			vals, err := scalars(v)
			if err != nil {
				return fmt.Errorf("line %d: match %s: %w", v.Line, key, err)
			}
			switch key {
			case "explanation":
				m.Explanation = vals
			case "flag":
				m.Flags = vals
			default:
				if m.Fields == nil {
					m.Fields = map[string][]string{}
				}
				m.Fields[key] = vals
			}
		default:
			return &FieldError{Where: "match", Field: key}
		}
	}
	return nil
}

// scalars reads a scalar or a sequence of scalars.
func scalars(n *yaml.Node) ([]string, error) {
	switch n.Kind {
	case yaml.ScalarNode:
		return []string{n.Value}, nil
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			return nil, errors.New("an empty list matches nothing")
		}
		if len(n.Content) > maxValues {
			return nil, fmt.Errorf("more than %d values", maxValues)
		}
		out := make([]string, 0, len(n.Content))
		for _, c := range n.Content {
			if c.Kind != yaml.ScalarNode {
				return nil, errors.New("values must be texts")
			}
			out = append(out, c.Value)
		}
		return out, nil
	}
	return nil, errors.New("must be a value or a list of values")
}

// MarshalYAML writes m back as it is read.
func (m Match) MarshalYAML() (any, error) {
	n := &yaml.Node{Kind: yaml.MappingNode}
	add := func(k string, v any) {
		var vn yaml.Node
		_ = vn.Encode(v)
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: k}, &vn)
	}
	list := func(vs []string) any {
		if len(vs) == 1 {
			return vs[0]
		}
		return vs
	}
	for _, f := range Fields {
		if vs, ok := m.Fields[f]; ok {
			add(f, list(vs))
		}
	}
	if m.RecordCountGTE != nil {
		add("record_count_gte", *m.RecordCountGTE)
	}
	if m.RecordCountLTE != nil {
		add("record_count_lte", *m.RecordCountLTE)
	}
	if m.Patient != nil {
		add("patient", *m.Patient)
	}
	if len(m.Explanation) > 0 {
		add("explanation", list(m.Explanation))
	}
	if len(m.Flags) > 0 {
		add("flag", list(m.Flags))
	}
	if m.Not != nil {
		add("not", m.Not)
	}
	return n, nil
}

// MarshalJSON writes m as its YAML form reads: field names to a value or a list.
func (m Match) MarshalJSON() ([]byte, error) {
	out := map[string]any{}
	for f, vs := range m.Fields {
		out[f] = vs
	}
	if m.RecordCountGTE != nil {
		out["record_count_gte"] = *m.RecordCountGTE
	}
	if m.RecordCountLTE != nil {
		out["record_count_lte"] = *m.RecordCountLTE
	}
	if m.Patient != nil {
		out["patient"] = *m.Patient
	}
	if len(m.Explanation) > 0 {
		out["explanation"] = m.Explanation
	}
	if len(m.Flags) > 0 {
		out["flag"] = m.Flags
	}
	if m.Not != nil {
		out["not"] = m.Not
	}
	return json.Marshal(out)
}

// Step is one step of a sequence rule: Count events matching Match (at least one).
type Step struct {
	Match Match `yaml:"match" json:"match"`
	Count int   `yaml:"count,omitempty" json:"count,omitempty"`
}

// Rule is one monitoring rule. The YAML keys are the yaml tags; which keys a kind uses
// is checked by Validate (a key the kind does not use is refused, as it would be inert).
type Rule struct {
	ID          string `yaml:"id" json:"id"`
	Version     string `yaml:"version" json:"version"`
	Name        Text   `yaml:"name" json:"name"`
	Description Text   `yaml:"description,omitempty" json:"description"`
	Severity    string `yaml:"severity" json:"severity"`
	Kind        string `yaml:"kind" json:"kind"`

	// Match selects the events the rule looks at (every kind).
	Match Match `yaml:"match,omitempty" json:"match,omitzero"`
	// GroupBy are the event fields whose values make a group: windows, first-seen
	// values and the once-per-window dedup are per group. Empty: one group per
	// organisation (kinds first_seen, dormant, relation, zone and bastion have defaults).
	GroupBy []string `yaml:"group_by,omitempty,flow" json:"group_by,omitempty"`
	// Distinct is the field whose distinct values a distinct rule counts.
	Distinct string `yaml:"distinct,omitempty" json:"distinct,omitempty"`
	// Threshold: count and distinct fire when the window holds at least this many.
	Threshold int `yaml:"threshold,omitempty" json:"threshold,omitempty"`
	// Window is the sliding window of count, distinct and sequence; for the other kinds
	// how long a group stays quiet after a hit (default 1h).
	Window Duration `yaml:"window,omitempty" json:"window,omitempty"`
	// Steps of a sequence rule, in order.
	Steps []Step `yaml:"steps,omitempty" json:"steps,omitempty"`
	// Hours are when a time_of_day rule fires, "22:00-06:00" (local time of
	// Env.Location; the end may be past midnight). Weekends and Holidays make an event on
	// a Saturday, Sunday or a holiday of Env.Holidays fire too.
	Hours    string `yaml:"hours,omitempty" json:"hours,omitempty"`
	Weekends bool   `yaml:"weekends,omitempty" json:"weekends,omitempty"`
	Holidays bool   `yaml:"holidays,omitempty" json:"holidays,omitempty"`
	// Field is the field of a first_seen rule whose new values fire (terminal, source_ip).
	Field string `yaml:"field,omitempty" json:"field,omitempty"`
	// Lookback: how far back a first_seen value counts as seen (0: the whole retention).
	Lookback Duration `yaml:"lookback,omitempty" json:"lookback,omitempty"`
	// Learning: first_seen and dormant rules stay quiet until the organisation's history
	// is at least this long (default 3d), so that a fresh installation does not find
	// everything new.
	Learning Duration `yaml:"learning,omitempty" json:"learning,omitempty"`
	// Idle of a dormant rule: a group without events for this long that acts again fires.
	Idle Duration `yaml:"idle,omitempty" json:"idle,omitempty"`
	// Flags and Explanation of a relation rule: the access fires when its explanation
	// has one of Flags, or is of class Explanation (unexplained).
	Flags       []string `yaml:"flags,omitempty,flow" json:"flags,omitempty"`
	Explanation string   `yaml:"explanation,omitempty" json:"explanation,omitempty"`
}

// FieldError is a rule naming an event field that does not exist.
type FieldError struct {
	Rule  string // the rule id, when known
	Where string // match, group_by, distinct, field, steps
	Field string
}

func (e *FieldError) Error() string {
	r := ""
	if e.Rule != "" {
		r = "rule " + e.Rule + ": "
	}
	return fmt.Sprintf("detect: %s%s names %q, which is not an event field (one of %s)", r, e.Where, e.Field,
		strings.Join(Fields, ", "))
}

// Unwrap makes a FieldError an ErrInvalid.
func (e *FieldError) Unwrap() error { return ErrInvalid }

// ErrInvalid is wrapped by every validation error.
var ErrInvalid = errors.New("detect: invalid rule")

var ruleID = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]*$`)

// keysOf lists the YAML keys each kind uses, beyond id, version, name, description,
// severity, kind, match, group_by and window.
var keysOf = map[string][]string{
	KindCount:     {"threshold"},
	KindDistinct:  {"distinct", "threshold"},
	KindSequence:  {"steps"},
	KindTimeOfDay: {"hours", "weekends", "holidays"},
	KindFirstSeen: {"field", "lookback", "learning"},
	KindDormant:   {"idle", "learning"},
	KindRelation:  {"flags", "explanation"},
	KindZone:      {},
	KindBastion:   {},
	KindMatch:     {},
}

// Validate checks r: known kind, fields, severity, window, threshold, names in both
// languages, and no key the kind does not use.
func (r *Rule) Validate() error {
	bad := func(format string, args ...any) error {
		id := r.ID
		if id == "" {
			id = "(no id)"
		}
		return fmt.Errorf("%w %s: "+format, append([]any{ErrInvalid, id}, args...)...)
	}
	if !ruleID.MatchString(r.ID) || len(r.ID) > maxRuleID {
		return bad("id must be 1–%d lower-case letters, digits, '-', '_' or '.'", maxRuleID)
	}
	if strings.TrimSpace(r.Version) == "" || len(r.Version) > 32 {
		return bad("version is required (e.g. 1)")
	}
	if strings.TrimSpace(r.Name.Zh) == "" || strings.TrimSpace(r.Name.En) == "" {
		return bad("name needs both zh and en")
	}
	for _, t := range []string{r.Name.Zh, r.Name.En, r.Description.Zh, r.Description.En} {
		if len([]rune(t)) > maxText {
			return bad("a name or description is longer than %d characters", maxText)
		}
	}
	if !alert.ValidSeverity(r.Severity) {
		return bad("severity %q is not one of %s", r.Severity, strings.Join(alert.Severities, ", "))
	}
	uses, ok := keysOf[r.Kind]
	if !ok {
		return bad("kind %q is not one of %s", r.Kind, strings.Join(Kinds, ", "))
	}
	field := func(where, f string) error {
		if !slices.Contains(Fields, f) {
			return &FieldError{Rule: r.ID, Where: where, Field: f}
		}
		return nil
	}
	if err := r.checkMatch(&r.Match, "match", 0); err != nil {
		return err
	}
	for _, g := range r.GroupBy {
		if err := field("group_by", g); err != nil {
			return err
		}
	}
	if len(r.GroupBy) != len(slices.Compact(slices.Sorted(slices.Values(r.GroupBy)))) {
		return bad("group_by names a field twice")
	}
	if len(r.GroupBy) > maxGroupBy {
		return bad("group_by names more than %d fields", maxGroupBy)
	}
	if r.Kind == KindFirstSeen || r.Kind == KindDormant {
		// Their state is rebuilt after a restart by aggregate queries over the stored
		// events: the match must be expressible in SQL and the fields stored in clear.
		if r.Match.needsExplanation() {
			return bad("kind %s cannot match on the explanation", r.Kind)
		}
		if slices.Contains(r.GroupBy, "patient_id") || r.Field == "patient_id" || r.Match.names("patient_id") {
			return bad("kind %s cannot use patient_id (stored sealed)", r.Kind)
		}
	}
	// Keys set that the kind does not use would be silently inert: refused.
	set := map[string]bool{"threshold": r.Threshold != 0, "distinct": r.Distinct != "", "steps": len(r.Steps) > 0,
		"hours": r.Hours != "", "weekends": r.Weekends, "holidays": r.Holidays, "field": r.Field != "",
		"lookback": r.Lookback != 0, "learning": r.Learning != 0, "idle": r.Idle != 0, "flags": len(r.Flags) > 0,
		"explanation": r.Explanation != ""}
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range set {
			if !yield(k) {
				return
			}
		}
	}) {
		if set[k] && !slices.Contains(uses, k) {
			return bad("key %s is not used by kind %s", k, r.Kind)
		}
	}
	windowed := r.Kind == KindCount || r.Kind == KindDistinct || r.Kind == KindSequence
	if windowed && r.Window <= 0 {
		return bad("kind %s needs a window (e.g. 10m)", r.Kind)
	}
	if r.Window < 0 {
		return bad("window must be positive")
	}
	switch r.Kind {
	case KindCount:
		if r.Threshold < 1 || r.Threshold > maxThreshold {
			return bad("kind count needs a threshold from 1 to %d", maxThreshold)
		}
	case KindDistinct:
		if r.Distinct == "" {
			return bad("kind distinct needs distinct: the field whose values are counted")
		}
		if err := field("distinct", r.Distinct); err != nil {
			return err
		}
		if r.Threshold < 2 || r.Threshold > maxThreshold {
			return bad("kind distinct needs a threshold from 2 to %d", maxThreshold)
		}
	case KindSequence:
		if len(r.Steps) < 2 || len(r.Steps) > maxSteps {
			return bad("kind sequence needs 2 to %d steps", maxSteps)
		}
		for i := range r.Steps {
			s := &r.Steps[i]
			if s.Match.Empty() {
				return bad("step %d needs a match", i+1)
			}
			if err := r.checkMatch(&s.Match, fmt.Sprintf("steps[%d].match", i+1), 0); err != nil {
				return err
			}
			if s.Count < 0 || s.Count > maxThreshold {
				return bad("step %d: count must be from 1 to %d", i+1, maxThreshold)
			}
		}
	case KindTimeOfDay:
		if r.Hours == "" && !r.Weekends && !r.Holidays {
			return bad("kind time_of_day needs hours, weekends or holidays")
		}
		if r.Hours != "" {
			if _, _, err := parseHours(r.Hours); err != nil {
				return bad("hours: %v", err)
			}
		}
	case KindFirstSeen:
		if r.Field == "" {
			return bad("kind first_seen needs field (terminal or source_ip)")
		}
		if err := field("field", r.Field); err != nil {
			return err
		}
		if slices.Contains(r.groupBy(), r.Field) {
			return bad("field %s cannot also be in group_by", r.Field)
		}
	case KindDormant:
		if r.Idle < Duration(24*time.Hour) {
			return bad("kind dormant needs idle of at least 1d")
		}
	case KindRelation:
		if len(r.Flags) == 0 && r.Explanation == "" {
			return bad("kind relation needs flags or explanation")
		}
		for _, f := range r.Flags {
			if !slices.Contains(explanationFlags, f) {
				return bad("flag %q is not one of %s", f, strings.Join(explanationFlags, ", "))
			}
		}
		if r.Explanation != "" && !slices.Contains(explanationClasses, r.Explanation) {
			return bad("explanation %q is not one of %s", r.Explanation, strings.Join(explanationClasses, ", "))
		}
	case KindMatch:
		if r.Match.Empty() {
			return bad("kind match needs a match")
		}
	}
	return nil
}

// checkMatch validates the values of m.
func (r *Rule) checkMatch(m *Match, where string, depth int) error {
	if m == nil {
		return nil
	}
	if depth > 3 {
		return fmt.Errorf("%w %s: %s: not nested more than 3 deep", ErrInvalid, r.ID, where)
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w %s: %s: "+format, append([]any{ErrInvalid, r.ID, where}, args...)...)
	}
	for f, vs := range m.Fields {
		if !slices.Contains(Fields, f) {
			return &FieldError{Rule: r.ID, Where: where, Field: f}
		}
		for _, v := range vs {
			switch f {
			case "action":
				if !slices.Contains(events.Actions(), v) {
					return bad("action %q is not one of %s", v, strings.Join(events.Actions(), ", "))
				}
			case "outcome":
				if v != events.OutcomeSuccess && v != events.OutcomeFailure {
					return bad("outcome must be success or failure")
				}
			}
		}
	}
	for _, v := range m.Explanation {
		if !slices.Contains(explanationClasses, v) {
			return bad("explanation %q is not one of %s", v, strings.Join(explanationClasses, ", "))
		}
	}
	for _, v := range m.Flags {
		if !slices.Contains(explanationFlags, v) {
			return bad("flag %q is not one of %s", v, strings.Join(explanationFlags, ", "))
		}
	}
	if m.RecordCountGTE != nil && m.RecordCountLTE != nil && *m.RecordCountGTE > *m.RecordCountLTE {
		return bad("record_count_gte is above record_count_lte: nothing matches")
	}
	if m.Not != nil && m.Not.Empty() {
		return bad("not needs a condition")
	}
	return r.checkMatch(m.Not, where+".not", depth+1)
}

// groupBy returns the fields r groups by, with the kind's default when none are set.
func (r *Rule) groupBy() []string {
	if len(r.GroupBy) > 0 {
		return r.GroupBy
	}
	switch r.Kind {
	case KindFirstSeen, KindDormant:
		return []string{"account"}
	case KindRelation:
		return []string{"account", "patient_id"}
	case KindZone:
		return []string{"account", "source_ip"}
	case KindBastion:
		return []string{"account", "terminal"}
	}
	return nil
}

// GroupFields returns the fields the rule groups by (the kind's default when group_by
// is not set).
func (r *Rule) GroupFields() []string { return slices.Clone(r.groupBy()) }

// parseHours reads a span of the day "HH:MM-HH:MM" as minutes of the day; the end may
// be before the start (over midnight).
func parseHours(s string) (from, to int, err error) {
	a, b, ok := strings.Cut(strings.ReplaceAll(s, " ", ""), "-")
	if !ok {
		return 0, 0, fmt.Errorf("%q is not like 22:00-06:00", s)
	}
	clock := func(c string) (int, error) {
		t, err := time.Parse("15:04", c)
		if err != nil {
			if c == "24:00" {
				return 24 * 60, nil
			}
			return 0, fmt.Errorf("%q is not like 22:00-06:00", s)
		}
		return t.Hour()*60 + t.Minute(), nil
	}
	if from, err = clock(a); err != nil {
		return 0, 0, err
	}
	if to, err = clock(b); err != nil {
		return 0, 0, err
	}
	if from == to {
		return 0, 0, fmt.Errorf("%q is empty", s)
	}
	return from, to, nil
}

// maxRuleBytes bounds a rule file.
const maxRuleBytes = 1 << 20

// Parse reads and validates one rule from YAML. An unknown key, an unknown event field,
// an unknown kind, a bad window or severity is an error naming the rule and what is wrong.
func Parse(b []byte) (Rule, error) {
	rs, err := ParseAll(b)
	if err != nil {
		return Rule{}, err
	}
	if len(rs) != 1 {
		return Rule{}, fmt.Errorf("%w: expected one rule, found %d", ErrInvalid, len(rs))
	}
	return rs[0], nil
}

// ParseAll reads and validates the rules of a YAML file of one or more documents
// (separated by ---). Two rules with the same id are refused.
func ParseAll(b []byte) ([]Rule, error) {
	if len(b) > maxRuleBytes {
		return nil, fmt.Errorf("%w: the file is larger than %d bytes", ErrInvalid, maxRuleBytes)
	}
	var out []Rule
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	ids := map[string]bool{}
	for i := 1; ; i++ {
		var r Rule
		if err := decode(dec, &r); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			var fe *FieldError
			if errors.As(err, &fe) {
				fe.Rule = r.ID
				return nil, fe
			}
			where := fmt.Sprintf("document %d", i)
			if r.ID != "" {
				where = "rule " + r.ID
			}
			return nil, fmt.Errorf("%w: %s: %s", ErrInvalid, where, cleanYAMLError(err))
		}
		if err := r.Validate(); err != nil {
			return nil, err
		}
		if ids[r.ID] {
			return nil, fmt.Errorf("%w %s: the id is used twice", ErrInvalid, r.ID)
		}
		ids[r.ID] = true
		out = append(out, r)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no rule in the file", ErrInvalid)
	}
	return out, nil
}

// decode reads the next document into r. The YAML library is the first reader of
// outside input: a panic in it is reported as an unreadable file.
func decode(dec *yaml.Decoder, r *Rule) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = errors.New("unreadable YAML")
		}
	}()
	return dec.Decode(r)
}

// cleanYAMLError shortens the YAML library's messages ("yaml: unmarshal errors:\n  line
// 3: field foo not found in type detect.Rule") to one line without Go type names.
func cleanYAMLError(err error) string {
	s := err.Error()
	s = strings.TrimPrefix(s, "yaml: unmarshal errors:\n")
	s = strings.ReplaceAll(s, "\n", "; ")
	s = strings.ReplaceAll(s, " in type detect.Rule", " (unknown key)")
	s = strings.ReplaceAll(s, " in type detect.Step", " (unknown key of a step)")
	s = strings.ReplaceAll(s, " in type detect.Text", " (a text has zh and en)")
	return strings.TrimSpace(s)
}

// YAML returns r as YAML that Parse reads back to r.
func (r Rule) YAML() []byte {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(r); err != nil {
		// Every field of Rule encodes; an error is a bug.
		panic("detect: encode a rule: " + err.Error())
	}
	_ = enc.Close()
	return buf.Bytes()
}

//go:embed rules/*.yaml
var builtinFS embed.FS

// builtin is parsed once, at package start: the library is part of the binary and
// a broken built-in rule is a build bug (TestBuiltin).
var builtin, builtinErr = loadBuiltin()

func loadBuiltin() ([]Rule, error) {
	names, err := fs.Glob(builtinFS, "rules/*.yaml")
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	var out []Rule
	ids := map[string]bool{}
	for _, n := range names {
		b, err := builtinFS.ReadFile(n)
		if err != nil {
			return nil, err
		}
		rs, err := ParseAll(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path.Base(n), err)
		}
		for _, r := range rs {
			if ids[r.ID] {
				return nil, fmt.Errorf("%s: rule %s is defined twice", path.Base(n), r.ID)
			}
			ids[r.ID] = true
			out = append(out, r)
		}
	}
	return out, nil
}

// Builtin returns the built-in rule library. The slice is the caller's; the rules'
// maps and slices are shared and must not be changed.
func Builtin() []Rule {
	if builtinErr != nil {
		panic("detect: built-in rules: " + builtinErr.Error())
	}
	out := make([]Rule, len(builtin))
	copy(out, builtin)
	return out
}

// BuiltinRule returns the built-in rule id.
func BuiltinRule(id string) (Rule, bool) {
	for _, r := range Builtin() {
		if r.ID == id {
			return r, true
		}
	}
	return Rule{}, false
}
