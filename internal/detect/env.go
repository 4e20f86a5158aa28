package detect

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/medguard/medguard/internal/events"
	"github.com/medguard/medguard/internal/explain"
)

// Explainer classifies patient-record accesses for the rules that look at explanations
// (kind relation, match conditions explanation and flag). *explain.Explainer is one.
type Explainer interface {
	Explain(ctx context.Context, orgID int64, ev *events.Event) (explain.Explanation, error)
	Observe(orgID int64, ev *events.Event)
}

// Env is what the rules know of the hospital beyond the events.
type Env struct {
	// InternalNets is the internal network zone (kind zone): a source address outside
	// every prefix is outside. Nil: DefaultInternalNets. The application adds the
	// network zones of the asset inventory.
	InternalNets []netip.Prefix
	// JumpHosts are the registered jump hosts (kind bastion). None: bastion rules are
	// idle, as every administrative login would bypass them.
	JumpHosts []netip.Addr
	// Holidays are public holidays (dates; kind time_of_day with holidays: true).
	Holidays []time.Time
	// Location is the hospital's time zone: time-of-day rules read local time (events
	// are UTC). Nil: Asia/Shanghai.
	Location *time.Location
	// Explainer classifies patient-record accesses; required when a rule looks at the
	// explanation (a rule that could not work is refused, never silently inert).
	Explainer Explainer
	// Retention is how long first_seen and dormant rules remember (default the events'
	// default retention, 180 days).
	Retention time.Duration
	// MaxGroups bounds the groups a rule keeps in memory (default 1,000,000): past it the
	// least recently active are forgotten.
	MaxGroups int
}

// DefaultInternalNets are the private, loopback and unique-local blocks.
var DefaultInternalNets = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"), netip.MustParsePrefix("127.0.0.0/8"),
	netip.MustParsePrefix("::1/128"), netip.MustParsePrefix("fc00::/7"),
}

// Shanghai is the default Location.
var Shanghai = func() *time.Location {
	l, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return l
}()

func (e Env) withDefaults() (Env, error) {
	if e.InternalNets == nil {
		e.InternalNets = DefaultInternalNets
	}
	if e.Location == nil {
		e.Location = Shanghai
	}
	if e.Retention == 0 {
		e.Retention = events.DefaultRetention
	}
	if e.Retention < 0 {
		return e, fmt.Errorf("detect: negative retention")
	}
	if e.MaxGroups == 0 {
		e.MaxGroups = 1_000_000
	}
	for _, p := range e.InternalNets {
		if !p.IsValid() {
			return e, fmt.Errorf("detect: an internal network is not a valid prefix")
		}
	}
	return e, nil
}

// ParseEnv builds an Env from the text of a configuration (monitor.internal_networks,
// jump_hosts, holidays, timezone): CIDR blocks, IP addresses, YYYY-MM-DD dates and an
// IANA zone name. Empty lists and zone take the defaults.
func ParseEnv(internalNets, jumpHosts, holidays []string, timezone string) (Env, error) {
	var e Env
	for _, n := range internalNets {
		p, err := netip.ParsePrefix(n)
		if err != nil {
			return Env{}, fmt.Errorf("detect: internal network %q is not a CIDR block", n)
		}
		e.InternalNets = append(e.InternalNets, p.Masked())
	}
	for _, h := range jumpHosts {
		a, err := netip.ParseAddr(h)
		if err != nil {
			return Env{}, fmt.Errorf("detect: jump host %q is not an IP address", h)
		}
		e.JumpHosts = append(e.JumpHosts, a.Unmap())
	}
	for _, d := range holidays {
		t, err := time.Parse(time.DateOnly, d)
		if err != nil {
			return Env{}, fmt.Errorf("detect: holiday %q is not a date YYYY-MM-DD", d)
		}
		e.Holidays = append(e.Holidays, t)
	}
	if timezone != "" {
		loc, err := time.LoadLocation(timezone)
		if err != nil {
			return Env{}, fmt.Errorf("detect: time zone %q is not known", timezone)
		}
		e.Location = loc
	}
	return e, nil
}
