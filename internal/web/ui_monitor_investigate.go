package web

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// monitorPage is the data of the investigation pages.
type monitorPage struct {
	Watermark    string // the viewer's user name and the time (防泄露水印)
	From, To     string // the range as entered
	Max          int
	Account      *accountReport
	Patient      *patientReport
	PatientQuery string // the identifier entered in the form
	CSV          string // the export of the patient report
}

// watermark is the text that marks a page or export of patient-level data: who viewed
// it and when.
func watermark(r *http.Request, now time.Time) string {
	user := ""
	if p := principalFrom(r.Context()); p != nil {
		user = p.User.Username
	}
	return user + " · " + now.Format("2006-01-02 15:04:05 MST")
}

// withOrg keeps the org_id of the request's query on a link.
func withOrg(r *http.Request, link string, q url.Values) string {
	if o := r.URL.Query().Get("org_id"); o != "" {
		q.Set("org_id", o)
	}
	if len(q) == 0 {
		return link
	}
	return link + "?" + q.Encode()
}

// uiMonitorAccount is the account investigation page: everything the account did in a
// range, each event with its explanation.
func (s *Server) uiMonitorAccount(w http.ResponseWriter, r *http.Request) error {
	p := s.newPage(r, w, "explain.account.title", "monitor")
	p.Sub = "account"
	rep, err := s.accountReport(r, p.Lang)
	if err != nil {
		return err
	}
	p.Data = monitorPage{Watermark: watermark(r, time.Now()), From: r.URL.Query().Get("from"), To: r.URL.Query().Get("to"),
		Max: maxInvestigation, Account: &rep}
	return s.render(w, http.StatusOK, "monitor_account.html", p)
}

// uiMonitorPatients is the patient access report: a form, and the report of the
// patient it names.
func (s *Server) uiMonitorPatients(w http.ResponseWriter, r *http.Request) error {
	p := s.newPage(r, w, "explain.patients.title", "monitor")
	p.Sub = "patients"
	q := r.URL.Query()
	d := monitorPage{Watermark: watermark(r, time.Now()), From: q.Get("from"), To: q.Get("to"), Max: maxInvestigation,
		PatientQuery: strings.TrimSpace(q.Get("patient_id"))}
	if d.PatientQuery != "" {
		r.SetPathValue("patient_id", d.PatientQuery)
		rep, err := s.patientReport(r, p.Lang, "page")
		if err != nil {
			return err
		}
		for i := range rep.Accesses {
			rep.Accesses[i].Link = withOrg(r, "/monitor/accounts/"+url.PathEscape(rep.Accesses[i].Account), url.Values{})
		}
		d.Patient = &rep
		cq := url.Values{}
		for _, k := range []string{"from", "to"} {
			if v := q.Get(k); v != "" {
				cq.Set(k, v)
			}
		}
		d.CSV = withOrg(r, "/monitor/patients/"+url.PathEscape(d.PatientQuery)+"/accesses.csv", cq)
	}
	p.Data = d
	return s.render(w, http.StatusOK, "monitor_patients.html", p)
}

// patientCSVColumns is the header of the patient report export.
var patientCSVColumns = []string{"time", "account", "staff_id", "department", "role", "system", "action", "outcome",
	"record_type", "record_count", "source_ip", "terminal", "class", "filter", "flags", "reasons", "exported_by"}

// uiMonitorPatientCSV exports the patient access report as CSV (UTF-8 with a byte-order
// mark): a first comment line and a last column carry the watermark.
func (s *Server) uiMonitorPatientCSV(w http.ResponseWriter, r *http.Request) error {
	lang := s.newPage(r, nil, "", "").Lang
	rep, err := s.patientReport(r, lang, "csv")
	if err != nil {
		return err
	}
	mark := watermark(r, time.Now())
	var buf bytes.Buffer
	buf.WriteString("\ufeff")
	fmt.Fprintf(&buf, "# medguard patient access report %s, %s – %s; exported by %s\n", rep.PatientID,
		rep.From.Format(time.RFC3339), rep.To.Format(time.RFC3339), csvCell(mark))
	cw := csv.NewWriter(&buf)
	if err := cw.Write(patientCSVColumns); err != nil {
		return fmt.Errorf("web: patient report CSV: %w", err)
	}
	for _, a := range rep.Accesses {
		ex := a.Explanation
		row := []string{a.Time.Format(time.RFC3339), a.Account, a.StaffID, a.Department, a.Role, a.System, a.Action, a.Outcome,
			a.RecordType, strconv.Itoa(a.RecordCount), a.SourceIP, a.Terminal, ex.Class, ex.Filter, strings.Join(ex.Flags, " "),
			strings.Join(a.ReasonTexts, "; "), mark}
		for i := range row {
			row[i] = csvCell(row[i])
		}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("web: patient report CSV: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("web: patient report CSV: %w", err)
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="patient-access-report.csv"`)
	h.Set("Cache-Control", "no-store")
	_, err = w.Write(buf.Bytes())
	return err
}

// csvCell stops a spreadsheet from running a cell as a formula (CSV injection): the
// accounts, terminals and departments come from outside systems.
func csvCell(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}
