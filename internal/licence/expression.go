package licence

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/github/go-spdx/v2/spdxexp/spdxlicenses"
)

// maxDepth bounds the nesting of parentheses and operators in an expression.
const maxDepth = 64

// maxLength bounds the length of an expression, in bytes.
const maxLength = 16 << 10

// licenceIndex holds the SPDX licence and exception ids of go-spdx's licence list, keyed
// by their lower-case form. It is built once and only read afterwards.
type licenceIndex struct {
	licences   map[string]string // active and deprecated licence ids
	exceptions map[string]string
}

var spdxIndex = sync.OnceValue(func() *licenceIndex {
	ix := &licenceIndex{licences: map[string]string{}, exceptions: map[string]string{}}
	for _, list := range [][]string{spdxlicenses.GetDeprecated(), spdxlicenses.GetLicenses()} {
		for _, id := range list {
			ix.licences[strings.ToLower(id)] = id
		}
	}
	for _, id := range spdxlicenses.GetExceptions() {
		ix.exceptions[strings.ToLower(id)] = id
	}
	return ix
})

// term is one licence of an expression: an SPDX id or a LicenseRef, possibly "or later",
// possibly with an exception.
type term struct {
	id        string // canonical SPDX id ("GPL-2.0-only") or [DocumentRef-x:]LicenseRef-y
	ref       bool   // id is a LicenseRef
	exception string // canonical exception id or [DocumentRef-x:]AdditionRef-y; "" if none
}

// String renders the term as it is matched against a policy.
func (t term) String() string {
	if t.exception != "" {
		return t.id + " WITH " + t.exception
	}
	return t.id
}

// node is a parsed expression: a term, or an operator over two operands.
type node struct {
	op          string // "", "AND" or "OR"
	left, right *node
	term        term
}

// parseExpression parses an SPDX licence expression (SPDX 2.3 annex D): licence ids and
// LicenseRefs (optionally with DocumentRef-), "+", WITH, AND, OR and parentheses, with
// operators in any case; precedence + > WITH > AND > OR. Ids are checked against the SPDX
// licence list and normalised (see normalise).
func parseExpression(s string) (*node, error) {
	if len(s) > maxLength {
		return nil, fmt.Errorf("expression longer than %d bytes", maxLength)
	}
	p := &parser{toks: tokenize(s)}
	if len(p.toks) == 0 {
		return nil, errors.New("empty expression")
	}
	n, err := p.or(0)
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.toks) {
		return nil, fmt.Errorf("unexpected %q", p.toks[p.pos])
	}
	return n, nil
}

// tokenize splits on white space and around parentheses.
func tokenize(s string) []string {
	var toks []string
	start := -1
	flush := func(i int) {
		if start >= 0 {
			toks = append(toks, s[start:i])
			start = -1
		}
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ' ', '\t', '\n', '\r', '\f', '\v':
			flush(i)
		case '(', ')':
			flush(i)
			toks = append(toks, string(c))
		default:
			if start < 0 {
				start = i
			}
		}
	}
	flush(len(s))
	return toks
}

type parser struct {
	toks []string
	pos  int
}

func (p *parser) peekOp(op string) bool {
	return p.pos < len(p.toks) && strings.EqualFold(p.toks[p.pos], op)
}

func (p *parser) or(depth int) (*node, error) {
	return p.binary(depth, "OR", p.and)
}

func (p *parser) and(depth int) (*node, error) {
	return p.binary(depth, "AND", p.primary)
}

func (p *parser) binary(depth int, op string, operand func(int) (*node, error)) (*node, error) {
	if depth > maxDepth {
		return nil, errors.New("expression nested too deeply")
	}
	left, err := operand(depth + 1)
	if err != nil {
		return nil, err
	}
	for p.peekOp(op) {
		p.pos++
		right, err := operand(depth + 1)
		if err != nil {
			return nil, err
		}
		left = &node{op: op, left: left, right: right}
	}
	return left, nil
}

func (p *parser) primary(depth int) (*node, error) {
	if depth > maxDepth {
		return nil, errors.New("expression nested too deeply")
	}
	if p.pos >= len(p.toks) {
		return nil, errors.New("expression ends where a licence was expected")
	}
	tok := p.toks[p.pos]
	switch {
	case tok == "(":
		p.pos++
		n, err := p.or(depth + 1)
		if err != nil {
			return nil, err
		}
		if p.pos >= len(p.toks) || p.toks[p.pos] != ")" {
			return nil, errors.New("missing )")
		}
		p.pos++
		return n, nil
	case tok == ")":
		return nil, errors.New("unexpected )")
	case isOperator(tok):
		return nil, fmt.Errorf("unexpected operator %s where a licence was expected", strings.ToUpper(tok))
	}
	p.pos++
	t, err := parseLicence(tok)
	if err != nil {
		return nil, err
	}
	if p.peekOp("WITH") {
		p.pos++
		if p.pos >= len(p.toks) || p.toks[p.pos] == "(" || p.toks[p.pos] == ")" || isOperator(p.toks[p.pos]) {
			return nil, errors.New("WITH must be followed by an exception id")
		}
		exc, err := parseException(p.toks[p.pos])
		if err != nil {
			return nil, err
		}
		p.pos++
		t.exception = exc
	}
	return &node{term: t}, nil
}

