package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"unicode"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/asset"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/supply"
)

// Colours of severities, licence verdicts and gate outcomes in the risk view's charts.
var supplyColours = map[string]string{
	"critical": "#8b1a10", "high": "#d9480f", "medium": "#e8a200", "low": "#0b6e99", "none": "#8fa3b5", "unknown": "#b0b8c1",
	"allowed": "#067647", "review": "#e8a200", "denied": "#b42318",
	"passed": "#067647", "failed": "#b42318",
	"open": "#d9480f", "accepted": "#e8a200", "false_positive": "#8fa3b5", "fixed": "#067647",
}

// supplyPage prepares a page of the supply-chain section; sub names its own navigation
// entry.
func (s *Server) supplyPage(r *http.Request, w http.ResponseWriter, title, sub string) *page {
	p := s.newPage(r, w, title, "supply")
	p.Sub = sub
	return p
}

// actionError shows err at the top of page p when it is a client-safe problem; it
// returns the status code to serve the page with, or the error itself when it is not a
// problem (the wrapper then logs it and answers 500).
func actionError(p *page, err error) (int, error) {
	if err == nil {
		return http.StatusOK, nil
	}
	pe, ok := problem.As(err)
	if !ok {
		return 0, err
	}
	return p.fail(pe), nil
}

// formID reads an optional positive id from a form field (0 when empty).
func formID(r *http.Request, name string) (int64, error) {
	v := strings.TrimSpace(r.FormValue(name))
	if v == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 0 {
		return 0, problem.Invalid(name, "%s is not valid", name).WithMsg("supply.error.msg.not_valid")
	}
	return id, nil
}

// supplyRiskData is what supply_risk.html shows.
type supplyRiskData struct {
	Risk   supply.RiskView
	Board  board
	Alerts []supply.Alert
}

func (s *Server) uiSupplyRisk(w http.ResponseWriter, r *http.Request) error {
	ctx, a := r.Context(), reqActor(r)
	p := s.supplyPage(r, w, "supply.risk.title", "risk")
	rv, err := s.Supply.Risk(ctx, a)
	if err != nil {
		return err
	}
	d := supplyRiskData{Risk: rv, Board: board{KPIs: []kpi{
		{ID: "kpi-open-findings", Label: "supply.kpi.open_findings", N: rv.OpenFindings, Link: "/supply/findings?state=open"},
		{ID: "kpi-open-alerts", Label: "supply.kpi.open_alerts", N: rv.OpenAlerts, Link: "/supply/alerts?open=1"},
		{ID: "kpi-products", Label: "supply.kpi.products", N: rv.Products, Link: "/supply/products"},
		{ID: "kpi-versions", Label: "supply.kpi.versions", N: rv.Versions, Link: "/supply/products"},
		{ID: "kpi-components", Label: "supply.kpi.components", N: rv.Components, Link: "/supply/products"},
		{ID: "kpi-vendors", Label: "supply.kpi.vendors", N: rv.Vendors, Link: "/supply/vendors"},
	}}}
	// items turns counts into chart items, translating keys under prefix ("" keeps the
	// label, a product or vendor name) and colouring them when coloured.
	items := func(cs []supply.Count, prefix string, coloured, skipZero bool) []chartItem {
		out := make([]chartItem, 0, len(cs))
		for _, c := range cs {
			if skipZero && c.N == 0 {
				continue
			}
			it := chartItem{Label: c.Label, N: c.N}
			if prefix != "" {
				it.Label = p.T(prefix + c.Key)
			}
			if coloured {
				it.Color = supplyColours[c.Key]
			}
			out = append(out, it)
		}
		return out
	}
	specs := []struct {
		id, title string
		spec      chartSpec
	}{
		{"supply-severity", "supply.chart.by_severity", chartSpec{Type: "pie", Items: items(rv.BySeverity, "supply.severity.", true, true)}},
		{"supply-state", "supply.chart.by_state", chartSpec{Type: "pie", Items: items(rv.ByState, "supply.state.", true, true)}},
		{"supply-product", "supply.chart.by_product", chartSpec{Type: "bar", Horizontal: true, Items: reversed(items(rv.ByProduct, "", false, false))}},
		{"supply-vendor", "supply.chart.by_vendor", chartSpec{Type: "bar", Horizontal: true, Items: reversed(items(rv.ByVendor, "", false, false))}},
		{"supply-licence", "supply.chart.by_licence", chartSpec{Type: "pie", Items: items(rv.ByLicence, "supply.verdict.", true, true)}},
		{"supply-age", "supply.chart.by_age", chartSpec{Type: "bar", Items: items(rv.ByAge, "supply.age.", false, false)}},
		{"supply-gates", "supply.chart.gates", chartSpec{Type: "pie", Items: items(rv.GateStatus, "supply.gate_status.", true, true)}},
	}
	for _, c := range specs {
		ch, err := makeChart(c.id, c.title, c.spec)
		if err != nil {
			return err
		}
		d.Board.Charts = append(d.Board.Charts, ch)
	}
	if d.Alerts, err = s.Supply.Alerts(ctx, a, true, 10); err != nil {
		return err
	}
	p.Data = d
	return s.render(w, http.StatusOK, "supply_risk.html", p)
}

