package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/report"
)

// reportsData is the reports page: the stored reports, the form that makes one, and
// the templates with their schedules.
type reportsData struct {
	Reports   []report.Report
	Templates []report.Template
	Orgs      []orgOption
	Sections  []string
	Formats   []string
	Edit      report.TemplateInput // the template form's values (after a refusal)
	EditID    int64                // the template being edited, 0 for a new one
}

func (s *Server) uiReports(w http.ResponseWriter, r *http.Request) error {
	return s.showReports(w, r, nil, reportsData{})
}

// showReports renders /reports with failed (the problem of an action) at the top and
// the template form filled from d.
func (s *Server) showReports(w http.ResponseWriter, r *http.Request, failed error, d reportsData) error {
	svc, err := s.reportService()
	if err != nil {
		return err
	}
	p := s.newPage(r, w, "report.ui.title", "compliance")
	p.Sub = "reports"
	code, err := actionError(p, failed)
	if err != nil {
		return err
	}
	a := reqActor(r)
	if d.Reports, err = svc.Reports(r.Context(), a, 200); err != nil {
		return err
	}
	if d.Templates, err = svc.Templates(r.Context(), a); err != nil {
		return err
	}
	if d.Orgs, err = s.orgOptions(r.Context(), a); err != nil {
		return err
	}
	d.Sections, d.Formats = svc.Sections(), report.Formats
	if edit, _ := strconv.ParseInt(r.URL.Query().Get("edit"), 10, 64); edit > 0 && failed == nil {
		t, err := svc.Template(r.Context(), a, edit)
		if err != nil {
			return err
		}
		d.EditID = t.ID
		d.Edit = report.TemplateInput{OrgID: t.OrgID, Scope: t.Scope, Name: t.Name, Sections: t.Sections, Kind: t.Kind, Lang: t.Lang,
			Formats: t.Formats, Recipients: t.Recipients, Scheduled: t.Scheduled}
	}
	p.Data = d
	return s.render(w, code, "reports.html", p)
}

// uiReportGenerate makes a report from the form and opens it.
func (s *Server) uiReportGenerate(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.reportService()
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return problem.Invalid("form", "unreadable").WithMsg("report.error.period")
	}
	in := report.GenerateInput{Period: strings.TrimSpace(r.PostFormValue("period")), Lang: r.PostFormValue("lang"),
		Sections: r.PostForm["sections"], Formats: r.PostForm["formats"]}
	in.OrgID, _ = strconv.ParseInt(r.PostFormValue("org_id"), 10, 64)
	in.TemplateID, _ = strconv.ParseInt(r.PostFormValue("template_id"), 10, 64)
	if in.Lang == "" && in.TemplateID == 0 {
		in.Lang = s.reportLang(r)
	}
	rep, err := svc.Generate(r.Context(), reqActor(r), in)
	if err != nil {
		if _, ok := problem.As(err); !ok {
			return err
		}
		return s.showReports(w, r, err, reportsData{})
	}
	return redirect(w, r, idPath("/reports/", rep.ID)+"?flash=flash.report.generated")
}

// templateForm reads the template form.
func templateForm(r *http.Request) report.TemplateInput {
	_ = r.ParseForm()
	in := report.TemplateInput{Name: r.PostFormValue("name"), Kind: r.PostFormValue("kind"), Lang: r.PostFormValue("lang"),
		Scope: r.PostFormValue("scope"), Sections: r.PostForm["sections"], Formats: r.PostForm["formats"],
		Scheduled: r.PostFormValue("scheduled") == "on"}
	in.OrgID, _ = strconv.ParseInt(r.PostFormValue("org_id"), 10, 64)
	for _, rc := range strings.FieldsFunc(r.PostFormValue("recipients"), func(c rune) bool { return c == ',' || c == '\n' || c == ' ' }) {
		in.Recipients = append(in.Recipients, strings.TrimSpace(rc))
	}
	return in
}

func (s *Server) uiReportTemplateCreate(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.reportService()
	if err != nil {
		return err
	}
	in := templateForm(r)
	if _, err := svc.CreateTemplate(r.Context(), reqActor(r), in); err != nil {
		if _, ok := problem.As(err); !ok {
			return err
		}
		return s.showReports(w, r, err, reportsData{Edit: in})
	}
	return redirect(w, r, "/reports?flash=flash.report.template_saved")
}

func (s *Server) uiReportTemplateUpdate(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.reportService()
	if err != nil {
		return err
	}
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	if _, err := svc.Template(r.Context(), reqActor(r), id); err != nil {
		return err
	}
	in := templateForm(r)
	if _, err := svc.UpdateTemplate(r.Context(), reqActor(r), id, in); err != nil {
		if _, ok := problem.As(err); !ok {
			return err
		}
		return s.showReports(w, r, err, reportsData{Edit: in, EditID: id})
	}
	return redirect(w, r, "/reports?flash=flash.report.template_saved")
}

// reportShowData is one report's page.
type reportShowData struct {
	Report  report.Report
	HasHTML bool
	HasPDF  bool
}

func (s *Server) uiReportShow(w http.ResponseWriter, r *http.Request) error {
	_, rep, err := s.visibleReport(r)
	if err != nil {
		return err
	}
	p := s.newPage(r, w, "report.ui.show_title", "compliance")
	p.Sub = "reports"
	d := reportShowData{Report: rep}
	for _, f := range rep.Files {
		d.HasHTML = d.HasHTML || f.Format == report.FormatHTML
		d.HasPDF = d.HasPDF || f.Format == report.FormatPDF
	}
	p.Data = d
	return s.render(w, http.StatusOK, "report.html", p)
}

// Has reports whether list holds v (for check boxes).
func (reportsData) Has(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
