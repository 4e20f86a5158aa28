package web

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/asset"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/trail"
)

// mlpsLevels are the MLPS levels offered in filters and forms (0 = not graded).
var mlpsLevels = []int{1, 2, 3, 4}

// orgOption is an organisation in a select box, indented by its depth in the tree.
type orgOption struct {
	ID    int64
	Label string
	Holds bool // a hospital or department, which can hold assets
}

// orgOptions lists the organisations a sees, in tree order.
func (s *Server) orgOptions(ctx context.Context, a actor.Actor) ([]orgOption, error) {
	nodes, err := s.Orgs.List(ctx, a)
	if err != nil {
		return nil, err
	}
	top := 0
	for i, n := range nodes {
		if d := n.Depth(); i == 0 || d < top {
			top = d
		}
	}
	out := make([]orgOption, 0, len(nodes))
	for _, n := range nodes {
		out = append(out, orgOption{ID: n.ID, Label: strings.Repeat("\u3000", n.Depth()-top) + n.Name,
			Holds: n.Kind == "hospital" || n.Kind == "department"})
	}
	return out, nil
}

// assetListData is what assets.html and its table fragment show.
type assetListData struct {
	Items      []asset.Asset
	Total      int
	Page       int
	Pages      int
	Query      asset.Query
	Orgs       []orgOption
	Kinds      []string
	Zones      []string
	Lifecycles []string
	Levels     []int
}

// descending lists the sort keys that also sort in reverse.
var descending = map[string]bool{"name": true, "code": true, "mlps_level": true, "updated_at": true}

func (d assetListData) sortKey() string {
	if d.Query.Sort == "" {
		return "name"
	}
	return d.Query.Sort
}

// NextSort is the sort a click on column key's header asks for: key, or its reverse
// when the list is already sorted by key.
func (d assetListData) NextSort(key string) string {
	if d.sortKey() == key && descending[key] {
		return "-" + key
	}
	return key
}

// SortMark is the arrow shown in column key's header.
func (d assetListData) SortMark(key string) string {
	switch d.sortKey() {
	case key:
		return "▲"
	case "-" + key:
		return "▼"
	}
	return ""
}

func (s *Server) uiAssetList(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	a := principalFrom(ctx).actor(r)
	p := s.newPage(r, w, "asset.list.title", "assets")
	d := assetListData{Kinds: asset.Kinds, Zones: asset.Zones, Lifecycles: asset.Lifecycles, Levels: mlpsLevels, Page: 1, Pages: 1}
	code := http.StatusOK
	q, err := parseAssetQuery(r)
	if err == nil {
		d.Query = q
		var pg asset.Page
		pg, err = s.Assets.List(ctx, a, q)
		if err == nil {
			d.Items, d.Total, d.Page = pg.Items, pg.Total, pg.Page
			if pg.PerPage > 0 {
				d.Pages = max(1, (pg.Total+pg.PerPage-1)/pg.PerPage)
			}
		}
	}
	if err != nil {
		// A bad filter shows the page with the message rather than an error page.
		pe, ok := problem.As(err)
		if !ok {
			return err
		}
		code = p.fail(pe)
	}
	if d.Orgs, err = s.orgOptions(ctx, a); err != nil {
		return err
	}
	p.Data = d
	w.Header().Add("Vary", "HX-Request")
	if r.Header.Get("HX-Request") == "true" && r.Header.Get("HX-History-Restore-Request") != "true" {
		return s.renderFragment(w, code, "assets.html", "assets_table", p)
	}
	return s.render(w, code, "assets.html", p)
}

