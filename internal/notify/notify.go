// Package notify delivers alerts durably. Enqueue writes, in the transaction that raises
// an alert, one outbox row per channel a route sends it to and an inbox row per user; a
// dispatcher (one process at a time, through a lease) groups the waiting rows of a channel
// into deliveries, each with an idempotency key fixed before its first attempt, sends them
// no faster than the channel's vendor allows, retries with exponential back-off and
// jitter, and moves a delivery that keeps failing to dead letters, from where it can be
// sent again. All of its state is in the database, so a restart resumes where it stopped.
package notify

import (
	"cmp"
	"context"
	"crypto/cipher"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/medguard/medguard/internal/dlp"
	"github.com/medguard/medguard/internal/dlp/mask"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/notify/channel"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

// LeaseName is the lease of the dispatcher: one process at a time sends.
const LeaseName = "notify.dispatch"

// Severities, most severe first.
var Severities = []string{"critical", "high", "medium", "low", "info"}

// severityRank orders severities: critical 5 … info 1; an unknown one is 0.
func severityRank(s string) int {
	for i, v := range Severities {
		if v == s {
			return len(Severities) - i
		}
	}
	return 0
}

// Acknowledger tells whether an alert has been acknowledged (or resolved): an escalation
// is sent only for a critical alert that is not. Package alert provides it.
type Acknowledger interface {
	Acknowledged(ctx context.Context, alertID int64) (bool, error)
}

// Options configure a Service. Zero values take the defaults.
type Options struct {
	Now         func() time.Time // the clock; tests move it
	MaxAttempts int              // attempts before a delivery is dead (default 8)
	Backoff     time.Duration    // wait after the first failed attempt (default 30 s); doubled after each
	MaxBackoff  time.Duration    // longest wait between attempts (default 1 h)
	Jitter      func() float64   // in [0, 1); nil: math/rand/v2
	Poll        time.Duration    // how often Run looks for work (default 1 s)
	Retention   time.Duration    // how long sent messages (and skipped escalations) are kept (default 30 days); dead letters stay
	Concurrency int              // channels sent to at once (default 8)
	BaseURL     string           // external URL of the platform, for links back to alerts
	HTTP        *http.Client     // senders' client; nil: one with a 15 s timeout that keeps 16 connections a host
	// Limit returns a kind's rate limit and the most alerts one message lists; nil:
	// channel.LimitFor. Tests set a limit on the webhook kind with it.
	Limit func(kind string) (channel.Limit, int)
	Acked Acknowledger // nil: no alert counts as acknowledged
	// Key seals channel secrets at rest with SM4-GCM (KeySize bytes; the application
	// keeps it in notify.key in the data directory). Without one, a channel with a secret
	// cannot be added and a sealed secret cannot be opened.
	Key     []byte
	Catalog *i18n.Catalog
	Logger  *slog.Logger
}

// Service owns channels, routes, the outbox, deliveries and the in-app inbox.
type Service struct {
	db    *store.DB
	trail *trail.Log
	opt   Options
	wake  chan struct{}
	aead  cipher.AEAD // seals channel secrets; nil without Options.Key

	mu     sync.Mutex
	broken map[int64]string       // channel → why its sender cannot be made, as last logged
	pruned time.Time              // when the sends were last pruned
	routes map[int64]cachedRoutes // organisation → the routes that apply to its alerts

	maskOnce sync.Once
	masker   *mask.Masker // masks patient data in the texts of a message
}

// mask masks the patient data the DLP detectors find in text bound for a message. The
// masker is built on first use; without one, the text is withheld.
func (s *Service) mask(text string) string {
	if text == "" {
		return ""
	}
	s.maskOnce.Do(func() {
		sc, err := dlp.NewScanner(dlp.Config{})
		if err == nil {
			s.masker, err = mask.New(sc, mask.DefaultPolicy(), nil)
		}
		if err != nil {
			s.opt.Logger.Error("building the message masker", "err", err)
		}
	})
	if s.masker == nil {
		return "***"
	}
	return string(s.masker.Text([]byte(text), nil))
}

// New returns a Service on db recording configuration changes in tl. It panics when
// opt.Key is set but is not an SM4 key (a programming error: the application checks the
// key file's size when it reads it).
func New(db *store.DB, tl *trail.Log, opt Options) *Service {
	aead, err := newAEAD(opt.Key)
	if err != nil {
		panic(err)
	}
	opt.MaxAttempts = cmp.Or(opt.MaxAttempts, 8)
	opt.Backoff = cmp.Or(opt.Backoff, 30*time.Second)
	opt.MaxBackoff = cmp.Or(opt.MaxBackoff, time.Hour)
	opt.Poll = cmp.Or(opt.Poll, time.Second)
	opt.Retention = cmp.Or(opt.Retention, 30*24*time.Hour)
	opt.Concurrency = cmp.Or(opt.Concurrency, 8)
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Jitter == nil {
		opt.Jitter = rand.Float64
	}
	if opt.Limit == nil {
		opt.Limit = channel.LimitFor
	}
	if opt.Catalog == nil {
		opt.Catalog = i18n.MustLoad()
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.HTTP == nil {
		// Several messages go to one receiver at once: keep their connections.
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 16
		opt.HTTP = &http.Client{Timeout: 15 * time.Second, Transport: tr}
	}
	return &Service{db: db, trail: tl, opt: opt, aead: aead, wake: make(chan struct{}, 1), broken: map[int64]string{}}
}

// SetAcknowledger sets what tells whether an alert was acknowledged (the application
// wires package alert in after both are built).
func (s *Service) SetAcknowledger(a Acknowledger) { s.opt.Acked = a }

// now is the clock, in UTC to the microsecond (what both engines store).
func (s *Service) now() time.Time { return s.opt.Now().UTC().Truncate(time.Microsecond) }

// Backoff returns the wait after the n-th failed attempt (n ≥ 1): Backoff doubled n-1
// times, at most MaxBackoff, of which the second half is random ("equal jitter"), so
// that deliveries failing together do not retry together.
func (s *Service) Backoff(n int) time.Duration {
	d := s.opt.Backoff
	for i := 1; i < n && d < s.opt.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, s.opt.MaxBackoff)
	return d/2 + time.Duration(s.opt.Jitter()*float64(d/2))
}
