// Package trail owns the platform's tamper-evident record of its own actions: an
// append-only, chained log in which every entry carries the MAC of the one before it.
// Entries are keyed (HMAC-SHA256 or HMAC-SM3) with a secret kept outside the database,
// so that whoever can write to the database cannot recompute the chain after editing,
// deleting, inserting or reordering rows; Verify names the first entry where it breaks.
// Signed checkpoints of the head, written outside the database, make cutting the newest
// entries (or rewriting the chain with a stolen key) evident too.
//
// Stores written before the key existed hold unkeyed entries (alg sha256 or sm3). They
// keep verifying as plain hash chains, but only up to the head recorded in the key when
// it was created: an unkeyed entry after that point is a forgery or a downgrade.
package trail

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"time"

	"github.com/emmansun/gmsm/sm3"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/store"
)

// Hash algorithms for the chain, as configured. Entries written by a Log carry the keyed
// form (HMACSHA256 or HMACSM3); the plain names remain on the unkeyed entries of stores
// written before the trail key existed.
const (
	SHA256 = "sha256"
	SM3    = "sm3"

	HMACSHA256 = "hmac-sha256"
	HMACSM3    = "hmac-sm3"
)

// baseAlg returns the hash under alg and whether alg is keyed.
func baseAlg(alg string) (base string, keyed bool, ok bool) {
	switch alg {
	case SHA256, SM3:
		return alg, false, true
	case HMACSHA256:
		return SHA256, true, true
	case HMACSM3:
		return SM3, true, true
	}
	return "", false, false
}

// Genesis is the previous-hash of the first entry.
const Genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// Event is what a caller records: what was done to which object, with the object's
// state before and after (nil when it did not exist). Before and After are reduced to a
// digest; the trail never stores them, so patient data in them does not leak into it.
type Event struct {
	Action     string // dotted verb, e.g. "asset.create", "auth.login_failed"
	ObjectType string // e.g. "asset", "user"
	ObjectID   string
	OrgID      int64  // the node the object belongs to; 0 when none
	Summary    string // in English: for syslog, exports, the CLI
	// Msg is Summary as a catalogue key ("trail.summary.…") and its arguments, so that
	// pages show the summary in the reader's language. Its arguments are the values
	// Summary shows, masked as there; never a raw patient value.
	Msg    *i18n.Message
	Before any
	After  any
}

// Msg builds an event's summary message: key, a "trail.summary.…" key in both
// catalogues, with args, the values the English summary shows. An argument may be an
// i18n.Message itself (a role, a kind, a state), rendered in the reader's language.
func Msg(key string, args ...any) *i18n.Message {
	m := i18n.M(key, args...)
	return &m
}

// Entry is a stored link of the chain.
type Entry struct {
	Seq        int64     `json:"seq"`
	At         time.Time `json:"at"`
	ActorID    int64     `json:"actor_id"`
	Actor      string    `json:"actor"`
	OrgID      int64     `json:"org_id"`
	Action     string    `json:"action"`
	ObjectType string    `json:"object_type"`
	ObjectID   string    `json:"object_id"`
	Summary    string    `json:"summary"`
	// Msg is Summary as a catalogue message; nil for entries written before summaries
	// had one (and for those whose stored message does not decode).
	Msg      *i18n.Message `json:"summary_msg,omitempty"`
	IP       string        `json:"ip"`
	Digest   string        `json:"digest"`
	Alg      string        `json:"alg"`
	PrevHash string        `json:"prev_hash"`
	Hash     string        `json:"hash"`

	at  string // the exact stored text of At, which the hash covers
	msg string // the exact stored text of Msg (JSON, "" when none), which the hash covers
}

// Log appends to and verifies the chain.
type Log struct {
	alg string // keyed algorithm of new entries
	key Key
	now func() time.Time
}

// New returns a Log that chains new entries with HMAC over alg (SHA256 or SM3) under key,
// and verifies the chain with that key.
func New(alg string, key Key) (*Log, error) {
	if alg == "" {
		alg = SHA256
	}
	if _, err := newHash(alg); err != nil {
		return nil, err
	}
	if len(key.secret) < KeySize {
		return nil, errors.New("trail: a trail key is needed to chain entries")
	}
	return &Log{alg: "hmac-" + alg, key: key, now: time.Now}, nil
}

// Alg returns the algorithm used for new entries (HMACSHA256 or HMACSM3).
func (l *Log) Alg() string { return l.alg }

