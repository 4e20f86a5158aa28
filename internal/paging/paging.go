// Package paging is the one list convention of the API: every collection reads the same
// paging parameters (limit and offset; page and per_page are accepted as older aliases),
// rejects a limit above its maximum instead of capping it silently, and answers with the
// same envelope: {"items": [...], "total": N, "next": "<url>"|null}.
//
// It is a leaf package: it knows URLs and numbers, never a domain type.
package paging

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/medguard/medguard/internal/problem"
)

// The canonical query parameters and their older aliases.
const (
	ParamLimit   = "limit"
	ParamOffset  = "offset"
	ParamPage    = "page"     // alias: offset = (page-1) × limit
	ParamPerPage = "per_page" // alias of limit
)

// MaxOffset bounds offset so that offset+limit never overflows and a database is never
// asked to skip an absurd number of rows.
const MaxOffset = 100_000_000

// Spec is what one collection allows: its default and largest page size.
type Spec struct {
	Default int
	Max     int
}

// Standard is the page size of most collections: 50 by default, at most 500.
var Standard = Spec{Default: 50, Max: 500}

// Params is one parsed request for a page: at most Limit items, skipping Offset.
type Params struct {
	Limit  int
	Offset int
}

// Parse reads limit/offset (or the aliases per_page/page) from q. A value that is not a
// whole number, a negative offset, a limit below 1 or above s.Max, or both a parameter
// and its alias with different values, is an invalid-input problem (HTTP 400) whose
// message names the parameter and the allowed range but never echoes the value.
func Parse(q url.Values, s Spec) (Params, error) {
	if s.Default <= 0 {
		s.Default = Standard.Default
	}
	if s.Max < s.Default {
		s.Max = s.Default
	}
	limit, hasLimit, err := intParam(q, ParamLimit)
	if err != nil {
		return Params{}, err
	}
	per, hasPer, err := intParam(q, ParamPerPage)
	if err != nil {
		return Params{}, err
	}
	switch {
	case hasLimit && hasPer && limit != per:
		return Params{}, problem.Invalid(ParamLimit, "give limit or its alias per_page, not both with different values").WithMsg("error.msg.limit_and_per_page")
	case !hasLimit && hasPer:
		limit, hasLimit = per, true
	}
	if !hasLimit {
		limit = s.Default
	}
	if limit < 1 || limit > s.Max {
		return Params{}, problem.Invalid(ParamLimit, "limit must be between 1 and %d", s.Max).WithCode("limit_out_of_range").WithMsg("error.msg.between", 1, s.Max)
	}
	offset, hasOffset, err := intParam(q, ParamOffset)
	if err != nil {
		return Params{}, err
	}
	page, hasPage, err := intParam(q, ParamPage)
	if err != nil {
		return Params{}, err
	}
	if hasPage {
		if page < 1 || page > MaxOffset/limit+1 {
			return Params{}, problem.Invalid(ParamPage, "page must be between 1 and %d", MaxOffset/limit+1).WithMsg("error.msg.between", 1, MaxOffset/limit+1)
		}
		fromPage := (page - 1) * limit
		if hasOffset && offset != fromPage {
			return Params{}, problem.Invalid(ParamOffset, "give offset or page, not both").WithMsg("error.msg.offset_and_page")
		}
		offset = fromPage
	}
	if offset < 0 || offset > MaxOffset {
		return Params{}, problem.Invalid(ParamOffset, "offset must be between 0 and %d", MaxOffset).WithMsg("error.msg.between", 0, MaxOffset)
	}
	return Params{Limit: limit, Offset: offset}, nil
}

func intParam(q url.Values, name string) (int, bool, error) {
	v := strings.TrimSpace(q.Get(name))
	if v == "" {
		return 0, false, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, false, problem.Invalid(name, "%s must be a whole number", name).WithMsg("error.msg.not_integer")
	}
	return n, true, nil
}

// Envelope is the body of every list response. Total counts every match; when
// TotalCapped is set it is only a lower bound (the collection does not count past it).
// Next is the URL of the following page, or null on the last one.
type Envelope[T any] struct {
	Items       []T     `json:"items"`
	Total       int     `json:"total"`
	TotalCapped bool    `json:"total_capped,omitempty"`
	Limit       int     `json:"limit"`
	Offset      int     `json:"offset"`
	Next        *string `json:"next"`
}

// Page builds the envelope of one page of a counted collection: items is the page
// (already limited by the query), total the number of all matches, u the request URL.
func Page[T any](u *url.URL, p Params, items []T, total int) Envelope[T] {
	if items == nil {
		items = []T{}
	}
	e := Envelope[T]{Items: items, Total: total, Limit: p.Limit, Offset: p.Offset}
	if end := p.Offset + len(items); len(items) > 0 && end < total {
		e.Next = nextURL(u, func(v url.Values) { v.Set(ParamOffset, strconv.Itoa(end)) }, p.Limit)
	}
	return e
}

// Slice pages a collection held in full in memory (a short list: tokens, gates,
// organisations): it cuts all to p and counts it.
func Slice[T any](u *url.URL, p Params, all []T) Envelope[T] {
	lo := min(p.Offset, len(all))
	hi := min(lo+p.Limit, len(all))
	return Page(u, p, all[lo:hi], len(all))
}

// Keyset builds the envelope of a collection paged by a key rather than an offset (the
// audit trail, paged by sequence number): items is the page, more whether more follow,
// and param=cursor the query parameter that fetches them. Such a collection is not
// counted: Total is the number of items on this page, with TotalCapped set (a lower
// bound) while more follow.
func Keyset[T any](u *url.URL, p Params, items []T, more bool, param, cursor string) Envelope[T] {
	if items == nil {
		items = []T{}
	}
	e := Envelope[T]{Items: items, Total: len(items), Limit: p.Limit}
	if more && len(items) > 0 {
		e.TotalCapped = true
		e.Next = nextURL(u, func(v url.Values) {
			v.Del(ParamOffset)
			v.Set(param, cursor)
		}, p.Limit)
	}
	return e
}

// nextURL is u (path and query only) with the aliases replaced by the canonical
// parameters and set applied.
func nextURL(u *url.URL, set func(url.Values), limit int) *string {
	v := url.Values{}
	for k, vs := range u.Query() {
		v[k] = vs
	}
	v.Del(ParamPage)
	v.Del(ParamPerPage)
	v.Set(ParamLimit, strconv.Itoa(limit))
	set(v)
	s := (&url.URL{Path: u.Path, RawQuery: v.Encode()}).String()
	return &s
}
