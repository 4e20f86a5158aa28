package web

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/events"
	"github.com/medguard/medguard/internal/explain"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/reference"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

// maxInvestigation is how many events an investigation shows; a longer range is cut
// (Truncated) and should be narrowed.
const maxInvestigation = 5000

// defaultInvestigationRange is the range of an investigation without from.
const defaultInvestigationRange = 30 * 24 * time.Hour

// monitorEvent is one event of an investigation with its explanation. Patient
// identifiers are masked (alert.MaskPatientID); the raw original is never shown.
type monitorEvent struct {
	Seq         int64     `json:"seq"`
	ID          string    `json:"id"`
	Time        time.Time `json:"time"`
	System      string    `json:"system"`
	Account     string    `json:"account"`
	StaffID     string    `json:"staff_id,omitempty"`
	Department  string    `json:"department,omitempty"`
	Role        string    `json:"role,omitempty"` // of the staff member, from the reference data
	Action      string    `json:"action"`
	Outcome     string    `json:"outcome,omitempty"`
	PatientID   string    `json:"patient_id,omitempty"` // masked
	RecordType  string    `json:"record_type,omitempty"`
	RecordCount int       `json:"record_count,omitempty"`
	SourceIP    string    `json:"source_ip,omitempty"`
	Terminal    string    `json:"terminal,omitempty"`
	// Explanation classifies a patient-record access (class "" for other events);
	// ReasonTexts are its reasons in the caller's language.
	Explanation explain.Explanation `json:"explanation"`
	ReasonTexts []string            `json:"reason_texts"`
	Link        string              `json:"-"` // the account's investigation page (pages only)
}

// monitorCounts counts the events of an investigation by class; Other are the events
// that are no patient-record access (logins, drug-usage queries …).
type monitorCounts struct {
	Explained   int `json:"explained"`
	Flagged     int `json:"flagged"`
	Unexplained int `json:"unexplained"`
	Other       int `json:"other"`
}

// monitorStaff is the staff member behind an account, from the reference data.
type monitorStaff struct {
	StaffID    string `json:"staff_id"`
	Department string `json:"department"`
	Role       string `json:"role"`
}

// accountReport is everything an account did in a time range, explained.
type accountReport struct {
	OrgID     int64          `json:"org_id"`
	Account   string         `json:"account"`
	Staff     *monitorStaff  `json:"staff"` // null when the account is in no staff list
	From      time.Time      `json:"from"`
	To        time.Time      `json:"to"`
	Counts    monitorCounts  `json:"counts"`
	Events    []monitorEvent `json:"events"`
	Truncated bool           `json:"truncated"` // more than maxInvestigation events: narrow the range
}

// patientReport is who opened a patient's record in a time range, and why it was
// explained or not.
type patientReport struct {
	OrgID     int64          `json:"org_id"`
	PatientID string         `json:"patient_id"` // masked
	From      time.Time      `json:"from"`
	To        time.Time      `json:"to"`
	Counts    monitorCounts  `json:"counts"`
	Accesses  []monitorEvent `json:"accesses"`
	Truncated bool           `json:"truncated"`
}

func init() {
	apiDocs["GET /api/v1/monitor/accounts/{account}/events"] = apiOp{Summary: "Account investigation: every event of an account of the " +
		"organisation (?org_id=, default the caller's) in [from, to) (RFC 3339 or YYYY-MM-DD; default the last 30 days), at most 5,000 " +
		"(truncated tells), each patient-record access with its explanation (class, filter, flags, reasons as catalogue messages and as " +
		"texts in the caller's language), counts per class and the staff member (department, role); patient identifiers masked. " +
		"404 for an account the organisation does not know", Tag: "monitor", Response: accountReport{}, Status: 200,
		Query: []string{"org_id", "from", "to"}}
	apiDocs["GET /api/v1/monitor/patients/{patient_id}/accesses"] = apiOp{Summary: "Patient access report (PIPL): who opened the " +
		"patient's record in the organisation (?org_id=, default the caller's) in [from, to), when, what, and why each access was " +
		"explained or not; at most 5,000 accesses. The viewing is recorded in the trail (patient identifier hashed and masked). 404 " +
		"for a patient the organisation does not know", Tag: "monitor", Response: patientReport{}, Status: 200,
		Query: []string{"org_id", "from", "to"}}
	rangeDocs := map[string]qdoc{
		"from": str("Start of the range (inclusive): RFC 3339, or a date YYYY-MM-DD (Asia/Shanghai); default 30 days before to"),
		"to":   str("End of the range (exclusive): RFC 3339, or a date YYYY-MM-DD (Asia/Shanghai), which includes that day; default now"),
	}
	opQueryDocs["GET /api/v1/monitor/accounts/{account}/events"] = rangeDocs
	opQueryDocs["GET /api/v1/monitor/patients/{patient_id}/accesses"] = rangeDocs
}

// explainer returns the shared Explainer.
func (s *Server) explainer() *explain.Explainer { return s.Explain }

