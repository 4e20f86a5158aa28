package assess_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/assess"
	"github.com/medguard/medguard/internal/assess/assesstest"
	"github.com/medguard/medguard/internal/asset"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/risk"
	"github.com/medguard/medguard/internal/risksource"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
	"github.com/medguard/medguard/internal/trail"
	"github.com/medguard/medguard/internal/trail/trailtest"
)

type world struct {
	db           *store.DB
	tl           *trail.Log
	as           *assess.Service
	al           *alert.Service
	assets       *asset.Service
	hospA, hospB org.Node
	secA, secB   actor.Actor
	sysA, sysB   int64 // business systems, MLPS level 3
	serverA      int64 // a server of A (not a business system)
	now          time.Time
}

func newWorld(t *testing.T, db *store.DB, checks ...assess.Check) *world {
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
	w := &world{db: db, tl: tl, now: time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)}
	for h, name := range map[*org.Node]string{&w.hospA: "甲医院", &w.hospB: "乙医院"} {
		if *h, err = orgs.Create(ctx, actor.System(), org.Input{ParentID: prov.ID, Kind: org.KindHospital, Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	w.secA = actor.Actor{Username: "sec-a", Role: "security_officer", OrgID: w.hospA.ID, OrgPath: w.hospA.Path}
	w.secB = actor.Actor{Username: "sec-b", Role: "security_officer", OrgID: w.hospB.ID, OrgPath: w.hospB.Path}
	if w.al, err = alert.New(db, tl); err != nil {
		t.Fatal(err)
	}
	w.al.SetClock(func() time.Time { return w.now })
	w.assets = asset.NewService(db, tl)
	for _, x := range []struct {
		id   *int64
		a    actor.Actor
		code string
		kind string
	}{{&w.sysA, w.secA, "HIS", asset.KindBusinessSystem}, {&w.sysB, w.secB, "HIS", asset.KindBusinessSystem},
		{&w.serverA, w.secA, "SRV-01", asset.KindServer}} {
		as, err := w.assets.Create(ctx, x.a, asset.Input{OrgID: x.a.OrgID, Code: x.code, Name: "HIS 医院信息系统", Kind: x.kind,
			Zone: "internal", MLPSLevel: 3})
		if err != nil {
			t.Fatal(err)
		}
		*x.id = as.ID
	}
	if w.as, err = assess.New(db, tl, assesstest.New(), assess.Options{Checks: checks, Now: func() time.Time { return w.now }}); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) create(t *testing.T, a actor.Actor, assetID int64) assess.Assessment {
	t.Helper()
	x, err := w.as.Create(context.Background(), a, assess.Input{OrgID: a.OrgID, AssetID: assetID, Catalogue: "mini-mlps",
		Title: "2026 年等保测评自查", Assessor: a.Username})
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// TestAssessmentLifecycle: an assessment starts with every item unassessed; a status
// change is in the item's history and the progress; another hospital neither reads nor
// changes it; bad input is refused; progress gives one point a week.
func TestAssessmentLifecycle(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		x := w.create(t, w.secA, w.sysA)
		if len(x.Items) != 8 || x.Counts.Unassessed != 8 || x.Percent != 0 || x.AssetName == "" || x.MLPSLevel != 3 {
			t.Fatalf("created %+v", x)
		}
		if x.Items[0].Item != "8.1.4.1.a" || x.Items[0].Title["zh-CN"] == "" || len(x.Items[0].Parents) != 2 {
			t.Fatalf("first item %+v", x.Items[0])
		}
		if _, err := w.as.SetStatus(ctx, w.secA, x.ID, "8.1.4.1.a", assess.StatusInput{Status: assess.StatusMet, Note: "统一身份认证"}); err != nil {
			t.Fatal(err)
		}
		w.now = w.now.AddDate(0, 0, 7)
		it, err := w.as.SetStatus(ctx, w.secA, x.ID, "8.1.4.1.d", assess.StatusInput{Status: assess.StatusNotMet, Note: "运维账号无双因素"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.as.SetStatus(ctx, w.secA, x.ID, "8.1.9.8.b", assess.StatusInput{Status: assess.StatusNotApplicable}); err != nil {
			t.Fatal(err)
		}
		if len(it.History) != 1 || it.History[0].From != "unassessed" || it.History[0].To != "not_met" || it.AssessedBy != "sec-a" {
			t.Fatalf("item %+v", it)
		}
		got, err := w.as.Assessment(ctx, w.secA, x.ID)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(assess.Counts{Met: 1, NotMet: 1, NotApplicable: 1, Unassessed: 5}, got.Counts); d != "" {
			t.Fatalf("counts (-want +got):\n%s", d)
		}
		if got.Percent != 14 { // 1 of 7 applicable
			t.Fatalf("percent %d", got.Percent)
		}
		sums, err := w.as.Progress(ctx, w.secA, w.hospA.ID)
		if err != nil || len(sums) != 1 {
			t.Fatalf("progress %v %v", sums, err)
		}
		var trend []int
		for _, p := range sums[0].Trend {
			trend = append(trend, p.Percent)
		}
		if d := cmp.Diff([]int{12, 14}, trend); d != "" { // week 1: 1 of 8; week 2: 1 of 7
			t.Fatalf("trend (-want +got):\n%s", d)
		}
		// Another hospital.
		if _, err := w.as.Assessment(ctx, w.secB, x.ID); problem.KindOf(err) != problem.KindNotFound {
			t.Fatalf("B reads: %v", err)
		}
		if _, err := w.as.SetStatus(ctx, w.secB, x.ID, "8.1.4.1.a", assess.StatusInput{Status: assess.StatusMet}); problem.KindOf(err) != problem.KindNotFound {
			t.Fatalf("B writes: %v", err)
		}
		if list, err := w.as.Assessments(ctx, w.secB); err != nil || len(list) != 0 {
			t.Fatalf("B lists %v %v", list, err)
		}
		if sums, err := w.as.Progress(ctx, w.secB, 0); err != nil || len(sums) != 0 {
			t.Fatalf("B progress %v %v", sums, err)
		}
		if _, err := w.as.Progress(ctx, w.secB, w.hospA.ID); problem.KindOf(err) != problem.KindNotFound {
			t.Fatalf("B progress of A: %v", err)
		}
		bad := []struct {
			name  string
			in    assess.Input
			field string
		}{
			{"no title", assess.Input{OrgID: w.hospA.ID, Catalogue: "mini-mlps"}, "title"},
			{"catalogue", assess.Input{OrgID: w.hospA.ID, Catalogue: "iso", Title: "x"}, "catalogue"},
			{"B's system", assess.Input{OrgID: w.hospA.ID, AssetID: w.sysB, Catalogue: "mini-mlps", Title: "x"}, "asset_id"},
			{"a server", assess.Input{OrgID: w.hospA.ID, AssetID: w.serverA, Catalogue: "mini-mlps", Title: "x"}, "asset_id"},
		}
		for _, tc := range bad {
			_, err := w.as.Create(ctx, w.secA, tc.in)
			if p, ok := problem.As(err); !ok || p.Field != tc.field {
				t.Errorf("%s: %v", tc.name, err)
			}
		}
		if _, err := w.as.Create(ctx, w.secB, assess.Input{OrgID: w.hospA.ID, Catalogue: "mini-mlps", Title: "x"}); problem.KindOf(err) != problem.KindNotFound {
			t.Errorf("B creates in A: %v", err)
		}
		if _, err := w.as.SetStatus(ctx, w.secA, x.ID, "8.1.4.1.a", assess.StatusInput{Status: "done"}); problem.KindOf(err) != problem.KindInvalid {
			t.Errorf("bad status: %v", err)
		}
		if _, err := w.as.SetStatus(ctx, w.secA, x.ID, "9.9.9", assess.StatusInput{Status: "met"}); problem.KindOf(err) != problem.KindNotFound {
			t.Errorf("no such item: %v", err)
		}
	})
}

// TestEvidence: files are content-checked and kept with their hash, links must name a
// record of the hospital, expired evidence shows as such.
func TestEvidence(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		x := w.create(t, w.secA, 0)
		exp := w.now.AddDate(0, 0, 10)
		pdf := []byte("%PDF-1.4\n% 测评报告\n")
		e, err := w.as.AddFile(ctx, w.secA, x.ID, "8.1.4.1.a", "测评报告.pdf", &exp, bytes.NewReader(pdf))
		if err != nil {
			t.Fatal(err)
		}
		if e.FileKind != "pdf" || e.Size != int64(len(pdf)) || len(e.SHA256) != 64 {
			t.Fatalf("file %+v", e)
		}
		for _, tc := range []struct{ name, file, body string }{
			{"html", "x.txt", "<html><script>alert(1)</script>"},
			{"disguised", "x.pdf", "plain text"},
			{"empty", "x.txt", ""},
		} {
			if _, err := w.as.AddFile(ctx, w.secA, x.ID, "8.1.4.1.a", tc.file, nil, bytes.NewReader([]byte(tc.body))); problem.KindOf(err) != problem.KindInvalid {
				t.Errorf("%s: %v", tc.name, err)
			}
		}
		if _, err := w.as.AddFile(ctx, w.secB, x.ID, "8.1.4.1.a", "a.pdf", nil, bytes.NewReader(pdf)); problem.KindOf(err) != problem.KindNotFound {
			t.Errorf("B uploads: %v", err)
		}
		got, err := w.as.EvidenceFile(ctx, w.secA, x.ID, e.ID)
		if err != nil || !bytes.Equal(got.Content, pdf) || got.ContentType != "application/pdf" {
			t.Fatalf("download %+v %v", got, err)
		}
		if _, err := w.as.EvidenceFile(ctx, w.secB, x.ID, e.ID); problem.KindOf(err) != problem.KindNotFound {
			t.Errorf("B downloads: %v", err)
		}
		// Links: a record of A (a trail entry of A's hospital) yes; B's asset-less risk no.
		var seqA int64
		if err := db.QueryRowContext(ctx, `SELECT MAX(seq) FROM trail WHERE org_id = ?`, w.hospA.ID).Scan(&seqA); err != nil {
			t.Fatal(err)
		}
		if _, err := w.as.AddLink(ctx, w.secA, x.ID, "8.1.4.3.c", assess.LinkInput{Module: "trail", ID: seqA}); err != nil {
			t.Fatal(err)
		}
		var seqB int64
		if err := db.QueryRowContext(ctx, `SELECT MAX(seq) FROM trail WHERE org_id = ?`, w.hospB.ID).Scan(&seqB); err != nil {
			t.Fatal(err)
		}
		for _, in := range []assess.LinkInput{{Module: "trail", ID: seqB}, {Module: "risk", ID: 999}, {Module: "users", ID: 1}} {
			if _, err := w.as.AddLink(ctx, w.secA, x.ID, "8.1.4.3.c", in); problem.KindOf(err) != problem.KindInvalid {
				t.Errorf("link %+v: %v", in, err)
			}
		}
		past := w.now.Add(-time.Hour)
		if _, err := w.as.AddLink(ctx, w.secA, x.ID, "8.1.4.3.c", assess.LinkInput{Module: "trail", ID: seqA, ExpiresAt: &past}); problem.KindOf(err) != problem.KindInvalid {
			t.Errorf("past expiry: %v", err)
		}
		w.now = w.now.AddDate(0, 0, 11) // the file expired, the link (a year) not
		it, err := w.as.Item(ctx, w.secA, x.ID, "8.1.4.1.a")
		if err != nil || len(it.Evidence) != 1 || !it.Evidence[0].Expired {
			t.Fatalf("expired file: %+v %v", it.Evidence, err)
		}
		it, err = w.as.Item(ctx, w.secA, x.ID, "8.1.4.3.c")
		if err != nil || len(it.Evidence) != 1 || it.Evidence[0].Expired || it.Evidence[0].Module != "trail" {
			t.Fatalf("link: %+v %v", it.Evidence, err)
		}
	})
}

// TestGapToRisk: a gap becomes a compliance risk on the assessed system through the
// register, linked both ways; a met item does not; B cannot.
func TestGapToRisk(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		reg, err := risk.New(db, w.tl, w.al, risk.Options{Sources: risk.SourceMux{risk.ModuleAssessItem: risksource.AssessItems(w.as)},
			Now: func() time.Time { return w.now }})
		if err != nil {
			t.Fatal(err)
		}
		x := w.create(t, w.secA, w.sysA)
		if _, _, err := w.as.GapToRisk(ctx, w.secA, reg, x.ID, "8.1.4.1.d", assess.GapInput{}); problem.KindOf(err) != problem.KindConflict {
			t.Fatalf("unassessed item: %v", err)
		}
		if _, err := w.as.SetStatus(ctx, w.secA, x.ID, "8.1.4.1.d", assess.StatusInput{Status: assess.StatusNotMet, Note: "运维账号无双因素"}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := w.as.GapToRisk(ctx, w.secB, reg, x.ID, "8.1.4.1.d", assess.GapInput{}); problem.KindOf(err) != problem.KindNotFound {
			t.Fatalf("B: %v", err)
		}
		r, created, err := w.as.GapToRisk(ctx, w.secA, reg, x.ID, "8.1.4.1.d", assess.GapInput{Owner: "sec-a", Lang: "zh-CN"})
		if err != nil || !created {
			t.Fatalf("gap: %v %v", created, err)
		}
		got := []any{r.Title, r.Category, r.AssetIDs, r.Likelihood, r.Impact}
		want := []any{"合规差距 8.1.4.1.d：双因素鉴别", "compliance", []int64{w.sysA}, 3, 4}
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("risk (-want +got):\n%s", d)
		}
		if _, created, err := w.as.GapToRisk(ctx, w.secA, reg, x.ID, "8.1.4.1.d", assess.GapInput{}); err != nil || created {
			t.Fatalf("again: %v %v", created, err)
		}
		it, err := w.as.Item(ctx, w.secA, x.ID, "8.1.4.1.d")
		if err != nil || len(it.Evidence) != 1 || it.Evidence[0].Module != "risk" || it.Evidence[0].RecordID != r.ID {
			t.Fatalf("evidence %+v %v", it.Evidence, err)
		}
		back, err := reg.RisksOf(ctx, w.secA, risk.ModuleAssessItem, it.RowID)
		if err != nil || len(back) != 1 {
			t.Fatalf("risks of the item %v %v", back, err)
		}
	})
}
