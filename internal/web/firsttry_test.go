package web

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
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
