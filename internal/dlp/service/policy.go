package dlpsvc

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/dlp"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

// Decisions of a policy check.
const (
	DecisionAllow = "allow"
	DecisionAlert = "alert"
	DecisionBlock = "block"
)

// MaxCustomIdentifiers bounds the site identifiers of one organisation.
const MaxCustomIdentifiers = 50

// Policy decides the pre-send check of an organisation and carries its site-specific
// identifiers, which every scan of the organisation looks for.
type Policy struct {
	// BlockLevel blocks an outgoing file whose highest level is at least this
	// (1–5; 0 never blocks by level).
	BlockLevel int `json:"block_level"`
	// BlockIdentifiesPerson blocks a file that identifies a person (an identifier
	// together with health data).
	BlockIdentifiesPerson bool `json:"block_identifies_person"`
	// AlertLevel lets a file through with an alert when its highest level is at
	// least this (1–5; 0 never alerts by level).
	AlertLevel int `json:"alert_level"`
	// Unreadable is the decision for a file that cannot be inspected in full
	// (encrypted, malformed, too large, nested too deep): allow, alert or block.
	// It defaults to block: a gateway fails closed on what it could not read.
	Unreadable string `json:"unreadable"`
	// Custom are the site identifiers (medical record, outpatient, inpatient,
	// patient card numbers …).
	Custom []dlp.CustomIdentifier `json:"custom"`
	// AllowedPaths are the absolute path prefixes under which level-4+ data may be
	// kept: a path job that finds such data in a file outside all of them raises an
	// alert. None (the default) raises no such alert.
	AllowedPaths []string `json:"allowed_paths"`
}

// PolicyView is a policy as the API shows it: where it comes from and when it changed.
type PolicyView struct {
	Policy
	// OrgID is the organisation the policy applies to.
	OrgID int64 `json:"org_id"`
	// FromOrgID is the organisation whose stored policy is in force (0 for the
	// defaults).
	FromOrgID int64      `json:"from_org_id"`
	UpdatedBy string     `json:"updated_by"`
	UpdatedAt *time.Time `json:"updated_at"`
}

// DefaultPolicy is the policy in force where no organisation has stored one: block level
// 4 and above or a file that identifies a person, alert from level 2, and block a file
// that cannot be inspected in full (an archive too large or nested too deep to scan,
// an encrypted document): a pre-send check fails closed.
func DefaultPolicy() Policy {
	return Policy{BlockLevel: 4, BlockIdentifiesPerson: true, AlertLevel: 2, Unreadable: DecisionBlock, Custom: []dlp.CustomIdentifier{},
		AllowedPaths: []string{}}
}

var customName = regexp.MustCompile(`^[a-z][a-z0-9_]{1,39}$`)

