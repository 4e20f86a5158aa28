// Package alert owns the alerts of every module — the supply chain, patient-data
// detection and those that come next — in one inbox: one alert model with a dedup key
// and counts, cases that group alerts and carry them from new through investigating and
// resolved to closed, silences, and the per-severity SLA that sets due dates.
//
// A module raises an alert inside its own transaction through Raise (through a small
// interface the module declares), so that the alert exists exactly when the change that
// caused it commits. Raising the same dedup key again while an alert of the organisation
// is open (new or investigating) counts it instead of adding another. Hooks registered
// with OnRaise (package notify's outbox) run in the same transaction, after silences
// were applied. Every list and load is limited to the actor's subtree through
// actor.Actor.SeesSQL; every change made by a person is in the trail.
package alert

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

// Severities, highest first.
const (
	SeverityCritical = "critical"
	SeverityHigh     = "high"
	SeverityMedium   = "medium"
	SeverityLow      = "low"
	SeverityInfo     = "info"
)

// Severities lists the severities, highest first.
var Severities = []string{SeverityCritical, SeverityHigh, SeverityMedium, SeverityLow, SeverityInfo}

// Statuses of an alert and of a case.
const (
	StatusNew           = "new"
	StatusInvestigating = "investigating"
	StatusResolved      = "resolved"
	StatusClosed        = "closed"
)

// Statuses lists the statuses in workflow order.
var Statuses = []string{StatusNew, StatusInvestigating, StatusResolved, StatusClosed}

// Resolutions of a resolved alert or case.
const (
	ResolutionConfirmed     = "confirmed"
	ResolutionFalsePositive = "false_positive"
	ResolutionRiskAccepted  = "risk_accepted"
)

// Resolutions lists the resolutions.
var Resolutions = []string{ResolutionConfirmed, ResolutionFalsePositive, ResolutionRiskAccepted}

// severityRank orders severities: critical 5 … info 1, unknown 0.
func severityRank(s string) int {
	for i, v := range Severities {
		if v == s {
			return len(Severities) - i
		}
	}
	return 0
}

// ValidSeverity reports whether s is one of Severities.
func ValidSeverity(s string) bool { return severityRank(s) > 0 }

// Alert is one alert of a module, as stored and shown.
type Alert struct {
	ID      int64  `json:"id"`
	OrgID   int64  `json:"org_id"`
	OrgName string `json:"org_name,omitempty"`
	// Source is the module that raised it: supply, dlp, …
	Source string `json:"source"`
	// Kind is what happened: new_vulnerability, delivery_failed, dlp_block, a rule id …
	Kind     string `json:"kind"`
	Severity string `json:"severity"`
	// PrevSeverity is, in the alert Raise returns and hooks get, its severity before
	// this raise counted it ("" when the raise created it): a counted alert is worth
	// notifying again only when its severity rose. Lists leave it empty.
	PrevSeverity string `json:"-"`
	// Title is the English title; TitleMsg the same as a catalogue key and arguments
	// (nil for alerts raised before titles were stored that way).
	Title    string        `json:"title"`
	TitleMsg *i18n.Message `json:"title_msg,omitempty"`
	// Subject is a short label of what the alert is about (an advisory id, a masked
	// file name); never a raw patient value.
	Subject   string `json:"subject"`
	AssetID   int64  `json:"asset_id,omitempty"`
	ProductID int64  `json:"product_id,omitempty"`
	VersionID int64  `json:"version_id,omitempty"`
	Account   string `json:"account"`
	// PatientID is the patient identifier as the source system gave it, masked: only
	// its last characters are shown (see MaskPatientID). The clear value stays in the
	// database.
	PatientID        string          `json:"patient_id"`
	App              string          `json:"app"`
	Evidence         json.RawMessage `json:"evidence"`
	DedupKey         string          `json:"dedup_key"`
	Status           string          `json:"status"`
	Resolution       string          `json:"resolution"`
	ResolutionReason string          `json:"resolution_reason"`
	AcceptedUntil    *time.Time      `json:"accepted_until"`
	// SilenceID is the silence that matched the alert when it was last raised; a
	// silenced alert is stored and shown but not notified.
	SilenceID      int64      `json:"silence_id,omitempty"`
	CaseID         int64      `json:"case_id,omitempty"`
	Assignee       string     `json:"assignee"`
	DueAt          *time.Time `json:"due_at"`
	FirstSeen      time.Time  `json:"first_seen"`
	LastSeen       time.Time  `json:"last_seen"`
	Count          int64      `json:"count"`
	AcknowledgedAt *time.Time `json:"acknowledged_at"`
	AcknowledgedBy string     `json:"acknowledged_by"`

	// Rule is the detection rule that raised the alert (audit-event monitoring); ""
	// for the alerts of other modules.
	Rule string `json:"rule,omitempty"`
	// GroupBy names the event fields the rule grouped by, and Group their values
	// (never a patient identifier: that one is PatientID, masked). The common ones are
	// repeated as fields of their own below, so that a batch login's alert reads
	// terminal and source_ip directly.
	GroupBy    []string          `json:"group_by,omitempty"`
	Group      map[string]string `json:"group,omitempty"`
	System     string            `json:"system,omitempty"`
	Department string            `json:"department,omitempty"`
	StaffID    string            `json:"staff_id,omitempty"`
	Terminal   string            `json:"terminal,omitempty"`
	SourceIP   string            `json:"source_ip,omitempty"`
	// From and To are the time range of the events that fired the rule, over every
	// time the alert was counted.
	From *time.Time `json:"from,omitempty"`
	To   *time.Time `json:"to,omitempty"`
}

