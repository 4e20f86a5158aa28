package risksource

import (
	"context"
	"fmt"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/policy"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/risk"
)

// ModuleSelfCheck is the module of a periodic self-check (package policy).
const ModuleSelfCheck = risk.ModuleSelfCheck

// SelfCheckGetter reads a self-check as an actor sees it (policy.Service).
type SelfCheckGetter interface {
	SelfCheck(ctx context.Context, a actor.Actor, id int64) (policy.SelfCheck, error)
}

// SelfCheckSource reads the facts of a performed self-check that found issues or
// failed: its scope's assets, a rating from its result and number of findings, the
// category from its kind (a document check is compliance, a penetration test access).
type SelfCheckSource struct{ Checks SelfCheckGetter }

// Source implements risk.SourceReader for module "selfcheck".
func (f SelfCheckSource) Source(ctx context.Context, a actor.Actor, _ string, id int64) (risk.SourceFacts, error) {
	c, err := f.Checks.SelfCheck(ctx, a, id)
	if err != nil {
		return risk.SourceFacts{}, err
	}
	if c.PerformedAt == nil || (c.Result != policy.ResultIssues && c.Result != policy.ResultFailed) {
		return risk.SourceFacts{}, problem.Conflict("only a self-check that found issues raises a risk").WithMsg("selfcheck.error.no_issues")
	}
	l, i := 3, 3
	switch {
	case c.Result == policy.ResultFailed:
		l, i = 4, 4
	case c.Findings >= 10:
		l, i = 3, 4
	}
	category := "other"
	switch c.Kind {
	case "document_check":
		category = "compliance"
	case "pentest":
		category = "access"
	}
	date := c.PerformedAt.Format("2006-01-02")
	title := i18n.M("risk.from.selfcheck", i18n.M("selfcheck.kind."+c.Kind), c.Title)
	desc := i18n.M("risk.from.selfcheck_description", c.ID, c.Title, i18n.M("selfcheck.kind."+c.Kind), date,
		i18n.M("selfcheck.result."+c.Result), c.Findings, c.Summary)
	return risk.SourceFacts{OrgID: c.OrgID, Category: category, Likelihood: l, Impact: i, AssetIDs: c.AssetIDs,
		Title:       fmt.Sprintf("Self-check %s: %s", c.Kind, c.Title),
		Description: fmt.Sprintf("self-check %d %s (%s) on %s: %s, %d findings. %s", c.ID, c.Title, c.Kind, date, c.Result, c.Findings, c.Summary),
		TitleMsg:    &title, DescriptionMsg: &desc}, nil
}
