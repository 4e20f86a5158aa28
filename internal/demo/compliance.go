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
	"github.com/medguard/medguard/internal/auth"
	"github.com/medguard/medguard/internal/dataflow"
	"github.com/medguard/medguard/internal/incident"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/policy"
	"github.com/medguard/medguard/internal/report"
	"github.com/medguard/medguard/internal/risk"
	"github.com/medguard/medguard/internal/training"
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
		seedPolicies, seedTraining, seedDataflows, seedAssessments, seedReports,
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

// demoPolicy is a policy document of the demo: its text, who wrote and who approved it,
// when it took effect (months and days ago; approved false leaves it in review).
type demoPolicy struct {
	title, category, author, approver, body string
	reviewMonths, monthsAgo, daysAgo        int
	approved                                bool
}

var demoPolicies = []demoPolicy{
	{title: "网络安全总体方针", category: "strategy", author: "secofficer", approver: "privacy", reviewMonths: 12, monthsAgo: 11, daysAgo: 10,
		approved: true, body: "一、目标：保障医院信息系统安全稳定运行，保护患者个人信息和诊疗数据。\n" +
			"二、原则：谁主管谁负责、谁运营谁负责；同步规划、同步建设、同步运行。\n" +
			"三、组织：网络安全和信息化工作领导小组统一领导，信息科负责日常管理，各科室主任是本科室第一责任人。\n" +
			"四、要求：核心业务系统按等级保护第三级建设和测评；每年开展一次风险评估和全员培训。"},
	{title: "数据安全管理制度", category: "rule", author: "privacy", approver: "secofficer", reviewMonths: 12, monthsAgo: 3,
		approved: true, body: "第一条 本制度适用于医院产生、收集、存储、使用和对外提供的全部健康医疗数据。\n" +
			"第二条 数据按 GB/T 39725-2020 分为个人属性、健康状况、医疗应用、医疗支付、卫生资源和公共卫生数据六类，按五级管理。\n" +
			"第三条 第 3 级及以上数据对外提供须经数据安全负责人审批，签订数据处理协议，并按规定去标识化。\n" +
			"第四条 数据共享一律在数据共享登记中登记，协议到期前一个月续签或停止共享。"},
	{title: "患者隐私保护管理办法", category: "rule", author: "privacy", reviewMonths: 12,
		body: "第一条 医务人员只能在诊疗需要范围内调阅患者信息，调阅全程留痕。\n" +
			"第二条 禁止通过个人邮箱、即时通讯工具传送含患者身份信息的文件。\n" +
			"第三条 发现患者信息泄露的，当事人须在 1 小时内报告信息科和医务部。"},
	{title: "网络安全事件应急处置操作规程", category: "procedure", author: "secofficer", approver: "privacy", reviewMonths: 6, monthsAgo: 11,
		approved: true, body: "1. 发现：值班人员发现告警或接到报告后，10 分钟内确认并登记。\n" +
			"2. 定级：按事件影响范围确定级别，较大及以上事件立即报告分管院领导。\n" +
			"3. 处置：隔离受影响主机，保全日志和现场，按预案启动手工应急流程。\n" +
			"4. 报告：按规定时限向卫生健康行政部门和公安机关报告。\n" +
			"5. 总结：事件处置完毕 5 个工作日内提交总结报告。"},
	{title: "机房出入登记表", category: "record", author: "secofficer", approver: "privacy", reviewMonths: 12, monthsAgo: 2, approved: true,
		body: "日期 | 姓名 | 单位 | 事由 | 进入时间 | 离开时间 | 陪同人 | 备注\n外来人员须持有效证件并由信息科人员全程陪同。"},
}

