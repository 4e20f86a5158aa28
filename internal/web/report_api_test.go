package web

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/report"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// TestReportAPI generates a report on demand, lists and reads it, downloads its files,
// edits a template, and checks that hospital B's reports stay out of hospital A's view.
func TestReportAPI(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newSupplyEnv(t, db)
		idA, idB := strconv.FormatInt(e.ReportA.ID, 10), strconv.FormatInt(e.ReportB.ID, 10)

		// Generate on demand: hospital A's weekly report, PDF only, in English.
		code, body := e.api("POST", "/api/v1/reports", "secofficer", map[string]any{"period": "2026-W48", "lang": "en", "formats": []string{"pdf"},
			"sections": []string{"risks", "alerts"}})
		if code != http.StatusCreated {
			t.Fatalf("generate: %d %s", code, body)
		}
		var gen report.Report
		if err := json.Unmarshal(body, &gen); err != nil {
			t.Fatal(err)
		}
		if gen.OrgID != e.HospA.ID || gen.Kind != report.Weekly || gen.Lang != "en" || gen.GeneratedBy != "secofficer" || len(gen.Files) != 1 ||
			gen.Files[0].Format != "pdf" {
			t.Errorf("generated = %+v", gen)
		}
		genID := strconv.FormatInt(gen.ID, 10)

		type step struct {
			name, method, path, user string
			body                     any
			code                     int
			want, not                []string
		}
		for _, s := range []step{
			{name: "list", method: "GET", path: "/api/v1/reports", user: "auditor", code: 200,
				want: []string{`"id":` + idA, `"id":` + genID, `"period":"2026-11"`, `"hospital":"Hospital A"`}, not: []string{`"id":` + idB + `,`, "Hospital B"}},
			{name: "one", method: "GET", path: "/api/v1/reports/" + idA, user: "regulator", code: 200,
				want: []string{`"period":"2026-11"`, `"format":"html"`, `"format":"pdf"`, `"scheduled":false`}, not: []string{"content"}},
			{name: "other hospital", method: "GET", path: "/api/v1/reports/" + idB, user: "secofficer", code: 404, not: []string{"Hospital B"}},
			{name: "other hospital's file", method: "GET", path: "/api/v1/reports/" + idB + "/file?format=pdf", user: "secofficer", code: 404},
			{name: "bad period", method: "POST", path: "/api/v1/reports", user: "secofficer", body: map[string]any{"period": "2026-13"}, code: 400,
				want: []string{"period"}},
			{name: "bad format", method: "POST", path: "/api/v1/reports", user: "secofficer", body: map[string]any{"period": "2026-11", "formats": []string{"docx"}},
				code: 400, want: []string{"formats"}},
			{name: "another hospital's report", method: "POST", path: "/api/v1/reports", user: "secofficer",
				body: map[string]any{"period": "2026-11", "org_id": e.HospB.ID}, code: 404},
			{name: "auditor may not generate", method: "POST", path: "/api/v1/reports", user: "auditor", body: map[string]any{"period": "2026-11"}, code: 403},
			{name: "bad file format", method: "GET", path: "/api/v1/reports/" + idA + "/file?format=docx", user: "secofficer", code: 400},
			{name: "no html of a pdf-only report", method: "GET", path: "/api/v1/reports/" + genID + "/file?format=html", user: "secofficer", code: 404},
			{name: "templates", method: "GET", path: "/api/v1/report-templates", user: "auditor", code: 200,
				want: []string{"月报 A", `"scheduled":true`}, not: []string{"月报 B"}},
			{name: "edit template", method: "PUT", path: "/api/v1/report-templates/" + strconv.FormatInt(e.ReportTmplA.ID, 10), user: "secofficer",
				body: map[string]any{"name": "周报 A", "kind": "weekly", "sections": []string{"incidents"}, "formats": []string{"html"}, "lang": "en"}, code: 200,
				want: []string{`"name":"周报 A"`, `"kind":"weekly"`, `"sections":["incidents"]`, `"scheduled":false`}},
			{name: "new template", method: "POST", path: "/api/v1/report-templates", user: "privacy",
				body: map[string]any{"name": "区域月报", "kind": "monthly", "scheduled": true}, code: 201, want: []string{`"org_id":` + strconv.FormatInt(e.HospA.ID, 10)}},
			{name: "bad template", method: "POST", path: "/api/v1/report-templates", user: "secofficer", body: map[string]any{"name": "x", "kind": "daily"}, code: 400,
				want: []string{"kind"}},
		} {
			code, body := e.api(s.method, s.path, s.user, s.body)
			if code != s.code {
				t.Errorf("%s: %s %s = %d, want %d: %s", s.name, s.method, s.path, code, s.code, body)
			}
			for _, w := range s.want {
				if !strings.Contains(string(body), w) {
					t.Errorf("%s: response lacks %q: %s", s.name, w, body)
				}
			}
			for _, n := range s.not {
				if strings.Contains(string(body), n) {
					t.Errorf("%s: response holds %q: %s", s.name, n, body)
				}
			}
		}

		// Downloads: the PDF and the HTML, as attachments with a safe name.
		code, pdf, h := e.raw("GET", "/api/v1/reports/"+idA+"/file?format=pdf", "auditor", nil, "")
		if code != 200 || !bytes.HasPrefix(pdf, []byte("%PDF-")) || h.Get("Content-Type") != "application/pdf" ||
			h.Get("Content-Disposition") != `attachment; filename=report-`+idA+`-2026-11.pdf` {
			t.Errorf("pdf: %d %q %v", code, pdf[:min(len(pdf), 8)], h)
		}
		code, html, h := e.raw("GET", "/api/v1/reports/"+idA+"/file?format=html&inline=1", "auditor", nil, "")
		if code != 200 || !bytes.Contains(html, []byte("信息安全月报")) || !strings.HasPrefix(h.Get("Content-Disposition"), "inline;") ||
			!strings.Contains(h.Get("Content-Security-Policy"), "sandbox") || h.Get("X-Frame-Options") != "SAMEORIGIN" {
			t.Errorf("html inline: %d %v", code, h)
		}
	})
}
