package web

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/dlp"
	dlpsvc "github.com/medguard/medguard/internal/dlp/service"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/problem"
)

// Colours of levels and decisions in the DLP charts.
var dlpColours = map[string]string{
	"1": "#8fa3b5", "2": "#0b6e99", "3": "#e8a200", "4": "#d9480f", "5": "#8b1a10",
	"allow": "#067647", "alert": "#e8a200", "block": "#b42318",
}

// dlpPage prepares a page of the patient-data section; sub names its own navigation entry.
func (s *Server) dlpPage(r *http.Request, w http.ResponseWriter, title, sub string) *page {
	p := s.newPage(r, w, title, "dlp")
	p.Sub = sub
	return p
}

// TypeLabel translates a finding type, including the identifiers hospitals commonly
// define for themselves (病案号, 门诊号, 住院号…); other site identifiers keep their own name.
func (p *page) TypeLabel(typ string) string {
	if key := "dlp.type." + typ; p.s.I18n.Has(p.Lang, key) {
		return p.T(key)
	}
	return typ
}

// dlpOverviewData is what dlp_overview.html shows.
type dlpOverviewData struct {
	Summary dlpsvc.Summary
	Days    int
	Board   board
	Recent  []dlpsvc.Scan
	Checks  []dlpsvc.Scan // blocked and alerted checks
}

func (s *Server) uiDLPOverview(w http.ResponseWriter, r *http.Request) error {
	ctx, a := r.Context(), reqActor(r)
	p := s.dlpPage(r, w, "dlp.overview.title", "overview")
	days, err := queryInt(r, "days", 30)
	if err != nil || days <= 0 || days > 3660 {
		days = 30
	}
	sum, err := s.DLP.Summary(ctx, a, time.Now().AddDate(0, 0, -days))
	if err != nil {
		return err
	}
	d := dlpOverviewData{Summary: sum, Days: days}
	findings := 0
	for _, c := range sum.ByType {
		findings += c.N
	}
	decisions := map[string]int{}
	for _, c := range sum.Decisions {
		decisions[c.Key] = c.N
	}
	d.Board.KPIs = []kpi{
		{ID: "kpi-scans", Label: "dlp.kpi.scans", N: sum.Scans, Link: "/dlp/scans"},
		{ID: "kpi-findings", Label: "dlp.kpi.findings", N: findings, Link: "/dlp/scans"},
		{ID: "kpi-identifying", Label: "dlp.kpi.identifying_files", N: sum.IdentifyingFiles, Link: "/dlp/scans"},
		{ID: "kpi-blocked", Label: "dlp.kpi.blocked", N: decisions[dlpsvc.DecisionBlock], Link: "/dlp/scans?kind=check&decision=block"},
		{ID: "kpi-alerted", Label: "dlp.kpi.alerted", N: decisions[dlpsvc.DecisionAlert], Link: "/dlp/scans?kind=check&decision=alert"},
	}
	var byType, byLevel, byDecision, byKind []chartItem
	for _, c := range sum.ByType {
		byType = append(byType, chartItem{Label: p.TypeLabel(c.Key), N: c.N})
	}
	for _, c := range sum.ByLevel {
		byLevel = append(byLevel, chartItem{Label: p.T("dlp.level.n", c.Key), N: c.N, Color: dlpColours[c.Key]})
	}
	for _, c := range sum.Decisions {
		if c.N > 0 {
			byDecision = append(byDecision, chartItem{Label: p.T("dlp.decision." + c.Key), N: c.N, Color: dlpColours[c.Key]})
		}
	}
	for _, c := range sum.ByKind {
		if c.N > 0 {
			byKind = append(byKind, chartItem{Label: p.T("dlp.kind." + c.Key), N: c.N})
		}
	}
	for _, c := range []struct {
		id, title string
		spec      chartSpec
	}{
		{"dlp-type", "dlp.chart.by_type", chartSpec{Type: "bar", Horizontal: true, Items: reversed(byType)}},
		{"dlp-level", "dlp.chart.by_level", chartSpec{Type: "bar", Items: byLevel}},
		{"dlp-decision", "dlp.chart.decisions", chartSpec{Type: "pie", Items: byDecision}},
		{"dlp-kind", "dlp.chart.by_kind", chartSpec{Type: "pie", Items: byKind}},
	} {
		ch, err := makeChart(c.id, c.title, c.spec)
		if err != nil {
			return err
		}
		d.Board.Charts = append(d.Board.Charts, ch)
	}
	recent, err := s.DLP.Scans(ctx, a, dlpsvc.ScanQuery{Limit: 10})
	if err != nil {
		return err
	}
	d.Recent = recent.Items
	for _, dec := range []string{dlpsvc.DecisionBlock, dlpsvc.DecisionAlert} {
		pg, err := s.DLP.Scans(ctx, a, dlpsvc.ScanQuery{Kind: dlpsvc.KindCheck, Decision: dec, Limit: 10})
		if err != nil {
			return err
		}
		d.Checks = append(d.Checks, pg.Items...)
	}
	p.Data = d
	return s.render(w, http.StatusOK, "dlp_overview.html", p)
}

