package web

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/asset"
	dlpsvc "github.com/medguard/medguard/internal/dlp/service"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
	"github.com/medguard/medguard/internal/trail"
	"github.com/medguard/medguard/internal/vuln"
)

// Tests of what a first try at the pages tripped on (issue 12, point 9).

var (
	attrRe   = regexp.MustCompile(`([a-z_-]+)(?:="([^"]*)")?`)
	optionRe = regexp.MustCompile(`<option\b([^>]*)>`)
)

// formDefaults returns what the form with id sends when submitted as shown: each
// input's value, each select's selected (or first enabled) option, each textarea's text.
func formDefaults(t *testing.T, page, id string) url.Values {
	t.Helper()
	start := strings.Index(page, `id="`+id+`"`)
	if start < 0 {
		t.Fatalf("no form %q in page", id)
	}
	start = strings.LastIndex(page[:start], "<form")
	end := strings.Index(page[start:], "</form>")
	form := page[start : start+end]
	attrs := func(s string) map[string]string {
		m := map[string]string{}
		for _, a := range attrRe.FindAllStringSubmatch(s, -1) {
			m[a[1]] = html.UnescapeString(a[2])
		}
		return m
	}
	out := url.Values{}
	for _, el := range splitFields(form) {
		a := attrs(el.attrs)
		name, ok := a["name"]
		if !ok {
			continue
		}
		switch el.tag {
		case "input":
			if typ := a["type"]; (typ == "checkbox" || typ == "radio") && !strings.Contains(el.attrs, " checked") {
				continue
			}
			out.Add(name, a["value"])
		case "textarea":
			out.Add(name, html.UnescapeString(el.body))
		case "select":
			first, found := "", false
			for _, o := range optionRe.FindAllStringSubmatch(el.body, -1) {
				oa := attrs(o[1])
				if _, dis := oa["disabled"]; dis {
					continue
				}
				if !found {
					first, found = oa["value"], true
				}
				if _, sel := oa["selected"]; sel {
					first = oa["value"]
					break
				}
			}
			out.Add(name, first)
		}
	}
	return out
}

type htmlField struct{ tag, attrs, body string }

// splitFields finds the input, select and textarea elements of form.
func splitFields(form string) []htmlField {
	var out []htmlField
	re := regexp.MustCompile(`<(input|select|textarea)\b([^>]*)>`)
	for _, m := range re.FindAllStringSubmatchIndex(form, -1) {
		f := htmlField{tag: form[m[2]:m[3]], attrs: form[m[4]:m[5]]}
		if f.tag != "input" {
			closing := "</" + f.tag + ">"
			if k := strings.Index(form[m[1]:], closing); k >= 0 {
				f.body = form[m[1] : m[1]+k]
			}
		}
		out = append(out, f)
	}
	return out
}

// TestNewProductFormDefaultsSubmit: the new-product form, submitted as first shown with
// only a name filled in, creates the product (the defaults once paired "purchased" with
// "no vendor", which the service refuses).
func TestNewProductFormDefaultsSubmit(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newSupplyEnv(t, db)
		b := e.newBrowser()
		b.login("secofficer")
		code, page, _ := b.get("/supply/products")
		if code != http.StatusOK {
			t.Fatalf("products page: %d", code)
		}
		form := formDefaults(t, page, "product-form")
		if form.Get("org_id") == "" || form.Get("source") == "" {
			t.Fatalf("form defaults %v: want an organisation and a source", form)
		}
		form.Set("name", "首次提交的产品")
		code, body, h := b.post("/supply/products", form)
		if code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/supply/products/") {
			t.Fatalf("submit of the form as shown (%v): status %d location %q body %.400s", form, code, h.Get("Location"), body)
		}
		// Filtered by a vendor, the form offers that vendor's purchased product.
		_, page, _ = b.get("/supply/products?vendor_id=" + strconv.FormatInt(e.VendorA.ID, 10))
		form = formDefaults(t, page, "product-form")
		if form.Get("source") != "purchased" || form.Get("vendor_id") != strconv.FormatInt(e.VendorA.ID, 10) {
			t.Errorf("vendor-filtered form defaults %v: want purchased from vendor %d", form, e.VendorA.ID)
		}
		form.Set("name", "供应商产品")
		if code, body, h = b.post("/supply/products", form); code != http.StatusSeeOther {
			t.Fatalf("submit of the vendor-filtered form as shown (%v): status %d location %q body %.400s", form, code, h.Get("Location"), body)
		}
	})
}