// Silenced reports whether a silence matched the alert when it was last raised.
func (al Alert) Silenced() bool { return al.SilenceID != 0 }

// Open reports whether the alert is new or being investigated.
func (al Alert) Open() bool { return al.Status == StatusNew || al.Status == StatusInvestigating }

// Overdue reports whether the open alert's due date is before now.
func (al Alert) Overdue(now time.Time) bool {
	return al.Open() && al.DueAt != nil && al.DueAt.Before(now)
}

// MaskPatientID hides all of a patient identifier but its last characters: four of an
// identifier of ten characters or more, three of seven to nine, two of four to six,
// none of a shorter one. The hidden part is always "****", so that the length does not
// show either.
func MaskPatientID(id string) string {
	if id == "" {
		return ""
	}
	r := []rune(id)
	keep := 0
	switch n := len(r); {
	case n >= 10:
		keep = 4
	case n >= 7:
		keep = 3
	case n >= 4:
		keep = 2
	}
	return "****" + string(r[len(r)-keep:])
}

// Input is what a module raises.
type Input struct {
	OrgID    int64
	Source   string // module: supply, dlp, …
	Kind     string
	Severity string
	// Title is the alert's title as a catalogue key and arguments; the arguments must
	// not hold patient data.
	Title     i18n.Message
	Subject   string
	AssetID   int64
	ProductID int64
	VersionID int64
	Account   string
	PatientID string
	App       string
	// Evidence is stored as JSON (nil: {}); it is shown to whoever sees the alert and
	// must hold no raw patient value.
	Evidence any
	// DedupKey identifies "the same alert" within the organisation; "" uses
	// kind + ":" + subject.
	DedupKey string
	// At is when it happened (zero: now).
	At time.Time

	// Rule, GroupBy, Group, From and To are a detection rule's (see Alert). Group must
	// not hold a patient identifier: a "patient_id" entry is dropped.
	Rule     string
	GroupBy  []string
	Group    map[string]string
	From, To time.Time
}

// Hook is called inside the raising transaction for every raised alert.
type Hook func(ctx context.Context, tx *store.Tx, al Alert, created bool) error

// Service stores alerts, cases and silences.
type Service struct {
	db    *store.DB
	trail *trail.Log
	cat   *i18n.Catalog
	now   func() time.Time

	sla slaCache

	// users, when set, checks that an assignee is a user the actor may see.
	users func(ctx context.Context, a actor.Actor, username string) error

	mu    sync.RWMutex
	hooks []Hook
}

