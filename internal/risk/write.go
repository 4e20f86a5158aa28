package risk

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

// Create records a new risk of organisation in.OrgID (a hospital or a department), open,
// rated as in says, due for review after its level's cadence, with the tasks of its
// level's playbook.
func (s *Service) Create(ctx context.Context, a actor.Actor, in Input) (Risk, error) {
	in, err := s.check(ctx, a, in)
	if err != nil {
		return Risk{}, err
	}
	var id int64
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		id, err = s.create(ctx, tx, a, in, nil)
		return err
	})
	if err != nil {
		return Risk{}, err
	}
	return s.Risk(ctx, a, id)
}

// create inserts a checked risk in tx, links it to sources, and adds its playbook.
func (s *Service) create(ctx context.Context, tx *store.Tx, a actor.Actor, in Input, sources []Source) (int64, error) {
	o, err := org.Visible(ctx, tx, a, in.OrgID)
	if err != nil {
		return 0, err
	}
	if o.Kind != org.KindHospital && o.Kind != org.KindDepartment {
		return 0, problem.Invalid("org_id", "a risk belongs to a hospital or a department").WithMsg("risk.error.org_kind")
	}
	if err := s.checkAssets(ctx, tx, a, o, in.AssetIDs); err != nil {
		return 0, err
	}
	now := s.now()
	m := s.m
	il, l := m.Level(in.InherentLikelihood, in.InherentImpact), m.Level(in.Likelihood, in.Impact)
	var id int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO risks (org_id, title, description, category, threat, vulnerability,
		inherent_likelihood, inherent_impact, inherent_level, inherent_rank, inherent_score,
		likelihood, impact, level, level_rank, score, owner, treatment, status, next_review_at, created_by, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?) RETURNING id`,
		o.ID, in.Title, in.Description, in.Category, in.Threat, in.Vulnerability,
		in.InherentLikelihood, in.InherentImpact, il, m.Rank(il), m.Score(in.InherentLikelihood, in.InherentImpact),
		in.Likelihood, in.Impact, l, m.Rank(l), m.Score(in.Likelihood, in.Impact), in.Owner, in.Treatment,
		s.reviewAfter(now, l), a.Username, now, now).Scan(&id); err != nil {
		return 0, fmt.Errorf("risk: create: %w", err)
	}
	if err := s.storeAssets(ctx, tx, id, in.AssetIDs); err != nil {
		return 0, err
	}
	for _, src := range sources {
		if err := s.link(ctx, tx, a, id, src); err != nil {
			return 0, err
		}
	}
	r := Risk{ID: id, OrgID: o.ID, Title: in.Title, Owner: in.Owner}
	for _, src := range sources {
		if err := s.record(ctx, tx, a, r, "risk.link", fmt.Sprintf("risk %d %s linked to %s %d", id, in.Title, src.Module, src.ID),
			trail.Msg("trail.summary.risk.link", id, in.Title, i18n.M("risk.source."+src.Module), src.ID), nil, src); err != nil {
			return 0, err
		}
	}
	if err := s.record(ctx, tx, a, r, "risk.create",
		fmt.Sprintf("risk %d %s created: %s (likelihood %d, impact %d)", id, in.Title, l, in.Likelihood, in.Impact),
		trail.Msg("trail.summary.risk.create", id, in.Title, s.levelMsg(l), in.Likelihood, in.Impact), nil, in); err != nil {
		return 0, err
	}
	return id, s.playbook(ctx, tx, a, r, l)
}

// reviewAfter returns when a risk of level lvl reviewed at t is due for review again.
func (s *Service) reviewAfter(t time.Time, lvl string) time.Time {
	b, _ := s.m.Band(lvl)
	return t.AddDate(0, 0, max(b.ReviewDays, 1))
}

// checkAssets checks that every asset exists, that a sees it, and that it belongs to
// organisation o's subtree or to one of o's ancestors (a department's risk may name
// its hospital's assets).
func (s *Service) checkAssets(ctx context.Context, tx *store.Tx, a actor.Actor, o org.Node, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	cond, arg := a.SeesSQL("ao.path")
	args := []any{o.ID}
	for _, id := range ids {
		args = append(args, id)
	}
	args = append(args, arg)
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM assets s JOIN orgs ao ON ao.id = s.org_id JOIN orgs ro ON ro.id = ?
		WHERE s.id IN (`+store.Placeholders(len(ids))+`) AND `+cond+` AND (`+
		actor.ContainsSQL("ro.path", "ao.path")+` OR `+actor.ContainsSQL("ao.path", "ro.path")+`)`, args...).Scan(&n); err != nil {
		return fmt.Errorf("risk: assets: %w", err)
	}
	if n != len(ids) {
		return problem.Invalid("asset_ids", "names an asset that is not this organisation's").WithMsg("risk.error.asset")
	}
	return nil
}

