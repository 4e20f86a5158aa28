// Package mask owns medguard's de-identification of text, CSV/TSV tables
// and JSON documents: every value the dlp scanner detects, and every cell of
// a column named by the policy, is replaced by one of five methods —
// redaction, partial masking, a keyed pseudonym (HMAC-SM3 or HMAC-SHA-256),
// a format-preserving token or a generalization — while the structure of
// the input is kept. For tables it computes the re-identification risk of
// the output (k-anonymity and l-diversity over chosen quasi-identifiers).
package mask

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"hash"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/emmansun/gmsm/sm3"
	"go.yaml.in/yaml/v3"

	"github.com/medguard/medguard/internal/dlp"
)

// Masking methods.
const (
	// MethodRedact replaces a value by "[type]".
	MethodRedact = "redact"
	// MethodPartial keeps the first and last few characters
	// (110***********1234), as dlp.Mask.
	MethodPartial = "partial"
	// MethodPseudonym replaces a value by a keyed pseudonym, the same for
	// the same value and key in every file and run.
	MethodPseudonym = "pseudonym"
	// MethodToken replaces every digit, letter and Han character by one
	// of the same class derived from the keyed HMAC of the value, keeping
	// length and punctuation.
	MethodToken = "token"
	// MethodGeneralize coarsens a value: a date to its year, an age to a
	// ten-year band, an address to its district, a resident ID to its
	// birth year, a mobile number to its segment; what it cannot coarsen
	// is redacted.
	MethodGeneralize = "generalize"
	// MethodKeep leaves a value as it is.
	MethodKeep = "keep"
)

// Methods lists the masking methods.
func Methods() []string {
	return []string{MethodRedact, MethodPartial, MethodPseudonym, MethodToken, MethodGeneralize, MethodKeep}
}

// Hash functions of pseudonyms and tokens.
const (
	HashSM3    = "sm3"
	HashSHA256 = "sha256"
)

// ErrPolicy is wrapped by every policy error.
var ErrPolicy = errors.New("mask: invalid policy")

// Policy chooses a method per detected type and per column (a CSV/TSV
// header or a JSON object key).
type Policy struct {
	// Default is the method for detected types not in Types; empty
	// means partial.
	Default string `yaml:"default" json:"default"`
	// Types maps a detected type (cn_resident_id, person_name …) to a
	// method.
	Types map[string]string `yaml:"types" json:"types"`
	// Columns maps a column name or JSON key to a method applied to the
	// whole cell, whether or not anything is detected in it.
	Columns map[string]string `yaml:"columns" json:"columns"`
	// Hash is the HMAC hash of pseudonyms and tokens: sm3 (default) or
	// sha256.
	Hash string `yaml:"hash" json:"hash"`
}

// DefaultPolicy masks every detected value with the partial method.
func DefaultPolicy() Policy { return Policy{Default: MethodPartial, Hash: HashSM3} }

// ParsePolicy reads a YAML policy, rejecting unknown keys, methods and
// hashes.
func ParsePolicy(data []byte) (Policy, error) {
	p := Policy{}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&p); err != nil && !errors.Is(err, io.EOF) {
		return Policy{}, fmt.Errorf("%w: %v", ErrPolicy, err)
	}
	if err := p.Validate(); err != nil {
		return Policy{}, err
	}
	return p, nil
}

// Validate checks the methods, types and hash of p.
func (p Policy) Validate() error {
	valid := func(where, m string) error {
		if !slices.Contains(Methods(), m) {
			return fmt.Errorf("%w: %s: unknown method %q (want %s)", ErrPolicy, where, m, strings.Join(Methods(), ", "))
		}
		return nil
	}
	if p.Default != "" {
		if err := valid("default", p.Default); err != nil {
			return err
		}
	}
	for _, t := range sortedKeys(p.Types) {
		if err := valid("types."+t, p.Types[t]); err != nil {
			return err
		}
	}
	for _, c := range sortedKeys(p.Columns) {
		if err := valid("columns."+c, p.Columns[c]); err != nil {
			return err
		}
	}
	if p.Hash != "" && p.Hash != HashSM3 && p.Hash != HashSHA256 {
		return fmt.Errorf("%w: hash %q: want sm3 or sha256", ErrPolicy, p.Hash)
	}
	return nil
}

// NeedsKey reports whether p uses a keyed method.
func (p Policy) NeedsKey() bool {
	for _, m := range p.methods() {
		if m == MethodPseudonym || m == MethodToken {
			return true
		}
	}
	return false
}

