package dataflow

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func day(s string) *time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return &t
}

// TestEvaluate is the table of the deficiency rules (rules.go).
func TestEvaluate(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	// sound is an insurance settlement flow with nothing wrong.
	sound := func() Flow {
		return Flow{RecipientKind: KindMedicalInsurance, Categories: []Category{{"personal", 3}, {"payment", 3}}, Level: 3,
			LegalBasis: BasisContract, AgreementRef: "YB-2025-01", AgreementExpires: day("2026-12-31"), Deident: DeidentPseudonymised,
			Transfer: TransferSM4, Status: StatusActive}
	}
	cases := []struct {
		name string
		edit func(f *Flow)
		want []string
	}{
		{"sound", func(f *Flow) {}, []string{}},
		{"suspended is judged too", func(f *Flow) { f.Status = StatusSuspended; f.Transfer = TransferNone }, []string{DefNoEncryption}},
		{"no agreement", func(f *Flow) { f.AgreementRef, f.AgreementExpires = "", nil }, []string{DefNoAgreement}},
		{"a regulator needs no agreement", func(f *Flow) { f.AgreementRef, f.AgreementExpires, f.RecipientKind = "", nil, KindRegulator }, []string{}},
		{"agreement valid through its expiry date", func(f *Flow) { f.AgreementExpires = day("2026-05-01") }, []string{}},
		{"agreement expired the day before", func(f *Flow) { f.AgreementExpires = day("2026-04-30") }, []string{DefAgreementExpired}},
		{"agreement without expiry", func(f *Flow) { f.AgreementExpires = nil }, []string{}},
		{"no transfer protection", func(f *Flow) { f.Transfer = TransferNone }, []string{DefNoEncryption}},
		{"TLS", func(f *Flow) { f.Transfer = TransferTLS }, []string{}},
		{"VPN", func(f *Flow) { f.Transfer = TransferVPN }, []string{}},
		{"dedicated line at level 3", func(f *Flow) { f.Transfer = TransferDedicatedLine }, []string{}},
		{"dedicated line at level 4", func(f *Flow) {
			f.Transfer, f.Categories, f.Level = TransferDedicatedLine, []Category{{"health", 4}}, 4
		}, []string{DefNoEncryption}},
		{"identified level 3 under contract", func(f *Flow) { f.Deident = DeidentNone }, []string{DefNoDeidentification}},
		{"identified level 3 with consent", func(f *Flow) { f.Deident, f.LegalBasis = DeidentNone, BasisConsent }, []string{}},
		{"identified level 3 by legal obligation", func(f *Flow) { f.Deident, f.LegalBasis = DeidentNone, BasisLegalObligation }, []string{}},
		{"identified level 3 for public health to a research partner", func(f *Flow) {
			f.Deident, f.LegalBasis, f.RecipientKind = DeidentNone, BasisPublicHealth, KindResearch
		}, []string{DefNoDeidentification}},
		{"identified to a regional platform", func(f *Flow) { f.Deident, f.RecipientKind = DeidentNone, KindRegionalPlatform }, []string{}},
		{"identified to a regulator", func(f *Flow) { f.Deident, f.RecipientKind = DeidentNone, KindRegulator }, []string{}},
		{"identified level 2", func(f *Flow) {
			f.Deident, f.Categories, f.Level = DeidentNone, []Category{{"personal", 2}}, 2
		}, []string{}},
		{"level 3 only in resource data", func(f *Flow) {
			f.Deident, f.Categories, f.Level = DeidentNone, []Category{{"personal", 2}, {"resource", 3}}, 3
		}, []string{}},
		{"everything wrong", func(f *Flow) {
			f.AgreementRef, f.AgreementExpires, f.Transfer, f.Deident = "", nil, TransferNone, DeidentNone
		}, []string{DefNoAgreement, DefNoEncryption, DefNoDeidentification}},
		{"ended without destruction", func(f *Flow) { f.Status = StatusEnded }, []string{DefNoDestruction}},
		{"ended with destruction, other faults no longer count", func(f *Flow) {
			f.Status, f.Transfer = StatusEnded, TransferNone
			f.Destruction = &Destruction{By: "x", At: now, Verification: "certificate"}
		}, []string{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := sound()
			c.edit(&f)
			if d := cmp.Diff(c.want, Evaluate(f, now)); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}
