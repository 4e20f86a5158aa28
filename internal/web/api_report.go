package web

import (
	"fmt"
	"mime"
	"net/http"
	"strconv"

	"github.com/medguard/medguard/internal/paging"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/report"
)

func (s *Server) reportService() (*report.Service, error) {
	if s.Reports == nil {
		return nil, problem.NotFound("reports")
	}
	return s.Reports, nil
}

// visibleReport is report {id} of the path, if the caller sees it.
func (s *Server) visibleReport(r *http.Request) (*report.Service, report.Report, error) {
	svc, err := s.reportService()
	if err != nil {
		return nil, report.Report{}, err
	}
	id, err := pathInt(r, "id")
	if err != nil {
		return nil, report.Report{}, err
	}
	rep, err := svc.Report(r.Context(), reqActor(r), id)
	return svc, rep, err
}

// reportLang is the language of a report asked for without one: the caller's.
func (s *Server) reportLang(r *http.Request) string {
	setting := ""
	if pr := principalFrom(r.Context()); pr != nil {
		setting = pr.User.Locale
	}
	return s.I18n.Pick(setting, r.Header.Get("Accept-Language"))
}

func (s *Server) apiReportList(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.reportService()
	if err != nil {
		return err
	}
	rs, err := svc.Reports(r.Context(), reqActor(r), 500)
	if err != nil {
		return err
	}
	return writeList(w, r, paging.Standard, rs)
}

// apiReportGenerate answers POST /api/v1/reports: the report made now, stored, 201.
func (s *Server) apiReportGenerate(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.reportService()
	if err != nil {
		return err
	}
	var in report.GenerateInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if in.OrgID == 0 && in.TemplateID == 0 {
		in.OrgID = principalFrom(r.Context()).User.OrgID
	}
	if in.Lang == "" && in.TemplateID == 0 {
		in.Lang = s.reportLang(r)
	}
	rep, err := svc.Generate(r.Context(), reqActor(r), in)
	if err != nil {
		return err
	}
	return created(w, idPath("/api/v1/reports/", rep.ID), rep)
}

func (s *Server) apiReportGet(w http.ResponseWriter, r *http.Request) error {
	_, rep, err := s.visibleReport(r)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rep)
}

// reportMedia are the content types of a report's formats.
var reportMedia = map[string]string{report.FormatPDF: "application/pdf", report.FormatHTML: "text/html; charset=utf-8"}

// reportFileName is the download name of a report's file: ASCII only, whatever the
// organisation is called ("report-12-2026-11.pdf").
func reportFileName(rep report.Report, format string) string {
	return fmt.Sprintf("report-%d-%s.%s", rep.ID, rep.Period, format)
}

// apiReportFile answers GET /api/v1/reports/{id}/file?format=pdf|html: the stored file
// as a download; with inline=1 the HTML is shown in a sandboxed frame of the report's
// page (no script, images from data: URIs only, framed by this site alone).
func (s *Server) apiReportFile(w http.ResponseWriter, r *http.Request) error {
	svc, rep, err := s.visibleReport(r)
	if err != nil {
		return err
	}
	format := r.URL.Query().Get("format")
	if format == "" {
		format = report.FormatPDF
	}
	media, ok := reportMedia[format]
	if !ok {
		return problem.OneOf("format", report.Formats...)
	}
	b, err := svc.File(r.Context(), reqActor(r), rep.ID, format)
	if err != nil {
		return err
	}
	disp := "attachment"
	h := w.Header()
	if format == report.FormatHTML && r.URL.Query().Get("inline") == "1" {
		disp = "inline"
		h.Set("Content-Security-Policy", "default-src 'none'; img-src data:; style-src 'unsafe-inline'; sandbox; frame-ancestors 'self'")
		h.Set("X-Frame-Options", "SAMEORIGIN")
	} else {
		h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	}
	h.Set("Content-Type", media)
	h.Set("Content-Disposition", mime.FormatMediaType(disp, map[string]string{"filename": reportFileName(rep, format)}))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "private, no-store")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(b)
	return err
}

func (s *Server) apiReportTemplates(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.reportService()
	if err != nil {
		return err
	}
	ts, err := svc.Templates(r.Context(), reqActor(r))
	if err != nil {
		return err
	}
	return writeList(w, r, paging.Standard, ts)
}

func (s *Server) apiReportTemplateCreate(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.reportService()
	if err != nil {
		return err
	}
	var in report.TemplateInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if in.OrgID == 0 {
		in.OrgID = principalFrom(r.Context()).User.OrgID
	}
	if in.Lang == "" {
		in.Lang = s.reportLang(r)
	}
	t, err := svc.CreateTemplate(r.Context(), reqActor(r), in)
	if err != nil {
		return err
	}
	return created(w, idPath("/api/v1/report-templates/", t.ID), t)
}

func (s *Server) apiReportTemplateUpdate(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.reportService()
	if err != nil {
		return err
	}
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	var in report.TemplateInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	t, err := svc.UpdateTemplate(r.Context(), reqActor(r), id, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, t)
}

func init() {
	apiDocs["GET /api/v1/reports"] = apiOp{Summary: "The stored weekly and monthly reports of the organisations the caller sees, newest first",
		Tag: "reports", Response: listResponse[report.Report]{}, Status: 200}
	apiDocs["POST /api/v1/reports"] = apiOp{Summary: "Make a report now and store it: org_id (default the caller's organisation), period " +
		"(YYYY-MM or YYYY-Www), and a template_id (its sections, language and formats) or sections, lang and formats (pdf, html)",
		Tag: "reports", Request: report.GenerateInput{}, Response: report.Report{}, Status: 201}
	apiDocs["GET /api/v1/reports/{id}"] = apiOp{Summary: "A stored report with its files' sizes and SHA-256 digests",
		Tag: "reports", Response: report.Report{}, Status: 200}
	apiDocs["GET /api/v1/reports/{id}/file"] = apiOp{Summary: "Download a stored report's PDF (default) or HTML file; inline=1 shows the HTML " +
		"in a sandboxed frame of this site", Tag: "reports", Status: 200, Query: []string{"format", "inline"}, Produces: "application/pdf"}
	opQueryDocs["GET /api/v1/reports/{id}/file"] = map[string]qdoc{
		"format": oneOf("The file's format", report.Formats),
		"inline": oneOf("1: the HTML shown in a frame of the report's page rather than downloaded", []string{"1"}),
	}
	apiDocs["GET /api/v1/report-templates"] = apiOp{Summary: "The report templates the caller sees: sections, period kind, language, formats, " +
		"recipients and whether the schedule makes a report each period", Tag: "reports", Response: listResponse[report.Template]{}, Status: 200}
	apiDocs["POST /api/v1/report-templates"] = apiOp{Summary: "Create a report template and its schedule (org_id defaults to the caller's organisation)",
		Tag: "reports", Request: report.TemplateInput{}, Response: report.Template{}, Status: 201}
	apiDocs["PUT /api/v1/report-templates/{id}"] = apiOp{Summary: "Replace a report template's settings and schedule (its organisation stays)",
		Tag: "reports", Request: report.TemplateInput{}, Response: report.Template{}, Status: 200}
}