// dlpScanForm is what dlp_scan.html shows: the text typed, kept when a scan was refused.
type dlpScanForm struct {
	Name, Text string
}

func (s *Server) uiDLPScanForm(w http.ResponseWriter, r *http.Request) error {
	p := s.dlpPage(r, w, "dlp.scan.title", "scan")
	p.Data = dlpScanForm{}
	return s.render(w, http.StatusOK, "dlp_scan.html", p)
}

// uiDLPScan scans the pasted text or the uploaded file, then shows the scan.
func (s *Server) uiDLPScan(w http.ResponseWriter, r *http.Request) error {
	ctx, a := r.Context(), reqActor(r)
	org := principalFrom(ctx).User.OrgID
	var res dlpsvc.Result
	var err error
	form := dlpScanForm{}
	if isMultipart(r) {
		if err = parseMultipart(w, r, "file", "dlp_too_large", maxDLPUpload); err == nil {
			form = dlpScanForm{Name: r.FormValue("name"), Text: r.FormValue("text")}
			if len(r.MultipartForm.File["file"]) > 0 && r.MultipartForm.File["file"][0].Size > 0 {
				var data []byte
				var name string
				if data, name, err = uploadedDocument(w, r, "file", "dlp_too_large", "dlp_file_required", maxDLPUpload); err == nil {
					res, err = s.DLP.ScanUpload(ctx, a, org, name, data)
				}
			} else {
				res, err = s.DLP.ScanText(ctx, a, org, form.Name, form.Text)
			}
		}
	} else {
		form = dlpScanForm{Name: r.PostFormValue("name"), Text: r.PostFormValue("text")}
		res, err = s.DLP.ScanText(ctx, a, org, form.Name, form.Text)
	}
	if err == nil {
		return redirect(w, r, idPath("/dlp/scans/", res.Scan.ID)+"?flash=flash.dlp_scanned")
	}
	p := s.dlpPage(r, w, "dlp.scan.title", "scan")
	code, err := actionError(p, err)
	if err != nil {
		return err
	}
	p.Data = form
	return s.render(w, code, "dlp_scan.html", p)
}

// dlpListData is what dlp_scans.html and dlp_jobs.html show.
type dlpListData struct {
	Scans  []dlpsvc.Scan
	Total  int
	Query  dlpsvc.ScanQuery
	Roots  []string
	Path   string // the job form's path, kept when refused
	Offset int
	Next   int // offset of the next page, 0 when none
	Prev   int // offset of the previous page, -1 when none
}

// scanList lists the scans in the actor's scope that the filters of r select (kind,
// when not empty, replaces the kind filter: the job list is the scan list of directory
// jobs), with the page links. The API and the pages of both lists use it; the limit is
// the one the service applies (50 unless 1 to 500), so the page size shown is the one used.
func (s *Server) scanList(r *http.Request, kind string) (dlpListData, error) {
	q, err := scanQuery(r)
	if err != nil {
		return dlpListData{}, err
	}
	if kind != "" {
		q.Kind = kind
	}
	pg, err := s.DLP.Scans(r.Context(), reqActor(r), q)
	if err != nil {
		return dlpListData{}, err
	}
	d := dlpListData{Scans: pg.Items, Total: pg.Total, Query: q, Offset: q.Offset, Prev: -1}
	if q.Offset+len(pg.Items) < pg.Total {
		d.Next = q.Offset + q.Limit
	}
	if q.Offset > 0 {
		d.Prev = max(q.Offset-q.Limit, 0)
	}
	return d, nil
}

func (s *Server) uiDLPScanList(w http.ResponseWriter, r *http.Request) error {
	p := s.dlpPage(r, w, "dlp.scans.title", "scans")
	d, err := s.scanList(r, "")
	if err != nil {
		return err
	}
	p.Data = d
	return s.render(w, http.StatusOK, "dlp_scans.html", p)
}

// dlpScanShowData is what dlp_scan_show.html shows.
type dlpScanShowData struct {
	dlpScanResponse
	Types    []string // the scan's finding types, for the filter
	Revealed *dlpsvc.Revealed
}