// vendorForm reads the vendor form.
func vendorForm(r *http.Request) (supply.VendorInput, error) {
	v := r.PostFormValue
	in := supply.VendorInput{Name: v("name"), USCC: v("uscc"), ContactName: v("contact_name"), ContactPhone: v("contact_phone"),
		ContactEmail: v("contact_email"), Notes: v("notes")}
	var err error
	if in.Approved, err = parseBool("approved", v("approved")); err != nil {
		return in, err
	}
	in.OrgID, err = formID(r, "org_id")
	return in, err
}

// vendorListData is what supply_vendors.html shows.
type vendorListData struct {
	Vendors []supply.Vendor
	Orgs    []orgOption
	In      supply.VendorInput // the new-vendor form
	Failed  bool               // the new-vendor form was sent and refused
}

// showVendorList renders the vendor list with the new-vendor form holding in, and
// formErr's message when its submission was refused.
func (s *Server) showVendorList(w http.ResponseWriter, r *http.Request, in supply.VendorInput, formErr error) error {
	ctx, a := r.Context(), reqActor(r)
	p := s.supplyPage(r, w, "supply.vendors.title", "vendors")
	code, err := actionError(p, formErr)
	if err != nil {
		return err
	}
	d := vendorListData{In: in, Failed: formErr != nil}
	if d.Vendors, err = s.Supply.Vendors(ctx, a); err != nil {
		return err
	}
	if d.Orgs, err = s.orgOptions(ctx, a); err != nil {
		return err
	}
	p.Data = d
	return s.render(w, code, "supply_vendors.html", p)
}

func (s *Server) uiVendorList(w http.ResponseWriter, r *http.Request) error {
	return s.showVendorList(w, r, supply.VendorInput{OrgID: principalFrom(r.Context()).User.OrgID}, nil)
}

func (s *Server) uiVendorCreate(w http.ResponseWriter, r *http.Request) error {
	in, err := vendorForm(r)
	if err == nil {
		var v supply.Vendor
		if v, err = s.Supply.CreateVendor(r.Context(), reqActor(r), in); err == nil {
			return redirect(w, r, idPath("/supply/vendors/", v.ID)+"?flash=flash.vendor_created")
		}
	}
	return s.showVendorList(w, r, in, err)
}

// vendorShowData is what supply_vendor.html shows; the forms keep what the user typed
// when a submission was refused, and Open names the form to show unfolded.
type vendorShowData struct {
	supply.VendorDetail
	Edit     supply.VendorInput
	Contract contractRequest
	Key      vendorKeyRequest
	Open     string
}

// showVendor renders vendor id's page with the forms of d, and formErr's message when
// a form's submission was refused.
func (s *Server) showVendor(w http.ResponseWriter, r *http.Request, id int64, d vendorShowData, formErr error) error {
	ctx, a := r.Context(), reqActor(r)
	det, err := s.Supply.Vendor(ctx, a, id)
	if err != nil {
		return err
	}
	p := s.supplyPage(r, w, "supply.vendor.title", "vendors")
	code, err := actionError(p, formErr)
	if err != nil {
		return err
	}
	d.VendorDetail = det
	if formErr == nil || d.Open != "edit" {
		v := det.Vendor
		d.Edit = supply.VendorInput{OrgID: v.OrgID, Name: v.Name, USCC: v.USCC, ContactName: v.ContactName,
			ContactPhone: v.ContactPhone, ContactEmail: v.ContactEmail, Approved: v.Approved, Notes: v.Notes}
	}
	p.Data = d
	return s.render(w, code, "supply_vendor.html", p)
}