// SetUsers makes assignments check that the assignee is a user the acting person may
// see: f (auth's UserByName, wired by the application) answers not found (or
// forbidden) for anyone else. Without it any well-formed user name is accepted.
func (s *Service) SetUsers(f func(ctx context.Context, a actor.Actor, username string) error) {
	s.users = f
}

// New returns a Service on db that records changes made by people in tl.
func New(db *store.DB, tl *trail.Log) (*Service, error) {
	cat, err := i18n.Load()
	if err != nil {
		return nil, fmt.Errorf("alert: %w", err)
	}
	return &Service{db: db, trail: tl, cat: cat, now: time.Now}, nil
}

// SetClock replaces the service's clock; tests use it to make alerts overdue and
// silences expire.
func (s *Service) SetClock(now func() time.Time) { s.now = now }

func (s *Service) stamp() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// OnRaise registers f, called inside the raising transaction for every raised alert
// (created or incremented), after silences were applied: al.Silenced() tells whether a
// silence matched. An error from f fails the raise and so the caller's transaction.
func (s *Service) OnRaise(f func(ctx context.Context, tx *store.Tx, al Alert, created bool) error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hooks = append(s.hooks, f)
}

// ErrInvalid is wrapped by the errors Raise returns for an input that breaks the
// model's rules: a bug of the raising module, not of its user.
var ErrInvalid = errors.New("alert: invalid input")

// Limits of the raised fields.
const (
	maxName    = 64  // source, kind
	maxSubject = 200 // subject, account, app, patient id
	maxDedup   = 300
	maxGroup   = 8 // grouped fields of a rule
)

func (in *Input) check(cat *i18n.Catalog) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
	}
	if in.OrgID <= 0 {
		return bad("no organisation")
	}
	for name, v := range map[string]string{"source": in.Source, "kind": in.Kind} {
		if v == "" || len(v) > maxName || strings.ContainsAny(v, " \t\r\n\x00") {
			return bad("%s must be 1–%d characters without spaces", name, maxName)
		}
	}
	if !ValidSeverity(in.Severity) {
		return bad("severity %q is not one of %v", in.Severity, Severities)
	}
	if in.Title.Key == "" || !cat.Has(i18n.EN, in.Title.Key) || !cat.Has(i18n.ZhCN, in.Title.Key) {
		return bad("title key %q is not in both catalogues", in.Title.Key)
	}
	for name, v := range map[string]*string{"subject": &in.Subject, "account": &in.Account, "patient_id": &in.PatientID, "app": &in.App} {
		*v = strings.TrimSpace(*v)
		if !utf8.ValidString(*v) || strings.ContainsRune(*v, 0) {
			return bad("%s is not valid text", name)
		}
		if utf8.RuneCountInString(*v) > maxSubject {
			r := []rune(*v)
			*v = string(r[:maxSubject])
		}
	}
	if in.DedupKey == "" {
		in.DedupKey = in.Kind + ":" + in.Subject
	}
	if len(in.Rule) > maxName || strings.ContainsAny(in.Rule, " \t\r\n\x00") {
		return bad("rule must be at most %d characters without spaces", maxName)
	}
	if len(in.GroupBy) > maxGroup || len(in.Group) > maxGroup {
		return bad("more than %d grouped fields", maxGroup)
	}
	delete(in.Group, "patient_id")
	for k, v := range in.Group {
		if len(k) > maxName || !utf8.ValidString(k) || !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
			return bad("grouped field %q is not valid text", k)
		}
		if utf8.RuneCountInString(v) > maxSubject {
			in.Group[k] = string([]rune(v)[:maxSubject])
		}
	}
	if len(in.DedupKey) > maxDedup {
		return bad("dedup key longer than %d bytes", maxDedup)
	}
	return nil
}

const rankSQL = `CASE %s WHEN 'critical' THEN 5 WHEN 'high' THEN 4 WHEN 'medium' THEN 3 WHEN 'low' THEN 2 ELSE 1 END`

