package supply

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/delivery"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

// Delivery is a recorded check of files a vendor delivered against its manifest.
type Delivery struct {
	ID              int64           `json:"id"`
	OrgID           int64           `json:"org_id"`
	VendorID        int64           `json:"vendor_id"`
	VendorName      string          `json:"vendor_name"`
	ProductID       int64           `json:"product_id"`
	ProductName     string          `json:"product_name"`
	VersionID       int64           `json:"version_id"`
	Version         string          `json:"version"`
	DeliveryRef     string          `json:"delivery_ref"`
	OK              bool            `json:"ok"`
	SignatureStatus string          `json:"signature_status"`
	Signer          string          `json:"signer"`
	Report          json.RawMessage `json:"report"`
	Problems        []string        `json:"problems"`
	// ProblemMsgs says Problems as catalogue messages, one each in the same order; empty
	// for checks recorded before they were stored.
	ProblemMsgs []i18n.Message `json:"problem_msgs,omitempty"`
	VerifiedBy  string         `json:"verified_by"`
	VerifiedAt  time.Time      `json:"verified_at"`
}

// DeliveryInput is a delivery to check: the manifest, the files received and the product
// version it delivers.
type DeliveryInput struct {
	VersionID        int64
	Manifest         []byte
	Files            []delivery.File
	RequireSignature bool
}

// deliveryReport is what is stored of a verification.
type deliveryReport struct {
	Report   delivery.Report `json:"report"`
	Problems []string        `json:"problems"`
	// ProblemMsgs are Problems as catalogue messages, in the same order.
	ProblemMsgs []i18n.Message `json:"problem_msgs,omitempty"`
}