func (s *Service) storeAssets(ctx context.Context, tx *store.Tx, id int64, ids []int64) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM risk_assets WHERE risk_id = ?`, id); err != nil {
		return fmt.Errorf("risk: assets: %w", err)
	}
	for _, aid := range ids {
		if _, err := tx.ExecContext(ctx, `INSERT INTO risk_assets (risk_id, asset_id) VALUES (?, ?)`, id, aid); err != nil {
			return fmt.Errorf("risk: assets: %w", err)
		}
	}
	return nil
}

// Update replaces what a person writes of risk id with in (in.OrgID is ignored: a risk
// stays with its organisation). A change of the current level resets the next review
// to the new level's cadence and adds the new level's playbook.
func (s *Service) Update(ctx context.Context, a actor.Actor, id int64, in Input) (Risk, error) {
	in, err := s.check(ctx, a, in)
	if err != nil {
		return Risk{}, err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		before, err := s.get(ctx, tx, a, id)
		if err != nil {
			return err
		}
		return s.update(ctx, tx, a, before, in, "risk.update")
	})
	if err != nil {
		return Risk{}, err
	}
	return s.Risk(ctx, a, id)
}

// update writes checked input in over risk before, in tx.
func (s *Service) update(ctx context.Context, tx *store.Tx, a actor.Actor, before Risk, in Input, action string) error {
	o, err := org.Visible(ctx, tx, a, before.OrgID)
	if err != nil {
		return err
	}
	if !slices.Equal(in.AssetIDs, before.AssetIDs) {
		if err := s.checkAssets(ctx, tx, a, o, in.AssetIDs); err != nil {
			return err
		}
	}
	m, now := s.m, s.now()
	after := before
	after.Title, after.Description, after.Category, after.Threat, after.Vulnerability = in.Title, in.Description, in.Category, in.Threat, in.Vulnerability
	after.AssetIDs, after.Owner, after.Treatment = in.AssetIDs, in.Owner, in.Treatment
	after.InherentLikelihood, after.InherentImpact = in.InherentLikelihood, in.InherentImpact
	after.InherentLevel, after.InherentScore = m.Level(in.InherentLikelihood, in.InherentImpact), m.Score(in.InherentLikelihood, in.InherentImpact)
	after.Likelihood, after.Impact = in.Likelihood, in.Impact
	after.Level, after.Score = m.Level(in.Likelihood, in.Impact), m.Score(in.Likelihood, in.Impact)
	ch := changes(before, after)
	if len(ch) == 0 {
		return nil
	}
	if after.Level != before.Level {
		after.NextReviewAt = s.reviewAfter(now, after.Level)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE risks SET title = ?, description = ?, category = ?, threat = ?, vulnerability = ?,
		inherent_likelihood = ?, inherent_impact = ?, inherent_level = ?, inherent_rank = ?, inherent_score = ?,
		likelihood = ?, impact = ?, level = ?, level_rank = ?, score = ?, owner = ?, treatment = ?, next_review_at = ?, updated_at = ?
		WHERE id = ?`, after.Title, after.Description, after.Category, after.Threat, after.Vulnerability,
		after.InherentLikelihood, after.InherentImpact, after.InherentLevel, m.Rank(after.InherentLevel), after.InherentScore,
		after.Likelihood, after.Impact, after.Level, m.Rank(after.Level), after.Score, after.Owner, after.Treatment,
		after.NextReviewAt, now, before.ID); err != nil {
		return fmt.Errorf("risk: update: %w", err)
	}
	if _, ok := ch["asset_ids"]; ok {
		if err := s.storeAssets(ctx, tx, before.ID, in.AssetIDs); err != nil {
			return err
		}
	}
	if err := s.record(ctx, tx, a, after, action,
		fmt.Sprintf("risk %d %s changed: %s, likelihood %d, impact %d", after.ID, after.Title, after.Level, after.Likelihood, after.Impact),
		trail.Msg("trail.summary."+action, after.ID, after.Title, s.levelMsg(after.Level), after.Likelihood, after.Impact), ch, nil); err != nil {
		return err
	}
	if after.Level != before.Level {
		return s.playbook(ctx, tx, a, after, after.Level)
	}
	return nil
}