// seedPolicies writes the hospital's policy documents (approved by someone other than
// their author, one in review, one due for review, one overdue), its role book (the six
// roles held by different people: no 三员分立 breach) and its self-checks (last month's
// vulnerability scan with issues, in the register; a document check passed; a
// penetration test planned; a configuration check overdue). It does nothing when the
// hospital has a policy document.
func seedPolicies(ctx context.Context, d Deps, h1 org.Node, a actor.Actor, now time.Time) (bool, error) {
	if d.Policies == nil {
		return false, nil
	}
	if _, n, err := d.Policies.Policies(ctx, a, policy.Query{OrgID: h1.ID, Limit: 1}); err != nil || n > 0 {
		return false, err
	}
	for _, p := range demoPolicies {
		author := userActor(ctx, d, p.author)
		pol, err := d.Policies.Create(ctx, author, policy.Input{OrgID: h1.ID, Title: p.title, Category: p.category, Owner: p.author,
			Body: p.body, ReviewMonths: p.reviewMonths})
		if err != nil {
			return false, fmt.Errorf("demo: policy %s: %w", p.title, err)
		}
		if _, err := d.Policies.Submit(ctx, author, pol.ID); err != nil {
			return false, fmt.Errorf("demo: submit policy %s: %w", p.title, err)
		}
		if !p.approved {
			continue
		}
		eff := now.AddDate(0, -p.monthsAgo, -p.daysAgo)
		if _, err := d.Policies.Approve(ctx, userActor(ctx, d, p.approver), pol.ID, policy.Decision{Approve: true, EffectiveAt: eff,
			Note: "经网络安全和信息化工作领导小组会议审议通过。"}); err != nil {
			return false, fmt.Errorf("demo: approve policy %s: %w", p.title, err)
		}
	}
	// The reviews come due: the platform's sweep opens them and marks the late one.
	if _, err := d.Policies.Sweep(ctx, now); err != nil {
		return false, fmt.Errorf("demo: policy reviews: %w", err)
	}

	appointed := now.AddDate(-1, 0, 0)
	for _, r := range []policy.RoleInput{
		{Role: policy.RoleLeadingGroup, Person: "张建国（院长）", Phone: "0571-87668001", Responsibilities: "网络安全和信息化工作领导小组组长，对全院网络安全负总责。"},
		{Role: policy.RoleCSO, Username: "secofficer", Phone: "0571-87668021", Responsibilities: "网络安全管理负责人：组织制定制度、等级保护测评和整改、事件处置。"},
		{Role: policy.RoleSystemAdmin, Username: "itops", Phone: "0571-87668025", Responsibilities: "系统管理员：服务器、数据库和网络设备的配置、账户和备份。"},
		{Role: policy.RoleAuditAdmin, Username: "auditor", Phone: "0571-87668031", Responsibilities: "审计管理员：审计日志的分析、留存和审计报告，不参与系统运维。"},
		{Role: policy.RoleSecurityAdmin, Person: "吴敏（信息科）", Phone: "0571-87668026", Responsibilities: "安全管理员：安全策略、恶意代码防范、补丁和漏洞管理。"},
		{Role: policy.RoleDataSecurity, Username: "privacy", Phone: "0571-87668041", Responsibilities: "数据安全负责人：数据分类分级、对外提供审批、隐私保护。"},
	} {
		r.OrgID, r.AppointedAt = h1.ID, &appointed
		if _, err := d.Policies.SaveRole(ctx, a, 0, r); err != nil {
			return false, fmt.Errorf("demo: role %s: %w", r.Role, err)
		}
	}

	sys, err := mainSystem(ctx, d, a, h1)
	if err != nil {
		return false, err
	}
	var systems []int64
	if sys.ID != 0 {
		systems = []int64{sys.ID}
	}
	at := func(months, days int) *time.Time { t := now.AddDate(0, months, days); return &t }
	scan, err := d.Policies.SaveCheck(ctx, a, 0, policy.CheckInput{OrgID: h1.ID, Kind: "vuln_scan", Title: "第四季度核心业务系统漏洞扫描",
		PlannedAt: *at(-1, -5), PerformedAt: at(-1, -3), Performer: "secofficer", ThirdParty: "示范网安检测技术有限公司", AssetIDs: systems,
		Result: policy.ResultIssues, Findings: 14, RecurMonths: 3,
		Summary: "高危 2 个（Oracle 数据库未打补丁、WebLogic 反序列化），中危 7 个，低危 5 个；HIS 应用服务器存在弱口令账户。"})
	if err != nil {
		return false, fmt.Errorf("demo: vulnerability scan: %w", err)
	}
	if d.Risks != nil {
		if _, _, err := d.Risks.FromSource(ctx, a, risk.SourceInput{Module: risk.ModuleSelfCheck, ID: scan.ID, Owner: "itops"}); err != nil {
			return false, fmt.Errorf("demo: risk from the scan: %w", err)
		}
	}
	for _, c := range []policy.CheckInput{
		{Kind: "document_check", Title: "网络安全管理制度年度检查", PlannedAt: *at(-2, 0), PerformedAt: at(-2, 2), Performer: "privacy",
			Result: policy.ResultPass, Summary: "制度文件齐全，均在有效期内，审批记录完整。"},
		{Kind: "pentest", Title: "互联网医院和 HIS 渗透测试", PlannedAt: *at(1, 0), ThirdParty: "示范网安检测技术有限公司", AssetIDs: systems},
		{Kind: "config_check", Title: "核心交换机和防火墙配置核查", PlannedAt: *at(0, -10), Performer: "itops"},
	} {
		c.OrgID = h1.ID
		if _, err := d.Policies.SaveCheck(ctx, a, 0, c); err != nil {
			return false, fmt.Errorf("demo: self-check %s: %w", c.Title, err)
		}
	}
	return true, nil
}

