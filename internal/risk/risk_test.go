package risk_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/asset"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/risk"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
	"github.com/medguard/medguard/internal/trail"
	"github.com/medguard/medguard/internal/trail/trailtest"
)

type world struct {
	db           *store.DB
	tl           *trail.Log
	reg          *risk.Service
	al           *alert.Service
	hospA, hospB org.Node
	secA, secB   actor.Actor
	boss         actor.Actor // hospital A's approver
	assetA       int64
	assetB       int64
	now          time.Time
}

func newWorld(t *testing.T, db *store.DB, opt risk.Options) *world {
	t.Helper()
	ctx := context.Background()
	tl, err := trail.New(trail.SHA256, trailtest.Key(t))
	if err != nil {
		t.Fatal(err)
	}
	orgs := org.NewService(db, tl)
	prov, err := orgs.Create(ctx, actor.System(), org.Input{Kind: org.KindProvince, Name: "省卫健委"})
	if err != nil {
		t.Fatal(err)
	}
	w := &world{db: db, tl: tl, now: time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)}
	for h, name := range map[*org.Node]string{&w.hospA: "甲医院", &w.hospB: "乙医院"} {
		if *h, err = orgs.Create(ctx, actor.System(), org.Input{ParentID: prov.ID, Kind: org.KindHospital, Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	w.secA = actor.Actor{Username: "sec-a", Role: "security_officer", OrgID: w.hospA.ID, OrgPath: w.hospA.Path}
	w.boss = actor.Actor{Username: "boss-a", Role: "hospital_admin", OrgID: w.hospA.ID, OrgPath: w.hospA.Path}
	w.secB = actor.Actor{Username: "sec-b", Role: "security_officer", OrgID: w.hospB.ID, OrgPath: w.hospB.Path}
	if w.al, err = alert.New(db, tl); err != nil {
		t.Fatal(err)
	}
	w.al.SetClock(func() time.Time { return w.now })
	assets := asset.NewService(db, tl)
	for _, x := range []struct {
		id  *int64
		a   actor.Actor
		org int64
	}{{&w.assetA, w.secA, w.hospA.ID}, {&w.assetB, w.secB, w.hospB.ID}} {
		as, err := assets.Create(ctx, x.a, asset.Input{OrgID: x.org, Code: "HIS-01", Name: "HIS 数据库服务器", Kind: "server", Zone: "internal"})
		if err != nil {
			t.Fatal(err)
		}
		*x.id = as.ID
	}
	opt.Now = func() time.Time { return w.now }
	if w.reg, err = risk.New(db, tl, w.al, opt); err != nil {
		t.Fatal(err)
	}
	return w
}

func input(w *world) risk.Input {
	return risk.Input{OrgID: w.hospA.ID, Title: "HIS 数据库未加密备份外泄", Category: "data_leak", AssetIDs: []int64{w.assetA},
		Threat: "内部人员拷贝备份", Vulnerability: "备份未加密", InherentLikelihood: 4, InherentImpact: 5, Likelihood: 3, Impact: 4,
		Owner: "sec-a", Treatment: risk.TreatMitigate}
}

// TestCreateRateAndScope: a risk is rated on the matrix (inherent and residual), due for
// review after its level's cadence, has its level's playbook tasks, its history; another
// hospital neither reads nor changes it; bad input is refused.
func TestCreateRateAndScope(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db, risk.Options{})
		r, err := w.reg.Create(ctx, w.secA, input(w))
		if err != nil {
			t.Fatal(err)
		}
		got := []any{r.InherentLevel, r.InherentScore, r.Level, r.Score, r.Status, r.AssetIDs, r.NextReviewAt, len(r.History)}
		want := []any{"critical", 20, "high", 12, risk.StatusOpen, []int64{w.assetA}, w.now.AddDate(0, 0, 30), 2}
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("created (-want +got):\n%s", d)
		}
		if len(r.Tasks) != 4 || r.Tasks[0].Playbook != "high" || r.Tasks[0].Assignee != "sec-a" {
			t.Fatalf("tasks %+v", r.Tasks)
		}
		// Another hospital: not found, for reads and writes.
		if _, err := w.reg.Risk(ctx, w.secB, r.ID); problem.KindOf(err) != problem.KindNotFound {
			t.Fatalf("B reads A's risk: %v", err)
		}
		in := input(w)
		if _, err := w.reg.Update(ctx, w.secB, r.ID, in); problem.KindOf(err) != problem.KindNotFound {
			t.Fatalf("B updates A's risk: %v", err)
		}
		if _, err := w.reg.SetStatus(ctx, w.secB, r.ID, risk.StatusClosed, "x"); problem.KindOf(err) != problem.KindNotFound {
			t.Fatalf("B closes A's risk: %v", err)
		}
		if _, err := w.reg.AddTask(ctx, w.secB, r.ID, risk.TaskInput{Title: "x"}); problem.KindOf(err) != problem.KindNotFound {
			t.Fatalf("B adds a task: %v", err)
		}
		if list, n, err := w.reg.Risks(ctx, w.secB, risk.Query{}); err != nil || n != 0 || len(list) != 0 {
			t.Fatalf("B lists %v %d %v", list, n, err)
		}
		in.OrgID = w.hospA.ID
		// B creates in A's hospital: not found.
		if _, err := w.reg.Create(ctx, w.secB, in); problem.KindOf(err) != problem.KindNotFound {
			t.Fatalf("B creates in A: %v", err)
		}
		bad := []struct {
			name  string
			edit  func(*risk.Input)
			field string // the JSON field at fault
		}{
			{"no title", func(in *risk.Input) { in.Title = " " }, "title"},
			{"category", func(in *risk.Input) { in.Category = "weather" }, "category"},
			{"likelihood 6 on 5x5", func(in *risk.Input) { in.InherentLikelihood = 6 }, "inherent_likelihood"},
			{"inherent impact 7", func(in *risk.Input) { in.InherentImpact = 7 }, "inherent_impact"},
			{"impact 0", func(in *risk.Input) { in.Impact = 0 }, "impact"},
			{"likelihood 9", func(in *risk.Input) { in.Likelihood = 9 }, "likelihood"},
			{"treatment", func(in *risk.Input) { in.Treatment = "ignore" }, "treatment"},
			{"another hospital's asset", func(in *risk.Input) { in.AssetIDs = []int64{w.assetB} }, "asset_ids"},
			{"no such asset", func(in *risk.Input) { in.AssetIDs = []int64{w.assetA + 1000} }, "asset_ids"},
		}
		for _, tc := range bad {
			in := input(w)
			tc.edit(&in)
			_, err := w.reg.Create(ctx, w.secA, in)
			pe, _ := problem.As(err)
			if problem.KindOf(err) != problem.KindInvalid || pe.Field != tc.field {
				t.Errorf("%s: %v, want invalid %s", tc.name, err, tc.field)
			}
		}
		// A province actor can't file a risk on the province itself.
		prov := actor.Actor{Username: "prov", Role: "regulator", OrgPath: "/"}
		in = input(w)
		in.OrgID = w.hospA.ID
		if _, err := w.reg.Create(ctx, prov, in); err != nil {
			t.Fatalf("province files for hospital A: %v", err)
		}
	})
}

