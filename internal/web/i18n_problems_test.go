package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/asset"
	"github.com/medguard/medguard/internal/delivery"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// TestValidationMessagesInReadersLanguage: a zh-CN reader who posts an invalid asset or
// user form, or imports a CSV file with bad rows, reads the whole message in Chinese —
// the field label and the message after it — not "请检查“IP 地址”: IP address is not
// valid"; the English reader reads the same messages in English.
func TestValidationMessagesInReadersLanguage(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newAssetEnv(t, db)
		zh := map[string]string{"Accept-Language": "zh-CN,zh;q=0.9"}
		en := map[string]string{"Accept-Language": "en"}
		dept := strconv.FormatInt(e.DeptA.ID, 10)

		t.Run("asset form", func(t *testing.T) {
			for _, tc := range []struct {
				name, field, value string
				zh, en, english    string
			}{
				{"ip", "ip", "999.1.1.1", "请检查“IP 地址”: 不是有效的 IP 地址", "is not a valid IP address", "IP address is not valid"},
				{"mac", "mac", "zz", "请检查“MAC 地址”: 格式应为 aa:bb:cc:dd:ee:ff", "must look like aa:bb:cc:dd:ee:ff", "MAC address must"},
				{"code", "code", "", "必填", "is required", "code is required"},
				{"dates", "retired_on", "2020-01-01", "退役日期早于投入使用日期", "the retirement date is before the in-service date", "xx-no-english-check"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					form := func() url.Values {
						f := url.Values{"org_id": {dept}, "code": {"I18N-" + tc.name}, "name": {"核心交换机"},
							"kind": {"network"}, "zone": {"internal"}, "in_service_on": {"2024-03-01"}}
						f.Set(tc.field, tc.value)
						return f
					}
					code, body, _ := e.page(e.ops, "POST", "/assets", form(), zh)
					mustContain(t, code, body, http.StatusBadRequest, `class="error"`, tc.zh)
					mustNotContain(t, body, tc.english, tc.en)
					code, body, _ = e.page(e.ops, "POST", "/assets", form(), en)
					mustContain(t, code, body, http.StatusBadRequest, `class="error"`, tc.en)
					mustNotContain(t, body, tc.zh)
				})
			}
		})

		t.Run("user form", func(t *testing.T) {
			admin := e.newBrowser()
			admin.login("admin")
			org := strconv.FormatInt(e.Users["admin"].OrgID, 10)
			for _, tc := range []struct {
				name, field, value string
				zh, en, english    string
			}{
				{"username", "username", "ab", "请检查“用户名”: 长度必须为 3 到 64 个字符", "must be 3 to 64 characters long", "username must be"},
				{"email", "email", "not-an-address", "请检查“电子邮箱”: 不是有效的电子邮件地址", "is not an e-mail address", "email is not"},
				{"taken", "username", "admin", "该用户名已被占用。", "This username is taken.", "this username is taken"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					form := func() url.Values {
						f := url.Values{"org_id": {org}, "username": {"i18n.user"}, "display_name": {"测试"}, "email": {"u@example.org"},
							"role": {"auditor"}, "password": {"Correct-Horse-Battery-9"}, "locale": {""}}
						f.Set(tc.field, tc.value)
						return f
					}
					code, body, _ := e.page(admin, "POST", "/users", form(), zh)
					if code < 400 {
						t.Fatalf("create user with %s=%q: %d", tc.field, tc.value, code)
					}
					mustContain(t, code, body, code, `class="error"`, tc.zh)
					mustNotContain(t, body, tc.english, tc.en)
					code, body, _ = e.page(admin, "POST", "/users", form(), en)
					mustContain(t, code, body, code, `class="error"`, tc.en)
					mustNotContain(t, body, tc.zh)
				})
			}
		})

		t.Run("csv import", func(t *testing.T) {
			file := "\ufeff资产编号,名称,资产类型,网络区域,所属机构,IP 地址,MAC 地址\n" +
				"BAD-1,坏地址,server,internal,,999.1.1.1,\n" +
				"BAD-2,坏 MAC,server,internal,,,zz\n" +
				"BAD-3,少字段,server\n" +
				"BAD-4,未知机构,server,internal,没有这个机构,,\n" +
				"BAD-1,重复,server,internal,,,\n" +
				"OK-1,好的,server,internal,,10.1.1.1,\n"
			code, body := e.uploadImport(zh, []byte(file), map[string]string{"org_id": dept, "dry_run": "1"})
			mustContain(t, code, body, http.StatusOK, `id="import-errors"`, `id="import-rejected"><b>4</b>`,
				"不是有效的 IP 地址", "格式应为 aa:bb:cc:dd:ee:ff", "该行有 3 个字段，但表头有 7 个", "您的机构中没有该编码或名称的医院或科室")
			mustNotContain(t, body, "IP address is not valid", "MAC address must", "the row has", "no hospital or department", "is not a valid IP address")
			code, body = e.uploadImport(en, []byte(file), map[string]string{"org_id": dept, "dry_run": "1"})
			mustContain(t, code, body, http.StatusOK, `id="import-errors"`, "is not a valid IP address", "the row has 3 fields but the header has 7",
				"no hospital or department of that code or name in your organisation")
			mustNotContain(t, body, "不是有效的 IP 地址", "该行有")
		})

		t.Run("csv import API names the catalogue message", func(t *testing.T) {
			file := "code,name,kind,zone,ip\nBAD-1,x,server,internal,999.1.1.1\n"
			code, out, _ := e.call("POST", "/api/v1/assets/import?dry_run=true&org_id="+dept, "", strings.NewReader(file), "text/csv")
			if code != http.StatusOK {
				t.Fatalf("import: %d %s", code, out)
			}
			var rep struct {
				Errors []struct {
					Code string `json:"code"`
					Msg  *struct {
						Key string `json:"key"`
					} `json:"msg"`
				} `json:"errors"`
			}
			if err := json.Unmarshal(out, &rep); err != nil {
				t.Fatal(err)
			}
			if len(rep.Errors) != 1 || rep.Errors[0].Msg == nil || rep.Errors[0].Msg.Key != "asset.error.msg.ip" {
				t.Fatalf("report errors: %s", out)
			}
		})
	})
}