// TestUploadPagesRedirectAfterPost: the page uploads (SBOM, delivery, advisory data)
// answer a success with 303 to a GET page (post/redirect/get), which shows the outcome
// on every reload without resubmitting; another user's reload of that address shows
// the page without the outcome.
func TestUploadPagesRedirectAfterPost(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newSupplyEnv(t, db)
		sec := e.newBrowser()
		sec.login("secofficer")
		vpath := "/supply/versions/" + strconv.FormatInt(e.VersionA.ID, 10)
		upload := func(b *browser, path string, parts ...mpPart) (int, string, http.Header) {
			t.Helper()
			b.get(path)
			mp, ct := multipartBody(t, append([]mpPart{{"csrf", "", []byte(b.csrf)}}, parts...)...)
			req, _ := http.NewRequest("POST", e.URL+path, mp)
			req.Header.Set("Content-Type", ct)
			code, out, h := do(t, b.client, req)
			return code, string(out), h
		}
		follow := func(b *browser, code int, body string, h http.Header, prefix string, want ...string) string {
			t.Helper()
			loc := h.Get("Location")
			if code != http.StatusSeeOther || !strings.HasPrefix(loc, prefix+"?outcome=") {
				t.Fatalf("status %d location %q, want 303 to %s?outcome=…; body %.300s", code, loc, prefix, body)
			}
			for range 2 { // a reload shows the same
				code, page, _ := b.get(loc)
				mustContain(t, code, page, http.StatusOK, want...)
			}
			return loc
		}

		code, body, h := upload(sec, vpath+"/sbom", mpPart{"sbom", "app-1.0.cdx.json", supplySBOM(t)})
		loc := follow(sec, code, body, h, vpath, `id="import-report"`, `id="report-findings"><b>3</b>`)
		other := e.newBrowser()
		other.login("admin")
		code, page, _ := other.get(loc)
		mustContain(t, code, page, http.StatusOK, `id="sbom-form"`)
		mustNotContain(t, page, `id="import-report"`)

		code, body, h = upload(sec, vpath+"/deliveries",
			mpPart{"manifest", "m.json", mustManifest(t, "1.0", fileOf("app.bin", []byte("x")))},
			mpPart{"files", "other.bin", []byte("x")})
		follow(sec, code, body, h, vpath, `id="delivery-result" class="error"`, "app.bin")

		adv, err := os.ReadFile("testdata/supply/osv-new/GHSA-test-0003.json")
		if err != nil {
			t.Fatal(err)
		}
		code, body, h = upload(other, "/supply/vulndb", mpPart{"file", "GHSA-test-0003.json", adv})
		follow(other, code, body, h, "/supply/vulndb", `id="vulndb-import-report"`, `id="vulndb-alerts"><b>2</b>`)
	})
}

// TestVulnDBPageNamesNoServerPath: the vulnerability-database page shows when the last
// import ran and the uploaded file's name, never a server path (a temporary directory's
// name once read "最近一次导入：later"), and explains in both languages how advisory
// data gets there.
func TestVulnDBPageNamesNoServerPath(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newSupplyEnv(t, db)
		tmp := filepath.Join(t.TempDir(), "later")
		if err := os.MkdirAll(tmp, 0o700); err != nil {
			t.Fatal(err)
		}
		adv, err := os.ReadFile("testdata/supply/osv-new/GHSA-test-0003.json")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(tmp, "GHSA-test-0003.json"), adv, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Vulns.Import(context.Background(), tmp, vuln.ImportOptions{}); err != nil {
			t.Fatal(err)
		}
		b := e.newBrowser()
		b.login("admin")
		zh := map[string]string{"Accept-Language": "zh-CN,zh;q=0.9"}
		ae := &assetEnv{testEnv: e}
		code, body, _ := ae.page(b, "GET", "/supply/vulndb", nil, zh)
		mustContain(t, code, body, http.StatusOK, `id="vulndb-last-import"`, "最近一次导入：2", `id="vulndb-howto"`, "all.zip", "medguard vulndb import")
		mustNotContain(t, body, tmp, os.TempDir(), "：later")
		code, body, _ = ae.page(b, "GET", "/supply/vulndb", nil, nil)
		mustContain(t, code, body, http.StatusOK, "Last import: 2", `id="vulndb-howto"`, "all.zip", "medguard vulndb import")
		mustNotContain(t, body, tmp, os.TempDir(), ": later")

		// An upload through the page is named by the uploaded file's name.
		b.get("/supply/vulndb")
		mp, ct := multipartBody(t, mpPart{"csrf", "", []byte(b.csrf)}, mpPart{"file", "PyPI-all.json", adv})
		req, _ := http.NewRequest("POST", e.URL+"/supply/vulndb", mp)
		req.Header.Set("Content-Type", ct)
		code, _, h := do(t, b.client, req)
		if code != http.StatusSeeOther {
			t.Fatalf("upload: %d", code)
		}
		code, body, _ = ae.page(b, "GET", h.Get("Location"), nil, nil)
		mustContain(t, code, body, http.StatusOK, "PyPI-all.json")
		mustNotContain(t, body, os.TempDir(), "medguard-vulndb-")
	})
}

