package web

import (
	"net/http"
	"slices"

	"github.com/medguard/medguard/internal/control"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/problem"
)

// catalogueLang is the language asked for with ?lang=, else the caller's.
func (s *Server) catalogueLang(r *http.Request) (string, error) {
	lang := r.URL.Query().Get("lang")
	if lang == "" {
		return s.callerLang(r), nil
	}
	if !slices.Contains(i18n.Languages, lang) {
		return "", problem.Invalid("lang", "lang must be en or zh-CN").WithMsg("control.error.lang")
	}
	return lang, nil
}

// apiCatalogues lists the embedded control catalogues with their counts per level.
func (s *Server) apiCatalogues(w http.ResponseWriter, r *http.Request) error {
	lang, err := s.catalogueLang(r)
	if err != nil {
		return err
	}
	out := []control.CatalogueView{}
	for _, c := range control.All() {
		out = append(out, c.Summary(lang))
	}
	return writeJSON(w, http.StatusOK, out)
}

// apiCatalogue returns one catalogue as a tree, each node with its cross-mapped references.
func (s *Server) apiCatalogue(w http.ResponseWriter, r *http.Request) error {
	lang, err := s.catalogueLang(r)
	if err != nil {
		return err
	}
	c, ok := control.Get(r.PathValue("name"))
	if !ok {
		return problem.NotFound("catalogue").WithMsg("control.error.not_found")
	}
	return writeJSON(w, http.StatusOK, c.View(lang, control.Builtin()))
}

func init() {
	lang := map[string]qdoc{"lang": oneOf("Language of titles and texts (default: the caller's)", i18n.Languages)}
	apiDocs["GET /api/v1/compliance/catalogues"] = apiOp{Summary: "The control catalogues (MLPS level 3, GB/T 39725-2020, HIPAA Security Rule) " +
		"with their source, what their author counted and the number of nodes at each level", Tag: "compliance",
		Response: []control.CatalogueView{}, Status: 200, Query: []string{"lang"}}
	opQueryDocs["GET /api/v1/compliance/catalogues"] = lang
	apiDocs["GET /api/v1/compliance/catalogues/{name}"] = apiOp{Summary: "One catalogue as a tree: each node with id, level, title, children " +
		"and, when set, text, required (HIPAA: false = addressable), checks (automatic evidence) and mapped (catalogue:id of the same " +
		"control elsewhere)", Tag: "compliance", Response: control.CatalogueView{}, Status: 200, Query: []string{"lang"}}
	opQueryDocs["GET /api/v1/compliance/catalogues/{name}"] = lang
}
