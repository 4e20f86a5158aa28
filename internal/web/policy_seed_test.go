package web

import (
	"context"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/policy"
)

// seedPolicies gives each hospital a policy with an attached document, a role holder
// and a self-check with a report.
func (e *testEnv) seedPolicies() {
	ctx := context.Background()
	sys := actor.System()
	var owner = map[int64]string{}
	for name, u := range e.Users {
		if _, ok := owner[u.OrgID]; !ok || name < owner[u.OrgID] {
			owner[u.OrgID] = name
		}
	}
	for _, h := range []struct {
		org   org.Node
		p     *policy.Policy
		role  *policy.Role
		check *policy.SelfCheck
	}{{e.HospA, &e.PolicyA, &e.RoleA, &e.SelfCheckA}, {e.HospB, &e.PolicyB, &e.RoleB, &e.SelfCheckB}} {
		p, err := e.Policies.Create(ctx, sys, policy.Input{OrgID: h.org.ID, Title: "网络安全管理制度 " + h.org.Name,
			Category: policy.CategoryRule, Owner: owner[h.org.ID], Body: "第一条"})
		if err != nil {
			e.t.Fatal(err)
		}
		if *h.p, err = e.Policies.AttachFile(ctx, sys, p.ID, "policy.pdf", strings.NewReader("%PDF-1.4 policy")); err != nil {
			e.t.Fatal(err)
		}
		if *h.role, err = e.Policies.SaveRole(ctx, sys, 0, policy.RoleInput{OrgID: h.org.ID, Role: policy.RoleCSO, Person: "负责人 " + h.org.Name}); err != nil {
			e.t.Fatal(err)
		}
		c, err := e.Policies.SaveCheck(ctx, sys, 0, policy.CheckInput{OrgID: h.org.ID, Kind: "vuln_scan", Title: "漏洞扫描 " + h.org.Name,
			PlannedAt: time.Now()})
		if err != nil {
			e.t.Fatal(err)
		}
		if *h.check, err = e.Policies.AttachReport(ctx, sys, c.ID, "scan.pdf", strings.NewReader("%PDF-1.4 report")); err != nil {
			e.t.Fatal(err)
		}
	}
}
