package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/problem"
)

// The alert inbox's pages: every module's alerts in one list with filters, counts and
// bulk actions, and one alert with its evidence (package alert).

// alertsPerPage is the length of a page of the inbox.
const alertsPerPage = 50

// Colours of the severities in the inbox's charts (the badges' colours).
var severityColours = map[string]string{
	alert.SeverityCritical: "#8b1a10", alert.SeverityHigh: "#d9480f", alert.SeverityMedium: "#e8a200",
	alert.SeverityLow: "#0b6e99", alert.SeverityInfo: "#8fa3b5",
}

// alertFilterForm is the inbox's filter form as the reader filled it in.
type alertFilterForm struct {
	Source, Kind, Severity, Status, Silenced, Q string
	Mine                                        bool
}

// alertInboxData is what alerts.html shows.
type alertInboxData struct {
	pager
	Board      board
	Alerts     []alert.Alert
	F          alertFilterForm
	Sources    []string
	Severities []string
	Statuses   []string
	Resolution []string
	Cases      []alert.Case // open cases the ticked alerts can join
	Change     changeForm
	Now        time.Time
}

// changeForm is what the "alert_change" template fragment shows: the fields of a
// workflow change, their ids prefixed with Prefix.
type changeForm struct {
	Prefix      string
	Statuses    []string
	Resolutions []string
}

// alertPage prepares a page of the alert section; sub names its own navigation entry.
func (s *Server) alertPage(r *http.Request, w http.ResponseWriter, title, sub string) *page {
	p := s.newPage(r, w, title, "alerts")
	p.Sub = sub
	return p
}

// AlertSource names the module an alert came from in the page's language.
func (p *page) AlertSource(src string) string {
	if key := "alert.source." + src; p.s.I18n.Has(p.Lang, key) {
		return p.T(key)
	}
	return src
}

// AlertKind names what an alert is about in the page's language: a built-in
// monitoring rule by its name; a kind without a catalogue entry (a hospital's own rule)
// keeps its id.
func (p *page) AlertKind(kind string) string {
	if key := "alert.kind." + kind; p.s.I18n.Has(p.Lang, key) {
		return p.T(key)
	}
	if key := "detect.rule." + kind; p.s.I18n.Has(p.Lang, key) { // a built-in monitoring rule
		return p.T(key)
	}
	return kind
}

// AlertTitle is the alert's title in the page's language.
func (p *page) AlertTitle(al alert.Alert) string { return p.Msg(al.TitleMsg, al.Title) }

func alertFilter(r *http.Request, user string) (alert.Filter, alertFilterForm, error) {
	q := r.URL.Query()
	ff := alertFilterForm{Source: q.Get("source"), Kind: q.Get("kind"), Severity: q.Get("severity"), Status: q.Get("status"),
		Silenced: q.Get("silenced"), Q: strings.TrimSpace(q.Get("q"))}
	f := alert.Filter{Source: ff.Source, Kind: ff.Kind, Severity: ff.Severity, Status: ff.Status, Text: ff.Q}
	switch ff.Silenced {
	case "":
	case "yes", "no":
		b := ff.Silenced == "yes"
		f.Silenced = &b
	default:
		return f, ff, problem.OneOf("silenced", "yes", "no")
	}
	mine, err := queryBool(r, "mine")
	if err != nil {
		return f, ff, err
	}
	if ff.Mine = mine; mine {
		f.Assignee = user
	}
	return f, ff, nil
}

func (s *Server) uiAlertInbox(w http.ResponseWriter, r *http.Request) error {
	return s.showInbox(w, r, nil)
}

