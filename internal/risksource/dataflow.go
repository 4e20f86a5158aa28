package risksource

import (
	"context"
	"fmt"
	"strings"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/dataflow"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/risk"
)

// Dataflow returns the reader of the data-flow register's flows (module "dataflow"),
// added to the mux once the register exists: mux[risk.ModuleDataflow] =
// risksource.Dataflow(flows).
func Dataflow(flows *dataflow.Service) risk.SourceReader { return dataflowSource{flows} }

type dataflowSource struct{ s *dataflow.Service }

// flowRating is the suggested likelihood × impact of a deficient flow: by its level
// (level 5 4 × 5, level 4 4 × 4, level 3 3 × 4, else 3 × 3), one step likelier when the
// data leaves without encryption.
func flowRating(f dataflow.Flow) (int, int) {
	l, i := 3, 3
	switch {
	case f.Level >= 5:
		l, i = 4, 5
	case f.Level == 4:
		l, i = 4, 4
	case f.Level == 3:
		l, i = 3, 4
	}
	for _, d := range f.Deficiencies {
		if d == dataflow.DefNoEncryption {
			l = min(l+1, 5)
		}
	}
	return l, i
}

// Source implements risk.SourceReader for module "dataflow": the flow's organisation and
// source systems, a title naming the flow and its recipient and a description saying
// which deficiencies it has (category third_party).
func (f dataflowSource) Source(ctx context.Context, a actor.Actor, _ string, id int64) (risk.SourceFacts, error) {
	fl, err := f.s.Flow(ctx, a, id)
	if err != nil {
		return risk.SourceFacts{}, err
	}
	l, i := flowRating(fl)
	title := i18n.M("dataflow.risk.title", fl.Name, fl.RecipientName)
	desc := i18n.M("dataflow.risk.description", fl.ID, fl.Name, fl.RecipientName, i18n.M("dataflow.kind."+fl.RecipientKind),
		fl.Level, dataflow.DeficienciesMsg(fl.Deficiencies))
	return risk.SourceFacts{OrgID: fl.OrgID, Category: "third_party", Likelihood: l, Impact: i, AssetIDs: fl.SourceAssetIDs,
		Title: fmt.Sprintf("Data flow %s to %s is deficient", fl.Name, fl.RecipientName),
		Description: fmt.Sprintf("data flow %d %s to %s (%s, level %d): %s", fl.ID, fl.Name, fl.RecipientName, fl.RecipientKind,
			fl.Level, strings.Join(fl.Deficiencies, ", ")),
		TitleMsg: &title, DescriptionMsg: &desc}, nil
}