// TestRevealAsksForAReason: revealing a raw patient value needs a reason (API body field
// and page form field "reason", required, at most dlpsvc.MaxRevealReason characters),
// which the reveal's trail entry keeps — never the value.
func TestRevealAsksForAReason(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newSupplyEnv(t, db)
		fid := strconv.FormatInt(e.DLPFindingA.ID, 10)
		path := "/api/v1/dlp/findings/" + fid + "/reveal"
		for _, body := range []any{nil, map[string]string{}, map[string]string{"reason": "   "},
			map[string]string{"reason": strings.Repeat("因", dlpsvc.MaxRevealReason+1)}} {
			code, out := e.api("POST", path, "privacy", body)
			if code != http.StatusBadRequest || !strings.Contains(string(out), `"field":"reason"`) || strings.Contains(string(out), dlpResidentID) {
				t.Errorf("reveal with %v: %d %s", body, code, out)
			}
		}
		code, out := e.api("POST", path, "privacy", map[string]string{"reason": "核对患者投诉 #42"})
		if code != http.StatusOK || !strings.Contains(string(out), dlpResidentID) {
			t.Fatalf("reveal with a reason: %d %s", code, out)
		}

		// The page asks for the reason in the reveal form, in both languages.
		b := e.newBrowser()
		b.login("privacy")
		ae := &assetEnv{testEnv: e}
		zh := map[string]string{"Accept-Language": "zh-CN,zh;q=0.9"}
		scan := "/dlp/scans/" + strconv.FormatInt(e.DLPScanA.ID, 10)
		code, body, _ := ae.page(b, "GET", scan, nil, nil)
		mustContain(t, code, body, http.StatusOK, `id="reveal-reason-`+fid+`"`, `name="reason"`, "required", `placeholder="Reason for revealing"`)
		code, body, _ = ae.page(b, "GET", scan, nil, zh)
		mustContain(t, code, body, http.StatusOK, `placeholder="查看原因"`)
		code, body, _ = ae.page(b, "POST", "/dlp/findings/"+fid+"/reveal", url.Values{"reason": {""}}, zh)
		mustContain(t, code, body, http.StatusBadRequest, `class="error"`, "请填写查看原始值的原因")
		mustNotContain(t, body, dlpResidentID)
		code, body, _ = ae.page(b, "POST", "/dlp/findings/"+fid+"/reveal", url.Values{"reason": {""}}, nil)
		mustContain(t, code, body, http.StatusBadRequest, "Give a reason for revealing the raw value")
		code, body, _ = ae.page(b, "POST", "/dlp/findings/"+fid+"/reveal", url.Values{"reason": {"医务处调查"}}, nil)
		mustContain(t, code, body, http.StatusOK, `id="dlp-revealed-value">`+dlpResidentID)

		es, err := trail.List(context.Background(), db, actor.System(), trail.Filter{Action: "dlp.reveal", Limit: 10})
		if err != nil || len(es) != 2 {
			t.Fatalf("reveal trail: %d entries, %v", len(es), err)
		}
		reasons := map[string]bool{}
		for _, en := range es {
			if strings.Contains(en.Summary, dlpResidentID) {
				t.Errorf("trail entry holds the value: %+v", en)
			}
			for _, r := range []string{"核对患者投诉 #42", "医务处调查"} {
				if strings.Contains(en.Summary, r) {
					reasons[r] = true
				}
			}
		}
		if len(reasons) != 2 {
			t.Errorf("trail entries %+v: want each reveal's reason", es)
		}
	})
}

