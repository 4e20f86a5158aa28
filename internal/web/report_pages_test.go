package web

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// TestReportPages walks the reports pages in both languages: the list with hospital A's
// report and not B's, a report made from the form and shown in its sandboxed frame with
// the PDF link, a bad period refused at its field, a template edited and a new one
// refused without a name; the auditor reads but is offered no form.
func TestReportPages(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newSupplyEnv(t, db)
		vars := map[string]string{"repA": strconv.FormatInt(e.ReportA.ID, 10), "repB": strconv.FormatInt(e.ReportB.ID, 10),
			"tmplA": strconv.FormatInt(e.ReportTmplA.ID, 10), "org": strconv.FormatInt(e.HospA.ID, 10)}
		e.runPages(t, vars, []pageScenario{
			{name: "the list", user: "secofficer", method: "GET", path: "/reports", status: http.StatusOK,
				expect: []string{"Periodic reports", `id="report-{repA}"`, "2026-11", "Hospital A", `id="report-generate-form"`, "月报 A",
					`id="compliance-nav-reports"`}, notExpect: []string{`id="report-{repB}"`, "Hospital B", "月报 B"}},
			{name: "a bad period", user: "secofficer", method: "POST", path: "/reports", form: url.Values{"org_id": {"{org}"}, "period": {"2026-13"}},
				status: http.StatusBadRequest, expect: []string{`id="err-period"`}},
			{name: "made from the form", user: "secofficer", method: "POST", path: "/reports",
				form:   url.Values{"org_id": {vars["org"]}, "period": {"2026-W48"}, "sections": {"risks", "alerts"}, "formats": {"pdf", "html"}, "lang": {"zh-CN"}},
				status: http.StatusSeeOther, location: "/reports/"},
			{name: "a report's page", user: "auditor", method: "GET", path: "/reports/{repA}", status: http.StatusOK,
				expect: []string{`id="report-frame"`, `sandbox=""`, `/api/v1/reports/{repA}/file?format=html&amp;inline=1`, `id="report-pdf"`, "Hospital A"}},
			{name: "another hospital's report", user: "secofficer", method: "GET", path: "/reports/{repB}", status: http.StatusNotFound,
				notExpect: []string{"Hospital B"}},
			{name: "the auditor has no forms", user: "auditor", method: "GET", path: "/reports", status: http.StatusOK,
				expect: []string{`id="report-{repA}"`}, notExpect: []string{`id="report-generate-form"`, `id="report-template-form"`}},
			{name: "the template's form", user: "secofficer", method: "GET", path: "/reports?edit={tmplA}", status: http.StatusOK,
				expect: []string{`action="/report-templates/{tmplA}"`, `value="月报 A"`}},
			{name: "a template edited", user: "secofficer", method: "POST", path: "/report-templates/{tmplA}",
				form:   url.Values{"name": {"周报 A"}, "kind": {"weekly"}, "sections": {"incidents"}, "formats": {"pdf"}, "lang": {"zh-CN"}, "scheduled": {"on"}},
				status: http.StatusSeeOther, location: "/reports?flash=flash.report.template_saved"},
			{name: "a template without a name", user: "secofficer", method: "POST", path: "/report-templates",
				form: url.Values{"org_id": {vars["org"]}, "kind": {"monthly"}}, status: http.StatusBadRequest, expect: []string{`id="err-name"`}},
			{name: "in Chinese", user: "regulator", method: "POST", path: "/lang", form: url.Values{"lang": {"zh-CN"}}, status: http.StatusSeeOther},
			{name: "the list in Chinese", user: "regulator", method: "GET", path: "/reports", status: http.StatusOK,
				expect: []string{"定期报告", "报告模板与定时计划", "周报 A", "每期自动生成", "风险情况"}},
			{name: "a report in Chinese", user: "regulator", method: "GET", path: "/reports/{repA}", status: http.StatusOK,
				expect: []string{"下载 PDF", "信息安全月报"}},
		})
	})
}
