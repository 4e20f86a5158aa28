package auth

import (
	"net/netip"
	"sync"
	"time"
)

// throttle slows down guessing without locking anyone out. It counts attempts per key
// (a username from an address, an address, an account at its MFA step): the first
// free attempts go through at once; from then on every attempt that was let through
// and failed makes the key wait before the next one — base, then twice as long with
// each further failure, up to max. An attempt during the wait is refused without being
// checked or counted, so hammering does not lengthen the wait and a refusal says
// nothing about the password. A success clears its key. A key with no failure for
// forget (and no wait pending) starts afresh.
//
// An attempt is counted when it is let through (take), before its outcome is known, and
// given back on success (clear or refund): parallel attempts cannot all slip through
// before the first failure is recorded.
//
// The state is in memory, per process, at most size keys: under a wide attack the
// table forgets first the keys that are quiet, then those not waiting, then any (see
// prune).
type throttle struct {
	mu     sync.Mutex
	free   int
	base   time.Duration
	max    time.Duration
	forget time.Duration
	size   int
	m      map[string]*strikes
}

// strikes is the state of one key.
type strikes struct {
	n     int       // attempts counted (let through and not given back)
	last  time.Time // latest counted attempt
	until time.Time // no attempt is let through before this
}

func newThrottle(free int, base, max, forget time.Duration, size int) *throttle {
	return &throttle{free: free, base: base, max: max, forget: forget, size: size, m: make(map[string]*strikes)}
}

// delay is the wait after n counted failures.
func (t *throttle) delay(n int) time.Duration {
	if n < t.free {
		return 0
	}
	d := t.base
	for i := t.free; i < n && d < t.max; i++ {
		d *= 2
	}
	return min(d, t.max)
}

// quiet reports whether s may be forgotten at now.
func (t *throttle) quiet(s *strikes, now time.Time) bool {
	return !now.Before(s.until) && now.Sub(s.last) >= t.forget
}

// take lets an attempt for key through at now and counts it, or refuses it (false)
// while the key must wait. When let through, it returns the wait the attempt imposes
// on the next one should it fail (0: none).
func (t *throttle) take(key string, now time.Time) (bool, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, ok := t.m[key]
	if ok && t.quiet(s, now) {
		*s = strikes{}
	}
	if !ok {
		if len(t.m) >= t.size {
			t.prune(now)
		}
		s = &strikes{}
		t.m[key] = s
	}
	if now.Before(s.until) {
		return false, 0
	}
	s.n++
	s.last = now
	d := t.delay(s.n)
	s.until = now.Add(d)
	return true, d
}

// refund gives back an attempt of key that succeeded without clearing the key (an
// address's count: one account's success says nothing about the others tried from
// there). It lifts the wait only when the count falls below the free attempts.
func (t *throttle) refund(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if s, ok := t.m[key]; ok && s.n > 0 {
		s.n--
		if s.n < t.free {
			s.until = time.Time{}
		}
	}
}

// clear forgets key after a success.
func (t *throttle) clear(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.m, key)
}

// waiting reports whether key must wait at now.
func (t *throttle) waiting(key string, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, ok := t.m[key]
	return ok && now.Before(s.until)
}

// len is the number of keys held.
func (t *throttle) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.m)
}

// prune brings the table down to nine tenths of its size, so that pruning (a walk over
// the table) happens once every size/10 new keys at most: it forgets quiet keys first,
// then keys that are not waiting (their few counted attempts are lost: a guesser gains
// at most free more tries), and only then keys that are waiting.
func (t *throttle) prune(now time.Time) {
	target := t.size - t.size/10 - 1
	for _, drop := range []func(*strikes) bool{
		func(s *strikes) bool { return t.quiet(s, now) },
		func(s *strikes) bool { return !now.Before(s.until) },
		func(*strikes) bool { return true },
	} {
		for k, s := range t.m {
			if len(t.m) <= target {
				return
			}
			if drop(s) {
				delete(t.m, k)
			}
		}
	}
}

// addressKey is the throttling key of a client address: an IPv4 address itself, an
// IPv6 address its /64 (one host usually holds a whole /64), anything else as given,
// cut to 64 bytes.
func addressKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		if len(ip) > 64 {
			ip = ip[:64]
		}
		return "?" + ip
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return a.String()
	}
	p, err := a.Prefix(64)
	if err != nil {
		return a.String()
	}
	return p.String()
}

// pairKey is the throttling key of a username tried from an address. The name is the
// one typed (cut to 64 bytes: no username is longer), known or not, so that unknown
// and existing accounts are throttled alike.
func pairKey(name, addr string) string {
	if len(name) > 64 {
		name = name[:64]
	}
	return name + "\x00" + addr
}

// gate is one throttle and the key an attempt is counted under.
type gate struct {
	t   *throttle
	key string
}

// admit lets an attempt through every gate at now, or refuses it (false) if any gate
// makes it wait; a refused attempt is counted nowhere. It returns the longest wait the
// attempt imposes should it fail.
func admit(now time.Time, gates ...gate) (bool, time.Duration) {
	for _, g := range gates {
		if g.t.waiting(g.key, now) {
			return false, 0
		}
	}
	var longest time.Duration
	for i, g := range gates {
		ok, d := g.t.take(g.key, now)
		if !ok {
			// A wait began since the look above (a parallel attempt failed): give
			// back what was taken.
			for _, done := range gates[:i] {
				done.t.refund(done.key)
			}
			return false, 0
		}
		longest = max(longest, d)
	}
	return true, longest
}
