package dataflow_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medguard/medguard/internal/dataflow"
	"github.com/medguard/medguard/internal/risk"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// TestSweep: an agreement that expires on a flow nobody touches raises its risk at the
// first Sweep after its expiry day, once; a flow saved deficient is not raised again by
// Sweep; a flow found sound again is cleared and raised anew when it lapses again; an
// ended flow with its destruction record is left alone.
func TestSweep(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		in := insurance(w)
		in.AgreementExpires = "2026-05-10"
		f, err := w.flows.Create(ctx, w.secA, in)
		if err != nil {
			t.Fatal(err)
		}
		// A flow saved deficient (no encryption) has its risk already.
		bad := insurance(w)
		bad.Name, bad.Transfer = "处方流转", dataflow.TransferNone
		b, err := w.flows.Create(ctx, w.secA, bad)
		if err != nil || !b.Deficient() {
			t.Fatalf("deficient flow %+v %v", b, err)
		}
		// An ended flow with its destruction record.
		done, err := w.flows.Create(ctx, w.secA, insurance(w))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.flows.End(ctx, w.secA, done.ID, dataflow.EndInput{By: "市医保局", At: "2026-05-01", Verification: "销毁证明"}); err != nil {
			t.Fatal(err)
		}
		risksOf := func(id int64) []risk.Risk {
			t.Helper()
			rs, err := w.risks.RisksOf(ctx, w.secA, risk.ModuleDataflow, id)
			if err != nil {
				t.Fatal(err)
			}
			return rs
		}
		sweep := func(at time.Time) dataflow.SweepResult {
			t.Helper()
			w.now = at
			res, err := w.flows.Sweep(ctx, at)
			if err != nil {
				t.Fatal(err)
			}
			return res
		}
		day := func(d int) time.Time { return time.Date(2026, 5, d, 3, 0, 0, 0, time.UTC) }

		for _, c := range []struct {
			name  string
			at    time.Time
			want  dataflow.SweepResult
			risks int
		}{
			{"before the expiry", day(5), dataflow.SweepResult{Checked: 2}, 0},
			{"on the expiry day (still valid)", day(10), dataflow.SweepResult{Checked: 2}, 0},
			{"the day after", day(11), dataflow.SweepResult{Checked: 2, Raised: 1}, 1},
			{"again the same day", day(11), dataflow.SweepResult{Checked: 2}, 1},
			{"a week later", day(18), dataflow.SweepResult{Checked: 2}, 1},
		} {
			if d := cmp.Diff(c.want, sweep(c.at)); d != "" {
				t.Fatalf("%s (-want +got):\n%s", c.name, d)
			}
			if n := len(risksOf(f.ID)); n != c.risks {
				t.Fatalf("%s: %d risks, want %d", c.name, n, c.risks)
			}
		}
		rs := risksOf(f.ID)
		if !strings.Contains(rs[0].Description, "数据共享协议已过期") {
			t.Errorf("risk description %q does not say the agreement expired", rs[0].Description)
		}
		if n := len(risksOf(b.ID)); n != 1 {
			t.Errorf("the flow saved deficient has %d risks", n)
		}
		if n := len(risksOf(done.ID)); n != 0 {
			t.Errorf("the destroyed flow has %d risks", n)
		}

		// Renewed: sound again, cleared; lapsing again raises (updates) the same risk.
		in.AgreementExpires = "2026-06-30"
		if _, err := w.flows.Update(ctx, w.secA, f.ID, in); err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(dataflow.SweepResult{Checked: 2}, sweep(day(19))); d != "" {
			t.Fatalf("after renewal (-want +got):\n%s", d)
		}
		w.now = time.Date(2026, 7, 2, 3, 0, 0, 0, time.UTC)
		if d := cmp.Diff(dataflow.SweepResult{Checked: 2, Raised: 1}, sweep(w.now)); d != "" {
			t.Fatalf("lapsed again (-want +got):\n%s", d)
		}
		if rs := risksOf(f.ID); len(rs) != 1 || rs[0].ID != risksOf(f.ID)[0].ID {
			t.Fatalf("lapsed again: risks %+v", rs)
		}
	})
}
