// Package auth owns who may use medguard and what they may do: user accounts and their
// passwords (Argon2id), browser sessions, API tokens, TOTP multi-factor authentication
// with recovery codes, sign-in throttling (growing delays, never a lockout), the
// one-time token that lets the first administrator be created, and the role → permission table (Allowed) that every
// authorisation decision goes through. Accounts belong to an org node and are scoped
// like every other record: an actor sees users of its own node and below only.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

// Options tunes a Service; zero fields take the defaults noted.
type Options struct {
	SessionTTL  time.Duration // absolute session lifetime; default 12h
	IdleTimeout time.Duration // sliding idle timeout; default 30m
	Issuer      string        // TOTP issuer; default "medguard"
	MFAPolicy   MFAPolicy     // nil: MFA is never required
	Now         func() time.Time

	// Sign-in throttling (in memory, per process; see throttle). After LoginFree
	// failed sign-ins of one username from one address, AddressFree from one address
	// whatever the username, or LoginFree wrong codes at one account's MFA step, the
	// next attempt must wait ThrottleBase, twice as long after each further failure,
	// at most ThrottleMax. Nothing locks an account: the right password from another
	// address still works. Defaults: 5, 20, 5s, 15m; a key is forgotten after
	// ThrottleForget without failures (default 1h); each table holds at most
	// ThrottleKeys keys (default 100,000).
	LoginFree, AddressFree    int
	ThrottleBase, ThrottleMax time.Duration
	ThrottleForget            time.Duration
	ThrottleKeys              int

	// Limits on attempts by a signed-in user (changing its password, confirming an MFA
	// enrolment); in memory, per process. Default: 5 a minute.
	UserRate  rate.Limit
	UserBurst int
}

// MFAPolicy says whether users of an org must use MFA; org.Service satisfies it.
type MFAPolicy interface {
	RequiresMFA(ctx context.Context, orgID int64) (bool, error)
}

// Service manages accounts, sessions and tokens.
type Service struct {
	db    *store.DB
	trail *trail.Log
	opts  Options

	userLimits *limiter
	mfaLimits  *limiter

	loginPairs *throttle // username and address
	addresses  *throttle // address, for sign-in and MFA steps alike
	mfaUsers   *throttle // account at its MFA step

	dummyOnce sync.Once
	dummyHash string
}

// NewService returns a Service on db recording changes in tl.
func NewService(db *store.DB, tl *trail.Log, opts Options) *Service {
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = 12 * time.Hour
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = 30 * time.Minute
	}
	if opts.Issuer == "" {
		opts.Issuer = "medguard"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.LoginFree <= 0 {
		opts.LoginFree = 5
	}
	if opts.AddressFree <= 0 {
		opts.AddressFree = 20
	}
	if opts.ThrottleBase <= 0 {
		opts.ThrottleBase = 5 * time.Second
	}
	if opts.ThrottleMax <= 0 {
		opts.ThrottleMax = 15 * time.Minute
	}
	if opts.ThrottleForget <= 0 {
		opts.ThrottleForget = time.Hour
	}
	if opts.ThrottleKeys <= 0 {
		opts.ThrottleKeys = 100000
	}
	if opts.UserRate <= 0 {
		opts.UserRate = rate.Every(time.Minute / 5)
	}
	if opts.UserBurst <= 0 {
		opts.UserBurst = 5
	}
	th := func(free int) *throttle {
		return newThrottle(free, opts.ThrottleBase, opts.ThrottleMax, opts.ThrottleForget, opts.ThrottleKeys)
	}
	return &Service{
		db: db, trail: tl, opts: opts,
		userLimits: newLimiter(opts.UserRate, opts.UserBurst),
		mfaLimits:  newLimiter(opts.UserRate, opts.UserBurst),
		loginPairs: th(opts.LoginFree),
		addresses:  th(opts.AddressFree),
		mfaUsers:   th(opts.LoginFree),
	}
}

// now returns the service clock in UTC at the precision both engines store.
func (s *Service) now() time.Time {
	return s.opts.Now().UTC().Truncate(time.Microsecond)
}

// User is an account as clients may see it: it never carries the password hash or the
// MFA secret.
type User struct {
	ID                 int64      `json:"id"`
	OrgID              int64      `json:"org_id"`
	OrgPath            string     `json:"org_path"`
	OrgName            string     `json:"org_name"`
	Username           string     `json:"username"`
	DisplayName        string     `json:"display_name"`
	Email              string     `json:"email"`
	Role               string     `json:"role"`
	Locale             string     `json:"locale"`
	Disabled           bool       `json:"disabled"`
	MustChangePassword bool       `json:"must_change_password"`
	MFAEnabled         bool       `json:"mfa_enabled"`
	FailedLogins       int        `json:"failed_logins"` // failed sign-ins and MFA codes since the last success
	LastLoginAt        *time.Time `json:"last_login_at,omitempty"`
	CreatedAt          time.Time  `json:"created_at"`
	UpdatedAt          time.Time  `json:"updated_at"`
}

// Actor returns the user as the actor of a request from ip.
func (u User) Actor(ip string) actor.Actor {
	return actor.Actor{UserID: u.ID, Username: u.Username, Role: u.Role, OrgID: u.OrgID, OrgPath: u.OrgPath, IP: ip}
}

// randomToken returns n random bytes, base64url without padding.
func randomToken(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("auth: random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// hashToken returns the SHA-256 hex of a bearer secret: what the database stores.
func hashToken(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

// limiter is a set of token buckets keyed by a string, pruned as it grows.
type limiter struct {
	mu    sync.Mutex
	limit rate.Limit
	burst int
	m     map[string]*rate.Limiter
}

func newLimiter(l rate.Limit, burst int) *limiter {
	return &limiter{limit: l, burst: burst, m: make(map[string]*rate.Limiter)}
}

// allow takes one token from key's bucket at time now.
func (l *limiter) allow(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.m[key]
	if !ok {
		if len(l.m) >= 10000 {
			l.prune(now)
			if len(l.m) >= 100000 {
				// Bound memory under a wide attack (only signed-in users have buckets).
				l.m = make(map[string]*rate.Limiter)
			}
		}
		lim = rate.NewLimiter(l.limit, l.burst)
		l.m[key] = lim
	}
	return lim.AllowN(now, 1)
}

// prune forgets buckets that have refilled completely (they behave like new ones).
func (l *limiter) prune(now time.Time) {
	for k, lim := range l.m {
		if lim.TokensAt(now) >= float64(l.burst) {
			delete(l.m, k)
		}
	}
}
