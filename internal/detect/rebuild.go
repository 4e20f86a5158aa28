package detect

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/events"
	"github.com/medguard/medguard/internal/store"
)

// replayPage is how many events one query of a replay or a run reads.
const replayPage = 5000

// matchSQL is m as a condition on the events table (first_seen and dormant rules only:
// Validate keeps explanations and patient ids out of their matches).
func matchSQL(m *Match) (string, []any) {
	if m == nil {
		return "1=1", nil
	}
	var where []string
	var args []any
	for _, f := range Fields {
		vs, ok := m.Fields[f]
		if !ok {
			continue
		}
		if f == "outcome" {
			// An event stored without an outcome is a success (Validate fills it in).
			where = append(where, "COALESCE(NULLIF(outcome, ''), 'success') IN ("+store.Placeholders(len(vs))+")")
		} else {
			where = append(where, f+" IN ("+store.Placeholders(len(vs))+")")
		}
		for _, v := range vs {
			args = append(args, v)
		}
	}
	if m.RecordCountGTE != nil {
		where, args = append(where, "record_count >= ?"), append(args, *m.RecordCountGTE)
	}
	if m.RecordCountLTE != nil {
		where, args = append(where, "record_count <= ?"), append(args, *m.RecordCountLTE)
	}
	if m.Patient != nil {
		acts := []string{events.ActionView, events.ActionSearch, events.ActionCreate, events.ActionModify, events.ActionPrint,
			events.ActionExport, events.ActionPrescribe, events.ActionDelete}
		c := "(patient_hash <> '' AND action IN (" + store.Placeholders(len(acts)) + "))"
		if !*m.Patient {
			c = "NOT " + c
		}
		where = append(where, c)
		for _, a := range acts {
			args = append(args, a)
		}
	}
	if m.Not != nil {
		c, a := matchSQL(m.Not)
		where, args = append(where, "NOT ("+c+")"), append(args, a...)
	}
	if len(where) == 0 {
		return "1=1", nil
	}
	return strings.Join(where, " AND "), args
}

// bounds are the events a rebuild reads: up to a sequence number and before a time.
type bounds struct {
	org     int64     // 0: every organisation
	upToSeq int64     // 0: no bound
	before  time.Time // zero: no bound
}

func (b bounds) sql() (string, []any) {
	where, args := []string{"1=1"}, []any{}
	if b.org > 0 {
		where, args = append(where, "org_id = ?"), append(args, b.org)
	}
	if b.upToSeq > 0 {
		where, args = append(where, "id <= ?"), append(args, b.upToSeq)
	}
	if !b.before.IsZero() {
		where, args = append(where, "time < ?"), append(args, b.before.UTC())
	}
	return strings.Join(where, " AND "), args
}

