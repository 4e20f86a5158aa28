// Package control owns medguard's control catalogues: the requirement trees of MLPS 2.0
// level 3 (GB/T 22239-2019), GB/T 39725-2020 (health and medical data security) and the
// HIPAA Security Rule, embedded as YAML files in both languages, with the cross-mappings
// between controls that serve several catalogues and the automatic-evidence checks an
// item can be backed by. Catalogues are read-only data: they are parsed and validated
// once, and assessments refer to their items by catalogue name and id.
package control

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// CheckNames lists the automatic-evidence checks an item may name in its checks.
var CheckNames = []string{
	"mfa.admins",          // MFA enforced for administrators
	"events.retention",    // audit events retained at least 6 months
	"trail.chain",         // the trail chain intact
	"vuln.sla",            // no critical vulnerability older than its SLA on level-3 systems
	"dlp.scans",           // patient-data scans run in the period
	"incident.clocks",     // incidents reported within their clocks
	"training.completion", // required training completed
	"delivery.verified",   // deliveries verified before go-live
	"dataflow.register",   // outbound data flows have agreement, encryption, de-identification
	"policy.reviews",      // policies reviewed on time
}

// Limits of a catalogue file.
const (
	MaxFileSize = 2 << 20 // bytes of one YAML file
	MaxNodes    = 5000    // nodes in one catalogue
	MaxLevels   = 6       // depth of the tree
	MaxTitle    = 300     // runes of a title
	MaxText     = 4000    // runes of a text
	MaxIDLen    = 64      // bytes of an id
)

// ErrCatalogue is wrapped by every error of Parse and ParseMappings.
var ErrCatalogue = errors.New("control: invalid catalogue")

// Text is a string in both languages.
type Text struct {
	ZhCN string `yaml:"zh-CN" json:"zh-CN"`
	EN   string `yaml:"en" json:"en"`
}

// In returns the text in lang ("zh-CN" or "en"), falling back to English when the
// language is another or its text is empty.
func (t Text) In(lang string) string {
	if lang == "zh-CN" && t.ZhCN != "" {
		return t.ZhCN
	}
	if t.EN == "" {
		return t.ZhCN
	}
	return t.EN
}

// IsZero reports whether the text is empty in both languages.
func (t Text) IsZero() bool { return t.ZhCN == "" && t.EN == "" }

// UnmarshalYAML reads {zh-CN, en}, refusing other keys.
func (t *Text) UnmarshalYAML(v *yaml.Node) error {
	if err := onlyKeys(v, "zh-CN", "en"); err != nil {
		return err
	}
	type plain Text
	return v.Decode((*plain)(t))
}

// Node is one node of a catalogue's tree: a category, a control or a requirement item.
type Node struct {
	ID    string `yaml:"id"`
	Level string `yaml:"level"`
	Title Text   `yaml:"title"`
	Text  Text   `yaml:"text"`
	// Required is set where the catalogue distinguishes (HIPAA: required, or addressable
	// when false).
	Required *bool    `yaml:"required"`
	Checks   []string `yaml:"checks"`
	Children []*Node  `yaml:"children"`

	line int
}

var nodeKeys = []string{"id", "level", "title", "text", "required", "checks", "children"}

// UnmarshalYAML reads a node, refusing unknown keys and keeping its line for errors.
func (n *Node) UnmarshalYAML(v *yaml.Node) error {
	if err := onlyKeys(v, nodeKeys...); err != nil {
		return err
	}
	type plain Node
	if err := v.Decode((*plain)(n)); err != nil {
		return err
	}
	n.line = v.Line
	return nil
}

// IsLeaf reports whether the node has no children (a requirement item).
func (n *Node) IsLeaf() bool { return len(n.Children) == 0 }

func onlyKeys(v *yaml.Node, keys ...string) error {
	if v.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: want a mapping", v.Line)
	}
	for i := 0; i+1 < len(v.Content); i += 2 {
		k := v.Content[i]
		if !slices.Contains(keys, k.Value) {
			return fmt.Errorf("line %d: unknown field %q (want %s)", k.Line, k.Value, strings.Join(keys, ", "))
		}
	}
	return nil
}

// Catalogue is one control catalogue: a tree of nodes whose depth names its level.
type Catalogue struct {
	Name    string   `yaml:"name"`
	Title   Text     `yaml:"title"`
	Source  string   `yaml:"source"`
	Version string   `yaml:"version"`
	Counted Text     `yaml:"counted"` // what the catalogue's author counted, as said in its header
	Levels  []string `yaml:"levels"`
	Nodes   []*Node  `yaml:"nodes"`

	index map[string]*Node
	items []*Node
}

