package web

import (
	"html"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/delivery"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/sbom"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
	"github.com/medguard/medguard/internal/vuln"
)

// TestSupplyDLPMessagesInChinese submits invalid vendor, product and version forms, a
// broken and a doubtful SBOM, and invalid DLP policies with a zh-CN browser: each page
// says what is wrong in Chinese, not in the English kept for the API and the log.
func TestSupplyDLPMessagesInChinese(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newSupplyEnv(t, db)
		ae := &assetEnv{testEnv: e}
		zh := map[string]string{"Accept-Language": "zh-CN,zh;q=0.9"}
		id := func(n int64) string { return strconv.FormatInt(n, 10) }
		sec := e.newBrowser()
		sec.login("secofficer")
		post := func(path string, form url.Values) string {
			t.Helper()
			code, body, _ := ae.page(sec, "POST", path, form, zh)
			if code != http.StatusBadRequest {
				t.Fatalf("POST %s: status %d, want 400:\n%s", path, code, body)
			}
			return errorText(t, body)
		}
		upload := func(path string, parts ...mpPart) string {
			t.Helper()
			sec.get(path)
			mp, ct := multipartBody(t, append([]mpPart{{"csrf", "", []byte(sec.csrf)}}, parts...)...)
			req, _ := http.NewRequest("POST", e.URL+path, mp)
			req.Header.Set("Content-Type", ct)
			req.Header.Set("Accept-Language", "zh-CN")
			code, body, _ := do(t, sec.client, req)
			if code != http.StatusBadRequest {
				t.Fatalf("upload to %s: status %d, want 400:\n%s", path, code, body)
			}
			return errorText(t, string(body))
		}
		versionURL := "/supply/versions/" + id(e.VersionA.ID)

		tests := []struct {
			name      string
			got       func() string
			want, not []string
		}{
			{"vendor e-mail", func() string {
				return post("/supply/vendors", url.Values{"org_id": {id(e.HospA.ID)}, "name": {"东软"}, "contact_email": {"nobody"}})
			}, []string{"请检查“", "不是有效的电子邮件地址"}, []string{"is not an e-mail address", "nobody"}},
			{"vendor key", func() string {
				return post("/supply/vendors/"+id(e.VendorA.ID)+"/keys", url.Values{"fingerprint": {"not-hex"}})
			}, []string{"必须是 SHA-256 指纹"}, []string{"must be a SHA-256", "not-hex"}},
			{"product with another hospital's vendor", func() string {
				return post("/supply/products", url.Values{"org_id": {id(e.HospA.ID)}, "vendor_id": {id(e.VendorB.ID)}, "name": {"电子病历"}, "source": {"purchased"}})
			}, []string{"供应商不存在"}, []string{"no such vendor", vendorBName}},
			{"version with an unknown asset code", func() string {
				return post("/supply/products/"+id(e.ProductA.ID)+"/versions", url.Values{"version": {"9.9"}, "asset_refs": {"NO-SUCH"}})
			}, []string{"没有资产使用第 1 项的编号"}, []string{"no asset has the code", "NO-SUCH"}},
			{"broken SBOM", func() string {
				return upload(versionURL+"/sbom", mpPart{"sbom", "broken.json", []byte(`{"bomFormat":"CycloneDX","components":[{`)})
			}, []string{"请检查“SBOM”", "无法读取 SBOM："}, []string{"Please check"}},
			{"broken delivery manifest", func() string {
				m := `{"schema":"` + delivery.SchemaV1 + `","delivered_at":"2026-01-01T00:00:00Z","artifacts":[{"name":"a","size":-1,"sha256":"` + strings.Repeat("a", 64) + `"}]}`
				return upload(versionURL+"/deliveries", mpPart{"manifest", "m.json", []byte(m)}, mpPart{"files", "a", []byte("x")})
			}, []string{"请检查“交付清单", "无法读取交付清单：artifacts[0].size"}, []string{"Please check"}},
			{"empty SBOM", func() string {
				return upload(versionURL+"/sbom", mpPart{"sbom", "empty.json", nil})
			}, []string{"请选择 SBOM 文件"}, []string{"the file is empty", "Choose"}},
			{"DLP policy line without a pattern", func() string {
				return post("/dlp/policy", url.Values{"block_level": {"4"}, "alert_level": {"2"}, "unreadable": {"alert"}, "custom": {"justaname"}})
			}, []string{"请检查“本院标识符”", "第 1 行：请按"}, []string{"write name | pattern", "justaname"}},
			{"DLP policy bad identifier name", func() string {
				return post("/dlp/policy", url.Values{"block_level": {"4"}, "alert_level": {"2"}, "unreadable": {"alert"}, "custom": {"Bad Name | ZY\\d{7}"}})
			}, []string{"请检查“本院标识符”", "第 1 个标识符的名称", "须为 2–40 个小写字母"}, []string{"custom.0", "lower-case letters", "Bad Name"}},
			{"DLP policy bad pattern", func() string {
				return post("/dlp/policy", url.Values{"block_level": {"4"}, "alert_level": {"2"}, "unreadable": {"alert"},
					"custom": {"ward_no | ZY\\d{7} | 床号\ninpatient_no | ZY(\\d{7}"}})
			}, []string{"第 2 个标识符的正则表达式", "不是有效的正则表达式"}, []string{"custom.1", "regular expression", "ZY("}},
			{"DLP policy level", func() string {
				return post("/dlp/policy", url.Values{"block_level": {"x"}, "alert_level": {"2"}, "unreadable": {"alert"}})
			}, []string{"请选择级别"}, []string{"choose a level"}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				got := tc.got()
				for _, w := range tc.want {
					if !containsText(got, w) {
						t.Errorf("error %q does not say %q", got, w)
					}
				}
				for _, n := range tc.not {
					if containsText(got, n) {
						t.Errorf("error %q says %q", got, n)
					}
				}
			})
		}

		// A readable SBOM with doubtful parts: the import report's warnings are in
		// Chinese, without the English sentences kept for the API.
		t.Run("SBOM warnings", func(t *testing.T) {
			doc := `{"bomFormat":"CycloneDX","specVersion":"1.5","version":1,"components":[
			  {"type":"library","bom-ref":"a","name":"a","version":"1","purl":"pkg:pypi"},
			  {"type":"library","bom-ref":"b","name":"b","version":"1","purl":"pkg:pypi/b@1","licenses":[{"expression":"MIT AND AND"}]}],
			  "dependencies":[{"ref":"a","dependsOn":["zzz"]}]}`
			sec.get(versionURL)
			mp, ct := multipartBody(t, mpPart{"csrf", "", []byte(sec.csrf)}, mpPart{"sbom", "doubtful.cdx.json", []byte(doc)})
			req, _ := http.NewRequest("POST", e.URL+versionURL+"/sbom", mp)
			req.Header.Set("Content-Type", ct)
			code, _, h := do(t, sec.client, req)
			if code != http.StatusSeeOther {
				t.Fatalf("import: %d", code)
			}
			code, body, _ := ae.page(sec, "GET", h.Get("Location"), nil, zh)
			mustContain(t, code, body, http.StatusOK, `id="report-warnings"`, "软件包 URL（purl）无效", "不是有效的 SPDX 表达式", "依赖指向文档中不存在的组件")
			mustNotContain(t, body, "has an invalid purl", "is not a valid SPDX expression", "dependency on unknown ref")
		})

		// An advisory upload with a broken record: the import report says why it was
		// skipped in Chinese, the parser's own words only as the detail.
		t.Run("advisory upload notes", func(t *testing.T) {
			adm := e.newBrowser()
			adm.login("admin")
			adm.get("/supply/vulndb")
			mp, ct := multipartBody(t, mpPart{"csrf", "", []byte(adm.csrf)},
				mpPart{"file", "npm-all.zip", zipOf(t, map[string][]byte{"broken.json": []byte(`{"id":`)})})
			req, _ := http.NewRequest("POST", e.URL+"/supply/vulndb", mp)
			req.Header.Set("Content-Type", ct)
			code, _, h := do(t, adm.client, req)
			if code != http.StatusSeeOther {
				t.Fatalf("advisory upload: %d", code)
			}
			code, body, _ := ae.page(adm, "GET", h.Get("Location"), nil, zh)
			mustContain(t, code, body, http.StatusOK, `id="vulndb-skipped"`, "npm-all.zip!broken.json", "不是有效的 OSV 记录：")
		})
	})
}

