package assess

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

// Check is an automatic check that collects evidence from the platform's own data.
type Check interface {
	// Name is the name catalogue items list the check by (mfa.admins, vuln.sla …).
	Name() string
	// Run checks scope. An error is a failure to check, not a failed check.
	Run(ctx context.Context, sc Scope) (Result, error)
}

// Scope is what a check looks at: the organisation (and below), the business system
// when the assessment is of one, and the period [From, Now]. Last holds the figures of
// the check's previous result for this assessment (nil: none).
type Scope struct {
	OrgID     int64
	OrgPath   string
	AssetID   int64
	MLPSLevel int
	From      time.Time
	Now       time.Time
	Last      map[string]int
}

// Actor is the platform acting within the scope's organisation: what a check reads
// through a service.
func (sc Scope) Actor() actor.Actor {
	return actor.Actor{Username: "system", Role: "system", OrgID: sc.OrgID, OrgPath: sc.OrgPath}
}

// Result is what a check found: passed or not (or not available: its data source is not
// configured), a sentence (zh-CN and English through the catalogue), figures and the
// records it looked at.
type Result struct {
	Pass        bool           `json:"pass"`
	Unavailable bool           `json:"unavailable,omitempty"`
	Message     i18n.Message   `json:"message"`
	Figures     map[string]int `json:"figures,omitempty"`
	Links       []Link         `json:"links,omitempty"`
}

// Outcome is "pass", "fail" or "unavailable".
func (r Result) Outcome() string {
	switch {
	case r.Unavailable:
		return "unavailable"
	case r.Pass:
		return "pass"
	}
	return "fail"
}

// maxLinks bounds the records a result links (the first ones found).
const maxLinks = 50

// unavailable is the result of a check without its data source.
func unavailable(name string) Result {
	return Result{Unavailable: true, Message: i18n.M("assess.check.unavailable", name)}
}

// Recheck runs the automatic checks of assessment id now, storing their results as
// evidence of the items that list them.
func (s *Service) Recheck(ctx context.Context, a actor.Actor, id int64) (Assessment, error) {
	x, err := s.get(ctx, s.db, a, id)
	if err != nil {
		return Assessment{}, err
	}
	if err := s.run(ctx, a, x, s.now()); err != nil {
		return Assessment{}, err
	}
	return s.Assessment(ctx, a, id)
}

// SweepResult counts what a sweep did.
type SweepResult struct {
	Assessments int `json:"assessments"` // assessments re-checked
}

// Sweep re-runs the checks of every assessment whose last run is older than
// Options.RecheckEvery (or that never ran), recording their progress.
func (s *Service) Sweep(ctx context.Context, now time.Time) (SweepResult, error) {
	now = now.UTC().Truncate(time.Microsecond)
	list, err := store.Collect(ctx, s.db, scanAssessment, `SELECT `+assessmentColumns+fromAssessments+`
		WHERE x.checked_at IS NULL OR x.checked_at <= ? ORDER BY x.id`, now.Add(-s.opt.RecheckEvery))
	if err != nil {
		return SweepResult{}, fmt.Errorf("assess: sweep: %w", err)
	}
	var res SweepResult
	for _, x := range list {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		if err := s.run(ctx, actor.System(), x, now); err != nil {
			return res, err
		}
		res.Assessments++
	}
	return res, nil
}