// Key returns the key the Log chains with.
func (l *Log) Key() Key { return l.key }

func newHash(alg string) (hash.Hash, error) {
	switch alg {
	case SHA256:
		return sha256.New(), nil
	case SM3:
		return sm3.New(), nil
	}
	return nil, fmt.Errorf("trail: unknown hash algorithm %q (want sha256 or sm3)", alg)
}

// newMAC returns the hash an entry of alg is chained with: a plain hash for the unkeyed
// algorithms, an HMAC under secret for the keyed ones.
func newMAC(alg string, secret []byte) (hash.Hash, error) {
	base, keyed, ok := baseAlg(alg)
	if !ok {
		return nil, fmt.Errorf("trail: unknown hash algorithm %q", alg)
	}
	if !keyed {
		return newHash(base)
	}
	if len(secret) < KeySize {
		return nil, errors.New("trail: a keyed entry cannot be checked without the trail key")
	}
	switch base {
	case SM3:
		return hmac.New(sm3.New, secret), nil
	default:
		return hmac.New(sha256.New, secret), nil
	}
}

// Append adds ev, done by a, to the chain inside tx, so that the entry commits or rolls
// back together with the change it records.
func (l *Log) Append(ctx context.Context, tx *store.Tx, a actor.Actor, ev Event) (Entry, error) {
	out, err := l.AppendBatch(ctx, tx, a, []Event{ev})
	if err != nil {
		return Entry{}, err
	}
	return out[0], nil
}

// batchRows is the number of entries per multi-row INSERT (15 parameters each).
const batchRows = 100

