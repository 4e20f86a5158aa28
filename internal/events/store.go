package events

import (
	"context"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/emmansun/gmsm/sm4"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/store"
)

// KeySize is the size of the key file (events.key): 16 bytes of SM4 key that seal patient
// identifiers and raw originals, then 32 bytes of HMAC-SHA256 key for the keyed hash that
// finds a patient's events.
const KeySize = sm4.BlockSize + 32

// DefaultRetention is how long events are kept when no retention is configured: 180
// days, the six months MLPS 2.0 asks audit records to be kept for.
const DefaultRetention = 180 * 24 * time.Hour

// MinRetention is the shortest retention accepted (MLPS: at least six months).
const MinRetention = DefaultRetention

// Limits of the fields of an event, in bytes.
const (
	maxField = 256       // id, system, account, staff_id, department, record_type, terminal …
	maxRaw   = 256 << 10 // the raw original
)

// insertRows is how many events one INSERT statement carries: 17 arguments a row keep
// it under SQLite's 32,766 and PostgreSQL's 65,535 parameters.
const insertRows = 500

// Options configures a Service.
type Options struct {
	// Key is the content of events.key (KeySize bytes). Required.
	Key []byte
	// Retention is how long events are kept by event time; 0 means DefaultRetention.
	Retention time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Service stores and lists events.
type Service struct {
	db        *store.DB
	aead      cipher.AEAD
	hashKey   []byte
	retention time.Duration
	now       func() time.Time
}

// New returns the event store on db.
func New(db *store.DB, o Options) (*Service, error) {
	if len(o.Key) != KeySize {
		return nil, fmt.Errorf("events: the key must be %d bytes, not %d", KeySize, len(o.Key))
	}
	b, err := sm4.NewCipher(o.Key[:sm4.BlockSize])
	if err != nil {
		return nil, fmt.Errorf("events: SM4 key: %w", err)
	}
	aead, err := cipher.NewGCM(b)
	if err != nil {
		return nil, fmt.Errorf("events: SM4-GCM: %w", err)
	}
	if o.Retention == 0 {
		o.Retention = DefaultRetention
	}
	if o.Retention < MinRetention {
		return nil, fmt.Errorf("events: retention %v is shorter than the six months MLPS asks for", o.Retention)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Service{db: db, aead: aead, hashKey: slices.Clone(o.Key[sm4.BlockSize:]), retention: o.Retention, now: o.Now}, nil
}

// Retention returns how long events are kept.
func (s *Service) Retention() time.Duration { return s.retention }

// PatientHash returns the keyed hash under which the events of patient id are found
// ("" for no patient).
func (s *Service) PatientHash(id string) string {
	if id == "" {
		return ""
	}
	m := hmac.New(sha256.New, s.hashKey)
	m.Write([]byte("events.patient\x00"))
	m.Write([]byte(id))
	return hex.EncodeToString(m.Sum(nil))
}

// sealAD binds a sealed value to what it is, so that a patient id copied into a raw
// column (or the reverse) does not open.
func sealAD(what string) []byte { return []byte("events." + what) }

func (s *Service) seal(what, v string) ([]byte, error) {
	if v == "" {
		return nil, nil
	}
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(v)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("events: nonce: %w", err)
	}
	return s.aead.Seal(nonce, nonce, []byte(v), sealAD(what)), nil
}

func (s *Service) open(what string, b []byte) (string, error) {
	if len(b) == 0 {
		return "", nil
	}
	n := s.aead.NonceSize()
	if len(b) < n+s.aead.Overhead() {
		return "", errors.New("events: a sealed value is damaged")
	}
	out, err := s.aead.Open(nil, b[:n], b[n:], sealAD(what))
	if err != nil {
		return "", fmt.Errorf("events: open a sealed %s (is events.key the one it was sealed with?): %w", what, err)
	}
	return string(out), nil
}

// Rejection says why the event at Index of a batch was not stored. Reason names the
// rule the event broke, never a value of it (it may be patient data).
type Rejection struct {
	Index  int    `json:"index"`
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// Result is the outcome of Append: how many events were stored, how many were dropped as
// duplicates of stored ones (or of an earlier one of the batch), and which were rejected.
type Result struct {
	Accepted   int         `json:"accepted"`
	Duplicates int         `json:"duplicates"`
	Rejected   []Rejection `json:"rejected"`
}

// Validate checks e and fills the defaults (outcome success, time in UTC). It returns
// the rejection, Field and Reason set, or nil.
func Validate(e *Event) *Rejection {
	bad := func(field, reason string) *Rejection { return &Rejection{Field: field, Reason: reason} }
	req := []struct{ name, v string }{{"id", e.ID}, {"system", e.System}, {"account", e.Account}, {"action", e.Action}}
	for _, f := range req {
		if strings.TrimSpace(f.v) == "" {
			return bad(f.name, "required")
		}
	}
	opt := []struct{ name, v string }{{"id", e.ID}, {"system", e.System}, {"account", e.Account}, {"staff_id", e.StaffID},
		{"department", e.Department}, {"action", e.Action}, {"outcome", e.Outcome}, {"patient_id", e.PatientID},
		{"record_type", e.RecordType}, {"source_ip", e.SourceIP}, {"terminal", e.Terminal}}
	for _, f := range opt {
		if len(f.v) > maxField {
			return bad(f.name, fmt.Sprintf("longer than %d bytes", maxField))
		}
		if !utf8.ValidString(f.v) || strings.ContainsRune(f.v, 0) {
			return bad(f.name, "not valid UTF-8 text")
		}
	}
	if len(e.Raw) > maxRaw {
		return bad("raw", fmt.Sprintf("longer than %d bytes", maxRaw))
	}
	if !utf8.ValidString(e.Raw) || strings.ContainsRune(e.Raw, 0) {
		return bad("raw", "not valid UTF-8 text")
	}
	if e.Time.IsZero() {
		return bad("time", "required")
	}
	if y := e.Time.Year(); y < 1970 || y > 9999 {
		return bad("time", "out of range")
	}
	if !slices.Contains(Actions(), e.Action) {
		return bad("action", "unknown action")
	}
	switch e.Outcome {
	case "":
		e.Outcome = OutcomeSuccess
	case OutcomeSuccess, OutcomeFailure:
	default:
		return bad("outcome", "must be success or failure")
	}
	if e.RecordCount < 0 {
		return bad("record_count", "negative")
	}
	e.Time = e.Time.UTC()
	return nil
}

// Append validates events and stores the valid ones of organisation orgID in one
// transaction: it returns only after that transaction committed, so every event counted
// as accepted is durable. An event whose system and id are already stored for the
// organisation (or came earlier in the batch) is dropped and counted as a duplicate, never
// an error. The error is for the store failing, in which case nothing was stored.
func (s *Service) Append(ctx context.Context, orgID int64, evs []Event) (Result, error) {
	res := Result{Rejected: []Rejection{}}
	type key struct{ system, id string }
	seen := make(map[key]bool, len(evs))
	now := s.now().UTC()
	rows := make([]any, 0, min(len(evs), insertRows)*17)
	valid := 0
	var batches [][]any
	for i := range evs {
		e := evs[i] // a copy: the caller's slice is not changed
		if r := Validate(&e); r != nil {
			r.Index = i
			res.Rejected = append(res.Rejected, *r)
			continue
		}
		k := key{e.System, e.ID}
		if seen[k] {
			res.Duplicates++
			continue
		}
		seen[k] = true
		valid++
		patient, err := s.seal("patient", e.PatientID)
		if err != nil {
			return Result{}, err
		}
		raw, err := s.seal("raw", e.Raw)
		if err != nil {
			return Result{}, err
		}
		rows = append(rows, orgID, e.System, e.ID, e.Time, e.Account, e.StaffID, e.Department, e.Action, e.Outcome,
			patient, s.PatientHash(e.PatientID), e.RecordType, e.RecordCount, e.SourceIP, e.Terminal, raw, now)
		if len(rows) == insertRows*17 {
			batches = append(batches, rows)
			rows = make([]any, 0, insertRows*17)
		}
	}
	if len(rows) > 0 {
		batches = append(batches, rows)
	}
	if valid == 0 {
		return res, nil
	}
	inserted := 0
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		inserted = 0
		for _, b := range batches {
			n := len(b) / 17
			var q strings.Builder
			q.WriteString(`INSERT INTO events (org_id, system, event_id, time, account, staff_id, department, action, outcome,
				patient_sealed, patient_hash, record_type, record_count, source_ip, terminal, raw_sealed, received_at) VALUES `)
			row := "(" + store.Placeholders(17) + ")"
			for i := 0; i < n; i++ {
				if i > 0 {
					q.WriteString(", ")
				}
				q.WriteString(row)
			}
			q.WriteString(` ON CONFLICT (org_id, system, event_id) DO NOTHING`)
			r, err := tx.ExecContext(ctx, q.String(), b...)
			if err != nil {
				return fmt.Errorf("events: append: %w", err)
			}
			c, err := r.RowsAffected()
			if err != nil {
				return fmt.Errorf("events: append: %w", err)
			}
			inserted += int(c)
		}
		return nil
	})
	if err != nil {
		return Result{}, err
	}
	res.Accepted = inserted
	res.Duplicates += valid - inserted
	return res, nil
}

