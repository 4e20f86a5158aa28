package dataflow_test

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/asset"
	"github.com/medguard/medguard/internal/dataflow"
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
	flows        *dataflow.Service
	risks        *risk.Service
	hospA, hospB org.Node
	secA, secB   actor.Actor
	assetA       int64
	assetB       int64
	now          time.Time
}

func newWorld(t *testing.T, db *store.DB) *world {
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
	w := &world{now: time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)}
	for h, name := range map[*org.Node]string{&w.hospA: "甲医院", &w.hospB: "乙医院"} {
		if *h, err = orgs.Create(ctx, actor.System(), org.Input{ParentID: prov.ID, Kind: org.KindHospital, Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	w.secA = actor.Actor{Username: "sec-a", Role: "security_officer", OrgID: w.hospA.ID, OrgPath: w.hospA.Path}
	w.secB = actor.Actor{Username: "sec-b", Role: "security_officer", OrgID: w.hospB.ID, OrgPath: w.hospB.Path}
	al, err := alert.New(db, tl)
	if err != nil {
		t.Fatal(err)
	}
	assets := asset.NewService(db, tl)
	for _, x := range []struct {
		id  *int64
		a   actor.Actor
		org int64
	}{{&w.assetA, w.secA, w.hospA.ID}, {&w.assetB, w.secB, w.hospB.ID}} {
		as, err := assets.Create(ctx, x.a, asset.Input{OrgID: x.org, Code: "HIS", Name: "HIS 系统", Kind: "business_system", Zone: "internal"})
		if err != nil {
			t.Fatal(err)
		}
		*x.id = as.ID
	}
	clock := func() time.Time { return w.now }
	w.flows = dataflow.New(db, tl, dataflow.Options{Now: clock})
	if w.risks, err = risk.New(db, tl, al, risk.Options{Now: clock,
		Sources: risk.SourceMux{risk.ModuleDataflow: risksource.Dataflow(w.flows)}}); err != nil {
		t.Fatal(err)
	}
	w.flows.SetRisks(w.risks)
	return w
}

// insurance is hospital A's sound medical-insurance settlement flow.
func insurance(w *world) dataflow.Input {
	return dataflow.Input{OrgID: w.hospA.ID, Name: "医保结算上传", SourceAssetIDs: []int64{w.assetA}, RecipientName: "市医保局",
		RecipientKind: dataflow.KindMedicalInsurance, Categories: []dataflow.Category{{Category: "payment", Level: 3}, {Category: "personal", Level: 3}},
		Purpose: "医保费用结算", LegalBasis: dataflow.BasisLegalObligation, AgreementRef: "YB-2025-01", AgreementSigned: "2025-01-01",
		AgreementExpires: "2026-12-31", Transfer: dataflow.TransferSM4, Frequency: "实时", Volume: "约 3000 条/日", Retention: "按医保规定"}
}

// TestRegisterAndRisk: a sound flow raises no risk; a deficient one raises a risk that
// names its deficiencies in the language asked for, and saving again updates it; the
// levels and scope are kept.
func TestRegisterAndRisk(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		f, err := w.flows.Create(ctx, w.secA, insurance(w))
		if err != nil {
			t.Fatal(err)
		}
		got := []any{f.Level, f.Categories[0].Category, f.Deficiencies, f.Status, f.SourceAssetIDs, f.AgreementExpires.Format(time.DateOnly)}
		want := []any{3, "personal", []string{}, dataflow.StatusActive, []int64{w.assetA}, "2026-12-31"}
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("created (-want +got):\n%s", d)
		}
		if rs, err := w.risks.RisksOf(ctx, w.secA, risk.ModuleDataflow, f.ID); err != nil || len(rs) != 0 {
			t.Fatalf("a sound flow raised %v %v", rs, err)
		}

		// An insurer receiving identified level-4 health data under a contract, in clear.
		in := insurance(w)
		in.Name, in.RecipientName, in.RecipientKind, in.LegalBasis = "商保直赔", "某人寿保险公司", dataflow.KindInsurer, dataflow.BasisContract
		in.Categories = []dataflow.Category{{Category: "health", Level: 4}}
		in.AgreementRef, in.AgreementSigned, in.AgreementExpires, in.Transfer, in.Lang = "", "", "", dataflow.TransferNone, "en"
		bad, err := w.flows.Create(ctx, w.secA, in)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff([]string{dataflow.DefNoAgreement, dataflow.DefNoEncryption, dataflow.DefNoDeidentification}, bad.Deficiencies); d != "" {
			t.Fatalf("deficiencies (-want +got):\n%s", d)
		}
		rs, err := w.risks.RisksOf(ctx, w.secA, risk.ModuleDataflow, bad.ID)
		if err != nil || len(rs) != 1 {
			t.Fatalf("risks %v %v", rs, err)
		}
		r := rs[0]
		wantDesc := "Data flow " + itoa(bad.ID) + " 商保直赔 to 某人寿保险公司 (Commercial insurer, level 4): no data-sharing agreement on record; " +
			"the data is not encrypted in transit; identified patient data of level 3 or above leaves without de-identification, consent or a legal obligation."
		if d := cmp.Diff([]any{"Data flow 商保直赔 to 某人寿保险公司 is deficient", wantDesc, "third_party", []int64{w.assetA}},
			[]any{r.Title, r.Description, r.Category, r.AssetIDs}); d != "" {
			t.Fatalf("risk (-want +got):\n%s", d)
		}
		// Saved again (still deficient): the same risk, no second one.
		in.Transfer = dataflow.TransferTLS
		if _, err := w.flows.Update(ctx, w.secA, bad.ID, in); err != nil {
			t.Fatal(err)
		}
		if rs, _ := w.risks.RisksOf(ctx, w.secA, risk.ModuleDataflow, bad.ID); len(rs) != 1 || rs[0].ID != r.ID {
			t.Fatalf("after update %+v", rs)
		}
		// In Chinese by default.
		in.Name, in.Lang = "商保理赔", ""
		zh, err := w.flows.Create(ctx, w.secA, in)
		if err != nil {
			t.Fatal(err)
		}
		rs, _ = w.risks.RisksOf(ctx, w.secA, risk.ModuleDataflow, zh.ID)
		if len(rs) != 1 || rs[0].Title != "数据共享「商保理赔」（接收方：某人寿保险公司）存在缺陷" || !strings.Contains(rs[0].Description, "未登记数据共享协议；") {
			t.Fatalf("zh risk %+v", rs)
		}

		// Filters and counts.
		yes, no := true, false
		for _, c := range []struct {
			name string
			q    dataflow.Query
			want []int64
		}{
			{"all, deficient first", dataflow.Query{}, []int64{bad.ID, zh.ID, f.ID}},
			{"deficient", dataflow.Query{Deficient: &yes}, []int64{bad.ID, zh.ID}},
			{"sound", dataflow.Query{Deficient: &no}, []int64{f.ID}},
			{"kind", dataflow.Query{RecipientKind: dataflow.KindMedicalInsurance}, []int64{f.ID}},
			{"level", dataflow.Query{Level: 4}, []int64{bad.ID, zh.ID}},
			{"org", dataflow.Query{OrgID: w.hospB.ID}, nil},
		} {
			list, n, err := w.flows.Flows(ctx, w.secA, c.q)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			var ids []int64
			for _, x := range list {
				ids = append(ids, x.ID)
			}
			if d := cmp.Diff(c.want, ids); d != "" || n != len(c.want) {
				t.Errorf("%s: total %d (-want +got):\n%s", c.name, n, d)
			}
		}
		if _, _, err := w.flows.Flows(ctx, w.secA, dataflow.Query{Level: 7}); problem.KindOf(err) != problem.KindInvalid {
			t.Errorf("level 7: %v", err)
		}
		total, deficient, err := w.flows.Deficient(ctx, w.hospA.ID)
		if err != nil || total != 3 || deficient != 2 {
			t.Fatalf("Deficient A = %d, %d, %v", total, deficient, err)
		}
		if total, deficient, err := w.flows.Deficient(ctx, w.hospB.ID); err != nil || total != 0 || deficient != 0 {
			t.Fatalf("Deficient B = %d, %d, %v", total, deficient, err)
		}
		c, err := w.flows.Counts(ctx, w.secA, 0)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(dataflow.Counts{Total: 3, Deficient: 2, ByKind: map[string]int{"insurer": 2, "medical_insurance": 1},
			ByLevel: map[int]int{3: 1, 4: 2}}, c); d != "" {
			t.Errorf("counts (-want +got):\n%s", d)
		}

		// The clock passes the agreement's expiry: the sound flow becomes deficient.
		w.now = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
		got2, err := w.flows.Flow(ctx, w.secA, f.ID)
		if err != nil || !slicesEqual(got2.Deficiencies, []string{dataflow.DefAgreementExpired}) {
			t.Fatalf("after expiry %v %v", got2.Deficiencies, err)
		}
	})
}

