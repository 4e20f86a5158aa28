package delivery

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
)

// MinRSABits and MaxRSABits bound the RSA keys accepted for signing and verifying; the
// upper bound keeps a hostile manifest from making verification arbitrarily slow.
const (
	MinRSABits = 2048
	MaxRSABits = 8192
)

// maxSignatureBytes bounds a decoded signature value (an RSA-16384 signature is 2048).
const maxSignatureBytes = 4096

// signerKey is a parsed signature: who signed, with what key, and the signature bytes.
type signerKey struct {
	alg         string
	cert        *smx509.Certificate // X.509 algorithms
	edKey       ed25519.PublicKey   // Ed25519
	fingerprint string              // SHA-256 of the certificate DER or of the raw Ed25519 key
	value       []byte
}

// signer parses and checks the signature's encoding and that its key fits its algorithm.
func (s *Signature) signer() (*signerKey, error) {
	k := &signerKey{alg: s.Algorithm}
	switch s.Algorithm {
	case AlgSM2SM3, AlgECDSASHA256, AlgRSAPKCS1SHA256:
		if s.PublicKey != "" {
			return nil, invalid("signature.public_key", "must be absent for %s: the key is in the certificate", s.Algorithm)
		}
		if s.Certificate == "" {
			return nil, invalid("signature.certificate", "required for %s", s.Algorithm)
		}
		cert, err := parseCertificatePEM(s.Certificate)
		if err != nil {
			return nil, invalid("signature.certificate", "%v", err)
		}
		if err := checkKeyFits(s.Algorithm, cert.PublicKey); err != nil {
			return nil, invalid("signature.certificate", "%v", err)
		}
		k.cert = cert
		k.fingerprint = fingerprintOf(cert.Raw)
	case AlgEd25519:
		if s.Certificate != "" {
			return nil, invalid("signature.certificate", "must be absent for Ed25519, which uses a bare public_key")
		}
		if s.PublicKey == "" {
			return nil, invalid("signature.public_key", "required for Ed25519")
		}
		raw, err := base64.StdEncoding.DecodeString(s.PublicKey)
		if err != nil {
			return nil, invalid("signature.public_key", "not valid base64")
		}
		if len(raw) != ed25519.PublicKeySize {
			return nil, invalid("signature.public_key", "an Ed25519 key is %d bytes, got %d", ed25519.PublicKeySize, len(raw))
		}
		k.edKey = ed25519.PublicKey(raw)
		k.fingerprint = fingerprintOf(raw)
	case "":
		return nil, invalid("signature.algorithm", "required")
	default:
		return nil, invalid("signature.algorithm", "unknown algorithm %q (want %s, %s, %s or %s)", s.Algorithm, AlgSM2SM3, AlgECDSASHA256, AlgRSAPKCS1SHA256, AlgEd25519)
	}
	if s.Value == "" {
		return nil, invalid("signature.value", "required")
	}
	value, err := base64.StdEncoding.DecodeString(s.Value)
	if err != nil {
		return nil, invalid("signature.value", "not valid base64")
	}
	if len(value) > maxSignatureBytes {
		return nil, invalid("signature.value", "%d bytes, longer than any supported signature", len(value))
	}
	k.value = value
	return k, nil
}

// parseCertificatePEM reads exactly one PEM certificate (SM2 or not).
func parseCertificatePEM(s string) (*smx509.Certificate, error) {
	block, rest := pem.Decode([]byte(s))
	if block == nil {
		return nil, errors.New("not a PEM certificate (-----BEGIN CERTIFICATE-----)")
	}
	if block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("PEM block is %q, want CERTIFICATE", block.Type)
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, errors.New("more than one PEM block: give only the signer's certificate")
	}
	cert, err := smx509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("bad certificate: %v", err)
	}
	return cert, nil
}

// checkKeyFits reports whether a certificate's key can make signatures of alg.
func checkKeyFits(alg string, pub any) error {
	var ok bool
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		ok = alg == AlgSM2SM3 && k.Curve == sm2.P256() || alg == AlgECDSASHA256 && k.Curve == elliptic.P256()
	case *rsa.PublicKey:
		switch n := k.N.BitLen(); {
		case alg != AlgRSAPKCS1SHA256:
		case n < MinRSABits:
			return fmt.Errorf("RSA key of %d bits; at least %d are required", n, MinRSABits)
		case n > MaxRSABits:
			return fmt.Errorf("RSA key of %d bits; at most %d are supported", n, MaxRSABits)
		}
		ok = alg == AlgRSAPKCS1SHA256
	}
	if !ok {
		return fmt.Errorf("the certificate holds %s, which cannot make %s signatures", keyKind(pub), alg)
	}
	return nil
}

