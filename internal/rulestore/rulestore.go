// Package rulestore keeps the monitoring rules of an organisation tree: every edit of a
// rule is stored as a new version of its YAML with who saved it and when, old versions
// stay viewable, and a rule (built-in or stored) is enabled or disabled per organisation.
// A rule stored at an organisation applies to its whole subtree unless a deeper
// organisation stores its own version, and the same holds for enabling. An edit is parsed
// and validated by detect.Parse: a rule naming a field that does not exist, or a key its
// kind does not use, is refused, never stored inert. Every change is in the trail.
//
// Rules returns the effective set of an organisation — the built-in library with stored
// versions in place of the built-ins they override and stored rules of their own, minus
// the disabled ones — which is what the detection engine loads.
package rulestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/detect"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

// Version is one stored version of a rule.
type Version struct {
	RuleID    string    `json:"rule_id"`
	Version   int       `json:"version"`
	OrgID     int64     `json:"org_id"`
	OrgName   string    `json:"org_name"`
	YAML      string    `json:"yaml"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

// Entry is a rule as it applies to an organisation.
type Entry struct {
	ID       string      `json:"id"`
	Name     detect.Text `json:"name"`
	Kind     string      `json:"kind"`
	Severity string      `json:"severity"`
	// Builtin is true for a rule of the built-in library (Overridden when a stored
	// version replaces it); false for a rule the organisation tree added.
	Builtin    bool `json:"builtin"`
	Overridden bool `json:"overridden"`
	// Version is the rule's version in force: its stored version, or the built-in's own.
	Version int  `json:"version"`
	Enabled bool `json:"enabled"`
	// SavedBy and SavedAt say who stored the version in force and when, at which
	// organisation (SavedAt nil and StoredAt 0 for a built-in as shipped).
	SavedBy  string     `json:"saved_by,omitempty"`
	SavedAt  *time.Time `json:"saved_at,omitempty"`
	StoredAt int64      `json:"stored_at_org_id,omitempty"`
	// StateBy and StateAt say who last enabled or disabled it, when (nil: never).
	StateBy string      `json:"state_by,omitempty"`
	StateAt *time.Time  `json:"state_at,omitempty"`
	YAML    string      `json:"yaml"`
	Rule    detect.Rule `json:"-"`
}

// Service stores rules.
type Service struct {
	db    *store.DB
	trail *trail.Log
	now   func() time.Time
}

// New returns the rule store on db; changes are recorded in tl.
func New(db *store.DB, tl *trail.Log) *Service {
	return &Service{db: db, trail: tl, now: time.Now}
}

// SetClock replaces the clock (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// stored is the newest stored version of one rule on an organisation's path.
type stored struct {
	Version
	depth int // length of the storing organisation's path: deeper wins
}

// state is the newest enabling of a rule on an organisation's path.
type state struct {
	enabled bool
	by      string
	at      time.Time
}

// effective computes the entries of organisation n: built-ins first in library order,
// then the rules the tree added, by id.
func (s *Service) effective(ctx context.Context, q store.Querier, n org.Node) ([]Entry, error) {
	// The versions stored on n's path (n and its ancestors), newest per organisation
	// and rule first.
	rows, err := q.QueryContext(ctx, `SELECT r.rule_id, r.version, r.org_id, o.name, r.yaml, r.created_by, r.created_at, LENGTH(o.path)
		FROM monitor_rules r JOIN orgs o ON o.id = r.org_id
		WHERE `+actor.ContainsSQL("o.path", "?")+`
		ORDER BY r.rule_id, LENGTH(o.path) DESC, r.version DESC`, n.Path)
	if err != nil {
		return nil, fmt.Errorf("rulestore: rules: %w", err)
	}
	latest := map[string]stored{}
	for rows.Next() {
		var st stored
		var at store.Time
		if err := rows.Scan(&st.RuleID, &st.Version.Version, &st.OrgID, &st.OrgName, &st.YAML, &st.CreatedBy, &at, &st.depth); err != nil {
			rows.Close()
			return nil, fmt.Errorf("rulestore: rules: %w", err)
		}
		st.CreatedAt = at.Time
		if _, ok := latest[st.RuleID]; !ok {
			latest[st.RuleID] = st
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("rulestore: rules: %w", err)
	}
	rows, err = q.QueryContext(ctx, `SELECT s.rule_id, s.enabled, s.updated_by, s.updated_at FROM monitor_rule_state s
		JOIN orgs o ON o.id = s.org_id WHERE `+actor.ContainsSQL("o.path", "?")+`
		ORDER BY s.rule_id, LENGTH(o.path) DESC`, n.Path)
	if err != nil {
		return nil, fmt.Errorf("rulestore: rule states: %w", err)
	}
	states := map[string]state{}
	for rows.Next() {
		var id string
		var st state
		var at store.Time
		if err := rows.Scan(&id, &st.enabled, &st.by, &at); err != nil {
			rows.Close()
			return nil, fmt.Errorf("rulestore: rule states: %w", err)
		}
		st.at = at.Time
		if _, ok := states[id]; !ok {
			states[id] = st
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("rulestore: rule states: %w", err)
	}

	var out []Entry
	add := func(e Entry, r detect.Rule) {
		e.ID, e.Name, e.Kind, e.Severity, e.Rule = r.ID, r.Name, r.Kind, r.Severity, r
		e.Enabled = true
		if st, ok := states[r.ID]; ok {
			e.Enabled = st.enabled
			e.StateBy = st.by
			at := st.at
			e.StateAt = &at
		}
		if e.YAML == "" {
			e.YAML = string(r.YAML())
		}
		out = append(out, e)
	}
	fromStore := func(st stored) (Entry, detect.Rule, error) {
		r, err := detect.Parse([]byte(st.YAML))
		if err != nil {
			// Stored YAML was validated when saved; a rule the library no longer
			// accepts must not vanish silently from the engine.
			return Entry{}, detect.Rule{}, fmt.Errorf("rulestore: stored rule %s version %d no longer parses: %w", st.RuleID, st.Version.Version, err)
		}
		at := st.CreatedAt
		return Entry{Overridden: true, Version: st.Version.Version, SavedBy: st.CreatedBy, SavedAt: &at, StoredAt: st.OrgID, YAML: st.YAML}, r, nil
	}
	builtin := map[string]bool{}
	for _, r := range detect.Builtin() {
		builtin[r.ID] = true
		if st, ok := latest[r.ID]; ok {
			e, sr, err := fromStore(st)
			if err != nil {
				return nil, err
			}
			e.Builtin = true
			add(e, sr)
			continue
		}
		add(Entry{Builtin: true, Version: builtinVersion(r)}, r)
	}
	var own []string
	for id := range latest {
		if !builtin[id] {
			own = append(own, id)
		}
	}
	slices.Sort(own)
	for _, id := range own {
		e, r, err := fromStore(latest[id])
		if err != nil {
			return nil, err
		}
		e.Overridden = false
		add(e, r)
	}
	return out, nil
}

// builtinVersion is a built-in rule's version as a number (1 when it is not one).
func builtinVersion(r detect.Rule) int {
	v, err := strconv.Atoi(r.Version)
	if err != nil || v < 1 {
		return 1
	}
	return v
}

// node returns organisation orgID, which a must see (orgID 0: a's own).
func node(ctx context.Context, q store.Querier, a actor.Actor, orgID int64) (org.Node, error) {
	if orgID == 0 {
		orgID = a.OrgID
	}
	return org.Visible(ctx, q, a, orgID)
}

// List returns the rules as they apply to organisation orgID (0: a's own), which a must see.
func (s *Service) List(ctx context.Context, a actor.Actor, orgID int64) ([]Entry, error) {
	n, err := node(ctx, s.db, a, orgID)
	if err != nil {
		return nil, err
	}
	return s.effective(ctx, s.db, n)
}

// Get returns rule id as it applies to organisation orgID (0: a's own) and its stored
// versions on the organisation's path, newest first.
func (s *Service) Get(ctx context.Context, a actor.Actor, orgID int64, id string) (Entry, []Version, error) {
	n, err := node(ctx, s.db, a, orgID)
	if err != nil {
		return Entry{}, nil, err
	}
	return s.get(ctx, s.db, n, id)
}

func (s *Service) get(ctx context.Context, q store.Querier, n org.Node, id string) (Entry, []Version, error) {
	es, err := s.effective(ctx, q, n)
	if err != nil {
		return Entry{}, nil, err
	}
	i := slices.IndexFunc(es, func(e Entry) bool { return e.ID == id })
	if i < 0 {
		return Entry{}, nil, problem.NotFound("rule")
	}
	rows, err := q.QueryContext(ctx, `SELECT r.rule_id, r.version, r.org_id, o.name, r.yaml, r.created_by, r.created_at
		FROM monitor_rules r JOIN orgs o ON o.id = r.org_id
		WHERE r.rule_id = ? AND `+actor.ContainsSQL("o.path", "?")+`
		ORDER BY r.created_at DESC, r.version DESC`, id, n.Path)
	if err != nil {
		return Entry{}, nil, fmt.Errorf("rulestore: history: %w", err)
	}
	defer rows.Close()
	hist := []Version{}
	for rows.Next() {
		var v Version
		var at store.Time
		if err := rows.Scan(&v.RuleID, &v.Version, &v.OrgID, &v.OrgName, &v.YAML, &v.CreatedBy, &at); err != nil {
			return Entry{}, nil, fmt.Errorf("rulestore: history: %w", err)
		}
		v.CreatedAt = at.Time
		hist = append(hist, v)
	}
	if err := rows.Err(); err != nil {
		return Entry{}, nil, fmt.Errorf("rulestore: history: %w", err)
	}
	return es[i], hist, nil
}

// Save parses and validates yaml as rule id and stores it as the rule's next version at
// organisation orgID (0: a's own), which a must see: the version in force there plus
// one. The stored YAML is the rule as parsed, its version field set to the new version.
// A rule that does not parse or validate, or whose id is not id, is refused with
// problem.Invalid and the parser's message; nothing is stored.
func (s *Service) Save(ctx context.Context, a actor.Actor, orgID int64, id string, yaml []byte) (Entry, error) {
	r, err := Parse(yaml)
	if err != nil {
		return Entry{}, err
	}
	if r.ID != id {
		return Entry{}, problem.Invalid("yaml", "the rule's id is not the id of the rule being edited").WithMsg("monitor.rule.err.id_mismatch")
	}
	var out Entry
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		n, err := node(ctx, tx, a, orgID)
		if err != nil {
			return err
		}
		out, err = s.save(ctx, tx, a, n, r)
		return err
	})
	return out, err
}

// SaveAll parses and validates the rules of a YAML file of one or more documents
// (separated by ---) and stores each as its next version at organisation orgID (0: a's
// own), all in one transaction: one refused rule stores none (problem.Invalid with the
// parser's message). It returns the rules as they now apply, in the file's order.
func (s *Service) SaveAll(ctx context.Context, a actor.Actor, orgID int64, yaml []byte) ([]Entry, error) {
	rs, err := detect.ParseAll(yaml)
	if err != nil {
		return nil, problemOf(err)
	}
	var out []Entry
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		n, err := node(ctx, tx, a, orgID)
		if err != nil {
			return err
		}
		out = out[:0]
		for _, r := range rs {
			e, err := s.save(ctx, tx, a, n, r)
			if err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	})
	return out, err
}

// save stores r as its next version at organisation n inside tx and trails it.
func (s *Service) save(ctx context.Context, tx *store.Tx, a actor.Actor, n org.Node, r detect.Rule) (Entry, error) {
	id := r.ID
	es, err := s.effective(ctx, tx, n)
	if err != nil {
		return Entry{}, err
	}
	next := 1
	if i := slices.IndexFunc(es, func(e Entry) bool { return e.ID == id }); i >= 0 {
		next = es[i].Version + 1
	}
	var mine sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT MAX(version) FROM monitor_rules WHERE org_id = ? AND rule_id = ?`, n.ID, id).
		Scan(&mine); err != nil {
		return Entry{}, fmt.Errorf("rulestore: save: %w", err)
	}
	if mine.Valid && int(mine.Int64) >= next {
		next = int(mine.Int64) + 1
	}
	r.Version = strconv.Itoa(next)
	text := string(r.YAML())
	if _, err := tx.ExecContext(ctx, `INSERT INTO monitor_rules (org_id, rule_id, version, yaml, created_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`, n.ID, id, next, text, a.Username, s.now().UTC()); err != nil {
		if store.IsUniqueViolation(err) {
			return Entry{}, problem.Conflict("the rule was saved by someone else meanwhile").WithMsg("monitor.rule.err.conflict")
		}
		return Entry{}, fmt.Errorf("rulestore: save: %w", err)
	}
	out, _, err := s.get(ctx, tx, n, id)
	if err != nil {
		return Entry{}, err
	}
	_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: "monitor.rule_save", ObjectType: "monitor_rule", ObjectID: id,
		OrgID: n.ID, Summary: fmt.Sprintf("rule %s saved as version %d", id, next),
		Msg: trail.Msg("trail.summary.monitor.rule_save", id, next), After: map[string]any{"version": next, "yaml": text}})
	return out, err
}

