package demo

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/assess"
	"github.com/medguard/medguard/internal/asset"
	"github.com/medguard/medguard/internal/incident"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/risk"
)

// seedCompliance gives the first hospital its compliance records, module by module,
// each skipped when the module already holds a record of the hospital: its policy
// documents, role book and self-checks; its training courses with a session, a question
// bank and exam attempts; its outbound data flows; an MLPS level-3 assessment of its
// main business system and a GB/T 39725 assessment of the hospital, their automatic
// checks run and a gap turned into a risk; a scheduled monthly report with last month's
// report made; and this week's point of the security score. The order matters: the
// assessments' automatic checks read the policies, the training and the data flows.
func seedCompliance(ctx context.Context, d Deps, now time.Time) error {
	h1, a, err := demoOfficer(ctx, d)
	if err != nil || h1.ID == 0 {
		return err
	}
	seeded := false
	for _, step := range []func(ctx context.Context, d Deps, h1 org.Node, a actor.Actor, now time.Time) (bool, error){
		seedAssessments,
	} {
		did, err := step(ctx, d, h1, a, now)
		if err != nil {
			return err
		}
		seeded = seeded || did
	}
	// This week's security score, so that the overview's trend has a point before the
	// platform's own daily sweep runs.
	if seeded && d.Overview != nil {
		if _, err := d.Overview.Sweep(ctx, now); err != nil {
			return fmt.Errorf("demo: overview sweep: %w", err)
		}
	}
	return nil
}

// userActor is demo user username acting (the system when the user is missing).
func userActor(ctx context.Context, d Deps, username string) actor.Actor {
	if u, err := d.Auth.UserByName(ctx, actor.System(), username); err == nil {
		return u.Actor("")
	}
	return actor.System()
}

// mainSystem is the hospital's main business system: a business system of MLPS level 3
// of the hospital (or below), the HIS first, then the EMR, else the first one; the zero
// asset when it has none.
func mainSystem(ctx context.Context, d Deps, a actor.Actor, h1 org.Node) (asset.Asset, error) {
	page, err := d.Assets.List(ctx, a, asset.Query{Kind: asset.KindBusinessSystem, MLPSLevel: 3, OrgID: h1.ID, PerPage: 500})
	if err != nil {
		return asset.Asset{}, fmt.Errorf("demo: business systems: %w", err)
	}
	for _, prefix := range []string{"HIS", "EMR", ""} {
		for _, s := range page.Items {
			if strings.HasPrefix(s.Name, prefix) {
				return s, nil
			}
		}
	}
	return asset.Asset{}, nil
}

// mlpsGap is an item of the MLPS assessment that is not simply met.
type mlpsGap struct {
	status, note string
}

