package web

import (
	"net/url"
	"slices"
	"testing"

	"github.com/medguard/medguard/internal/dataflow"
	"github.com/medguard/medguard/internal/problem"
)

// FuzzDataflowForm feeds form bodies to the flow form's parser: it never panics, a
// failure is a problem naming a field, and what it takes holds known categories once
// each at levels 1–5 and positive source ids.
func FuzzDataflowForm(f *testing.F) {
	f.Add(dataflowPageForm(1, 2).Encode())
	f.Add("level_health=9&source_asset_ids=x")
	f.Add("level_personal=3&level_personal=4&source_asset_ids=1&source_asset_ids=1&org_id=-1")
	f.Fuzz(func(t *testing.T, body string) {
		v, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		in, err := dataflowFormInput(v)
		if err != nil {
			if p, ok := problem.As(err); !ok || p.Field == "" {
				t.Fatalf("not a field problem: %v", err)
			}
		}
		seen := map[string]bool{}
		for _, c := range in.Categories {
			if !slices.Contains(dataflow.Categories, c.Category) || c.Level < 1 || c.Level > 5 || seen[c.Category] {
				t.Fatalf("category %+v taken", c)
			}
			seen[c.Category] = true
		}
		for _, id := range in.SourceAssetIDs {
			if id <= 0 {
				t.Fatalf("source %d taken", id)
			}
		}
		if in.OrgID < 0 {
			t.Fatalf("org %d taken", in.OrgID)
		}
	})
}
