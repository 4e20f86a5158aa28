package supply

import (
	"fmt"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/i18n"
)

// TestGateItemMessages checks that the items under a failed rule come with one catalogue
// message each, in the same (sorted, capped) order, naming the same thing in English
// and in Chinese without English words.
func TestGateItemMessages(t *testing.T) {
	cat := i18n.MustLoad()
	var in GateInput
	for i := 0; i < maxItems+5; i++ {
		sev := "critical"
		if i%2 == 1 {
			sev = ""
		}
		in.Findings = append(in.Findings, GateFinding{PURL: "pkg:pypi/p@1", VulnID: fmt.Sprintf("V-%02d", 30-i), Severity: sev, State: StateOpen})
	}
	in.Licences = append(in.Licences, GateLicence{Component: "lib", License: "", Verdict: "unknown"})
	g := Gate{Rules: Rules{MaxSeverity: "high", BlockReviewLicences: true}}
	v := g.Evaluate(in)
	if len(v.Reasons) != 2 {
		t.Fatalf("reasons %+v", v.Reasons)
	}
	for _, r := range v.Reasons {
		if len(r.ItemMsgs) != len(r.Items) {
			t.Fatalf("%s: %d items, %d messages", r.Rule, len(r.Items), len(r.ItemMsgs))
		}
		for i, m := range r.ItemMsgs {
			en, zh := cat.Render("en", m), cat.Render("zh-CN", m)
			if first := strings.Fields(r.Items[i])[0]; !strings.HasPrefix(en, first) || !strings.HasPrefix(zh, strings.TrimPrefix(first, "…")) &&
				!strings.HasPrefix(zh, "……") {
				t.Errorf("%s item %d: message reads %q / %q, item %q", r.Rule, i, en, zh, r.Items[i])
			}
			if strings.Contains(zh, " in ") || strings.Contains(zh, "unknown") || strings.Contains(zh, "more") ||
				strings.Contains(zh, "none declared") || strings.Contains(zh, "%!") {
				t.Errorf("%s item %d in zh-CN: %q", r.Rule, i, zh)
			}
		}
	}
	sev := v.Reasons[0]
	if len(sev.Items) != maxItems+1 || sev.Items[0] != "V-06 (critical) in pkg:pypi/p@1" || sev.Items[maxItems] != "… and 5 more" {
		t.Errorf("severity items %q", sev.Items)
	}
	if got := cat.Render("zh-CN", sev.ItemMsgs[1]); got != "V-07（未知（未评级））位于 pkg:pypi/p@1" {
		t.Errorf("zh-CN item: %q", got)
	}
}
