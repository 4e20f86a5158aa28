// Package licence owns the hospital's licence policy: which SPDX licences its software may
// use (allowed), must be looked at by a person (review) or must not use (denied), and the
// verdict of such a policy on a component's SPDX licence expression.
//
// Expressions are parsed here by a small recursive-descent parser for the SPDX 2.3
// expression grammar (licence ids, LicenseRef-, DocumentRef-, "+", WITH, AND, OR,
// parentheses; operators in any case), because github.com/github/go-spdx/v2/spdxexp
// exports only ExtractLicenses, Satisfies and ValidateLicenses and no expression tree. The
// SPDX licence and exception lists of go-spdx (package spdxlicenses) are used to validate
// ids and give them their canonical spelling.
package licence

import (
	"fmt"
	"strings"
)

// Verdict is a policy's judgement of a licence or expression.
type Verdict string

// Verdicts, from best to worst: allowed, review, unknown, denied.
const (
	VerdictAllowed Verdict = "allowed"
	VerdictReview  Verdict = "review"
	VerdictUnknown Verdict = "unknown"
	VerdictDenied  Verdict = "denied"
)

// rank orders verdicts from best (0) to worst; anything unrecognised counts as unknown.
func rank(v Verdict) int {
	switch v {
	case VerdictAllowed:
		return 0
	case VerdictReview:
		return 1
	case VerdictDenied:
		return 3
	}
	return 2
}

// Worst returns the worst of vs in the order denied > unknown > review > allowed, the order
// in which a hospital must act on them: a denied licence blocks, an unknown one must be
// found out, a reviewed one needs a person, an allowed one nothing. An unrecognised verdict
// counts as unknown; Worst of nothing is allowed.
func Worst(vs ...Verdict) Verdict {
	w := VerdictAllowed
	for _, v := range vs {
		if rank(v) > rank(w) {
			w = v
			if rank(v) == 2 {
				w = VerdictUnknown
			}
		}
	}
	return w
}

// best is the opposite of Worst, for OR.
func best(a, b Verdict) Verdict {
	if rank(b) < rank(a) {
		return b
	}
	return a
}

// Policy lists SPDX licences by verdict. Entries are licence ids in any case ("MIT",
// "apache-2.0"), "or later" forms ("GPL-2.0+" and "GPL-2.0-or-later" are the same entry),
// deprecated ids (GPL-2.0 is GPL-2.0-only), LicenseRefs, and licences with an exception
// ("GPL-2.0-only WITH Classpath-exception-2.0"). Use ParsePolicy or Validate to check a
// policy; Evaluate ignores entries that are not valid.
type Policy struct {
	Allow  []string `json:"allow"`
	Review []string `json:"review"`
	Deny   []string `json:"deny"`
	// Unlisted is the verdict for a valid SPDX licence on no list; "" means review.
	Unlisted Verdict `json:"unlisted"`
}

// Result is the verdict of a policy on an expression, why, and the licences it names
// (normalised, each once, in order).
type Result struct {
	Verdict  Verdict
	Reason   string
	Licenses []string
}

// entry is a policy entry with the list it came from.
type entry struct {
	verdict Verdict
	list    string
}

// index maps each valid entry, normalised and in lower case (LicenseRefs are matched
// ignoring case, like SPDX ids), to its list. When an entry is on several lists (which
// Validate refuses) the worst verdict wins.
func (p Policy) index() map[string]entry {
	ix := make(map[string]entry, len(p.Allow)+len(p.Review)+len(p.Deny))
	for _, l := range p.lists() {
		for _, e := range l.entries {
			key, err := parseEntry(e)
			if err != nil {
				continue
			}
			key = strings.ToLower(key)
			if old, ok := ix[key]; !ok || rank(l.verdict) > rank(old.verdict) {
				ix[key] = entry{verdict: l.verdict, list: l.name}
			}
		}
	}
	return ix
}

type namedList struct {
	name    string
	verdict Verdict
	entries []string
}

func (p Policy) lists() []namedList {
	return []namedList{
		{"allow", VerdictAllowed, p.Allow},
		{"review", VerdictReview, p.Review},
		{"deny", VerdictDenied, p.Deny},
	}
}

