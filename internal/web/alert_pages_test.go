package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// TestAlertPages walks the inbox, alert, case and silence pages as hospital A's
// security officer: filters, masked patient ids and evidence, bulk actions into a new
// case, the case's workflow, comments and timeline, silences; hospital B never shows,
// a reader without alert.manage gets no forms and 403 on posts.
func TestAlertPages(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newSupplyEnv(t, db)
		ctx := context.Background()
		id := func(n int64) string { return strconv.FormatInt(n, 10) }
		raise := func(dedup, patient string) alert.Alert {
			var al alert.Alert
			if err := db.InTx(ctx, func(tx *store.Tx) error {
				var err error
				al, _, err = e.Alerts.Raise(ctx, tx, alert.Input{OrgID: e.HospA.ID, Source: "dlp", Kind: "dlp_block",
					Severity: "high", Title: i18n.M("alert.dlp.block", "discharge.docx", 4), Subject: "discharge.docx",
					PatientID: patient, DedupKey: dedup, Evidence: map[string]any{"scan_id": 7, "reasons": []string{"level 4"},
						"counts_by_type": map[string]int{"cn_resident_id": 2}, "note": "ID 11010519491231002X"}})
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return al
		}
		d1 := raise("dlp_check:1", "110105194912310021")
		d2 := raise("dlp_check:2", "")
		notB := append([]string{"Hospital B", "Case of Hospital B", "secofficer_b"}, leakMarks...)
		sec := e.newBrowser()
		sec.login("secofficer")

		// The inbox: every module, counts, and the filters.
		code, body, _ := sec.get("/alerts")
		mustContain(t, code, body, http.StatusOK, `id="nav-alerts"`, `id="alert-`+id(e.AlertA.ID)+`"`, `id="alert-`+id(d1.ID)+`"`,
			`id="kpi-high"`, `id="alert-source-chart"`, `id="bulk-new-case"`, "check blocked discharge.docx", "****0021")
		mustNotContain(t, body, append(notB, "110105194912310021", "1949123")...)
		code, body, _ = sec.get("/alerts?source=dlp&q=discharge")
		mustContain(t, code, body, http.StatusOK, `id="alert-`+id(d1.ID)+`"`, `id="alert-`+id(d2.ID)+`"`)
		mustNotContain(t, body, `id="alert-`+id(e.AlertA.ID)+`"`)
		code, body, _ = sec.get("/alerts?source=supply")
		mustContain(t, code, body, http.StatusOK, `id="alert-`+id(e.AlertA.ID)+`"`)
		mustNotContain(t, body, `id="alert-`+id(d1.ID)+`"`)
		code, body, _ = sec.get("/alerts?mine=1")
		mustContain(t, code, body, http.StatusOK, `id="alert-empty"`)
		code, body, _ = sec.get("/alerts?severity=urgent")
		mustContain(t, code, body, http.StatusBadRequest, `class="error"`)
		mustNotContain(t, body, "urgent")

		// One alert: masked evidence as a key/value table, the silence that matched.
		code, body, _ = sec.get("/alerts/" + id(d1.ID))
		mustContain(t, code, body, http.StatusOK, `id="alert-evidence"`, "counts_by_type.cn_resident_id", "scan_id", "****0021",
			`id="alert-count"`, `id="alert-ack"`)
		mustNotContain(t, body, "110105194912310021", "11010519491231002X", "1949123")

		// A silenced alert names the silence that matched it.
		var silenced alert.Alert
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			var err error
			silenced, _, err = e.Alerts.Raise(ctx, tx, alert.Input{OrgID: e.HospA.ID, Source: "dlp", Kind: "dlp_alert",
				Severity: "medium", Title: i18n.M("alert.dlp.alert", "list.txt", 3), Subject: "list.txt", DedupKey: "dlp_check:3"})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		code, body, _ = sec.get("/alerts/" + id(silenced.ID))
		mustContain(t, code, body, http.StatusOK, `href="/silences?show=all#silence-`+id(e.SilenceA.ID)+`"`, "reviewed at Hospital A")
		code, body, _ = sec.get("/alerts?silenced=yes")
		mustContain(t, code, body, http.StatusOK, `id="alert-`+id(silenced.ID)+`"`)
		mustNotContain(t, body, `id="alert-`+id(d1.ID)+`"`)

		// Bulk: nothing ticked is a message on the page, two ticked alerts become a case.
		code, body, _ = sec.post("/alerts/bulk?source=dlp", url.Values{"action": {"new_case"}, "case_title": {"Two blocked sends"}})
		mustContain(t, code, body, http.StatusBadRequest, "tick at least one alert", `id="alert-table"`)
		code, _, h := sec.post("/alerts/bulk?source=dlp", url.Values{"action": {"new_case"}, "case_title": {"Two blocked sends"},
			"ids": {id(d1.ID), id(d2.ID)}})
		loc := h.Get("Location")
		m := regexp.MustCompile(`^/cases/(\d+)\?flash=flash.alert.case_created$`).FindStringSubmatch(loc)
		if code != http.StatusSeeOther || m == nil {
			t.Fatalf("new case: %d %q", code, loc)
		}
		caseURL := "/cases/" + m[1]
		code, _, h = sec.post("/alerts/bulk?source=dlp&severity=high", url.Values{"action": {"ack"}, "ids": {id(d1.ID)}})
		if code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/alerts?") ||
			!strings.Contains(h.Get("Location"), "source=dlp") || !strings.Contains(h.Get("Location"), "flash=flash.alert.acknowledged") {
			t.Fatalf("acknowledge: %d %q", code, h.Get("Location"))
		}

		// Another hospital's alert in a bulk action: not found, nothing of it shown.
		for _, action := range []string{"ack", "new_case", "assign", "status"} {
			code, body, _ = sec.post("/alerts/bulk", url.Values{"action": {action}, "case_title": {"x"}, "assignee": {"secofficer"},
				"status": {"investigating"}, "ids": {id(e.AlertB.ID)}})
			mustContain(t, code, body, http.StatusNotFound, `class="error"`)
			mustNotContain(t, body, notB...)
		}
		code, body, _ = sec.post("/alerts/bulk", url.Values{"action": {"add_case"}, "case_id": {id(e.CaseB.ID)}, "ids": {id(d2.ID)}})
		mustContain(t, code, body, http.StatusNotFound, `class="error"`)
		mustNotContain(t, body, notB...)

		// The case: workflow, comment and the timeline in time order.
		code, body, _ = sec.get(caseURL)
		mustContain(t, code, body, http.StatusOK, "Two blocked sends", `id="case-alert-`+id(d1.ID)+`"`, `id="case-alert-`+id(d2.ID)+`"`,
			`id="case-to-investigating"`, `id="case-to-resolved"`, `class="tl-case_create"`)
		if code, _, _ = sec.post(caseURL+"/status", url.Values{"status": {"investigating"}}); code != http.StatusSeeOther {
			t.Fatalf("investigate: %d", code)
		}
		if code, _, _ = sec.post(caseURL+"/comments", url.Values{"body": {"called the ward; the sender was warned"}}); code != http.StatusSeeOther {
			t.Fatalf("comment: %d", code)
		}
		if code, _, _ = sec.post(caseURL+"/assign", url.Values{"assignee": {"secofficer"}}); code != http.StatusSeeOther {
			t.Fatalf("assign: %d", code)
		}
		code, body, _ = sec.get(caseURL)
		mustContain(t, code, body, http.StatusOK, `class="tl-case_status"`, `class="tl-comment"`, `class="tl-case_assign"`,
			"called the ward; the sender was warned")
		order := []string{`class="tl-case_create"`, `class="tl-case_status"`, `class="tl-comment"`, `class="tl-case_assign"`}
		for i := 1; i < len(order); i++ {
			if strings.Index(body, order[i-1]) > strings.Index(body, order[i]) {
				t.Errorf("timeline: %s after %s", order[i-1], order[i])
			}
		}
		// Risk accepted without a reason: the page says what is missing.
		code, body, _ = sec.post(caseURL+"/status", url.Values{"status": {"resolved"}, "resolution": {"risk_accepted"},
			"accepted_until": {time.Now().AddDate(0, 1, 0).Format("2006-01-02")}})
		mustContain(t, code, body, http.StatusBadRequest, `class="error"`, `id="case-timeline"`)
		code, body, _ = sec.get("/cases?mine=1")
		mustContain(t, code, body, http.StatusOK, `id="case-`+m[1]+`"`)
		mustNotContain(t, body, `id="case-`+id(e.CaseA.ID)+`"`)
		code, body, _ = sec.get("/cases")
		mustContain(t, code, body, http.StatusOK, `id="case-`+m[1]+`"`, `id="case-`+id(e.CaseA.ID)+`"`)
		mustNotContain(t, body, notB...)

		// Silences: list, a new one needs an expiry, expire one.
		code, body, _ = sec.get("/silences")
		mustContain(t, code, body, http.StatusOK, `id="silence-`+id(e.SilenceA.ID)+`"`, `id="silence-form"`)
		mustNotContain(t, body, notB...)
		code, body, _ = sec.post("/silences", url.Values{"source": {"supply"}, "reason": {"maintenance window"}, "expires_at": {""},
			"org_id": {id(e.HospA.ID)}})
		mustContain(t, code, body, http.StatusBadRequest, `class="error"`, "maintenance window")
		code, _, _ = sec.post("/silences", url.Values{"source": {"supply"}, "kind": {"delivery_failed"}, "reason": {"maintenance window"},
			"expires_at": {time.Now().AddDate(0, 0, 3).Format("2006-01-02")}, "org_id": {id(e.HospA.ID)}})
		if code != http.StatusSeeOther {
			t.Fatalf("create silence: %d", code)
		}
		code, body, _ = sec.get("/silences")
		mustContain(t, code, body, http.StatusOK, "maintenance window")
		if code, _, _ = sec.post("/silences/"+id(e.SilenceA.ID)+"/expire", nil); code != http.StatusSeeOther {
			t.Fatalf("expire: %d", code)
		}
		code, body, _ = sec.get("/silences?show=expired")
		mustContain(t, code, body, http.StatusOK, `id="silence-`+id(e.SilenceA.ID)+`"`)
		mustNotContain(t, body, `id="expire-`+id(e.SilenceA.ID)+`"`)

		// A reader: pages without forms, posts refused.
		aud := e.newBrowser()
		aud.login("auditor")
		code, body, _ = aud.get(caseURL)
		mustContain(t, code, body, http.StatusOK, `id="case-timeline"`)
		mustNotContain(t, body, `id="case-comment-form"`, `id="case-to-resolved"`)
		code, body, _ = aud.get("/alerts")
		mustContain(t, code, body, http.StatusOK, `id="alert-table"`)
		mustNotContain(t, body, `id="bulk-actions"`, `name="ids"`)
		if code, _, _ = aud.post(caseURL+"/comments", url.Values{"body": {"x"}}); code != http.StatusForbidden {
			t.Errorf("auditor comment: %d, want 403", code)
		}

		// The supply chain's alert page leads to the inbox.
		code, body, _ = sec.get("/supply/alerts")
		mustContain(t, code, body, http.StatusOK, `href="/alerts?source=supply"`)
	})
}