func (s *Server) uiVendorShow(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	return s.showVendor(w, r, id, vendorShowData{}, nil)
}

func (s *Server) uiVendorUpdate(w http.ResponseWriter, r *http.Request) error {
	id, err := s.visibleVendor(r)
	if err != nil {
		return err
	}
	in, err := vendorForm(r)
	if err == nil {
		if _, err = s.Supply.UpdateVendor(r.Context(), reqActor(r), id, in); err == nil {
			return redirect(w, r, idPath("/supply/vendors/", id)+"?flash=flash.vendor_saved")
		}
	}
	return s.showVendor(w, r, id, vendorShowData{Edit: in, Open: "edit"}, err)
}

func (s *Server) uiVendorContract(w http.ResponseWriter, r *http.Request) error {
	id, err := s.visibleVendor(r)
	if err != nil {
		return err
	}
	v := r.PostFormValue
	in := contractRequest{Title: v("title"), Number: v("number"), StartsOn: v("starts_on"), EndsOn: v("ends_on"), Notes: v("notes")}
	if _, err = s.Supply.AddContract(r.Context(), reqActor(r), id, supply.Contract{Title: in.Title, Number: in.Number,
		StartsOn: in.StartsOn, EndsOn: in.EndsOn, Notes: in.Notes}); err == nil {
		return redirect(w, r, idPath("/supply/vendors/", id)+"?flash=flash.contract_added#contracts")
	}
	return s.showVendor(w, r, id, vendorShowData{Contract: in, Open: "contract"}, err)
}

func (s *Server) uiVendorKey(w http.ResponseWriter, r *http.Request) error {
	id, err := s.visibleVendor(r)
	if err != nil {
		return err
	}
	in := vendorKeyRequest{Fingerprint: r.PostFormValue("fingerprint"), Label: r.PostFormValue("label")}
	if _, err = s.Supply.AddVendorKey(r.Context(), reqActor(r), id, in.Fingerprint, in.Label); err == nil {
		return redirect(w, r, idPath("/supply/vendors/", id)+"?flash=flash.key_added#keys")
	}
	return s.showVendor(w, r, id, vendorShowData{Key: in, Open: "key"}, err)
}

// productForm reads the product form.
func productForm(r *http.Request) (supply.ProductInput, error) {
	in := supply.ProductInput{Name: r.PostFormValue("name"), Source: r.PostFormValue("source"),
		Description: r.PostFormValue("description")}
	var err error
	if in.OrgID, err = formID(r, "org_id"); err != nil {
		return in, err
	}
	in.VendorID, err = formID(r, "vendor_id")
	return in, err
}

// productFormView is what the product form's fields show.
type productFormView struct {
	In      supply.ProductInput
	Vendors []supply.Vendor
	Sources []string
}

// productListData is what supply_products.html shows.
type productListData struct {
	Products []supply.Product
	Vendors  []supply.Vendor
	Orgs     []orgOption
	VendorID int64 // the vendor filter
	In       supply.ProductInput
	Form     productFormView
	Failed   bool
}

// showProductList renders the product list with the new-product form holding in, and
// formErr's message when its submission was refused.
func (s *Server) showProductList(w http.ResponseWriter, r *http.Request, in supply.ProductInput, formErr error) error {
	ctx, a := r.Context(), reqActor(r)
	p := s.supplyPage(r, w, "supply.products.title", "products")
	code, err := actionError(p, formErr)
	if err != nil {
		return err
	}
	d := productListData{In: in, Failed: formErr != nil}
	if d.VendorID, err = queryID(r, "vendor_id"); err != nil {
		return err
	}
	if d.Products, err = s.Supply.Products(ctx, a, supply.ProductQuery{VendorID: d.VendorID}); err != nil {
		return err
	}
	if d.Vendors, err = s.Supply.Vendors(ctx, a); err != nil {
		return err
	}
	if d.Orgs, err = s.orgOptions(ctx, a); err != nil {
		return err
	}
	d.Form = productFormView{In: in, Vendors: d.Vendors, Sources: supply.Sources}
	p.Data = d
	return s.render(w, code, "supply_products.html", p)
}