// keyKind names a public key's type for messages.
func keyKind(pub any) string {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case sm2.P256():
			return "an SM2 key"
		case elliptic.P256():
			return "an ECDSA P-256 key"
		}
		return "an ECDSA " + k.Curve.Params().Name + " key"
	case *rsa.PublicKey:
		return "an RSA key"
	case ed25519.PublicKey:
		return "an Ed25519 key"
	}
	return fmt.Sprintf("a %T key", pub)
}

// verify reports whether the signature's mathematics hold over msg.
func (k *signerKey) verify(msg []byte) bool {
	switch k.alg {
	case AlgSM2SM3:
		pub, ok := k.cert.PublicKey.(*ecdsa.PublicKey)
		return ok && sm2.VerifyASN1WithSM2(pub, nil, msg, k.value)
	case AlgECDSASHA256:
		pub, ok := k.cert.PublicKey.(*ecdsa.PublicKey)
		h := sha256.Sum256(msg)
		return ok && ecdsa.VerifyASN1(pub, h[:], k.value)
	case AlgRSAPKCS1SHA256:
		pub, ok := k.cert.PublicKey.(*rsa.PublicKey)
		h := sha256.Sum256(msg)
		return ok && rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], k.value) == nil
	case AlgEd25519:
		return len(k.edKey) == ed25519.PublicKeySize && ed25519.Verify(k.edKey, msg, k.value)
	}
	return false
}

// signerName is the certificate subject's CN (with its O), or the key fingerprint.
func (k *signerKey) signerName() string {
	if k.cert == nil {
		return "Ed25519 key " + k.fingerprint
	}
	cn, org := k.cert.Subject.CommonName, strings.Join(k.cert.Subject.Organization, ", ")
	switch {
	case cn != "" && org != "" && org != cn:
		return cn + " (" + org + ")"
	case cn != "":
		return cn
	case org != "":
		return org
	}
	return "certificate " + k.fingerprint
}

// SignSM2 signs m with an SM2 key (SM2-SM3, default user id) and attaches certDER, the
// DER of the key's X.509 certificate. It replaces any earlier signature; on error m is
// left unchanged.
func SignSM2(m *Manifest, key *sm2.PrivateKey, certDER []byte) error {
	if key == nil {
		return errors.New("delivery: sign: no SM2 key")
	}
	return signWithCert(m, AlgSM2SM3, certDER, &key.PublicKey, func(msg []byte) ([]byte, error) {
		return sm2.SignASN1(rand.Reader, key, msg, sm2.NewSM2SignerOption(true, nil))
	})
}

// SignECDSA signs m with an ECDSA P-256 key (ECDSA-SHA256) and attaches certDER, the DER
// of the key's X.509 certificate. It replaces any earlier signature; on error m is left
// unchanged.
func SignECDSA(m *Manifest, key *ecdsa.PrivateKey, certDER []byte) error {
	if key == nil {
		return errors.New("delivery: sign: no ECDSA key")
	}
	return signWithCert(m, AlgECDSASHA256, certDER, &key.PublicKey, func(msg []byte) ([]byte, error) {
		h := sha256.Sum256(msg)
		return ecdsa.SignASN1(rand.Reader, key, h[:])
	})
}

// SignRSA signs m with an RSA key of MinRSABits to MaxRSABits (RSA-PKCS1-SHA256) and attaches
// certDER, the DER of the key's X.509 certificate. It replaces any earlier signature; on
// error m is left unchanged.
func SignRSA(m *Manifest, key *rsa.PrivateKey, certDER []byte) error {
	if key == nil {
		return errors.New("delivery: sign: no RSA key")
	}
	return signWithCert(m, AlgRSAPKCS1SHA256, certDER, &key.PublicKey, func(msg []byte) ([]byte, error) {
		h := sha256.Sum256(msg)
		return rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, h[:])
	})
}

// SignEd25519 signs m with a bare Ed25519 key, whose public half goes into the manifest.
// It replaces any earlier signature; on error m is left unchanged.
func SignEd25519(m *Manifest, key ed25519.PrivateKey) error {
	if len(key) != ed25519.PrivateKeySize {
		return fmt.Errorf("delivery: sign: an Ed25519 private key is %d bytes, got %d", ed25519.PrivateKeySize, len(key))
	}
	pub, _ := key.Public().(ed25519.PublicKey)
	sig := &Signature{Algorithm: AlgEd25519, PublicKey: base64.StdEncoding.EncodeToString(pub)}
	return attach(m, sig, func(msg []byte) ([]byte, error) { return ed25519.Sign(key, msg), nil })
}

