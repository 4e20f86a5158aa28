package risk

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

// HistoryEntry is one change of a risk: who made it, when, what it was (Action, and
// Summary in English, Msg in the reader's language) and the fields it changed.
type HistoryEntry struct {
	At      time.Time         `json:"at"`
	By      string            `json:"by"`
	Action  string            `json:"action"`
	Summary string            `json:"summary"`
	Msg     *i18n.Message     `json:"msg,omitempty"`
	Changes map[string]Change `json:"changes,omitempty"`
}

// Change is a field's value before and after a change.
type Change struct {
	From any `json:"from"`
	To   any `json:"to"`
}

// changes compares the fields a person edits of before and after.
func changes(before, after Risk) map[string]Change {
	out := map[string]Change{}
	add := func(name string, from, to any) {
		if fmt.Sprint(from) != fmt.Sprint(to) {
			out[name] = Change{From: from, To: to}
		}
	}
	add("title", before.Title, after.Title)
	add("description", before.Description, after.Description)
	add("category", before.Category, after.Category)
	add("threat", before.Threat, after.Threat)
	add("vulnerability", before.Vulnerability, after.Vulnerability)
	add("asset_ids", before.AssetIDs, after.AssetIDs)
	add("inherent_likelihood", before.InherentLikelihood, after.InherentLikelihood)
	add("inherent_impact", before.InherentImpact, after.InherentImpact)
	add("inherent_level", before.InherentLevel, after.InherentLevel)
	add("likelihood", before.Likelihood, after.Likelihood)
	add("impact", before.Impact, after.Impact)
	add("level", before.Level, after.Level)
	add("owner", before.Owner, after.Owner)
	add("treatment", before.Treatment, after.Treatment)
	add("status", before.Status, after.Status)
	return out
}

// record writes one change of risk r to its history and to the trail, in tx.
func (s *Service) record(ctx context.Context, tx *store.Tx, a actor.Actor, r Risk, action, summary string, msg *i18n.Message,
	ch map[string]Change, after any) error {
	var m []byte
	if msg != nil {
		var err error
		if m, err = json.Marshal(msg); err != nil {
			return fmt.Errorf("risk: history: %w", err)
		}
	}
	if ch == nil {
		ch = map[string]Change{}
	}
	c, err := json.Marshal(ch)
	if err != nil {
		return fmt.Errorf("risk: history: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO risk_history (risk_id, at, actor, action, summary, msg, changes)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, r.ID, s.now(), a.Username, action, summary, string(m), string(c)); err != nil {
		return fmt.Errorf("risk: history: %w", err)
	}
	if after == nil && len(ch) > 0 {
		after = ch
	}
	_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: action, ObjectType: "risk", ObjectID: itoa(r.ID), OrgID: r.OrgID,
		Summary: summary, Msg: msg, After: after})
	return err
}

// history reads the history of risk id, oldest first.
func (s *Service) history(ctx context.Context, q store.Querier, id int64) ([]HistoryEntry, error) {
	out, err := store.Collect(ctx, q, func(sc store.Scanner) (HistoryEntry, error) {
		var h HistoryEntry
		var at store.Time
		var msg, ch string
		if err := sc.Scan(&at, &h.By, &h.Action, &h.Summary, &msg, &ch); err != nil {
			return h, err
		}
		h.At = at.Time
		if msg != "" {
			var m i18n.Message
			if err := json.Unmarshal([]byte(msg), &m); err != nil {
				return h, err
			}
			h.Msg = &m
		}
		if err := json.Unmarshal([]byte(ch), &h.Changes); err != nil {
			return h, err
		}
		if len(h.Changes) == 0 {
			h.Changes = nil
		}
		return h, nil
	}, `SELECT at, actor, action, summary, msg, changes FROM risk_history WHERE risk_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("risk: history: %w", err)
	}
	if out == nil {
		out = []HistoryEntry{}
	}
	return out, nil
}
