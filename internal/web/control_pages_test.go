package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/control"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

func TestCataloguePages(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db)
		e.runPages(t, nil, []pageScenario{
			{name: "the list", user: "auditor", method: "GET", path: "/compliance/catalogues", status: http.StatusOK,
				expect: []string{`id="catalogue-hipaa"`, `id="catalogue-gbt39725"`, "22 standards", `class="on" id="compliance-nav-catalogues"`}},
			{name: "HIPAA", user: "auditor", method: "GET", path: "/compliance/catalogues/hipaa", status: http.StatusOK,
				expect: []string{"Person or entity authentication", `id="n-164.312(d)"`, "Addressable", "Required", "MFA for administrators",
					`href="/compliance/catalogues/gbt39725#n-tech.general.auth"`, "45 CFR 164.308–164.316"}},
			{name: "a filter", user: "auditor", method: "GET", path: "/compliance/catalogues/hipaa?q=" + url.QueryEscape("automatic logoff"), status: http.StatusOK,
				expect: []string{`id="n-164.312(a)(2)(iii)"`, `id="n-164.312"`}, notExpect: []string{`id="n-164.310"`, `id="n-164.312(b)"`}},
			{name: "a filter without matches", user: "auditor", method: "GET", path: "/compliance/catalogues/hipaa?q=zzzz", status: http.StatusOK,
				expect: []string{`id="catalogue-empty"`}},
			{name: "no such catalogue", user: "auditor", method: "GET", path: "/compliance/catalogues/iso27001", status: http.StatusNotFound},
			{name: "not for app operators", user: "appops", method: "GET", path: "/compliance/catalogues", status: http.StatusForbidden},
			{name: "in Chinese", user: "regulator", method: "POST", path: "/lang", form: url.Values{"lang": {"zh-CN"}}, status: http.StatusSeeOther},
			{name: "the list in Chinese", user: "regulator", method: "GET", path: "/compliance/catalogues", status: http.StatusOK,
				expect: []string{"控制项目录", "信息安全技术 健康医疗数据安全指南", "22 项标准"}, notExpect: []string{"22 standards"}},
			{name: "GB/T 39725 in Chinese", user: "regulator", method: "GET", path: "/compliance/catalogues/gbt39725", status: http.StatusOK,
				expect:    []string{"个人属性数据", "第5级:极小范围严格访问", "数据外发已登记并受保护", `href="/compliance/catalogues/hipaa#n-164.312%28d%29"`},
				notExpect: []string{"Personal attribute data"}},
		})
	})
}

func TestCatalogueAPI(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db)
		tests := []struct {
			name, path, user string
			status           int
			expect, not      []string
		}{
			{"list", "/api/v1/compliance/catalogues?lang=en", "auditor", 200,
				[]string{`"name":"hipaa"`, `"standard":22`, `"name":"gbt39725"`}, []string{`"children"`}},
			{"tree in English", "/api/v1/compliance/catalogues/hipaa?lang=en", "itops", 200,
				[]string{`"id":"164.312(d)"`, `"title":"Person or entity authentication"`, `"required":false`, `"checks":["mfa.admins"]`, `"mapped":[`},
				[]string{"人员或实体鉴别"}},
			{"tree in Chinese", "/api/v1/compliance/catalogues/gbt39725?lang=zh-CN", "regulator", 200,
				[]string{`"title":"健康状况数据"`, `"level":"item"`}, []string{`"title":"Health status data"`}},
			{"bad language", "/api/v1/compliance/catalogues/hipaa?lang=fr", "auditor", 400, nil, []string{`"children"`}},
			{"no such catalogue", "/api/v1/compliance/catalogues/nope", "auditor", 404, nil, []string{`"children"`}},
			{"forbidden", "/api/v1/compliance/catalogues", "appops", 403, nil, []string{"hipaa"}},
		}
		for _, tt := range tests {
			code, body := e.api("GET", tt.path, tt.user, nil)
			if code != tt.status {
				t.Fatalf("%s: status %d, want %d: %s", tt.name, code, tt.status, body)
			}
			for _, w := range tt.expect {
				if !strings.Contains(string(body), w) {
					t.Errorf("%s: lacks %s", tt.name, w)
				}
			}
			for _, w := range tt.not {
				if strings.Contains(string(body), w) {
					t.Errorf("%s: shows %s", tt.name, w)
				}
			}
		}
		// The tree is the catalogue: as many nodes as it counts.
		_, body := e.api("GET", "/api/v1/compliance/catalogues/hipaa", "auditor", nil)
		var v control.CatalogueView
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatal(err)
		}
		n := 0
		var walk func(ns []control.NodeView)
		walk = func(ns []control.NodeView) {
			for _, x := range ns {
				n++
				walk(x.Children)
			}
		}
		walk(v.Nodes)
		if n != 5+22+43 {
			t.Errorf("the tree has %d nodes, want 70", n)
		}
	})
}
