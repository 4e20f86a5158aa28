package web

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"sync"
	"time"
)

// outcomes keeps what a page action produced (an SBOM import report, a delivery's
// verification, a vulnerability-database import) for the page the browser is sent to
// after it (post/redirect/get): the POST answers 303 with a token in the address, and
// the GET shows the outcome again on every reload without resubmitting the upload.
// Outcomes are kept per user, in memory, for outcomeTTL and at most maxOutcomes of
// them; one that is gone leaves the page without the report, nothing worse.
type outcomes struct {
	mu    sync.Mutex
	items map[string]keptOutcome
	order []string // tokens, oldest first
}

type keptOutcome struct {
	user    int64
	value   any
	expires time.Time
}

const (
	outcomeTTL  = 30 * time.Minute
	maxOutcomes = 512
)

// put keeps value for user and returns its token.
func (o *outcomes) put(user int64, value any) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	tok := base64.RawURLEncoding.EncodeToString(b[:])
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.items == nil {
		o.items = map[string]keptOutcome{}
	}
	now := time.Now()
	for len(o.order) > 0 {
		old, ok := o.items[o.order[0]]
		if ok && len(o.order) < maxOutcomes && now.Before(old.expires) {
			break
		}
		delete(o.items, o.order[0])
		o.order = o.order[1:]
	}
	o.items[tok] = keptOutcome{user: user, value: value, expires: now.Add(outcomeTTL)}
	o.order = append(o.order, tok)
	return tok
}

// get returns the value user's token names, if it is still kept.
func (o *outcomes) get(user int64, tok string) (any, bool) {
	if tok == "" {
		return nil, false
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	it, ok := o.items[tok]
	if !ok || it.user != user || time.Now().After(it.expires) {
		return nil, false
	}
	return it.value, true
}

// outcomeOf returns the outcome of type T that the request's "outcome" parameter names.
func outcomeOf[T any](s *Server, r *http.Request) (T, bool) {
	var zero T
	p := principalFrom(r.Context())
	if p == nil {
		return zero, false
	}
	v, ok := s.outcomes.get(p.User.ID, r.URL.Query().Get("outcome"))
	if !ok {
		return zero, false
	}
	t, ok := v.(T)
	return t, ok
}

// keepOutcome keeps v for the request's user and returns the query parameter that
// names it ("outcome=…").
func (s *Server) keepOutcome(r *http.Request, v any) string {
	return "outcome=" + s.outcomes.put(principalFrom(r.Context()).User.ID, v)
}
