package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/asset"
	"github.com/medguard/medguard/internal/auth"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// assetEnv is the shared test server (newTestEnv) seen by the it_ops user of hospital
// A: a write token, a read-only token and a signed-in browser. Hospital B's asset
// (e.AssetB) must never reach that user.
type assetEnv struct {
	*testEnv
	readTok string
	ops     *browser
}

func newAssetEnv(t *testing.T, db *store.DB) *assetEnv {
	t.Helper()
	te := newTestEnv(t, db)
	ro, _, err := te.Auth.CreateToken(context.Background(), actor.System(), te.Users["itops"].ID, "read-only", auth.ScopeRead, 0)
	if err != nil {
		t.Fatalf("read token: %v", err)
	}
	e := &assetEnv{testEnv: te, readTok: ro, ops: te.newBrowser()}
	e.ops.login("itops")
	return e
}

// call makes an API request with the it_ops write token (tok "" ), another token, or
// none (tok "-"), and returns status, body and headers.
func (e *assetEnv) call(method, path, tok string, body io.Reader, contentType string) (int, []byte, http.Header) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	switch tok {
	case "":
		req.Header.Set("Authorization", "Bearer "+e.Tokens["itops"])
	case "-":
	default:
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return do(e.t, http.DefaultClient, req)
}

// apiJSON calls the API as it_ops with v encoded as the JSON body (none when nil).
func (e *assetEnv) apiJSON(method, path string, v any) (int, []byte) {
	e.t.Helper()
	var body io.Reader
	if v != nil {
		b, err := json.Marshal(v)
		if err != nil {
			e.t.Fatal(err)
		}
		body = bytes.NewReader(b)
	}
	code, b, _ := e.call(method, path, "", body, "application/json")
	return code, b
}

// page makes a request with browser b (its session cookie, and its CSRF token on POST
// forms) and extra headers.
func (e *assetEnv) page(b *browser, method, path string, form url.Values, hdr map[string]string) (int, string, http.Header) {
	e.t.Helper()
	var body io.Reader
	if form != nil {
		if _, ok := form["csrf"]; !ok {
			form.Set("csrf", b.csrf)
		}
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, e.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	code, out, h := do(e.t, b.client, req)
	return code, string(out), h
}

func do(t *testing.T, c *http.Client, req *http.Request) (int, []byte, http.Header) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b, resp.Header
}