// TestTrailFilterOffersActions: the trail's action filter offers the actions present in
// the entries the user sees, with their catalogue labels, instead of asking for codes.
func TestTrailFilterOffersActions(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db)
		ctx := context.Background()
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			_, err := e.Trail.Append(ctx, tx, actor.System(), trail.Event{Action: "test.only_b", ObjectType: "x", ObjectID: "1", OrgID: e.HospB.ID, Summary: "b"})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		b := e.newBrowser()
		b.login("admin")
		ae := &assetEnv{testEnv: e}
		code, body, _ := ae.page(b, "GET", "/trail", nil, nil)
		mustContain(t, code, body, http.StatusOK, `<select name="action" id="trail-action"`, `<option value="">All actions</option>`,
			`<option value="auth.login">Signed in (auth.login)</option>`, `<option value="asset.create">Asset created (asset.create)</option>`)
		mustNotContain(t, body, "test.only_b")
		code, body, _ = ae.page(b, "GET", "/trail?action=auth.login", nil, map[string]string{"Accept-Language": "zh-CN"})
		mustContain(t, code, body, http.StatusOK, `<option value="auth.login" selected>登录 (auth.login)</option>`, `<option value="">全部操作</option>`)
		// A prefix typed into the address stays the filter.
		code, body, _ = ae.page(b, "GET", "/trail?action=auth.", nil, nil)
		mustContain(t, code, body, http.StatusOK, `<option value="auth." selected>auth.…</option>`)
		// The regulator above both hospitals sees hospital B's action, uncatalogued: its code.
		r := e.newBrowser()
		r.login("regulator")
		code, body, _ = ae.page(r, "GET", "/trail", nil, nil)
		mustContain(t, code, body, http.StatusOK, `<option value="test.only_b">test.only_b</option>`)
	})
}

var kpiRe = regexp.MustCompile(`(?s)<a class="kpi" id="kpi-mlps3" href="([^"]+)"[^>]*><b>(\d+)</b>`)

// TestDashboardMLPSKPILinkCarriesItsFilter: the KPI "business systems at MLPS ≥ 3" links
// to a list with the filter that gives the same count (it once linked to every
// business system).
func TestDashboardMLPSKPILinkCarriesItsFilter(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db)
		for i, lvl := range []int{0, 2, 3, 3, 4} {
			if _, err := e.Assets.Create(context.Background(), actor.System(), asset.Input{OrgID: e.HospA.ID, Code: "SYS-" + strconv.Itoa(i),
				Name: "system " + strconv.Itoa(i), Kind: asset.KindBusinessSystem, Zone: "internal", Lifecycle: "in_service", MLPSLevel: lvl}); err != nil {
				t.Fatal(err)
			}
		}
		b := e.newBrowser()
		b.login("admin")
		code, page, _ := b.get("/")
		m := kpiRe.FindStringSubmatch(page)
		if code != http.StatusOK || m == nil {
			t.Fatalf("dashboard: %d, no kpi-mlps3 link", code)
		}
		if m[2] != "3" {
			t.Errorf("KPI says %s systems at MLPS ≥ 3, want 3", m[2])
		}
		link, err := url.Parse(html.UnescapeString(m[1]))
		if err != nil || link.Path != "/assets" {
			t.Fatalf("KPI link %q", m[1])
		}
		code, body := e.api("GET", "/api/v1/assets?"+link.RawQuery, "admin", nil)
		var pg struct{ Total int }
		if code != http.StatusOK || json.Unmarshal(body, &pg) != nil {
			t.Fatalf("list behind the KPI: %d %s", code, body)
		}
		if strconv.Itoa(pg.Total) != m[2] {
			t.Errorf("KPI says %s, its link %q lists %d", m[2], m[1], pg.Total)
		}
		code, page, _ = b.get(link.String())
		mustContain(t, code, page, http.StatusOK, `name="mlps_min" value="3"`, "MLPS level ≥ 3")
	})
}

var linkedAssetRe = regexp.MustCompile(`<li><a href="/assets/\d+">`)

// TestVersionAndProductPagesAgreeOnAssets: a product's page counts a version's linked
// assets as the version's page lists them (the product page once said 0: the version
// list did not load the links).
func TestVersionAndProductPagesAgreeOnAssets(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newSupplyEnv(t, db)
		b := e.newBrowser()
		b.login("secofficer")
		vid := strconv.FormatInt(e.VersionA.ID, 10)
		code, vpage, _ := b.get("/supply/versions/" + vid)
		if code != http.StatusOK {
			t.Fatalf("version page: %d", code)
		}
		sec := vpage[strings.Index(vpage, `id="linked-assets"`):]
		sec = sec[:strings.Index(sec, "</section>")]
		listed := len(linkedAssetRe.FindAllString(sec, -1))
		if listed != 1 {
			t.Fatalf("version page lists %d assets, want 1", listed)
		}
		code, ppage, _ := b.get("/supply/products/" + strconv.FormatInt(e.ProductA.ID, 10))
		mustContain(t, code, ppage, http.StatusOK, `<td id="version-assets-`+vid+`"><a href="/supply/versions/`+vid+`#linked-assets">1</a></td>`)
	})
}