// TestImportNotesCatalogued fails when an SBOM warning code or an advisory import note
// code has no text in a catalogue: the import reports would show its English message
// to every reader.
func TestImportNotesCatalogued(t *testing.T) {
	cat := i18n.MustLoad()
	keys := []string{}
	for _, code := range []string{sbom.WarnMissingPURL, sbom.WarnInvalidPURL, sbom.WarnUnknownDependencyRef, sbom.WarnDuplicateRef,
		sbom.WarnInvalidLicense, sbom.WarnMissingName, sbom.WarnMissingRef, sbom.WarnInvalidHash, sbom.WarnInvalidTimestamp,
		sbom.WarnRepaired, sbom.WarnTruncated, sbom.WarnTooDeep} {
		keys = append(keys, "supply.warning."+code)
	}
	for _, code := range []string{vuln.NoteUnreadable, vuln.NoteInvalidRecord, vuln.NoteBadZip, vuln.NoteZipTooMany, vuln.NoteMemberTooLarge} {
		keys = append(keys, "supply.vulndb.skip."+code)
	}
	for _, k := range keys {
		for _, lang := range i18n.Languages {
			if !cat.Has(lang, k) {
				t.Errorf("%s missing in %s", k, lang)
			}
		}
	}
}

// containsText reports whether the HTML text page says s.
func containsText(page, s string) bool {
	return strings.Contains(html.UnescapeString(page), s)
}