// demoQuestions is the annual awareness course's question bank, in the CSV a hospital
// imports (题型, 题目, 选项, 答案, 解析).
const demoQuestions = "题型,题目,选项A,选项B,选项C,选项D,答案,解析\n" +
	"单选,收到自称“医保局”的邮件，要求点击链接更新医保结算系统口令，正确的做法是,立即点击链接更新,转发给同事确认,不点击链接，报告信息科核实,回复邮件询问,C,钓鱼邮件常冒充上级部门，应通过官方渠道核实。\n" +
	"单选,HIS 登录口令最合适的是,123456,工号加生日,至少 8 位并含大小写字母、数字和符号,与其他系统相同的口令,C,口令应有足够复杂度且各系统不同。\n" +
	"多选,下列哪些属于患者个人信息,姓名,身份证号,诊断结果,医院床位总数,ABC,床位总数是卫生资源数据，不能识别个人。\n" +
	"判断,离开诊室时应锁定电脑屏幕。,对,错,,,对,离开工位应锁屏（Windows + L），防止他人冒用账号。\n" +
	"判断,为方便工作，可以把含患者信息的文件用个人邮箱发到家里处理。,对,错,,,错,个人邮箱不受医院管控，属于违规外发患者数据。\n" +
	"单选,发现电脑文件被加密、出现勒索信息时，首先应,重启电脑,拔掉网线并立即报告信息科,支付赎金,继续使用,B,先断网隔离防止扩散，再报告处置。\n" +
	"单选,《网络安全法》规定网络运营者应当按照什么制度履行安全保护义务,网络安全等级保护制度,ISO 27001 认证,医院评审制度,三级查房制度,A,《网络安全法》第二十一条。\n" +
	"多选,U 盘使用的正确做法有,使用医院登记的专用 U 盘,插入前进行病毒查杀,在 HIS 终端上随意使用外来 U 盘,重要数据加密存放,ABD,外来介质是恶意代码的主要入口之一。\n" +
	"判断,科室同事可以共用一个 HIS 账号。,对,错,,,错,账号实名、一人一号，操作才能追溯到人。\n" +
	"单选,患者信息泄露事件应在多长时间内报告信息科和医务部,1 小时内,当天下班前,一周内,不需要报告,A,见《患者隐私保护管理办法》第三条。\n"

