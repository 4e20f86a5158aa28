package delivery

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/i18n"
)

// Trust holds what a hospital registered for a vendor: the SHA-256 fingerprints (see
// Fingerprint) of the vendor's signing certificates (of their DER) or Ed25519 public keys
// (of the raw 32 bytes). Hex case, colons and spaces do not matter. Empty means nothing
// is registered, so no signature can be trusted.
type Trust struct {
	Fingerprints []string
}

// VerifyOptions tune Verify.
type VerifyOptions struct {
	// RequireSignature fails a delivery whose signature is absent, untrusted or expired.
	// An invalid signature fails a delivery whether or not one is required.
	RequireSignature bool
	// Now is the verification time; zero means time.Now().
	Now time.Time
	// Ignore lists received names not to report as unexpected, such as the manifest file
	// itself when it travels inside the delivery.
	Ignore []string
}

// Artifact check outcomes (ArtifactResult.Status).
const (
	ArtifactOK             = "ok"
	ArtifactMissing        = "missing"
	ArtifactSizeMismatch   = "size_mismatch"
	ArtifactDigestMismatch = "digest_mismatch"
)

// Signature check outcomes (SignatureResult.Status).
const (
	SignatureValid     = "valid"
	SignatureInvalid   = "invalid"   // the mathematics fail: the manifest changed after signing
	SignatureAbsent    = "absent"    // the manifest is not signed
	SignatureUntrusted = "untrusted" // sound mathematics, but the signer is not registered
	SignatureExpired   = "expired"   // registered signer, certificate not valid at delivered_at or now
)

// Digest names as used in ArtifactResult.Mismatched.
const (
	DigestSHA256 = "SHA-256"
	DigestSM3    = "SM3"
)

// Report is the outcome of checking received files against a manifest.
type Report struct {
	// OK is true when every artifact is present and matches, no unexpected file was
	// received and the signature passes: valid, or (when no signature is required)
	// anything but invalid. OK is true exactly when Problems is empty.
	OK                bool             `json:"ok"`
	SignatureRequired bool             `json:"signature_required"`
	Signature         SignatureResult  `json:"signature"`
	Artifacts         []ArtifactResult `json:"artifacts"`  // in name order
	Unexpected        []string         `json:"unexpected"` // received but not listed, in name order
	Warnings          []string         `json:"warnings"`
}

// SignatureResult is the outcome of checking a manifest's signature.
type SignatureResult struct {
	Status      string `json:"status"`
	Algorithm   string `json:"algorithm,omitempty"`
	Signer      string `json:"signer,omitempty"`      // certificate subject CN (O), or the Ed25519 key
	Fingerprint string `json:"fingerprint,omitempty"` // SHA-256 hex of the certificate DER or raw key
	Detail      string `json:"detail,omitempty"`
}

// ArtifactResult is the outcome of checking one listed artifact.
type ArtifactResult struct {
	Name       string   `json:"name"`
	Status     string   `json:"status"`
	Expected   Digests  `json:"expected"`
	Actual     Digests  `json:"actual"`               // zero when missing
	Mismatched []string `json:"mismatched,omitempty"` // DigestSHA256 and/or DigestSM3
	Detail     string   `json:"detail,omitempty"`
}

