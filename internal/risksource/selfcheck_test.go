package risksource_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/policy"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/risksource"
)

type checks map[int64]policy.SelfCheck

func (c checks) SelfCheck(_ context.Context, _ actor.Actor, id int64) (policy.SelfCheck, error) {
	if x, ok := c[id]; ok {
		return x, nil
	}
	return policy.SelfCheck{}, problem.NotFound("self-check")
}

// TestSelfCheckSource: a check that found issues or failed suggests a risk rated by its
// result and findings; a planned or passed one raises none; an unseen one is not found.
func TestSelfCheckSource(t *testing.T) {
	at := time.Date(2026, 5, 3, 0, 0, 0, 0, time.UTC)
	src := risksource.SelfCheckSource{Checks: checks{
		1: {ID: 1, OrgID: 7, Kind: "pentest", Title: "年度渗透测试", PerformedAt: &at, Result: policy.ResultFailed, Findings: 3, AssetIDs: []int64{4}},
		2: {ID: 2, OrgID: 7, Kind: "document_check", Title: "制度检查", PerformedAt: &at, Result: policy.ResultIssues, Findings: 12},
		3: {ID: 3, OrgID: 7, Kind: "vuln_scan", Title: "扫描", PerformedAt: &at, Result: policy.ResultPass},
		4: {ID: 4, OrgID: 7, Kind: "vuln_scan", Title: "计划中"},
	}}
	ctx := context.Background()
	for _, c := range []struct {
		id   int64
		want []any
	}{
		{1, []any{int64(7), "access", 4, 4, []int64{4}}},
		{2, []any{int64(7), "compliance", 3, 4, []int64(nil)}},
	} {
		f, err := src.Source(ctx, actor.System(), risksource.ModuleSelfCheck, c.id)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(c.want, []any{f.OrgID, f.Category, f.Likelihood, f.Impact, f.AssetIDs}); d != "" {
			t.Errorf("check %d (-want +got):\n%s", c.id, d)
		}
		if f.TitleMsg == nil || f.DescriptionMsg == nil {
			t.Errorf("check %d: no messages", c.id)
		}
	}
	for id, want := range map[int64]problem.Kind{3: problem.KindConflict, 4: problem.KindConflict, 9: problem.KindNotFound} {
		if _, err := src.Source(ctx, actor.System(), risksource.ModuleSelfCheck, id); problem.KindOf(err) != want {
			t.Errorf("check %d: %v", id, err)
		}
	}
}