// SetStatus moves risk id to open, treating or closed (accepted is reached through an
// acceptance only); reason is required to close or re-open.
func (s *Service) SetStatus(ctx context.Context, a actor.Actor, id int64, status, reason string) (Risk, error) {
	if !slices.Contains([]string{StatusOpen, StatusTreating, StatusClosed}, status) {
		return Risk{}, problem.OneOf("status", StatusOpen, StatusTreating, StatusClosed)
	}
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		r, err := s.get(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if r.Status == status {
			return nil
		}
		reason, err := text("reason", reason, 2000, status == StatusClosed || r.Status == StatusClosed)
		if err != nil {
			return err
		}
		if r.Status == StatusAccepted {
			return problem.Conflict("an accepted risk leaves acceptance by revoking it").WithMsg("risk.error.accepted")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE risks SET status = ?, updated_at = ? WHERE id = ?`, status, s.now(), id); err != nil {
			return fmt.Errorf("risk: status: %w", err)
		}
		return s.record(ctx, tx, a, r, "risk.status", fmt.Sprintf("risk %d %s: %s → %s %s", id, r.Title, r.Status, status, reason),
			trail.Msg("trail.summary.risk.status", id, r.Title, statusMsg(r.Status), statusMsg(status), reason),
			map[string]Change{"status": {From: r.Status, To: status}}, nil)
	})
	if err != nil {
		return Risk{}, err
	}
	return s.Risk(ctx, a, id)
}

// Review records that risk id was reviewed now (note optional): the next review is due
// after its level's cadence.
func (s *Service) Review(ctx context.Context, a actor.Actor, id int64, note string) (Risk, error) {
	note, err := text("note", note, 2000, false)
	if err != nil {
		return Risk{}, err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		r, err := s.get(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if r.Status == StatusClosed {
			return problem.Conflict("a closed risk is not reviewed").WithMsg("risk.error.closed")
		}
		now := s.now()
		next := s.reviewAfter(now, r.Level)
		if _, err := tx.ExecContext(ctx, `UPDATE risks SET last_reviewed_at = ?, next_review_at = ?, updated_at = ? WHERE id = ?`,
			now, next, now, id); err != nil {
			return fmt.Errorf("risk: review: %w", err)
		}
		return s.record(ctx, tx, a, r, "risk.review", fmt.Sprintf("risk %d %s reviewed, next review %s: %s", id, r.Title, next.Format(time.DateOnly), note),
			trail.Msg("trail.summary.risk.review", id, r.Title, next.Format(time.DateOnly), note),
			map[string]Change{"next_review_at": {From: r.NextReviewAt, To: next}}, nil)
	})
	if err != nil {
		return Risk{}, err
	}
	return s.Risk(ctx, a, id)
}