// Verify checks received files (as from FilesFromPaths) against m: each listed artifact
// must be received with the declared size and digests, nothing else may be received, and
// the signature, if any, must verify and come from a signer registered in trust. Each
// file is read once, streaming. Mismatches are reported, not returned as errors; a
// received name no manifest could list (say, with a newline) is simply unexpected. The
// error is for a manifest or file list that cannot be checked (invalid manifest, empty
// or repeated names, no opener) and for reading failures, including ctx being done.
func Verify(ctx context.Context, m *Manifest, received []File, trust Trust, opt VerifyOptions) (Report, error) {
	if m == nil {
		return Report{}, errors.New("delivery: verify: no manifest")
	}
	if err := m.validate(); err != nil {
		return Report{}, err
	}
	if err := checkFiles("received", received, false); err != nil {
		return Report{}, err
	}
	now := opt.Now
	if now.IsZero() {
		now = time.Now()
	}
	rep := Report{
		SignatureRequired: opt.RequireSignature,
		Artifacts:         make([]ArtifactResult, 0, len(m.Artifacts)),
		Unexpected:        []string{},
		Warnings:          []string{},
	}
	warn := func(format string, args ...any) { rep.Warnings = append(rep.Warnings, fmt.Sprintf(format, args...)) }

	rep.Signature = checkSignature(m, trust, now, warn)
	switch s := rep.Signature; {
	case s.Status == SignatureAbsent && !opt.RequireSignature:
		warn("the manifest is not signed: the files match it, but nothing shows who made it")
	case (s.Status == SignatureUntrusted || s.Status == SignatureExpired) && !opt.RequireSignature:
		warn("signature %s (%s); accepted only because no signature is required", s.Status, s.Detail)
	}
	if m.DeliveredAt.After(now) {
		warn("delivered_at %s is later than the verification time %s", formatTime(m.DeliveredAt), formatTime(now))
	}

	byName := make(map[string]File, len(received))
	for _, f := range received {
		byName[f.Name] = f
	}
	listed := make(map[string]bool, len(m.Artifacts))
	buf := make([]byte, copyBufferSize)
	for _, a := range sortedArtifacts(m.Artifacts) {
		listed[a.Name] = true
		switch {
		case a.SM3 == "":
			warn("artifact %q declares no SM3 digest; only SHA-256 was checked", a.Name)
		case a.SHA256 == "":
			warn("artifact %q declares no SHA-256 digest; only SM3 was checked", a.Name)
		}
		res := ArtifactResult{Name: a.Name, Expected: Digests{SHA256: a.SHA256, SM3: a.SM3, Size: a.Size}}
		f, ok := byName[a.Name]
		if !ok {
			res.Status, res.Detail = ArtifactMissing, "not among the files received"
			rep.Artifacts = append(rep.Artifacts, res)
			continue
		}
		if err := ctx.Err(); err != nil {
			return Report{}, fmt.Errorf("delivery: verify: %w", err)
		}
		d, err := digestFile(ctx, f, buf)
		if err != nil {
			return Report{}, err
		}
		res.Actual = d
		compare(&res)
		rep.Artifacts = append(rep.Artifacts, res)
	}
	for _, f := range received {
		if !listed[f.Name] && !slices.Contains(opt.Ignore, f.Name) {
			rep.Unexpected = append(rep.Unexpected, f.Name)
		}
	}
	slices.Sort(rep.Unexpected)
	rep.OK = len(rep.Problems()) == 0
	return rep, nil
}

// compare sets the status of an artifact that was received and digested.
func compare(res *ArtifactResult) {
	exp, act := res.Expected, res.Actual
	if exp.SHA256 != "" && exp.SHA256 != act.SHA256 {
		res.Mismatched = append(res.Mismatched, DigestSHA256)
	}
	if exp.SM3 != "" && exp.SM3 != act.SM3 {
		res.Mismatched = append(res.Mismatched, DigestSM3)
	}
	var digests string
	switch len(res.Mismatched) {
	case 1:
		digests = res.Mismatched[0] + " digest does not match"
	case 2:
		digests = "SHA-256 and SM3 digests do not match"
	}
	switch {
	case exp.Size != act.Size:
		res.Status = ArtifactSizeMismatch
		res.Detail = fmt.Sprintf("size is %d bytes, the manifest declares %d", act.Size, exp.Size)
		if digests != "" {
			res.Detail += "; " + digests
		}
	case digests != "":
		res.Status, res.Detail = ArtifactDigestMismatch, digests
	default:
		res.Status = ArtifactOK
	}
}

// checkSignature checks m's signature against trust at delivered_at and now.
func checkSignature(m *Manifest, trust Trust, now time.Time, warn func(string, ...any)) SignatureResult {
	if m.Signature == nil {
		return SignatureResult{Status: SignatureAbsent, Detail: "the manifest carries no signature"}
	}
	k, err := m.Signature.signer()
	if err != nil { // not reached after validate, kept for safety
		return SignatureResult{Status: SignatureInvalid, Algorithm: m.Signature.Algorithm, Detail: err.Error()}
	}
	res := SignatureResult{Algorithm: k.alg, Signer: k.signerName(), Fingerprint: k.fingerprint}
	if !k.verify(m.Canonical()) {
		res.Status = SignatureInvalid
		res.Detail = "the signature does not match the manifest: the manifest was changed after signing, or the signature was made with another key"
		return res
	}
	registered := map[string]bool{}
	for i, fp := range trust.Fingerprints {
		n, ok := normalFingerprint(fp)
		if !ok {
			warn("registered fingerprint %d (%q) is not a SHA-256 hex fingerprint; ignored", i+1, fp)
			continue
		}
		registered[n] = true
	}
	var expiry string
	if c := k.cert; c != nil {
		span := fmt.Sprintf("the certificate is valid from %s to %s", formatTime(c.NotBefore), formatTime(c.NotAfter))
		outside := func(t time.Time) bool { return t.Before(c.NotBefore) || t.After(c.NotAfter) }
		switch {
		case outside(m.DeliveredAt):
			expiry = span + ", which does not cover delivered_at " + formatTime(m.DeliveredAt)
		case outside(now):
			expiry = span + ", which does not cover the verification time " + formatTime(now)
		}
	}
	switch {
	case !registered[k.fingerprint]:
		res.Status = SignatureUntrusted
		if len(registered) == 0 {
			res.Detail = "no certificate or key is registered for this vendor"
		} else {
			res.Detail = fmt.Sprintf("the signer's fingerprint is not among the %d registered for this vendor", len(registered))
		}
		if expiry != "" {
			res.Detail += "; besides, " + expiry
		}
	case expiry != "":
		res.Status, res.Detail = SignatureExpired, expiry
	default:
		res.Status = SignatureValid
	}
	return res
}

