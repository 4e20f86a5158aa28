package web

import (
	"bytes"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// lockedBuffer is a log sink the server's handlers may write to concurrently.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// internalPrefixes are the package prefixes of parser errors, which a client must not see.
var internalPrefixes = []string{"licence:", "policy:", "yaml:", "json:", "sbom:", "delivery:", "dlp:", "asset:", "supply:"}

// TestErrorsDoNotEcho sends, to every route that parses a document or a JSON body, bad
// input carrying echoMarker (a resident ID number) where the parser would quote it, and
// checks that the answer names the place (line, column, field) without the marker or an
// internal package prefix, through the API and the pages in both languages; the cause
// goes to the log with the marker masked.
func TestErrorsDoNotEcho(t *testing.T) {
	e := newSupplyEnv(t, storetest.Open(t, store.SQLite))
	logs := &lockedBuffer{}
	e.srv.Logger = slog.New(slog.NewTextHandler(logs, nil))
	vid := strconv.FormatInt(e.VersionA.ID, 10)
	cdx := `{"bomFormat":"CycloneDX","specVersion":"1.5","version":1,"components":[]}`
	tagValue := "SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\nSPDXID: SPDXRef-DOCUMENT\n患者 " + echoMarker + "\n"
	manifest := string(mustManifest(t, "1.0", fileOf("app.bin", []byte("x"))))
	badManifest := strings.Replace(manifest, `"schema"`, `"`+echoMarker+`": 1, "schema"`, 1)

	api := []struct {
		name, method, path, contentType, body string
		want                                  []string
	}{
		{"JSON unknown field", "POST", "/api/v1/orgs", "application/json", `{"name":"x","` + echoMarker + `":1}`, []string{"bad_json", "line 1, column 13"}},
		{"JSON nested unknown field", "PUT", "/api/v1/gates", "application/json", `{"name":"g","rules":{"` + echoMarker + `":true}}`, []string{"bad_json", "$.rules"}},
		{"JSON number", "POST", "/api/v1/orgs", "application/json", `{"name":` + echoMarker + `}`, []string{"bad_json", `\"name\"`, "line 1, column"}},
		{"JSON trailing data", "POST", "/api/v1/orgs", "application/json", `{"name":"x"}` + "\n" + echoMarker, []string{"bad_json", "line 2, column 1"}},
		{"SBOM trailing data", "POST", "/api/v1/versions/" + vid + "/sbom", "application/json", cdx + "\n" + echoMarker + " Contact us", []string{"invalid_sbom", "line 2, column 1"}},
		{"SBOM check tag-value line", "POST", "/api/v1/sbom/check", "text/plain", tagValue, []string{"invalid_sbom", "line 4"}},
		{"SBOM spec version", "POST", "/api/v1/sbom/check", "application/json", `{"bomFormat":"CycloneDX","specVersion":"` + echoMarker + `"}`, []string{"invalid_sbom", "line 1"}},
		{"licence policy key", "PUT", "/api/v1/licence-policy", "application/yaml", "allow: [MIT]\n'" + echoMarker + "': x\n", []string{"line 2", "unknown key"}},
		{"licence policy entry", "PUT", "/api/v1/licence-policy", "application/yaml", "deny:\n  - " + echoMarker + "\n", []string{"line 2", "deny[0]"}},
		{"DLP policy pattern", "PUT", "/api/v1/dlp/policy", "application/json", `{"block_level":4,"alert_level":2,"unreadable":"block","custom":[{"name":"mrn","pattern":"(` + echoMarker + `"}]}`, []string{"custom.0.pattern"}},
		{"DLP policy unknown field", "PUT", "/api/v1/dlp/policy", "application/json", `{"custom":[{"name":"mrn","` + echoMarker + `":1}]}`, []string{"bad_json", "$.custom[0]"}},
		{"asset CSV header", "POST", "/api/v1/assets/import?dry_run=true", "text/csv", "code,name,kind,zone," + echoMarker + "\nX-1,x,server,internal,y\n", []string{"unknown_column", "position 5"}},
	}
	for _, tc := range api {
		t.Run("API "+tc.name, func(t *testing.T) {
			code, body, _ := e.raw(tc.method, tc.path, "admin", strings.NewReader(tc.body), tc.contentType)
			if code != http.StatusBadRequest && code != http.StatusOK {
				t.Fatalf("status %d: %s", code, body)
			}
			noEcho(t, string(body), tc.want...)
		})
	}
	t.Run("API delivery manifest", func(t *testing.T) {
		mp, ct := multipartBody(t, mpPart{"manifest", "m.json", []byte(badManifest)}, mpPart{"files", "app.bin", []byte("x")})
		code, body, _ := e.raw("POST", "/api/v1/versions/"+vid+"/deliveries", "admin", mp, ct)
		if code != http.StatusBadRequest {
			t.Fatalf("status %d: %s", code, body)
		}
		noEcho(t, string(body), "invalid_manifest", "line 2, column 3: unknown field in the manifest")
	})

	// The pages translate the message's frame and keep the place.
	for _, lang := range []string{"en", "zh-CN"} {
		t.Run("page SBOM "+lang, func(t *testing.T) {
			b := e.newBrowser()
			b.login("admin")
			b.post("/lang", map[string][]string{"lang": {lang}})
			b.get("/supply/versions/" + vid)
			mp, ct := multipartBody(t, mpPart{"csrf", "", []byte(b.csrf)}, mpPart{"sbom", "x.spdx", []byte(tagValue)})
			req, _ := http.NewRequest("POST", e.URL+"/supply/versions/"+vid+"/sbom", mp)
			req.Header.Set("Content-Type", ct)
			code, out, _ := do(t, b.client, req)
			if code != http.StatusBadRequest {
				t.Fatalf("status %d", code)
			}
			want := "Please check"
			if lang == "zh-CN" {
				want = "请检查"
			}
			noEcho(t, errorText(t, string(out)), want, "line 4")
		})
		t.Run("page licence policy "+lang, func(t *testing.T) {
			b := e.newBrowser()
			b.login("admin")
			b.post("/lang", map[string][]string{"lang": {lang}})
			b.get("/supply/licence-policy")
			code, out, _ := b.post("/supply/licence-policy", map[string][]string{"allow": {"MIT\n" + echoMarker}})
			if code != http.StatusBadRequest {
				t.Fatalf("status %d: %.500s", code, out)
			}
			// The form keeps what was typed; the error names the line only.
			noEcho(t, errorText(t, out), "allow[1]")
		})
	}

	log := logs.String()
	if !strings.Contains(log, "cause=") {
		t.Errorf("no cause was logged:\n%s", log)
	}
	if strings.Contains(log, echoMarker) {
		t.Errorf("the log shows the resident ID in clear:\n%s", log)
	}
}

// errorRe finds the error message of a page.
var errorRe = regexp.MustCompile(`(?s)<p class="error"[^>]*>(.*?)</p>`)

// errorText returns the error message of a page.
func errorText(t *testing.T, page string) string {
	t.Helper()
	m := errorRe.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("the page shows no error: %.3000s", page)
	}
	return m[1]
}