// wantAPIError checks the JSON error envelope.
func wantAPIError(t *testing.T, code int, body []byte, wantStatus int, wantCode string) {
	t.Helper()
	if code != wantStatus {
		t.Fatalf("status = %d, want %d; body %s", code, wantStatus, body)
	}
	var eb struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
			Field   string `json:"field"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &eb); err != nil {
		t.Fatalf("error body is not JSON: %v: %s", err, body)
	}
	if eb.Error.Code != wantCode || eb.Error.Message == "" {
		t.Fatalf("error = %+v, want code %q with a message", eb.Error, wantCode)
	}
}

func decodeAsset(t *testing.T, b []byte) asset.Asset {
	t.Helper()
	var x asset.Asset
	if err := json.Unmarshal(b, &x); err != nil {
		t.Fatalf("decode asset: %v: %s", err, b)
	}
	return x
}

func decodeList(t *testing.T, b []byte) listResponse[asset.Asset] {
	t.Helper()
	var l listResponse[asset.Asset]
	if err := json.Unmarshal(b, &l); err != nil {
		t.Fatalf("decode list: %v: %s", err, b)
	}
	return l
}

func codesOf(items []asset.Asset) string {
	var cs []string
	for _, x := range items {
		cs = append(cs, x.Code)
	}
	return strings.Join(cs, ",")
}

func TestAssetAPILifecycle(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newAssetEnv(t, db)
		in := asset.Input{OrgID: e.DeptA.ID, Code: "SRV-001", Name: "HIS 数据库服务器", Kind: "server", Zone: "internal",
			MLPSLevel: 3, IP: "10.0.0.8", Tags: []string{"核心", "HIS"}}
		code, b := e.apiJSON("POST", "/api/v1/assets", in)
		if code != http.StatusCreated {
			t.Fatalf("create: %d %s", code, b)
		}
		x := decodeAsset(t, b)
		if x.ID == 0 || x.Version != 1 || x.OrgName != "Radiology A" || x.Lifecycle != "in_service" {
			t.Fatalf("created = %+v", x)
		}
		path := "/api/v1/assets/" + strconv.FormatInt(x.ID, 10)

		code, b = e.apiJSON("GET", path, nil)
		if code != http.StatusOK || decodeAsset(t, b).Code != "SRV-001" {
			t.Fatalf("get: %d %s", code, b)
		}

		// Update with the version read succeeds; replaying the same version is stale.
		in.Version, in.Name = 1, "HIS 主数据库服务器"
		code, b = e.apiJSON("PUT", path, in)
		if code != http.StatusOK || decodeAsset(t, b).Version != 2 || decodeAsset(t, b).Name != in.Name {
			t.Fatalf("update: %d %s", code, b)
		}
		in.Name = "lost update"
		code, b = e.apiJSON("PUT", path, in)
		wantAPIError(t, code, b, http.StatusConflict, "stale_version")
		code, b = e.apiJSON("GET", path, nil)
		if got := decodeAsset(t, b); code != http.StatusOK || got.Name == "lost update" || got.Version != 2 {
			t.Fatalf("stale update was applied: %+v", got)
		}

		code, b = e.apiJSON("POST", path+"/retire", map[string]string{"on": "2026-01-31"})
		if got := decodeAsset(t, b); code != http.StatusOK || got.Lifecycle != "retired" || got.RetiredOn != "2026-01-31" {
			t.Fatalf("retire: %d %s", code, b)
		}
		code, b = e.apiJSON("POST", path+"/retire", nil)
		wantAPIError(t, code, b, http.StatusConflict, "already_retired")

		code, b = e.apiJSON("DELETE", path, nil)
		if code != http.StatusNoContent || len(b) != 0 {
			t.Fatalf("delete: %d %s", code, b)
		}
		code, b = e.apiJSON("GET", path, nil)
		wantAPIError(t, code, b, http.StatusNotFound, "not_found")

		// Retire with no body at all uses today.
		code, b = e.apiJSON("POST", "/api/v1/assets", asset.Input{OrgID: e.DeptA.ID, Code: "WS-1", Name: "护士站工作站", Kind: "workstation", Zone: "internal"})
		if code != http.StatusCreated {
			t.Fatalf("create: %d %s", code, b)
		}
		ws := decodeAsset(t, b)
		code, b, _ = e.call("POST", "/api/v1/assets/"+strconv.FormatInt(ws.ID, 10)+"/retire", "", nil, "")
		if got := decodeAsset(t, b); code != http.StatusOK || got.RetiredOn != time.Now().Format(asset.DateLayout) {
			t.Fatalf("retire without body: %d %s", code, b)
		}
	})
}

func TestAssetAPIErrors(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newAssetEnv(t, db)
		secret := "/api/v1/assets/" + strconv.FormatInt(e.AssetB.ID, 10)
		valid := `{"org_id":` + strconv.FormatInt(e.DeptA.ID, 10) + `,"code":"X-1","name":"n","kind":"server","zone":"dmz"}`
		tests := []struct {
			name, method, path, tok, body string
			status                        int
			code                          string
		}{
			{"malformed JSON", "POST", "/api/v1/assets", "", `{"code":`, 400, "bad_json"},
			{"unknown field", "POST", "/api/v1/assets", "", `{"code":"a","colour":"red"}`, 400, "bad_json"},
			{"wrong type", "POST", "/api/v1/assets", "", `{"mlps_level":"three"}`, 400, "bad_json"},
			{"trailing data", "POST", "/api/v1/assets", "", valid + `{}`, 400, "bad_json"},
			{"invalid kind", "POST", "/api/v1/assets", "", strings.Replace(valid, `"server"`, `"toaster"`, 1), 400, "invalid"},
			{"other hospital's org", "POST", "/api/v1/assets", "", strings.Replace(valid, strconv.FormatInt(e.DeptA.ID, 10), strconv.FormatInt(e.HospB.ID, 10), 1), 404, "not_found"},
			{"other hospital's asset", "GET", secret, "", "", 404, "not_found"},
			{"update other hospital's asset", "PUT", secret, "", valid, 404, "not_found"},
			{"delete other hospital's asset", "DELETE", secret, "", "", 404, "not_found"},
			{"retire other hospital's asset", "POST", secret + "/retire", "", "", 404, "not_found"},
			{"bad id", "GET", "/api/v1/assets/abc", "", "", 404, "not_found"},
			{"bad filter", "GET", "/api/v1/assets?kind=toaster", "", "", 400, "invalid"},
			{"bad mlps", "GET", "/api/v1/assets?mlps_level=x", "", "", 400, "invalid"},
			{"bad sort", "GET", "/api/v1/assets?sort=password", "", "", 400, "invalid"},
			{"filter by other hospital", "GET", "/api/v1/assets?org_id=" + strconv.FormatInt(e.HospB.ID, 10), "", "", 404, "not_found"},
			{"no credentials", "GET", "/api/v1/assets", "-", "", 401, "unauthorized"},
			{"read-only token writes", "POST", "/api/v1/assets", e.readTok, valid, 403, "read_only_token"},
			{"bad import flag", "POST", "/api/v1/assets/import?dry_run=maybe", "", "code,name\n", 400, "invalid"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				var body io.Reader
				if tc.body != "" {
					body = strings.NewReader(tc.body)
				}
				code, b, _ := e.call(tc.method, tc.path, tc.tok, body, "application/json")
				if tc.code == "unauthorized" {
					// The exact code belongs to the auth layer; the envelope and status are ours.
					var eb errorBody
					if code != tc.status || json.Unmarshal(b, &eb) != nil || eb.Error.Code == "" {
						t.Fatalf("status %d body %s", code, b)
					}
				} else {
					wantAPIError(t, code, b, tc.status, tc.code)
				}
				if bytes.Contains(b, []byte("B-001")) || bytes.Contains(b, []byte("PACS archive B")) {
					t.Fatalf("response leaks the other hospital's asset: %s", b)
				}
			})
		}
	})
}

func TestAssetAPIList(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newAssetEnv(t, db)
		mk := func(code, name, kind, zone string, mlps int, tags ...string) {
			t.Helper()
			c, b := e.apiJSON("POST", "/api/v1/assets", asset.Input{OrgID: e.DeptA.ID, Code: code, Name: name, Kind: kind,
				Zone: zone, MLPSLevel: mlps, Tags: tags})
			if c != http.StatusCreated {
				t.Fatalf("create %s: %d %s", code, c, b)
			}
		}
		mk("A1", "HIS 应用服务器", "server", "internal", 3, "HIS")
		mk("A2", "EMR 电子病历系统", "business_system", "internal", 3)
		mk("A3", "互联网医院 App", "internet_app", "dmz", 2, "对外")
		mk("A4", "CT 扫描仪", "medical_device", "medical", 0)
		mk("A5", "LIS 数据库服务器", "server", "internal", 2)

		dept := "?org_id=" + strconv.FormatInt(e.DeptA.ID, 10)
		tests := []struct {
			name, query string
			want        string
			total       int
		}{
			{"all, by name (byte order)", dept, "A4,A2,A1,A5,A3", 5},
			{"by code descending", dept + "&sort=-code", "A5,A4,A3,A2,A1", 5},
			{"kind", dept + "&kind=server&sort=code", "A1,A5", 2},
			{"zone", dept + "&zone=dmz", "A3", 1},
			{"mlps", dept + "&mlps_level=3&sort=code", "A1,A2", 2},
			{"search", dept + "&q=his", "A1", 1},
			{"search Chinese", dept + "&q=数据库", "A5", 1},
			{"tag", dept + "&tag=对外", "A3", 1},
			{"hospital subtree", "?org_id=" + strconv.FormatInt(e.HospA.ID, 10) + "&sort=code&per_page=2", "A-001,A1", 6},
			{"whole scope, second page", "?sort=code&per_page=2&page=2", "A2,A3", 6},
			{"past the end", "?sort=code&per_page=2&page=9", "", 6},
			{"other hospital's code", "?q=B-001", "", 0},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				code, b, _ := e.call("GET", "/api/v1/assets"+tc.query, e.readTok, nil, "")
				if code != http.StatusOK {
					t.Fatalf("status %d: %s", code, b)
				}
				l := decodeList(t, b)
				if got := codesOf(l.Items); got != tc.want || l.Total != tc.total {
					t.Fatalf("items %q total %d, want %q total %d", got, l.Total, tc.want, tc.total)
				}
				if l.Items == nil || bytes.Contains(b, []byte("B-001")) {
					t.Fatalf("items null or leak: %s", b)
				}
			})
		}
	})
}

const importCSV = "code,name,kind,zone,mlps_level,tags\n" +
	"IMP-1,导入服务器一,server,internal,3,核心\n" +
	"IMP-2,导入监护仪,medical_device,medical,,\n" +
	"IMP-3,坏行,toaster,internal,,\n"

func TestAssetAPIImportExport(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newAssetEnv(t, db)
		org := strconv.FormatInt(e.DeptA.ID, 10)
		report := func(code int, b []byte) asset.ImportReport {
			t.Helper()
			if code != http.StatusOK {
				t.Fatalf("import: %d %s", code, b)
			}
			var r asset.ImportReport
			if err := json.Unmarshal(b, &r); err != nil {
				t.Fatal(err)
			}
			return r
		}
		count := func() int {
			_, b, _ := e.call("GET", "/api/v1/assets?q=IMP-", "", nil, "")
			return decodeList(t, b).Total
		}

		code, b, _ := e.call("POST", "/api/v1/assets/import?dry_run=true&org_id="+org, "", strings.NewReader(importCSV), "text/csv")
		r := report(code, b)
		if r.Rows != 3 || r.Created != 2 || r.Rejected != 1 || len(r.Errors) != 1 || r.Errors[0].Line != 4 || r.Errors[0].Field != "kind" {
			t.Fatalf("dry run report = %+v", r)
		}
		if n := count(); n != 0 {
			t.Fatalf("dry run wrote %d assets", n)
		}

		// The same file as a multipart upload, for real.
		var mp bytes.Buffer
		mw := multipart.NewWriter(&mp)
		fw, _ := mw.CreateFormFile("file", "assets.csv")
		fw.Write([]byte(importCSV))
		mw.Close()
		code, b, _ = e.call("POST", "/api/v1/assets/import?org_id="+org, "", &mp, mw.FormDataContentType())
		if r := report(code, b); r.Created != 2 || r.Rejected != 1 {
			t.Fatalf("import report = %+v", r)
		}
		if n := count(); n != 2 {
			t.Fatalf("after import: %d assets, want 2", n)
		}

		// Multipart without the file field.
		var empty bytes.Buffer
		mw = multipart.NewWriter(&empty)
		mw.WriteField("other", "x")
		mw.Close()
		code, b, _ = e.call("POST", "/api/v1/assets/import", "", &empty, mw.FormDataContentType())
		wantAPIError(t, code, b, http.StatusBadRequest, "file_required")

		code, b, h := e.call("GET", "/api/v1/assets/export?kind=server", e.readTok, nil, "")
		if code != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") ||
			!strings.HasPrefix(h.Get("Content-Disposition"), "attachment;") {
			t.Fatalf("export: %d %v", code, h)
		}
		text := strings.TrimPrefix(string(b), "\ufeff")
		if !strings.HasPrefix(text, strings.Join(asset.Columns, ",")+"\n") && !strings.HasPrefix(text, strings.Join(asset.Columns, ",")+"\r\n") {
			t.Fatalf("export header: %q", text[:min(len(text), 200)])
		}
		if !strings.Contains(text, "IMP-1") || strings.Contains(text, "IMP-2") || strings.Contains(text, "B-001") {
			t.Fatalf("export content wrong:\n%s", text)
		}

		// A refused export is an ordinary JSON error, not a download.
		code, b, h = e.call("GET", "/api/v1/assets/export?zone=moon", "", nil, "")
		wantAPIError(t, code, b, http.StatusBadRequest, "invalid")
		if h.Get("Content-Disposition") != "" {
			t.Fatalf("error response is an attachment: %v", h)
		}
	})
}

func TestAPIDashboard(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newAssetEnv(t, db)
		for i, kind := range []string{"server", "server", "medical_device"} {
			c, b := e.apiJSON("POST", "/api/v1/assets", asset.Input{OrgID: e.DeptA.ID, Code: fmt.Sprint("D", i), Name: "n", Kind: kind, Zone: "internal"})
			if c != http.StatusCreated {
				t.Fatalf("create: %d %s", c, b)
			}
		}
		code, b, _ := e.call("GET", "/api/v1/dashboard", e.readTok, nil, "")
		if code != http.StatusOK {
			t.Fatalf("dashboard: %d %s", code, b)
		}
		var d dashboardResponse
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatal(err)
		}
		// Three new assets and A-001; hospital B's server must not be counted.
		if d.Assets.Total != 4 || d.Assets.ByKind[0] != (asset.Count{Key: "server", N: 3}) {
			t.Fatalf("stats = %+v", d.Assets)
		}
		if bytes.Contains(b, []byte("Hospital B")) {
			t.Fatalf("dashboard leaks hospital B: %s", b)
		}
	})
}

func TestAssetUI(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newAssetEnv(t, db)
		zh := map[string]string{"Accept-Language": "zh-CN,zh;q=0.9"}
		for _, in := range []asset.Input{
			{OrgID: e.DeptA.ID, Code: "UI-1", Name: "PACS 影像归档服务器", Kind: "server", Zone: "internal", MLPSLevel: 3},
			{OrgID: e.DeptA.ID, Code: "UI-2", Name: "输液泵", Kind: "medical_device", Zone: "medical"},
		} {
			if c, b := e.apiJSON("POST", "/api/v1/assets", in); c != http.StatusCreated {
				t.Fatalf("create: %d %s", c, b)
			}
		}

		t.Run("list", func(t *testing.T) {
			code, body, _ := e.page(e.ops, "GET", "/assets", nil, nil)
			mustContain(t, code, body, http.StatusOK, "PACS 影像归档服务器", "输液泵", `id="asset-filters"`, `hx-get="/assets"`)
			mustNotContain(t, body, "B-001", "PACS archive B")
		})
		t.Run("search narrows", func(t *testing.T) {
			code, body, _ := e.page(e.ops, "GET", "/assets?q=输液", nil, nil)
			mustContain(t, code, body, http.StatusOK, "输液泵")
			mustNotContain(t, body, "PACS 影像归档服务器", "B-001")
		})
		t.Run("htmx fragment", func(t *testing.T) {
			code, body, _ := e.page(e.ops, "GET", "/assets?kind=server", nil, map[string]string{"HX-Request": "true"})
			mustContain(t, code, body, http.StatusOK, "PACS 影像归档服务器", `id="asset-rows"`)
			mustNotContain(t, body, "<html", "输液泵", "asset-filters")
		})
		t.Run("bad filter shows the page with the message", func(t *testing.T) {
			code, body, _ := e.page(e.ops, "GET", "/assets?kind=toaster", nil, nil)
			mustContain(t, code, body, http.StatusBadRequest, `class="error"`, `id="asset-filters"`)
		})
		t.Run("Chinese labels", func(t *testing.T) {
			code, body, _ := e.page(e.ops, "GET", "/assets", nil, zh)
			mustContain(t, code, body, http.StatusOK, "资产台账", "服务器", "医疗设备", "医疗设备网", "第三级")
		})

		var id string
		t.Run("create", func(t *testing.T) {
			code, body, _ := e.page(e.ops, "GET", "/assets/new", nil, nil)
			mustContain(t, code, body, http.StatusOK, `name="code"`, `name="csrf"`, "Hospital A")
			mustNotContain(t, body, "Hospital B")

			// Invalid input comes back with what the user typed and the field marked.
			form := url.Values{"org_id": {strconv.FormatInt(e.DeptA.ID, 10)}, "code": {"UI-3"}, "name": {"核心交换机"},
				"kind": {"network"}, "zone": {"internal"}, "ip": {"999.1.1.1"}, "tags": {"核心; 机房"}}
			code, body, _ = e.page(e.ops, "POST", "/assets", form, nil)
			mustContain(t, code, body, http.StatusBadRequest, `value="核心交换机"`, `value="核心; 机房"`, `id="f-ip" name="ip" value="999.1.1.1"`, `aria-invalid="true"`)

			form.Set("ip", "10.9.9.9")
			code, _, h := e.page(e.ops, "POST", "/assets", form, nil)
			loc := h.Get("Location")
			if code != http.StatusSeeOther || !strings.HasSuffix(loc, "?flash=flash.asset_created") {
				t.Fatalf("create: %d %q", code, loc)
			}
			id = strings.TrimSuffix(strings.TrimPrefix(loc, "/assets/"), "?flash=flash.asset_created")
			code, body, _ = e.page(e.ops, "GET", loc, nil, nil)
			mustContain(t, code, body, http.StatusOK, "核心交换机", "10.9.9.9", `class="tag"`, `data-confirm=`)
			// it_ops may not read the trail, so the page has no history section.
			mustNotContain(t, body, `id="asset-history"`)
		})
		t.Run("missing CSRF is refused", func(t *testing.T) {
			req, _ := http.NewRequest("POST", e.URL+"/assets/"+id+"/delete", strings.NewReader(""))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if code, _, _ := do(t, e.ops.client, req); code != http.StatusForbidden {
				t.Fatalf("delete without CSRF: %d", code)
			}
		})
		t.Run("edit with a stale version", func(t *testing.T) {
			code, body, _ := e.page(e.ops, "GET", "/assets/"+id+"/edit", nil, nil)
			mustContain(t, code, body, http.StatusOK, `name="version" value="1"`, `value="核心交换机"`)
			form := url.Values{"org_id": {strconv.FormatInt(e.DeptA.ID, 10)}, "code": {"UI-3"}, "name": {"核心交换机 A"},
				"kind": {"network"}, "zone": {"internal"}, "version": {"1"}}
			code, _, h := e.page(e.ops, "POST", "/assets/"+id, form, nil)
			if code != http.StatusSeeOther || !strings.HasSuffix(h.Get("Location"), "flash=flash.asset_saved") {
				t.Fatalf("update: %d %v", code, h)
			}
			form.Set("name", "核心交换机 B")
			code, body, _ = e.page(e.ops, "POST", "/assets/"+id, form, nil)
			mustContain(t, code, body, http.StatusConflict, "Someone else changed this asset", `value="核心交换机 B"`)
			_, b := e.apiJSON("GET", "/api/v1/assets/"+id, nil)
			if decodeAsset(t, b).Name != "核心交换机 A" {
				t.Fatalf("stale form overwrote the asset: %s", b)
			}
		})
		t.Run("retire and delete", func(t *testing.T) {
			code, _, h := e.page(e.ops, "POST", "/assets/"+id+"/retire", url.Values{"on": {"2026-02-01"}}, nil)
			if code != http.StatusSeeOther || !strings.HasSuffix(h.Get("Location"), "flash=flash.asset_retired") {
				t.Fatalf("retire: %d %v", code, h)
			}
			code, body, _ := e.page(e.ops, "GET", "/assets/"+id, nil, nil)
			mustContain(t, code, body, http.StatusOK, "2026-02-01")
			mustNotContain(t, body, `id="asset-retire"`)

			// A security officer of the same hospital sees the asset's history.
			sec := e.newBrowser()
			sec.login("secofficer")
			code, body, _ = e.page(sec, "GET", "/assets/"+id, nil, nil)
			mustContain(t, code, body, http.StatusOK, `id="asset-history"`, "asset.create", "asset.update", "asset.retire", "itops")

			code, _, h = e.page(e.ops, "POST", "/assets/"+id+"/delete", url.Values{}, nil)
			if code != http.StatusSeeOther || h.Get("Location") != "/assets?flash=flash.asset_deleted" {
				t.Fatalf("delete: %d %v", code, h)
			}
			code, _, _ = e.page(e.ops, "GET", "/assets/"+id, nil, nil)
			if code != http.StatusNotFound {
				t.Fatalf("deleted asset page: %d", code)
			}
		})
		t.Run("other hospital's asset is not found", func(t *testing.T) {
			code, body, _ := e.page(e.ops, "GET", "/assets/"+strconv.FormatInt(e.AssetB.ID, 10), nil, nil)
			if code != http.StatusNotFound || strings.Contains(body, "B-001") {
				t.Fatalf("B's asset page: %d", code)
			}
		})
		t.Run("import", func(t *testing.T) {
			code, body, _ := e.page(e.ops, "GET", "/assets/import", nil, nil)
			mustContain(t, code, body, http.StatusOK, `enctype="multipart/form-data"`, `name="dry_run"`)
			var mp bytes.Buffer
			mw := multipart.NewWriter(&mp)
			mw.WriteField("csrf", e.ops.csrf)
			mw.WriteField("dry_run", "1")
			mw.WriteField("org_id", strconv.FormatInt(e.DeptA.ID, 10))
			fw, _ := mw.CreateFormFile("file", "a.csv")
			fw.Write([]byte(importCSV))
			mw.Close()
			req, _ := http.NewRequest("POST", e.URL+"/assets/import", &mp)
			req.Header.Set("Content-Type", mw.FormDataContentType())
			code, b, _ := do(t, e.ops.client, req)
			mustContain(t, code, string(b), http.StatusOK, `id="import-report"`, `id="import-errors"`, "<td>4</td>", "Dry-run result")
			_, lb, _ := e.call("GET", "/api/v1/assets?q=IMP", "", nil, "")
			if n := decodeList(t, lb).Total; n != 0 {
				t.Fatalf("dry run from the UI wrote %d assets", n)
			}
		})
		t.Run("export", func(t *testing.T) {
			code, body, h := e.page(e.ops, "GET", "/assets/export.csv?kind=medical_device", nil, nil)
			if code != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") {
				t.Fatalf("export: %d %v", code, h)
			}
			if !strings.Contains(body, "UI-2") || strings.Contains(body, "UI-1") || strings.Contains(body, "B-001") {
				t.Fatalf("export content:\n%s", body)
			}
		})
		t.Run("dashboard", func(t *testing.T) {
			code, body, _ := e.page(e.ops, "GET", "/", nil, zh)
			mustContain(t, code, body, http.StatusOK, "echarts-5.6.0.min.js", `id="chart-asset-kind"`, `data-chart="chart-asset-kind"`,
				`"label":"服务器"`, `id="kpi-total"`, `"horizontal":true`)
			mustNotContain(t, body, "Hospital B", "<script>")
		})
	})
}

func mustContain(t *testing.T, code int, body string, want int, subs ...string) {
	t.Helper()
	if code != want {
		t.Fatalf("status = %d, want %d; body:\n%s", code, want, body)
	}
	for _, s := range subs {
		if !strings.Contains(body, s) {
			t.Fatalf("body does not contain %q:\n%s", s, body)
		}
	}
}

func mustNotContain(t *testing.T, body string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if strings.Contains(body, s) {
			t.Fatalf("body contains %q but must not:\n%s", s, body)
		}
	}
}

// FuzzAssetInputJSON feeds arbitrary bodies to the decoder of the asset API: it must
// never panic, and every error must be a client-safe problem.
func FuzzAssetInputJSON(f *testing.F) {
	f.Add([]byte(`{"org_id":3,"code":"SRV-1","name":"HIS","kind":"server","zone":"internal","mlps_level":3,"tags":["a"],"version":2}`))
	f.Add([]byte(`{"code":`))
	f.Add([]byte(`[]`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, b []byte) {
		var in asset.Input
		err := decodeJSONFrom(bytes.NewReader(b), &in)
		if err == nil {
			// A decoded input must survive validation without panicking.
			_ = in.Validate()
			return
		}
		var pe *problem.Error
		if !errors.As(err, &pe) || pe.Kind != problem.KindInvalid {
			t.Fatalf("error %v (%T) is not an invalid-input problem", err, err)
		}
	})
}
