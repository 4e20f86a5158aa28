// Package dataflow owns the data-flow register of a hospital (数据共享登记): every
// interface that sends patient data outside the hospital — to medical insurance, social
// security, commercial insurers, pharmacies, logistics, regional platforms, regulators,
// research partners — with its source systems (assets), recipient, data categories and
// GB/T 39725-2020 levels, purpose and legal basis, agreement, de-identification, transfer
// protection, frequency, volume, retention at the recipient and, when it ends, the record
// of the data's destruction.
//
// Each flow is judged by the deficiency rules of Evaluate (rules.go): no agreement or an
// expired one, no transfer encryption, no de-identification where the level needs it, an
// end without a destruction record. Saving a deficient flow raises (or raises again) a
// risk in the risk register through risk.Service.FromSource; Deficient is the automatic
// compliance check "dataflow.register". Every read and write is limited to the actor's
// subtree: another hospital's flow is not found.
package dataflow

import (
	"context"
	"fmt"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/risk"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

// Module is the name of the register as a source of risks (risk.ModuleDataflow).
const Module = risk.ModuleDataflow

// The kinds of recipient.
const (
	KindMedicalInsurance = "medical_insurance" // 医保
	KindSocialSecurity   = "social_security"   // 社保
	KindInsurer          = "insurer"           // 商业保险
	KindPharmacy         = "pharmacy"          // 药店、处方流转
	KindLogistics        = "logistics"         // 物流
	KindRegionalPlatform = "regional_platform" // 区域平台、全民健康信息平台
	KindRegulator        = "regulator"         // 监管
	KindResearch         = "research"          // 科研
	KindOther            = "other"
)

// RecipientKinds lists the kinds of recipient; each has a catalogue key
// "dataflow.kind.<id>".
var RecipientKinds = []string{KindMedicalInsurance, KindSocialSecurity, KindInsurer, KindPharmacy, KindLogistics,
	KindRegionalPlatform, KindRegulator, KindResearch, KindOther}

// Categories lists the GB/T 39725-2020 data categories (个人属性、健康状况、医疗应用、医疗支付、
// 卫生资源、公共卫生数据); each has a catalogue key "dataflow.category.<id>".
var Categories = []string{"personal", "health", "medical", "payment", "resource", "public_health"}

// The legal bases of a flow.
const (
	BasisConsent         = "consent"          // the patient's consent (个人同意)
	BasisContract        = "contract"         // necessary for a contract the patient is party to
	BasisLegalObligation = "legal_obligation" // a statutory duty (医保结算、法定报告)
	BasisPublicHealth    = "public_health"    // public-health emergencies, protection of life
	BasisOther           = "other"
)

// LegalBases lists the legal bases; each has a catalogue key "dataflow.basis.<id>".
var LegalBases = []string{BasisConsent, BasisContract, BasisLegalObligation, BasisPublicHealth, BasisOther}

// The de-identification applied before the data leaves.
const (
	DeidentNone          = "none"
	DeidentPseudonymised = "pseudonymised" // 假名化
	DeidentAnonymised    = "anonymised"    // 匿名化
	DeidentAggregated    = "aggregated"    // 仅统计汇总
)

// Deidents lists the de-identification choices; each has a catalogue key
// "dataflow.deident.<id>".
var Deidents = []string{DeidentNone, DeidentPseudonymised, DeidentAnonymised, DeidentAggregated}

// The protections of the transfer.
const (
	TransferNone          = "none"
	TransferTLS           = "tls"
	TransferVPN           = "vpn"            // VPN / IPsec
	TransferSM4           = "sm4"            // national cryptography (SM2/SM3/SM4)
	TransferDedicatedLine = "dedicated_line" // a private line (专线), not encryption by itself
)

// Transfers lists the transfer protections; each has a catalogue key
// "dataflow.transfer.<id>".
var Transfers = []string{TransferNone, TransferTLS, TransferVPN, TransferSM4, TransferDedicatedLine}

// The states of a flow.
const (
	StatusActive    = "active"
	StatusSuspended = "suspended"
	StatusEnded     = "ended"
)

// Statuses lists the states; each has a catalogue key "dataflow.status.<id>".
var Statuses = []string{StatusActive, StatusSuspended, StatusEnded}

// Category is a data category a flow sends and its GB/T 39725 level (1–5).
type Category struct {
	Category string `json:"category"`
	Level    int    `json:"level"`
}

// Destruction is the record that the recipient destroyed the data when the flow ended:
// who destroyed it (or attested it), when, and how that was verified.
type Destruction struct {
	By           string    `json:"by"`
	At           time.Time `json:"at"`
	Verification string    `json:"verification"`
}

// Attachment is a document of a flow (the agreement, a destruction certificate), its
// content checked by incident.Sniff; Content is filled only by Attachment.
type Attachment struct {
	ID          int64     `json:"id"`
	Name        string    `json:"name"`
	Kind        string    `json:"kind"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	SHA256      string    `json:"sha256"`
	AddedBy     string    `json:"added_by"`
	AddedAt     time.Time `json:"added_at"`
	Content     []byte    `json:"-"`
}

// Flow is a flow of the register. Level is the highest level of its categories;
// Deficiencies are what Evaluate finds at the time it was read.
type Flow struct {
	ID               int64        `json:"id"`
	OrgID            int64        `json:"org_id"`
	OrgName          string       `json:"hospital"`
	Name             string       `json:"name"`
	SourceAssetIDs   []int64      `json:"source_asset_ids"`
	RecipientName    string       `json:"recipient_name"`
	RecipientKind    string       `json:"recipient_kind"`
	Categories       []Category   `json:"categories"`
	Level            int          `json:"level"`
	Purpose          string       `json:"purpose"`
	LegalBasis       string       `json:"legal_basis"`
	AgreementRef     string       `json:"agreement_ref"`
	AgreementSigned  *time.Time   `json:"agreement_signed"`
	AgreementExpires *time.Time   `json:"agreement_expires"`
	Deident          string       `json:"deidentification"`
	DeidentNote      string       `json:"deidentification_note"`
	Transfer         string       `json:"transfer"`
	Frequency        string       `json:"frequency"`
	Volume           string       `json:"volume"`
	Retention        string       `json:"retention"`
	Status           string       `json:"status"`
	EndedAt          *time.Time   `json:"ended_at"`
	Destruction      *Destruction `json:"destruction"`
	Deficiencies     []string     `json:"deficiencies"`
	CreatedBy        string       `json:"created_by"`
	CreatedAt        time.Time    `json:"created_at"`
	UpdatedAt        time.Time    `json:"updated_at"`
	Attachments      []Attachment `json:"attachments,omitempty"`
}

// Deficient reports whether the flow has a deficiency.
func (f Flow) Deficient() bool { return len(f.Deficiencies) > 0 }

// Input is what a person writes of a flow. Dates are YYYY-MM-DD ("" for none). Lang,
// optional, is the language a risk raised from the flow is written in ("": zh-CN).
type Input struct {
	OrgID            int64      `json:"org_id"`
	Name             string     `json:"name"`
	SourceAssetIDs   []int64    `json:"source_asset_ids"`
	RecipientName    string     `json:"recipient_name"`
	RecipientKind    string     `json:"recipient_kind"`
	Categories       []Category `json:"categories"`
	Purpose          string     `json:"purpose"`
	LegalBasis       string     `json:"legal_basis"`
	AgreementRef     string     `json:"agreement_ref"`
	AgreementSigned  string     `json:"agreement_signed"`
	AgreementExpires string     `json:"agreement_expires"`
	Deident          string     `json:"deidentification"`
	DeidentNote      string     `json:"deidentification_note"`
	Transfer         string     `json:"transfer"`
	Frequency        string     `json:"frequency"`
	Volume           string     `json:"volume"`
	Retention        string     `json:"retention"`
	// Status is active or suspended ("": active); a flow ends through End.
	Status string `json:"status"`
	Lang   string `json:"lang,omitempty"`
}

// Input is what a person would write to leave f as it is: the form of an edit.
func (f Flow) Input() Input {
	in := Input{OrgID: f.OrgID, Name: f.Name, SourceAssetIDs: append([]int64{}, f.SourceAssetIDs...), RecipientName: f.RecipientName,
		RecipientKind: f.RecipientKind, Categories: append([]Category{}, f.Categories...), Purpose: f.Purpose, LegalBasis: f.LegalBasis,
		AgreementRef: f.AgreementRef, Deident: f.Deident, DeidentNote: f.DeidentNote, Transfer: f.Transfer, Frequency: f.Frequency,
		Volume: f.Volume, Retention: f.Retention, Status: f.Status}
	if f.AgreementSigned != nil {
		in.AgreementSigned = f.AgreementSigned.Format(time.DateOnly)
	}
	if f.AgreementExpires != nil {
		in.AgreementExpires = f.AgreementExpires.Format(time.DateOnly)
	}
	return in
}

// EndInput ends a flow. The destruction record (By, At as YYYY-MM-DD, Verification) is
// all given or all left out: a flow ended without one stays deficient until End is
// called again with it.
type EndInput struct {
	By           string `json:"destroyed_by"`
	At           string `json:"destroyed_at"`
	Verification string `json:"verification"`
	Lang         string `json:"lang,omitempty"`
}

// RiskRaiser raises or updates the risk of a record (risk.Service).
type RiskRaiser interface {
	FromSource(ctx context.Context, a actor.Actor, in risk.SourceInput) (risk.Risk, bool, error)
}

// Options configures a Service.
type Options struct {
	// Risks, optional, raises the risk of a deficient flow when it is saved.
	Risks RiskRaiser
	// MaxAttachment is the largest document taken (default 20 MiB).
	MaxAttachment int64
	Now           func() time.Time
}

// Service keeps the register.
type Service struct {
	db    *store.DB
	trail *trail.Log
	opt   Options
}

// New returns the register on db; changes are trailed in tl.
func New(db *store.DB, tl *trail.Log, opt Options) *Service {
	if opt.MaxAttachment <= 0 {
		opt.MaxAttachment = 20 << 20
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Service{db: db, trail: tl, opt: opt}
}

// SetRisks sets the risk register deficient flows raise risks in (the register and the
// risk register's source reader need each other, so one is set after both are made).
func (s *Service) SetRisks(r RiskRaiser) { s.opt.Risks = r }

func (s *Service) now() time.Time { return s.opt.Now().UTC().Truncate(time.Microsecond) }

// levelOf is the highest level of cs (0 for none).
func levelOf(cs []Category) int {
	l := 0
	for _, c := range cs {
		l = max(l, c.Level)
	}
	return l
}

// DeficiencyMsg is deficiency d as a sentence of the catalogue.
func DeficiencyMsg(d string) i18n.Message { return i18n.M("dataflow.deficiency." + d) }

// DeficienciesMsg is the deficiencies ds as one sentence ("no agreement; no transfer
// encryption").
func DeficienciesMsg(ds []string) i18n.Message {
	if len(ds) == 0 {
		return i18n.M("dataflow.deficiency.none")
	}
	m := DeficiencyMsg(ds[len(ds)-1])
	for i := len(ds) - 2; i >= 0; i-- {
		m = i18n.M("dataflow.deficiency.join", DeficiencyMsg(ds[i]), m)
	}
	return m
}

func itoa(id int64) string { return fmt.Sprint(id) }
