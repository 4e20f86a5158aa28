package web

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// TestMonitorAlertPage shows a detection rule's alert in both languages: the rule, the
// grouped fields by name, the events' time range, and the explanation's class and
// sentences in the reader's language; the patient identifier stays masked.
func TestMonitorAlertPage(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newSupplyEnv(t, db)
		ae := &assetEnv{testEnv: e}
		ctx := context.Background()
		t0 := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
		var al alert.Alert
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			var err error
			al, _, err = e.Alerts.Raise(ctx, tx, alert.Input{OrgID: e.HospA.ID, Source: "monitor", Kind: "batch-login",
				Severity: "high", Title: i18n.M("alert.title.text", "batch-login"), Account: "u1", PatientID: "110105194912310021",
				DedupKey: "batch-login:WS-7", Rule: "batch-login", GroupBy: []string{"terminal", "source_ip"},
				Group: map[string]string{"terminal": "WS-7", "source_ip": "10.1.2.3"}, From: t0, To: t0.Add(4 * time.Minute),
				Evidence: map[string]any{"explanation": map[string]any{"class": "flagged",
					"reasons": []i18n.Message{i18n.M("alert.group.terminal")}}, "group_by": []string{"terminal"},
					"events": []string{"EMR-1", "EMR-2"}}})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		sec := e.newBrowser()
		sec.login("secofficer")
		path := "/alerts/" + strconv.FormatInt(al.ID, 10)
		code, body, _ := ae.page(sec, "GET", path, nil, map[string]string{"Accept-Language": "en"})
		mustContain(t, code, body, http.StatusOK, `id="alert-rule"`, `href="/monitor/rules/batch-login"`, "Terminal", "WS-7",
			"Source IP", "10.1.2.3", `id="alert-range"`, `id="alert-explanation"`, "Why this access",
			`href="/monitor/accounts/u1"`, "****0021", "EMR-1, EMR-2",
			"Many accounts logged in from one terminal", "Monitoring")
		mustNotContain(t, body, "110105194912310021", "explanation.class", "group_by")
		code, body, _ = ae.page(sec, "GET", path, nil, map[string]string{"Accept-Language": "zh-CN,zh;q=0.9"})
		mustContain(t, code, body, http.StatusOK, "规则", "终端", "来源 IP", "事件时间范围", "访问说明", "需关注", "同一终端批量登录多个账号", "审计监测")
		mustNotContain(t, body, "Why this access")
	})
}
