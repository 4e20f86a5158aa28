package risksource

import (
	"context"
	"fmt"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/assess"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/risk"
)

// AssessItems reads a gap of a compliance assessment (module "assess_item": the id of
// an assessment item) for the register: a compliance risk on the assessed system,
// rated higher for an item not met than for one partly met.
func AssessItems(s *assess.Service) risk.SourceReader { return assessSource{s} }

type assessSource struct{ s *assess.Service }

func (f assessSource) Source(ctx context.Context, a actor.Actor, _ string, id int64) (risk.SourceFacts, error) {
	g, err := f.s.Gap(ctx, a, id)
	if err != nil {
		return risk.SourceFacts{}, err
	}
	l, i := 2, 3
	if g.Status == assess.StatusNotMet {
		l, i = 3, 4
	}
	zh, en := assess.In(g.ItemTitle, i18n.ZhCN), assess.In(g.ItemTitle, i18n.EN)
	title := i18n.M("assess.risk.title", g.Item, i18n.Text(zh, en))
	desc := i18n.M("assess.risk.description", g.Item, g.Title, g.Catalogue, i18n.M("assess.status."+g.Status), g.Note)
	facts := risk.SourceFacts{OrgID: g.OrgID, Category: "compliance", Likelihood: l, Impact: i,
		Title:       fmt.Sprintf("Compliance gap %s: %s", g.Item, en),
		Description: fmt.Sprintf("item %s of assessment %q (%s) is %s. %s", g.Item, g.Title, g.Catalogue, g.Status, g.Note),
		TitleMsg:    &title, DescriptionMsg: &desc, Vulnerability: g.Catalogue + " " + g.Item}
	if g.AssetID != 0 {
		facts.AssetIDs = []int64{g.AssetID}
	}
	return facts, nil
}
