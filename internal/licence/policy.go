package licence

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/github/go-spdx/v2/spdxexp/spdxlicenses"
	"go.yaml.in/yaml/v3"
)

// PolicyError is a fault in a licence policy. Its Msg never quotes the document: the
// entry or value at fault, and a parser's own message, are kept in Detail, which Error
// includes (for the command line and the log) and Safe leaves out (for clients).
type PolicyError struct {
	Line   int    // line in the document, 0 when unknown
	Where  string // the key or list entry at fault: "unlisted", "allow[1]"; "" for the document
	Msg    string // what is wrong: never a value from the document
	Detail string // the value at fault or the parser's message; may be ""
}

// Error returns "licence: policy: line <n>: <where>: <msg>: <detail>", leaving out empty parts.
func (e *PolicyError) Error() string {
	s := "licence: policy: " + e.Safe()
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// Safe returns "line <n>: <where>: <msg>": the error without the value at fault and
// without the package prefix.
func (e *PolicyError) Safe() string {
	var parts []string
	if e.Line > 0 {
		parts = append(parts, fmt.Sprintf("line %d", e.Line))
	}
	if e.Where != "" {
		parts = append(parts, e.Where)
	}
	return strings.Join(append(parts, e.Msg), ": ")
}

// Validate checks every entry of p: each must be one valid licence (optionally WITH an
// exception), on one list only; Unlisted must be a verdict or empty. The error, a
// *PolicyError, names the first bad entry.
func (p Policy) Validate() error {
	return p.validate(nil)
}

// validate is Validate with the source line of each entry, when known.
func (p Policy) validate(lines map[string][]int) error {
	switch p.Unlisted {
	case "", VerdictAllowed, VerdictReview, VerdictDenied, VerdictUnknown:
	default:
		return &PolicyError{Where: "unlisted", Msg: "must be allowed, review, denied or unknown", Detail: fmt.Sprintf("%q", p.Unlisted)}
	}
	seen := map[string]string{} // normalised entry → list
	for _, l := range p.lists() {
		for i, e := range l.entries {
			pe := &PolicyError{Where: fmt.Sprintf("%s[%d]", l.name, i)}
			if ls := lines[l.name]; i < len(ls) && ls[i] > 0 {
				pe.Line = ls[i]
			}
			key, err := parseEntry(e)
			if err != nil {
				pe.Msg, pe.Detail = "not one SPDX licence id (optionally WITH an exception)", fmt.Sprintf("%q: %v", e, err)
				return pe
			}
			if other, ok := seen[strings.ToLower(key)]; ok && other != l.name {
				pe.Msg, pe.Detail = "the licence is also on the "+other+" list", fmt.Sprintf("%q", e)
				return pe
			}
			seen[strings.ToLower(key)] = l.name
		}
	}
	return nil
}

// yamlLine finds "line N" in a YAML parser's message.
var yamlLine = regexp.MustCompile(`\bline (\d+)\b`)

// yamlError describes a YAML decoding error by its line and kind, keeping the parser's
// message (which may quote the document) as Detail.
func yamlError(err error) *PolicyError {
	msg := err.Error()
	var te *yaml.TypeError
	what := "not a valid YAML or JSON document"
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
		what = "a value of the wrong type (allow, review and deny are lists of licence ids; unlisted is one verdict)"
		if strings.Contains(msg, " not found in type ") {
			what = "unknown key (the keys are allow, review, deny and unlisted)"
		}
	}
	pe := &PolicyError{Msg: what, Detail: msg}
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		pe.Line, _ = strconv.Atoi(m[1])
	}
	return pe
}

// policyFile is the YAML or JSON form of a policy.
type policyFile struct {
	Allow    []yaml.Node `yaml:"allow"`
	Review   []yaml.Node `yaml:"review"`
	Deny     []yaml.Node `yaml:"deny"`
	Unlisted string      `yaml:"unlisted"`
}

