package assess

import "testing"

// TestControlCatalogues: the embedded catalogues reach the assessments whole — MLPS
// level 3's 211 items under their category and control point, with the automatic checks
// the catalogue names.
func TestControlCatalogues(t *testing.T) {
	t.Parallel()
	var c ControlCatalogues
	items, err := c.Items("mlps3")
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 211 {
		t.Errorf("mlps3: %d items, want 211", len(items))
	}
	checks := 0
	for _, it := range items {
		if len(it.Parents) != 2 || it.Title["zh-CN"] == "" || it.Text["en"] == "" {
			t.Errorf("item %s: parents %v, title %q, text %q", it.ID, it.Parents, it.Title["zh-CN"], it.Text["en"])
		}
		checks += len(it.Checks)
	}
	if checks == 0 {
		t.Error("no MLPS item names an automatic check")
	}
	if len(c.Names()) != 3 {
		t.Errorf("names %v, want the three embedded catalogues", c.Names())
	}
	if _, err := c.Items("nope"); err == nil {
		t.Error("an unknown catalogue was accepted")
	}
}
