package events

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/store"
)

// SeqFilter narrows Since. Zero fields do not narrow.
type SeqFilter struct {
	AfterSeq int64     // events stored after this sequence number
	UpToSeq  int64     // … up to this one (0: the last)
	OrgID    int64     // of this organisation only
	From, To time.Time // event time in [From, To)
	Seqs     []int64   // only these sequence numbers (at most 1000)
	Limit    int       // 0: 1000
}

// Since returns stored events in sequence (storage) order — of every organisation: it
// is for the detection engine and its runner, never for a person (no actor, no
// tenancy). The raw originals are left out (Raw is empty): the rules never read them.
// Page with AfterSeq = the last event's Seq.
func (s *Service) Since(ctx context.Context, f SeqFilter) ([]Stored, error) {
	where, args := []string{"e.id > ?"}, []any{f.AfterSeq}
	if f.UpToSeq > 0 {
		where, args = append(where, "e.id <= ?"), append(args, f.UpToSeq)
	}
	if f.OrgID > 0 {
		where, args = append(where, "e.org_id = ?"), append(args, f.OrgID)
	}
	if !f.From.IsZero() {
		where, args = append(where, "e.time >= ?"), append(args, f.From.UTC())
	}
	if !f.To.IsZero() {
		where, args = append(where, "e.time < ?"), append(args, f.To.UTC())
	}
	if len(f.Seqs) > 0 {
		if len(f.Seqs) > 1000 {
			return nil, fmt.Errorf("events: since: more than 1000 sequence numbers")
		}
		where = append(where, "e.id IN ("+store.Placeholders(len(f.Seqs))+")")
		for _, q := range f.Seqs {
			args = append(args, q)
		}
	}
	if f.Limit <= 0 {
		f.Limit = 1000
	}
	out, err := store.Collect(ctx, s.db, s.scan, `SELECT e.id, e.org_id, e.system, e.event_id, e.time, e.account, e.staff_id,
		e.department, e.action, e.outcome, e.patient_sealed, e.record_type, e.record_count, e.source_ip, e.terminal,
		NULL, e.received_at FROM events e WHERE `+strings.Join(where, " AND ")+` ORDER BY e.id LIMIT `+fmt.Sprint(f.Limit), args...)
	if err != nil {
		return nil, fmt.Errorf("events: since: %w", err)
	}
	return out, nil
}

// LastSeq returns the sequence number of the last stored event (0 when none).
func (s *Service) LastSeq(ctx context.Context) (int64, error) {
	var n int64
	if err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM events`).Scan(&n); err != nil {
		return 0, fmt.Errorf("events: last seq: %w", err)
	}
	return n, nil
}

// DB returns the store the events are in (the detection engine's aggregate rebuild
// reads the events table through it).
func (s *Service) DB() *store.DB { return s.db }