// SetEnabled enables or disables rule id for organisation orgID (0: a's own) and its
// subtree.
func (s *Service) SetEnabled(ctx context.Context, a actor.Actor, orgID int64, id string, enabled bool) (Entry, error) {
	var out Entry
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		n, err := node(ctx, tx, a, orgID)
		if err != nil {
			return err
		}
		before, _, err := s.get(ctx, tx, n, id)
		if err != nil {
			return err
		}
		now := s.now().UTC()
		if _, err := tx.ExecContext(ctx, `INSERT INTO monitor_rule_state (org_id, rule_id, enabled, updated_by, updated_at)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (org_id, rule_id) DO UPDATE SET enabled = excluded.enabled,
			updated_by = excluded.updated_by, updated_at = excluded.updated_at`, n.ID, id, enabled, a.Username, now); err != nil {
			return fmt.Errorf("rulestore: set enabled: %w", err)
		}
		if out, _, err = s.get(ctx, tx, n, id); err != nil {
			return err
		}
		action, summary := "monitor.rule_disable", "rule %s disabled"
		if enabled {
			action, summary = "monitor.rule_enable", "rule %s enabled"
		}
		_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: action, ObjectType: "monitor_rule", ObjectID: id, OrgID: n.ID,
			Summary: fmt.Sprintf(summary, id), Msg: trail.Msg("trail.summary."+action, id),
			Before: map[string]any{"enabled": before.Enabled}, After: map[string]any{"enabled": enabled}})
		return err
	})
	return out, err
}

