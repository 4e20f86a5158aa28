package events

import (
	"context"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/emmansun/gmsm/sm4"
	"github.com/jackc/pgx/v5"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/store"
)

// KeySize is the size of the key file (events.key): 16 bytes of SM4 key that seal patient
// identifiers and raw originals, then 32 bytes of HMAC-SHA256 key for the keyed hash that
// finds a patient's events.
const KeySize = sm4.BlockSize + 32

// DefaultRetention is how long events are kept when no retention is configured: 184
// days, the longest six calendar months (July to December), so that the six months
// MLPS 2.0 and the Cybersecurity Law ask audit records to be kept for always hold.
const DefaultRetention = 184 * 24 * time.Hour

// MinRetention is the shortest retention accepted (MLPS: at least six months).
const MinRetention = DefaultRetention

// Limits of the fields of an event, in bytes.
const (
	maxField = 256       // id, system, account, staff_id, department, record_type, terminal …
	maxRaw   = 256 << 10 // the raw original
)

// columns are the columns Append writes, in the order of its arguments (after id on
// SQLite).
var columns = []string{"org_id", "system", "event_id", "time", "account", "staff_id", "department", "action", "outcome",
	"patient_sealed", "patient_hash", "record_type", "record_count", "source_ip", "terminal", "raw_sealed", "received_at",
	"part", "pkey"}

// partShift groups events into parts of 1<<partShift consecutive sequence numbers (part =
// id >> partShift): the account and patient indexes begin with the part, so that an
// ingest only touches their ends, and a query by account or patient visits the parts
// whose time range (event_parts) meets the one asked (migration 0040).
const partShift = 14

// dedupKey is the unique index that makes a re-sent event a duplicate.
const dedupKey = `(org_id, time, system, event_id)`

// insertRows is how many events one INSERT statement stores on SQLite: fewer statements
// to step, measured 10 % less CPU an event than one row a statement.
const insertRows = 32

// insertSQL stores n events (with their ids) unless already stored.
func insertSQL(n int) string {
	row := `(` + store.Placeholders(len(columns)+1) + `)`
	return `INSERT INTO events (id, ` + strings.Join(columns, ", ") + `) VALUES ` +
		strings.TrimSuffix(strings.Repeat(row+", ", n), ", ") + ` ON CONFLICT ` + dedupKey + ` DO NOTHING`
}

var insertMany, insertOne = insertSQL(insertRows), insertSQL(1)

// sealChunk is how many events one goroutine seals at a time.
const sealChunk = 1024

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
	key       []byte    // the SM4 key
	hashKey   []byte    // the HMAC key
	sealers   sync.Pool // of *sealer: one cipher and one HMAC a goroutine
	retention time.Duration
	now       func() time.Time
	committed atomic.Pointer[func()] // called after a batch with new events committed
	tail      tail                   // the batches committed last, for Recent
}

// OnCommit sets f to be called after every Append whose transaction stored at least one
// new event — the live detection runner is woken this way instead of finding the events
// at its next poll. f must not block; nil removes it.
func (s *Service) OnCommit(f func()) {
	if f == nil {
		s.committed.Store(nil)
		return
	}
	s.committed.Store(&f)
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
	return &Service{db: db, aead: aead, key: slices.Clone(o.Key[:sm4.BlockSize]), hashKey: slices.Clone(o.Key[sm4.BlockSize:]),
		retention: o.Retention, now: o.Now}, nil
}

// sealer seals and hashes for one goroutine at a time: its own SM4-GCM instance and its
// own HMAC, reset between values instead of built anew for each.
type sealer struct {
	aead cipher.AEAD
	mac  hash.Hash
	sum  []byte                // the HMAC's output
	msg  []byte                // what the HMAC reads
	hex  [2 * sha256.Size]byte // the hash in hexadecimal
}

