package incident

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

// The kinds of timeline entry.
const (
	EntryCreated  = "created"
	EntryNote     = "note"
	EntryEdit     = "edit"
	EntryStatus   = "status"
	EntryLevel    = "level"
	EntryReport   = "report"
	EntryEvidence = "evidence"
	EntryClock    = "clock" // a deadline warning or escalation of the sweep
	EntryReview   = "review"
	EntryTask     = "task"
)

// Entry is one line of an incident's timeline.
type Entry struct {
	ID   int64     `json:"id"`
	At   time.Time `json:"at"`
	By   string    `json:"by"`
	Kind string    `json:"kind"`
	// Text is a person's note as written, or the platform's entry in English; TextMsg
	// is the latter as a catalogue message (nil for a note).
	Text    string        `json:"text"`
	TextMsg *i18n.Message `json:"text_msg,omitempty"`
}

// entry appends a timeline entry to incident id in tx. msg, when not nil, says text in
// every language; its arguments must be strings.
func entry(ctx context.Context, tx *store.Tx, id int64, at time.Time, by, kind, text string, msg *i18n.Message) error {
	raw := ""
	if msg != nil {
		b, err := json.Marshal(msg)
		if err != nil {
			return fmt.Errorf("incident: timeline: %w", err)
		}
		raw = string(b)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO incident_timeline (incident_id, at, by_user, kind, text, text_msg)
		VALUES (?, ?, ?, ?, ?, ?)`, id, at, by, kind, text, raw); err != nil {
		return fmt.Errorf("incident: timeline: %w", err)
	}
	return nil
}

// AddNote appends a person's note to incident id's timeline (a step taken, a call made,
// a finding of the investigation).
func (s *Service) AddNote(ctx context.Context, a actor.Actor, id int64, note string) (Entry, error) {
	note, err := text("text", note, 10000, true)
	if err != nil {
		return Entry{}, err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		in, err := s.get(ctx, tx, a, id)
		if err != nil {
			return err
		}
		now := s.now()
		if err := entry(ctx, tx, id, now, a.Username, EntryNote, note, nil); err != nil {
			return err
		}
		if err := s.touch(ctx, tx, id, now); err != nil {
			return err
		}
		_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: "incident.note", ObjectType: "incident", ObjectID: itoa(id),
			OrgID: in.OrgID, Summary: fmt.Sprintf("incident %d (%s): note added", id, in.Title),
			Msg: trail.Msg("trail.summary.incident.note", id, in.Title), After: map[string]any{"text": note}})
		return err
	})
	if err != nil {
		return Entry{}, err
	}
	tl, err := s.Timeline(ctx, a, id)
	if err != nil || len(tl) == 0 {
		return Entry{}, err
	}
	return tl[len(tl)-1], nil
}

// Timeline returns incident id's timeline, oldest first.
func (s *Service) Timeline(ctx context.Context, a actor.Actor, id int64) ([]Entry, error) {
	if _, err := s.get(ctx, s.db, a, id); err != nil {
		return nil, err
	}
	return timeline(ctx, s.db, id)
}

func timeline(ctx context.Context, q store.Querier, id int64) ([]Entry, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, at, by_user, kind, text, text_msg FROM incident_timeline
		WHERE incident_id = ? ORDER BY at, id`, id)
	if err != nil {
		return nil, fmt.Errorf("incident: timeline: %w", err)
	}
	defer rows.Close()
	out := []Entry{}
	for rows.Next() {
		var e Entry
		var at store.Time
		var raw string
		if err := rows.Scan(&e.ID, &at, &e.By, &e.Kind, &e.Text, &raw); err != nil {
			return nil, fmt.Errorf("incident: timeline: %w", err)
		}
		e.At = at.Time
		if raw != "" {
			var m i18n.Message
			if json.Unmarshal([]byte(raw), &m) == nil {
				e.TextMsg = &m
			}
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// touch sets incident id's updated_at.
func (s *Service) touch(ctx context.Context, tx *store.Tx, id int64, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE incidents SET updated_at = ? WHERE id = ?`, now, id); err != nil {
		return fmt.Errorf("incident: %w", err)
	}
	return nil
}