// Rules returns the effective rules of organisation orgID: the built-in library, stored
// versions in place of the built-ins they override, stored rules of the tree's own, minus
// the disabled ones. It is the platform's own view (no actor): what the engine loads.
func (s *Service) Rules(ctx context.Context, orgID int64) ([]detect.Rule, error) {
	n, err := org.Visible(ctx, s.db, actor.System(), orgID)
	if err != nil {
		return nil, err
	}
	es, err := s.effective(ctx, s.db, n)
	if err != nil {
		return nil, err
	}
	out := make([]detect.Rule, 0, len(es))
	for _, e := range es {
		if e.Enabled {
			out = append(out, e.Rule)
		}
	}
	return out, nil
}

// Parse parses and validates one rule for the store: detect.Parse's error becomes a
// problem.Invalid on the field "yaml" carrying the parser's message (a field that is not
// an event field gets a message of its own in the reader's language).
func Parse(yaml []byte) (detect.Rule, error) {
	r, err := detect.Parse(yaml)
	if err != nil {
		return detect.Rule{}, problemOf(err)
	}
	return r, nil
}

// problemOf turns a parser error into the problem Parse describes.
func problemOf(err error) error {
	var fe *detect.FieldError
	if errors.As(err, &fe) {
		return problem.Invalid("yaml", "%s names %q, which is not an event field", fe.Where, fe.Field).
			WithMsg("monitor.rule.err.field", fe.Where, fe.Field, strings.Join(detect.Fields, ", ")).WithErr(err)
	}
	msg := parserMessage(err)
	return problem.Invalid("yaml", "%s", msg).WithMsg("monitor.rule.err.invalid", msg).WithErr(err)
}

// parserMessage is the parser's message without its package prefixes.
func parserMessage(err error) string {
	s := err.Error()
	for _, p := range []string{detect.ErrInvalid.Error() + ": ", detect.ErrInvalid.Error() + " ", "detect: "} {
		s = strings.TrimPrefix(s, p)
	}
	return s
}

// Version returns a marker of the stored rules and their enabling that changes with every
// save, enable or disable of any organisation (rows are only added or updated, never
// deleted): the live detection compares it to know when to load the rules again.
func (s *Service) Version(ctx context.Context) (string, error) {
	var n, maxID, states int64
	var last store.Time
	err := s.db.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM monitor_rules), (SELECT COALESCE(MAX(id), 0) FROM monitor_rules),
		(SELECT COUNT(*) FROM monitor_rule_state), (SELECT MAX(updated_at) FROM monitor_rule_state)`).Scan(&n, &maxID, &states, &last)
	if err != nil {
		return "", fmt.Errorf("rulestore: version: %w", err)
	}
	return fmt.Sprintf("%d/%d/%d/%d", n, maxID, states, last.Time.UnixNano()), nil
}
