package web

import (
	"net/http"
	"strings"

	"github.com/medguard/medguard/internal/control"
	"github.com/medguard/medguard/internal/problem"
)

// uiCatalogues lists the control catalogues with their counts.
func (s *Server) uiCatalogues(w http.ResponseWriter, r *http.Request) error {
	p := s.newPage(r, w, "control.list.title", "compliance")
	p.Sub = "catalogues"
	var views []control.CatalogueView
	for _, c := range control.All() {
		views = append(views, c.Summary(p.Lang))
	}
	p.Data = views
	return s.render(w, http.StatusOK, "catalogues.html", p)
}

type catalogueData struct {
	Cat   control.CatalogueView
	Nodes []uiNode
	Q     string
	Shown int // nodes shown after the filter
}

// uiNode is a node as the page shows it: required or addressable, mapped references
// as links to their catalogue's page.
type uiNode struct {
	control.NodeView
	Req   string // "required", "addressable" or ""
	Links []uiRef
	Kids  []uiNode
}

type uiRef struct{ Text, Href string }

func uiNodes(ns []control.NodeView) []uiNode {
	out := make([]uiNode, 0, len(ns))
	for _, n := range ns {
		u := uiNode{NodeView: n, Kids: uiNodes(n.Children)}
		if n.Required != nil {
			u.Req = map[bool]string{true: "required", false: "addressable"}[*n.Required]
		}
		for _, m := range n.Mapped {
			if ref, err := control.ParseRef(m); err == nil {
				u.Links = append(u.Links, uiRef{Text: m, Href: "/compliance/catalogues/" + ref.Catalogue + "#n-" + ref.ID})
			}
		}
		out = append(out, u)
	}
	return out
}

// uiCatalogue shows one catalogue's tree; ?q= keeps the nodes whose id, title or text
// holds the words, with their ancestors.
func (s *Server) uiCatalogue(w http.ResponseWriter, r *http.Request) error {
	c, ok := control.Get(r.PathValue("name"))
	if !ok {
		return problem.NotFound("catalogue").WithMsg("control.error.not_found")
	}
	p := s.newPage(r, w, "control.show.title", "compliance")
	p.Sub = "catalogues"
	d := catalogueData{Cat: c.View(p.Lang, control.Builtin()), Q: strings.TrimSpace(r.URL.Query().Get("q"))}
	if d.Q != "" {
		d.Cat.Nodes = filterNodes(d.Cat.Nodes, strings.ToLower(d.Q))
	}
	var count func(ns []control.NodeView)
	count = func(ns []control.NodeView) {
		for _, n := range ns {
			d.Shown++
			count(n.Children)
		}
	}
	count(d.Cat.Nodes)
	d.Nodes = uiNodes(d.Cat.Nodes)
	p.Data = d
	return s.render(w, http.StatusOK, "catalogue.html", p)
}

// filterNodes keeps the nodes that match q (lower case) with all their descendants, and
// the ancestors of matching nodes.
func filterNodes(ns []control.NodeView, q string) []control.NodeView {
	var out []control.NodeView
	for _, n := range ns {
		if strings.Contains(strings.ToLower(n.ID+" "+n.Title+" "+n.Text+" "+strings.Join(n.Checks, " ")), q) {
			out = append(out, n)
			continue
		}
		if kids := filterNodes(n.Children, q); len(kids) > 0 {
			n.Children = kids
			out = append(out, n)
		}
	}
	return out
}

// CatalogueTitle is the title of embedded catalogue name in the page's language (the
// name itself for a catalogue the binary does not hold).
func (p *page) CatalogueTitle(name string) string {
	if c, ok := control.Get(name); ok {
		return c.Title.In(p.Lang)
	}
	return name
}
