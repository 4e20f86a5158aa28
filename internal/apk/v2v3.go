package apk

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"slices"
)

// Additional attributes of v2/v3 signed data that inspection acts on.
const (
	attrStrippingProtection = 0xbeeff00d // v2: the APK is also signed with the scheme named
	attrProofOfRotation     = 0x3ba06f8c // v3: signing certificate lineage
	attrRotationMinSDK      = 0x559f8b02 // v3: rotation applies from this SDK (v3.1 block)
	attrRotationOnDev       = 0xc2a6b3ba // v3.1: rotation targets a development release
)

// maxSigners is the most signers Android accepts in one v1 signature or v2 block.
const maxSigners = 10

// schemeResult is what one signature scheme found.
type schemeResult struct {
	scheme  string
	err     error // nil: verified
	signers []signerResult
	// v2: the stripping-protection attribute named these scheme ids (3 = v3).
	strippingIDs []uint32
	// v3: the rotation-min-sdk attribute (0 when absent).
	rotationMinSDK uint32
	// lineage: the SHA-256 of the certificates of a verified proof-of-rotation, oldest first.
	lineage []string
	// v1: X-Android-APK-Signed of the .SF files named these schemes.
	apkSigned []int
}

// signerResult is one verified (or at least parsed) signer.
type signerResult struct {
	cert   *x509.Certificate
	alg    string
	minSDK int // v3/v3.1
	maxSDK int
}

// digestCache computes each content digest once per APK.
type digestCache struct {
	r      io.ReaderAt
	l      *layout
	offset int64
	sums   map[digestAlg][]byte
	errs   map[digestAlg]error
}

func (c *digestCache) get(a digestAlg) ([]byte, error) {
	if s, ok := c.sums[a]; ok {
		return s, c.errs[a]
	}
	var s []byte
	var err error
	switch a {
	case digestChunkedSHA256:
		s, err = contentDigest(c.r, c.l, c.offset, crypto.SHA256)
	case digestChunkedSHA512:
		s, err = contentDigest(c.r, c.l, c.offset, crypto.SHA512)
	case digestVeritySHA256:
		s, err = verityDigest(c.r, c.l, c.offset)
	default:
		err = fmt.Errorf("unknown content digest %d", a)
	}
	c.sums[a], c.errs[a] = s, err
	return s, err
}

// verifyV2V3 verifies the v2, v3 or v3.1 block value. Every signer must verify: each of
// its supported signatures over its signed data, its certificate against its public key,
// the digests record against the signatures record, and the content digests against the
// APK.
func verifyV2V3(scheme string, value []byte, digests *digestCache) *schemeResult {
	res := &schemeResult{scheme: scheme}
	fail := func(format string, a ...any) *schemeResult {
		res.err = fmt.Errorf(format, a...)
		return res
	}
	outer := &lpReader{b: value, what: scheme + " block"}
	list, err := outer.prefixed("signers")
	if err != nil {
		return fail("%v", err)
	}
	n := 0
	for !list.empty() {
		n++
		if n > maxSigners {
			return fail("more than %d signers", maxSigners)
		}
		raw, err := list.prefixed(fmt.Sprintf("signer #%d", n))
		if err != nil {
			return fail("%v", err)
		}
		s, err := verifySigner(scheme, raw, digests, res)
		if err != nil {
			return fail("signer #%d: %v", n, err)
		}
		res.signers = append(res.signers, s)
	}
	if n == 0 {
		return fail("no signers")
	}
	return res
}

