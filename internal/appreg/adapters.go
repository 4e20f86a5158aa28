package appreg

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/appscore"
	"github.com/medguard/medguard/internal/authcode"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/notify"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/supply"
)

// SignedCodes issues codes with one signer and verifies them against a key ring that
// holds the signer's public key and the keys it replaced, so that codes signed before a
// key rotation verify until they expire.
type SignedCodes struct {
	Signer *authcode.Signer
	Ring   *authcode.KeyRing
}

// NewSignedCodes returns SignedCodes for signer; previous are the public keys of earlier
// signers whose codes are still honoured.
func NewSignedCodes(signer *authcode.Signer, previous ...*authcode.PublicKey) (*SignedCodes, error) {
	ring, err := authcode.NewKeyRing(append([]*authcode.PublicKey{signer.Public()}, previous...)...)
	if err != nil {
		return nil, fmt.Errorf("appreg: key ring: %w", err)
	}
	return &SignedCodes{Signer: signer, Ring: ring}, nil
}

// Issue implements Codes.
func (c *SignedCodes) Issue(cl CodeClaims) (string, string, string, error) {
	code, err := authcode.Issue(c.Signer, authcode.Claims{ID: cl.ID, AppID: strconv.FormatInt(cl.AppID, 10), OrgID: cl.HospitalID,
		HospitalName: cl.Hospital, IssuedAt: cl.IssuedAt, ExpiresAt: cl.ExpiresAt})
	if err != nil {
		return "", "", "", err
	}
	pub := c.Signer.Public()
	return code, pub.ID(), string(pub.Algorithm()), nil
}

// Verify implements Codes: the reason of a failure is one of authcode's sentinel errors.
func (c *SignedCodes) Verify(code string, now time.Time) (CodeClaims, error) {
	cl, err := authcode.Verify(code, c.Ring, now)
	if err != nil {
		return CodeClaims{}, verifyReason(err)
	}
	id, err := strconv.ParseInt(cl.AppID, 10, 64)
	if err != nil {
		return CodeClaims{}, errors.New("malformed: the app id is not this registry's")
	}
	return CodeClaims{ID: cl.ID, AppID: id, HospitalID: cl.OrgID, Hospital: cl.HospitalName, IssuedAt: cl.IssuedAt,
		ExpiresAt: cl.ExpiresAt}, nil
}

// verifyReason says why a code does not verify in a few words, without echoing it.
func verifyReason(err error) error {
	for _, r := range []struct {
		err error
		why string
	}{{authcode.ErrExpired, "expired"}, {authcode.ErrNotYetValid, "not yet valid"}, {authcode.ErrUnknownKey, "unknown key"},
		{authcode.ErrSignature, "signature"}, {authcode.ErrUnknownAlgorithm, "unknown algorithm"}} {
		if errors.Is(err, r.err) {
			return errors.New(r.why)
		}
	}
	return errors.New("malformed")
}

// ModelScorer scores with an appscore model.
type ModelScorer struct {
	Model appscore.Model
}

// Evaluate implements Scorer: grade B orders rectification within the model's days,
// grade C proposes eviction; Details is appscore's Result, every point lost.
func (m ModelScorer) Evaluate(open []Finding) Evaluation {
	fs := make([]appscore.Finding, len(open))
	for i, f := range open {
		fs[i] = appscore.Finding{Type: f.Type, Severity: appscore.Severity(f.Severity), Ref: strconv.FormatInt(f.ID, 10), Title: f.Evidence}
	}
	res := appscore.Evaluate(fs, m.Model)
	return Evaluation{Score: res.Score, Grade: string(res.Grade), Details: res, Rectify: res.Grade == appscore.GradeB,
		RectifyDays: res.RectificationDays, Evict: res.Grade == appscore.GradeC}
}

// SupplyVulns gives the open vulnerabilities of the supply chain's software versions.
type SupplyVulns struct {
	Supply *supply.Service
}

// OpenVulns implements VulnSource: the open findings (not fixed, not accepted, not a
// false positive) of version versionID as the hospital at orgPath sees them.
func (v SupplyVulns) OpenVulns(ctx context.Context, orgPath string, versionID int64) ([]Vuln, error) {
	a := actor.Actor{Username: "apps", OrgPath: orgPath}
	var out []Vuln
	for offset := 0; ; {
		page, err := v.Supply.Findings(ctx, a, supply.FindingQuery{VersionID: versionID, State: supply.StateOpen, Limit: 500, Offset: offset})
		if err != nil {
			return nil, fmt.Errorf("appreg: vulnerabilities of version %d: %w", versionID, err)
		}
		for _, f := range page.Items {
			out = append(out, Vuln{ID: f.VulnID, Package: f.Package + "@" + f.PkgVersion, Severity: f.Severity})
		}
		offset += len(page.Items)
		if len(page.Items) == 0 || offset >= page.Total || offset >= 5000 {
			return out, nil
		}
	}
}

// MailContacts notifies an app's registered contacts by e-mail through the notification
// outbox: the hospital's nearest SMTP channel, with the contacts as its recipients.
type MailContacts struct{ Notify *notify.Service }

// NotifyContacts implements ContactNotifier.
func (m MailContacts) NotifyContacts(ctx context.Context, tx *store.Tx, al alert.Alert, title i18n.Message, emails []string) (string, error) {
	return m.Notify.EnqueueDirect(ctx, tx, notify.Event{AlertID: al.ID, OrgID: al.OrgID, Source: al.Source, Kind: al.Kind,
		Severity: al.Severity, Title: title, Subject: al.Subject, Created: true, FirstSeen: al.FirstSeen, LastSeen: al.LastSeen,
		Count: int(al.Count)}, emails)
}

// MailChannel implements ContactNotifier.
func (m MailContacts) MailChannel(ctx context.Context, tx *store.Tx, orgID int64) (string, error) {
	return m.Notify.MailChannel(ctx, tx, orgID)
}