// VerifyDelivery checks the received files against the manifest with the keys registered
// for the product's vendor, and records the outcome. A failed check is a finding on the
// vendor and product: it is stored, raises an alert and is trailed.
func (s *Service) VerifyDelivery(ctx context.Context, a actor.Actor, in DeliveryInput) (Delivery, error) {
	m, err := delivery.ParseManifest(in.Manifest)
	if err != nil {
		pe, ok := problem.As(err)
		if !ok {
			return Delivery{}, problem.Invalid("manifest", "not a readable delivery manifest").WithCode("invalid_manifest").WithMsg("supply.error.msg.manifest_not_readable").WithErr(err)
		}
		// The place at fault ("artifacts[2].sha256: …", the manifest's own vocabulary,
		// in English), never the manifest's text. Not pe.Msg: that leaves the place to the
		// field label, and here the field is the whole manifest.
		return Delivery{}, problem.Invalid("manifest", "%s", pe.Message).WithCode("invalid_manifest").WithMsg("supply.error.msg.manifest_unreadable", pe.Message).WithErr(err)
	}
	v, err := getVersion(ctx, s.db, a, in.VersionID)
	if err != nil {
		return Delivery{}, err
	}
	var trust delivery.Trust
	if v.VendorID != 0 {
		keys, err := vendorKeys(ctx, s.db, v.VendorID)
		if err != nil {
			return Delivery{}, err
		}
		for _, k := range keys {
			trust.Fingerprints = append(trust.Fingerprints, k.Fingerprint)
		}
	}
	rep, err := delivery.Verify(ctx, m, in.Files, trust, delivery.VerifyOptions{RequireSignature: in.RequireSignature, Now: s.now()})
	if err != nil {
		return Delivery{}, fmt.Errorf("supply: verify delivery: %w", err)
	}
	probs, msgs := rep.Problems(), rep.ProblemMessages()
	if m.Version != "" && m.Version != v.Version {
		probs = append(probs, fmt.Sprintf("the manifest is for version %s, not %s", m.Version, v.Version))
		msgs = append(msgs, i18n.M("supply.delivery.problem.version", m.Version, v.Version))
		rep.OK = false
	}
	if probs == nil {
		probs = []string{}
	}
	body, err := json.Marshal(deliveryReport{Report: rep, Problems: probs, ProblemMsgs: msgs})
	if err != nil {
		return Delivery{}, fmt.Errorf("supply: encode delivery report: %w", err)
	}
	out := Delivery{OrgID: v.OrgID, VendorID: v.VendorID, VendorName: v.VendorName, ProductID: v.ProductID,
		ProductName: v.ProductName, VersionID: v.ID, Version: v.Version, DeliveryRef: m.DeliveryID, OK: rep.OK,
		SignatureStatus: rep.Signature.Status, Signer: rep.Signature.Signer, Report: body, Problems: probs,
		ProblemMsgs: msgs, VerifiedBy: a.Username, VerifiedAt: s.stamp()}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.QueryRowContext(ctx, `INSERT INTO deliveries (org_id, vendor_id, product_id, version_id, delivery_ref, manifest,
			ok, signature_status, signer, report, verified_by, verified_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			v.OrgID, store.NullID(v.VendorID), v.ProductID, v.ID, m.DeliveryID, string(in.Manifest), rep.OK, out.SignatureStatus,
			out.Signer, string(body), a.Username, out.VerifiedAt).Scan(&out.ID); err != nil {
			return fmt.Errorf("supply: insert delivery: %w", err)
		}
		result := "verified"
		if !rep.OK {
			result = "FAILED: " + strings.Join(probs, "; ")
			// Each failed check is an alert of its own (keyed by the stored delivery).
			if err := s.raise(ctx, tx, alert.Input{OrgID: v.OrgID, Kind: "delivery_failed", Severity: alert.SeverityHigh,
				Title:   i18n.M("supply.alert.delivery_failed", m.DeliveryID, v.ProductName, v.Version),
				Subject: m.DeliveryID, ProductID: v.ProductID, VersionID: v.ID, DedupKey: "delivery_failed:" + idString(out.ID),
				Evidence: map[string]any{"delivery_id": out.ID, "vendor": v.VendorName, "product": v.ProductName, "version": v.Version,
					"problems": probs, "problem_msgs": msgs}, At: out.VerifiedAt}); err != nil {
				return err
			}
			s.log.Warn("delivery failed its integrity check", "delivery", m.DeliveryID, "vendor", v.VendorName,
				"product", v.ProductName, "version", v.Version, "problems", len(probs))
		}
		if len(result) > 300 {
			result = result[:300] + "…"
		}
		_, err := s.trail.Append(ctx, tx, a, trail.Event{Action: "delivery.verify", ObjectType: "delivery",
			ObjectID: idString(out.ID), OrgID: v.OrgID,
			Summary: fmt.Sprintf("%s %s from %s: %s", v.ProductName, v.Version, orNone(v.VendorName), result),
			Msg:     deliveryMsg(v.ProductName, v.Version, v.VendorName, rep.OK, probs, msgs),
			After:   map[string]any{"ok": rep.OK, "signature": out.SignatureStatus, "artifacts": len(m.Artifacts)}})
		return err
	})
	return out, err
}

// DeliveryQuery filters Deliveries.
type DeliveryQuery struct {
	ID        int64 // one delivery check
	VendorID  int64
	VersionID int64
	Limit     int // newest first; 0 = 200, at most 1000
}

// Deliveries lists recorded delivery checks in a's scope, newest first.
func (s *Service) Deliveries(ctx context.Context, a actor.Actor, q DeliveryQuery) ([]Delivery, error) {
	if q.Limit <= 0 || q.Limit > 1000 {
		q.Limit = 200
	}
	cond, arg := a.SeesSQL("o.path")
	where, args := cond, []any{arg}
	if q.ID != 0 {
		where += ` AND d.id = ?`
		args = append(args, q.ID)
	}
	if q.VendorID != 0 {
		where += ` AND d.vendor_id = ?`
		args = append(args, q.VendorID)
	}
	if q.VersionID != 0 {
		where += ` AND d.version_id = ?`
		args = append(args, q.VersionID)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT d.id, d.org_id, COALESCE(d.vendor_id, 0), COALESCE(v.name, ''),
		COALESCE(d.product_id, 0), COALESCE(p.name, ''), COALESCE(d.version_id, 0), COALESCE(pv.version, ''), d.delivery_ref,
		d.ok, d.signature_status, d.signer, d.report, d.verified_by, d.verified_at
		FROM deliveries d JOIN orgs o ON o.id = d.org_id LEFT JOIN vendors v ON v.id = d.vendor_id
		LEFT JOIN products p ON p.id = d.product_id LEFT JOIN product_versions pv ON pv.id = d.version_id
		WHERE `+where+` ORDER BY d.verified_at DESC, d.id DESC LIMIT ?`, append(args, q.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("supply: list deliveries: %w", err)
	}
	defer rows.Close()
	out := []Delivery{}
	for rows.Next() {
		var d Delivery
		var report string
		if err := rows.Scan(&d.ID, &d.OrgID, &d.VendorID, &d.VendorName, &d.ProductID, &d.ProductName, &d.VersionID, &d.Version,
			&d.DeliveryRef, &d.OK, &d.SignatureStatus, &d.Signer, &report, &d.VerifiedBy, &d.VerifiedAt); err != nil {
			return nil, fmt.Errorf("supply: list deliveries: %w", err)
		}
		d.Report = json.RawMessage(report)
		var dr deliveryReport
		if json.Unmarshal(d.Report, &dr) == nil {
			d.Problems, d.ProblemMsgs = dr.Problems, dr.ProblemMsgs
		}
		if d.Problems == nil {
			d.Problems = []string{}
		}
		d.VerifiedAt = d.VerifiedAt.UTC()
		out = append(out, d)
	}
	return out, rows.Err()
}

// Delivery returns delivery check id as a sees it (another hospital's is not found).
func (s *Service) Delivery(ctx context.Context, a actor.Actor, id int64) (Delivery, error) {
	ds, err := s.Deliveries(ctx, a, DeliveryQuery{ID: id, Limit: 1})
	if err != nil {
		return Delivery{}, err
	}
	if len(ds) == 0 {
		return Delivery{}, problem.NotFound("delivery")
	}
	return ds[0], nil
}