// showInbox renders the inbox for the filters in the request's query, with failed (the
// error of a bulk action) at the top when it is a problem for the reader.
func (s *Server) showInbox(w http.ResponseWriter, r *http.Request, failed error) error {
	ctx, a := r.Context(), reqActor(r)
	pr := principalFrom(ctx)
	p := s.alertPage(r, w, "alert.inbox.title", "inbox")
	d := alertInboxData{pager: newPager(1, alertsPerPage, 0), Severities: alert.Severities,
		Statuses: append([]string{alert.StatusOpen}, alert.Statuses...), Resolution: alert.Resolutions, Now: time.Now(),
		Change: changeForm{Prefix: "bulk-", Statuses: alert.Statuses[1:], Resolutions: alert.Resolutions}}
	code := http.StatusOK
	err := func() error {
		f, ff, err := alertFilter(r, pr.User.Username)
		d.F = ff
		if err != nil {
			return err
		}
		page, err := queryInt(r, "page", 1)
		if err != nil {
			return err
		}
		page = max(page, 1)
		f.Limit, f.Offset = alertsPerPage, (page-1)*alertsPerPage
		as, total, err := s.Alerts.List(ctx, a, f)
		if err != nil {
			return err
		}
		d.Alerts, d.pager = as, newPager(page, alertsPerPage, total)
		return nil
	}()
	if code, err = actionError(p, err); err != nil {
		return err
	}
	if failed != nil {
		if code, err = actionError(p, failed); err != nil {
			return err
		}
	}
	bySev, bySrc, err := s.Alerts.Counts(ctx, a)
	if err != nil {
		return err
	}
	sevN := map[string]int{}
	for _, c := range bySev {
		sevN[c.Key] = c.N
	}
	var sevItems, srcItems []chartItem
	for _, sev := range alert.Severities {
		d.Board.KPIs = append(d.Board.KPIs, kpi{ID: "kpi-" + sev, Label: "alert.kpi." + sev, N: sevN[sev],
			Link: "/alerts?status=open&severity=" + sev})
		if sevN[sev] > 0 {
			sevItems = append(sevItems, chartItem{Label: p.T("alert.severity." + sev), N: sevN[sev], Color: severityColours[sev]})
		}
	}
	sources := map[string]bool{"supply": true, "dlp": true}
	for _, c := range bySrc {
		sources[c.Key] = true
		srcItems = append(srcItems, chartItem{Label: p.AlertSource(c.Key), N: c.N})
	}
	for src := range sources {
		d.Sources = append(d.Sources, src)
	}
	sort.Strings(d.Sources)
	for _, c := range []struct {
		id, title string
		spec      chartSpec
	}{
		{"alert-severity", "alert.chart.by_severity", chartSpec{Type: "bar", Items: sevItems}},
		{"alert-source", "alert.chart.by_source", chartSpec{Type: "pie", Items: srcItems}},
	} {
		ch, err := makeChart(c.id, c.title, c.spec)
		if err != nil {
			return err
		}
		d.Board.Charts = append(d.Board.Charts, ch)
	}
	if p.Can("alert.manage") {
		if d.Cases, _, err = s.Alerts.Cases(ctx, a, alert.CaseQuery{Status: alert.StatusOpen, Limit: 100}); err != nil {
			return err
		}
	}
	p.Data = d
	return s.render(w, code, "alerts.html", p)
}