// seedTraining gives the hospital its annual security-awareness course, required of all
// staff (attendance and the exam), with last month's session, its attendance, the
// question bank imported from CSV and exam attempts that pass and fail — so that some
// people are overdue — and a course for the IT staff with a session next month. It does
// nothing when the hospital has a course.
func seedTraining(ctx context.Context, d Deps, h1 org.Node, a actor.Actor, now time.Time) (bool, error) {
	if d.Training == nil {
		return false, nil
	}
	if cs, err := d.Training.Courses(ctx, a, h1.ID); err != nil || len(cs) > 0 {
		return false, err
	}
	c, err := d.Training.CreateCourse(ctx, a, training.CourseInput{OrgID: h1.ID, Title: "网络安全意识年度培训",
		Description: "全院在编职工每年一次：网络安全法律法规、口令与账号、钓鱼邮件识别、患者隐私保护、勒索病毒应急。", Hours: 2,
		// The hospital's own staff: not the app operators (the internet-hospital app's
		// vendor, and the upstream link's service account).
		Roles:            []string{auth.RoleAdmin, auth.RoleSecurity, auth.RolePrivacy, auth.RoleAuditor, auth.RoleITOps},
		RecurrenceMonths: 12, Rule: training.RuleBoth,
		Exam: training.Exam{Questions: 10, PassPercent: 80, TimeLimitMinutes: 30, MaxAttempts: 3}})
	if err != nil {
		return false, fmt.Errorf("demo: course: %w", err)
	}
	if res, err := d.Training.ImportQuestions(ctx, a, c.ID, []byte(demoQuestions)); err != nil || len(res.Errors) > 0 {
		return false, fmt.Errorf("demo: question bank: %v %v", err, res.Errors)
	}
	sess, err := d.Training.AddSession(ctx, a, c.ID, training.SessionInput{StartsAt: now.AddDate(0, -1, 0).Truncate(24 * time.Hour).Add(6 * time.Hour),
		Place: "门诊楼 5 楼学术报告厅", Trainer: "王安全（信息科）"})
	if err != nil {
		return false, fmt.Errorf("demo: session: %w", err)
	}
	if _, err := d.Training.RecordAttendance(ctx, a, sess.ID, []training.Mark{{Username: "secofficer", Attended: true},
		{Username: "privacy", Attended: true}, {Username: "itops", Attended: true}, {Username: "auditor", Attended: false},
		{Username: "appops", Attended: true}}); err != nil {
		return false, fmt.Errorf("demo: attendance: %w", err)
	}
	// The exam: the security officer and IT ops pass, the privacy officer fails (half
	// wrong); the app operator has not taken it.
	bank, err := d.Training.Questions(ctx, a, c.ID)
	if err != nil {
		return false, err
	}
	for _, take := range []struct {
		user  string
		wrong int
	}{{"secofficer", 0}, {"itops", 1}, {"privacy", 5}} {
		if err := takeExam(ctx, d, userActor(ctx, d, take.user), c.ID, bank, take.wrong); err != nil {
			return false, fmt.Errorf("demo: exam of %s: %w", take.user, err)
		}
	}

	ops, err := d.Training.CreateCourse(ctx, a, training.CourseInput{OrgID: h1.ID, Title: "信息系统运维安全与应急处置",
		Description: "运维人员专项：等级保护运维管理要求、变更与备份恢复、勒索病毒应急处置演练。", Hours: 4,
		Roles: []string{"it_ops"}, RecurrenceMonths: 12, Rule: training.RuleAttendance})
	if err != nil {
		return false, fmt.Errorf("demo: IT course: %w", err)
	}
	if _, err := d.Training.AddSession(ctx, a, ops.ID, training.SessionInput{StartsAt: now.AddDate(0, 0, 14).Truncate(24 * time.Hour).Add(7 * time.Hour),
		Place: "信息科会议室", Trainer: "示范网安检测技术有限公司 讲师"}); err != nil {
		return false, fmt.Errorf("demo: IT session: %w", err)
	}
	// Reminders of who is overdue.
	if _, err := d.Training.Sweep(ctx, now); err != nil {
		return false, fmt.Errorf("demo: training reminders: %w", err)
	}
	return true, nil
}