// TestUpdateLevelChange: lowering the residual rating changes the level, resets the
// next review to the new cadence, records what changed and adds the new level's
// playbook; the trail holds every change.
func TestUpdateLevelChange(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db, risk.Options{})
		r, err := w.reg.Create(ctx, w.secA, input(w))
		if err != nil {
			t.Fatal(err)
		}
		w.now = w.now.Add(48 * time.Hour)
		in := input(w)
		in.Likelihood, in.Impact = 2, 3 // medium
		r, err = w.reg.Update(ctx, w.secA, r.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		if r.Level != "medium" || r.Score != 6 || !r.NextReviewAt.Equal(w.now.AddDate(0, 0, 90)) {
			t.Fatalf("updated: %s %d %v", r.Level, r.Score, r.NextReviewAt)
		}
		last := r.History[len(r.History)-1]
		if last.Action != "risk.playbook" {
			t.Fatalf("last history %+v", last)
		}
		upd := r.History[len(r.History)-2]
		want := map[string]risk.Change{"likelihood": {From: float64(3), To: float64(2)}, "impact": {From: float64(4), To: float64(3)},
			"level": {From: "high", To: "medium"}}
		if d := cmp.Diff(want, upd.Changes); d != "" || upd.By != "sec-a" || upd.Action != "risk.update" {
			t.Fatalf("history %+v (-want +got):\n%s", upd, d)
		}
		keys := map[string]string{}
		for _, tk := range r.Tasks {
			keys[tk.TitleMsg.Key] = tk.Playbook
		}
		if keys["risk.playbook.manage.training"] != "medium" || keys["risk.playbook.defence.harden"] != "high" || len(r.Tasks) != 7 {
			t.Fatalf("tasks after the change %v", keys)
		}
		// The same input again changes nothing and records nothing.
		n := len(r.History)
		if r, err = w.reg.Update(ctx, w.secA, r.ID, in); err != nil || len(r.History) != n {
			t.Fatalf("no-op update: %d history entries, want %d (%v)", len(r.History), n, err)
		}
		var trailed int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM trail WHERE object_type = 'risk' AND object_id = ?`, fmt.Sprint(r.ID)).Scan(&trailed); err != nil {
			t.Fatal(err)
		}
		if trailed != n {
			t.Fatalf("%d trail entries, %d history entries", trailed, n)
		}
	})
}

// TestListAndHeatMap: the list is most pressing first and filters; the heat map counts
// risks per cell (residual or inherent) with their ids, closed risks left out.
func TestListAndHeatMap(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db, risk.Options{})
		mk := func(title string, il, ii, l, i int) int64 {
			in := input(w)
			in.Title, in.InherentLikelihood, in.InherentImpact, in.Likelihood, in.Impact = title, il, ii, l, i
			r, err := w.reg.Create(ctx, w.secA, in)
			if err != nil {
				t.Fatal(err)
			}
			return r.ID
		}
		low := mk("低风险", 2, 2, 1, 1)
		high := mk("勒索病毒", 5, 5, 3, 4)
		crit := mk("患者数据外泄", 5, 5, 5, 5)
		high2 := mk("弱口令", 4, 4, 4, 4)
		closed := mk("已关闭", 5, 5, 5, 5)
		if _, err := w.reg.SetStatus(ctx, w.secA, closed, risk.StatusClosed, ""); problem.KindOf(err) != problem.KindInvalid {
			t.Fatalf("close without a reason: %v", err)
		}
		if _, err := w.reg.SetStatus(ctx, w.secA, closed, risk.StatusClosed, "系统已下线"); err != nil {
			t.Fatal(err)
		}
		ids := func(rs []risk.Risk) []int64 {
			out := []int64{}
			for _, r := range rs {
				out = append(out, r.ID)
			}
			return out
		}
		tests := []struct {
			name string
			q    risk.Query
			want []int64
		}{
			{"active by priority", risk.Query{Status: "active"}, []int64{crit, high2, high, low}},
			{"all", risk.Query{}, []int64{crit, closed, high2, high, low}},
			{"high", risk.Query{Level: "high"}, []int64{high2, high}},
			{"text", risk.Query{Text: "勒索"}, []int64{high}},
			{"closed", risk.Query{Status: "closed"}, []int64{closed}},
			{"owner", risk.Query{Owner: "nobody"}, []int64{}},
			{"org", risk.Query{OrgID: w.hospA.ID, Status: "active"}, []int64{crit, high2, high, low}},
		}
		for _, tc := range tests {
			list, n, err := w.reg.Risks(ctx, w.secA, tc.q)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if d := cmp.Diff(tc.want, ids(list)); d != "" || n != len(tc.want) {
				t.Errorf("%s: total %d (-want +got):\n%s", tc.name, n, d)
			}
		}
		if _, _, err := w.reg.Risks(ctx, w.secA, risk.Query{OrgID: w.hospB.ID}); problem.KindOf(err) != problem.KindNotFound {
			t.Fatalf("A filters on B: %v", err)
		}
		hm, err := w.reg.HeatMap(ctx, w.secA, risk.Query{})
		if err != nil {
			t.Fatal(err)
		}
		cell := func(hm risk.HeatMap, l, i int) risk.Cell { return hm.Cells[l-1][i-1] }
		if c := cell(hm, 5, 5); c.Count != 1 || c.Level != "critical" || !cmp.Equal(c.RiskIDs, []int64{crit}) {
			t.Fatalf("residual 5,5: %+v", c)
		}
		if c := cell(hm, 1, 1); c.Count != 1 || c.RiskIDs[0] != low || hm.Total != 4 {
			t.Fatalf("residual 1,1: %+v total %d", c, hm.Total)
		}
		hm, err = w.reg.HeatMap(ctx, w.secA, risk.Query{Rating: "inherent"})
		if err != nil {
			t.Fatal(err)
		}
		if c := cell(hm, 5, 5); c.Count != 2 || !cmp.Equal(c.RiskIDs, []int64{crit, high}) {
			t.Fatalf("inherent 5,5: %+v", c)
		}
		if hm, err := w.reg.HeatMap(ctx, w.secB, risk.Query{}); err != nil || hm.Total != 0 {
			t.Fatalf("B's heat map: %d %v", hm.Total, err)
		}
	})
}

func itoa(id int64) string { return fmt.Sprint(id) }