// noEcho fails when body holds echoMarker or an internal package prefix, or lacks want.
func noEcho(t *testing.T, body string, want ...string) {
	t.Helper()
	if strings.Contains(body, echoMarker) {
		t.Errorf("the answer quotes what was sent: %.2000s", body)
	}
	for _, p := range internalPrefixes {
		// "cyclonedx-json:" names a format, not a package.
		if regexp.MustCompile(`(^|[^\w-])` + regexp.QuoteMeta(p)).MatchString(body) {
			t.Errorf("the answer has the internal prefix %q: %.2000s", p, body)
		}
	}
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("the answer lacks %q: %.2000s", w, body)
		}
	}
}

// TestConflictsDoNotEcho creates a record twice with a name carrying echoMarker (a
// vendor, a product version, an account) and names a missing asset by such a code: the
// refusals say what clashed without quoting the name that was sent.
func TestConflictsDoNotEcho(t *testing.T) {
	e := newSupplyEnv(t, storetest.Open(t, store.SQLite))
	pid := strconv.FormatInt(e.ProductA.ID, 10)
	twice := []struct {
		name, path string
		body       map[string]any
		want       string
	}{
		{"vendor", "/api/v1/vendors", map[string]any{"name": "患者" + echoMarker + "供应商"}, "duplicate_name"},
		{"version", "/api/v1/products/" + pid + "/versions", map[string]any{"version": "1." + echoMarker}, "duplicate_version"},
		{"user", "/api/v1/users", map[string]any{"username": "u" + echoMarker, "role": "auditor",
			"org_id": e.HospA.ID, "password": "a-Long-passphrase-2026!"}, "username_taken"},
	}
	for _, tc := range twice {
		t.Run(tc.name, func(t *testing.T) {
			code, body := e.api("POST", tc.path, "admin", tc.body)
			if code != http.StatusCreated {
				t.Fatalf("first create: status %d: %s", code, body)
			}
			code, body = e.api("POST", tc.path, "admin", tc.body)
			if code != http.StatusConflict {
				t.Fatalf("second create: status %d, want 409: %s", code, body)
			}
			noEcho(t, string(body), tc.want)
		})
	}
	t.Run("asset code", func(t *testing.T) {
		b := e.newBrowser()
		b.login("admin")
		vid := strconv.FormatInt(e.VersionA.ID, 10)
		b.get("/supply/versions/" + vid)
		code, out, _ := b.post("/supply/versions/"+vid+"/assets", map[string][]string{"asset_refs": {"X-" + echoMarker}})
		if code != http.StatusBadRequest {
			t.Fatalf("status %d: %.500s", code, out)
		}
		noEcho(t, errorText(t, out))
	})
}
