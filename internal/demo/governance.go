package demo

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/appreg"
	"github.com/medguard/medguard/internal/incident"
	"github.com/medguard/medguard/internal/risk"
)

// seedGovernance fills the first hospital's risk register from what the demo already
// knows (its supply-chain and patient-data alerts, its grade-C app), adopts and approves
// emergency plans, records a past drill of the ransomware plan with its improvement
// tasks, and opens a patient-data incident under its plan, its reporting clock running.
// It does nothing when the register holds a risk already.
func seedGovernance(ctx context.Context, d Deps, now time.Time) error {
	if d.Risks == nil || d.Incidents == nil || d.Plans == nil {
		return nil
	}
	h1, a, err := demoOfficer(ctx, d)
	if err != nil || h1.ID == 0 {
		return err
	}
	if _, n, err := d.Risks.Risks(ctx, actor.System(), risk.Query{Limit: 1}); err != nil || n > 0 {
		return err
	}
	// The register, fed from the findings: the hospital's open supply-chain and
	// patient-data alerts, most severe first, and its apps graded C.
	var fromDLP alert.Alert
	for _, src := range []string{"supply", "dlp"} {
		as, _, err := d.Alerts.List(ctx, a, alert.Filter{Source: src, Status: alert.StatusOpen, Limit: 4})
		if err != nil {
			return err
		}
		for _, al := range as {
			if al.OrgID != h1.ID {
				continue
			}
			if _, _, err := d.Risks.FromSource(ctx, a, risk.SourceInput{Module: risk.ModuleAlert, ID: al.ID, Owner: "secofficer"}); err != nil {
				return fmt.Errorf("demo: risk from alert %d: %w", al.ID, err)
			}
			if src == "dlp" && fromDLP.ID == 0 {
				fromDLP = al
			}
		}
	}
	if d.Apps != nil {
		apps, err := d.Apps.Apps(ctx, a, appreg.Query{Grade: "C"})
		if err != nil {
			return err
		}
		for _, ap := range apps {
			if _, _, err := d.Risks.FromSource(ctx, a, risk.SourceInput{Module: risk.ModuleApp, ID: ap.ID, Owner: "secofficer"}); err != nil {
				return fmt.Errorf("demo: risk from app %d: %w", ap.ID, err)
			}
		}
	}
	// A risk written by hand, treated: the HIS has no tested offline fallback.
	his, err := d.Risks.Create(ctx, a, risk.Input{OrgID: h1.ID, Title: "HIS 中断时门诊无法开具处方", Category: "availability",
		Description: "HIS 数据库单点部署，灾备切换从未演练；中断时门诊、收费和药房无法工作。",
		Threat:      "勒索病毒或硬件故障导致 HIS 中断", Vulnerability: "数据库无同城灾备，手工应急流程未演练",
		InherentLikelihood: 3, InherentImpact: 5, Likelihood: 2, Impact: 5, Owner: "secofficer", Treatment: risk.TreatMitigate})
	if err != nil {
		return fmt.Errorf("demo: HIS risk: %w", err)
	}
	due := now.AddDate(0, 2, 0)
	if _, err := d.Risks.AddTask(ctx, a, his.ID, risk.TaskInput{Title: "建设 HIS 数据库同城灾备并完成切换演练", Assignee: "itops",
		DueAt: &due}); err != nil {
		return fmt.Errorf("demo: HIS risk task: %w", err)
	}

	// Emergency plans: every template adopted, the ransomware and patient-data plans
	// approved; a tabletop drill of the ransomware plan two months ago.
	plans := map[string]incident.Plan{}
	for _, t := range d.Plans.Templates() {
		p, err := d.Plans.AdoptTemplate(ctx, a, h1.ID, t.ID)
		if err != nil {
			return fmt.Errorf("demo: adopt plan %s: %w", t.ID, err)
		}
		plans[t.ID] = p
	}
	for _, id := range []string{"ransomware", "patient-data-leak"} {
		p := plans[id]
		if p.ID == 0 {
			continue
		}
		if plans[id], err = d.Plans.ApprovePlan(ctx, a, p.ID, p.Version); err != nil {
			return fmt.Errorf("demo: approve plan %s: %w", id, err)
		}
	}
	if p := plans["ransomware"]; p.ID != 0 {
		held := now.AddDate(0, -2, 0).Truncate(24 * time.Hour).Add(6 * time.Hour) // 14:00 in China
		at := func(m int) *time.Time { t := held.Add(time.Duration(m) * time.Minute); return &t }
		if _, err := d.Plans.RecordDrill(ctx, a, p.ID, incident.DrillInput{HeldOn: held, Kind: "tabletop",
			Scenario:     "周五夜间影像归档服务器被勒索病毒加密，PACS 无法调阅，门诊影像报告中断",
			Participants: []string{"secofficer", "itops", "信息科王主任", "医务部李主任", "放射科张主任"},
			StartedAt:    at(0), DetectedAt: at(18), ContainedAt: at(55), RecoveredAt: at(190),
			Findings: "值班人员 18 分钟才发现告警；PACS 离线备份恢复用时超过 3 小时；放射科手工报告流程无人熟悉。",
			Tasks: []incident.DrillTaskInput{
				{Title: "为 PACS 告警配置夜间电话通知", Assignee: "itops", Due: now.AddDate(0, 0, -10)},
				{Title: "每季度演练一次 PACS 离线备份恢复", Assignee: "itops", Due: now.AddDate(0, 1, 0)},
			}}); err != nil {
			return fmt.Errorf("demo: drill: %w", err)
		}
	}

	// An incident in progress: patient data sent out, opened under the patient-data plan
	// 40 minutes ago; its 4-hour reporting clock runs; the first checklist items are done.
	in := incident.Input{OrgID: h1.ID, Level: incident.LevelLarge, DetectedAt: now.Add(-40 * time.Minute),
		Details: incident.Details{Title: "出院小结含身份证号经外发邮件泄露", Category: "data_security", PatientsAffected: 37,
			Description:  "门诊医生将含 37 名患者身份证号与诊断的出院小结通过个人邮箱发送给外院，外发检查拦截到后续一封。",
			DataInvolved: []string{"身份信息", "诊疗数据"}}}
	if fromDLP.ID != 0 {
		in.SourceModule, in.SourceID = incident.SourceAlert, strconv.FormatInt(fromDLP.ID, 10)
	}
	p := plans["patient-data-leak"]
	if p.ID == 0 {
		return nil
	}
	inc, run, err := incident.OpenFromPlan(ctx, d.Incidents, d.Plans, a, in, p.ID)
	if err != nil {
		return fmt.Errorf("demo: incident: %w", err)
	}
	for i, item := range run.Items {
		if i >= 3 {
			break
		}
		if _, err := d.Plans.TickItem(ctx, a, run.ID, item.ID, true, ""); err != nil {
			return fmt.Errorf("demo: tick checklist: %w", err)
		}
	}
	if _, err := d.Incidents.AddNote(ctx, a, inc.ID, "已联系收件方确认删除邮件，已冻结该医生邮箱外发权限。"); err != nil {
		return fmt.Errorf("demo: incident note: %w", err)
	}
	return nil
}