// parseMonitorTime reads a range bound: RFC 3339, or a date (YYYY-MM-DD, Asia/Shanghai),
// which as the end of a range includes the whole day.
func parseMonitorTime(field, v string, end bool) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation(time.DateOnly, v, reference.Shanghai); err == nil {
		if end {
			t = t.AddDate(0, 0, 1)
		}
		return t, nil
	}
	return time.Time{}, problem.Invalid(field, "must be a date (YYYY-MM-DD) or an RFC 3339 time").WithMsg("explain.err.time", field)
}

// monitorRange reads from and to (default: the last 30 days up to now).
func (s *Server) monitorRange(r *http.Request) (time.Time, time.Time, error) {
	q := r.URL.Query()
	to := time.Now()
	var from time.Time
	var err error
	if v := strings.TrimSpace(q.Get("to")); v != "" {
		if to, err = parseMonitorTime("to", v, true); err != nil {
			return from, to, err
		}
	}
	from = to.Add(-defaultInvestigationRange)
	if v := strings.TrimSpace(q.Get("from")); v != "" {
		if from, err = parseMonitorTime("from", v, false); err != nil {
			return from, to, err
		}
	}
	if !from.Before(to) {
		return from, to, problem.Invalid("from", "must be before to").WithMsg("explain.err.range")
	}
	return from, to, nil
}

// validKey checks an account or patient identifier from a path: not empty, not too
// long, no control character. A bad one is simply not found.
func validKey(what, v string) error {
	if v == "" || len(v) > 256 || !utf8.ValidString(v) || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return problem.NotFound(what)
	}
	return nil
}

// monitorOrg returns the organisation of an investigation (?org_id=, default the
// caller's), which the caller must see: another hospital's is not found.
func (s *Server) monitorOrg(r *http.Request) (org.Node, error) {
	id, err := orgParam(r)
	if err != nil {
		return org.Node{}, err
	}
	return org.Visible(r.Context(), s.DB, reqActor(r), id)
}

// callerLang is the language of an API caller: their setting, else Accept-Language.
func (s *Server) callerLang(r *http.Request) string {
	setting := ""
	if p := principalFrom(r.Context()); p != nil {
		setting = p.User.Locale
	}
	return s.I18n.Pick(setting, r.Header.Get("Accept-Language"))
}

// investigate lists the events of the filters in node's subtree (merged, in time
// order), explains them and counts them.
func (s *Server) investigate(ctx context.Context, a actor.Actor, node org.Node, lang string, fs ...events.Filter) ([]monitorEvent, monitorCounts, bool, error) {
	var counts monitorCounts
	var evs []events.Stored
	seen := map[int64]bool{}
	for _, f := range fs {
		f.OrgPath, f.Limit = node.Path, maxInvestigation+1
		got, err := s.Events.List(ctx, a, f)
		if err != nil {
			return nil, counts, false, err
		}
		for _, ev := range got {
			if !seen[ev.Seq] {
				seen[ev.Seq] = true
				evs = append(evs, ev)
			}
		}
	}
	if len(fs) > 1 {
		slices.SortStableFunc(evs, func(x, y events.Stored) int {
			return cmp.Or(x.Time.Compare(y.Time), cmp.Compare(x.Seq, y.Seq))
		})
	}
	truncated := len(evs) > maxInvestigation
	if truncated {
		evs = evs[:maxInvestigation]
	}
	x := s.explainer()
	// What the events themselves show (the account's own orders) explains their later
	// accesses, as it does for the detection engine.
	for i := range evs {
		x.Observe(evs[i].OrgID, &evs[i].Event)
	}
	type staffKey struct {
		org     int64
		account string
	}
	staff := map[staffKey]*reference.Staff{}
	out := make([]monitorEvent, 0, len(evs))
	for i := range evs {
		ev := &evs[i]
		ex, err := x.Explain(ctx, ev.OrgID, &ev.Event)
		if err != nil {
			return nil, counts, false, err
		}
		k := staffKey{ev.OrgID, ev.Account}
		st, seen := staff[k]
		if !seen {
			if v, err := s.Reference.StaffByAccount(ctx, ev.OrgID, ev.Account); err == nil {
				st = &v
			} else if !errors.Is(err, reference.ErrNotFound) {
				return nil, counts, false, err
			}
			staff[k] = st
		}
		me := monitorEvent{Seq: ev.Seq, ID: ev.ID, Time: ev.Time, System: ev.System, Account: ev.Account, StaffID: ev.StaffID,
			Department: ev.Department, Action: ev.Action, Outcome: ev.Outcome, PatientID: alert.MaskPatientID(ev.PatientID),
			RecordType: ev.RecordType, RecordCount: ev.RecordCount, SourceIP: ev.SourceIP, Terminal: ev.Terminal,
			Explanation: ex, ReasonTexts: make([]string, 0, len(ex.Reasons))}
		if st != nil {
			me.StaffID, me.Role = st.StaffID, st.Role
			if st.Department != "" {
				me.Department = st.Department
			}
		}
		if me.Explanation.Reasons == nil {
			me.Explanation.Reasons = []i18n.Message{}
		}
		for _, m := range ex.Reasons {
			me.ReasonTexts = append(me.ReasonTexts, s.I18n.Render(lang, m))
		}
		switch ex.Class {
		case explain.Explained:
			counts.Explained++
		case explain.Flagged:
			counts.Flagged++
		case explain.Unexplained:
			counts.Unexplained++
		default:
			counts.Other++
		}
		out = append(out, me)
	}
	return out, counts, truncated, nil
}