// takeExam has user a take course courseID's exam, answering wrong questions wrongly and
// the others rightly (by the bank's answers).
func takeExam(ctx context.Context, d Deps, a actor.Actor, courseID int64, bank []training.Question, wrong int) error {
	at, err := d.Training.StartAttempt(ctx, a, courseID)
	if err != nil {
		return err
	}
	answers := make([][]int, len(at.Questions))
	for i, q := range at.Questions {
		k := slices.IndexFunc(bank, func(b training.Question) bool { return b.Text == q.Text })
		if k < 0 {
			continue
		}
		b := bank[k]
		var right []int
		for _, n := range b.Answer {
			if j := slices.Index(q.Options, b.Options[n]); j >= 0 {
				right = append(right, j)
			}
		}
		if i < wrong {
			// A wrong answer: the first option that is not right.
			for j := range q.Options {
				if !slices.Contains(right, j) {
					right = []int{j}
					break
				}
			}
		}
		answers[i] = right
	}
	_, err = d.Training.Submit(ctx, a, at.ID, answers)
	return err
}

// seedDataflows registers the hospital's outbound data flows: medical insurance
// settlement and the regional health-information platform (sound), direct claims to a
// commercial insurer (level-3 health data not de-identified: a risk), prescriptions to a
// pharmacy chain (its agreement expired: a risk), and a research flow that ended with
// the recipient's destruction of the data recorded. It does nothing when the hospital
// has a flow.
func seedDataflows(ctx context.Context, d Deps, h1 org.Node, a actor.Actor, now time.Time) (bool, error) {
	if d.Dataflows == nil {
		return false, nil
	}
	if _, n, err := d.Dataflows.Flows(ctx, a, dataflow.Query{OrgID: h1.ID, Limit: 1}); err != nil || n > 0 {
		return false, err
	}
	sys, err := mainSystem(ctx, d, a, h1)
	if err != nil {
		return false, err
	}
	var src []int64
	if sys.ID != 0 {
		src = []int64{sys.ID}
	}
	day := func(months, days int) string { return now.AddDate(0, months, days).Format(time.DateOnly) }
	cats := func(cs ...dataflow.Category) []dataflow.Category { return cs }
	c := func(cat string, level int) dataflow.Category { return dataflow.Category{Category: cat, Level: level} }
	flows := []dataflow.Input{
		{Name: "医保结算数据上传", RecipientName: "示范市医疗保障局", RecipientKind: dataflow.KindMedicalInsurance,
			Categories: cats(c("personal", 3), c("medical", 3), c("payment", 3)), Purpose: "门诊、住院费用医保实时结算和结算清单上传",
			LegalBasis: dataflow.BasisLegalObligation, AgreementRef: "示医保协〔2026〕12 号 定点医疗机构服务协议", AgreementSigned: day(-11, 0),
			AgreementExpires: day(1, 24), Deident: dataflow.DeidentNone, Transfer: dataflow.TransferSM4, Frequency: "实时",
			Volume: "日均约 6000 笔", Retention: "医保部门按规定保存"},
		{Name: "区域全民健康信息平台数据上报", RecipientName: "示范市全民健康信息平台", RecipientKind: dataflow.KindRegionalPlatform,
			Categories: cats(c("personal", 3), c("health", 3), c("medical", 4)), Purpose: "电子健康档案和电子病历共享调阅、卫生统计直报",
			LegalBasis: dataflow.BasisLegalObligation, AgreementRef: "区域平台数据接入协议（2025—2027）", AgreementSigned: day(-14, 0),
			AgreementExpires: day(10, 0), Deident: dataflow.DeidentNone, Transfer: dataflow.TransferTLS, Frequency: "每日",
			Volume: "每日约 1.2 万条诊疗记录", Retention: "平台按卫生健康部门规定保存"},
		{Name: "商业保险直赔理赔数据", RecipientName: "示范人寿保险股份有限公司", RecipientKind: dataflow.KindInsurer,
			Categories: cats(c("personal", 3), c("health", 3), c("payment", 3)), Purpose: "住院患者商业医疗险床旁直赔",
			LegalBasis: dataflow.BasisContract, AgreementRef: "商业保险直赔合作协议 SR-2026-031", AgreementSigned: day(-4, 0),
			AgreementExpires: day(8, 0), Deident: dataflow.DeidentNone, Transfer: dataflow.TransferTLS, Frequency: "实时",
			Volume: "每月约 300 例", Retention: "理赔结束后 5 年"},
		{Name: "电子处方流转", RecipientName: "示范大药房连锁有限公司", RecipientKind: dataflow.KindPharmacy,
			Categories: cats(c("personal", 3), c("medical", 3)), Purpose: "门诊电子处方外配到院外药店",
			LegalBasis: dataflow.BasisConsent, AgreementRef: "处方流转合作协议 CF-2024-008", AgreementSigned: day(-26, 0),
			AgreementExpires: day(-2, 0), Deident: dataflow.DeidentNone, Transfer: dataflow.TransferTLS, Frequency: "实时",
			Volume: "每月约 1500 张处方", Retention: "药店按处方管理规定保存 2 年"},
		{Name: "慢病队列研究数据提供", RecipientName: "示范医科大学公共卫生学院", RecipientKind: dataflow.KindResearch,
			Categories: cats(c("health", 3), c("medical", 3)), Purpose: "高血压患者队列研究（伦理批件 2025-伦审-017）",
			LegalBasis: dataflow.BasisContract, AgreementRef: "科研数据使用协议 KY-2025-017", AgreementSigned: day(-12, 0),
			AgreementExpires: day(1, 0), Deident: dataflow.DeidentPseudonymised, DeidentNote: "姓名、身份证号替换为研究编号，对照表由医院保存",
			Transfer: dataflow.TransferSM4, Frequency: "一次性", Volume: "3200 名患者", Retention: "研究结束即销毁"},
	}
	for i, in := range flows {
		in.OrgID, in.SourceAssetIDs, in.Lang = h1.ID, src, "zh-CN"
		f, err := d.Dataflows.Create(ctx, a, in)
		if err != nil {
			return false, fmt.Errorf("demo: data flow %s: %w", in.Name, err)
		}
		if i == len(flows)-1 {
			if _, err := d.Dataflows.End(ctx, a, f.ID, dataflow.EndInput{By: "对方数据管理员 周志远", At: day(-1, 5),
				Verification: "信息科现场核验服务器删除记录，对方出具数据销毁证明并盖章。", Lang: "zh-CN"}); err != nil {
				return false, fmt.Errorf("demo: end data flow: %w", err)
			}
		}
	}
	return true, nil
}

// seedReports gives the hospital a scheduled monthly report template and makes last
// month's report from it. It does nothing when the hospital has a template.
func seedReports(ctx context.Context, d Deps, h1 org.Node, a actor.Actor, now time.Time) (bool, error) {
	if d.Reports == nil {
		return false, nil
	}
	ts, err := d.Reports.Templates(ctx, a)
	if err != nil || len(ts) > 0 {
		return false, err
	}
	t, err := d.Reports.CreateTemplate(ctx, a, report.TemplateInput{OrgID: h1.ID, Name: "网络安全月报（院领导）", Kind: report.Monthly,
		Lang: "zh-CN", Formats: []string{report.FormatPDF, report.FormatHTML}, Recipients: []string{"yuanban@h1.demo.cn"}, Scheduled: true})
	if err != nil {
		return false, fmt.Errorf("demo: report template: %w", err)
	}
	if _, err := d.Reports.Generate(ctx, a, report.GenerateInput{TemplateID: t.ID, Period: report.Previous(now, report.Monthly).String()}); err != nil {
		return false, fmt.Errorf("demo: monthly report: %w", err)
	}
	return true, nil
}