func (s *Service) getSealer() *sealer {
	if v, ok := s.sealers.Get().(*sealer); ok {
		return v
	}
	b, err := sm4.NewCipher(s.key)
	if err != nil {
		panic("events: SM4 key checked in New: " + err.Error())
	}
	aead, err := cipher.NewGCM(b)
	if err != nil {
		panic("events: SM4-GCM checked in New: " + err.Error())
	}
	return &sealer{aead: aead, mac: hmac.New(sha256.New, s.hashKey), sum: make([]byte, 0, sha256.Size)}
}

// patientHash is PatientHash on sl's HMAC.
func (sl *sealer) patientHash(id string) string {
	if id == "" {
		return ""
	}
	sl.msg = append(append(sl.msg[:0], "events.patient\x00"...), id...)
	sl.mac.Reset()
	sl.mac.Write(sl.msg)
	sl.sum = sl.mac.Sum(sl.sum[:0])
	hex.Encode(sl.hex[:], sl.sum)
	return string(sl.hex[:])
}

// sealInto appends to dst the value v sealed (nonce, then ciphertext and tag) under the
// nonce given, and returns the sealed value as a slice of dst ("" seals to nil).
func (sl *sealer) sealInto(dst []byte, what []byte, v string, nonce []byte) (out, sealed []byte) {
	if v == "" {
		return dst, nil
	}
	n := len(dst)
	dst = append(dst, nonce...)
	dst = sl.aead.Seal(dst, nonce, []byte(v), what)
	return dst, dst[n:len(dst):len(dst)]
}

// sealedSize is how many bytes the sealed value of v takes.
func sealedSize(v string) int {
	if v == "" {
		return 0
	}
	return gcmNonce + len(v) + gcmTag
}

// The sizes of an SM4-GCM nonce and tag.
const (
	gcmNonce = 12
	gcmTag   = 16
)

// Retention returns how long events are kept.
func (s *Service) Retention() time.Duration { return s.retention }

// PatientHash returns the keyed hash under which the events of patient id are found
// ("" for no patient).
func (s *Service) PatientHash(id string) string {
	if id == "" {
		return ""
	}
	sl := s.getSealer()
	defer s.sealers.Put(sl)
	return sl.patientHash(id)
}

// pkeyOf is the integer key of a patient's keyed hash in the patient index: its first
// 16 hexadecimal digits as a two's-complement 64-bit number with the low bit set (0 is
// "no patient"). Migration 0040 computes the same from the stored hashes.
func pkeyOf(hash string) int64 {
	if len(hash) < 16 {
		return 0
	}
	b, err := hex.DecodeString(hash[:16])
	if err != nil {
		return 0
	}
	return pkeyOfSum(b)
}

func pkeyOfSum(sum []byte) int64 {
	return int64(binary.BigEndian.Uint64(sum[:8]) | 1)
}

// sealAD binds a sealed value to what it is, so that a patient id copied into a raw
// column (or the reverse) does not open.
func sealAD(what string) []byte { return []byte("events." + what) }

// The additional data of sealed patient ids and raw originals.
var (
	adPatient = sealAD("patient")
	adRaw     = sealAD("raw")
)

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
	// Microseconds, what PostgreSQL keeps: an event stores the same time on either engine,
	// and two events a batch tells apart are never one duplicate to the store.
	e.Time = e.Time.UTC().Truncate(time.Microsecond)
	return nil
}