// formIDs reads the ticked ids of a bulk form.
func formIDs(r *http.Request) ([]int64, error) {
	var ids []int64
	for _, v := range r.PostForm["ids"] {
		id, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || id <= 0 {
			return nil, problem.Invalid("ids", "ids must be positive integers").WithMsg("supply.error.msg.not_valid")
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return nil, problem.Invalid("ids", "no alert ticked").WithMsg("alert.error.none_ticked")
	}
	return ids, nil
}

// formChange reads a workflow change (status, resolution, reason, accepted until).
func formChange(r *http.Request) (alert.Change, error) {
	ch := alert.Change{Status: r.PostFormValue("status"), Resolution: r.PostFormValue("resolution"),
		Reason: r.PostFormValue("reason")}
	if ch.Status != alert.StatusResolved {
		ch.Resolution = "" // the resolution fields stay filled in whatever the choice
		return ch, nil
	}
	if ch.Resolution == alert.ResolutionRiskAccepted {
		until, err := parseExpiry(r.PostFormValue("accepted_until"))
		if err != nil {
			return ch, problem.Invalid("accepted_until", "must be a date").WithMsg("supply.error.msg.date_or_time")
		}
		ch.AcceptedUntil = until
	}
	return ch, nil
}

// inboxQuery is the inbox's own filter query of a bulk form (posted to the inbox's
// address with its query), re-encoded so that nothing else can ride along.
func inboxQuery(r *http.Request, flash string) string {
	q := url.Values{}
	for _, k := range []string{"source", "kind", "severity", "status", "silenced", "q", "mine", "page"} {
		if v := r.URL.Query().Get(k); v != "" {
			q.Set(k, v)
		}
	}
	q.Set("flash", flash)
	return q.Encode()
}

func (s *Server) uiAlertBulk(w http.ResponseWriter, r *http.Request) error {
	ctx, a := r.Context(), reqActor(r)
	_ = r.PostFormValue("action") // parses the form (the gate has read it already for its CSRF token)
	err := func() error {
		ids, err := formIDs(r)
		if err != nil {
			return err
		}
		switch r.PostFormValue("action") {
		case "ack":
			for _, id := range ids {
				if _, err := s.Alerts.Acknowledge(ctx, a, id); err != nil {
					return err
				}
			}
			return redirect(w, r, "/alerts?"+inboxQuery(r, "flash.alert.acknowledged"))
		case "status":
			ch, err := formChange(r)
			if err != nil {
				return err
			}
			if _, err := s.Alerts.SetStatus(ctx, a, ids, ch); err != nil {
				return err
			}
			return redirect(w, r, "/alerts?"+inboxQuery(r, "flash.alert.status_saved"))
		case "assign":
			if _, err := s.Alerts.Assign(ctx, a, ids, r.PostFormValue("assignee")); err != nil {
				return err
			}
			return redirect(w, r, "/alerts?"+inboxQuery(r, "flash.alert.assigned"))
		case "new_case":
			c, err := s.Alerts.CreateCase(ctx, a, alert.CaseInput{OrgID: s.caseOrg(r, ids),
				Title: r.PostFormValue("case_title"), AlertIDs: ids})
			if err != nil {
				return err
			}
			return redirect(w, r, idPath("/cases/", c.ID)+"?flash=flash.alert.case_created")
		case "add_case":
			id, err := formID(r, "case_id")
			if err != nil {
				return err
			}
			if id == 0 {
				return problem.Required("case_id")
			}
			if _, err := s.Alerts.AddToCase(ctx, a, id, ids); err != nil {
				return err
			}
			return redirect(w, r, idPath("/cases/", id)+"?flash=flash.alert.added_to_case")
		}
		return problem.OneOf("action", "ack", "status", "assign", "new_case", "add_case")
	}()
	if err == nil {
		return nil
	}
	return s.showInbox(w, r, err)
}

// caseOrg is the organisation of a new case of alerts ids: theirs when they all belong
// to one the reader sees, else the reader's own (which holds every alert they see).
func (s *Server) caseOrg(r *http.Request, ids []int64) int64 {
	own := principalFrom(r.Context()).User.OrgID
	var org int64
	for _, id := range ids {
		al, err := s.Alerts.Get(r.Context(), reqActor(r), id)
		if err != nil || (org != 0 && al.OrgID != org) {
			return own // an alert not seen fails in CreateCase, with its message
		}
		org = al.OrgID
	}
	if org == 0 {
		return own
	}
	return org
}

// evidenceRow is one value of an alert's evidence: its place (a.b, list[2]) and value.
type evidenceRow struct{ Key, Value string }

// maxEvidenceRows bounds the evidence table.
const maxEvidenceRows = 200

// evidenceRows flattens an alert's evidence into rows, sorted by place; every value
// goes through the patient-data masker before it is shown. A catalogue message stored
// in the evidence ({"key": …, "args": […]}) is one row in lang, and a list of English
// texts stored beside its messages ("problems" beside "problem_msgs") is left out.
func (s *Server) evidenceRows(lang string, raw json.RawMessage) []evidenceRow {
	var v any
	if len(raw) == 0 || json.Unmarshal(raw, &v) != nil {
		return nil
	}
	var rows []evidenceRow
	var walk func(key string, v any)
	walk = func(key string, v any) {
		if len(rows) >= maxEvidenceRows {
			return
		}
		switch x := v.(type) {
		case map[string]any:
			if text, ok := s.catalogued(lang, x); ok {
				rows = append(rows, evidenceRow{key, s.maskLog(text)})
				return
			}
			keys := make([]string, 0, len(x))
			for k := range x {
				if _, dup := x[strings.TrimSuffix(k, "s")+"_msgs"]; dup {
					continue // the same texts as catalogue messages
				}
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				walk(strings.TrimPrefix(key+"."+k, "."), x[k])
			}
		case []any:
			scalars := true
			for _, e := range x {
				switch e.(type) {
				case map[string]any, []any:
					scalars = false
				}
			}
			if scalars {
				parts := make([]string, len(x))
				for i, e := range x {
					parts[i] = scalarText(e)
				}
				rows = append(rows, evidenceRow{key, s.maskLog(strings.Join(parts, ", "))})
				return
			}
			for i, e := range x {
				walk(fmt.Sprintf("%s[%d]", key, i), e)
			}
		default:
			rows = append(rows, evidenceRow{key, s.maskLog(scalarText(x))})
		}
	}
	walk("", v)
	return rows
}

// catalogued renders m when it is a stored catalogue message: a key the catalogue has
// and, at most, its arguments.
func (s *Server) catalogued(lang string, m map[string]any) (string, bool) {
	key, ok := m["key"].(string)
	if !ok || len(m) > 2 || s.I18n == nil || !s.I18n.Has(lang, key) {
		return "", false
	}
	if _, ok := m["args"]; len(m) == 2 && !ok {
		return "", false
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", false
	}
	var msg i18n.Message
	if json.Unmarshal(b, &msg) != nil {
		return "", false
	}
	return s.I18n.Render(lang, msg), true
}

func scalarText(v any) string {
	switch x := v.(type) {
	case nil:
		return "–"
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	return fmt.Sprint(v)
}

// ruleShown are the evidence entries of a detection rule's alert that the alert page
// shows in its own rows (rule, grouped fields, time range) or sections (explanation).
var ruleShown = []string{"rule", "version", "name", "group", "group_by", "from", "to", "explanation"}

// ruleEvidence is the evidence of al without what the page shows elsewhere when a rule
// raised it (the events and anything else the rule stored remain).
func ruleEvidence(al alert.Alert) json.RawMessage {
	if al.Rule == "" {
		return al.Evidence
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(al.Evidence, &m) != nil {
		return al.Evidence
	}
	for _, k := range ruleShown {
		delete(m, k)
	}
	b, err := json.Marshal(m)
	if err != nil {
		return al.Evidence
	}
	return b
}

// alertExplanation is the explanation a detection rule stored in an alert's evidence
// ({"explanation": {"class": …, "reasons": [messages]}}): the class of the access and
// its sentences in the reader's language.
type alertExplanation struct {
	Class   string
	Reasons []string
}

// explanationOf reads the explanation of an alert's evidence; nil when there is none.
func (s *Server) explanationOf(lang string, raw json.RawMessage) *alertExplanation {
	var ev struct {
		Explanation *struct {
			Class   string         `json:"class"`
			Reasons []i18n.Message `json:"reasons"`
		} `json:"explanation"`
	}
	if len(raw) == 0 || json.Unmarshal(raw, &ev) != nil || ev.Explanation == nil || ev.Explanation.Class == "" {
		return nil
	}
	switch ev.Explanation.Class {
	case "explained", "flagged", "unexplained":
	default:
		return nil
	}
	out := &alertExplanation{Class: ev.Explanation.Class}
	for _, m := range ev.Explanation.Reasons {
		if s.I18n != nil && s.I18n.Has(lang, m.Key) {
			out.Reasons = append(out.Reasons, s.maskLog(s.I18n.Render(lang, m)))
		}
	}
	return out
}

// alertShowData is what alert.html shows.
type alertShowData struct {
	Alert       alert.Alert
	Explanation *alertExplanation
	Evidence    []evidenceRow
	Silence     *alert.Silence
	Cases       []alert.Case
	Statuses    []string
	Resolution  []string
	Change      changeForm
	Now         time.Time
}

func (s *Server) uiAlertShow(w http.ResponseWriter, r *http.Request) error {
	ctx, a := r.Context(), reqActor(r)
	id, err := pathID(r)
	if err != nil {
		return err
	}
	al, err := s.Alerts.Get(ctx, a, id)
	if err != nil {
		return err
	}
	p := s.alertPage(r, w, "alert.show.title", "inbox")
	d := alertShowData{Alert: al, Evidence: s.evidenceRows(p.Lang, ruleEvidence(al)), Statuses: alert.Statuses,
		Explanation: s.explanationOf(p.Lang, al.Evidence), Resolution: alert.Resolutions, Now: time.Now(),
		Change: changeForm{Prefix: "alert-", Statuses: alert.Next(al.Status), Resolutions: alert.Resolutions}}
	if al.SilenceID != 0 {
		if sl, err := s.Alerts.Silence(ctx, a, al.SilenceID); err == nil {
			d.Silence = &sl
		} else if _, ok := problem.As(err); !ok {
			return err
		}
	}
	if p.Can("alert.manage") && al.CaseID == 0 {
		if d.Cases, _, err = s.Alerts.Cases(ctx, a, alert.CaseQuery{Status: alert.StatusOpen, Limit: 100}); err != nil {
			return err
		}
	}
	p.Data = d
	return s.render(w, http.StatusOK, "alert.html", p)
}

// uiAlertAction runs one of the inbox's bulk actions on the alert of the address and
// returns to its page.
func (s *Server) uiAlertAction(w http.ResponseWriter, r *http.Request) error {
	ctx, a := r.Context(), reqActor(r)
	id, err := pathID(r)
	if err != nil {
		return err
	}
	al, err := s.Alerts.Get(ctx, a, id) // another hospital's alert is 404 before its input is read
	if err != nil {
		return err
	}
	_ = r.PostFormValue("action") // parses the form (the gate has read it already for its CSRF token)
	back := idPath("/alerts/", al.ID)
	err = func() error {
		switch r.PostFormValue("action") {
		case "ack":
			_, err := s.Alerts.Acknowledge(ctx, a, id)
			return err
		case "status":
			ch, err := formChange(r)
			if err != nil {
				return err
			}
			_, err = s.Alerts.SetStatus(ctx, a, []int64{id}, ch)
			return err
		case "assign":
			_, err := s.Alerts.Assign(ctx, a, []int64{id}, r.PostFormValue("assignee"))
			return err
		case "add_case":
			cid, err := formID(r, "case_id")
			if err != nil {
				return err
			}
			if cid == 0 {
				return problem.Required("case_id")
			}
			_, err = s.Alerts.AddToCase(ctx, a, cid, []int64{id})
			return err
		}
		return problem.OneOf("action", "ack", "status", "assign", "add_case")
	}()
	if err != nil {
		pe, ok := problem.As(err)
		if !ok {
			return err
		}
		p := s.alertPage(r, w, "alert.show.title", "inbox")
		code := p.fail(pe)
		d := alertShowData{Alert: al, Evidence: s.evidenceRows(p.Lang, al.Evidence), Statuses: alert.Statuses,
			Resolution: alert.Resolutions, Now: time.Now(),
			Change: changeForm{Prefix: "alert-", Statuses: alert.Next(al.Status), Resolutions: alert.Resolutions}}
		p.Data = d
		return s.render(w, code, "alert.html", p)
	}
	return redirect(w, r, back+"?flash=flash.alert.saved")
}
