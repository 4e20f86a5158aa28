// Package apk inspects Android application packages (APKs) before a hospital publishes
// or admits an internet-hospital app: it verifies the APK's signatures as Android does
// (APK Signature Scheme v3.1, v3 and v2 over the ZIP sections, and the v1 JAR
// signature), reports the signing certificates (SHA-256 and the MD5 the MIIT filing
// asks for), reads the binary AndroidManifest.xml, and raises findings: debuggable or
// test-only builds, backups, cleartext traffic, exported components without a
// permission, permissions an online-consultation app does not need, weak signatures.
//
// Inspect takes the bytes of an untrusted file: every structure is bounds-checked, and a
// file that is not an APK is an error (ErrNotAPK, ErrMalformed), never a panic.
package apk

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"

	"github.com/emmansun/gmsm/sm3"
)

// Signature scheme names, as reported in Signature.Schemes.
const (
	SchemeV31 = "v3.1"
	SchemeV3  = "v3"
	SchemeV2  = "v2"
	SchemeV1  = "v1"
)

// Report is the result of inspecting one APK. Its JSON form is a contract read by other
// tools: the names of its fields do not change.
type Report struct {
	File      FileInfo  `json:"file"`
	Signature Signature `json:"signature"`
	Manifest  Manifest  `json:"manifest"`
	Findings  []Finding `json:"findings"`
}