// showScan renders scan id, with a revealed value when there is one, and actionErr's
// message when a reveal was refused.
func (s *Server) showScan(w http.ResponseWriter, r *http.Request, id int64, rev *dlpsvc.Revealed, actionErr error) error {
	p := s.dlpPage(r, w, "dlp.scan_show.title", "scans")
	code, err := actionError(p, actionErr)
	if err != nil {
		return err
	}
	out, err := s.scanDetail(r, id)
	if err != nil {
		return err
	}
	d := dlpScanShowData{dlpScanResponse: out, Revealed: rev}
	for k := range out.Scan.CountsByType {
		d.Types = append(d.Types, k)
	}
	p.Data = d
	return s.render(w, code, "dlp_scan_show.html", p)
}

func (s *Server) uiDLPScanShow(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	return s.showScan(w, r, id, nil, nil)
}

// uiDLPReveal reveals a finding's raw value (POST with CSRF and a reason, trailed) and
// shows it on its scan's page, once: the value is in this response only. A refused
// reason shows the scan's page with the error.
func (s *Server) uiDLPReveal(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	rev, err := s.DLP.Reveal(r.Context(), reqActor(r), id, r.PostFormValue("reason"))
	if pe, ok := problem.As(err); ok && pe.Field == "reason" {
		f, ferr := s.DLP.Finding(r.Context(), reqActor(r), id)
		if ferr != nil {
			return ferr
		}
		return s.showScan(w, r, f.ScanID, nil, err)
	}
	if err != nil {
		return err
	}
	return s.showScan(w, r, rev.ScanID, &rev, nil)
}

func (s *Server) showJobs(w http.ResponseWriter, r *http.Request, path string, formErr error) error {
	p := s.dlpPage(r, w, "dlp.jobs.title", "jobs")
	code, err := actionError(p, formErr)
	if err != nil {
		return err
	}
	d, err := s.scanList(r, dlpsvc.KindJob)
	if err != nil {
		return err
	}
	d.Roots, d.Path = s.DLP.ScanRoots(), path
	p.Data = d
	return s.render(w, code, "dlp_jobs.html", p)
}

func (s *Server) uiDLPJobs(w http.ResponseWriter, r *http.Request) error {
	return s.showJobs(w, r, "", nil)
}

func (s *Server) uiDLPJobStart(w http.ResponseWriter, r *http.Request) error {
	path := r.PostFormValue("path")
	sc, err := s.DLP.StartJob(r.Context(), reqActor(r), principalFrom(r.Context()).User.OrgID, path)
	if err != nil {
		return s.showJobs(w, r, path, err)
	}
	return redirect(w, r, idPath("/dlp/scans/", sc.ID)+"?flash=flash.dlp_job_started")
}

// dlpPolicyData is what dlp_policy.html shows.
type dlpPolicyData struct {
	View   dlpsvc.PolicyView
	Custom string // the site identifiers, one a line: name | pattern | context words | required
	Levels []int
}