// mlpsNotes are the items of the HIS's MLPS level-3 self-assessment that are not met,
// partly met or not applicable, with the assessor's note. Items of mlpsLater are not
// assessed yet; every other item is met.
var mlpsNotes = map[string]mlpsGap{
	"8.1.4.1.d": {assess.StatusNotMet, "门诊、住院护士站约 300 台老旧终端上的 HIS 客户端只用用户名加口令登录，未启用双因素认证；系统管理员已使用 UKey 登录。"},
	"8.1.4.9.b": {assess.StatusNotMet, "HIS 数据库只有本地备份，尚未建设异地实时备份。"},
	"8.1.4.9.c": {assess.StatusNotMet, "HIS 数据库服务器单机部署，无热备节点。"},
	"8.1.4.8.b": {assess.StatusNotMet, "患者身份证号、手机号在 HIS 数据库中明文存储。"},
	"8.1.4.2.g": {assess.StatusNotMet, "未对重要主体和客体设置安全标记。"},
	"8.1.2.3.a": {assess.StatusNotMet, "核心交换机不支持基于可信根的可信验证。"},
	"8.1.3.6.a": {assess.StatusNotMet, "边界防火墙不支持基于可信根的可信验证。"},
	"8.1.4.6.a": {assess.StatusNotMet, "HIS 服务器未启用可信验证。"},

	"8.1.4.9.a":   {assess.StatusPartly, "每日全量备份到本地备份服务器，但恢复测试未按季度开展。"},
	"8.1.10.11.a": {assess.StatusPartly, "已列出需备份的业务数据，影像数据和接口配置未纳入。"},
	"8.1.10.11.b": {assess.StatusPartly, "备份策略规定了频度和保存期，未规定介质轮换和异地存放。"},
	"8.1.10.11.c": {assess.StatusPartly, "有备份恢复程序，但近半年只做过一次恢复演练，记录不全。"},
	"8.1.1.6.c":   {assess.StatusPartly, "主机房已装漏水检测，UPS 间尚未覆盖。"},
	"8.1.3.3.c":   {assess.StatusPartly, "已部署流量审计，未启用新型网络攻击行为分析。"},
	"8.1.3.5.d":   {assess.StatusPartly, "VPN 远程访问有审计，互联网访问行为未单独审计。"},
	"8.1.4.1.a":   {assess.StatusPartly, "已启用口令复杂度检查，但未强制 90 天更换口令。"},
	"8.1.4.2.c":   {assess.StatusPartly, "护士站仍有 12 个科室共享账户，正在逐个清理。"},
	"8.1.4.4.e":   {assess.StatusPartly, "厂商补丁需评估后安装，部分中间件漏洞超期未修补。"},
	"8.1.4.10.b":  {assess.StatusPartly, "数据库层面未验证敏感数据存储空间的释放清除。"},
	"8.1.5.4.d":   {assess.StatusPartly, "审计数据已集中，但网络设备日志只保存 3 个月。"},
	"8.1.5.4.f":   {assess.StatusPartly, "安全事件告警已集中，分析仍靠人工每周一次。"},
	"8.1.8.3.c":   {assess.StatusPartly, "年度网络安全考试已开展，部分人员未通过，补考未完成。"},
	"8.1.10.5.b":  {assess.StatusPartly, "本年度漏洞扫描已完成，渗透测试尚未开展。"},
	"8.1.10.6.f":  {assess.StatusPartly, "日志和告警由信息科人工分析，每周一次，未做到每日。"},
	"8.1.10.3.a":  {assess.StatusPartly, "备份磁带存放在机房，未定期盘点。"},
	"8.1.10.9.b":  {assess.StatusPartly, "部分系统未使用经认证的商用密码产品，商用密码应用安全性评估尚未开展。"},
	"8.1.10.13.c": {assess.StatusPartly, "勒索病毒预案已开展桌面推演，其他预案尚未培训和演练。"},
	"8.1.9.8.b":   {assess.StatusPartly, "新版本上线时厂商只对信息科两名工程师做了培训。"},

	"8.1.9.4.a": {assess.StatusNotApplicable, "HIS 由厂商开发，医院不自行开发软件。"},
	"8.1.9.4.b": {assess.StatusNotApplicable, "HIS 由厂商开发，医院不自行开发软件。"},
	"8.1.9.4.c": {assess.StatusNotApplicable, "HIS 由厂商开发，医院不自行开发软件。"},
	"8.1.9.4.d": {assess.StatusNotApplicable, "HIS 由厂商开发，医院不自行开发软件。"},
	"8.1.9.4.e": {assess.StatusNotApplicable, "HIS 由厂商开发，医院不自行开发软件。"},
	"8.1.9.4.f": {assess.StatusNotApplicable, "HIS 由厂商开发，医院不自行开发软件。"},
	"8.1.9.4.g": {assess.StatusNotApplicable, "HIS 由厂商开发，医院不自行开发软件。"},
}

// mlpsLater are the control points (item prefixes) not assessed yet: the assessment is
// in progress.
var mlpsLater = []string{"8.1.10.14.", "8.1.9.10.", "8.1.9.9.", "8.1.8.4.", "8.1.1.10.", "8.1.7.4.", "8.1.7.5.", "8.1.10.4."}

// mlpsBatches split the assessment into the weeks it was done in, by item prefix: the
// physical environment and networks first, then the computing environment and the
// management centre, then the management requirements.
var mlpsBatches = [][]string{
	{"8.1.1.", "8.1.2.", "8.1.3."},
	{"8.1.4.", "8.1.5."},
	{"8.1.6.", "8.1.7.", "8.1.8."},
	{"8.1.9.", "8.1.10."},
}