// Append validates events and stores the valid ones of organisation orgID in one
// transaction: it returns only after that transaction committed, so every event counted
// as accepted is durable. An event whose system, id and time are already stored
// for the organisation (or came earlier in the batch) is dropped and counted as a duplicate, never
// an error. The error is for the store failing, in which case nothing was stored.
//
// The patient ids and raw originals are sealed before the transaction begins, by as many
// goroutines as there are processors, so that the one SQLite writer only writes.
func (s *Service) Append(ctx context.Context, orgID int64, evs []Event) (Result, error) {
	res := Result{Rejected: []Rejection{}}
	type key struct {
		system, id string
		t          int64
	}
	seen := make(map[key]struct{}, len(evs))
	rows := make([]sealedEvent, 0, len(evs))
	for i := range evs {
		e := evs[i] // a copy: the caller's slice is not changed
		if r := Validate(&e); r != nil {
			r.Index = i
			res.Rejected = append(res.Rejected, *r)
			continue
		}
		k := key{e.System, e.ID, e.Time.UnixNano()}
		if _, dup := seen[k]; dup {
			res.Duplicates++
			continue
		}
		seen[k] = struct{}{}
		rows = append(rows, sealedEvent{Event: e})
	}
	if len(rows) == 0 {
		return res, nil
	}
	if err := s.sealAll(rows); err != nil {
		return Result{}, err
	}
	now := s.now().UTC()
	var first, inserted int64
	var err error
	if s.db.Dialect() == store.Postgres {
		first, inserted, err = s.copyIn(ctx, orgID, now, rows)
	} else {
		first, inserted, err = s.insertEach(ctx, orgID, now, rows)
	}
	if err != nil {
		if first != 0 {
			s.tail.drop(first)
		}
		return Result{}, err
	}
	if inserted == int64(len(rows)) {
		s.tail.add(s.db.Dialect(), orgID, first, now, rows)
	} else {
		s.tail.skip(first, len(rows))
	}
	res.Accepted = int(inserted)
	res.Duplicates += len(rows) - int(inserted)
	if f := s.committed.Load(); f != nil && inserted > 0 {
		(*f)()
	}
	return res, nil
}

// sealedEvent is a valid event with its patient id and raw original sealed and its
// patient's keyed hash.
type sealedEvent struct {
	Event
	patient, raw []byte
	hash         string
	pkey         int64 // the hash as an integer (pkeyOf)
}