// accountReport builds the investigation of the account the path names.
func (s *Server) accountReport(r *http.Request, lang string) (accountReport, error) {
	ctx, a := r.Context(), reqActor(r)
	account := r.PathValue("account")
	if err := validKey("account", account); err != nil {
		return accountReport{}, err
	}
	node, err := s.monitorOrg(r)
	if err != nil {
		return accountReport{}, err
	}
	from, to, err := s.monitorRange(r)
	if err != nil {
		return accountReport{}, err
	}
	rep := accountReport{OrgID: node.ID, Account: account, From: from, To: to}
	switch st, err := s.Reference.StaffByAccount(ctx, node.ID, account); {
	case err == nil:
		rep.Staff = &monitorStaff{StaffID: st.StaffID, Department: st.Department, Role: st.Role}
	case !errors.Is(err, reference.ErrNotFound):
		return rep, err
	}
	if rep.Events, rep.Counts, rep.Truncated, err = s.investigate(ctx, a, node, lang, events.Filter{Account: account, From: from, To: to}); err != nil {
		return rep, err
	}
	if rep.Staff == nil && len(rep.Events) == 0 {
		// Neither a staff member nor any event of the organisation: an account of
		// another hospital, or none at all.
		any, err := s.Events.List(ctx, a, events.Filter{Account: account, OrgPath: node.Path, Limit: 1})
		if err != nil {
			return rep, err
		}
		if len(any) == 0 {
			return rep, problem.NotFound("account")
		}
	}
	return rep, nil
}

// patientReport builds the access report of the patient the path names and records
// the viewing in the trail (how: "page", "api" or "csv").
func (s *Server) patientReport(r *http.Request, lang, how string) (patientReport, error) {
	ctx, a := r.Context(), reqActor(r)
	pid := strings.TrimSpace(r.PathValue("patient_id"))
	if err := validKey("patient", pid); err != nil {
		return patientReport{}, err
	}
	node, err := s.monitorOrg(r)
	if err != nil {
		return patientReport{}, err
	}
	from, to, err := s.monitorRange(r)
	if err != nil {
		return patientReport{}, err
	}
	masked := alert.MaskPatientID(reference.NormalizeID(pid))
	rep := patientReport{OrgID: node.ID, PatientID: masked, From: from, To: to}
	hash := s.Reference.PatientHash(pid)
	known := true
	if _, err := s.Reference.PatientByHash(ctx, node.ID, hash); errors.Is(err, reference.ErrNotFound) {
		known = false
	} else if err != nil {
		return rep, err
	}
	// Events are found by the identifier as the source system sent it: look for the
	// normalized form too ("p001" and "P001" are one patient in the reference data).
	filters := []events.Filter{{PatientID: pid, From: from, To: to}}
	if n := reference.NormalizeID(pid); n != pid {
		filters = append(filters, events.Filter{PatientID: n, From: from, To: to})
	}
	if rep.Accesses, rep.Counts, rep.Truncated, err = s.investigate(ctx, a, node, lang, filters...); err != nil {
		return rep, err
	}
	if !known && len(rep.Accesses) == 0 {
		any, err := s.Events.List(ctx, a, events.Filter{PatientID: pid, OrgPath: node.Path, Limit: 1})
		if err != nil {
			return rep, err
		}
		if len(any) == 0 {
			return rep, problem.NotFound("patient")
		}
	}
	summary := fmt.Sprintf("patient access report (%s) of %s: %d accesses", how, masked, len(rep.Accesses))
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		_, err := s.Trail.Append(ctx, tx, a, trail.Event{Action: "monitor.patient_report", ObjectType: "patient",
			ObjectID: hash, OrgID: node.ID, Summary: summary,
			Msg: trail.Msg("trail.summary.monitor.patient_report", how, masked, len(rep.Accesses))})
		return err
	})
	if err != nil {
		return rep, fmt.Errorf("web: trail the patient report: %w", err)
	}
	return rep, nil
}

// apiMonitorAccountEvents answers the investigation of an account.
func (s *Server) apiMonitorAccountEvents(w http.ResponseWriter, r *http.Request) error {
	rep, err := s.accountReport(r, s.callerLang(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rep)
}

// apiMonitorPatientAccesses answers the access report of a patient.
func (s *Server) apiMonitorPatientAccesses(w http.ResponseWriter, r *http.Request) error {
	rep, err := s.patientReport(r, s.callerLang(r), "api")
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rep)
}
