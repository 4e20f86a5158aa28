// Package channel sends one notification message to one external receiver: e-mail over
// SMTP, a generic signed webhook, and the office messengers' group robots (WeCom,
// DingTalk, Feishu/Lark). A sender knows its vendor's wire format, signature and limits;
// what to send, when, how often and how many times is decided by package notify.
package channel

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// The channel kinds.
const (
	KindWebhook  = "webhook"
	KindSMTP     = "smtp"
	KindWeCom    = "wecom"
	KindDingTalk = "dingtalk"
	KindFeishu   = "feishu"
)

// Kinds lists the channel kinds in the order the UI offers them.
func Kinds() []string { return []string{KindWebhook, KindSMTP, KindWeCom, KindDingTalk, KindFeishu} }

// Alert is one alert as a message shows it. Every text here is already safe to leave
// the platform: titles rendered in the message's language, subjects masked (a patient
// identifier or a raw value from a scan never reaches a sender).
type Alert struct {
	ID        int64     `json:"id"`
	Source    string    `json:"source"`   // module: supply, dlp, monitor, appctl, incident
	Kind      string    `json:"kind"`     // new_vulnerability, delivery_failed, dlp_block, a rule id …
	Severity  string    `json:"severity"` // critical, high, medium, low, info
	Status    string    `json:"status"`
	Title     string    `json:"title"`             // rendered in the message's language
	Org       string    `json:"org"`               // organisation name
	Subject   string    `json:"subject,omitempty"` // masked subject line (asset, product version, account, app)
	URL       string    `json:"url"`               // link back to the alert
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	Count     int       `json:"count"`
}

// Message is what one delivery sends: one or more alerts grouped together (alerts that
// arrive while a channel waits for its rate limit travel in one message).
type Message struct {
	// Key is the delivery's idempotency key; it is the same on every attempt, so a
	// receiver that saw it already can drop a repeat (webhook: X-Medguard-Delivery).
	Key    string
	Lang   string // "zh-CN" or "en"
	Test   bool   // a test message sent from the channel page or `notify test`
	Alerts []Alert
	// To, when set, replaces the channel's own recipients (e-mail only): a notification
	// addressed to people outside medguard, such as an app's registered contacts.
	To []string
}

// Config is a channel's stored configuration.
type Config struct {
	Kind   string
	URL    string // webhook / robot URL; for SMTP "smtp://host:port" or "smtps://host:port"
	Secret string // webhook HMAC secret, DingTalk/Feishu signing secret; SMTP password

	// SMTP only.
	Username string
	From     string
	To       []string
	StartTLS bool // require STARTTLS on smtp:// (implicit TLS is smtps://)
	// InsecureSkipVerify is for tests against a loopback server with its own certificate.
	InsecureSkipVerify bool
}

// Sender delivers a message to one receiver.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// Limit is a vendor's documented rate limit for one robot or receiver: at most PerMinute
// messages in any minute and PerSecond in any second (0: no limit of that span).
type Limit struct {
	PerMinute int
	PerSecond int
}

// PermanentError marks a failure that another attempt cannot fix (bad URL, rejected
// signature, a vendor error code that says the robot is gone): the dispatcher moves the
// delivery to dead letters at once instead of retrying.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent wraps err as a PermanentError.
func Permanent(err error) error { return &PermanentError{Err: err} }

// IsPermanent reports whether err is (or wraps) a PermanentError.
func IsPermanent(err error) bool {
	var pe *PermanentError
	return errors.As(err, &pe)
}

// Options are what a sender needs besides its configuration.
type Options struct {
	HTTP *http.Client     // nil: a client with a 15 s timeout
	Now  func() time.Time // nil: time.Now (tests move it to check a vendor's timestamp window)
}

func (o Options) client() *http.Client {
	if o.HTTP != nil {
		return o.HTTP
	}
	return &http.Client{Timeout: 15 * time.Second}
}

func (o Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// constructors holds one constructor per kind; each sender's file registers its own.
var constructors = map[string]func(Config, Options) (Sender, error){}

func register(kind string, f func(Config, Options) (Sender, error)) { constructors[kind] = f }

// New returns the sender for cfg.Kind, after checking cfg.
func New(cfg Config, opt Options) (Sender, error) {
	f, ok := constructors[cfg.Kind]
	if !ok {
		return nil, fmt.Errorf("channel: unknown kind %q (want one of %v)", cfg.Kind, Kinds())
	}
	return f(cfg, opt)
}

// LimitFor returns the documented rate limit of a kind's receiver, and the most alerts
// one message of that kind lists (so that a grouped message stays within the vendor's
// size limit). The dispatcher never sends faster, and groups what waits.
func LimitFor(kind string) (Limit, int) {
	switch kind {
	case KindDingTalk, KindWeCom:
		return Limit{PerMinute: 20}, 100
	case KindFeishu:
		return Limit{PerMinute: 100, PerSecond: 5}, 100
	case KindSMTP:
		return Limit{PerMinute: 60}, 500
	}
	return Limit{}, 500
}