// parseEntry parses a policy entry: one licence, optionally WITH an exception.
func parseEntry(e string) (string, error) {
	n, err := parseExpression(e)
	if err != nil {
		return "", err
	}
	if n.op != "" {
		return "", fmt.Errorf("%q is an expression with %s; list single licences", e, n.op)
	}
	return n.term.String(), nil
}

func (p Policy) unlisted() Verdict {
	switch p.Unlisted {
	case "":
		return VerdictReview
	case VerdictAllowed, VerdictReview, VerdictDenied, VerdictUnknown:
		return p.Unlisted
	}
	return VerdictUnknown
}

// Evaluate judges an SPDX licence expression: a licence takes the verdict of its list, a
// valid SPDX licence on no list gets Unlisted, a LicenseRef on no list is unknown; OR takes
// the best verdict of its operands (the hospital may choose), AND the worst; "X WITH Y"
// takes the verdict listed for "X WITH Y" when there is one and X's otherwise; an "or
// later" licence not listed as such takes the verdict of the version it starts from. An
// empty expression (or NOASSERTION, NONE) is unknown, "no licence declared"; an invalid one
// is unknown with the parse error as reason. Evaluate never panics.
func (p Policy) Evaluate(expr string) Result {
	return p.Matcher().Evaluate(expr)
}

// Matcher is a policy prepared for evaluating many expressions. It is not changed by
// Evaluate and is safe for concurrent use.
type Matcher struct {
	ev evaluator
}

// Matcher prepares p for evaluating many expressions: Policy.Evaluate reads the policy's
// lists on every call, a Matcher once.
func (p Policy) Matcher() *Matcher {
	return &Matcher{ev: evaluator{ix: p.index(), unlisted: p.unlisted()}}
}

// Evaluate judges expr as Policy.Evaluate does.
func (m *Matcher) Evaluate(expr string) Result {
	e := strings.TrimSpace(expr)
	switch strings.ToUpper(e) {
	case "", "NOASSERTION", "NONE":
		reason := "no licence declared"
		if e != "" {
			reason += " (" + strings.ToUpper(e) + ")"
		}
		return Result{Verdict: VerdictUnknown, Reason: reason}
	}
	n, err := parseExpression(e)
	if err != nil {
		return Result{Verdict: VerdictUnknown, Reason: "invalid licence expression: " + err.Error()}
	}
	v, reason := m.ev.eval(n)
	return Result{Verdict: v, Reason: reason, Licenses: n.terms(nil, map[string]bool{})}
}

type evaluator struct {
	ix       map[string]entry
	unlisted Verdict
}

func (ev evaluator) eval(n *node) (Verdict, string) {
	switch n.op {
	case "AND":
		lv, lr := ev.eval(n.left)
		rv, rr := ev.eval(n.right)
		if rank(rv) > rank(lv) {
			return rv, rr
		}
		return lv, lr
	case "OR":
		lv, lr := ev.eval(n.left)
		rv, rr := ev.eval(n.right)
		if best(lv, rv) == rv && rv != lv {
			lv, lr = rv, rr
		}
		if strings.HasPrefix(lr, "one of ") {
			return lv, lr
		}
		return lv, "one of the alternatives may be chosen: " + lr
	}
	return ev.term(n.term)
}

func (ev evaluator) term(t term) (Verdict, string) {
	listed := func(key string) (Verdict, string, bool) {
		e, ok := ev.ix[strings.ToLower(key)]
		if !ok {
			return "", "", false
		}
		return e.verdict, fmt.Sprintf("%s is on the %s list", key, e.list), true
	}
	if t.exception != "" {
		if v, r, ok := listed(t.String()); ok {
			return v, r
		}
	}
	v, r, ok := listed(t.id)
	if !ok {
		if base, isLater := orLaterBase(t.id); isLater {
			if bv, br, bok := listed(base); bok {
				v, r, ok = bv, fmt.Sprintf("%s is not listed, the version it starts from is: %s", t.id, br), true
			}
		}
	}
	if !ok {
		if t.ref {
			v, r = VerdictUnknown, fmt.Sprintf("%s is not an SPDX licence and is on no list", t.id)
		} else {
			v, r = ev.unlisted, fmt.Sprintf("%s is on no list; unlisted licences are %s", t.id, ev.unlisted)
		}
	}
	if t.exception != "" {
		r = fmt.Sprintf("%s is not listed with its exception: %s", t.String(), r)
	}
	return v, r
}
