package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/detect"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// builtinYAML is a built-in rule's YAML with replacements applied.
func builtinYAML(t *testing.T, id string, repl ...string) string {
	t.Helper()
	r, ok := detect.BuiltinRule(id)
	if !ok {
		t.Fatalf("no built-in rule %s", id)
	}
	y := string(r.YAML())
	for i := 0; i+1 < len(repl); i += 2 {
		if !strings.Contains(y, repl[i]) {
			t.Fatalf("rule %s has no %q", id, repl[i])
		}
		y = strings.Replace(y, repl[i], repl[i+1], 1)
	}
	return y
}

// TestMonitorRulesAPI: the rule library lists the built-ins as they apply to the
// caller's hospital; a PUT with a rule naming a field that does not exist is refused with
// the parser's message and stores nothing; a valid PUT stores
// the next version, seen in the detail's history and the list; another hospital still has
// the built-in; disabling works; an auditor may read but not edit; another hospital's
// organisation is not found.
func TestMonitorRulesAPI(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db)
		bad := builtinYAML(t, "brute-force", "[account, system]", "[account, sytem]")
		good := builtinYAML(t, "brute-force", "count: 5", "count: 7")
		hospA := url.QueryEscape(jsonID(e.HospA.ID))
		e.runScenarios(t, nil, []apiScenario{
			{name: "list", method: "GET", url: "/api/v1/monitor/rules", user: "auditor", status: 200,
				expect: []string{`"id":"brute-force"`, `"builtin":true`, `"enabled":true`, `"version":1`, `"alerts_7d":0`, `"total":`}},
			{name: "an unknown field is refused", method: "PUT", url: "/api/v1/monitor/rules/brute-force", user: "secofficer",
				body: jsonBody(map[string]any{"yaml": bad}), status: 400, errCode: "invalid", expect: []string{"sytem", "not an event field"}},
			{name: "nothing was stored", method: "GET", url: "/api/v1/monitor/rules/brute-force", user: "secofficer", status: 200,
				expect: []string{`"history":[]`, `"version":1`}},
			{name: "a valid edit stores version 2", method: "PUT", url: "/api/v1/monitor/rules/brute-force", user: "secofficer",
				body: jsonBody(map[string]any{"yaml": good}), status: 200,
				expect: []string{`"version":2`, `"overridden":true`, `count: 7`, `"saved_by":"secofficer"`}},
			{name: "history", method: "GET", url: "/api/v1/monitor/rules/brute-force?org_id=" + hospA, user: "auditor", status: 200,
				expect: []string{`"history":[{"rule_id":"brute-force","version":2`}},
			{name: "hospital B keeps the built-in", method: "GET", url: "/api/v1/monitor/rules/brute-force", user: "secofficer_b", status: 200,
				expect: []string{`"version":1`, `"history":[]`}, notExpect: []string{"count: 7"}},
			{name: "disable", method: "PUT", url: "/api/v1/monitor/rules/after-hours", user: "secofficer",
				body: jsonBody(map[string]any{"enabled": false}), status: 200, expect: []string{`"enabled":false`}},
			{name: "an empty update is refused", method: "PUT", url: "/api/v1/monitor/rules/after-hours", user: "secofficer",
				body: jsonBody(map[string]any{}), status: 400, errCode: "invalid"},
			{name: "a rule file with a bad rule stores none", method: "PUT", url: "/api/v1/monitor/rules", user: "secofficer",
				body:   rawBody(builtinYAML(t, "login-failures", "threshold: 10", "threshold: 12")+"---\n"+bad, "application/yaml"),
				status: 400, errCode: "invalid", expect: []string{"sytem"}},
			{name: "a rule file", method: "PUT", url: "/api/v1/monitor/rules", user: "secofficer",
				body:   rawBody(builtinYAML(t, "login-failures", "threshold: 10", "threshold: 12")+"---\n"+builtinYAML(t, "after-hours"), "application/yaml"),
				status: 200, expect: []string{`"id":"login-failures"`, `threshold: 12`, `"id":"after-hours"`, `"version":2`}},
			{name: "an unknown rule", method: "GET", url: "/api/v1/monitor/rules/no-such-rule", user: "auditor", status: 404, errCode: "not_found"},
			{name: "an auditor may not edit", method: "PUT", url: "/api/v1/monitor/rules/brute-force", user: "auditor",
				body: jsonBody(map[string]any{"enabled": false}), status: 403, errCode: "permission_denied"},
			{name: "another hospital's rules", method: "PUT", url: "/api/v1/monitor/rules/brute-force?org_id=" + hospA, user: "secofficer_b",
				body: jsonBody(map[string]any{"enabled": false}), status: 404, errCode: "not_found"},
		})
	})
}