func (p Policy) methods() []string {
	out := []string{p.Default}
	for _, m := range p.Types {
		out = append(out, m)
	}
	for _, m := range p.Columns {
		out = append(out, m)
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Stats counts the values masked, per type ("column" for cells masked by
// a column policy with nothing detected in them).
type Stats struct {
	Masked map[string]int `json:"masked"`
}

func (s *Stats) add(typ string) {
	if s.Masked == nil {
		s.Masked = map[string]int{}
	}
	if typ == "" {
		typ = "column"
	}
	s.Masked[typ]++
}

// Masker de-identifies values found by a dlp.Scanner under a Policy. It is
// safe for concurrent use.
type Masker struct {
	scanner *dlp.Scanner
	policy  Policy
	key     []byte
	newHash func() hash.Hash
}

// New returns a Masker. key must not be empty when the policy uses
// pseudonyms or tokens.
func New(s *dlp.Scanner, p Policy, key []byte) (*Masker, error) {
	if s == nil {
		return nil, errors.New("mask: no scanner")
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if p.Default == "" {
		p.Default = MethodPartial
	}
	if p.NeedsKey() && len(key) == 0 {
		return nil, fmt.Errorf("%w: pseudonym and token need a key", ErrPolicy)
	}
	m := &Masker{scanner: s, policy: p, key: bytes.Clone(key), newHash: sm3.New}
	if p.Hash == HashSHA256 {
		m.newHash = sha256.New
	}
	return m, nil
}

// Text returns text with every detected value replaced by its type's
// method. Invalid UTF-8 is replaced by U+FFFD.
func (m *Masker) Text(text []byte, st *Stats) []byte {
	text = bytes.ToValidUTF8(text, []byte("\uFFFD"))
	found := m.scanner.Scan(text)
	if len(found) == 0 {
		return text
	}
	out := make([]byte, 0, len(text))
	pos := 0
	for _, f := range found {
		method := m.typeMethod(f.Type)
		if method == MethodKeep {
			continue
		}
		out = append(out, text[pos:f.Start]...)
		out = append(out, m.Value(method, f.Type, string(text[f.Start:f.End]))...)
		pos = f.End
		if st != nil {
			st.add(f.Type)
		}
	}
	return append(out, text[pos:]...)
}

// typeMethod is the method for a detected type.
func (m *Masker) typeMethod(typ string) string {
	if mt, ok := m.policy.Types[typ]; ok {
		return mt
	}
	return m.policy.Default
}

// columnMethod is the method for a column, and whether one is set.
func (m *Masker) columnMethod(col string) (string, bool) {
	mt, ok := m.policy.Columns[col]
	return mt, ok
}

// cell masks a table cell or JSON string: by its column's method when the
// policy names the column, else the values detected in it.
func (m *Masker) cell(col, v string, st *Stats) string {
	method, ok := m.columnMethod(col)
	if !ok {
		return string(m.Text([]byte(v), st))
	}
	if v == "" || method == MethodKeep {
		return v
	}
	v = strings.ToValidUTF8(v, "\uFFFD")
	typ := ""
	if found := m.scanner.Scan([]byte(v)); len(found) > 0 {
		typ = found[0].Type
	}
	if st != nil {
		st.add(typ)
	}
	return m.Value(method, typ, v)
}

// Value applies method to v, a value of type typ ("" when unknown).
func (m *Masker) Value(method, typ, v string) string {
	switch method {
	case MethodKeep:
		return v
	case MethodPartial:
		return dlp.Mask(typ, []byte(v))
	case MethodPseudonym:
		if len(m.key) == 0 {
			break
		}
		sum := m.mac("pseudonym", v)
		return "PSN-" + base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:10])
	case MethodToken:
		if len(m.key) == 0 {
			break
		}
		return m.token(v)
	case MethodGeneralize:
		if g, ok := generalize(typ, v); ok {
			return g
		}
	}
	if typ == "" {
		return "[redacted]"
	}
	return "[" + typ + "]"
}

// mac returns the HMAC of v under the key, separated by purpose.
func (m *Masker) mac(purpose, v string) []byte {
	h := hmac.New(m.newHash, m.key)
	h.Write([]byte(purpose))
	h.Write([]byte{0})
	h.Write([]byte(strings.TrimSpace(v)))
	return h.Sum(nil)
}

// token replaces each digit, ASCII letter and Han character of v by one of
// the same class drawn from a keyed stream derived from v; the rest is
// kept.
func (m *Masker) token(v string) string {
	seed := m.mac("token", v)
	var stream []byte
	counter := 0
	next := func() uint32 {
		for len(stream) < 4 {
			h := hmac.New(m.newHash, m.key)
			h.Write(seed)
			h.Write([]byte(strconv.Itoa(counter)))
			counter++
			stream = append(stream, h.Sum(nil)...)
		}
		x := uint32(stream[0])<<24 | uint32(stream[1])<<16 | uint32(stream[2])<<8 | uint32(stream[3])
		stream = stream[4:]
		return x
	}
	var b strings.Builder
	b.Grow(len(v))
	for _, r := range v {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune('0' + rune(next()%10))
		case r >= 'A' && r <= 'Z':
			b.WriteRune('A' + rune(next()%26))
		case r >= 'a' && r <= 'z':
			b.WriteRune('a' + rune(next()%26))
		case unicode.Is(unicode.Han, r) && utf8.RuneLen(r) == 3:
			b.WriteRune(0x4E00 + rune(next()%(0x9FA5-0x4E00+1)))
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