// customLines writes site identifiers one a line.
func customLines(cs []dlp.CustomIdentifier) string {
	var b strings.Builder
	for _, c := range cs {
		fmt.Fprintf(&b, "%s | %s | %s", c.Name, c.Pattern, strings.Join(c.Context, ", "))
		if c.RequireContext {
			b.WriteString(" | required")
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// parseCustomLines reads site identifiers written one a line as customLines writes them:
// "name | pattern | context words | required". The pattern may itself hold "|": the part
// after the last "|" (once a trailing "required" is set aside) is the context words, so a
// pattern with "|" and no context words ends in "| |" or "|".
func parseCustomLines(text string) ([]dlp.CustomIdentifier, error) {
	out := []dlp.CustomIdentifier{}
	for i, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		parts := strings.Split(line, "|")
		if len(parts) < 2 {
			return nil, problem.Invalid("custom", "line %d: write name | pattern | context words | required", i+1).WithMsg("dlp.error.msg.custom_line", i+1)
		}
		c := dlp.CustomIdentifier{Name: strings.TrimSpace(parts[0]), Context: []string{}}
		rest := parts[1:]
		if last := strings.TrimSpace(rest[len(rest)-1]); len(rest) >= 3 && (last == "required" || last == "必需") {
			c.RequireContext = true
			rest = rest[:len(rest)-1]
		}
		if len(rest) >= 2 {
			for _, w := range strings.FieldsFunc(rest[len(rest)-1], func(r rune) bool { return r == ',' || r == '，' || r == '、' }) {
				if w = strings.TrimSpace(w); w != "" {
					c.Context = append(c.Context, w)
				}
			}
			rest = rest[:len(rest)-1]
		}
		c.Pattern = strings.TrimSpace(strings.Join(rest, "|"))
		out = append(out, c)
	}
	return out, nil
}

func (s *Server) showDLPPolicy(w http.ResponseWriter, r *http.Request, view *dlpsvc.PolicyView, custom string, formErr error) error {
	p := s.dlpPage(r, w, "dlp.policy.title", "policy")
	code, err := actionError(p, formErr)
	if err != nil {
		return err
	}
	if view == nil {
		v, err := s.DLP.Policy(r.Context(), reqActor(r), principalFrom(r.Context()).User.OrgID)
		if err != nil {
			return err
		}
		view, custom = &v, customLines(v.Custom)
	}
	p.Data = dlpPolicyData{View: *view, Custom: custom, Levels: []int{0, 1, 2, 3, 4, 5}}
	return s.render(w, code, "dlp_policy.html", p)
}

func (s *Server) uiDLPPolicy(w http.ResponseWriter, r *http.Request) error {
	return s.showDLPPolicy(w, r, nil, "", nil)
}

func (s *Server) uiDLPPolicySet(w http.ResponseWriter, r *http.Request) error {
	v := r.PostFormValue
	pol := dlpsvc.Policy{Unreadable: v("unreadable")}
	var err error
	level := func(name string) int {
		n, e := strconv.Atoi(strings.TrimSpace(v(name)))
		if e != nil && err == nil {
			err = problem.Invalid(name, "choose a level").WithMsg("dlp.error.msg.choose_level")
		}
		return n
	}
	pol.BlockLevel, pol.AlertLevel = level("block_level"), level("alert_level")
	if err == nil {
		pol.BlockIdentifiesPerson, err = parseBool("block_identifies_person", v("block_identifies_person"))
	}
	if err == nil {
		pol.Custom, err = parseCustomLines(v("custom"))
	}
	// One allowed path a line; the service checks them.
	pol.AllowedPaths = strings.Split(strings.ReplaceAll(v("allowed_paths"), "\r\n", "\n"), "\n")
	org := principalFrom(r.Context()).User.OrgID
	if err == nil {
		if _, err = s.DLP.SetPolicy(r.Context(), reqActor(r), org, pol); err == nil {
			return redirect(w, r, "/dlp/policy?flash=flash.dlp_policy_saved")
		}
	}
	view := dlpsvc.PolicyView{Policy: pol, OrgID: org}
	return s.showDLPPolicy(w, r, &view, v("custom"), policyFormError(err))
}

// customItemField matches the service's field for a part of a site identifier:
// "custom.<index>.<part>".
var customItemField = regexp.MustCompile(`^custom\.(\d+)\.([a-z]+)$`)

// customParts name the parts of a site identifier in the reader's language.
var customParts = map[string]i18n.Message{
	"name":     i18n.M("dlp.custom_part.name"),
	"pattern":  i18n.M("dlp.custom_part.pattern"),
	"context":  i18n.M("dlp.custom_part.context"),
	"level":    i18n.M("dlp.custom_part.level"),
	"category": i18n.M("dlp.custom_part.category"),
}

// policyFormError says a problem with one site identifier of the policy form under the
// form's field, custom, naming the identifier by its place and the part at fault in
// words ("identifier 2, pattern: …"): the service's field ("custom.1.pattern") is a path
// in the API's JSON, which the form does not show. Other errors pass unchanged.
func policyFormError(err error) error {
	pe, ok := problem.As(err)
	if !ok || pe.Kind != problem.KindInvalid {
		return err
	}
	m := customItemField.FindStringSubmatch(pe.Field)
	if m == nil {
		return err
	}
	part, ok := customParts[m[2]]
	if !ok {
		return err
	}
	n, convErr := strconv.Atoi(m[1])
	if convErr != nil {
		return err
	}
	var what any = pe.Message
	if pe.Msg != nil {
		what = *pe.Msg
	}
	out := *pe
	out.Field, out.Message = "custom", fmt.Sprintf("identifier %d, %s: %s", n+1, m[2], pe.Message)
	return out.WithMsg("dlp.error.msg.custom_item", n+1, part, what)
}

// JobError is a scan job's stored error in the page's language: the service's own fixed
// texts (and the count of files it got through) are translated, other errors shown as
// stored.
func (p *page) JobError(stored string) string {
	base, rest, stopped := strings.Cut(stored, " (stopped after ")
	var text string
	switch base {
	case dlpsvc.JobInterrupted:
		text = p.T("dlp.job.interrupted")
	case dlpsvc.JobUnrecorded:
		text = p.T("dlp.job.unrecorded")
	case dlpsvc.JobFailed:
		text = p.T("dlp.job.failed")
	default:
		return stored
	}
	if stopped {
		var done, total int
		if _, err := fmt.Sscanf(rest, "%d of %d files", &done, &total); err != nil {
			return stored
		}
		text += p.T("dlp.job.stopped_after", done, total)
	}
	return text
}