// Stored is an event as stored: the event (patient id and raw opened) with its
// organisation and when it was received.
type Stored struct {
	Event
	Seq        int64     `json:"seq"`
	OrgID      int64     `json:"org_id"`
	ReceivedAt time.Time `json:"received_at"`
}

// Filter narrows List. Zero fields do not narrow.
type Filter struct {
	From, To  time.Time // event time in [From, To)
	Account   string
	PatientID string // matched by its keyed hash
	Action    string
	OrgPath   string // a subtree the actor was checked to see; "" is the actor's own
	AfterSeq  int64  // only events stored after this sequence number (paging)
	Limit     int    // 0: 1000
}

// List returns the events of the organisations a sees that match f, in time order.
func (s *Service) List(ctx context.Context, a actor.Actor, f Filter) ([]Stored, error) {
	cond, arg := a.SeesSQL("o.path")
	where := []string{cond}
	args := []any{arg}
	if f.OrgPath != "" {
		if !a.Sees(f.OrgPath) {
			return []Stored{}, nil
		}
		c, v := actor.SubtreeSQL("o.path", f.OrgPath)
		where, args = append(where, c), append(args, v)
	}
	if !f.From.IsZero() {
		where, args = append(where, "e.time >= ?"), append(args, f.From.UTC())
	}
	if !f.To.IsZero() {
		where, args = append(where, "e.time < ?"), append(args, f.To.UTC())
	}
	if f.Account != "" {
		where, args = append(where, "e.account = ?"), append(args, f.Account)
	}
	if f.PatientID != "" {
		where, args = append(where, "e.patient_hash = ?"), append(args, s.PatientHash(f.PatientID))
	}
	if f.Action != "" {
		where, args = append(where, "e.action = ?"), append(args, f.Action)
	}
	if f.AfterSeq > 0 {
		where, args = append(where, "e.id > ?"), append(args, f.AfterSeq)
	}
	if f.Limit <= 0 {
		f.Limit = 1000
	}
	out, err := store.Collect(ctx, s.db, s.scan, `SELECT e.id, e.org_id, e.system, e.event_id, e.time, e.account, e.staff_id,
		e.department, e.action, e.outcome, e.patient_sealed, e.record_type, e.record_count, e.source_ip, e.terminal,
		e.raw_sealed, e.received_at FROM events e JOIN orgs o ON o.id = e.org_id
		WHERE `+strings.Join(where, " AND ")+` ORDER BY e.time, e.id LIMIT `+fmt.Sprint(f.Limit), args...)
	if err != nil {
		return nil, fmt.Errorf("events: list: %w", err)
	}
	return out, nil
}

func (s *Service) scan(sc store.Scanner) (Stored, error) {
	var e Stored
	var t, recv store.Time
	var patient, raw []byte
	if err := sc.Scan(&e.Seq, &e.OrgID, &e.System, &e.ID, &t, &e.Account, &e.StaffID, &e.Department, &e.Action, &e.Outcome,
		&patient, &e.RecordType, &e.RecordCount, &e.SourceIP, &e.Terminal, &raw, &recv); err != nil {
		return Stored{}, err
	}
	e.Time, e.ReceivedAt = t.Time, recv.Time
	var err error
	if e.PatientID, err = s.open("patient", patient); err != nil {
		return Stored{}, err
	}
	if e.Raw, err = s.open("raw", raw); err != nil {
		return Stored{}, err
	}
	return e, nil
}

// Purge deletes the events older than the retention (by event time) and returns how
// many it deleted. The server's background loop calls it.
func (s *Service) Purge(ctx context.Context) (int64, error) {
	r, err := s.db.ExecContext(ctx, `DELETE FROM events WHERE time < ?`, s.now().UTC().Add(-s.retention))
	if err != nil {
		return 0, fmt.Errorf("events: purge: %w", err)
	}
	return r.RowsAffected()
}