// FileInfo identifies the inspected file.
type FileInfo struct {
	Name   string `json:"name,omitempty"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	SM3    string `json:"sm3"`
}

// Signature is what the signature verification found.
type Signature struct {
	// Verified: Android would accept the APK's signatures (every scheme present
	// verifies, stripping protections hold; see Inspect).
	Verified bool `json:"verified"`
	// Schemes are the schemes present and verified, strongest first: "v3.1", "v3",
	// "v2", "v1".
	Schemes []string `json:"schemes"`
	// Present are the schemes the APK carries, verified or not.
	Present []string `json:"present"`
	// Failures say why a scheme, or the whole, did not verify.
	Failures []SchemeFailure `json:"failures"`
	// Signers are the signing certificates of the schemes that verified, those of the
	// strongest scheme first.
	Signers []Signer `json:"signers"`
	// Lineage is the signing certificate lineage of a v3/v3.1 signer that rotated its
	// key (proof-of-rotation, verified): the certificates' SHA-256, oldest first.
	Lineage []string `json:"lineage,omitempty"`
}

// SchemeFailure is one reason verification failed. Scheme is "v3.1", "v3", "v2", "v1"
// or "apk" (about the whole, such as an unsigned APK).
type SchemeFailure struct {
	Scheme string `json:"scheme"`
	Reason string `json:"reason"`
}

// Signer is one signing certificate.
type Signer struct {
	SHA256 string `json:"sha256"`
	MD5    string `json:"md5"`
	SHA1   string `json:"sha1"`
	// Schemes whose signature this certificate made.
	Schemes            []string `json:"schemes"`
	Subject            string   `json:"subject"`
	Issuer             string   `json:"issuer"`
	Serial             string   `json:"serial"`
	NotBefore          string   `json:"not_before"`
	NotAfter           string   `json:"not_after"`
	KeyAlgorithm       string   `json:"key_algorithm"`
	KeySize            int      `json:"key_size"`
	SignatureAlgorithm string   `json:"signature_algorithm"`
	// SchemeAlgorithms is the signature algorithm of each scheme: "v1: MD5withRSA".
	SchemeAlgorithms []string `json:"scheme_algorithms"`
	// CertificateSignatureAlgorithm is the algorithm the certificate itself is signed with.
	CertificateSignatureAlgorithm string `json:"certificate_signature_algorithm"`
	// MinSDK and MaxSDK bound the platform versions a v3/v3.1 signer applies to.
	MinSDK int `json:"min_sdk,omitempty"`
	MaxSDK int `json:"max_sdk,omitempty"`

	cert *x509.Certificate
}

// InspectFile inspects the APK at path.
func InspectFile(path string) (*Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("apk: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("apk: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("apk: %s is not a regular file", path)
	}
	rep, err := Inspect(f, st.Size())
	if rep != nil {
		rep.File.Name = st.Name()
	}
	return rep, err
}

// Inspect verifies the signatures of the APK r of size bytes, reads its manifest and
// raises its findings. It returns an error wrapping ErrNotAPK or ErrMalformed when the
// input is not an APK Android would read; a signature that does not verify is not an
// error but a report with Signature.Verified false and the reasons.
//
// Signatures are judged as a device of Android 7.0 or later does, conservatively: each
// scheme present (v3.1, v3, v2, v1) must verify; v1 may fail without consequence only
// when the app's minSdk is 24 or above (Android ignores v1 there) and a newer scheme
// verified; a v1 signature present is checked as the app's minSdk requires (before 7.0
// Android takes the first SignerInfo of a block). An APK without v1 is not failed for
// devices older than 7.0 (apksig's default range check does fail it). An app targeting
// SDK 30 or a sandbox version of 2 needs v2 or newer. The
// stripping protections hold: a v2 signer that says the APK is also v3 signed needs a v3
// block, a v1 signature whose X-Android-APK-Signed names v2 or v3 needs those blocks, a v3
// signer with a rotation-min-sdk attribute needs the v3.1 block it points to, and a v3.1
// block needs a v3 block. Two blocks of one scheme are rejected.
func Inspect(r io.ReaderAt, size int64) (*Report, error) {
	if size < 0 {
		return nil, fmt.Errorf("%w: negative size", ErrNotAPK)
	}
	rep := &Report{Findings: []Finding{}}
	if err := hashFile(r, size, &rep.File); err != nil {
		return nil, err
	}
	a, err := openArchive(r, size)
	if err != nil {
		return nil, err
	}
	if _, ok := a.files["AndroidManifest.xml"]; !ok {
		return nil, fmt.Errorf("%w: no AndroidManifest.xml", ErrNotAPK)
	}
	rep.Manifest = readManifest(a)
	rep.Signature = verify(r, a, rep.Manifest)
	rep.Findings = findings(rep)
	return rep, nil
}

func hashFile(r io.ReaderAt, size int64, fi *FileInfo) error {
	h256, hsm3 := sha256.New(), sm3.New()
	if _, err := io.Copy(io.MultiWriter(h256, hsm3), io.NewSectionReader(r, 0, size)); err != nil {
		return fmt.Errorf("apk: read: %w", err)
	}
	fi.Size = size
	fi.SHA256 = hex.EncodeToString(h256.Sum(nil))
	fi.SM3 = hex.EncodeToString(hsm3.Sum(nil))
	return nil
}

// verify runs every scheme present and combines the results.
func verify(r io.ReaderAt, a *archive, m Manifest) Signature {
	sig := Signature{Schemes: []string{}, Present: []string{}, Failures: []SchemeFailure{}, Signers: []Signer{}}
	var results []*schemeResult
	block, err := findSigningBlock(r, a.layout)
	switch {
	case errors.Is(err, errNoSigningBlock):
		block = nil
	case err != nil:
		// A signing block is there but cannot be read (or holds two blocks of a scheme):
		// Android refuses the APK whatever else it carries.
		sig.Failures = append(sig.Failures, SchemeFailure{"apk", err.Error()})
		block = nil
	}
	if block != nil && a.layout.cdOffset+a.layout.cdSize != a.layout.eocdOffset {
		// Android looks for the APK Signing Block only when the central directory runs
		// up to the EOCD: bytes between the two (not covered by the v2/v3 digests) make it
		// ignore the block, and the APK then stands on its v1 signature alone.
		sig.Failures = append(sig.Failures, SchemeFailure{"apk", fmt.Sprintf(
			"%d bytes between the central directory and the EOCD: Android ignores the APK Signing Block",
			a.layout.eocdOffset-a.layout.cdOffset-a.layout.cdSize)})
		block = nil
	}
	if block != nil {
		digests := &digestCache{r: r, l: a.layout, offset: block.offset, sums: map[digestAlg][]byte{}, errs: map[digestAlg]error{}}
		for _, s := range []struct {
			name string
			id   uint32
		}{{SchemeV31, blockIDv31}, {SchemeV3, blockIDv3}, {SchemeV2, blockIDv2}} {
			if v, ok := block.pairs[s.id]; ok {
				results = append(results, verifyV2V3(s.name, v, digests))
			}
		}
	}
	if a.v1Present() {
		results = append(results, verifyV1(a, m.MinSDK))
	}
	byScheme := map[string]*schemeResult{}
	for _, res := range results {
		byScheme[res.scheme] = res
		sig.Present = append(sig.Present, res.scheme)
	}
	crossChecks(byScheme)
	checkSDKRanges(byScheme, m.MinSDK)

	if len(results) == 0 && len(sig.Failures) == 0 {
		sig.Failures = append(sig.Failures, SchemeFailure{"apk", "the APK is not signed"})
	}
	newest := false // a v2 or newer scheme verified
	for _, res := range results {
		if res.err == nil && res.scheme != SchemeV1 {
			newest = true
		}
	}
	failed := len(sig.Failures) > 0
	for _, res := range results {
		if res.err == nil {
			sig.Schemes = append(sig.Schemes, res.scheme)
			continue
		}
		reason := res.err.Error()
		if res.scheme == SchemeV1 && newest && m.MinSDK >= 24 {
			reason += " (ignored: Android 7.0 and later, all this app's minSdk allows, use the newer scheme)"
		} else {
			failed = true
		}
		sig.Failures = append(sig.Failures, SchemeFailure{res.scheme, reason})
	}
	// What Android requires of the app beyond its signatures verifying.
	if len(sig.Schemes) > 0 && !slices.ContainsFunc(sig.Schemes, func(s string) bool { return s != SchemeV1 }) {
		switch {
		case m.TargetSDK >= 30:
			sig.Failures = append(sig.Failures, SchemeFailure{"apk", fmt.Sprintf(
				"targetSdk %d: Android 11 and later require APK Signature Scheme v2 or newer, the APK has v1 only", m.TargetSDK)})
			failed = true
		case m.TargetSandboxVersion >= 2:
			sig.Failures = append(sig.Failures, SchemeFailure{"apk", fmt.Sprintf(
				"targetSandboxVersion %d requires APK Signature Scheme v2 or newer, the APK has v1 only", m.TargetSandboxVersion)})
			failed = true
		}
	}
	sig.Verified = !failed && len(sig.Schemes) > 0
	// Signers and lineage come from the schemes that verified only.
	for _, res := range results {
		if res.err != nil {
			continue
		}
		if len(res.lineage) > len(sig.Lineage) {
			sig.Lineage = res.lineage
		}
		for _, s := range res.signers {
			addSigner(&sig, res.scheme, s)
		}
	}
	return sig
}

// crossChecks applies the protections between schemes, failing the scheme whose promise
// is broken.
func crossChecks(by map[string]*schemeResult) {
	v2, v3, v31, v1 := by[SchemeV2], by[SchemeV3], by[SchemeV31], by[SchemeV1]
	if v2 != nil && v2.err == nil && v3 == nil && slices.Contains(v2.strippingIDs, 3) {
		v2.err = errors.New("the v2 signature says the APK is also signed with APK Signature Scheme v3, but the v3 block is missing: it was stripped")
	}
	if v31 != nil && v3 == nil && v31.err == nil {
		v31.err = errors.New("a v3.1 block without a v3 block: Android rejects it")
	}
	if v3 != nil && v3.err == nil && v3.rotationMinSDK != 0 {
		switch {
		case v31 == nil:
			v3.err = fmt.Errorf("the v3 signer says key rotation applies from SDK %d, but the v3.1 block is missing: it was stripped", v3.rotationMinSDK)
		case v31.err == nil:
			lowest := 0
			for _, s := range v31.signers {
				if lowest == 0 || s.minSDK < lowest {
					lowest = s.minSDK
				}
			}
			if lowest != int(v3.rotationMinSDK) {
				v3.err = fmt.Errorf("the v3 signer says key rotation applies from SDK %d, the v3.1 signers from SDK %d", v3.rotationMinSDK, lowest)
			}
		}
	}
	if v1 != nil && v1.err == nil {
		for _, id := range v1.apkSigned {
			if (id == 2 && v2 == nil) || (id == 3 && v3 == nil) {
				v1.err = fmt.Errorf("the v1 signature says the APK is also signed with APK Signature Scheme v%d, but that block is missing: it was stripped", id)
				break
			}
		}
	}
}

// checkSDKRanges checks that the v3 (and v3.1) signers cover every platform version
// that verifies them, as Android needs one signer for the device's SDK: the v3 signers'
// ranges follow one another without a gap from SDK 28 (or the app's minSdk) up to the
// newest platform, or up to where the v3.1 signers take over.
func checkSDKRanges(by map[string]*schemeResult, appMinSDK int) {
	v3, v31 := by[SchemeV3], by[SchemeV31]
	top := math.MaxInt32
	if v31 != nil && len(v31.signers) > 0 {
		top = minSDK(v31.signers) - 1 // where v3.1 takes over, whether it verified or not
		if v31.err == nil {
			if err := contiguous(v31.signers); err != nil {
				v31.err = err
			} else if last := maxSDK(v31.signers); last < math.MaxInt32 {
				v31.err = fmt.Errorf("no v3.1 signer for SDK %d and later: those devices reject the APK", last+1)
			}
		}
	}
	if v3 == nil || v3.err != nil {
		return
	}
	if err := contiguous(v3.signers); err != nil {
		v3.err = err
		return
	}
	bottom := max(appMinSDK, 28) // Android 9, the first to verify v3
	if first := minSDK(v3.signers); first > bottom {
		v3.err = fmt.Errorf("no v3 signer for SDK %d to %d: those devices reject the APK", bottom, first-1)
	} else if last := maxSDK(v3.signers); last < top {
		v3.err = fmt.Errorf("no v3 signer for SDK %d to %d: those devices reject the APK", last+1, top)
	}
}

// contiguous checks that signers' SDK ranges, sorted, leave no gap.
func contiguous(signers []signerResult) error {
	s := slices.Clone(signers)
	slices.SortFunc(s, func(a, b signerResult) int { return a.minSDK - b.minSDK })
	for i := 1; i < len(s); i++ {
		if s[i].minSDK > s[i-1].maxSDK+1 {
			return fmt.Errorf("no signer for SDK %d to %d between the signers' ranges", s[i-1].maxSDK+1, s[i].minSDK-1)
		}
	}
	return nil
}

func minSDK(signers []signerResult) int {
	m := math.MaxInt32
	for _, s := range signers {
		m = min(m, s.minSDK)
	}
	return m
}

func maxSDK(signers []signerResult) int {
	m := 0
	for _, s := range signers {
		m = max(m, s.maxSDK)
	}
	return m
}

func addSigner(sig *Signature, scheme string, s signerResult) {
	if s.cert == nil {
		return
	}
	sum := sha256.Sum256(s.cert.Raw)
	id := hex.EncodeToString(sum[:])
	for i := range sig.Signers {
		if sig.Signers[i].SHA256 == id {
			if !slices.Contains(sig.Signers[i].Schemes, scheme) {
				sig.Signers[i].Schemes = append(sig.Signers[i].Schemes, scheme)
				sig.Signers[i].SchemeAlgorithms = append(sig.Signers[i].SchemeAlgorithms, scheme+": "+s.alg)
			}
			return
		}
	}
	m := md5.Sum(s.cert.Raw)
	kalg, bits := keyAlgorithm(s.cert.PublicKey)
	sig.Signers = append(sig.Signers, Signer{
		SHA256:                        id,
		MD5:                           hex.EncodeToString(m[:]),
		SHA1:                          sha1Hex(s.cert.Raw),
		Schemes:                       []string{scheme},
		Subject:                       s.cert.Subject.String(),
		Issuer:                        s.cert.Issuer.String(),
		Serial:                        s.cert.SerialNumber.String(),
		NotBefore:                     s.cert.NotBefore.UTC().Format("2006-01-02T15:04:05Z"),
		NotAfter:                      s.cert.NotAfter.UTC().Format("2006-01-02T15:04:05Z"),
		KeyAlgorithm:                  kalg,
		KeySize:                       bits,
		SignatureAlgorithm:            s.alg,
		SchemeAlgorithms:              []string{scheme + ": " + s.alg},
		CertificateSignatureAlgorithm: s.cert.SignatureAlgorithm.String(),
		MinSDK:                        s.minSDK,
		MaxSDK:                        s.maxSDK,
		cert:                          s.cert,
	})
}

// HasScheme reports whether the scheme verified.
func (s Signature) HasScheme(scheme string) bool { return slices.Contains(s.Schemes, scheme) }

func joinOr(s []string, empty string) string {
	if len(s) == 0 {
		return empty
	}
	return strings.Join(s, ", ")
}

func sha1Hex(b []byte) string {
	s := sha1.Sum(b)
	return hex.EncodeToString(s[:])
}