func slicesEqual(a, b []string) bool { return cmp.Equal(a, b) }

func itoa(id int64) string { return strconv.FormatInt(id, 10) }

// TestChecksScopeEndAndDocuments: bad input is refused, another hospital's flow and
// assets are not found, a flow ends with or without a destruction record (and is given
// one later), and an agreement document is content-checked.
func TestChecksScopeEndAndDocuments(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		for _, c := range []struct {
			name  string
			edit  func(in *dataflow.Input)
			field string
		}{
			{"no name", func(in *dataflow.Input) { in.Name = " " }, "name"},
			{"kind", func(in *dataflow.Input) { in.RecipientKind = "friend" }, "recipient_kind"},
			{"no categories", func(in *dataflow.Input) { in.Categories = nil }, "categories"},
			{"category", func(in *dataflow.Input) { in.Categories = []dataflow.Category{{Category: "genome", Level: 3}} }, "categories"},
			{"level", func(in *dataflow.Input) { in.Categories = []dataflow.Category{{Category: "health", Level: 6}} }, "categories"},
			{"twice", func(in *dataflow.Input) {
				in.Categories = []dataflow.Category{{Category: "health", Level: 2}, {Category: "health", Level: 3}}
			}, "categories"},
			{"basis", func(in *dataflow.Input) { in.LegalBasis = "" }, "legal_basis"},
			{"date", func(in *dataflow.Input) { in.AgreementExpires = "2026-02-30" }, "agreement_expires"},
			{"dates reversed", func(in *dataflow.Input) { in.AgreementExpires = "2024-01-01" }, "agreement_expires"},
			{"dates without reference", func(in *dataflow.Input) { in.AgreementRef = "" }, "agreement_ref"},
			{"de-identified without a note", func(in *dataflow.Input) { in.Deident = dataflow.DeidentAnonymised }, "deidentification_note"},
			{"transfer", func(in *dataflow.Input) { in.Transfer = "pigeon" }, "transfer"},
			{"status", func(in *dataflow.Input) { in.Status = dataflow.StatusEnded }, "status"},
			{"no source", func(in *dataflow.Input) { in.SourceAssetIDs = nil }, "source_asset_ids"},
			{"B's asset", func(in *dataflow.Input) { in.SourceAssetIDs = []int64{w.assetB} }, "source_asset_ids"},
		} {
			in := insurance(w)
			c.edit(&in)
			_, err := w.flows.Create(ctx, w.secA, in)
			if p, ok := problem.As(err); !ok || p.Kind != problem.KindInvalid || p.Field != c.field {
				t.Errorf("%s: %v", c.name, err)
			}
		}
		in := insurance(w)
		in.OrgID = w.hospB.ID
		if _, err := w.flows.Create(ctx, w.secA, in); problem.KindOf(err) != problem.KindNotFound {
			t.Errorf("A registers in B: %v", err)
		}
		f, err := w.flows.Create(ctx, w.secA, insurance(w))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.flows.Flow(ctx, w.secB, f.ID); problem.KindOf(err) != problem.KindNotFound {
			t.Errorf("B reads A's flow: %v", err)
		}
		if _, err := w.flows.Update(ctx, w.secB, f.ID, insurance(w)); problem.KindOf(err) != problem.KindNotFound {
			t.Errorf("B updates A's flow: %v", err)
		}
		if _, err := w.flows.End(ctx, w.secB, f.ID, dataflow.EndInput{}); problem.KindOf(err) != problem.KindNotFound {
			t.Errorf("B ends A's flow: %v", err)
		}
		if _, err := w.flows.AddAttachment(ctx, w.secB, f.ID, "a.pdf", strings.NewReader("%PDF-1.4\n")); problem.KindOf(err) != problem.KindNotFound {
			t.Errorf("B attaches: %v", err)
		}
		if list, n, err := w.flows.Flows(ctx, w.secB, dataflow.Query{}); err != nil || n != 0 || len(list) != 0 {
			t.Errorf("B lists %v %d %v", list, n, err)
		}

		// Documents: a PDF is taken, HTML named .pdf is not.
		at, err := w.flows.AddAttachment(ctx, w.secA, f.ID, "协议.pdf", bytes.NewReader([]byte("%PDF-1.4\n1 0 obj\n")))
		if err != nil || at.Kind != "pdf" {
			t.Fatalf("pdf %+v %v", at, err)
		}
		if _, err := w.flows.AddAttachment(ctx, w.secA, f.ID, "x.pdf", strings.NewReader("<html><script>alert(1)</script>")); problem.KindOf(err) != problem.KindInvalid {
			t.Errorf("html taken: %v", err)
		}
		if _, err := w.flows.AddAttachment(ctx, w.secA, f.ID, "x.txt", strings.NewReader("")); problem.KindOf(err) != problem.KindInvalid {
			t.Errorf("empty taken: %v", err)
		}
		back, err := w.flows.Attachment(ctx, w.secA, f.ID, at.ID)
		if err != nil || !bytes.HasPrefix(back.Content, []byte("%PDF")) {
			t.Fatalf("read back %v", err)
		}
		if _, err := w.flows.Attachment(ctx, w.secB, f.ID, at.ID); problem.KindOf(err) != problem.KindNotFound {
			t.Errorf("B reads the document: %v", err)
		}

		// End: a partial destruction record is refused; ended without one the flow is
		// deficient and raises a risk; the record given later closes it for good.
		if _, err := w.flows.End(ctx, w.secA, f.ID, dataflow.EndInput{By: "市医保局信息科"}); problem.KindOf(err) != problem.KindInvalid {
			t.Errorf("partial record: %v", err)
		}
		if _, err := w.flows.End(ctx, w.secA, f.ID, dataflow.EndInput{By: "x", At: "2026-06-01", Verification: "y"}); problem.KindOf(err) != problem.KindInvalid {
			t.Errorf("future destruction: %v", err)
		}
		ended, err := w.flows.End(ctx, w.secA, f.ID, dataflow.EndInput{})
		if err != nil || ended.Status != dataflow.StatusEnded || !cmp.Equal(ended.Deficiencies, []string{dataflow.DefNoDestruction}) {
			t.Fatalf("ended %+v %v", ended, err)
		}
		if rs, _ := w.risks.RisksOf(ctx, w.secA, risk.ModuleDataflow, f.ID); len(rs) != 1 {
			t.Fatalf("no risk for the missing destruction record: %+v", rs)
		}
		if _, err := w.flows.Update(ctx, w.secA, f.ID, insurance(w)); problem.KindOf(err) != problem.KindConflict {
			t.Errorf("ended flow edited: %v", err)
		}
		w.now = w.now.Add(48 * time.Hour)
		done, err := w.flows.End(ctx, w.secA, f.ID, dataflow.EndInput{By: "市医保局信息科", At: "2026-05-02", Verification: "销毁证明书及抽查"})
		if err != nil {
			t.Fatal(err)
		}
		want := &dataflow.Destruction{By: "市医保局信息科", At: time.Date(2026, 5, 2, 0, 0, 0, 0, time.UTC), Verification: "销毁证明书及抽查"}
		if d := cmp.Diff(want, done.Destruction); d != "" || len(done.Deficiencies) != 0 || !done.EndedAt.Equal(time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)) {
			t.Fatalf("destruction %v %v (-want +got):\n%s", done.Deficiencies, done.EndedAt, d)
		}
		if _, err := w.flows.End(ctx, w.secA, f.ID, dataflow.EndInput{By: "x", At: "2026-05-02", Verification: "y"}); problem.KindOf(err) != problem.KindConflict {
			t.Errorf("ended twice: %v", err)
		}
		if total, deficient, err := w.flows.Deficient(ctx, w.hospA.ID); err != nil || total != 0 || deficient != 0 {
			t.Errorf("Deficient after destruction = %d, %d, %v", total, deficient, err)
		}
	})
}