func verifySigner(scheme string, r *lpReader, digests *digestCache, res *schemeResult) (signerResult, error) {
	var s signerResult
	v3 := scheme != SchemeV2
	signedData, err := r.prefixed("signed data")
	if err != nil {
		return s, err
	}
	if v3 {
		a, err1 := r.uint32()
		b, err2 := r.uint32()
		if err := errors.Join(err1, err2); err != nil {
			return s, fmt.Errorf("min/max SDK: %w", err)
		}
		s.minSDK, s.maxSDK = int(a), int(b)
	}
	sigs, err := r.prefixed("signatures")
	if err != nil {
		return s, err
	}
	pubRaw, err := r.prefixed("public key")
	if err != nil {
		return s, err
	}
	pub, err := x509.ParsePKIXPublicKey(pubRaw.b)
	if err != nil {
		return s, fmt.Errorf("public key: %v", err)
	}

	// Signatures: those of known algorithms are verified, the others ignored.
	var sigIDs []uint32
	var verified []sigAlg
	for !sigs.empty() {
		one, err := sigs.prefixed("signature record")
		if err != nil {
			return s, err
		}
		id, err := one.uint32()
		if err != nil {
			return s, err
		}
		sig, err := one.prefixed("signature")
		if err != nil {
			return s, err
		}
		sigIDs = append(sigIDs, id)
		alg, ok := sigAlgs[id]
		if !ok {
			continue
		}
		if !keyMatches(pub, alg.key) {
			return s, fmt.Errorf("signature algorithm %s does not fit a %T public key", alg.name, pub)
		}
		if err := verifySignature(pub, alg.hash, alg.pss, signedData.b, sig.b); err != nil {
			return s, fmt.Errorf("%s over signed data: %v", alg.name, err)
		}
		verified = append(verified, alg)
	}
	if len(sigIDs) == 0 {
		return s, errors.New("no signatures")
	}
	if len(verified) == 0 {
		return s, errors.New("no supported signatures")
	}
	s.alg = best(verified).name

	// Signed data: digests, certificates, (v3: SDK range), additional attributes.
	sd := signedData
	dl, err := sd.prefixed("digests")
	if err != nil {
		return s, err
	}
	var digestIDs []uint32
	want := map[uint32][]byte{}
	for !dl.empty() {
		one, err := dl.prefixed("digest record")
		if err != nil {
			return s, err
		}
		id, err := one.uint32()
		if err != nil {
			return s, err
		}
		d, err := one.prefixed("digest")
		if err != nil {
			return s, err
		}
		digestIDs = append(digestIDs, id)
		want[id] = d.b
	}
	cl, err := sd.prefixed("certificates")
	if err != nil {
		return s, err
	}
	var certs [][]byte
	for !cl.empty() {
		c, err := cl.prefixed("certificate")
		if err != nil {
			return s, err
		}
		certs = append(certs, c.b)
	}
	if len(certs) == 0 {
		return s, errors.New("no certificates")
	}
	cert, err := parseCertificate(certs[0])
	if err != nil {
		return s, fmt.Errorf("certificate: %v", err)
	}
	if !bytes.Equal(cert.RawSubjectPublicKeyInfo, pubRaw.b) {
		return s, errors.New("public key does not match the certificate's")
	}
	s.cert = cert
	if v3 {
		a, err1 := sd.uint32()
		b, err2 := sd.uint32()
		if err := errors.Join(err1, err2); err != nil {
			return s, fmt.Errorf("signed min/max SDK: %w", err)
		}
		if int(a) != s.minSDK || int(b) != s.maxSDK {
			return s, fmt.Errorf("signed SDK range %d–%d differs from the unsigned %d–%d", a, b, s.minSDK, s.maxSDK)
		}
		if s.minSDK > s.maxSDK {
			return s, fmt.Errorf("min SDK %d above max SDK %d", s.minSDK, s.maxSDK)
		}
	}
	al, err := sd.prefixed("additional attributes")
	if err != nil {
		return s, err
	}
	for !al.empty() {
		one, err := al.prefixed("attribute")
		if err != nil {
			return s, err
		}
		id, err := one.uint32()
		if err != nil {
			return s, err
		}
		switch {
		case id == attrStrippingProtection && scheme == SchemeV2:
			v, err := one.uint32()
			if err != nil {
				return s, fmt.Errorf("stripping-protection attribute: %w", err)
			}
			res.strippingIDs = append(res.strippingIDs, v)
		case id == attrRotationMinSDK && scheme == SchemeV3:
			v, err := one.uint32()
			if err != nil {
				return s, fmt.Errorf("rotation-min-sdk attribute: %w", err)
			}
			res.rotationMinSDK = v
		case id == attrProofOfRotation && v3:
			l, err := verifyLineage(one.b, cert)
			if err != nil {
				return s, fmt.Errorf("proof-of-rotation: %w", err)
			}
			res.lineage = l
		}
	}

	// The digests record must list the algorithms of the signatures record, in order.
	if !slices.Equal(sigIDs, digestIDs) {
		return s, fmt.Errorf("signature algorithms %x differ from digest algorithms %x", sigIDs, digestIDs)
	}
	for _, alg := range verified {
		got, err := digests.get(alg.digest)
		if err != nil {
			return s, err
		}
		if !bytes.Equal(got, want[alg.id]) {
			return s, fmt.Errorf("APK content digest (%s) does not match the signed digest: the APK was modified after signing", digestName(alg.digest))
		}
	}
	return s, nil
}

// best is the strongest algorithm: SHA-512 content digests over SHA-256 ones, as Android
// prefers them.
func best(algs []sigAlg) sigAlg {
	b := algs[0]
	for _, a := range algs[1:] {
		if a.digest == digestChunkedSHA512 && b.digest != digestChunkedSHA512 {
			b = a
		}
	}
	return b
}

func digestName(a digestAlg) string {
	switch a {
	case digestChunkedSHA256:
		return "chunked SHA-256"
	case digestChunkedSHA512:
		return "chunked SHA-512"
	case digestVeritySHA256:
		return "verity SHA-256"
	}
	return "unknown"
}
