package dlp

import (
	"bytes"
	"cmp"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

// Scanner finds patient data in texts. It is safe for concurrent use.
type Scanner struct {
	detectors []Detector
	kinds     []typeKind // the enabled types, each once
	minConf   float64
	pool      sync.Pool // *scratch
}

// typeKind is an enabled type and its classification, looked up by a
// linear search: a handful of short strings compare faster than a map
// look-up hashes one.
type typeKind struct {
	name  string
	class Classification
}

// kind returns the classification of type t and whether t is enabled.
func (s *Scanner) kind(t string) (Classification, bool) {
	for i := range s.kinds {
		if k := &s.kinds[i]; len(k.name) == len(t) && k.name == t {
			return k.class, true
		}
	}
	return Classification{}, false
}

// NewScanner builds a Scanner from cfg, compiling custom patterns and
// loading the embedded dictionaries. Errors wrap ErrConfig.
func NewScanner(cfg Config) (*Scanner, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Scanner{minConf: cfg.MinConfidence}
	requested := map[string]bool{}
	for _, t := range cfg.Types {
		requested[t] = true
	}
	on := func(t string) bool { return len(cfg.Types) == 0 || requested[t] }
	for _, t := range AllTypes() {
		if on(t) {
			c, _ := Classify(t)
			s.kinds = append(s.kinds, typeKind{t, c})
		}
	}
	if st := newStructured(on); st.any() {
		s.detectors = append(s.detectors, st)
	}
	dict, err := newDictionaries(on)
	if err != nil {
		return nil, err
	}
	if dict != nil {
		s.detectors = append(s.detectors, dict)
	}
	for i, ci := range cfg.Custom {
		if !on(ci.Name) {
			continue
		}
		re, err := regexp.Compile(ci.Pattern)
		if err != nil {
			return nil, fmt.Errorf("%w: custom[%d].pattern: %v", ErrConfig, i, err)
		}
		c := Classification{Category: CategoryMedicalApplication, Level: 4}
		if ci.Category != "" {
			c.Category = ci.Category
		}
		if ci.Level != 0 {
			c.Level = ci.Level
		}
		s.kinds = append(s.kinds, typeKind{ci.Name, c}) // custom names are unique and not built-in (validate)
		words := make([]string, len(ci.Context))
		for k, w := range ci.Context {
			words[k] = strings.ToLower(w)
		}
		s.detectors = append(s.detectors, &custom{name: ci.Name, re: re, context: newWordSet(words), require: ci.RequireContext})
	}
	return s, nil
}

// Types returns the types this Scanner reports, sorted.
func (s *Scanner) Types() []string {
	out := make([]string, 0, len(s.kinds))
	for _, k := range s.kinds {
		out = append(out, k.name)
	}
	slices.Sort(out)
	return out
}

// scratch holds the raw findings of one Scan and where each detector's
// findings begin; it is reused through Scanner.pool.
type scratch struct {
	found    []Finding
	previews []byte
	segs     []int
	heads    []int
}

// Scan returns the findings in text, ordered by position and not
// overlapping. text should be UTF-8; invalid bytes are tolerated. Every
// span lies inside text on rune boundaries.
func (s *Scanner) Scan(text []byte) []Finding {
	out := s.AppendScan(nil, text)
	if len(out) == 0 {
		return nil
	}
	return slices.Clip(out)
}

// AppendScan appends the findings of Scan(text) to dst and returns the
// extended slice, so that a caller scanning many texts can reuse one
// buffer.
func (s *Scanner) AppendScan(dst []Finding, text []byte) []Finding {
	sc, _ := s.pool.Get().(*scratch)
	if sc == nil {
		sc = &scratch{}
	}
	defer s.pool.Put(sc)
	found := sc.found[:0]
	lastType, lastOn := "", false
	emit := func(f Finding) {
		if f.Start < 0 || f.End > len(text) || f.Start >= f.End ||
			!utf8.RuneStart(text[f.Start]) || f.End < len(text) && !utf8.RuneStart(text[f.End]) {
			return
		}
		if f.Type != lastType {
			_, on := s.kind(f.Type)
			lastType, lastOn = f.Type, on
		}
		if lastOn {
			found = append(found, f)
		}
	}
	segs := sc.segs[:0]
	for _, d := range s.detectors {
		segs = append(segs, len(found))
		d.Find(text, emit)
	}
	segs = append(segs, len(found))
	sc.found, sc.segs = found, segs
	if len(found) == 0 {
		return dst
	}
	// Each detector reports mostly in order: sort each one's findings
	// (stably, so that ties keep detector order) and merge them.
	for k := 0; k+1 < len(segs); k++ {
		if seg := found[segs[k]:segs[k+1]]; !slices.IsSortedFunc(seg, byPosition) {
			slices.SortStableFunc(seg, byPosition)
		}
	}
	heads := append(sc.heads[:0], segs[:len(segs)-1]...)
	sc.heads = heads
	first := len(dst)
	out := slices.Grow(dst, len(found))
	for {
		best := -1
		for k, h := range heads {
			if h < segs[k+1] && (best < 0 || byPosition(found[h], found[heads[best]]) < 0) {
				best = k
			}
		}
		if best < 0 {
			break
		}
		f := found[heads[best]]
		heads[best]++
		if f.Confidence < s.minConf {
			continue
		}
		if k := len(out) - 1; k >= first && f.Start < out[k].End {
			if better(f, out[k]) {
				out[k] = f
			}
			continue
		}
		out = append(out, f)
	}
	// The previews are written into one buffer and become substrings of
	// one string: one allocation instead of one a finding.
	prev := sc.previews[:0]
	for i := first; i < len(out); i++ {
		prev = appendMask(prev, out[i].Type, text[out[i].Start:out[i].End])
		out[i].Line = len(prev) // end of the preview, for now
	}
	sc.previews = prev
	all := string(prev)
	line, pos, from := 1, 0, 0
	var lastClass string
	var c Classification
	for i := first; i < len(out); i++ {
		f := &out[i]
		f.Preview, from = all[from:f.Line], f.Line
		line += bytes.Count(text[pos:f.Start], []byte{'\n'})
		pos = f.Start
		f.Line = line
		if f.Type != lastClass {
			lastClass = f.Type
			c, _ = s.kind(f.Type)
		}
		f.Category = c.Category
		f.Level = max(f.Level, c.Level)
		f.Confidence = math.Round(f.Confidence*100) / 100
	}
	return out
}

func byPosition(a, b Finding) int {
	return cmp.Or(cmp.Compare(a.Start, b.Start), cmp.Compare(b.End, a.End))
}

// better reports whether finding a should replace the overlapping b.
func better(a, b Finding) bool {
	if a.Confidence != b.Confidence {
		return a.Confidence > b.Confidence
	}
	return a.End-a.Start > b.End-b.Start
}

// custom finds a site-configured identifier with its regular expression.
type custom struct {
	name    string
	re      *regexp.Regexp
	context *wordSet
	require bool
}

// Types implements Detector.
func (c *custom) Types() []string { return []string{c.name} }

// Find implements Detector.
func (c *custom) Find(text []byte, emit func(Finding)) {
	for _, m := range c.re.FindAllIndex(text, -1) {
		if m[0] == m[1] {
			continue
		}
		conf := 0.6
		if hasContext(text, m[0], c.context) {
			conf = 0.9
		} else if c.require {
			continue
		}
		emit(Finding{Type: c.name, Start: m[0], End: m[1], Confidence: conf})
	}
}