// raiseSQL inserts an alert, or counts the open one with the same dedup key: its last
// seen time, title and evidence become the new raise's, its severity the higher of the
// two, and its silence the one matching now (silenceSQL, as a subquery: one statement
// a raise, one more when a silence matched).
var raiseSQL = `INSERT INTO alerts (org_id, source, kind, severity, title_msg, title, subject, asset_id, product_id, version_id,
	account, patient_id, app, evidence, dedup_key, status, silence_id, due_at, first_seen, last_seen, count, updated_at,
	rule, group_by, group_values, range_from, range_to)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'new', (` + silenceSQL + `), ?, ?, ?, 1, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (org_id, dedup_key) WHERE status IN ('new', 'investigating') DO UPDATE SET
	count = alerts.count + 1, prev_severity = alerts.severity, last_seen = excluded.last_seen, title_msg = excluded.title_msg, title = excluded.title,
	evidence = excluded.evidence, silence_id = excluded.silence_id, updated_at = excluded.updated_at,
	range_from = CASE WHEN alerts.range_from IS NULL OR excluded.range_from < alerts.range_from THEN excluded.range_from ELSE alerts.range_from END,
	range_to = CASE WHEN alerts.range_to IS NULL OR excluded.range_to > alerts.range_to THEN excluded.range_to ELSE alerts.range_to END,
	severity = CASE WHEN ` + fmt.Sprintf(rankSQL, "excluded.severity") + ` > ` + fmt.Sprintf(rankSQL, "alerts.severity") +
	` THEN excluded.severity ELSE alerts.severity END
	RETURNING ` + columns + `, prev_severity`