// uiProductList shows the product list. The new-product form's defaults agree with
// each other: built in-house with no vendor, or, when the list is filtered by a
// vendor, purchased from that vendor; either is accepted as shown.
func (s *Server) uiProductList(w http.ResponseWriter, r *http.Request) error {
	in := supply.ProductInput{OrgID: principalFrom(r.Context()).User.OrgID, Source: "self_built"}
	if v, err := queryID(r, "vendor_id"); err == nil && v > 0 {
		in.Source, in.VendorID = "purchased", v
	}
	return s.showProductList(w, r, in, nil)
}

func (s *Server) uiProductCreate(w http.ResponseWriter, r *http.Request) error {
	in, err := productForm(r)
	if err == nil {
		var p supply.Product
		if p, err = s.Supply.CreateProduct(r.Context(), reqActor(r), in); err == nil {
			return redirect(w, r, idPath("/supply/products/", p.ID)+"?flash=flash.product_created")
		}
	}
	return s.showProductList(w, r, in, err)
}

// versionRow is a version in a product's list with its open findings.
type versionRow struct {
	supply.Version
	OpenFindings int
}

// assetOption is an inventory asset in the asset picker.
type assetOption struct {
	ID       int64
	Code     string
	Name     string
	Selected bool
}

// versionForm is the add-version form, or what it held when it was refused.
type versionForm struct {
	Version    string
	ReleasedOn string
	Notes      string
	AssetRefs  string
}

// assetPicker is what the asset picker shows: the assets to choose from and the codes
// typed last time.
type assetPicker struct {
	Options []assetOption
	Refs    string
}

// productShowData is what supply_product.html shows.
type productShowData struct {
	Product  supply.Product
	Versions []versionRow
	Edit     supply.ProductInput
	EditForm productFormView
	New      versionForm
	Picker   assetPicker
	Open     string
}

// assetOptions lists the assets a may link to a version of a product of organisation
// orgID — those filed under it (the first 500 by code) — marking the selected ones.
func (s *Server) assetOptions(ctx context.Context, a actor.Actor, orgID int64, selected []int64) ([]assetOption, error) {
	pg, err := s.Assets.List(ctx, a, asset.Query{OrgID: orgID, Sort: "code", PerPage: asset.MaxPerPage})
	if err != nil {
		return nil, err
	}
	sel := map[int64]bool{}
	for _, id := range selected {
		sel[id] = true
	}
	out := make([]assetOption, 0, len(pg.Items))
	for _, x := range pg.Items {
		out = append(out, assetOption{ID: x.ID, Code: x.Code, Name: x.Name, Selected: sel[x.ID]})
	}
	return out, nil
}

