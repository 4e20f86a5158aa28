package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/org"
)

// The alert inbox of the demo: the supply chain and the patient-data checks raise their
// alerts as they are seeded; before them a silence of the pharmacy's reviewed alerts,
// after them one case in progress.

// demoOfficer returns the first hospital and its security officer, or a zero node when
// the demo has no such hospital.
func demoOfficer(ctx context.Context, d Deps) (org.Node, actor.Actor, error) {
	nodes, err := d.Orgs.List(ctx, actor.System())
	if err != nil {
		return org.Node{}, actor.Actor{}, err
	}
	for _, n := range nodes {
		if n.Code == "DEMO-H1" {
			a := actor.Actor{Username: "secofficer", Role: "security_officer", OrgID: n.ID, OrgPath: n.Path}
			if u, err := d.Auth.UserByName(ctx, actor.System(), "secofficer"); err == nil {
				a.UserID = u.ID
			}
			return n, a, nil
		}
	}
	return org.Node{}, actor.Actor{}, nil
}

// seedSilence silences the pre-send alerts of the first hospital for 90 days, unless
// the demo has a silence already.
func seedSilence(ctx context.Context, d Deps) error {
	if d.Alerts == nil {
		return nil
	}
	h1, a, err := demoOfficer(ctx, d)
	if err != nil || h1.ID == 0 {
		return err
	}
	if _, n, err := d.Alerts.Silences(ctx, actor.System(), alert.SilenceQuery{}); err != nil || n > 0 {
		return err
	}
	if _, err := d.Alerts.CreateSilence(ctx, a, alert.SilenceInput{OrgID: h1.ID, Source: "dlp", Kind: "dlp_alert",
		Reason:    "药剂科采购清单只含药品名称，已复核",
		ExpiresAt: time.Now().Add(90 * 24 * time.Hour)}); err != nil {
		return fmt.Errorf("demo: silence: %w", err)
	}
	return nil
}

// seedCase groups the first hospital's open supply-chain alerts (or, without them, its
// open alerts) into a case being investigated by its security officer, unless the demo
// has a case already.
func seedCase(ctx context.Context, d Deps) error {
	if d.Alerts == nil {
		return nil
	}
	h1, a, err := demoOfficer(ctx, d)
	if err != nil || h1.ID == 0 {
		return err
	}
	if _, n, err := d.Alerts.Cases(ctx, actor.System(), alert.CaseQuery{}); err != nil || n > 0 {
		return err
	}
	as, _, err := d.Alerts.List(ctx, a, alert.Filter{Source: "supply", Status: alert.StatusOpen, Limit: 3})
	if err != nil {
		return err
	}
	if len(as) == 0 {
		if as, _, err = d.Alerts.List(ctx, a, alert.Filter{Status: alert.StatusOpen, Limit: 3}); err != nil {
			return err
		}
	}
	if len(as) == 0 {
		return nil
	}
	ids := make([]int64, len(as))
	for i, al := range as {
		ids[i] = al.ID
	}
	c, err := d.Alerts.CreateCase(ctx, a, alert.CaseInput{OrgID: h1.ID, Title: "第三方组件漏洞处置",
		AlertIDs: ids, Assignee: "secofficer"})
	if err != nil {
		return fmt.Errorf("demo: case: %w", err)
	}
	if _, err := d.Alerts.SetCaseStatus(ctx, a, c.ID, alert.Change{Status: alert.StatusInvestigating}); err != nil {
		return fmt.Errorf("demo: case: %w", err)
	}
	if _, err := d.Alerts.CommentCase(ctx, a, c.ID, "已联系厂商，补丁预计下周发布；临时启用 WAF 规则。/ Vendor contacted: patch due next week; WAF rule in place meanwhile."); err != nil {
		return fmt.Errorf("demo: case comment: %w", err)
	}
	return nil
}
