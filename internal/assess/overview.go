package assess

import (
	"context"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/overview"
)

// OverviewCompliance gives the overview dashboard (overview.Compliance) the progress of
// the compliance assessments: one entry per assessment of the organisation and below,
// applicable items met of all applicable.
type OverviewCompliance struct{ S *Service }

// Progress implements overview.Compliance.
func (c OverviewCompliance) Progress(ctx context.Context, a actor.Actor, orgID int64) ([]overview.Progress, error) {
	sums, err := c.S.Progress(ctx, a, orgID)
	if err != nil {
		return nil, err
	}
	out := make([]overview.Progress, 0, len(sums))
	for _, x := range sums {
		applicable := x.Counts.Met + x.Counts.Partly + x.Counts.NotMet + x.Counts.Unassessed
		out = append(out, overview.Progress{Name: x.Title, Catalogue: x.Catalogue, Percent: float64(x.Percent), Met: x.Counts.Met,
			Total: applicable})
	}
	return out, nil
}