// run runs the checks x's items list and stores each result on those items, replacing
// the previous result of the same check.
func (s *Service) run(ctx context.Context, a actor.Actor, x Assessment, now time.Time) error {
	cat, err := s.cats.Items(x.Catalogue)
	if err != nil {
		return fmt.Errorf("assess: items of %s: %w", x.Catalogue, err)
	}
	rows := map[string]int64{}
	if err := func() error {
		r, err := s.db.QueryContext(ctx, `SELECT item, id FROM assess_items WHERE assessment_id = ?`, x.ID)
		if err != nil {
			return err
		}
		defer r.Close()
		for r.Next() {
			var item string
			var id int64
			if err := r.Scan(&item, &id); err != nil {
				return err
			}
			rows[item] = id
		}
		return r.Err()
	}(); err != nil {
		return fmt.Errorf("assess: run checks: %w", err)
	}
	targets := map[string][]int64{} // check → item rows
	var names []string
	for _, it := range cat {
		row, ok := rows[it.ID]
		if !ok {
			continue
		}
		for _, c := range it.Checks {
			if _, seen := targets[c]; !seen {
				names = append(names, c)
			}
			targets[c] = append(targets[c], row)
		}
	}
	results := make(map[string]Result, len(names))
	for _, name := range names {
		c, ok := s.checks[name]
		if !ok {
			results[name] = unavailable(name)
			continue
		}
		last, err := s.lastFigures(ctx, x.ID, name)
		if err != nil {
			return err
		}
		sc := Scope{OrgID: x.OrgID, OrgPath: x.orgPath, AssetID: x.AssetID, MLPSLevel: x.MLPSLevel, From: now.Add(-s.opt.Period),
			Now: now, Last: last}
		r, err := c.Run(ctx, sc)
		if err != nil {
			slog.WarnContext(ctx, "assess: check failed to run", "check", name, "assessment", x.ID, "err", err)
			r = Result{Unavailable: true, Message: i18n.M("assess.check.error", name)}
		}
		if len(r.Links) > maxLinks {
			r.Links = r.Links[:maxLinks]
		}
		results[name] = r
	}
	exp := now.Add(s.opt.CheckValidity)
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		summary := map[string]string{}
		for _, name := range names {
			r := results[name]
			msg, _ := json.Marshal(r.Message)
			figures, _ := json.Marshal(r.Figures)
			links, _ := json.Marshal(r.Links)
			if r.Figures == nil {
				figures = nil
			}
			if r.Links == nil {
				links = nil
			}
			summary[name] = r.Outcome()
			for _, row := range targets[name] {
				if _, err := tx.ExecContext(ctx, `DELETE FROM assess_evidence WHERE item_id = ? AND kind = 'check' AND check_name = ?`,
					row, name); err != nil {
					return fmt.Errorf("assess: store check: %w", err)
				}
				if _, err := tx.ExecContext(ctx, `INSERT INTO assess_evidence (item_id, kind, check_name, outcome, message, figures,
					links, expires_at, added_by, added_at) VALUES (?, 'check', ?, ?, ?, ?, ?, ?, ?, ?)`, row, name, r.Outcome(),
					string(msg), string(figures), string(links), exp, a.Username, now); err != nil {
					return fmt.Errorf("assess: store check: %w", err)
				}
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE assessments SET checked_at = ? WHERE id = ?`, now, x.ID); err != nil {
			return fmt.Errorf("assess: run checks: %w", err)
		}
		if err := s.recordProgress(ctx, tx, x.ID, now); err != nil {
			return err
		}
		passed := 0
		for _, o := range summary {
			if o == "pass" {
				passed++
			}
		}
		_, err := s.trail.Append(ctx, tx, a, trail.Event{Action: "assess.recheck", ObjectType: "assessment", ObjectID: itoa(x.ID),
			OrgID: x.OrgID, Summary: fmt.Sprintf("assessment %d %s: %d of %d checks passed", x.ID, x.Title, passed, len(names)),
			Msg: trail.Msg("trail.summary.assess.recheck", x.ID, x.Title, passed, len(names)), After: summary})
		return err
	})
}

// lastFigures returns the figures of the last result of check name in assessment id.
func (s *Service) lastFigures(ctx context.Context, id int64, name string) (map[string]int, error) {
	var figures string
	err := s.db.QueryRowContext(ctx, `SELECT e.figures FROM assess_evidence e JOIN assess_items i ON i.id = e.item_id
		WHERE i.assessment_id = ? AND e.kind = 'check' AND e.check_name = ? ORDER BY e.added_at DESC, e.id DESC LIMIT 1`,
		id, name).Scan(&figures)
	if errors.Is(err, sql.ErrNoRows) || figures == "" {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("assess: last result: %w", err)
	}
	var out map[string]int
	if err := json.Unmarshal([]byte(figures), &out); err != nil {
		return nil, nil //nolint:nilerr // an unreadable old result is as good as none
	}
	return out, nil
}

// CheckNames lists the names of the checks the service runs, sorted.
func (s *Service) CheckNames() []string {
	out := make([]string, 0, len(s.checks))
	for n := range s.checks {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}