// Prepare builds eng's state from the stored events of bounds b — those up to sequence
// number upToSeq (0: all) of organisation orgID (0: all) with a time before before
// (zero: any) — as if eng had evaluated them: the first_seen and dormant state by
// aggregate queries over the events older than the longest window, then the events of
// the longest window replayed (Warm) in sequence order. Nothing is emitted.
func Prepare(ctx context.Context, evs *events.Service, eng *Engine, orgID, upToSeq int64, before time.Time) error {
	db := evs.DB()
	b := bounds{org: orgID, upToSeq: upToSeq, before: before}
	w, args := b.sql()
	// The end of the history read, and where the replay starts.
	var end store.Time
	var n int64
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*), MAX(time) FROM events WHERE `+w, args...).Scan(&n, &end); err != nil {
		return fmt.Errorf("detect: rebuild: %w", err)
	}
	if n == 0 {
		return nil
	}
	if !before.IsZero() && before.Before(end.Time) {
		end.Time = before
	}
	replayFrom := end.Time.Add(-2 * eng.Longest()) // twice: a quiet time that began before the window still holds
	// The organisations' first events (the learning time of first_seen and dormant).
	rows, err := db.QueryContext(ctx, `SELECT org_id, MIN(time) FROM events WHERE `+w+` GROUP BY org_id`, args...)
	if err != nil {
		return fmt.Errorf("detect: rebuild: %w", err)
	}
	for rows.Next() {
		var org int64
		var t store.Time
		if err := rows.Scan(&org, &t); err != nil {
			rows.Close()
			return fmt.Errorf("detect: rebuild: %w", err)
		}
		eng.orgFirst[org] = t.Time.UnixNano()
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("detect: rebuild: %w", err)
	}
	old := bounds{org: orgID, upToSeq: upToSeq, before: replayFrom}
	for _, cr := range eng.rules {
		if cr.r.Kind != KindFirstSeen && cr.r.Kind != KindDormant {
			continue
		}
		if err := eng.seed(ctx, db, cr, old, end.Time); err != nil {
			return err
		}
	}
	// What explains later accesses (an account's own orders), as the explainer would
	// have observed it: the first order of each account and patient before the replay.
	if eng.env.Explainer != nil {
		if err := observeOrders(ctx, evs, eng.env.Explainer, old); err != nil {
			return err
		}
	}
	// The longest window, replayed.
	var after int64
	for {
		page, err := evs.Since(ctx, events.SeqFilter{AfterSeq: after, UpToSeq: upToSeq, OrgID: orgID, From: replayFrom, To: before,
			Limit: replayPage})
		if err != nil {
			return fmt.Errorf("detect: rebuild: %w", err)
		}
		for i := range page {
			if err := eng.Warm(ctx, page[i].OrgID, &page[i]); err != nil {
				return err
			}
		}
		if len(page) < replayPage {
			break
		}
		after = page[len(page)-1].Seq
	}
	eng.now = max(eng.now, end.Time.UnixNano())
	return nil
}

// seed sets the state of first_seen or dormant rule cr from the events of b by an
// aggregate query: the last time of each group (and value).
func (e *Engine) seed(ctx context.Context, db *store.DB, cr *crule, b bounds, end time.Time) error {
	w, args := b.sql()
	mw, margs := matchSQL(&cr.r.Match)
	cols := slices.Clone(cr.groupN)
	if cr.r.Kind == KindFirstSeen {
		cols = append(cols, cr.r.Field)
		w += " AND " + cr.r.Field + " <> ''"
		if from := end.Add(-time.Duration(cr.horizon)); cr.horizon > 0 {
			w, args = w+" AND time >= ?", append(args, from.UTC())
		}
	}
	sel := "org_id"
	for _, c := range cols {
		sel += ", " + c
	}
	q := `SELECT ` + sel + `, MAX(time) FROM events WHERE ` + w + ` AND ` + mw + ` GROUP BY ` + sel
	rows, err := db.QueryContext(ctx, q, append(args, margs...)...)
	if err != nil {
		return fmt.Errorf("detect: rebuild %s: %w", cr.r.ID, err)
	}
	defer rows.Close()
	vals := make([]string, len(cols))
	dest := make([]any, 0, len(cols)+2)
	var org int64
	var t store.Time
	dest = append(dest, &org)
	for i := range vals {
		dest = append(dest, &vals[i])
	}
	dest = append(dest, &t)
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("detect: rebuild %s: %w", cr.r.ID, err)
		}
		k := gkey{org: org}
		copy(k.v[:], vals[:len(cr.groupN)])
		g := cr.groups.get(&k, len(cr.groupN))
		tn := t.Time.UnixNano()
		g.last = max(g.last, tn)
		if cr.r.Kind == KindFirstSeen {
			if g.vals == nil {
				g.vals = map[string]entry{}
			}
			v := vals[len(vals)-1]
			if x, ok := g.vals[v]; !ok || x.t < tn {
				g.vals[v] = entry{t: tn}
			}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("detect: rebuild %s: %w", cr.r.ID, err)
	}
	return nil
}

// orderActions are the actions by which an account charts in or orders for a patient
// (what explain.Explainer.Observe records).
var orderActions = []string{events.ActionCreate, events.ActionModify, events.ActionPrescribe}

// observeOrders lets x observe the first successful order of each account and patient
// among the events of b: the explainer's memory of own orders, rebuilt without
// replaying the whole retention.
func observeOrders(ctx context.Context, evs *events.Service, x Explainer, b bounds) error {
	w, args := b.sql()
	rows, err := evs.DB().QueryContext(ctx, `SELECT MIN(id) FROM events WHERE `+w+` AND patient_hash <> '' AND outcome <> 'failure'
		AND action IN (`+store.Placeholders(len(orderActions))+`) GROUP BY org_id, account, patient_hash`,
		append(args, anys(orderActions)...)...)
	if err != nil {
		return fmt.Errorf("detect: rebuild orders: %w", err)
	}
	var seqs []int64
	for rows.Next() {
		var q int64
		if err := rows.Scan(&q); err != nil {
			rows.Close()
			return fmt.Errorf("detect: rebuild orders: %w", err)
		}
		seqs = append(seqs, q)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("detect: rebuild orders: %w", err)
	}
	for len(seqs) > 0 {
		n := min(len(seqs), 1000)
		page, err := evs.Since(ctx, events.SeqFilter{Seqs: seqs[:n], Limit: n})
		if err != nil {
			return fmt.Errorf("detect: rebuild orders: %w", err)
		}
		for i := range page {
			x.Observe(page[i].OrgID, &page[i].Event)
		}
		seqs = seqs[n:]
	}
	return nil
}

func anys(vs []string) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = v
	}
	return out
}