// gbtStatuses are the items of the GB/T 39725 assessment done so far (the others are
// not assessed yet), with their notes.
var gbtStatuses = []struct {
	item string
	mlpsGap
}{
	{"class.category.personal", mlpsGap{assess.StatusMet, "已按《数据分类分级目录》识别个人属性数据。"}},
	{"class.category.health", mlpsGap{assess.StatusMet, ""}},
	{"class.category.medical", mlpsGap{assess.StatusMet, ""}},
	{"class.category.payment", mlpsGap{assess.StatusMet, ""}},
	{"class.category.resource", mlpsGap{assess.StatusMet, ""}},
	{"class.category.public_health", mlpsGap{assess.StatusPartly, "传染病报告数据未单独标识类别。"}},
	{"class.level.3", mlpsGap{assess.StatusMet, "诊疗数据按第 3 级管理。"}},
	{"class.level.4", mlpsGap{assess.StatusPartly, "精神科、HIV 检测等敏感诊疗数据尚未按第 4 级单独管控。"}},
	{"class.principles.consent", mlpsGap{assess.StatusMet, ""}},
	{"class.principles.minimum", mlpsGap{assess.StatusPartly, "部分科研数据申请超出研究所需字段。"}},
	{"mgmt.org.lead", mlpsGap{assess.StatusMet, "已成立网络安全和信息化工作领导小组，院长任组长。"}},
	{"mgmt.org.roles", mlpsGap{assess.StatusMet, ""}},
	{"mgmt.people.screening", mlpsGap{assess.StatusMet, ""}},
	{"mgmt.people.leave", mlpsGap{assess.StatusPartly, "离职人员 HIS 账号平均 5 天后才停用。"}},
	{"mgmt.assets.inventory", mlpsGap{assess.StatusMet, ""}},
	{"mgmt.assets.risk", mlpsGap{assess.StatusPartly, "年度数据安全风险评估尚未完成。"}},
	{"tech.share.deid", mlpsGap{assess.StatusNotMet, "商业保险直赔接口向保险公司发送未去标识化的诊疗数据。"}},
	{"tech.store.encrypt", mlpsGap{assess.StatusNotMet, "HIS 数据库中身份证号、手机号明文存储。"}},
	{"tech.use.mask", mlpsGap{assess.StatusMet, "门诊叫号屏、自助机已对姓名和证件号脱敏。"}},
}