// validate checks p and fills its defaults.
func (p *Policy) validate() error {
	if p.BlockLevel < 0 || p.BlockLevel > 5 {
		return problem.Invalid("block_level", "must be between 0 (never) and 5").WithMsg("dlp.error.msg.level_0_5")
	}
	if p.AlertLevel < 0 || p.AlertLevel > 5 {
		return problem.Invalid("alert_level", "must be between 0 (never) and 5").WithMsg("dlp.error.msg.level_0_5")
	}
	switch p.Unreadable {
	case "":
		p.Unreadable = DecisionBlock
	case DecisionAllow, DecisionAlert, DecisionBlock:
	default:
		return problem.Invalid("unreadable", "must be allow, alert or block").WithMsg("error.msg.one_of", "allow, alert, block")
	}
	if p.Custom == nil {
		p.Custom = []dlp.CustomIdentifier{}
	}
	allowed, err := validateAllowedPaths(p.AllowedPaths)
	if err != nil {
		return err
	}
	p.AllowedPaths = allowed
	if len(p.Custom) > MaxCustomIdentifiers {
		return problem.Invalid("custom", "at most %d site identifiers", MaxCustomIdentifiers).WithMsg("dlp.error.msg.custom_too_many", MaxCustomIdentifiers)
	}
	builtin := dlp.AllTypes()
	seen := map[string]bool{}
	for i := range p.Custom {
		c := &p.Custom[i]
		c.Name = strings.TrimSpace(c.Name)
		c.Pattern = strings.TrimSpace(c.Pattern)
		field := "custom." + strconv.Itoa(i)
		switch {
		case !customName.MatchString(c.Name):
			return problem.Invalid(field+".name", "must be 2–40 lower-case letters, digits or _, starting with a letter (e.g. medical_record_no)").WithMsg("dlp.error.msg.custom_name")
		case slices.Contains(builtin, c.Name):
			return problem.Invalid(field+".name", "is the name of a built-in type").WithMsg("dlp.error.msg.custom_builtin")
		case seen[c.Name]:
			return problem.Invalid(field+".name", "is defined twice").WithMsg("dlp.error.msg.custom_twice")
		case c.Pattern == "":
			return problem.Required(field + ".pattern")
		case len(c.Pattern) > 500:
			return problem.Invalid(field+".pattern", "is longer than 500 characters").WithMsg("error.msg.too_long_chars", 500)
		case c.Level < 0 || c.Level > 5:
			return problem.Invalid(field+".level", "must be between 1 and 5 (0 = the default, 4)").WithMsg("dlp.error.msg.custom_level")
		case c.Category != "" && !slices.Contains(dlp.Categories(), c.Category):
			return problem.Invalid(field+".category", "must be one of %v", dlp.Categories()).WithMsg("error.msg.one_of", strings.Join(dlp.Categories(), ", "))
		case len(c.Context) > 20:
			return problem.Invalid(field+".context", "at most 20 context words").WithMsg("dlp.error.msg.context_too_many", 20)
		}
		if _, err := regexp.Compile(c.Pattern); err != nil {
			// The compiler's message quotes the pattern: it is the cause, for the log.
			return problem.Invalid(field+".pattern", "is not a valid regular expression (RE2 syntax)").WithMsg("dlp.error.msg.pattern_invalid").WithErr(err)
		}
		seen[c.Name] = true
		words := c.Context[:0]
		for _, w := range c.Context {
			if w = strings.TrimSpace(w); w != "" {
				if len([]rune(w)) > 20 {
					return problem.Invalid(field+".context", "a context word is longer than 20 characters").WithMsg("dlp.error.msg.context_word_long", 20)
				}
				words = append(words, w)
			}
		}
		c.Context = words
		if c.Context == nil {
			c.Context = []string{}
		}
		if c.RequireContext && len(c.Context) == 0 {
			return problem.Invalid(field+".context", "require_context needs at least one context word").WithMsg("dlp.error.msg.context_required")
		}
	}
	if _, err := dlp.NewScanner(dlp.Config{Custom: p.Custom}); err != nil {
		return problem.Invalid("custom", "is not a valid set of site identifiers").WithMsg("dlp.error.msg.custom_invalid").WithErr(err)
	}
	return nil
}

// Decide returns the decision of p for a check whose files have the given highest level,
// whether one identifies a person and whether one could not be read, with the reasons
// (stable keys: "level_block", "identifies_person", "level_alert", "unreadable").
// An unreadable file is blocked unless the policy says allow or alert, so that a stored
// policy without the field fails closed.
func (p Policy) Decide(highest int, identifies, unreadable bool) (string, []string) {
	var block, alert []string
	if p.BlockLevel > 0 && highest >= p.BlockLevel {
		block = append(block, "level_block")
	}
	if p.BlockIdentifiesPerson && identifies {
		block = append(block, "identifies_person")
	}
	if unreadable && p.Unreadable != DecisionAllow && p.Unreadable != DecisionAlert {
		block = append(block, "unreadable")
	}
	if len(block) > 0 {
		return DecisionBlock, block
	}
	if p.AlertLevel > 0 && highest >= p.AlertLevel {
		alert = append(alert, "level_alert")
	}
	if unreadable && p.Unreadable == DecisionAlert {
		alert = append(alert, "unreadable")
	}
	if len(alert) > 0 {
		return DecisionAlert, alert
	}
	return DecisionAllow, []string{}
}

// Policy returns the policy in force for organisation orgID.
func (s *Service) Policy(ctx context.Context, a actor.Actor, orgID int64) (PolicyView, error) {
	o, err := org.Visible(ctx, s.db, a, orgID)
	if err != nil {
		return PolicyView{}, err
	}
	return policyAt(ctx, s.db, o)
}