// renderFragment executes one named template of a page without the layout (htmx swaps).
func (s *Server) renderFragment(w http.ResponseWriter, code int, page, name string, p *page) error {
	t, ok := s.tmpl.pages[page]
	if !ok {
		return fmt.Errorf("web: no template %q", page)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, p); err != nil {
		return fmt.Errorf("web: render %s/%s: %w", page, name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, err := buf.WriteTo(w)
	return err
}

// formField is a text input of the asset form.
type formField struct {
	Name     string
	Label    string // i18n key
	Type     string
	Value    string
	Max      int
	Required bool
}

// assetFormData is what asset_form.html shows.
type assetFormData struct {
	ID         int64 // 0 for a new asset
	In         asset.Input
	Tags       string
	Orgs       []orgOption
	Kinds      []string
	Zones      []string
	Lifecycles []string
	Levels     []int
	Main       fieldGroup
	Network    fieldGroup
	Product    fieldGroup
	Dates      fieldGroup
}

// fieldGroup is a run of text inputs, with the page for translations and the field at
// fault.
type fieldGroup struct {
	Page   *page
	Fields []formField
}

func (s *Server) assetFormData(ctx context.Context, a actor.Actor, p *page, id int64, in asset.Input, tags string) (assetFormData, error) {
	orgs, err := s.orgOptions(ctx, a)
	if err != nil {
		return assetFormData{}, err
	}
	f := func(name, typ, v string, max int, req bool) formField {
		return formField{Name: name, Label: "asset.field." + name, Type: typ, Value: v, Max: max, Required: req}
	}
	return assetFormData{
		ID: id, In: in, Tags: tags, Orgs: orgs,
		Kinds: asset.Kinds, Zones: asset.Zones, Lifecycles: asset.Lifecycles, Levels: mlpsLevels,
		Main: fieldGroup{p, []formField{
			f("code", "text", in.Code, asset.MaxCode, true),
			f("name", "text", in.Name, asset.MaxName, true),
			f("subtype", "text", in.Subtype, asset.MaxShort, false),
			f("owner", "text", in.Owner, asset.MaxShort, false),
			f("location", "text", in.Location, asset.MaxLocation, false),
		}},
		Network: fieldGroup{p, []formField{
			f("ip", "text", in.IP, 64, false),
			f("mac", "text", in.MAC, 32, false),
		}},
		Product: fieldGroup{p, []formField{
			f("vendor", "text", in.Vendor, asset.MaxShort, false),
			f("model", "text", in.Model, asset.MaxShort, false),
			f("serial", "text", in.Serial, asset.MaxShort, false),
		}},
		Dates: fieldGroup{p, []formField{
			f("procured_on", "date", in.ProcuredOn, 10, false),
			f("in_service_on", "date", in.InServiceOn, 10, false),
			f("retired_on", "date", in.RetiredOn, 10, false),
		}},
	}, nil
}

// assetForm reads the asset form. It returns what it could read even on error, so that
// the form can be shown again with the user's input.
func assetForm(r *http.Request) (asset.Input, string, error) {
	v := r.PostFormValue
	in := asset.Input{
		Code: v("code"), Name: v("name"), Kind: v("kind"), Subtype: v("subtype"), Owner: v("owner"),
		Location: v("location"), Zone: v("zone"), IP: v("ip"), MAC: v("mac"), Vendor: v("vendor"),
		Model: v("model"), Serial: v("serial"), Lifecycle: v("lifecycle"), ProcuredOn: v("procured_on"),
		InServiceOn: v("in_service_on"), RetiredOn: v("retired_on"), Notes: v("notes"),
	}
	tags := v("tags")
	in.Tags = asset.SplitTags(tags)
	var firstErr error
	keep := func(err error) {
		if firstErr == nil {
			firstErr = err
		}
	}
	if t := strings.TrimSpace(v("org_id")); t != "" {
		id, err := strconv.ParseInt(t, 10, 64)
		if err != nil || id <= 0 {
			keep(problem.Invalid("org_id", "organisation is required").WithMsg("error.msg.required"))
		}
		in.OrgID = id
	}
	if t := strings.TrimSpace(v("mlps_level")); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil {
			keep(problem.Invalid("mlps_level", "MLPS level must be 1 to 4 (or 0 when not graded)").WithMsg("asset.error.msg.mlps_level"))
		}
		in.MLPSLevel = n
	}
	if t := strings.TrimSpace(v("version")); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 0 {
			keep(problem.Invalid("version", "version must be a number").WithMsg("error.msg.not_integer"))
		}
		in.Version = n
	}
	return in, tags, firstErr
}

// showAssetForm renders the new or edit form, with err's message when err is a problem.
func (s *Server) showAssetForm(w http.ResponseWriter, r *http.Request, id int64, in asset.Input, tags string, err error) error {
	title := "asset.new.title"
	if id != 0 {
		title = "asset.edit.title"
	}
	p := s.newPage(r, w, title, "assets")
	code := http.StatusOK
	if err != nil {
		pe, ok := problem.As(err)
		if !ok {
			return err
		}
		code = p.fail(pe)
	}
	d, ferr := s.assetFormData(r.Context(), principalFrom(r.Context()).actor(r), p, id, in, tags)
	if ferr != nil {
		return ferr
	}
	p.Data = d
	return s.render(w, code, "asset_form.html", p)
}

func (s *Server) uiAssetNew(w http.ResponseWriter, r *http.Request) error {
	in := asset.Input{Lifecycle: asset.LifecycleInService}
	if id, err := queryID(r, "org_id"); err == nil {
		in.OrgID = id
	}
	return s.showAssetForm(w, r, 0, in, "", nil)
}

