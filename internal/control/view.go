package control

// NodeView is a node in one language, as the command line and the API print it.
type NodeView struct {
	ID       string     `json:"id"`
	Level    string     `json:"level"`
	Title    string     `json:"title"`
	Text     string     `json:"text,omitempty"`
	Required *bool      `json:"required,omitempty"`
	Checks   []string   `json:"checks,omitempty"`
	Mapped   []string   `json:"mapped,omitempty"`
	Children []NodeView `json:"children"`
}

// CatalogueView is a catalogue in one language: its header, counts and tree.
type CatalogueView struct {
	// ID and Level make the catalogue the root node of its tree (id = name, level
	// "catalogue"), so that every node of `catalogue show --format json`, the root
	// included, has id, title, level and children.
	ID      string         `json:"id"`
	Level   string         `json:"level"`
	Name    string         `json:"name"`
	Title   string         `json:"title"`
	Source  string         `json:"source"`
	Version string         `json:"version"`
	Counted string         `json:"counted"`
	Levels  []string       `json:"levels"`
	Counts  map[string]int `json:"counts"`
	Nodes   []NodeView     `json:"children,omitempty"`
}

// Summary returns the catalogue's header and counts in lang, without the tree.
func (c *Catalogue) Summary(lang string) CatalogueView {
	return CatalogueView{ID: c.Name, Level: "catalogue", Name: c.Name, Title: c.Title.In(lang), Source: c.Source, Version: c.Version,
		Counted: c.Counted.In(lang), Levels: c.Levels, Counts: c.Counts()}
}

// View returns the catalogue in lang with its whole tree; each node lists the references
// s maps to it (s may be nil).
func (c *Catalogue) View(lang string, s *Set) CatalogueView {
	v := c.Summary(lang)
	var conv func(ns []*Node) []NodeView
	conv = func(ns []*Node) []NodeView {
		out := make([]NodeView, 0, len(ns))
		for _, n := range ns {
			nv := NodeView{ID: n.ID, Level: n.Level, Title: n.Title.In(lang), Text: n.Text.In(lang),
				Required: n.Required, Checks: n.Checks, Children: conv(n.Children)}
			if s != nil {
				for _, r := range s.Mapped(c.Name, n.ID) {
					nv.Mapped = append(nv.Mapped, r.String())
				}
			}
			out = append(out, nv)
		}
		return out
	}
	v.Nodes = conv(c.Nodes)
	return v
}
