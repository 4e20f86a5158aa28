package assess

import (
	"fmt"

	"github.com/medguard/medguard/internal/control"
	"github.com/medguard/medguard/internal/i18n"
)

// ControlCatalogues adapts the catalogues embedded in the binary (package control: MLPS
// level 3, GB/T 39725, HIPAA) to Catalogues: every leaf of a catalogue is an item, with
// its ancestors as headings.
type ControlCatalogues struct{}

// Names lists the embedded catalogues.
func (ControlCatalogues) Names() []string {
	var out []string
	for _, c := range control.All() {
		out = append(out, c.Name)
	}
	return out
}

// Items lists the requirement items of catalogue name, in catalogue order.
func (ControlCatalogues) Items(name string) ([]Item, error) {
	c, ok := control.Get(name)
	if !ok {
		return nil, fmt.Errorf("assess: no catalogue %q", name)
	}
	text := func(t control.Text) map[string]string {
		return map[string]string{i18n.ZhCN: t.ZhCN, i18n.EN: t.EN}
	}
	var out []Item
	var path []Heading
	var walk func(ns []*control.Node)
	walk = func(ns []*control.Node) {
		for _, n := range ns {
			if len(n.Children) == 0 {
				out = append(out, Item{ID: n.ID, Title: text(n.Title), Text: text(n.Text), Checks: n.Checks,
					Parents: append([]Heading(nil), path...)})
				continue
			}
			path = append(path, Heading{ID: n.ID, Title: text(n.Title)})
			walk(n.Children)
			path = path[:len(path)-1]
		}
	}
	walk(c.Nodes)
	return out, nil
}
