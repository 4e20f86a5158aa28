package assess

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/risk"
)

// ModuleItem is the module name of an assessment item as a source of a risk.
const ModuleItem = risk.ModuleAssessItem

// RiskRaiser raises a risk from a source record (risk.Service).
type RiskRaiser interface {
	FromSource(ctx context.Context, a actor.Actor, in risk.SourceInput) (risk.Risk, bool, error)
}

// GapInput asks for a risk from a gap: an owner (optional) and the language of its title.
type GapInput struct {
	Owner string `json:"owner"`
	Lang  string `json:"lang,omitempty"`
}

// GapToRisk raises a risk (with its level's treatment tasks) from item itemID of
// assessment id, which must be a gap (not met or partly), through the register, and
// links the risk to the item as evidence. created tells whether the risk is new.
func (s *Service) GapToRisk(ctx context.Context, a actor.Actor, reg RiskRaiser, id int64, itemID string, in GapInput) (risk.Risk, bool, error) {
	if _, err := s.get(ctx, s.db, a, id); err != nil {
		return risk.Risk{}, false, err
	}
	it, err := s.item(ctx, s.db, id, itemID)
	if err != nil {
		return risk.Risk{}, false, err
	}
	if !it.Gap() {
		return risk.Risk{}, false, problem.Conflict("only a gap (not met or partly met) becomes a risk").WithMsg("assess.error.not_gap")
	}
	r, created, err := reg.FromSource(ctx, a, risk.SourceInput{Module: ModuleItem, ID: it.RowID, Owner: in.Owner, Lang: in.Lang})
	if err != nil {
		return risk.Risk{}, false, err
	}
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM assess_evidence WHERE item_id = ? AND kind = 'link'
		AND module = 'risk' AND record_id = ?`, it.RowID, r.ID).Scan(&n); err != nil {
		return risk.Risk{}, false, fmt.Errorf("assess: gap: %w", err)
	}
	if n == 0 {
		if _, err := s.AddLink(ctx, a, id, itemID, LinkInput{Module: "risk", ID: r.ID}); err != nil {
			return risk.Risk{}, false, err
		}
	}
	return r, created, nil
}

// GapFacts is what a gap says of the risk it suggests.
type GapFacts struct {
	AssessmentID int64
	OrgID        int64
	AssetID      int64
	Catalogue    string
	Title        string // of the assessment
	Item         string
	ItemTitle    map[string]string
	Status       string
	Note         string
}

// Gap reads item row itemRow (the id of an item, as risk sources name it) as a sees
// it, for the risk register's source reader.
func (s *Service) Gap(ctx context.Context, a actor.Actor, itemRow int64) (GapFacts, error) {
	var id int64
	var f GapFacts
	err := s.db.QueryRowContext(ctx, `SELECT assessment_id, item, status, note FROM assess_items WHERE id = ?`, itemRow).
		Scan(&id, &f.Item, &f.Status, &f.Note)
	if errors.Is(err, sql.ErrNoRows) {
		return GapFacts{}, problem.NotFound("item")
	}
	if err != nil {
		return GapFacts{}, fmt.Errorf("assess: gap: %w", err)
	}
	x, err := s.get(ctx, s.db, a, id)
	if err != nil {
		return GapFacts{}, err
	}
	f.AssessmentID, f.OrgID, f.AssetID, f.Catalogue, f.Title = x.ID, x.OrgID, x.AssetID, x.Catalogue, x.Title
	items, err := s.cats.Items(x.Catalogue)
	if err != nil {
		return GapFacts{}, fmt.Errorf("assess: items of %s: %w", x.Catalogue, err)
	}
	for _, c := range items {
		if c.ID == f.Item {
			f.ItemTitle = c.Title
		}
	}
	return f, nil
}

// RiskTitle is the title a gap's risk gets, as a catalogue message.
func (f GapFacts) RiskTitle(lang string) i18n.Message {
	return i18n.M("assess.risk.title", f.Item, In(f.ItemTitle, lang))
}
