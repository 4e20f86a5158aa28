package dataflow_test

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/medguard/medguard/internal/asset"
	"github.com/medguard/medguard/internal/dataflow"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
	"github.com/medguard/medguard/internal/trail"
	"github.com/medguard/medguard/internal/trail/trailtest"
)

const header = "name,recipient,recipient_kind,categories,purpose,legal_basis,source_assets\n"

// TestParseCSV: the register in UTF-8 and GBK with Chinese headers and values reads the
// same; wrong lines are reported by line and field; files that are not registers are refused.
func TestParseCSV(t *testing.T) {
	t.Parallel()
	p := dataflow.NewParser(i18n.MustLoad())
	var first []dataflow.Row
	for _, name := range []string{"register.csv", "register_gbk.csv"} {
		data, err := os.ReadFile("testdata/csv/" + name)
		if err != nil {
			t.Fatal(err)
		}
		rows, bad, enc, err := p.ParseCSV(data)
		if err != nil || len(bad) != 0 || len(rows) != 2 {
			t.Fatalf("%s: %d rows, %v, %v", name, len(rows), bad, err)
		}
		in := rows[0].Input
		got := []any{enc != "", in.RecipientKind, in.LegalBasis, in.Transfer, in.Status, in.Categories, rows[1].AssetCodes, rows[1].Input.Categories, rows[1].Line}
		want := []any{true, "medical_insurance", "legal_obligation", "sm4", "active",
			[]dataflow.Category{{Category: "personal", Level: 3}, {Category: "payment", Level: 3}}, []string{"HIS", "EMR"},
			[]dataflow.Category{{Category: "medical", Level: 3}}, 3}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s (-want +got):\n%s", name, d)
		}
		if first == nil {
			first = rows
		} else if d := cmp.Diff(first, rows); d != "" {
			t.Errorf("GBK differs from UTF-8:\n%s", d)
		}
	}
	cases := []struct {
		name      string
		data      string
		wantLines []int
		wantField []string
		refused   bool
	}{
		{"good", header + "a,b,insurer,health:2,p,contract,HIS\n", nil, nil, false},
		{"wrong lines", header + "a,b,friend,health:2,p,contract,HIS\n\n" + "a,b,insurer,health:9,p,contract,HIS\n" +
			"a,b,insurer,health,p,contract,HIS\n" + "a,b,insurer,health:2,p,contract,\n" + "a,b,insurer,health:2,,contract,HIS\n",
			[]int{2, 4, 5, 6, 7}, []string{"recipient_kind", "categories", "categories", "source_assets", "purpose"}, false},
		{"missing column", "name,recipient\na,b\n", nil, nil, true},
		{"only a header", header, nil, nil, true},
		{"binary", "\x00\x01\x02PK", nil, nil, true},
		{"empty", "", nil, nil, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, bad, _, err := p.ParseCSV([]byte(c.data))
			if c.refused {
				if problem.KindOf(err) != problem.KindInvalid {
					t.Fatalf("not refused: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var lines []int
			var fields []string
			for _, b := range bad {
				lines, fields = append(lines, b.Line), append(fields, b.Field)
				if b.Msg == nil {
					t.Errorf("line %d has no message", b.Line)
				}
			}
			if d := cmp.Diff([]any{c.wantLines, c.wantField}, []any{lines, fields}); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

// FuzzParseCSV: any input is either refused, or read into lines that each pass the
// checks of Create, and wrong lines that name a line after the header.
func FuzzParseCSV(f *testing.F) {
	for _, name := range []string{"register.csv", "register_gbk.csv"} {
		data, err := os.ReadFile("testdata/csv/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	p := dataflow.NewParser(i18n.MustLoad())
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, bad, _, err := p.ParseCSV(data)
		if err != nil {
			if _, ok := problem.As(err); !ok {
				t.Fatalf("not a problem: %v", err)
			}
			return
		}
		if len(rows)+len(bad) == 0 {
			t.Fatal("no lines and no error")
		}
		for _, r := range rows {
			if r.Line < 2 || len(r.AssetCodes) == 0 || len(r.Input.Categories) == 0 || r.Input.Name == "" {
				t.Fatalf("row %+v", r)
			}
		}
		for _, b := range bad {
			if b.Line < 2 || b.Msg == nil {
				t.Fatalf("bad line %+v", b)
			}
		}
	})
}

// TestImport: a register naming an asset the hospital does not have imports nothing
// and says which line; once the asset exists the flows are created; another hospital
// cannot import into this one.
func TestImport(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		data, err := os.ReadFile("testdata/csv/register_gbk.csv")
		if err != nil {
			t.Fatal(err)
		}
		rep, err := w.flows.Import(ctx, w.secA, w.hospA.ID, "登记表.csv", data, "")
		if err != nil {
			t.Fatal(err)
		}
		if rep.Created != 0 || len(rep.Errors) != 1 || rep.Errors[0].Line != 3 || rep.Errors[0].Field != "source_assets" {
			t.Fatalf("report %+v", rep)
		}
		if _, n, _ := w.flows.Flows(ctx, w.secA, dataflow.Query{}); n != 0 {
			t.Fatalf("%d flows after a failed import", n)
		}
		tl, err := trail.New(trail.SHA256, trailtest.Key(t))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := asset.NewService(db, tl).Create(ctx, w.secA, asset.Input{OrgID: w.hospA.ID, Code: "EMR", Name: "电子病历",
			Kind: "business_system", Zone: "internal"}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.flows.Import(ctx, w.secB, w.hospA.ID, "x.csv", data, ""); problem.KindOf(err) != problem.KindNotFound {
			t.Fatalf("B imported into A: %v", err)
		}
		rep, err = w.flows.Import(ctx, w.secA, w.hospA.ID, "登记表.csv", data, "")
		if err != nil || rep.Created != 2 || len(rep.Errors) != 0 || rep.Encoding != "gbk" {
			t.Fatalf("report %+v %v", rep, err)
		}
		list, _, err := w.flows.Flows(ctx, w.secA, dataflow.Query{RecipientKind: dataflow.KindPharmacy})
		if err != nil || len(list) != 1 || len(list[0].SourceAssetIDs) != 2 || !bytes.Equal([]byte(list[0].Name), []byte("处方流转")) {
			t.Fatalf("pharmacy %+v %v", list, err)
		}
	})
}