// policyAt returns the policy of the deepest node on o's path that has one.
func policyAt(ctx context.Context, q store.Querier, o org.Node) (PolicyView, error) {
	view := PolicyView{Policy: DefaultPolicy(), OrgID: o.ID}
	var ids []any
	for _, part := range strings.Split(strings.Trim(o.Path, "/"), "/") {
		if id, err := strconv.ParseInt(part, 10, 64); err == nil {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return view, nil
	}
	rows, err := q.QueryContext(ctx, `SELECT org_id, policy, updated_by, updated_at FROM dlp_policies WHERE org_id IN (`+
		store.Placeholders(len(ids))+`)`, ids...)
	if err != nil {
		return view, fmt.Errorf("dlp: read policy: %w", err)
	}
	defer rows.Close()
	type stored struct {
		doc, by string
		at      time.Time
	}
	found := map[int64]stored{}
	for rows.Next() {
		var id int64
		var x stored
		if err := rows.Scan(&id, &x.doc, &x.by, &x.at); err != nil {
			return view, fmt.Errorf("dlp: read policy: %w", err)
		}
		found[id] = x
	}
	if err := rows.Err(); err != nil {
		return view, fmt.Errorf("dlp: read policy: %w", err)
	}
	for i := len(ids) - 1; i >= 0; i-- {
		id := ids[i].(int64)
		x, ok := found[id]
		if !ok {
			continue
		}
		var p Policy
		if err := json.Unmarshal([]byte(x.doc), &p); err != nil {
			return view, fmt.Errorf("dlp: stored policy of organisation %d: %w", id, err)
		}
		if p.Custom == nil {
			p.Custom = []dlp.CustomIdentifier{}
		}
		if p.AllowedPaths == nil {
			p.AllowedPaths = []string{}
		}
		at := x.at.UTC()
		view.Policy, view.FromOrgID, view.UpdatedBy, view.UpdatedAt = p, id, x.by, &at
		return view, nil
	}
	return view, nil
}

// SetPolicy stores the policy and site identifiers of organisation orgID.
func (s *Service) SetPolicy(ctx context.Context, a actor.Actor, orgID int64, p Policy) (PolicyView, error) {
	if err := p.validate(); err != nil {
		return PolicyView{}, err
	}
	doc, err := json.Marshal(p)
	if err != nil {
		return PolicyView{}, fmt.Errorf("dlp: encode policy: %w", err)
	}
	var out PolicyView
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		o, err := org.Visible(ctx, tx, a, orgID)
		if err != nil {
			return err
		}
		before, err := policyAt(ctx, tx, o)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM dlp_policies WHERE org_id = ?`, orgID); err != nil {
			return fmt.Errorf("dlp: replace policy: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO dlp_policies (org_id, policy, updated_by, updated_at) VALUES (?, ?, ?, ?)`,
			orgID, string(doc), a.Username, s.stamp()); err != nil {
			return fmt.Errorf("dlp: store policy: %w", err)
		}
		if out, err = policyAt(ctx, tx, o); err != nil {
			return err
		}
		_, err = s.trail.Append(ctx, tx, a, trail.Event{Action: "dlp.policy_set", ObjectType: "org", ObjectID: idString(orgID),
			OrgID: orgID, Summary: fmt.Sprintf("block ≥ %d (identifies person: %v), alert ≥ %d, unreadable: %s, %d site identifiers, %d allowed paths",
				p.BlockLevel, p.BlockIdentifiesPerson, p.AlertLevel, p.Unreadable, len(p.Custom), len(p.AllowedPaths)),
			Msg: policyMsg(p), Before: before.Policy, After: p})
		return err
	})
	return out, err
}

// scanner returns the engine for the site identifiers custom, cached.
func (s *Service) scanner(custom []dlp.CustomIdentifier) (*dlp.Scanner, error) {
	key, err := json.Marshal(custom)
	if err != nil {
		return nil, fmt.Errorf("dlp: scanner key: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if sc, ok := s.scanners[string(key)]; ok {
		return sc, nil
	}
	sc, err := dlp.NewScanner(dlp.Config{Custom: custom})
	if err != nil {
		return nil, fmt.Errorf("dlp: build scanner: %w", err)
	}
	if len(s.scanners) > 64 {
		clear(s.scanners)
	}
	s.scanners[string(key)] = sc
	return sc, nil
}