// resolveAssets reads the asset picker: the ids chosen in the list ("asset_ids") and
// the codes or ids typed in the text field ("asset_refs", separated by commas, spaces
// or semicolons). A code must name exactly one asset in a's scope filed under organisation
// orgID, the product's.
func (s *Server) resolveAssets(ctx context.Context, a actor.Actor, orgID int64, r *http.Request) ([]int64, error) {
	var ids []int64
	seen := map[int64]bool{}
	add := func(id int64) {
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	for _, v := range r.PostForm["asset_ids"] {
		id, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || id <= 0 {
			return nil, problem.Invalid("asset_ids", "the asset selection is not valid").WithMsg("supply.error.msg.asset_selection")
		}
		add(id)
	}
	refs := strings.FieldsFunc(r.PostFormValue("asset_refs"), func(c rune) bool {
		return c == ',' || c == ';' || c == '，' || c == '；' || c == '、' || unicode.IsSpace(c)
	})
	if len(refs) > 200 {
		return nil, problem.Invalid("asset_ids", "name at most 200 assets at once").WithMsg("supply.error.msg.assets_at_most", 200)
	}
	for i, ref := range refs {
		pg, err := s.Assets.List(ctx, a, asset.Query{Q: ref, OrgID: orgID, PerPage: 50})
		if err != nil {
			return nil, err
		}
		var match []int64
		for _, x := range pg.Items {
			if strings.EqualFold(x.Code, ref) {
				match = append(match, x.ID)
			}
		}
		switch {
		case len(match) == 1:
			add(match[0])
		case len(match) > 1:
			return nil, problem.Invalid("asset_ids", "several assets have the code given as item %d; choose them in the list", i+1).WithMsg("supply.error.msg.asset_code_ambiguous", i+1)
		default:
			id, err := strconv.ParseInt(ref, 10, 64)
			if err != nil || id <= 0 {
				return nil, problem.Invalid("asset_ids", "no asset has the code given as item %d", i+1).WithMsg("supply.error.msg.asset_code_unknown", i+1)
			}
			add(id)
		}
	}
	return ids, nil
}

// showProduct renders product id's page with the forms of d, and formErr's message when
// a form's submission was refused.
func (s *Server) showProduct(w http.ResponseWriter, r *http.Request, id int64, d productShowData, formErr error) error {
	ctx, a := r.Context(), reqActor(r)
	prod, err := s.Supply.Product(ctx, a, id)
	if err != nil {
		return err
	}
	p := s.supplyPage(r, w, "supply.product.title", "products")
	code, err := actionError(p, formErr)
	if err != nil {
		return err
	}
	d.Product = prod
	if formErr == nil || d.Open != "edit" {
		d.Edit = supply.ProductInput{OrgID: prod.OrgID, VendorID: prod.VendorID, Name: prod.Name, Source: prod.Source,
			Description: prod.Description}
	}
	vs, err := s.Supply.Versions(ctx, a, id)
	if err != nil {
		return err
	}
	for _, v := range vs {
		pg, err := s.Supply.Findings(ctx, a, supply.FindingQuery{VersionID: v.ID, State: supply.StateOpen, Limit: 1})
		if err != nil {
			return err
		}
		d.Versions = append(d.Versions, versionRow{Version: v, OpenFindings: pg.Total})
	}
	if p.Can("supply.write") {
		vendors, err := s.Supply.Vendors(ctx, a)
		if err != nil {
			return err
		}
		d.EditForm = productFormView{In: d.Edit, Vendors: vendors, Sources: supply.Sources}
		var selected []int64
		if d.Open == "version" {
			// Keep what was chosen in the refused form; a code that did not resolve stays typed.
			for _, v := range r.PostForm["asset_ids"] {
				if id, err := strconv.ParseInt(v, 10, 64); err == nil {
					selected = append(selected, id)
				}
			}
			d.Picker.Refs = d.New.AssetRefs
		}
		if d.Picker.Options, err = s.assetOptions(ctx, a, prod.OrgID, selected); err != nil {
			return err
		}
	}
	p.Data = d
	return s.render(w, code, "supply_product.html", p)
}

func (s *Server) uiProductShow(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	return s.showProduct(w, r, id, productShowData{}, nil)
}

func (s *Server) uiProductUpdate(w http.ResponseWriter, r *http.Request) error {
	prod, err := s.visibleProduct(r)
	if err != nil {
		return err
	}
	in, err := productForm(r)
	if err == nil {
		if _, err = s.Supply.UpdateProduct(r.Context(), reqActor(r), prod.ID, in); err == nil {
			return redirect(w, r, idPath("/supply/products/", prod.ID)+"?flash=flash.product_saved")
		}
	}
	return s.showProduct(w, r, prod.ID, productShowData{Edit: in, Open: "edit"}, err)
}

func (s *Server) uiVersionCreate(w http.ResponseWriter, r *http.Request) error {
	prod, err := s.visibleProduct(r)
	if err != nil {
		return err
	}
	ctx, a := r.Context(), reqActor(r)
	f := versionForm{Version: r.PostFormValue("version"), ReleasedOn: r.PostFormValue("released_on"),
		Notes: r.PostFormValue("notes"), AssetRefs: r.PostFormValue("asset_refs")}
	ids, err := s.resolveAssets(ctx, a, prod.OrgID, r)
	if err == nil {
		var v supply.Version
		v, err = s.Supply.CreateVersion(ctx, a, prod.ID, supply.VersionInput{Version: f.Version, ReleasedOn: f.ReleasedOn,
			Notes: f.Notes, AssetIDs: ids})
		if err == nil {
			return redirect(w, r, idPath("/supply/versions/", v.ID)+"?flash=flash.version_created")
		}
	}
	return s.showProduct(w, r, prod.ID, productShowData{New: f, Open: "version"}, err)
}

// TOr translates key, or returns fallback when the catalogue has no such key (codes
// that come from other packages, such as SBOM warnings).
func (p *page) TOr(key, fallback string) string {
	if p.s.I18n.Has(p.Lang, key) {
		return p.T(key)
	}
	return fallback
}

// GateLabel is the name of a gate as the page shows it: built-in gates are translated.
func (p *page) GateLabel(name string) string {
	return p.TOr("supply.gate."+name, name)
}
