package incident

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// The reporting regimes of the default clocks.
const (
	RegimeCN    = "cn"    // 《国家网络安全事件报告管理办法》
	RegimeHIPAA = "hipaa" // HIPAA breach notification
)

// The operator types a reporting deadline depends on.
const (
	OperatorCII   = "cii"         // critical information infrastructure operator (关键信息基础设施运营者)
	OperatorState = "state_organ" // a unit of the central and state organs (中央和国家机关各部门所属单位)
	OperatorOther = "other"       // any other network operator
	// OperatorAny, in a clock table only, applies a deadline to every operator type.
	OperatorAny = "any"
)

// OperatorTypes lists the operator types an incident may name.
var OperatorTypes = []string{OperatorCII, OperatorState, OperatorOther}

// MaxClocksSize is the largest clock table ParseClocks reads.
const MaxClocksSize = 64 << 10

// maxDeadline bounds every duration of a clock table.
const maxDeadline = 366 * 24 * time.Hour

//go:embed clocks.yaml
var defaultClocksYAML []byte

// Clocks is the table of reporting deadlines: for each regime, the warning lead, the
// deadline by operator type and level, and the pass-on deadline by level.
type Clocks struct {
	Regimes map[string]Regime `json:"regimes"`
}

// Regime is one regime's clocks.
type Regime struct {
	// WarnBefore is how long before a deadline the sweep warns.
	WarnBefore time.Duration `json:"warn_before"`
	// Report is the reporting deadline from detection, by operator type (or OperatorAny)
	// and level; a level missing has no deadline.
	Report map[string]map[string]time.Duration `json:"report"`
	// PassOn is, by level, how soon after the report it must be passed on upward.
	PassOn map[string]time.Duration `json:"pass_on"`
}

// DefaultClocksYAML returns the built-in clock table as YAML, a starting point for a
// table of one's own.
func DefaultClocksYAML() []byte { return bytes.Clone(defaultClocksYAML) }

// DefaultClocks returns the built-in clock table.
func DefaultClocks() Clocks {
	c, err := ParseClocks(defaultClocksYAML)
	if err != nil {
		panic("incident: the built-in clocks do not parse: " + err.Error())
	}
	return c
}

// ReportWithin returns the reporting deadline, counted from detection, of an incident of
// level reported by an operator of type operator under regime, and false when there is
// none.
func (c Clocks) ReportWithin(regime, operator, level string) (time.Duration, bool) {
	r, ok := c.Regimes[regime]
	if !ok {
		return 0, false
	}
	if d, ok := r.Report[operator][level]; ok {
		return d, true
	}
	d, ok := r.Report[OperatorAny][level]
	return d, ok
}

// PassOnWithin returns how soon after its report an incident of level must be passed on
// under regime, and false when it need not be.
func (c Clocks) PassOnWithin(regime, level string) (time.Duration, bool) {
	d, ok := c.Regimes[regime].PassOn[level]
	return d, ok
}

// WarnBefore returns regime's warning lead.
func (c Clocks) WarnBefore(regime string) time.Duration { return c.Regimes[regime].WarnBefore }