// TestProblemMessagesTranslateTheirWords: a message that names an organisation kind says
// it in the reader's language too ("资产只能属于医院或科室，不能属于地区"), and a delivery
// manifest's detail is not labelled twice.
func TestProblemMessagesTranslateTheirWords(t *testing.T) {
	e := newTestEnv(t, storetest.Open(t, store.SQLite))
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		err  error
		zh   string
		en   string
	}{
		{"asset in a region", func() error {
			_, err := e.Assets.Create(ctx, actor.System(), asset.Input{OrgID: e.Region.ID, Code: "R-1", Name: "x", Kind: "server", Zone: "internal"})
			return err
		}(), "资产只能属于医院或科室，不能属于地区", "assets belong to a hospital or a department, not a Region"},
		{"hospital below a department", func() error {
			_, err := e.Orgs.Create(ctx, actor.System(), org.Input{ParentID: e.DeptA.ID, Kind: "hospital", Name: "x"})
			return err
		}(), "医院不能放在科室之下", "a Hospital cannot be placed below a Department"},
		{"manifest field", func() error {
			_, err := delivery.ParseManifest([]byte(`{"schema":"` + delivery.SchemaV1 + `","delivered_at":"2026-01-01T00:00:00Z","artifacts":[{"name":"a","size":-1,"sha256":"` + strings.Repeat("a", 64) + `"}]}`))
			return err
		}(), "交付清单无效：must not be negative", "the delivery manifest is not valid: must not be negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pe, ok := problem.As(tc.err)
			if !ok {
				t.Fatalf("not a problem: %v", tc.err)
			}
			if got := e.srv.errorText(i18n.ZhCN, pe); !strings.Contains(got, tc.zh) {
				t.Errorf("zh-CN: %q, want %q", got, tc.zh)
			}
			if got := e.srv.errorText(i18n.EN, pe); !strings.Contains(got, tc.en) || strings.Count(got, pe.Field) > 1 {
				t.Errorf("en: %q, want %q (field %q once)", got, tc.en, pe.Field)
			}
		})
	}
}
