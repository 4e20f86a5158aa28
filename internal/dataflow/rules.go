package dataflow

import (
	"slices"
	"time"
)

// The deficiencies of a flow; each has a catalogue key "dataflow.deficiency.<id>".
const (
	// DefNoAgreement: a flow that has not ended has no data-sharing agreement on record.
	// A statutory report to a regulator needs none (the law is its basis).
	DefNoAgreement = "no_agreement"
	// DefAgreementExpired: its agreement expired (it is valid through its expiry date).
	DefAgreementExpired = "agreement_expired"
	// DefNoEncryption: the data travels unprotected, or over a private line without
	// encryption at level 4 or 5 (a private line keeps strangers off the wire, not the
	// carrier; GB/T 39725 asks level-4 and 5 data to be encrypted in transit).
	DefNoEncryption = "no_encryption"
	// DefNoDeidentification: see NeedsDeidentification.
	DefNoDeidentification = "no_deidentification"
	// DefNoDestruction: the flow ended and no record says the recipient destroyed the data.
	DefNoDestruction = "no_destruction"
)

// Deficiencies lists every deficiency in the order Evaluate reports them.
var Deficiencies = []string{DefNoAgreement, DefAgreementExpired, DefNoEncryption, DefNoDeidentification, DefNoDestruction}

// identifying are the categories that identify a patient or describe their health.
var identifying = []string{"personal", "health", "medical"}

// NeedsDeidentification is the de-identification rule, from GB/T 39725-2020's guidance
// that data of level 3 and above about a person (个人属性、健康状况、医疗应用数据) is shared
// outside the hospital only de-identified unless the person consented or a law requires
// it: a flow needs de-identification when its level is 3 or more, it carries personal,
// health or medical-application data, its recipient is not a regulator or a regional
// health-information platform (which receive identified data by statute), and its legal
// basis is neither consent nor a legal obligation.
func NeedsDeidentification(f Flow) bool {
	if f.Level < 3 || f.RecipientKind == KindRegulator || f.RecipientKind == KindRegionalPlatform {
		return false
	}
	if f.LegalBasis == BasisConsent || f.LegalBasis == BasisLegalObligation {
		return false
	}
	return slices.ContainsFunc(f.Categories, func(c Category) bool { return slices.Contains(identifying, c.Category) && c.Level >= 3 })
}

// Evaluate returns the deficiencies of f at now, in the order of Deficiencies. An ended
// flow is judged only on its destruction record; an active or suspended one on its
// agreement, transfer protection and de-identification.
func Evaluate(f Flow, now time.Time) []string {
	out := []string{}
	if f.Status == StatusEnded {
		if f.Destruction == nil {
			out = append(out, DefNoDestruction)
		}
		return out
	}
	switch {
	case f.AgreementRef == "" && f.RecipientKind != KindRegulator:
		out = append(out, DefNoAgreement)
	case f.AgreementRef != "" && f.AgreementExpires != nil && !now.Before(f.AgreementExpires.AddDate(0, 0, 1)):
		out = append(out, DefAgreementExpired)
	}
	if f.Transfer == TransferNone || f.Transfer == "" || (f.Transfer == TransferDedicatedLine && f.Level >= 4) {
		out = append(out, DefNoEncryption)
	}
	if f.Deident == DeidentNone && NeedsDeidentification(f) {
		out = append(out, DefNoDeidentification)
	}
	return out
}