func jsonID(id int64) string { b, _ := json.Marshal(id); return string(b) }

// TestMonitorRulePages: the rule list names each rule in the reader's language with its
// kind, severity, state and version; the rule page shows its YAML; a refused edit shows
// the parser's message in the reader's language and keeps the text as submitted; a valid
// edit redirects and shows the new version, and the old one stays viewable; an auditor
// sees no edit form.
func TestMonitorRulePages(t *testing.T) {
	e := newTestEnv(t, storetest.Open(t, store.SQLite))
	b := e.newBrowser()
	b.login("secofficer")
	code, body, _ := b.get("/monitor/rules")
	mustContain(t, code, body, http.StatusOK, `id="rule-brute-force"`, "Brute-force login", "Sequence", `id="monitor-nav-rules"`)
	code, body, _ = b.get("/monitor/rules/brute-force")
	mustContain(t, code, body, http.StatusOK, `id="rule-yaml"`, "kind: sequence", `id="rule-history-empty"`, `id="rule-disable"`)

	bad := builtinYAML(t, "brute-force", "[account, system]", "[account, sytem]")
	code, body, _ = b.post("/monitor/rules/brute-force", url.Values{"yaml": {bad}})
	mustContain(t, code, body, http.StatusBadRequest, "not an event field", "sytem", `aria-invalid="true"`)
	if !strings.Contains(body, "[account, sytem]") {
		t.Errorf("the refused text is not kept in the form")
	}
	code, _, h := b.post("/monitor/rules/brute-force", url.Values{"yaml": {builtinYAML(t, "brute-force", "count: 5", "count: 9")}})
	if code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/monitor/rules/brute-force") {
		t.Fatalf("valid edit: %d %s", code, h.Get("Location"))
	}
	code, body, _ = b.get(h.Get("Location"))
	mustContain(t, code, body, http.StatusOK, "Rule saved as a new version.", `id="rule-version">v2`, "count: 9", `href="/monitor/rules/brute-force?version=2"`)
	code, _, _ = b.post("/monitor/rules/brute-force", url.Values{"yaml": {builtinYAML(t, "brute-force", "count: 5", "count: 4")}})
	if code != http.StatusSeeOther {
		t.Fatalf("second edit: %d", code)
	}
	code, body, _ = b.get("/monitor/rules/brute-force?version=2")
	mustContain(t, code, body, http.StatusOK, "YAML of version 2", "count: 9", `id="rule-version">v3`)
	if code, _, _ := b.get("/monitor/rules/brute-force?version=7"); code != http.StatusNotFound {
		t.Errorf("an unknown version: %d, want 404", code)
	}
	code, _, _ = b.post("/monitor/rules/brute-force/enabled", url.Values{"enabled": {"false"}})
	if code != http.StatusSeeOther {
		t.Fatalf("disable: %d", code)
	}
	code, body, _ = b.get("/monitor/rules")
	mustContain(t, code, body, http.StatusOK, `<tr id="rule-brute-force" class="muted">`)

	// In Chinese: names, kinds and the refusal.
	zh := e.newBrowser()
	zh.login("secofficer")
	zh.post("/lang", url.Values{"lang": {"zh-CN"}})
	code, body, _ = zh.get("/monitor/rules")
	mustContain(t, code, body, http.StatusOK, "暴力破解登录", "事件序列", "监测规则库")
	code, body, _ = zh.post("/monitor/rules/brute-force", url.Values{"yaml": {bad}})
	mustContain(t, code, body, http.StatusBadRequest, "不是事件字段", "sytem")

	au := e.newBrowser()
	au.login("auditor")
	code, body, _ = au.get("/monitor/rules/brute-force")
	mustContain(t, code, body, http.StatusOK, `id="rule-yaml-shown"`)
	mustNotContain(t, body, `id="rule-form"`, `id="rule-enable"`)
}
