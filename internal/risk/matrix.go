package risk

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// The smallest and largest number of likelihood or impact steps a matrix may have.
const (
	MinSteps = 3
	MaxSteps = 6
)

//go:embed default_matrix.yaml
var defaultMatrix []byte

// Matrix is a likelihood × impact risk matrix: the labels of its steps, its levels
// (bands) lowest first, and the level of every cell. Likelihood and impact are numbered
// from 1. A Matrix is built by ParseMatrix and not changed afterwards.
type Matrix struct {
	ID         string     `json:"id" yaml:"id"`
	Likelihood []Step     `json:"likelihood" yaml:"likelihood"`
	Impact     []Step     `json:"impact" yaml:"impact"`
	Levels     []Band     `json:"levels" yaml:"levels"`
	Grid       [][]string `json:"grid" yaml:"grid"` // Grid[l-1][i-1] is a level id
}

// Step is the label of one step of likelihood or impact, in English and Chinese.
type Step struct {
	EN string `json:"en" yaml:"en"`
	Zh string `json:"zh" yaml:"zh"`
}

// Label returns the step's label in lang (i18n.ZhCN or English otherwise).
func (s Step) Label(lang string) string {
	if lang == "zh-CN" {
		return s.Zh
	}
	return s.EN
}

// Band is one level of a matrix: its id (low, medium, high, critical …), its labels and
// the review cadence of a risk at that level, in days.
type Band struct {
	ID         string `json:"id" yaml:"id"`
	EN         string `json:"en" yaml:"en"`
	Zh         string `json:"zh" yaml:"zh"`
	ReviewDays int    `json:"review_days" yaml:"review_days"`
}

// DefaultMatrix returns the built-in 5 × 5 matrix with the levels low, medium, high and
// critical (default_matrix.yaml).
func DefaultMatrix() *Matrix {
	m, err := ParseMatrix(defaultMatrix)
	if err != nil {
		panic("risk: the built-in matrix: " + err.Error())
	}
	return m
}

var levelID = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)

// ErrMatrix is wrapped by every error of ParseMatrix.
var ErrMatrix = errors.New("risk: invalid matrix")

// ParseMatrix reads a matrix from YAML (see default_matrix.yaml) and checks it
// strictly: no unknown fields; 3 to 6 steps of likelihood and of impact (the matrix
// may be rectangular), each with both labels; 2 to 6 levels with distinct ids, labels
// and a review cadence of 1 to 3660 days; a grid with one row per likelihood step and
// one cell per impact step, every cell a known level; every level used; and levels that
// never go down as likelihood or impact rise.
func ParseMatrix(b []byte) (*Matrix, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrMatrix}, args...)...)
	}
	if len(b) > 64<<10 {
		return nil, bad("larger than 64 KiB")
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var m Matrix
	if err := dec.Decode(&m); err != nil {
		return nil, bad("%v", err)
	}
	if m.ID = strings.TrimSpace(m.ID); m.ID == "" || len(m.ID) > 64 || !utf8.ValidString(m.ID) {
		return nil, bad("id must be 1–64 characters")
	}
	label := func(what string, en, zh string) error {
		for _, v := range []string{en, zh} {
			if strings.TrimSpace(v) == "" || utf8.RuneCountInString(v) > 64 || !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
				return bad("%s needs an English and a Chinese label of 1–64 characters", what)
			}
		}
		return nil
	}
	for name, steps := range map[string][]Step{"likelihood": m.Likelihood, "impact": m.Impact} {
		if len(steps) < MinSteps || len(steps) > MaxSteps {
			return nil, bad("%s has %d steps, want %d to %d", name, len(steps), MinSteps, MaxSteps)
		}
		for i, s := range steps {
			if err := label(fmt.Sprintf("%s step %d", name, i+1), s.EN, s.Zh); err != nil {
				return nil, err
			}
		}
	}
	if len(m.Levels) < 2 || len(m.Levels) > 6 {
		return nil, bad("%d levels, want 2 to 6", len(m.Levels))
	}
	rank := map[string]int{}
	for i, l := range m.Levels {
		if !levelID.MatchString(l.ID) {
			return nil, bad("level id %q must be lower-case letters, digits and _", l.ID)
		}
		if _, dup := rank[l.ID]; dup {
			return nil, bad("level %q is defined twice", l.ID)
		}
		if err := label("level "+l.ID, l.EN, l.Zh); err != nil {
			return nil, err
		}
		if l.ReviewDays < 1 || l.ReviewDays > 3660 {
			return nil, bad("level %s: review_days must be 1 to 3660", l.ID)
		}
		rank[l.ID] = i + 1
	}
	if len(m.Grid) != len(m.Likelihood) {
		return nil, bad("the grid has %d rows, want one per likelihood step (%d)", len(m.Grid), len(m.Likelihood))
	}
	used := map[string]bool{}
	for l, row := range m.Grid {
		if len(row) != len(m.Impact) {
			return nil, bad("grid row %d has %d cells, want one per impact step (%d)", l+1, len(row), len(m.Impact))
		}
		for i, c := range row {
			r, ok := rank[c]
			if !ok {
				return nil, bad("cell (%d, %d): unknown level %q", l+1, i+1, c)
			}
			used[c] = true
			if i > 0 && r < rank[row[i-1]] {
				return nil, bad("cell (%d, %d): the level goes down as impact rises", l+1, i+1)
			}
			if l > 0 && r < rank[m.Grid[l-1][i]] {
				return nil, bad("cell (%d, %d): the level goes down as likelihood rises", l+1, i+1)
			}
		}
	}
	for _, l := range m.Levels {
		if !used[l.ID] {
			return nil, bad("level %s is in no cell", l.ID)
		}
	}
	return &m, nil
}

// Valid reports whether likelihood l and impact i are steps of m.
func (m *Matrix) Valid(l, i int) bool {
	return l >= 1 && l <= len(m.Likelihood) && i >= 1 && i <= len(m.Impact)
}

// Level returns the level id of the cell of likelihood l and impact i, "" when the cell
// is outside the matrix.
func (m *Matrix) Level(l, i int) string {
	if !m.Valid(l, i) {
		return ""
	}
	return m.Grid[l-1][i-1]
}

// Score returns likelihood × impact, 0 when the cell is outside the matrix. It orders
// risks of the same level.
func (m *Matrix) Score(l, i int) int {
	if !m.Valid(l, i) {
		return 0
	}
	return l * i
}

// Rank returns the position of level id among m's levels, 1 for the lowest, 0 for an
// unknown id.
func (m *Matrix) Rank(id string) int {
	for i, l := range m.Levels {
		if l.ID == id {
			return i + 1
		}
	}
	return 0
}

// Band returns the level id's band, and whether m has it.
func (m *Matrix) Band(id string) (Band, bool) {
	if r := m.Rank(id); r > 0 {
		return m.Levels[r-1], true
	}
	return Band{}, false
}