// ParsePolicy reads a policy written in YAML or JSON:
//
//	allow: [MIT, Apache-2.0]
//	review: [MPL-2.0]
//	deny: [GPL-3.0-only]
//	unlisted: review
//
// Unknown keys, entries that are not strings, unknown licence ids and entries on two lists
// are *PolicyError errors naming the entry and its line.
func ParsePolicy(data []byte) (Policy, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var f policyFile
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return Policy{}, &PolicyError{Msg: "empty document"}
		}
		return Policy{}, yamlError(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return Policy{}, &PolicyError{Msg: "more than one document"}
	}
	p := Policy{Unlisted: Verdict(strings.TrimSpace(f.Unlisted))}
	lines := map[string][]int{}
	for _, l := range []struct {
		name  string
		nodes []yaml.Node
		dst   *[]string
	}{{"allow", f.Allow, &p.Allow}, {"review", f.Review, &p.Review}, {"deny", f.Deny, &p.Deny}} {
		for i, n := range l.nodes {
			if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
				return Policy{}, &PolicyError{Line: n.Line, Where: fmt.Sprintf("%s[%d]", l.name, i), Msg: "expected a licence id"}
			}
			*l.dst = append(*l.dst, strings.TrimSpace(n.Value))
			lines[l.name] = append(lines[l.name], n.Line)
		}
	}
	if err := p.validate(lines); err != nil {
		return Policy{}, err
	}
	return p, nil
}

// DefaultPolicy is a sensible default for a hospital: permissive licences allowed; weak
// copyleft (LGPL, MPL, EPL, CDDL, EUPL and GPL with a linking exception) for review;
// strong and network copyleft (GPL, AGPL, SSPL, OSL, RPL), non-commercial (CC-BY-NC) and
// source-available licences that forbid production use (BUSL) denied; other SPDX licences
// for review.
func DefaultPolicy() Policy {
	allow := []string{
		"0BSD", "AFL-3.0", "Apache-1.1", "Apache-2.0", "Apache-2.0 WITH LLVM-exception", "Artistic-2.0",
		"BlueOak-1.0.0", "BSD-1-Clause", "BSD-2-Clause", "BSD-3-Clause", "BSD-3-Clause-Clear", "BSL-1.0",
		"bzip2-1.0.6", "CC-BY-3.0", "CC-BY-4.0", "CC0-1.0", "curl", "ICU", "ISC", "Libpng", "libpng-2.0",
		"MIT", "MIT-0", "MulanPSL-2.0", "NCSA", "OpenSSL", "PostgreSQL", "PSF-2.0", "Python-2.0",
		"Unicode-3.0", "Unicode-DFS-2016", "Unlicense", "UPL-1.0", "W3C", "X11", "Zlib", "ZPL-2.1",
	}
	review := []string{
		"CPL-1.0", "EPL-1.0", "EPL-2.0", "EUPL-1.1", "EUPL-1.2", "MPL-1.0", "MPL-1.1", "MPL-2.0",
		"MPL-2.0-no-copyleft-exception", "MS-RL",
		"GPL-2.0-only WITH Classpath-exception-2.0", "GPL-2.0-or-later WITH Classpath-exception-2.0",
		"GPL-2.0-with-classpath-exception", "GPL-2.0-with-GCC-exception", "GPL-3.0-with-GCC-exception",
		"GPL-3.0-only WITH GCC-exception-3.1", "GPL-3.0-or-later WITH GCC-exception-3.1",
	}
	review = append(review, family("LGPL-", "CDDL-")...)
	deny := []string{"SSPL-1.0", "OSL-3.0", "RPL-1.5", "CPAL-1.0", "BUSL-1.1"}
	inReview := map[string]bool{}
	for _, r := range review {
		inReview[r] = true
	}
	for _, id := range family("GPL-", "AGPL-", "CC-BY-NC-") {
		if !inReview[id] {
			deny = append(deny, id)
		}
	}
	return Policy{Allow: allow, Review: review, Deny: deny, Unlisted: VerdictReview}
}

// family lists the SPDX licence ids (active and deprecated) starting with one of the
// prefixes, normalised and each once, sorted.
func family(prefixes ...string) []string {
	seen := map[string]bool{}
	var out []string
	for _, list := range [][]string{spdxlicenses.GetLicenses(), spdxlicenses.GetDeprecated()} {
		for _, id := range list {
			for _, p := range prefixes {
				if !strings.HasPrefix(id, p) {
					continue
				}
				n := normalise(id, false)
				if !seen[n] {
					seen[n] = true
					out = append(out, n)
				}
			}
		}
	}
	sort.Strings(out)
	return out
}
