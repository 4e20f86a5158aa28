package report_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/report"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
	"github.com/medguard/medguard/internal/trail"
	"github.com/medguard/medguard/internal/trail/trailtest"
)

// basicWorld is a region with hospitals A and B, their risks, incidents and alerts
// around November 2026.
func basicWorld(t *testing.T, db *store.DB) (region, hospA, hospB org.Node) {
	t.Helper()
	ctx := context.Background()
	tl, err := trail.New(trail.SHA256, trailtest.Key(t))
	if err != nil {
		t.Fatal(err)
	}
	orgs := org.NewService(db, tl)
	region, err = orgs.Create(ctx, actor.System(), org.Input{Kind: org.KindRegion, Name: "市卫健委"})
	if err != nil {
		t.Fatal(err)
	}
	hospA, err = orgs.Create(ctx, actor.System(), org.Input{ParentID: region.ID, Kind: org.KindHospital, Name: "甲医院"})
	if err != nil {
		t.Fatal(err)
	}
	hospB, err = orgs.Create(ctx, actor.System(), org.Input{ParentID: region.ID, Kind: org.KindHospital, Name: "乙医院"})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 5, 9, 0, 0, 0, time.UTC)
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	risk := func(orgID int64, title, level string, rank, score int, status string) {
		exec(`INSERT INTO risks (org_id, title, category, inherent_likelihood, inherent_impact, inherent_level, inherent_rank, inherent_score,
			likelihood, impact, level, level_rank, score, status, next_review_at, created_by, created_at, updated_at)
			VALUES (?, ?, 'technical', 3, 3, ?, ?, ?, 3, 3, ?, ?, ?, ?, ?, 'test', ?, ?)`, orgID, title, level, rank, score, level, rank, score, status, at, at, at)
	}
	risk(hospA.ID, "HIS 数据库弱口令", "high", 3, 16, "open")
	risk(hospA.ID, "PACS 未打补丁", "high", 3, 12, "treating")
	risk(hospA.ID, "已处置的风险", "low", 1, 2, "closed")
	risk(hospB.ID, "互联网医院接口越权", "critical", 4, 25, "open")
	incident := func(orgID int64, title string, detected time.Time, due, reported any) {
		exec(`INSERT INTO incidents (org_id, title, category, level, status, regime, operator_type, detected_at, report_due, reported_at,
			created_by, created_at, updated_at) VALUES (?, ?, 'malware', 'large', 'open', 'cn', 'other', ?, ?, ?, 'test', ?, ?)`,
			orgID, title, detected, due, reported, detected, detected)
	}
	incident(hospA.ID, "PACS 勒索软件", at, at.Add(4*time.Hour), nil)                               // overdue
	incident(hospA.ID, "邮件钓鱼", at.Add(24*time.Hour), at.Add(28*time.Hour), at.Add(2*time.Hour)) // reported in time
	incident(hospA.ID, "十月的事件", time.Date(2026, 10, 30, 0, 0, 0, 0, time.UTC), nil, nil)        // another period
	al, err := alert.New(db, tl)
	if err != nil {
		t.Fatal(err)
	}
	raise := func(orgID int64, source, severity, key string, when time.Time) {
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			_, _, err := al.Raise(ctx, tx, alert.Input{OrgID: orgID, Source: source, Kind: "test", Severity: severity,
				Title: i18n.M("report.title.monthly"), Subject: key, DedupKey: key, At: when})
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	raise(hospA.ID, "supply", alert.SeverityCritical, "a1", at)
	raise(hospA.ID, "dlp", alert.SeverityHigh, "a2", at)
	raise(hospA.ID, "dlp", alert.SeverityHigh, "a3", at)
	raise(hospA.ID, "report", alert.SeverityInfo, "a4", at)                                       // the reports' own: not counted
	raise(hospA.ID, "dlp", alert.SeverityLow, "a5", time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)) // next period
	raise(hospB.ID, "supply", alert.SeverityMedium, "b1", at)
	return region, hospA, hospB
}