func isOperator(tok string) bool {
	return strings.EqualFold(tok, "AND") || strings.EqualFold(tok, "OR") || strings.EqualFold(tok, "WITH")
}

// validIDString reports whether s is an SPDX idstring: letters, digits, '-' and '.'.
func validIDString(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// parseRef parses [DocumentRef-x:]<prefix>y, returning it with the prefixes in their
// canonical case; ok is false when tok is not of that form.
func parseRef(tok, prefix string) (string, bool, error) {
	doc := ""
	rest := tok
	if hasPrefixFold(tok, "DocumentRef-") {
		d, r, found := strings.Cut(tok, ":")
		if !found {
			return "", true, fmt.Errorf("%q: DocumentRef- must be followed by :%sx", tok, prefix)
		}
		if !validIDString(d[len("DocumentRef-"):]) {
			return "", true, fmt.Errorf("%q: invalid document id", tok)
		}
		doc, rest = "DocumentRef-"+d[len("DocumentRef-"):]+":", r
		if !hasPrefixFold(rest, prefix) {
			return "", true, fmt.Errorf("%q: DocumentRef- must be followed by :%sx", tok, prefix)
		}
	}
	if !hasPrefixFold(rest, prefix) {
		return "", false, nil
	}
	name := rest[len(prefix):]
	if !validIDString(name) {
		return "", true, fmt.Errorf("%q: a %s needs letters, digits, '-' or '.' after the prefix", tok, strings.TrimSuffix(prefix, "-"))
	}
	return doc + prefix + name, true, nil
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// parseLicence parses a licence id ("MIT", "GPL-2.0+", "gpl-2.0-or-later") or LicenseRef.
func parseLicence(tok string) (term, error) {
	if ref, ok, err := parseRef(tok, "LicenseRef-"); ok || err != nil {
		if err != nil {
			return term{}, err
		}
		return term{id: ref, ref: true}, nil
	}
	id, plus := tok, false
	if strings.HasSuffix(id, "+") {
		id, plus = id[:len(id)-1], true
	}
	canon, ok := spdxIndex().licences[strings.ToLower(id)]
	if !ok {
		if validIDString(id) {
			return term{}, fmt.Errorf("unknown licence id %q", tok)
		}
		return term{}, fmt.Errorf("invalid licence %q", tok)
	}
	return term{id: normalise(canon, plus)}, nil
}

func parseException(tok string) (string, error) {
	if ref, ok, err := parseRef(tok, "AdditionRef-"); ok || err != nil {
		return ref, err
	}
	canon, ok := spdxIndex().exceptions[strings.ToLower(tok)]
	if !ok {
		return "", fmt.Errorf("unknown licence exception %q", tok)
	}
	return canon, nil
}

// normalise gives one spelling to the ways of writing a licence version: "X+" becomes
// "X-or-later" when the licence list has that id (GPL-2.0+, GPL-2.0-only+ → GPL-2.0-or-later)
// and stays "X+" otherwise (MPL-1.1+); a deprecated bare GNU id becomes "X-only"
// (GPL-2.0 → GPL-2.0-only); the deprecated "GPL-2.0+" ids become "-or-later".
func normalise(id string, plus bool) string {
	ix := spdxIndex()
	has := func(s string) (string, bool) {
		c, ok := ix.licences[strings.ToLower(s)]
		return c, ok
	}
	if strings.HasSuffix(id, "+") { // deprecated ids such as "GPL-2.0+"
		id, plus = id[:len(id)-1], true
	}
	base := strings.TrimSuffix(id, "-only")
	if plus {
		if strings.HasSuffix(id, "-or-later") {
			return id
		}
		if c, ok := has(base + "-or-later"); ok {
			return c
		}
		return id + "+"
	}
	if base == id && !strings.HasSuffix(id, "-or-later") {
		if c, ok := has(id + "-only"); ok {
			return c
		}
	}
	return id
}

// orLaterBase returns the licence an "or later" licence starts from: GPL-2.0-or-later →
// GPL-2.0-only, MPL-1.1+ → MPL-1.1.
func orLaterBase(id string) (string, bool) {
	if strings.HasSuffix(id, "+") {
		return id[:len(id)-1], true
	}
	if b, ok := strings.CutSuffix(id, "-or-later"); ok {
		return normalise(b, false), true
	}
	return "", false
}

// terms lists the distinct terms of n in order.
func (n *node) terms(out []string, seen map[string]bool) []string {
	if n.op == "" {
		s := n.term.String()
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
		return out
	}
	out = n.left.terms(out, seen)
	return n.right.terms(out, seen)
}

// String renders n with parentheses where precedence requires them.
func (n *node) String() string {
	if n.op == "" {
		return n.term.String()
	}
	side := func(c *node) string {
		if c.op != "" && c.op != n.op && n.op == "AND" {
			return "(" + c.String() + ")"
		}
		return c.String()
	}
	return side(n.left) + " " + n.op + " " + side(n.right)
}