// AppendBatch adds several events, done by a, to the chain inside tx, in order. It reads
// and moves the head once and inserts the entries in multi-row statements, so that bulk
// changes (imports, seeding) are not dominated by the trail.
func (l *Log) AppendBatch(ctx context.Context, tx *store.Tx, a actor.Actor, evs []Event) ([]Entry, error) {
	if len(evs) == 0 {
		return nil, nil
	}
	for _, ev := range evs {
		if ev.Action == "" || ev.ObjectType == "" {
			return nil, errors.New("trail: event needs an action and an object type")
		}
	}
	var headSeq int64
	var headHash string
	err := tx.QueryRowContext(ctx, `SELECT seq, hash FROM trail_head WHERE id = 1`+tx.Dialect().ForUpdate()).Scan(&headSeq, &headHash)
	if err != nil {
		return nil, fmt.Errorf("trail: read head: %w", err)
	}
	at := l.now().UTC().Truncate(time.Microsecond)
	atText := at.Format(time.RFC3339Nano)
	out := make([]Entry, len(evs))
	prev := headHash
	for i, ev := range evs {
		digest, err := Digest(strings.TrimPrefix(l.alg, "hmac-"), ev.Before, ev.After)
		if err != nil {
			return nil, err
		}
		msgText, err := encodeMsg(ev.Msg)
		if err != nil {
			return nil, err
		}
		e := Entry{
			Seq: headSeq + int64(i) + 1, At: at, at: atText,
			ActorID: a.UserID, Actor: a.Username, OrgID: ev.OrgID,
			Action: ev.Action, ObjectType: ev.ObjectType, ObjectID: ev.ObjectID,
			Summary: ev.Summary, Msg: decodeMsg(msgText), msg: msgText,
			IP: a.IP, Digest: digest, Alg: l.alg, PrevHash: prev,
		}
		if e.Hash, err = e.computeHash(l.key.secret); err != nil {
			return nil, err
		}
		out[i] = e
		prev = e.Hash
	}
	for start := 0; start < len(out); start += batchRows {
		chunk := out[start:min(start+batchRows, len(out))]
		var q strings.Builder
		q.WriteString(`INSERT INTO trail (` + entryColumns + `) VALUES `)
		args := make([]any, 0, len(chunk)*15)
		for i, e := range chunk {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString(`(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
			args = append(args, e.Seq, e.at, store.NullID(e.ActorID), e.Actor, store.NullID(e.OrgID), e.Action, e.ObjectType, e.ObjectID,
				e.Summary, e.IP, e.Digest, e.Alg, e.PrevHash, e.Hash, e.msg)
		}
		if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
			return nil, fmt.Errorf("trail: append: %w", err)
		}
	}
	last := out[len(out)-1]
	if _, err := tx.ExecContext(ctx, `UPDATE trail_head SET seq = ?, hash = ? WHERE id = 1`, last.Seq, last.Hash); err != nil {
		return nil, fmt.Errorf("trail: move head: %w", err)
	}
	return out, nil
}

// maxMsgBytes bounds the stored JSON of an entry's message.
const maxMsgBytes = 8 << 10

// encodeMsg returns the JSON stored for m: "" when there is none.
func encodeMsg(m *i18n.Message) (string, error) {
	if m == nil {
		return "", nil
	}
	if m.Key == "" {
		return "", errors.New("trail: a summary message needs a key")
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("trail: summary message: %w", err)
	}
	if len(b) > maxMsgBytes {
		return "", fmt.Errorf("trail: summary message of %d bytes is too long (at most %d)", len(b), maxMsgBytes)
	}
	return string(b), nil
}

// decodeMsg reads a stored message back; nil when there is none or it does not decode
// as one (Verify reports an entry whose stored message was changed).
func decodeMsg(s string) *i18n.Message {
	if s == "" {
		return nil
	}
	var m i18n.Message
	if err := json.Unmarshal([]byte(s), &m); err != nil || m.Key == "" {
		return nil
	}
	return &m
}

// Digest hashes the JSON of before and after with alg.
func Digest(alg string, before, after any) (string, error) {
	h, err := newHash(alg)
	if err != nil {
		return "", err
	}
	for i, v := range []any{before, after} {
		b, err := json.Marshal(v)
		if err != nil {
			return "", fmt.Errorf("trail: digest: %w", err)
		}
		if i > 0 {
			h.Write([]byte{0x1e})
		}
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// computeHash hashes every stored field of the entry, its sequence number and the
// previous hash included, with the entry's own algorithm: an HMAC under secret for a
// keyed entry, a plain hash for an unkeyed one.
func (e *Entry) computeHash(secret []byte) (string, error) {
	h, err := newMAC(e.Alg, secret)
	if err != nil {
		return "", err
	}
	return e.hashWith(h), nil
}

// hashWith writes the entry's fields to h and returns the sum in hex. The stored
// summary message is one more field, present only when the entry has one, so that the
// entries written before messages existed hash as they always did.
func (e *Entry) hashWith(h hash.Hash) string {
	fields := []string{
		"medguard-trail-v1",
		strconv.FormatInt(e.Seq, 10), e.at,
		strconv.FormatInt(e.ActorID, 10), e.Actor,
		strconv.FormatInt(e.OrgID, 10),
		e.Action, e.ObjectType, e.ObjectID, e.Summary, e.IP,
		e.Digest, e.Alg, e.PrevHash,
	}
	if e.msg != "" {
		fields = append(fields, e.msg)
	}
	for _, f := range fields {
		// Length-prefix each field so that no two different entries hash the same text.
		h.Write([]byte(strconv.Itoa(len(f))))
		h.Write([]byte{':'})
		h.Write([]byte(f))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Report is the outcome of Verify.
type Report struct {
	Entries     int64  `json:"entries"`                // entries checked
	HeadSeq     int64  `json:"head_seq"`               // sequence number recorded as the head
	HeadHash    string `json:"head_hash"`              // MAC recorded as the head
	LegacyUntil int64  `json:"legacy_until,omitempty"` // last entry that may be unkeyed (written before the trail key)
	Checkpoints int    `json:"checkpoints,omitempty"`  // signed checkpoints the chain was checked against
	OK          bool   `json:"ok"`
	BadSeq      int64  `json:"bad_seq,omitempty"` // first entry where the chain breaks
	Problem     string `json:"problem,omitempty"`
}

const entryColumns = `seq, at, actor_id, actor, org_id, action, object_type, object_id, summary, ip, digest, alg, prev_hash, hash, summary_msg`

func scanEntry(sc interface{ Scan(...any) error }) (Entry, error) {
	var e Entry
	var actorID, orgID sql.NullInt64
	if err := sc.Scan(&e.Seq, &e.at, &actorID, &e.Actor, &orgID, &e.Action, &e.ObjectType, &e.ObjectID,
		&e.Summary, &e.IP, &e.Digest, &e.Alg, &e.PrevHash, &e.Hash, &e.msg); err != nil {
		return Entry{}, err
	}
	e.ActorID, e.OrgID = actorID.Int64, orgID.Int64
	e.Msg = decodeMsg(e.msg)
	t, err := time.Parse(time.RFC3339Nano, e.at)
	if err == nil {
		e.At = t
	}
	return e, nil
}

// Verify walks the whole chain in sequence order and checks every link: each sequence
// number follows the one before, each entry's MAC matches its content under the trail
// key, each entry names the previous entry's MAC, no unkeyed entry comes after the point
// where the key was created, and the last entry is the recorded head. When checkpoints
// are given (already parsed, so their signatures verified), the chain must also extend
// each of them: hold the checkpoint's entry with the checkpoint's MAC.
//
// The report names the earliest entry at which a check fails. When an entry's content
// matches its own MAC but the next entry, intact itself, records a different MAC for it,
// the entry was altered and its MAC recomputed: the report names that entry, not the next.
func (l *Log) Verify(ctx context.Context, q store.Querier, cps ...Checkpoint) (Report, error) {
	r := Report{LegacyUntil: l.key.LegacyUntil, Checkpoints: len(cps)}
	if err := q.QueryRowContext(ctx, `SELECT seq, hash FROM trail_head WHERE id = 1`).Scan(&r.HeadSeq, &r.HeadHash); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return Report{Problem: "the trail head record is missing", BadSeq: 1}, nil
		}
		return r, fmt.Errorf("trail: read head: %w", err)
	}
	pinned := make(map[int64]Checkpoint, len(cps))
	var lastPinned Checkpoint
	for _, cp := range cps {
		if cp.Seq == 0 {
			continue // a checkpoint of the empty chain pins nothing
		}
		pinned[cp.Seq] = cp
		if cp.Seq > lastPinned.Seq {
			lastPinned = cp
		}
	}
	rows, err := q.QueryContext(ctx, `SELECT `+entryColumns+` FROM trail ORDER BY seq`)
	if err != nil {
		return r, fmt.Errorf("trail: read entries: %w", err)
	}
	defer rows.Close()
	prevSeq, prevHash := int64(0), Genesis
	keyedSeen := false
	fail := func(seq int64, format string, args ...any) (Report, error) {
		r.OK = false
		r.BadSeq = seq
		r.Problem = fmt.Sprintf(format, args...)
		return r, nil
	}
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return r, fmt.Errorf("trail: read entry: %w", err)
		}
		switch {
		case e.Seq > prevSeq+1:
			return fail(prevSeq+1, "entry %d is missing (deleted): entry %d follows entry %d", prevSeq+1, e.Seq, prevSeq)
		case e.Seq != prevSeq+1:
			return fail(e.Seq, "entry %d is out of sequence after entry %d", e.Seq, prevSeq)
		}
		_, keyed, ok := baseAlg(e.Alg)
		switch {
		case !ok:
			return fail(e.Seq, "entry %d names an unknown hash algorithm", e.Seq)
		case !keyed && (keyedSeen || e.Seq > l.key.LegacyUntil):
			return fail(e.Seq, "entry %d is unkeyed (%s) although the trail key existed when it was written (it covers entries after %d): the entry was forged or rewritten without the key", e.Seq, e.Alg, l.key.LegacyUntil)
		}
		keyedSeen = keyedSeen || keyed
		want, err := e.computeHash(l.key.secret)
		if err != nil {
			return r, err
		}
		if !hmac.Equal([]byte(want), []byte(e.Hash)) {
			if keyed {
				return fail(e.Seq, "entry %d was altered: its content does not match its MAC under the trail key", e.Seq)
			}
			return fail(e.Seq, "entry %d was altered: its content does not match its hash", e.Seq)
		}
		if e.PrevHash != prevHash {
			if prevSeq == 0 {
				return fail(e.Seq, "entry %d does not start the chain: the chain link is broken (entry inserted or replaced)", e.Seq)
			}
			// Entry e is intact, so the MAC it records for the entry before is the one that
			// entry had when e was written: that entry was changed and its MAC recomputed.
			return fail(prevSeq, "entry %d was altered and its MAC recomputed: entry %d, intact, records a different MAC for it (or entry %d was replaced)", prevSeq, e.Seq, prevSeq)
		}
		if e.Seq == l.key.LegacyUntil && l.key.LegacyHead != "" && e.Hash != l.key.LegacyHead {
			return fail(e.Seq, "entry %d is not the head recorded in the trail key when it was created: the unkeyed entries up to it were rewritten", e.Seq)
		}
		if cp, ok := pinned[e.Seq]; ok && cp.Hash != e.Hash {
			return fail(e.Seq, "entry %d is not the entry of the checkpoint signed at %s: the chain was rewritten up to it", e.Seq, cp.At.UTC().Format(time.RFC3339))
		}
		r.Entries++
		prevSeq, prevHash = e.Seq, e.Hash
	}
	if err := rows.Err(); err != nil {
		return r, fmt.Errorf("trail: read entries: %w", err)
	}
	switch {
	case l.key.LegacyUntil > prevSeq:
		return fail(prevSeq+1, "entries %d to %d, present when the trail key was created, are missing (cut from the end)", prevSeq+1, l.key.LegacyUntil)
	case lastPinned.Seq > prevSeq:
		return fail(prevSeq+1, "entries %d to %d, covered by the checkpoint signed at %s, are missing (cut from the end)", prevSeq+1, lastPinned.Seq, lastPinned.At.UTC().Format(time.RFC3339))
	case prevSeq < r.HeadSeq:
		return fail(prevSeq+1, "entries %d to %d are missing (deleted from the end)", prevSeq+1, r.HeadSeq)
	case prevSeq > r.HeadSeq:
		return fail(r.HeadSeq+1, "entry %d lies beyond the recorded head %d (inserted)", r.HeadSeq+1, r.HeadSeq)
	case prevHash != r.HeadHash:
		return fail(prevSeq, "entry %d does not match the recorded head", prevSeq)
	}
	r.OK = true
	return r, nil
}

// Filter selects entries for List.
type Filter struct {
	Action     string // prefix, e.g. "asset." or "auth.login"
	Actor      string
	ObjectType string
	ObjectID   string
	BeforeSeq  int64 // keyset pagination: entries with seq < BeforeSeq; 0 = newest
	Limit      int
}

// List returns the newest entries matching f that a may see: entries of a's subtree,
// plus the entries that belong to no organisation when a sits at a top-level node.
func List(ctx context.Context, q store.Querier, a actor.Actor, f Filter) ([]Entry, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	where, args := scope(a)
	if f.Action != "" {
		where = append(where, `t.action LIKE ? ESCAPE '\'`)
		args = append(args, actor.EscapeLike(f.Action)+"%")
	}
	if f.Actor != "" {
		where = append(where, `t.actor = ?`)
		args = append(args, f.Actor)
	}
	if f.ObjectType != "" {
		where = append(where, `t.object_type = ?`)
		args = append(args, f.ObjectType)
	}
	if f.ObjectID != "" {
		where = append(where, `t.object_id = ?`)
		args = append(args, f.ObjectID)
	}
	if f.BeforeSeq > 0 {
		where = append(where, `t.seq < ?`)
		args = append(args, f.BeforeSeq)
	}
	query := `SELECT ` + prefixed("t.", entryColumns) + ` FROM trail t`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
	}
	query += ` ORDER BY t.seq DESC LIMIT ` + strconv.Itoa(f.Limit)
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("trail: list: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, fmt.Errorf("trail: list: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// scope returns the conditions on trail t that limit it to the entries a sees.
func scope(a actor.Actor) ([]string, []any) {
	switch {
	case a.OrgPath == "/":
		// The system: everything.
		return nil, nil
	case strings.Count(a.OrgPath, "/") == 2:
		// A top-level organisation runs the platform: it also sees the entries that
		// belong to no organisation (failed sign-ins with unknown names, setup).
		cond, arg := a.SeesSQL("path")
		return []string{`(t.org_id IS NULL OR t.org_id IN (SELECT id FROM orgs WHERE ` + cond + `))`}, []any{arg}
	default:
		cond, arg := a.SeesSQL("path")
		return []string{`t.org_id IN (SELECT id FROM orgs WHERE ` + cond + `)`}, []any{arg}
	}
}

// Actions returns the distinct actions of the entries a sees, sorted: the choices of
// a filter by action.
func Actions(ctx context.Context, q store.Querier, a actor.Actor) ([]string, error) {
	where, args := scope(a)
	query := `SELECT DISTINCT t.action FROM trail t`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
	}
	rows, err := q.QueryContext(ctx, query+` ORDER BY t.action`, args...)
	if err != nil {
		return nil, fmt.Errorf("trail: actions: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, fmt.Errorf("trail: actions: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func prefixed(p, cols string) string {
	parts := strings.Split(cols, ", ")
	for i := range parts {
		parts[i] = p + parts[i]
	}
	return strings.Join(parts, ", ")
}