func figures(d report.Document) map[string][]string {
	out := map[string][]string{}
	for _, s := range d.Sections {
		out[s.Key] = []string{}
		for _, f := range s.Figures {
			out[s.Key] = append(out[s.Key], f.Label+"="+f.Value)
		}
	}
	return out
}

func TestBasicSource(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		region, hospA, hospB := basicWorld(t, db)
		src := report.BasicSource{DB: db, Now: func() time.Time { return time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC) }}
		nov, err := report.ParsePeriod("2026-11")
		if err != nil {
			t.Fatal(err)
		}
		secA := actor.Actor{Username: "sec-a", Role: "security_officer", OrgID: hospA.ID, OrgPath: hospA.Path}
		tests := []struct {
			name     string
			a        actor.Actor
			orgID    int64
			p        string
			sections []string
			lang     string
			want     map[string][]string
		}{
			{name: "hospital A, November", a: secA, orgID: hospA.ID, p: "2026-11", lang: "zh-CN", want: map[string][]string{
				"risks":     {"未关闭风险（截至生成时）=2", "高等级风险=2"},
				"incidents": {"本期发现的安全事件=2", "已向监管部门报告=1", "未在时限内报告=1"},
				"alerts":    {"本期产生的告警=3", "严重程度为“严重”的告警=1", "严重程度为“高”的告警=2"},
			}},
			{name: "the region sees both hospitals", a: actor.System(), orgID: region.ID, p: "2026-11", lang: "en", want: map[string][]string{
				"risks":     {"Open risks (now)=3", "Open risks at level Critical=1", "Open risks at level High=2"},
				"incidents": {"Incidents detected in the period=2", "Reported to the regulator=1", "Missed the reporting deadline=1"},
				"alerts":    {"Alerts raised in the period=4", "Alerts of severity Critical=1", "Alerts of severity High=2", "Alerts of severity Medium=1"},
			}},
			{name: "one section, a quiet week", a: secA, orgID: hospA.ID, p: "2026-W47", sections: []string{"alerts"}, lang: "zh-CN",
				want: map[string][]string{"alerts": {}}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				p, err := report.ParsePeriod(tc.p)
				if err != nil {
					t.Fatal(err)
				}
				d, err := src.Build(ctx, tc.a, tc.orgID, p, tc.sections, tc.lang)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tc.want, figures(d)); diff != "" {
					t.Errorf("figures (-want +got):\n%s", diff)
				}
			})
		}
		d, err := src.Build(ctx, secA, hospA.ID, nov, nil, "zh-CN")
		if err != nil {
			t.Fatal(err)
		}
		if d.Org != "甲医院" || d.Empty() {
			t.Fatalf("document = %+v", d)
		}
		alerts := d.Sections[2]
		if len(alerts.Charts) != 1 {
			t.Fatalf("alerts section has %d charts", len(alerts.Charts))
		}
		if got := string(alerts.Charts[0].Option); got != `{"legend":{"data":["严重","高"]},"series":[{"type":"bar","name":"严重","stack":"severity","data":[0,1]},`+
			`{"type":"bar","name":"高","stack":"severity","data":[2,0]}],"xAxis":{"data":["患者数据","软件供应链"]},"yAxis":{}}` {
			t.Errorf("chart option = %s", got)
		}
		if _, err := report.RenderChart(alerts.Charts[0].Option); err != nil {
			t.Errorf("the chart does not render: %v", err)
		}
		if top := d.Sections[0].Tables[0].Rows; len(top) != 2 || top[0][1] != "HIS 数据库弱口令" {
			t.Errorf("top risks = %v", top)
		}
		if rows := d.Sections[1].Tables[0].Rows; len(rows) != 2 || rows[0][2] != "PACS 勒索软件" {
			t.Errorf("incidents = %v", rows)
		}
		// Another hospital's organisation is not found.
		if _, err := src.Build(ctx, secA, hospB.ID, nov, nil, "zh-CN"); err == nil {
			t.Error("hospital A builds hospital B's report")
		}
	})
}