// Problems lists in English what failed, one sentence each; it is empty exactly when the
// delivery passes.
func (r Report) Problems() []string {
	var out []string
	if len(r.Artifacts) == 0 {
		out = append(out, "no artifact was checked")
	}
	for _, a := range r.Artifacts {
		switch a.Status {
		case ArtifactOK:
		case ArtifactMissing:
			out = append(out, fmt.Sprintf("artifact %q is missing", a.Name))
		default:
			detail := a.Detail
			if detail == "" {
				detail = strings.ReplaceAll(a.Status, "_", " ")
			}
			out = append(out, fmt.Sprintf("artifact %q: %s", a.Name, detail))
		}
	}
	for _, name := range r.Unexpected {
		out = append(out, fmt.Sprintf("unexpected file %q: not listed in the manifest", name))
	}
	s := r.Signature
	switch {
	case s.Status == SignatureInvalid:
		out = append(out, "signature invalid: "+s.Detail)
	case s.Status == SignatureValid || !r.SignatureRequired:
	case s.Status == SignatureAbsent:
		out = append(out, "the manifest is not signed, and a signature is required")
	case s.Status == SignatureUntrusted:
		out = append(out, fmt.Sprintf("signer %s is not registered: %s", s.Signer, s.Detail))
	case s.Status == SignatureExpired:
		out = append(out, fmt.Sprintf("signer %s: certificate expired: %s", s.Signer, s.Detail))
	default:
		out = append(out, fmt.Sprintf("signature %s, and a signature is required", s.Status))
	}
	return out
}

// ProblemMessages says what Problems says, one catalogue message per problem in the same
// order, built from the report's structured outcome (statuses, sizes, which digests
// differ, the signer) so that pages show it in the reader's language. The keys live in
// the supply catalogue (supply.delivery.problem.*).
func (r Report) ProblemMessages() []i18n.Message {
	var out []i18n.Message
	if len(r.Artifacts) == 0 {
		out = append(out, i18n.M("supply.delivery.problem.none_checked"))
	}
	for _, a := range r.Artifacts {
		switch a.Status {
		case ArtifactOK:
		case ArtifactMissing:
			out = append(out, i18n.M("supply.delivery.problem.missing", a.Name))
		case ArtifactSizeMismatch:
			m := i18n.M("supply.delivery.problem.size", a.Name, a.Actual.Size, a.Expected.Size)
			if d, ok := digestsMsg(a.Mismatched); ok {
				m = i18n.M("supply.delivery.problem.size_digests", a.Name, a.Actual.Size, a.Expected.Size, d)
			}
			out = append(out, m)
		case ArtifactDigestMismatch:
			d, _ := digestsMsg(a.Mismatched)
			out = append(out, i18n.M("supply.delivery.problem.digests", a.Name, d))
		default:
			out = append(out, i18n.M("supply.delivery.problem.artifact", a.Name, a.Status))
		}
	}
	for _, name := range r.Unexpected {
		out = append(out, i18n.M("supply.delivery.problem.unexpected", name))
	}
	s := r.Signature
	switch {
	case s.Status == SignatureInvalid:
		out = append(out, i18n.M("supply.delivery.problem.sig_invalid"))
	case s.Status == SignatureValid || !r.SignatureRequired:
	case s.Status == SignatureAbsent:
		out = append(out, i18n.M("supply.delivery.problem.sig_absent"))
	case s.Status == SignatureUntrusted:
		out = append(out, i18n.M("supply.delivery.problem.sig_untrusted", s.Signer))
	case s.Status == SignatureExpired:
		out = append(out, i18n.M("supply.delivery.problem.sig_expired", s.Signer))
	default:
		out = append(out, i18n.M("supply.delivery.problem.sig_required", i18n.M("supply.signature."+s.Status)))
	}
	return out
}

// digestsMsg names the mismatched digests as a message ("SHA-256 and SM3 digests do not
// match"); false when none differs.
func digestsMsg(mismatched []string) (i18n.Message, bool) {
	switch len(mismatched) {
	case 0:
		return i18n.Message{}, false
	case 1:
		return i18n.M("supply.delivery.problem.digest_one", mismatched[0]), true
	default:
		return i18n.M("supply.delivery.problem.digest_both"), true
	}
}
