package supply

import (
	"context"
	"encoding/json"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
)

// AlertSource is the source of the alerts the supply chain raises.
const AlertSource = "supply"

// Alerts is what the supply chain needs of the alert inbox: *alert.Service. The
// supply chain raises its alerts through it, in its own transactions, and its alert
// pages read them back from it.
type Alerts interface {
	Raise(ctx context.Context, tx *store.Tx, in alert.Input) (alert.Alert, bool, error)
	List(ctx context.Context, a actor.Actor, f alert.Filter) ([]alert.Alert, int, error)
	Get(ctx context.Context, a actor.Actor, id int64) (alert.Alert, error)
	Acknowledge(ctx context.Context, a actor.Actor, id int64) (alert.Alert, error)
}

// Alert is a notice raised by the supply chain — a new advisory hitting stored
// software, or a delivery that failed its integrity check — as the supply-chain pages
// and API show it. It is an alert of source supply in the alert inbox.
type Alert struct {
	ID       int64  `json:"id"`
	OrgID    int64  `json:"org_id"`
	OrgName  string `json:"org_name"`
	Kind     string `json:"kind"` // new_vulnerability, delivery_failed
	VulnID   string `json:"vuln_id"`
	Severity string `json:"severity"` // the inbox's: critical, high, medium, low or info
	Title    string `json:"title"`    // English
	// TitleMsg is Title as a catalogue key and arguments; nil for alerts raised before
	// titles were stored that way.
	TitleMsg *i18n.Message   `json:"title_msg,omitempty"`
	Detail   json.RawMessage `json:"detail"`
	// Status is the alert's status in the inbox (new, investigating, resolved, closed);
	// Count how many times it was raised.
	Status         string     `json:"status"`
	Count          int64      `json:"count"`
	CreatedAt      time.Time  `json:"created_at"`
	AcknowledgedAt *time.Time `json:"acknowledged_at"`
	AcknowledgedBy string     `json:"acknowledged_by"`
}

func fromAlert(al alert.Alert) Alert {
	out := Alert{ID: al.ID, OrgID: al.OrgID, OrgName: al.OrgName, Kind: al.Kind, Severity: al.Severity, Title: al.Title,
		TitleMsg: al.TitleMsg, Detail: al.Evidence, Status: al.Status, Count: al.Count, CreatedAt: al.FirstSeen,
		AcknowledgedAt: al.AcknowledgedAt, AcknowledgedBy: al.AcknowledgedBy}
	if al.Kind == "new_vulnerability" {
		out.VulnID = al.Subject
	}
	return out
}

// alertSeverity maps an advisory's level to the inbox's severity: an advisory without
// a known level (no CVSS score) is medium, so that it has a due date without paging
// anyone as critical or high would.
func alertSeverity(level string) string {
	switch level {
	case alert.SeverityCritical, alert.SeverityHigh, alert.SeverityMedium, alert.SeverityLow:
		return level
	}
	return alert.SeverityMedium
}

// raise raises in as an alert of the supply chain inside tx.
func (s *Service) raise(ctx context.Context, tx *store.Tx, in alert.Input) error {
	in.Source = AlertSource
	_, _, err := s.alerts.Raise(ctx, tx, in)
	return err
}

// alertFilter selects the supply chain's alerts; open keeps those not yet acknowledged
// (status new).
func alertFilter(open bool, limit, offset int) alert.Filter {
	f := alert.Filter{Source: AlertSource, Limit: limit, Offset: offset}
	if open {
		f.Status = alert.StatusNew
	}
	return f
}

// Alerts lists the most recent alerts in a's scope (unacknowledged only when open).
func (s *Service) Alerts(ctx context.Context, a actor.Actor, open bool, limit int) ([]Alert, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	as, _, err := s.AlertPage(ctx, a, open, limit, 0)
	return as, err
}

// AlertPage returns one page of the alerts a may see, most recently raised first —
// limit of them after skipping offset (the caller validates both) — and how many there
// are in all; open keeps only those not yet acknowledged.
func (s *Service) AlertPage(ctx context.Context, a actor.Actor, open bool, limit, offset int) ([]Alert, int, error) {
	as, total, err := s.alerts.List(ctx, a, alertFilter(open, limit, offset))
	if err != nil {
		return nil, 0, err
	}
	out := make([]Alert, len(as))
	for i, al := range as {
		out[i] = fromAlert(al)
	}
	return out, total, nil
}

// Acknowledge marks alert id as seen by a (in the inbox: investigating). An alert of
// another module is not found here.
func (s *Service) Acknowledge(ctx context.Context, a actor.Actor, id int64) (Alert, error) {
	al, err := s.alerts.Get(ctx, a, id)
	if err != nil {
		return Alert{}, err
	}
	if al.Source != AlertSource {
		return Alert{}, problem.NotFound("alert")
	}
	if al, err = s.alerts.Acknowledge(ctx, a, id); err != nil {
		return Alert{}, err
	}
	return fromAlert(al), nil
}
