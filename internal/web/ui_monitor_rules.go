package web

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/medguard/medguard/internal/monitor"
	"github.com/medguard/medguard/internal/paging"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/rulestore"
)

// The monitoring rule library (package rulestore): the list of the rules in force for an
// organisation with their alerts of the last seven days, one rule with its YAML, its
// stored versions, the edit form and enabling; and the same as JSON under
// /api/v1/monitor/rules.

// ruleAlertDays is the period of a rule's alert count in the list.
const ruleAlertDays = 7

// maxRuleForm bounds the YAML of a rule submitted through the edit form.
const maxRuleForm = 1 << 20

// ruleItem is a rule as listed: as it applies, with its monitoring alerts of the last
// seven days in the caller's scope.
type ruleItem struct {
	rulestore.Entry
	Alerts7d int64 `json:"alerts_7d"`
}

// ruleDetail is a rule with its stored versions, newest first.
type ruleDetail struct {
	Rule    ruleItem            `json:"rule"`
	History []rulestore.Version `json:"history"`
}

// ruleUpdate is the body of PUT /api/v1/monitor/rules/{id}: a new version's YAML, a new
// state, or both.
type ruleUpdate struct {
	YAML    *string `json:"yaml"`
	Enabled *bool   `json:"enabled"`
}

func (s *Server) ruleStore() *rulestore.Service { return rulestore.New(s.DB, s.Trail) }

// ruleItems lists the rules of organisation orgID (0: the caller's) with their alerts.
func (s *Server) ruleItems(r *http.Request, orgID int64) ([]ruleItem, error) {
	a := reqActor(r)
	es, err := s.ruleStore().List(r.Context(), a, orgID)
	if err != nil {
		return nil, err
	}
	n, err := s.ruleAlerts(r)
	if err != nil {
		return nil, err
	}
	out := make([]ruleItem, len(es))
	for i, e := range es {
		out[i] = ruleItem{Entry: e, Alerts7d: n[e.ID]}
	}
	return out, nil
}

func (s *Server) ruleAlerts(r *http.Request) (map[string]int64, error) {
	return monitor.New(s.DB, s.Events).RuleAlerts(r.Context(), reqActor(r), time.Now().AddDate(0, 0, -ruleAlertDays))
}

// ruleDetailOf loads rule id of organisation orgID (0: the caller's).
func (s *Server) ruleDetailOf(r *http.Request, orgID int64, id string) (ruleDetail, error) {
	e, hist, err := s.ruleStore().Get(r.Context(), reqActor(r), orgID, id)
	if err != nil {
		return ruleDetail{}, err
	}
	n, err := s.ruleAlerts(r)
	if err != nil {
		return ruleDetail{}, err
	}
	return ruleDetail{Rule: ruleItem{Entry: e, Alerts7d: n[e.ID]}, History: hist}, nil
}

// apiMonitorRuleList answers GET /api/v1/monitor/rules.
func (s *Server) apiMonitorRuleList(w http.ResponseWriter, r *http.Request) error {
	orgID, err := queryID(r, "org_id")
	if err != nil {
		return err
	}
	items, err := s.ruleItems(r, orgID)
	if err != nil {
		return err
	}
	return writeList(w, r, paging.Standard, items)
}

// apiMonitorRuleGet answers GET /api/v1/monitor/rules/{id}.
func (s *Server) apiMonitorRuleGet(w http.ResponseWriter, r *http.Request) error {
	orgID, err := queryID(r, "org_id")
	if err != nil {
		return err
	}
	d, err := s.ruleDetailOf(r, orgID, r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, d)
}

// apiMonitorRulePut answers PUT /api/v1/monitor/rules/{id}: stores the body's YAML as the
// rule's next version and/or enables or disables it.
func (s *Server) apiMonitorRulePut(w http.ResponseWriter, r *http.Request) error {
	orgID, err := queryID(r, "org_id")
	if err != nil {
		return err
	}
	var in ruleUpdate
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	id := r.PathValue("id")
	st := s.ruleStore()
	if in.YAML == nil && in.Enabled == nil {
		if _, _, err := st.Get(r.Context(), reqActor(r), orgID, id); err != nil {
			return err // an unknown rule is not found, whatever the body
		}
		return problem.Invalid("yaml", "give the rule's yaml, enabled or both").WithMsg("monitor.rule.err.empty_update")
	}
	if in.YAML != nil {
		if _, err := st.Save(r.Context(), reqActor(r), orgID, id, []byte(*in.YAML)); err != nil {
			return err
		}
	}
	if in.Enabled != nil {
		if _, err := st.SetEnabled(r.Context(), reqActor(r), orgID, id, *in.Enabled); err != nil {
			return err
		}
	}
	d, err := s.ruleDetailOf(r, orgID, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, d)
}

