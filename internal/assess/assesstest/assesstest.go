// Package assesstest gives the tests of the assessments a small control catalogue
// ("mini-mlps", a few MLPS level-3 items with their automatic checks) in the shape the
// catalogue adapter gives, so that they do not depend on the embedded catalogues.
package assesstest

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/medguard/medguard/internal/assess"
)

//go:embed catalogue.json
var catalogueJSON []byte

type node struct {
	ID       string            `json:"id"`
	Title    map[string]string `json:"title"`
	Text     map[string]string `json:"text"`
	Checks   []string          `json:"checks"`
	Children []node            `json:"children"`
}

// Catalogues is the fixture catalogue adapter.
type Catalogues struct {
	items map[string][]assess.Item
}

// New reads the fixture; it panics on a broken fixture.
func New() *Catalogues {
	var raw map[string][]node
	if err := json.Unmarshal(catalogueJSON, &raw); err != nil {
		panic(fmt.Sprintf("assesstest: %v", err))
	}
	c := &Catalogues{items: map[string][]assess.Item{}}
	for name, roots := range raw {
		var walk func(n node, parents []assess.Heading)
		walk = func(n node, parents []assess.Heading) {
			if len(n.Children) == 0 {
				c.items[name] = append(c.items[name], assess.Item{ID: n.ID, Title: n.Title, Text: n.Text, Checks: n.Checks,
					Parents: slices.Clone(parents)})
				return
			}
			for _, ch := range n.Children {
				walk(ch, append(parents, assess.Heading{ID: n.ID, Title: n.Title}))
			}
		}
		for _, r := range roots {
			walk(r, nil)
		}
	}
	return c
}

// Names implements assess.Catalogues.
func (c *Catalogues) Names() []string {
	out := make([]string, 0, len(c.items))
	for n := range c.items {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// Items implements assess.Catalogues.
func (c *Catalogues) Items(name string) ([]assess.Item, error) {
	it, ok := c.items[name]
	if !ok {
		return nil, fmt.Errorf("assesstest: no catalogue %q", name)
	}
	return it, nil
}