// sealAll seals the patient id and raw original of every row and computes its keyed
// hash, in chunks of sealChunk rows spread over the processors.
func (s *Service) sealAll(rows []sealedEvent) error {
	chunks := (len(rows) + sealChunk - 1) / sealChunk
	workers := min(runtime.GOMAXPROCS(0), chunks)
	if workers <= 1 {
		return s.sealChunk(rows)
	}
	var wg sync.WaitGroup
	errs := make([]error, chunks)
	next := make(chan int, chunks)
	for c := range chunks {
		next <- c
	}
	close(next)
	for range workers {
		wg.Go(func() {
			for c := range next {
				errs[c] = s.sealChunk(rows[c*sealChunk : min((c+1)*sealChunk, len(rows))])
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// sealChunk seals rows into one buffer, their nonces drawn from one read of the system's
// random source.
func (s *Service) sealChunk(rows []sealedEvent) error {
	sl := s.getSealer()
	defer s.sealers.Put(sl)
	size, seals := 0, 0
	for i := range rows {
		size += sealedSize(rows[i].PatientID) + sealedSize(rows[i].Raw)
		if rows[i].PatientID != "" {
			seals++
		}
		if rows[i].Raw != "" {
			seals++
		}
	}
	nonces := make([]byte, seals*gcmNonce)
	if _, err := rand.Read(nonces); err != nil {
		return fmt.Errorf("events: nonce: %w", err)
	}
	buf := make([]byte, 0, size)
	for i := range rows {
		r := &rows[i]
		if r.PatientID != "" {
			buf, r.patient = sl.sealInto(buf, adPatient, r.PatientID, nonces[:gcmNonce])
			nonces = nonces[gcmNonce:]
			r.hash = sl.patientHash(r.PatientID)
			r.pkey = pkeyOfSum(sl.sum)
		}
		if r.Raw != "" {
			buf, r.raw = sl.sealInto(buf, adRaw, r.Raw, nonces[:gcmNonce])
			nonces = nonces[gcmNonce:]
		}
	}
	return nil
}

// args appends the arguments of columns for r, stored as sequence number id, to dst.
func (r *sealedEvent) args(dst []any, id, orgID int64, now time.Time) []any {
	return append(dst, orgID, r.System, r.ID, r.Time, r.Account, r.StaffID, r.Department, r.Action, r.Outcome,
		r.patient, r.hash, r.RecordType, r.RecordCount, r.SourceIP, r.Terminal, r.raw, now, id>>partShift, r.pkey)
}

// partRange is the time range of the events of one part in a batch.
type partRange struct {
	part     int64
	min, max time.Time
}

// partRanges returns the parts that rows, numbered from first, fall into, with the
// range of their times.
func partRanges(rows []sealedEvent, first int64) []partRange {
	var out []partRange
	for i := range rows {
		p, t := (first+int64(i))>>partShift, rows[i].Time
		if n := len(out); n > 0 && out[n-1].part == p {
			if t.Before(out[n-1].min) {
				out[n-1].min = t
			}
			if t.After(out[n-1].max) {
				out[n-1].max = t
			}
			continue
		}
		out = append(out, partRange{part: p, min: t, max: t})
	}
	return out
}

// notePartsSQL widens the time range of an organisation's part by a batch's.
const notePartsSQL = `INSERT INTO event_parts (org_id, part, min_time, max_time) VALUES (?, ?, ?, ?)
	ON CONFLICT (org_id, part) DO UPDATE SET
		min_time = CASE WHEN excluded.min_time < event_parts.min_time THEN excluded.min_time ELSE event_parts.min_time END,
		max_time = CASE WHEN excluded.max_time > event_parts.max_time THEN excluded.max_time ELSE event_parts.max_time END`

// insertEach stores rows on SQLite in one transaction, insertRows a statement, and
// returns how many were new. The sequence numbers are given, not drawn row by row, so
// that each row's part is known: they follow the last one AUTOINCREMENT handed out (the
// one writer holds the database while the transaction runs).
func (s *Service) insertEach(ctx context.Context, orgID int64, now time.Time, rows []sealedEvent) (first, inserted int64, err error) {
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		inserted = 0
		var last int64
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0)`).Scan(&last); err != nil {
			return fmt.Errorf("events: append: sequence: %w", err)
		}
		first = last + 1
		s.tail.begin(first, len(rows))
		many, err := tx.PrepareContext(ctx, insertMany)
		if err != nil {
			return fmt.Errorf("events: append: %w", err)
		}
		defer many.Close()
		one, err := tx.PrepareContext(ctx, insertOne)
		if err != nil {
			return fmt.Errorf("events: append: %w", err)
		}
		defer one.Close()
		args := make([]any, 0, insertRows*(len(columns)+1))
		for i := 0; i < len(rows); {
			st, k := many, insertRows
			if len(rows)-i < insertRows {
				st, k = one, 1
			}
			args = args[:0]
			for j := i; j < i+k; j++ {
				id := first + int64(j)
				args = rows[j].args(append(args, id), id, orgID, now)
			}
			r, err := st.ExecContext(ctx, args...)
			if err != nil {
				return fmt.Errorf("events: append: %w", err)
			}
			n, err := r.RowsAffected()
			if err != nil {
				return fmt.Errorf("events: append: %w", err)
			}
			inserted += n
			i += k
		}
		return noteParts(orgID, partRanges(rows, first), func(args ...any) error {
			_, err := tx.ExecContext(ctx, notePartsSQL, args...)
			return err
		})
	})
	return first, inserted, err
}

// noteParts records in event_parts the time ranges of the parts a batch went into, each
// by exec of notePartsSQL's arguments in the batch's transaction (store.Tx on SQLite, pgx
// on PostgreSQL).
func noteParts(orgID int64, parts []partRange, exec func(args ...any) error) error {
	for _, p := range parts {
		if err := exec(orgID, p.part, p.min, p.max); err != nil {
			return fmt.Errorf("events: append: parts: %w", err)
		}
	}
	return nil
}

// copyIn stores rows on PostgreSQL in one transaction: COPY into a temporary table of the
// connection (emptied at commit), then one INSERT … SELECT in batch order that skips the
// events stored already. It returns how many were new.
func (s *Service) copyIn(ctx context.Context, orgID int64, now time.Time, rows []sealedEvent) (first, inserted int64, err error) {
	err = s.db.WithPgx(ctx, func(conn *pgx.Conn) error {
		var err error
		first, err = reserveIDs(ctx, conn, len(rows))
		if err != nil {
			return err
		}
		s.tail.begin(first, len(rows))
		tx, err := conn.Begin(ctx)
		if err != nil {
			return fmt.Errorf("events: append: begin: %w", err)
		}
		defer func() { _ = tx.Rollback(ctx) }() // after Commit, a no-op
		if _, err := tx.Exec(ctx, `CREATE TEMPORARY TABLE IF NOT EXISTS events_in (
			ord INTEGER NOT NULL, org_id BIGINT NOT NULL, system TEXT NOT NULL, event_id TEXT NOT NULL,
			time TIMESTAMPTZ NOT NULL, account TEXT NOT NULL, staff_id TEXT NOT NULL, department TEXT NOT NULL,
			action TEXT NOT NULL, outcome TEXT NOT NULL, patient_sealed BYTEA, patient_hash TEXT NOT NULL,
			record_type TEXT NOT NULL, record_count INTEGER NOT NULL, source_ip TEXT NOT NULL, terminal TEXT NOT NULL,
			raw_sealed BYTEA, received_at TIMESTAMPTZ NOT NULL, part BIGINT NOT NULL, pkey BIGINT NOT NULL) ON COMMIT DELETE ROWS`); err != nil {
			return fmt.Errorf("events: append: temporary table: %w", err)
		}
		// A connection that made events_in before migration 0040 has it without part and pkey.
		if _, err := tx.Exec(ctx, `ALTER TABLE events_in ADD COLUMN IF NOT EXISTS part BIGINT NOT NULL DEFAULT 0,
			ADD COLUMN IF NOT EXISTS pkey BIGINT NOT NULL DEFAULT 0`); err != nil {
			return fmt.Errorf("events: append: temporary table: %w", err)
		}
		args := make([]any, 0, len(columns)+1)
		src := pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
			args = append(args[:0], i)
			return rows[i].args(args, first+int64(i), orgID, now), nil
		})
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"events_in"}, append([]string{"ord"}, columns...), src); err != nil {
			return fmt.Errorf("events: append: copy: %w", err)
		}
		cols := strings.Join(columns, ", ")
		tag, err := tx.Exec(ctx, `INSERT INTO events (id, `+cols+`) SELECT $1::bigint + ord, `+cols+` FROM events_in ORDER BY ord
			ON CONFLICT `+dedupKey+` DO NOTHING`, first)
		if err != nil {
			return fmt.Errorf("events: append: %w", err)
		}
		inserted = tag.RowsAffected()
		if err := noteParts(orgID, partRanges(rows, first), func(args ...any) error {
			_, err := tx.Exec(ctx, store.Rebind(notePartsSQL), args...)
			return err
		}); err != nil {
			return err
		}
		if err := tx.Commit(ctx); err != nil {
			return fmt.Errorf("events: append: commit: %w", err)
		}
		return nil
	})
	return first, inserted, err
}

// reserveLock is the advisory lock key under which batches reserve their sequence
// numbers ("medguard events ids").
const reserveLock = 0x6d67_6576_6964

// reserveIDs reserves n consecutive sequence numbers for one batch and returns the
// first. Inserted with nextval row by row, the batches being stored at once would
// interleave their numbers (each row takes the next), and every batch still in flight
// would leave a gap per row in what the detection runner reads: thousands of gaps to
// wait for. A block per batch leaves at most one gap per batch in flight. The block is
// taken on the connection outside the batch's transaction (the sequence is not
// transactional; the lock is held for two statements, not until the batch commits).
func reserveIDs(ctx context.Context, conn *pgx.Conn, n int) (int64, error) {
	var last int64
	err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(reserveLock)); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT setval(pg_get_serial_sequence('events', 'id'), nextval(pg_get_serial_sequence('events', 'id')) + $1 - 1)`,
			int64(n)).Scan(&last)
	})
	if err != nil {
		return 0, fmt.Errorf("events: append: reserve sequence numbers: %w", err)
	}
	return last - int64(n) + 1, nil
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
	// By account or patient, the parts of the organisations seen whose time range meets
	// the one asked are visited first (their index begins with the part); else the
	// organisation and time index serves.
	from := `events e JOIN orgs o ON o.id = e.org_id`
	if f.Account != "" || f.PatientID != "" {
		idx := "events_part_account"
		if f.PatientID != "" {
			idx = "events_part_patient"
		}
		from = `event_parts p CROSS JOIN events e ` + indexedBy(s.db.Dialect(), idx) + ` JOIN orgs o ON o.id = e.org_id`
		where = append(where, "e.part = p.part", "e.org_id = p.org_id")
		if !f.From.IsZero() {
			where, args = append(where, "p.max_time >= ?"), append(args, f.From.UTC())
		}
		if !f.To.IsZero() {
			where, args = append(where, "p.min_time < ?"), append(args, f.To.UTC())
		}
	}
	if f.PatientID != "" {
		h := s.PatientHash(f.PatientID)
		where, args = append(where, "e.pkey = ?", "e.pkey <> 0", "e.patient_hash = ?"), append(args, pkeyOf(h), h)
	} else if f.Account != "" {
		where, args = append(where, "e.account = ?"), append(args, f.Account)
	}
	if f.Account != "" && f.PatientID != "" {
		where, args = append(where, "e.account = ?"), append(args, f.Account)
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
		e.raw_sealed, e.received_at FROM `+from+`
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

// indexedBy names the index SQLite must search events by: without statistics its planner
// prefers the organisation and time index for a time range, visiting every event of the
// range once a part. PostgreSQL chooses by its statistics.
func indexedBy(d store.Dialect, idx string) string {
	if d == store.SQLite {
		return "INDEXED BY " + idx
	}
	return ""
}

// SearchByAccount is what follows "event_parts p CROSS JOIN events e" in a query that
// finds an account's events part by part (e.part = p.part AND e.account = …), so that
// SQLite searches the part and account index.
func SearchByAccount(d store.Dialect) string { return indexedBy(d, "events_part_account") }

// Purge deletes the events older than the retention (by event time) and returns how
// many it deleted, organisation by organisation (through the organisation and time
// index), then the parts left with nothing to find. The server's background loop calls it.
func (s *Service) Purge(ctx context.Context) (int64, error) {
	before := s.now().UTC().Add(-s.retention)
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT org_id FROM event_parts WHERE min_time < ? ORDER BY org_id`, before)
	if err != nil {
		return 0, fmt.Errorf("events: purge: %w", err)
	}
	var orgs []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, fmt.Errorf("events: purge: %w", err)
		}
		orgs = append(orgs, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("events: purge: %w", err)
	}
	var n int64
	for _, org := range orgs {
		r, err := s.db.ExecContext(ctx, `DELETE FROM events WHERE org_id = ? AND time < ?`, org, before)
		if err != nil {
			return n, fmt.Errorf("events: purge: %w", err)
		}
		k, err := r.RowsAffected()
		if err != nil {
			return n, fmt.Errorf("events: purge: %w", err)
		}
		n += k
	}
	if _, err := s.db.ExecContext(ctx, `DELETE FROM event_parts WHERE max_time < ?`, before); err != nil {
		return n, fmt.Errorf("events: purge: parts: %w", err)
	}
	return n, nil
}
