package demo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/appreg"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/upstream"
)

// fp is a stand-in fingerprint or digest derived from a label (the demo has no real
// builds): 64 hexadecimal digits, the same for the same label.
func fp(label string) string {
	h := sha256.Sum256([]byte("medguard demo " + label))
	return hex.EncodeToString(h[:])
}

// demoContacts are the three contacts of a filing, in the hospital's domain.
func demoContacts(domain string, roles ...string) []appreg.Contact {
	all := map[string]appreg.Contact{
		"security":   {Role: "security", Name: "王安全", Phone: "010-6512 3401", Email: "security@" + domain},
		"technical":  {Role: "technical", Name: "陈技术", Phone: "13910000002", Email: "tech@" + domain},
		"management": {Role: "management", Name: "刘主任", Phone: "010-6512 3400", Email: "office@" + domain},
	}
	var out []appreg.Contact
	for _, r := range roles {
		out = append(out, all[r])
	}
	return out
}

// seedApps files the hospitals' internet-hospital apps: one of each grade, one evicted
// and one application waiting for review, each with what its channels were seen
// serving. It does nothing when the first hospital has filed an app already.
func seedApps(ctx context.Context, d Deps) error {
	if d.Apps == nil {
		return nil
	}
	sys := actor.System()
	nodes, err := d.Orgs.List(ctx, sys)
	if err != nil {
		return err
	}
	var h1, h2 org.Node
	for _, n := range nodes {
		switch n.Code {
		case "DEMO-H1":
			h1 = n
		case "DEMO-H2":
			h2 = n
		}
	}
	if h1.ID == 0 || h2.ID == 0 {
		return nil
	}
	existing, err := d.Apps.Apps(ctx, sys, appreg.Query{})
	if err != nil || len(existing) > 0 {
		return err
	}
	// The demo's people do it: the app operator files, the security officers decide.
	who := func(username string) actor.Actor {
		if u, err := d.Auth.UserByName(ctx, sys, username); err == nil {
			return u.Actor("")
		}
		return sys
	}
	operator := who("appops")
	reviewer := map[int64]actor.Actor{h1.ID: who("secofficer"), h2.ID: who("secofficer2")}
	all := []string{"security", "technical", "management"}
	type step struct {
		obs   []appreg.Observation
		evict string
	}
	apps := []struct {
		in      appreg.Input
		approve bool
		then    step
	}{
		{ // grade A: every channel serves the current official build
			in: appreg.Input{OrgID: h1.ID, Name: "掌上一院", Platform: appreg.PlatformAndroid, Package: "cn.demo.h1.patient",
				Operator: "示范健康科技有限公司", Purpose: "在线问诊、预约挂号、检查检验报告查询、处方流转",
				Contacts: demoContacts("h1.demo.cn", all...),
				Channels: []appreg.Channel{{Name: "official-site", URL: "https://app.h1.demo.cn/download"}, {Name: "huawei-appgallery"}, {Name: "tencent-myapp"}},
				Versions: []appreg.Version{
					{Version: "5.3.0", VersionCode: 530, SHA256: fp("h1 5.3.0"), SM3: fp("h1 5.3.0 sm3"), Signers: []string{fp("h1 release certificate")}},
					{Version: "5.4.1", VersionCode: 541, SHA256: fp("h1 5.4.1"), SM3: fp("h1 5.4.1 sm3"), Signers: []string{fp("h1 release certificate")}, Current: true}}},
			approve: true,
			then: step{obs: []appreg.Observation{
				{Channel: "official-site", Version: "5.4.1", SHA256: fp("h1 5.4.1"), Signer: fp("h1 release certificate")},
				{Channel: "huawei-appgallery", Version: "5.4.1", SHA256: fp("h1 5.4.1"), Signer: fp("h1 release certificate")},
				{Channel: "tencent-myapp", Version: "5.4.1", SHA256: fp("h1 5.4.1"), Signer: fp("h1 release certificate")}}},
		},
		{ // grade B: an outdated build still served, an unfiled channel, a contact missing
			in: appreg.Input{OrgID: h1.ID, Name: "一院微信小程序", Platform: appreg.PlatformWeChat, Package: "wx5d1e8f0a2b3c4d5e",
				Operator: "示范健康科技有限公司", Purpose: "预约挂号、门诊缴费、报告查询",
				Contacts: demoContacts("h1.demo.cn", "security", "technical"),
				Channels: []appreg.Channel{{Name: "wechat"}, {Name: "official-site", URL: "https://mp.h1.demo.cn"}},
				Versions: []appreg.Version{{Version: "2.7.0", SHA256: fp("h1 mp 2.7.0")}, {Version: "2.8.3", SHA256: fp("h1 mp 2.8.3"), Current: true}}},
			approve: true,
			then: step{obs: []appreg.Observation{
				{Channel: "wechat", Version: "2.8.3", SHA256: fp("h1 mp 2.8.3")},
				{Channel: "official-site", Version: "2.7.0", SHA256: fp("h1 mp 2.7.0")},
				{Channel: "alipay", Version: "2.8.3", SHA256: fp("h1 mp 2.8.3")}}},
		},
		{ // grade C: a counterfeit build in an app store, eviction proposed
			in: appreg.Input{OrgID: h2.ID, Name: "中医院掌上医院", Platform: appreg.PlatformAndroid, Package: "cn.demo.h2.tcm",
				Operator: "示范软件服务有限公司", Purpose: "中医在线复诊、膏方配送、预约挂号",
				Contacts: demoContacts("h2.demo.cn", all...),
				Channels: []appreg.Channel{{Name: "official-site", URL: "https://app.h2.demo.cn"}, {Name: "xiaomi-store"}},
				Versions: []appreg.Version{{Version: "3.0.2", VersionCode: 302, SHA256: fp("h2 3.0.2"), Signers: []string{fp("h2 release certificate")}, Current: true}}},
			approve: true,
			then: step{obs: []appreg.Observation{
				{Channel: "official-site", Version: "3.0.2", SHA256: fp("h2 3.0.2"), Signer: fp("h2 release certificate")},
				{Channel: "xiaomi-store", Version: "3.0.2", SHA256: fp("h2 repackaged 3.0.2"), Signer: fp("unknown certificate")}}},
		},
		{ // evicted: an H5 portal that kept serving an unofficial build
			in: appreg.Input{OrgID: h2.ID, Name: "中医院互联网医院 H5", Platform: appreg.PlatformH5, Package: "https://ih.h2.demo.cn",
				Operator: "示范软件服务有限公司", Purpose: "互联网诊疗门户",
				Contacts: demoContacts("h2.demo.cn", "security"),
				Channels: []appreg.Channel{{Name: "portal", URL: "https://ih.h2.demo.cn"}},
				Versions: []appreg.Version{{Version: "2026.10", SHA256: fp("h2 h5 2026.10"), Current: true}}},
			approve: true,
			then: step{obs: []appreg.Observation{{Channel: "portal", Version: "2026.06", SHA256: fp("h2 h5 old build")}},
				evict: "门户持续提供未备案版本，整改期满未整改，依规清出"},
		},
		{ // an application waiting for review
			in: appreg.Input{OrgID: h1.ID, Name: "掌上一院 iOS", Platform: appreg.PlatformIOS, Package: "cn.demo.h1.patient.ios",
				Operator: "示范健康科技有限公司", Purpose: "在线问诊、预约挂号、报告查询",
				Contacts: demoContacts("h1.demo.cn", all...), Channels: []appreg.Channel{{Name: "app-store"}},
				Versions: []appreg.Version{{Version: "5.4.0", Current: true}}},
		},
	}
	for _, a := range apps {
		by := reviewer[a.in.OrgID]
		applicant := operator
		if a.in.OrgID != h1.ID {
			applicant = by // the operator account belongs to the first hospital
		}
		ap, err := d.Apps.Apply(ctx, applicant, a.in)
		if err != nil {
			return fmt.Errorf("demo: app %s: %w", a.in.Name, err)
		}
		if !a.approve {
			continue
		}
		if _, err := d.Apps.Review(ctx, by, ap.ID, appreg.Decision{Approve: true, Comment: "材料齐全，同意准入"}); err != nil {
			return fmt.Errorf("demo: approve %s: %w", a.in.Name, err)
		}
		for _, o := range a.then.obs {
			if _, err := d.Apps.Observe(ctx, by, ap.ID, o); err != nil {
				return fmt.Errorf("demo: observe %s: %w", a.in.Name, err)
			}
		}
		if a.then.evict != "" {
			if _, err := d.Apps.Evict(ctx, by, ap.ID, a.then.evict); err != nil {
				return fmt.Errorf("demo: evict %s: %w", a.in.Name, err)
			}
		}
	}
	return nil
}