func signWithCert(m *Manifest, alg string, certDER []byte, pub crypto.PublicKey, sign func([]byte) ([]byte, error)) error {
	cert, err := smx509.ParseCertificate(certDER)
	if err != nil {
		return fmt.Errorf("delivery: sign: certificate: %w", err)
	}
	eq, ok := pub.(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !eq.Equal(cert.PublicKey) {
		return errors.New("delivery: sign: the certificate is not for this key")
	}
	sig := &Signature{
		Algorithm:   alg,
		Certificate: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: certDER})),
	}
	return attach(m, sig, sign)
}

// attach signs m's canonical form, fills sig.Value, checks the result as Verify will and
// only then sets m.Signature.
func attach(m *Manifest, sig *Signature, sign func([]byte) ([]byte, error)) error {
	if m == nil {
		return errors.New("delivery: sign: no manifest")
	}
	unsigned := *m
	unsigned.Signature = nil
	if err := unsigned.validate(); err != nil {
		return err
	}
	msg := m.Canonical()
	value, err := sign(msg)
	if err != nil {
		return fmt.Errorf("delivery: sign: %w", err)
	}
	sig.Value = base64.StdEncoding.EncodeToString(value)
	k, err := sig.signer()
	if err != nil {
		return err
	}
	if !k.verify(msg) {
		return errors.New("delivery: sign: the new signature does not verify")
	}
	m.Signature = sig
	return nil
}

// Fingerprint returns the lower-case hex SHA-256 fingerprint by which a vendor's
// certificate or Ed25519 key is registered in a Trust. It accepts a PEM certificate, a
// PEM Ed25519 public key ("PUBLIC KEY"), the base64 of a DER certificate, of a DER
// Ed25519 public key or of a raw 32-byte Ed25519 key (as in a manifest's public_key), or
// a fingerprint already in hex (colons and spaces allowed, with or without openssl's
// "sha256 Fingerprint=" prefix).
func Fingerprint(certOrKey string) (string, error) {
	s := strings.TrimSpace(certOrKey)
	if s == "" {
		return "", errors.New("delivery: fingerprint: nothing given")
	}
	if strings.HasPrefix(s, "-----BEGIN") {
		block, rest := pem.Decode([]byte(s))
		if block == nil {
			return "", errors.New("delivery: fingerprint: bad PEM")
		}
		if len(bytes.TrimSpace(rest)) != 0 {
			return "", errors.New("delivery: fingerprint: more than one PEM block")
		}
		switch block.Type {
		case "CERTIFICATE":
			if _, err := smx509.ParseCertificate(block.Bytes); err != nil {
				return "", fmt.Errorf("delivery: fingerprint: %w", err)
			}
			return fingerprintOf(block.Bytes), nil
		case "PUBLIC KEY":
			return pkixFingerprint(block.Bytes)
		}
		return "", fmt.Errorf("delivery: fingerprint: PEM block %q is neither a CERTIFICATE nor a PUBLIC KEY", block.Type)
	}
	if i := strings.Index(strings.ToLower(s), "fingerprint="); i >= 0 {
		s = s[i+len("fingerprint="):] // as printed by openssl x509 -fingerprint -sha256
	}
	if fp, ok := normalFingerprint(s); ok {
		return fp, nil
	}
	raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		return "", errors.New("delivery: fingerprint: neither PEM, base64 nor a hex fingerprint")
	}
	if len(raw) == ed25519.PublicKeySize {
		return fingerprintOf(raw), nil
	}
	if _, err := smx509.ParseCertificate(raw); err == nil {
		return fingerprintOf(raw), nil
	}
	return pkixFingerprint(raw)
}

func pkixFingerprint(der []byte) (string, error) {
	pub, err := smx509.ParsePKIXPublicKey(der)
	if err != nil {
		return "", fmt.Errorf("delivery: fingerprint: neither a certificate nor a public key: %w", err)
	}
	ed, ok := pub.(ed25519.PublicKey)
	if !ok {
		return "", fmt.Errorf("delivery: fingerprint: %s must be registered by its certificate; only Ed25519 keys are registered bare", keyKind(pub))
	}
	return fingerprintOf(ed), nil
}

func fingerprintOf(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// normalFingerprint lower-cases a hex SHA-256 fingerprint and drops colons and spaces.
func normalFingerprint(s string) (string, bool) {
	s = strings.ToLower(strings.Map(func(r rune) rune {
		if r == ':' || r == ' ' || r == '\t' {
			return -1
		}
		return r
	}, strings.TrimSpace(s)))
	if len(s) != 64 {
		return "", false
	}
	if _, err := hex.DecodeString(s); err != nil {
		return "", false
	}
	return s, true
}