// Raise records in inside tx, the caller's transaction: a new alert, or the open alert
// of the organisation with the same dedup key counted once more (created is false).
// Silences are applied, then the OnRaise hooks run. The returned alert's PatientID is
// masked.
func (s *Service) Raise(ctx context.Context, tx *store.Tx, in Input) (Alert, bool, error) {
	if err := in.check(s.cat); err != nil {
		return Alert{}, false, err
	}
	at := in.At.UTC().Truncate(time.Microsecond)
	if in.At.IsZero() {
		at = s.stamp()
	}
	ev := []byte("{}")
	if in.Evidence != nil {
		b, err := json.Marshal(in.Evidence)
		if err != nil {
			return Alert{}, false, fmt.Errorf("alert: evidence: %w", err)
		}
		ev = b
	}
	tm, err := json.Marshal(in.Title)
	if err != nil {
		return Alert{}, false, fmt.Errorf("alert: title: %w", err)
	}
	title := s.cat.Render(i18n.EN, in.Title)
	hours, err := s.slaFor(ctx, tx, in.OrgID, in.Severity)
	if err != nil {
		return Alert{}, false, err
	}
	var due *time.Time
	if hours > 0 {
		d := at.Add(time.Duration(hours) * time.Hour)
		due = &d
	}
	groupBy, group, err := groupJSON(in.GroupBy, in.Group)
	if err != nil {
		return Alert{}, false, err
	}
	var from, to *time.Time
	if !in.From.IsZero() {
		f := in.From.UTC().Truncate(time.Microsecond)
		from = &f
	}
	if !in.To.IsZero() {
		t := in.To.UTC().Truncate(time.Microsecond)
		to = &t
	}
	var prev string
	al, err := scanAlert(tx.QueryRowContext(ctx, raiseSQL, in.OrgID, in.Source, in.Kind, in.Severity, string(tm), title, in.Subject,
		store.NullID(in.AssetID), store.NullID(in.ProductID), store.NullID(in.VersionID), in.Account, in.PatientID, in.App,
		string(ev), in.DedupKey, in.OrgID, at, in.Source, in.Kind, in.Severity, in.Subject, in.Account, in.App, // the silence
		store.NullTime(due), at, at, at, in.Rule, groupBy, group, store.NullTime(from), store.NullTime(to)), &prev)
	if err != nil {
		return Alert{}, false, fmt.Errorf("alert: raise: %w", err)
	}
	al.PrevSeverity = prev
	created := al.Count == 1
	if sil := al.SilenceID; sil != 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE alert_silences SET matched = matched + 1, last_matched_at = ? WHERE id = ?`,
			at, sil); err != nil {
			return Alert{}, false, fmt.Errorf("alert: count silence match: %w", err)
		}
	}
	s.mu.RLock()
	hooks := append([]Hook(nil), s.hooks...)
	s.mu.RUnlock()
	for _, h := range hooks {
		if err := h(ctx, tx, al, created); err != nil {
			return Alert{}, false, err
		}
	}
	return al, created, nil
}

// columns are the columns scanAlert reads, without the organisation's name.
const columns = `id, org_id, source, kind, severity, title_msg, title, subject, asset_id, product_id, version_id, account,
	patient_id, app, evidence, dedup_key, status, resolution, resolution_reason, accepted_until, silence_id, case_id,
	assignee, due_at, first_seen, last_seen, count, acknowledged_at, acknowledged_by, rule, group_by, group_values,
	range_from, range_to`

// qualified returns columns prefixed with table alias p.
func qualified(p string) string {
	parts := strings.Split(columns, ",")
	for i, c := range parts {
		parts[i] = p + "." + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}

type scanner interface{ Scan(...any) error }

func scanAlert(sc scanner, extra ...any) (Alert, error) {
	var al Alert
	var titleMsg, evidence string
	var asset, product, version, silence, cs sql.NullInt64
	var accepted, due, first, last, ack, from, to store.Time
	var groupBy, group string
	dest := []any{&al.ID, &al.OrgID, &al.Source, &al.Kind, &al.Severity, &titleMsg, &al.Title, &al.Subject, &asset, &product,
		&version, &al.Account, &al.PatientID, &al.App, &evidence, &al.DedupKey, &al.Status, &al.Resolution, &al.ResolutionReason,
		&accepted, &silence, &cs, &al.Assignee, &due, &first, &last, &al.Count, &ack, &al.AcknowledgedBy, &al.Rule, &groupBy, &group,
		&from, &to}
	if err := sc.Scan(append(dest, extra...)...); err != nil {
		return Alert{}, err
	}
	if titleMsg != "" {
		var m i18n.Message
		if json.Unmarshal([]byte(titleMsg), &m) == nil && m.Key != "" {
			al.TitleMsg = &m
		}
	}
	if evidence == "" {
		evidence = "{}"
	}
	al.Evidence = json.RawMessage(evidence)
	al.AssetID, al.ProductID, al.VersionID = asset.Int64, product.Int64, version.Int64
	al.SilenceID, al.CaseID = silence.Int64, cs.Int64
	al.AcceptedUntil, al.DueAt, al.AcknowledgedAt = accepted.Ptr(), due.Ptr(), ack.Ptr()
	al.FirstSeen, al.LastSeen = first.Time, last.Time
	al.PatientID = MaskPatientID(al.PatientID)
	al.From, al.To = from.Ptr(), to.Ptr()
	if groupBy != "" {
		_ = json.Unmarshal([]byte(groupBy), &al.GroupBy) // written by groupJSON; a damaged value shows as none
	}
	if group != "" {
		_ = json.Unmarshal([]byte(group), &al.Group)
		al.System, al.Department, al.StaffID = al.Group["system"], al.Group["department"], al.Group["staff_id"]
		al.Terminal, al.SourceIP = al.Group["terminal"], al.Group["source_ip"]
	}
	return al, nil
}

// groupJSON returns a rule's grouped field names and values as stored ("" for none).
func groupJSON(by []string, group map[string]string) (string, string, error) {
	var b, g string
	if len(by) > 0 {
		j, err := json.Marshal(by)
		if err != nil {
			return "", "", fmt.Errorf("alert: group: %w", err)
		}
		b = string(j)
	}
	if len(group) > 0 {
		j, err := json.Marshal(group)
		if err != nil {
			return "", "", fmt.Errorf("alert: group: %w", err)
		}
		g = string(j)
	}
	return b, g, nil
}

func idString(id int64) string { return strconv.FormatInt(id, 10) }