// seedRegion has each demo hospital with apps report them upward to the demo's own
// regional side, as a hospital's medguard pushes its report: the hospital is linked (a
// service account and token of scope app.report) and the report is received with that
// token. It does nothing when a hospital has reported already.
func seedRegion(ctx context.Context, d Deps) error {
	if d.Upstream == nil || d.Apps == nil {
		return nil
	}
	sys := actor.System()
	have, err := d.Upstream.Apps(ctx, sys, upstream.Query{})
	if err != nil || len(have) > 0 {
		return err
	}
	exported, incidents, err := d.Apps.Export(ctx, time.Time{})
	if err != nil {
		return err
	}
	byOrg := map[int64][]appreg.Exported{}
	orgOf := map[int64]int64{}
	var orgs []int64
	for _, e := range exported {
		if _, ok := byOrg[e.App.OrgID]; !ok {
			orgs = append(orgs, e.App.OrgID)
		}
		byOrg[e.App.OrgID] = append(byOrg[e.App.OrgID], e)
		orgOf[e.App.ID] = e.App.OrgID
	}
	for _, id := range orgs {
		var inc []appreg.Incident
		for _, in := range incidents {
			if orgOf[in.AppID] == id {
				inc = append(inc, in)
			}
		}
		l, err := d.Upstream.LinkHospital(ctx, sys, id)
		if err != nil {
			return fmt.Errorf("demo: link hospital %d: %w", id, err)
		}
		u, err := d.Auth.UserByName(ctx, sys, l.Username)
		if err != nil {
			return err
		}
		rep, err := upstream.NewReport(time.Now().UTC(), "medguard demo", byOrg[id], inc)
		if err != nil {
			return err
		}
		b, err := json.Marshal(rep)
		if err != nil {
			return err
		}
		if _, _, err := d.Upstream.Receive(ctx, u, "127.0.0.1", l.TokenID, bytes.NewReader(b)); err != nil {
			return fmt.Errorf("demo: report of hospital %d: %w", id, err)
		}
	}
	return nil
}
