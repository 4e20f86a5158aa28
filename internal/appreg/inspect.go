package appreg

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/apk"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
)

// The findings an APK inspection adds beyond the APK's own: what the build says against
// the app's filing.
const (
	FindingAPKPackage       = "apk.package_mismatch" // the build is another package than the one filed
	FindingAPKUnfiledSigner = "apk.unfiled_signer"   // signed by a certificate no official version names
)

// apkTypes maps the inspection's finding ids to the evaluation model's types; ids not
// listed become "apk." + the id with underscores.
var apkTypes = map[string]string{
	"unsigned": "apk.signature_invalid", "signature-not-verified": "apk.signature_invalid",
	"v1-only-signature": "apk.v1_only", "debug-certificate": "apk.debug_certificate",
	"weak-signature-md5": "apk.weak_signature", "weak-signature-sha1": "apk.weak_signature", "weak-key": "apk.weak_signature",
	"debuggable": "apk.debuggable", "cleartext-traffic": "apk.cleartext", "exported-component": "apk.exported_component",
	"dangerous-permission": "apk.dangerous_permission",
}

// Inspection is one stored APK inspection.
type Inspection struct {
	ID          int64           `json:"id"`
	AppID       int64           `json:"app_id"`
	FileName    string          `json:"file_name"`
	SHA256      string          `json:"sha256"`
	Package     string          `json:"package"`
	Version     string          `json:"version"`
	Verified    bool            `json:"verified"`
	Report      json.RawMessage `json:"report"`
	InspectedBy string          `json:"inspected_by"`
	InspectedAt time.Time       `json:"inspected_at"`
}

// AddInspection stores the report of an APK of app id and makes its findings the app's
// "apk.*" findings (replacing those of the previous inspection), with two of its own: a
// package other than the one filed, and a signer no official version names. The app is
// evaluated again.
func (s *Service) AddInspection(ctx context.Context, a actor.Actor, id int64, fileName string, rep *apk.Report) (Inspection, error) {
	name, err := text("file_name", fileName, 300, false)
	if err != nil {
		return Inspection{}, err
	}
	var ins Inspection
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		ap, err := s.get(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if ap.Platform != PlatformAndroid {
			return problem.Invalid("file", "an APK is inspected for an Android app").WithMsg("app.error.not_android")
		}
		if err := s.fill(ctx, tx, &ap); err != nil {
			return err
		}
		body, err := json.Marshal(rep)
		if err != nil {
			return fmt.Errorf("appreg: inspection report: %w", err)
		}
		now := s.now()
		ins = Inspection{AppID: id, FileName: name, SHA256: rep.File.SHA256, Package: rep.Manifest.Package,
			Version: rep.Manifest.VersionName, Verified: rep.Signature.Verified, Report: body, InspectedBy: a.Username, InspectedAt: now}
		if err := tx.QueryRowContext(ctx, `INSERT INTO app_inspections (app_id, file_name, sha256, package, version, verified, report,
			inspected_by, inspected_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, id, ins.FileName, ins.SHA256, ins.Package,
			ins.Version, ins.Verified, string(body), ins.InspectedBy, now).Scan(&ins.ID); err != nil {
			return fmt.Errorf("appreg: store the inspection: %w", err)
		}
		fs := inspectionFindings(ap, rep)
		if _, err := s.trail.Append(ctx, tx, a, trail.Event{Action: "app.inspect", ObjectType: "app", ObjectID: itoa(id), OrgID: ap.OrgID,
			Summary: fmt.Sprintf("%s: APK %s (%s %s) inspected: signature verified %t, %d findings", ap.Name, ins.SHA256, ins.Package,
				ins.Version, ins.Verified, len(fs)),
			Msg: trail.Msg("trail.summary.app.inspect", ap.Name, ins.Package, ins.Version, len(fs))}); err != nil {
			return err
		}
		open, err := findings(ctx, tx, id, true)
		if err != nil {
			return err
		}
		types := []string{FindingAPKPackage, FindingAPKUnfiledSigner}
		for _, f := range append(open, fs...) {
			if strings.HasPrefix(f.Type, "apk.") && !slices.Contains(types, f.Type) {
				types = append(types, f.Type)
			}
		}
		if err := s.sync(ctx, tx, ap, types, fs); err != nil {
			return err
		}
		_, err = s.evaluate(ctx, tx, a, id)
		return err
	})
	return ins, err
}

// inspectionFindings are the registry's findings of an APK report of app ap.
func inspectionFindings(ap App, rep *apk.Report) []Finding {
	var out []Finding
	seen := map[string]bool{}
	add := func(typ, subject, severity, evidence string) {
		subject = clipText(subject, 200)
		if seen[typ+"\x00"+subject] {
			return
		}
		seen[typ+"\x00"+subject] = true
		out = append(out, Finding{Type: typ, Subject: subject, Severity: severity, Evidence: clipText(evidence, 1000)})
	}
	for _, f := range rep.Findings {
		typ, ok := apkTypes[f.ID]
		if !ok {
			typ = "apk." + strings.ReplaceAll(f.ID, "-", "_")
		}
		add(typ, f.Evidence, f.Severity, f.Title+": "+f.Evidence)
	}
	if p := rep.Manifest.Package; p != "" && p != ap.Package {
		add(FindingAPKPackage, p, "high", fmt.Sprintf("the APK is package %s, the app is filed as %s", p, ap.Package))
	}
	official := map[string]bool{}
	for _, v := range ap.Versions {
		for _, f := range v.Signers {
			official[f] = true
		}
	}
	for _, sg := range rep.Signature.Signers {
		if !official[strings.ToLower(sg.SHA256)] {
			add(FindingAPKUnfiledSigner, sg.SHA256, "critical",
				fmt.Sprintf("the APK is signed by certificate SHA-256 %s (%s), which no official version names", sg.SHA256, sg.Subject))
		}
	}
	return out
}

func clipText(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// Inspections lists the inspections of app id, newest first.
func (s *Service) Inspections(ctx context.Context, a actor.Actor, id int64) ([]Inspection, error) {
	if _, err := s.get(ctx, s.db, a, id); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, app_id, file_name, sha256, package, version, verified, report, inspected_by,
		inspected_at FROM app_inspections WHERE app_id = ? ORDER BY id DESC`, id)
	if err != nil {
		return nil, fmt.Errorf("appreg: inspections: %w", err)
	}
	defer rows.Close()
	out := []Inspection{}
	for rows.Next() {
		var in Inspection
		var report string
		var at store.Time
		if err := rows.Scan(&in.ID, &in.AppID, &in.FileName, &in.SHA256, &in.Package, &in.Version, &in.Verified, &report,
			&in.InspectedBy, &at); err != nil {
			return nil, fmt.Errorf("appreg: inspections: %w", err)
		}
		in.Report, in.InspectedAt = json.RawMessage(report), at.Time
		out = append(out, in)
	}
	return out, rows.Err()
}