func (s *Server) uiAssetCreate(w http.ResponseWriter, r *http.Request) error {
	in, tags, err := assetForm(r)
	if err != nil {
		return s.showAssetForm(w, r, 0, in, tags, err)
	}
	x, err := s.Assets.Create(r.Context(), principalFrom(r.Context()).actor(r), in)
	if err != nil {
		return s.showAssetForm(w, r, 0, in, tags, err)
	}
	return redirect(w, r, assetURL(x.ID)+"?flash=flash.asset_created")
}

func assetURL(id int64) string { return "/assets/" + strconv.FormatInt(id, 10) }

// assetShowData is what asset_show.html shows.
type assetShowData struct {
	Asset    asset.Asset
	Trail    []trail.Entry
	CanTrail bool
	Today    string
}

func (s *Server) uiAssetShow(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	return s.showAsset(w, r, id, nil)
}

// showAsset renders the asset page, with err's message when an action on it failed.
func (s *Server) showAsset(w http.ResponseWriter, r *http.Request, id int64, actionErr error) error {
	ctx := r.Context()
	a := principalFrom(ctx).actor(r)
	x, err := s.Assets.Get(ctx, a, id)
	if err != nil {
		return err
	}
	p := s.newPage(r, w, "asset.show.title", "assets")
	code := http.StatusOK
	if actionErr != nil {
		pe, ok := problem.As(actionErr)
		if !ok {
			return actionErr
		}
		code = p.fail(pe)
	}
	d := assetShowData{Asset: x, Today: time.Now().Format(asset.DateLayout), CanTrail: p.Can("trail.read")}
	if d.CanTrail {
		d.Trail, err = trail.List(ctx, s.DB, a, trail.Filter{ObjectType: "asset", ObjectID: strconv.FormatInt(id, 10), Limit: 100})
		if err != nil {
			return err
		}
	}
	p.Data = d
	return s.render(w, code, "asset_show.html", p)
}

func (s *Server) uiAssetEdit(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	x, err := s.Assets.Get(r.Context(), principalFrom(r.Context()).actor(r), id)
	if err != nil {
		return err
	}
	return s.showAssetForm(w, r, id, asset.InputOf(x), strings.Join(x.Tags, "; "), nil)
}

func (s *Server) uiAssetUpdate(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	// An asset outside the caller's scope is not found, whatever the form holds.
	if _, err := s.Assets.Get(r.Context(), principalFrom(r.Context()).actor(r), id); err != nil {
		return err
	}
	in, tags, err := assetForm(r)
	if err == nil && in.Version == 0 {
		// The form always carries the version it was built from; without it a save
		// could silently overwrite someone else's change.
		err = problem.Invalid("version", "the form is incomplete; reload it and try again").WithMsg("error.msg.form_incomplete")
	}
	if err != nil {
		return s.showAssetForm(w, r, id, in, tags, err)
	}
	if _, err := s.Assets.Update(r.Context(), principalFrom(r.Context()).actor(r), id, in); err != nil {
		return s.showAssetForm(w, r, id, in, tags, err)
	}
	return redirect(w, r, assetURL(id)+"?flash=flash.asset_saved")
}

func (s *Server) uiAssetRetire(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if _, err := s.Assets.Retire(r.Context(), principalFrom(r.Context()).actor(r), id, r.PostFormValue("on")); err != nil {
		if _, ok := problem.As(err); ok && problem.KindOf(err) != problem.KindNotFound {
			return s.showAsset(w, r, id, err)
		}
		return err
	}
	return redirect(w, r, assetURL(id)+"?flash=flash.asset_retired")
}

func (s *Server) uiAssetDelete(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := s.Assets.Delete(r.Context(), principalFrom(r.Context()).actor(r), id); err != nil {
		if _, ok := problem.As(err); ok && problem.KindOf(err) != problem.KindNotFound {
			return s.showAsset(w, r, id, err)
		}
		return err
	}
	return redirect(w, r, "/assets?flash=flash.asset_deleted")
}

// importRow is a rejected row of an import, translated for the page.
type importRow struct {
	Line    int
	Field   string
	Message string
}

// assetImportData is what asset_import.html shows.
type assetImportData struct {
	Columns []asset.ColumnInfo // in the user's language
	Orgs    []orgOption
	OrgID   int64
	DryRun  bool
	Update  bool
	Report  *asset.ImportReport
	Errors  []importRow
}