// apiMonitorRulePutAll answers PUT /api/v1/monitor/rules: the body is a YAML file of one
// or more rules (documents separated by ---), each stored as its next version for the
// organisation (?org_id=, default the caller's) in one transaction — a refused rule
// stores none. It answers the rules as they now apply.
func (s *Server) apiMonitorRulePutAll(w http.ResponseWriter, r *http.Request) error {
	orgID, err := queryID(r, "org_id")
	if err != nil {
		return err
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRuleForm))
	if err != nil {
		return problem.Invalid("body", "is larger than %d bytes", maxRuleForm).WithMsg("monitor.rule.err.too_large", maxRuleForm)
	}
	es, err := s.ruleStore().SaveAll(r.Context(), reqActor(r), orgID, body)
	if err != nil {
		return err
	}
	n, err := s.ruleAlerts(r)
	if err != nil {
		return err
	}
	out := make([]ruleItem, len(es))
	for i, e := range es {
		out[i] = ruleItem{Entry: e, Alerts7d: n[e.ID]}
	}
	return writeJSON(w, http.StatusOK, out)
}

// ruleListData is what monitor_rules.html shows.
type ruleListData struct {
	Rules []ruleItem
	Days  int
}

// uiMonitorRules lists the rules in force for the caller's organisation.
func (s *Server) uiMonitorRules(w http.ResponseWriter, r *http.Request) error {
	p := s.newPage(r, w, "monitor.rules.title", "monitor")
	p.Sub = "rules"
	items, err := s.ruleItems(r, 0)
	if err != nil {
		return err
	}
	p.Data = ruleListData{Rules: items, Days: ruleAlertDays}
	return s.render(w, http.StatusOK, "monitor_rules.html", p)
}

// ruleShowData is what monitor_rule.html shows.
type ruleShowData struct {
	ruleDetail
	// Shown is the version whose YAML the page shows (0: the one in force) and
	// ShownYAML its text; Draft is the edit form's text (what was submitted, when it was
	// refused).
	Shown     int
	ShownYAML string
	Draft     string
	Days      int
	// Test is the result of a test against history, when one was asked for.
	Test *ruleTest
	// TestFrom and TestTo fill the test form.
	TestFrom, TestTo string
}

// uiMonitorRule shows one rule; ?version=N shows a stored version's YAML.
func (s *Server) uiMonitorRule(w http.ResponseWriter, r *http.Request) error {
	return s.showRule(w, r, r.PathValue("id"), "", nil)
}

// showRule renders the rule page, with a refused draft and its problem when given.
func (s *Server) showRule(w http.ResponseWriter, r *http.Request, id, draft string, failed error) error {
	return s.showRuleFull(w, r, id, draft, failed, nil)
}

// showRuleWith renders the rule page with the result of a test against history.
func (s *Server) showRuleWith(w http.ResponseWriter, r *http.Request, id string, t *ruleTest) error {
	return s.showRuleFull(w, r, id, "", nil, t)
}

func (s *Server) showRuleFull(w http.ResponseWriter, r *http.Request, id, draft string, failed error, t *ruleTest) error {
	p := s.newPage(r, w, "monitor.rule.title", "monitor")
	p.Sub = "rules"
	d, err := s.ruleDetailOf(r, 0, id)
	if err != nil {
		return err
	}
	data := ruleShowData{ruleDetail: d, ShownYAML: d.Rule.YAML, Draft: d.Rule.YAML, Days: ruleAlertDays, Test: t,
		TestFrom: r.URL.Query().Get("from"), TestTo: r.URL.Query().Get("to")}
	if v := r.URL.Query().Get("version"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return problem.NotFound("version")
		}
		found := false
		for _, h := range d.History {
			if h.Version == n {
				data.Shown, data.ShownYAML, found = n, h.YAML, true
				break
			}
		}
		if !found {
			return problem.NotFound("version")
		}
	}
	code := http.StatusOK
	if failed != nil {
		pe, ok := problem.As(failed)
		if !ok {
			return failed
		}
		code = p.fail(pe)
		if draft != "" {
			data.Draft = draft
		}
	}
	p.Data = data
	return s.render(w, code, "monitor_rule.html", p)
}

// uiMonitorRuleSave stores the form's YAML as the rule's next version; a refused rule is
// shown again with the parser's message and the text as submitted.
func (s *Server) uiMonitorRuleSave(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	r.Body = http.MaxBytesReader(w, r.Body, maxRuleForm)
	text := r.PostFormValue("yaml")
	if _, err := s.ruleStore().Save(r.Context(), reqActor(r), 0, id, []byte(text)); err != nil {
		if problem.KindOf(err) == problem.KindInvalid || problem.KindOf(err) == problem.KindConflict {
			return s.showRule(w, r, id, text, err)
		}
		return err
	}
	return redirect(w, r, "/monitor/rules/"+url.PathEscape(id)+"?flash=flash.monitor.rule_saved")
}

// uiMonitorRuleEnabled enables (enabled=true) or disables the rule.
func (s *Server) uiMonitorRuleEnabled(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if _, _, err := s.ruleStore().Get(r.Context(), reqActor(r), 0, id); err != nil {
		return err // an unknown rule is not found, whatever the form
	}
	on, err := strconv.ParseBool(r.PostFormValue("enabled"))
	if err != nil {
		return problem.Invalid("enabled", "must be true or false").WithMsg("monitor.rule.err.enabled")
	}
	if _, err := s.ruleStore().SetEnabled(r.Context(), reqActor(r), 0, id, on); err != nil {
		return err
	}
	flash := "flash.monitor.rule_disabled"
	if on {
		flash = "flash.monitor.rule_enabled"
	}
	return redirect(w, r, "/monitor/rules/"+url.PathEscape(id)+"?flash="+flash)
}