var (
	nameRE  = regexp.MustCompile(`^[a-z][a-z0-9]{1,31}$`)
	levelRE = regexp.MustCompile(`^[a-z][a-z_]{0,31}$`)
	idRE    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.()_\-]*$`)
)

// Parse reads one catalogue from YAML and validates it strictly: only the schema's keys;
// a name, a title in both languages, a source and a version; 1 to MaxLevels distinct
// level names; ids unique and of letters, digits and . ( ) _ -; each node's level the
// level named for its depth; titles in both languages; leaves with a text in both
// languages; checks only from CheckNames; sizes bounded. Errors name the node and line.
func Parse(data []byte) (*Catalogue, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrCatalogue}, args...)...)
	}
	if len(data) > MaxFileSize {
		return nil, bad("larger than %d bytes", MaxFileSize)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var c Catalogue
	if err := dec.Decode(&c); err != nil {
		return nil, bad("%v", err)
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, bad("more than one YAML document")
	}
	if !nameRE.MatchString(c.Name) {
		return nil, bad("name %q must be 2–32 lower-case letters and digits", c.Name)
	}
	if err := checkText("title", c.Title, MaxTitle, true); err != nil {
		return nil, bad("%s: %v", c.Name, err)
	}
	if err := checkText("counted", c.Counted, MaxText, true); err != nil {
		return nil, bad("%s: %v", c.Name, err)
	}
	for what, v := range map[string]string{"source": c.Source, "version": c.Version} {
		if strings.TrimSpace(v) == "" || utf8.RuneCountInString(v) > MaxTitle || !clean(v) {
			return nil, bad("%s: %s must be 1–%d characters", c.Name, what, MaxTitle)
		}
	}
	if len(c.Levels) == 0 || len(c.Levels) > MaxLevels {
		return nil, bad("%s: %d levels, want 1 to %d", c.Name, len(c.Levels), MaxLevels)
	}
	for i, l := range c.Levels {
		if !levelRE.MatchString(l) || slices.Contains(c.Levels[:i], l) {
			return nil, bad("%s: level %q must be distinct lower-case letters and _", c.Name, l)
		}
	}
	if len(c.Nodes) == 0 {
		return nil, bad("%s: no nodes", c.Name)
	}
	c.index = map[string]*Node{}
	var walk func(ns []*Node, depth int) error
	walk = func(ns []*Node, depth int) error {
		for _, n := range ns {
			if n == nil {
				return bad("%s: an empty node at depth %d", c.Name, depth+1)
			}
			at := fmt.Sprintf("%s: node %q (line %d)", c.Name, n.ID, n.line)
			if len(n.ID) > MaxIDLen || !idRE.MatchString(n.ID) {
				return bad("%s: id must be 1–%d letters, digits and . ( ) _ -", at, MaxIDLen)
			}
			if prev, dup := c.index[n.ID]; dup {
				return bad("%s: id defined twice (first at line %d)", at, prev.line)
			}
			if len(c.index) >= MaxNodes {
				return bad("%s: more than %d nodes", c.Name, MaxNodes)
			}
			c.index[n.ID] = n
			if depth >= len(c.Levels) {
				return bad("%s: deeper than the %d levels", at, len(c.Levels))
			}
			if n.Level != c.Levels[depth] {
				return bad("%s: level %q, want %q at depth %d", at, n.Level, c.Levels[depth], depth+1)
			}
			if err := checkText("title", n.Title, MaxTitle, true); err != nil {
				return bad("%s: %v", at, err)
			}
			if err := checkText("text", n.Text, MaxText, n.IsLeaf()); err != nil {
				return bad("%s: %v", at, err)
			}
			for i, ch := range n.Checks {
				if !slices.Contains(CheckNames, ch) {
					return bad("%s: unknown check %q (want one of %s)", at, ch, strings.Join(CheckNames, ", "))
				}
				if slices.Contains(n.Checks[:i], ch) {
					return bad("%s: check %q named twice", at, ch)
				}
			}
			if n.IsLeaf() {
				c.items = append(c.items, n)
			} else if err := walk(n.Children, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(c.Nodes, 0); err != nil {
		return nil, err
	}
	return &c, nil
}

// checkText checks a bilingual text: both languages or neither (both when required),
// within max runes, valid UTF-8 without NUL.
func checkText(what string, t Text, max int, required bool) error {
	if t.IsZero() && !required {
		return nil
	}
	for _, v := range []string{t.ZhCN, t.EN} {
		if strings.TrimSpace(v) == "" || utf8.RuneCountInString(v) > max || !clean(v) {
			return fmt.Errorf("%s needs zh-CN and en of 1–%d characters", what, max)
		}
	}
	return nil
}

func clean(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

// Find returns the node with the id.
func (c *Catalogue) Find(id string) (*Node, bool) {
	n, ok := c.index[id]
	return n, ok
}

// Items returns the leaves (requirement items) in the order of the file.
func (c *Catalogue) Items() []*Node { return slices.Clone(c.items) }

// Counts returns the number of nodes at each level, by level name.
func (c *Catalogue) Counts() map[string]int {
	m := map[string]int{}
	for _, l := range c.Levels {
		m[l] = 0
	}
	for _, n := range c.index {
		m[n.Level]++
	}
	return m
}

// Walk calls fn for every node, depth first in file order, with its depth (0 at the top).
func (c *Catalogue) Walk(fn func(n *Node, depth int)) {
	var walk func(ns []*Node, d int)
	walk = func(ns []*Node, d int) {
		for _, n := range ns {
			fn(n, d)
			walk(n.Children, d+1)
		}
	}
	walk(c.Nodes, 0)
}