// RegimeNames lists the regimes of c, sorted.
func (c Clocks) RegimeNames() []string {
	out := make([]string, 0, len(c.Regimes))
	for k := range c.Regimes {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ClocksError is a clock table refused by ParseClocks, with the field at fault.
type ClocksError struct {
	Field  string // "regimes.cn.report.cii.major", "" for the whole document
	Reason string
}

func (e *ClocksError) Error() string {
	if e.Field == "" {
		return "incident: clocks: " + e.Reason
	}
	return "incident: clocks: " + e.Field + ": " + e.Reason
}

func clocksErr(field, format string, a ...any) error {
	return &ClocksError{Field: field, Reason: fmt.Sprintf(format, a...)}
}

var regimeName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)

// ParseClocks reads a clock table from YAML, strictly: unknown fields, duplicate keys,
// more than one document, unknown regimes' names, operator types and levels, and
// durations that are not positive or exceed 366 days are errors. The table must hold
// the "cn" regime, the default of every incident.
func ParseClocks(data []byte) (Clocks, error) {
	if len(data) > MaxClocksSize {
		return Clocks{}, clocksErr("", "%d bytes, more than %d", len(data), MaxClocksSize)
	}
	var raw struct {
		Regimes map[string]struct {
			WarnBefore string                       `yaml:"warn_before"`
			Report     map[string]map[string]string `yaml:"report"`
			PassOn     map[string]string            `yaml:"pass_on"`
		} `yaml:"regimes"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&raw); err != nil {
		if errors.Is(err, io.EOF) {
			return Clocks{}, clocksErr("", "empty document")
		}
		return Clocks{}, clocksErr("", "%s", clip(err.Error()))
	}
	var more yaml.Node
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		return Clocks{}, clocksErr("", "more than one YAML document")
	}
	if _, ok := raw.Regimes[RegimeCN]; !ok {
		return Clocks{}, clocksErr("regimes", "the %q regime is required", RegimeCN)
	}
	c := Clocks{Regimes: map[string]Regime{}}
	for name, rr := range raw.Regimes {
		f := "regimes." + clip(name)
		if !regimeName.MatchString(name) {
			return Clocks{}, clocksErr(f, "a regime's name is lower-case letters, digits and _")
		}
		r := Regime{Report: map[string]map[string]time.Duration{}, PassOn: map[string]time.Duration{}}
		var err error
		if r.WarnBefore, err = duration(f+".warn_before", rr.WarnBefore); err != nil {
			return Clocks{}, err
		}
		if len(rr.Report) == 0 {
			return Clocks{}, clocksErr(f+".report", "required: the deadlines by operator type and level")
		}
		for op, levels := range rr.Report {
			of := f + ".report." + clip(op)
			if op != OperatorAny && !slices.Contains(OperatorTypes, op) {
				return Clocks{}, clocksErr(of, "unknown operator type (want %s or %s)", strings.Join(OperatorTypes, ", "), OperatorAny)
			}
			if _, hasAny := rr.Report[OperatorAny]; hasAny && op != OperatorAny {
				return Clocks{}, clocksErr(of, "a regime lists either %q or operator types, not both", OperatorAny)
			}
			r.Report[op] = map[string]time.Duration{}
			for lv, v := range levels {
				lf := of + "." + clip(lv)
				if !ValidLevel(lv) {
					return Clocks{}, clocksErr(lf, "unknown level (want %s)", strings.Join(LevelIDs(), ", "))
				}
				d, err := duration(lf, v)
				if err != nil {
					return Clocks{}, err
				}
				if d <= r.WarnBefore {
					return Clocks{}, clocksErr(lf, "the deadline is not longer than warn_before")
				}
				r.Report[op][lv] = d
			}
		}
		for lv, v := range rr.PassOn {
			lf := f + ".pass_on." + clip(lv)
			if !ValidLevel(lv) {
				return Clocks{}, clocksErr(lf, "unknown level (want %s)", strings.Join(LevelIDs(), ", "))
			}
			if r.PassOn[lv], err = duration(lf, v); err != nil {
				return Clocks{}, err
			}
			if r.PassOn[lv] <= r.WarnBefore {
				return Clocks{}, clocksErr(lf, "the deadline is not longer than warn_before")
			}
		}
		c.Regimes[name] = r
	}
	return c, nil
}

// duration parses a positive duration of at most 366 days: Go's form (90m, 1h30m) or a
// whole number of days (60d).
func duration(field, s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, clocksErr(field, "required (a duration: 15m, 1h, 60d)")
	}
	var d time.Duration
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days < 1 || days > 366 {
			return 0, clocksErr(field, "%q is not a number of days from 1 to 366", clip(s))
		}
		d = time.Duration(days) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, clocksErr(field, "%q is not a duration (15m, 1h, 60d)", clip(s))
		}
	}
	if d <= 0 || d > maxDeadline {
		return 0, clocksErr(field, "%q is not between zero and 366 days", clip(s))
	}
	return d, nil
}

// clip shortens text quoted in an error.
func clip(s string) string {
	if r := []rune(s); len(r) > 60 {
		return string(r[:60]) + "…"
	}
	return s
}