// seedAssessments assesses the hospital's main business system against MLPS level 3
// over four weeks (most items met, some partly or not, a few not applicable, the last
// control points still to do), links platform records as evidence, runs the automatic
// checks, turns the missing two-factor authentication into a risk, and starts a GB/T
// 39725 assessment of the hospital. It does nothing when the hospital has an assessment.
func seedAssessments(ctx context.Context, d Deps, h1 org.Node, a actor.Actor, now time.Time) (bool, error) {
	if d.Assess == nil {
		return false, nil
	}
	existing, err := d.Assess.Assessments(ctx, a)
	if err != nil || len(existing) > 0 {
		return false, err
	}
	if !slices.Contains(d.Assess.Catalogues().Names(), "mlps3") {
		return false, nil
	}
	sys, err := mainSystem(ctx, d, a, h1)
	if err != nil {
		return false, err
	}
	start := now.AddDate(0, 0, -35)
	due := now.AddDate(0, 1, 0)
	in := assess.Input{OrgID: h1.ID, Catalogue: "mlps3", Title: "全院网络安全等级保护（三级）自评估", Assessor: "王安全（信息科）",
		StartsOn: start, DueOn: &due}
	if sys.ID != 0 {
		in.AssetID = sys.ID
		in.Title = sys.Name + " 等级保护（三级）自评估"
	}
	x, err := d.Assess.Create(ctx, a, in)
	if err != nil {
		return false, fmt.Errorf("demo: MLPS assessment: %w", err)
	}
	items, err := d.Assess.Catalogues().Items("mlps3")
	if err != nil {
		return false, err
	}
	later := func(id string) bool {
		return slices.ContainsFunc(mlpsLater, func(p string) bool { return strings.HasPrefix(id, p) })
	}
	// The progress before the first week's work, then a point at the end of each week:
	// the scheduled re-check records the counts at the time it is given.
	if _, err := d.Assess.Sweep(ctx, start); err != nil {
		return false, fmt.Errorf("demo: assessment progress: %w", err)
	}
	for i, batch := range mlpsBatches {
		for _, it := range items {
			if later(it.ID) || !slices.ContainsFunc(batch, func(p string) bool { return strings.HasPrefix(it.ID, p) }) {
				continue
			}
			st := mlpsGap{status: assess.StatusMet}
			if g, ok := mlpsNotes[it.ID]; ok {
				st = g
			}
			if _, err := d.Assess.SetStatus(ctx, a, x.ID, it.ID, assess.StatusInput{Status: st.status, Note: st.note}); err != nil {
				return false, fmt.Errorf("demo: assess %s: %w", it.ID, err)
			}
		}
		if i < len(mlpsBatches)-1 {
			if _, err := d.Assess.Sweep(ctx, start.AddDate(0, 0, 7*(i+1))); err != nil {
				return false, fmt.Errorf("demo: assessment progress: %w", err)
			}
		}
	}
	if err := linkEvidence(ctx, d, h1, a, x.ID); err != nil {
		return false, err
	}
	if _, err := d.Assess.Recheck(ctx, a, x.ID); err != nil {
		return false, fmt.Errorf("demo: recheck: %w", err)
	}
	reg := d.AssessRisks
	if reg == nil && d.Risks != nil {
		reg = d.Risks
	}
	if reg != nil {
		if _, _, err := d.Assess.GapToRisk(ctx, a, reg, x.ID, "8.1.4.1.d", assess.GapInput{Owner: "secofficer", Lang: "zh-CN"}); err != nil {
			return false, fmt.Errorf("demo: gap to risk: %w", err)
		}
	}

	// The data-security assessment of the hospital, begun a fortnight ago.
	if slices.Contains(d.Assess.Catalogues().Names(), "gbt39725") {
		gdue := now.AddDate(0, 2, 0)
		g, err := d.Assess.Create(ctx, a, assess.Input{OrgID: h1.ID, Catalogue: "gbt39725", Title: "健康医疗数据安全（GB/T 39725-2020）自评估",
			Assessor: "李合规（医务部）", StartsOn: now.AddDate(0, 0, -14), DueOn: &gdue})
		if err != nil {
			return false, fmt.Errorf("demo: GB/T 39725 assessment: %w", err)
		}
		privacy := userActor(ctx, d, "privacy")
		for _, s := range gbtStatuses {
			if _, err := d.Assess.SetStatus(ctx, privacy, g.ID, s.item, assess.StatusInput{Status: s.status, Note: s.note}); err != nil {
				return false, fmt.Errorf("demo: assess %s: %w", s.item, err)
			}
		}
		if _, err := d.Assess.Recheck(ctx, a, g.ID); err != nil {
			return false, fmt.Errorf("demo: recheck: %w", err)
		}
	}
	return true, nil
}

// linkEvidence links the platform's own records to the MLPS assessment's items: the
// register's HIS risk to the risk items, the open incident to incident handling, the
// approved emergency plans to the contingency items, and the trail entry of the
// security policy's approval to the policy's publication.
func linkEvidence(ctx context.Context, d Deps, h1 org.Node, a actor.Actor, id int64) error {
	link := func(item, module string, recordID int64) error {
		if recordID == 0 {
			return nil
		}
		if _, err := d.Assess.AddLink(ctx, a, id, item, assess.LinkInput{Module: module, ID: recordID}); err != nil {
			return fmt.Errorf("demo: evidence %s %s %d: %w", item, module, recordID, err)
		}
		return nil
	}
	if d.Risks != nil {
		rs, _, err := d.Risks.Risks(ctx, a, risk.Query{OrgID: h1.ID, Text: "HIS", Limit: 1})
		if err != nil {
			return err
		}
		for _, r := range rs {
			if err := link("8.1.4.9.c", "risk", r.ID); err != nil {
				return err
			}
		}
	}
	if d.Incidents != nil {
		incs, err := d.Incidents.Incidents(ctx, a, incident.Query{})
		if err != nil {
			return err
		}
		if len(incs) > 0 {
			if err := link("8.1.10.12.a", "incident", incs[0].ID); err != nil {
				return err
			}
		}
	}
	if d.Plans != nil {
		plans, err := d.Plans.Plans(ctx, a, incident.PlanQuery{OrgID: h1.ID, Status: "approved"})
		if err != nil {
			return err
		}
		for _, p := range plans {
			if err := link("8.1.10.13.b", "plan", p.ID); err != nil {
				return err
			}
		}
	}
	var seq int64
	if err := d.DB.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM trail WHERE action = 'policy.approve' AND org_id = ?`,
		h1.ID).Scan(&seq); err != nil {
		return fmt.Errorf("demo: trail entry: %w", err)
	}
	return link("8.1.6.3.b", "trail", seq)
}
