package web

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/events"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// seedMonitorStats stores events and raises monitoring alerts in hospitals A and B, each with
// names the other hospital's readers must never see.
func (e *testEnv) seedMonitorStats() {
	t := e.t
	ctx := context.Background()
	now := time.Now().UTC()
	for _, h := range []struct {
		org                   int64
		system, dept, account string
		rule                  string
	}{
		{e.HospA.ID, "EMR", "急诊科", "doc-a", "after_hours"},
		{e.HospB.ID, "PACS-B-ONLY", "骨科B", "doc-b", "rule_b_only"},
	} {
		var evs []events.Event
		for i, ago := range []time.Duration{5 * time.Minute, 6 * time.Minute, 3 * time.Hour, 50 * time.Hour} {
			evs = append(evs, events.Event{ID: h.account + string(rune('0'+i)), Time: now.Add(-ago), System: h.system,
				Account: h.account, Department: h.dept, Action: events.ActionLogin})
		}
		if _, err := e.Events.Append(ctx, h.org, evs); err != nil {
			t.Fatal(err)
		}
		in := alert.Input{OrgID: h.org, Source: "monitor", Kind: h.rule, Severity: alert.SeverityHigh, Account: h.account,
			Title: i18n.M("alert.dlp.outside_allowed", "x", 1), Subject: h.account, At: now.Add(-time.Minute),
			Evidence: map[string]any{"explanation": map[string]any{"class": "unexplained"}}}
		if err := e.db.InTx(ctx, func(tx *store.Tx) error { _, _, err := e.Alerts.Raise(ctx, tx, in); return err }); err != nil {
			t.Fatal(err)
		}
	}
}

// TestMonitorStatsAPI: GET /api/v1/monitor/stats answers the figures of the caller's
// hospital only (its systems, rules and departments, never the other hospital's); a bad
// range is refused without echoing it; a role without monitor.read is refused.
func TestMonitorStatsAPI(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db)
		e.seedMonitorStats()
		e.runScenarios(t, nil, []apiScenario{
			{name: "auditor of A", method: "GET", url: "/api/v1/monitor/stats", user: "auditor", status: 200,
				expect:    []string{`"system":"EMR"`, `"key":"after_hours","n":1`, `"key":"急诊科","n":1`, `"key":"unexplained","n":1`, `"per_minute"`, `"per_hour"`},
				notExpect: append([]string{"PACS-B-ONLY", "rule_b_only", "骨科B"}, leakMarks...)},
			{name: "security officer of B", method: "GET", url: "/api/v1/monitor/stats", user: "secofficer_b", status: 200,
				expect:    []string{`"system":"PACS-B-ONLY"`, `"key":"rule_b_only","n":1`},
				notExpect: []string{`"system":"EMR"`, "after_hours", "急诊科"}},
			{name: "regulator of the region sees both", method: "GET", url: "/api/v1/monitor/stats", user: "regulator", status: 200,
				expect: []string{`"system":"EMR"`, `"system":"PACS-B-ONLY"`, `"alerts":2`}},
			{name: "a range of the last hour", method: "GET", url: "/api/v1/monitor/stats?from=" + time.Now().Add(-time.Hour).UTC().Format(time.RFC3339),
				user: "auditor", status: 200, expect: []string{`"alerts":1`, `"total":2`}},
			{name: "a bad time is refused, not echoed", method: "GET", url: "/api/v1/monitor/stats?from=%3Cb%3Ex-PATIENT", user: "auditor",
				status: 400, errCode: "invalid", notExpect: []string{"PATIENT", "<b>"}},
			{name: "an empty range is refused", method: "GET", url: "/api/v1/monitor/stats?from=2026-04-02&to=2026-04-01", user: "auditor",
				status: 400, errCode: "invalid"},
			{name: "IT operations may not read it", method: "GET", url: "/api/v1/monitor/stats", user: "itops", status: 403, errCode: "permission_denied"},
		})
	})
}

// TestMonitorPage: /monitor shows the charts of the caller's hospital in the reader's
// language, with the ten-second refresh; an htmx refresh gets the figures without the
// layout.
func TestMonitorPage(t *testing.T) {
	e := newTestEnv(t, storetest.Open(t, store.SQLite))
	e.seedMonitorStats()
	b := e.newBrowser()
	b.login("auditor")
	get := func(lang string, htmx bool) (int, string) {
		t.Helper()
		req, err := http.NewRequest("GET", e.URL+"/monitor", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept-Language", lang)
		if htmx {
			req.Header.Set("HX-Request", "true")
		}
		resp, err := b.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	for _, c := range []struct {
		lang string
		want []string
	}{
		{"en", []string{"Audit-event monitoring", "Events per minute, last hour", "Alerts by department", "Unexplained"}},
		{"zh-CN", []string{"审计事件监测", "近一小时每分钟事件数", "按科室统计告警", "无合理解释"}},
	} {
		code, body := get(c.lang, false)
		if code != http.StatusOK {
			t.Fatalf("%s: status %d: %.300s", c.lang, code, body)
		}
		for _, w := range append(c.want, `id="monitor-minute-chart"`, `id="monitor-hour-chart"`, `id="monitor-rule-chart"`,
			`id="monitor-department-chart"`, `id="monitor-severity-chart"`, `id="monitor-class-chart"`, `hx-trigger="every 10s"`,
			"急诊科", "after_hours", `id="nav-monitor"`) {
			if !strings.Contains(body, w) {
				t.Errorf("%s: the page lacks %q", c.lang, w)
			}
		}
		for _, w := range []string{"PACS-B-ONLY", "rule_b_only", "骨科B"} {
			if strings.Contains(body, w) {
				t.Errorf("%s: the page shows hospital B's %q", c.lang, w)
			}
		}
	}
	code, body := get("en", true)
	if code != http.StatusOK || strings.Contains(body, "<html") || !strings.Contains(body, `id="monitor-minute-chart"`) {
		t.Errorf("htmx refresh: status %d, want the figures without the layout: %.300s", code, body)
	}
}
