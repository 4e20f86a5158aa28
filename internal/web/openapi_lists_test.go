package web

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/asset"
	dlpsvc "github.com/medguard/medguard/internal/dlp/service"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
	"github.com/medguard/medguard/internal/supply"
)

// TestOpenAPIListConvention checks the served document: the paging parameters are
// shared components, typed and described; every collection route refers to them and
// answers the list envelope; every query parameter is typed and described, with the
// values of the filters that take a fixed set listed as an enum.
func TestOpenAPIListConvention(t *testing.T) {
	e := newTestEnv(t, storetest.Open(t, store.SQLite))
	code, body := e.api("GET", "/api/v1/openapi.json", "", nil)
	if code != http.StatusOK {
		t.Fatalf("openapi.json: %d", code)
	}
	var doc struct {
		Paths map[string]map[string]struct {
			Parameters []map[string]any `json:"parameters"`
			Responses  map[string]struct {
				Content map[string]struct {
					Schema map[string]any `json:"schema"`
				} `json:"content"`
			} `json:"responses"`
		} `json:"paths"`
		Comps struct {
			Schemas    map[string]map[string]any `json:"schemas"`
			Parameters map[string]map[string]any `json:"parameters"`
		} `json:"components"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Limit", "Offset", "Page", "PerPage"} {
		p := doc.Comps.Parameters[name]
		schema, _ := p["schema"].(map[string]any)
		if p == nil || p["in"] != "query" || schema["type"] != "integer" || p["description"] == "" || p["description"] == nil {
			t.Errorf("components/parameters/%s is missing, untyped or undescribed: %v", name, p)
		}
	}
	for pattern := range collectionPaths(&testEnv{}) {
		op, ok := doc.Paths[pattern]["get"]
		if !ok {
			t.Errorf("%s: no GET operation documented", pattern)
			continue
		}
		refs := map[string]bool{}
		for _, p := range op.Parameters {
			if r, ok := p["$ref"].(string); ok {
				refs[r] = true
			}
		}
		for _, want := range []string{"Limit", "Offset"} {
			if !refs["#/components/parameters/"+want] {
				t.Errorf("%s does not refer to the shared %s parameter", pattern, want)
			}
		}
		ref, _ := op.Responses["200"].Content["application/json"].Schema["$ref"].(string)
		schema := doc.Comps.Schemas[strings.TrimPrefix(ref, "#/components/schemas/")]
		props, _ := schema["properties"].(map[string]any)
		for _, k := range []string{"items", "total", "total_capped", "next"} {
			if _, ok := props[k]; !ok {
				t.Errorf("%s: response %s is not the list envelope (no %s)", pattern, ref, k)
			}
		}
	}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			for _, p := range op.Parameters {
				if p["$ref"] != nil || p["in"] != "query" {
					continue
				}
				schema, _ := p["schema"].(map[string]any)
				if schema["type"] == nil || p["description"] == nil || p["description"] == "" {
					t.Errorf("%s %s: query parameter %v is untyped or undescribed", method, path, p["name"])
				}
			}
		}
	}
	enums := map[string][]string{
		"/api/v1/assets kind":       asset.Kinds,
		"/api/v1/assets zone":       asset.Zones,
		"/api/v1/assets lifecycle":  asset.Lifecycles,
		"/api/v1/findings severity": supply.Severities,
		"/api/v1/dlp/scans kind":    {dlpsvc.KindText, dlpsvc.KindUpload, dlpsvc.KindJob, dlpsvc.KindCheck},
	}
	for k, want := range enums {
		path, name, _ := strings.Cut(k, " ")
		var got []any
		for _, p := range doc.Paths[path]["get"].Parameters {
			if p["name"] == name {
				got, _ = p["schema"].(map[string]any)["enum"].([]any)
			}
		}
		if len(got) != len(want) {
			t.Errorf("%s: enum %v, want %v", k, got, want)
		}
	}
}

// TestOpenAPISchemaNames checks that schema names read as the type they describe: no
// name repeats its package (AssetAsset) or carries a package that says nothing
// (ServiceResult, WebX), and each name stands for one type.
func TestOpenAPISchemaNames(t *testing.T) {
	doc := buildOpenAPI("test")
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	for _, want := range []string{"Asset", "User", "SupplyFinding", "DLPFinding", "AssetList", "SupplyFindingList", "TrailEntry", "IncidentEntry"} {
		if _, ok := schemas[want]; !ok {
			t.Errorf("no schema %q", want)
		}
	}
	types := schemaTypes()
	for name, typ := range types {
		label := strings.ToUpper(pkgBase(typ)[:1]) + pkgBase(typ)[1:]
		if strings.HasPrefix(name, label+label) || strings.Count(name, label) > strings.Count(typ.Name(), label)+1 {
			t.Errorf("schema %s (%v) repeats its package name", name, typ)
		}
		for _, bad := range []string{"Service", "Web", "Paging", "Envelope", "ListResponse"} {
			if strings.HasPrefix(name, bad) {
				t.Errorf("schema %s (%v) is named after a package or a generic, not what it is", name, typ)
			}
		}
		if strings.ContainsAny(name, "[]./") {
			t.Errorf("schema %s (%v) is not a plain name", name, typ)
		}
	}
	if len(types) != len(schemas) {
		t.Errorf("%d schema names for %d types", len(schemas), len(types))
	}
	if n := reflect.TypeOf(asset.Asset{}); types["Asset"] != n {
		t.Errorf("Asset names %v", types["Asset"])
	}
}

// pkgBase is the last element of t's package path.
func pkgBase(t reflect.Type) string {
	p := t.PkgPath()
	return p[strings.LastIndex(p, "/")+1:]
}
