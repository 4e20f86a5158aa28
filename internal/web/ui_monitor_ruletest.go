package web

import (
	"net/http"
	"time"

	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/detect"
	"github.com/medguard/medguard/internal/problem"
)

// A rule test against history evaluates one rule over stored events and raises nothing.
const (
	maxRuleTestRange = 31 * 24 * time.Hour // the longest range one test reads
	maxRuleTestHits  = 500                 // hits shown
)

// ruleTestHit is one hit of a rule test as shown and answered: no clear patient id.
type ruleTestHit struct {
	From      time.Time         `json:"from"`
	To        time.Time         `json:"to"`
	Account   string            `json:"account,omitempty"`
	PatientID string            `json:"patient_id,omitempty"` // masked
	Group     map[string]string `json:"group,omitempty"`
	Events    []string          `json:"events"`
	Class     string            `json:"class,omitempty"`
}

// ruleTest is the answer of a rule test.
type ruleTest struct {
	Rule      string        `json:"rule"`
	Version   int           `json:"version"`
	From      time.Time     `json:"from"`
	To        time.Time     `json:"to"`
	Hits      []ruleTestHit `json:"hits"`
	Total     int           `json:"total"`
	Truncated bool          `json:"truncated"`
}

// testRule evaluates the rule id in force for the caller's organisation on its events of
// ?from&to (default the last 30 days, at most maxRuleTestRange).
func (s *Server) testRule(r *http.Request, id string) (ruleTest, error) {
	d, err := s.ruleDetailOf(r, 0, id)
	if err != nil {
		return ruleTest{}, err
	}
	from, to, err := s.monitorRange(r)
	if err != nil {
		return ruleTest{}, err
	}
	if to.Sub(from) > maxRuleTestRange {
		return ruleTest{}, problem.Invalid("from", "a rule test reads at most 31 days").WithMsg("monitor.rule.test.err.range", 31)
	}
	env := s.DetectEnv
	if env.Explainer == nil {
		env.Explainer = s.explainer()
	}
	// Every organisation the caller sees, each on its own (a province officer tests the
	// rule over all its hospitals; a hospital's never reads another's events).
	nodes, err := s.Orgs.List(r.Context(), reqActor(r))
	if err != nil {
		return ruleTest{}, err
	}
	var hits []detect.Hit
	for _, n := range nodes {
		hs, err := detect.Test(r.Context(), s.Events, []detect.Rule{d.Rule.Rule}, env, detect.Span{From: from, To: to, OrgID: n.ID})
		if err != nil {
			return ruleTest{}, err
		}
		hits = append(hits, hs...)
	}
	out := ruleTest{Rule: id, Version: d.Rule.Version, From: from.UTC(), To: to.UTC(), Hits: []ruleTestHit{}, Total: len(hits)}
	for i, h := range hits {
		if i == maxRuleTestHits {
			out.Truncated = true
			break
		}
		out.Hits = append(out.Hits, ruleTestHit{From: h.From.UTC(), To: h.To.UTC(), Account: h.Account,
			PatientID: alert.MaskPatientID(h.PatientID), Group: h.Group, Events: h.Events, Class: h.Explanation.Class})
	}
	return out, nil
}

// apiMonitorRuleTest answers GET /api/v1/monitor/rules/{id}/test?from&to: what the rule
// in force would have fired on the stored events, raising nothing.
func (s *Server) apiMonitorRuleTest(w http.ResponseWriter, r *http.Request) error {
	t, err := s.testRule(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, t)
}

// uiMonitorRuleTest shows the rule page with the result of a test against history.
func (s *Server) uiMonitorRuleTest(w http.ResponseWriter, r *http.Request) error {
	t, err := s.testRule(r, r.PathValue("id"))
	if err != nil {
		if _, ok := problem.As(err); !ok {
			return err
		}
		return s.showRule(w, r, r.PathValue("id"), "", err)
	}
	return s.showRuleWith(w, r, r.PathValue("id"), &t)
}

func init() {
	apiDocs["GET /api/v1/monitor/rules/{id}/test"] = apiOp{Summary: "Test a monitoring rule against history: what the rule in force " +
		"for the caller's organisation would have fired on the stored events of every organisation the caller sees in [from, to) " +
		"(RFC 3339 or YYYY-MM-DD; default the last 30 days, at most 31 days), at most 500 hits (total counts them all), patient " +
		"identifiers masked. Nothing is raised", Tag: "monitor", Response: ruleTest{}, Status: 200, Query: []string{"from", "to"}}
	opQueryDocs["GET /api/v1/monitor/rules/{id}/test"] = map[string]qdoc{
		"from": str("Start of the range (inclusive): RFC 3339, or a date YYYY-MM-DD (Asia/Shanghai); default 30 days before to"),
		"to":   str("End of the range (exclusive): RFC 3339, or a date YYYY-MM-DD (Asia/Shanghai), which includes that day; default now"),
	}
}
