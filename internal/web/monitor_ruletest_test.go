package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/events"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// TestMonitorRuleTestAgainstHistory: a rule tested on the rule page and the API shows
// what it would have fired on the caller's hospital's stored events — never another
// hospital's — and raises nothing; a range over 31 days or a bad time is refused without
// echoing it.
func TestMonitorRuleTestAgainstHistory(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db)
		ctx := context.Background()
		at := time.Now().UTC().Add(-48 * time.Hour)
		brute := func(prefix, account string) []events.Event {
			var out []events.Event
			for i := range 6 {
				out = append(out, events.Event{ID: fmt.Sprint(prefix, i), Time: at.Add(time.Duration(i) * time.Second), System: "HIS",
					Account: account, Action: events.ActionLoginFailure, Outcome: events.OutcomeFailure})
			}
			return append(out, events.Event{ID: prefix + "ok", Time: at.Add(10 * time.Second), System: "HIS", Account: account,
				Action: events.ActionLogin})
		}
		if _, err := e.Events.Append(ctx, e.HospA.ID, brute("a", "doc-a")); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Events.Append(ctx, e.HospB.ID, brute("b", "doc-b")); err != nil {
			t.Fatal(err)
		}
		var before int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM alerts WHERE source = 'monitor'`).Scan(&before); err != nil {
			t.Fatal(err)
		}
		b := e.newBrowser()
		b.login("secofficer")
		code, body, _ := b.get("/monitor/rules/brute-force/test")
		mustContain(t, code, body, http.StatusOK, `id="rule-test-hits"`, "doc-a", `id="rule-test-total"`, "1 hit(s)")
		mustNotContain(t, body, "doc-b")
		code, raw := b.sessionAPI("GET", "/api/v1/monitor/rules/brute-force/test", "")
		var res ruleTest
		if code != http.StatusOK || json.Unmarshal(raw, &res) != nil || res.Total != 1 || len(res.Hits) != 1 ||
			res.Hits[0].Account != "doc-a" || len(res.Hits[0].Events) != 7 {
			t.Fatalf("API: %d %s", code, raw)
		}
		code, body, _ = b.get("/monitor/rules/brute-force/test?from=2026-01-01&to=2026-03-01")
		mustContain(t, code, body, http.StatusBadRequest, "31 days", `id="rule-yaml"`)
		code, body, _ = b.get("/monitor/rules/brute-force/test?from=yesterday-ish")
		mustContain(t, code, body, http.StatusBadRequest, `class="error"`)
		mustNotContain(t, body, "yesterday-ish</")
		var after int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM alerts WHERE source = 'monitor'`).Scan(&after); err != nil || after != before {
			t.Errorf("a rule test raised alerts: %d → %d (%v)", before, after, err)
		}
		if code, _, _ := b.get("/monitor/rules/no-such-rule/test"); code != http.StatusNotFound {
			t.Errorf("unknown rule: %d", code)
		}
		if !strings.Contains(string(raw), `"patient_id"`) && strings.Contains(string(raw), "doc-b") {
			t.Errorf("other hospital in the API answer: %s", raw)
		}
	})
}