func (s *Server) uiAssetImportForm(w http.ResponseWriter, r *http.Request) error {
	p := s.newPage(r, w, "asset.import.title", "assets")
	orgs, err := s.orgOptions(r.Context(), principalFrom(r.Context()).actor(r))
	if err != nil {
		return err
	}
	p.Data = assetImportData{Columns: asset.ColumnInfos(p.Lang), Orgs: orgs, DryRun: true}
	return s.render(w, http.StatusOK, "asset_import.html", p)
}

func (s *Server) uiAssetImport(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	a := principalFrom(ctx).actor(r)
	p := s.newPage(r, w, "asset.import.title", "assets")
	orgs, err := s.orgOptions(ctx, a)
	if err != nil {
		return err
	}
	d := assetImportData{Columns: asset.ColumnInfos(p.Lang), Orgs: orgs}
	code := http.StatusOK
	err = func() error {
		file, closeFile, err := importFile(w, r)
		if err != nil {
			return err
		}
		defer closeFile()
		if d.DryRun, err = parseBool("dry_run", r.FormValue("dry_run")); err != nil {
			return err
		}
		if d.Update, err = parseBool("update", r.FormValue("update")); err != nil {
			return err
		}
		if t := strings.TrimSpace(r.FormValue("org_id")); t != "" {
			if d.OrgID, err = strconv.ParseInt(t, 10, 64); err != nil || d.OrgID < 0 {
				return problem.Invalid("org_id", "organisation is not valid").WithMsg("error.msg.not_valid")
			}
		}
		rep, err := s.runImport(r, file, asset.ImportOptions{DefaultOrgID: d.OrgID, DryRun: d.DryRun, Update: d.Update})
		if err != nil {
			return err
		}
		d.Report = &rep
		for _, e := range rep.Errors {
			row := importRow{Line: e.Line, Field: e.Field, Message: e.Message}
			if e.Field != "" && s.I18n.Has(p.Lang, "asset.field."+e.Field) {
				row.Field = p.T("asset.field." + e.Field)
			}
			if msg := importMessage(p, e); msg != "" {
				row.Message = msg
			}
			d.Errors = append(d.Errors, row)
		}
		return nil
	}()
	if err != nil {
		pe, ok := problem.As(err)
		if !ok {
			return err
		}
		code = p.fail(pe)
	}
	p.Data = d
	return s.render(w, code, "asset_import.html", p)
}

// uiAssetExport writes the headers and values in the user's language, as the pages
// show them; the import reads them back.
func (s *Server) uiAssetExport(w http.ResponseWriter, r *http.Request) error {
	return s.exportAssets(w, r, s.newPage(r, nil, "", "").Lang)
}

// uiAssetImportTemplate downloads an empty import file: the header row in the user's
// language, UTF-8 with a byte-order mark as Excel and WPS expect.
func (s *Server) uiAssetImportTemplate(w http.ResponseWriter, r *http.Request) error {
	var buf bytes.Buffer
	buf.WriteString("\ufeff")
	cw := csv.NewWriter(&buf)
	if err := cw.Write(asset.Header(s.newPage(r, nil, "", "").Lang)); err != nil {
		return fmt.Errorf("web: import template: %w", err)
	}
	cw.Flush()
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="assets-template.csv"`)
	h.Set("Cache-Control", "no-store")
	_, err := w.Write(buf.Bytes())
	return err
}

// importMessage translates a rejected row's problem, naming columns by their labels in
// the page's language: header problems by their code, the others by the row's own
// catalogue message, else by a catalogue text of their code; "" keeps the importer's own
// (English) message.
func importMessage(p *page, e asset.RowError) string {
	sep := ", "
	if p.Lang == i18n.ZhCN {
		sep = "、"
	}
	labels := func(names []string) string {
		out := make([]string, len(names))
		for i, n := range names {
			out[i] = p.T("asset.field." + n)
		}
		return strings.Join(out, sep)
	}
	switch e.Code {
	case "unknown_column":
		pos := make([]string, len(e.Positions))
		for i, n := range e.Positions {
			pos[i] = strconv.Itoa(n)
		}
		return p.T("asset.import.error.unknown_column", strings.Join(pos, sep), strings.Join(asset.Header(p.Lang), sep))
	case "missing_column", "duplicate_column":
		return p.T("asset.import.error."+e.Code, labels(e.Columns))
	}
	if e.Msg != nil && p.s.I18n.Has(p.Lang, e.Msg.Key) {
		return p.s.I18n.Render(p.Lang, *e.Msg)
	}
	if e.Code == "" || e.Code == "invalid" {
		return ""
	}
	for _, area := range []string{"asset.import.", "asset.", ""} {
		if key := area + "error." + e.Code; p.s.I18n.Has(p.Lang, key) {
			return p.T(key)
		}
	}
	return ""
}
