package delivery_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"

	"github.com/medguard/medguard/internal/delivery"
)

// verifyMem verifies m against contents held in memory.
func verifyMem(t *testing.T, m *delivery.Manifest, contents map[string][]byte, trust []string, opt delivery.VerifyOptions) delivery.Report {
	t.Helper()
	if opt.Now.IsZero() {
		opt.Now = verifyAt
	}
	rep, err := delivery.Verify(context.Background(), m, asFiles(contents), delivery.Trust{Fingerprints: trust}, opt)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if rep.OK != (len(rep.Problems()) == 0) {
		t.Fatalf("OK=%v but problems %q", rep.OK, rep.Problems())
	}
	return rep
}

func TestSignatures(t *testing.T) {
	signers := []signer{
		sm2Signer(t, validFrom, validTo),
		ecdsaSigner(t, validFrom, validTo),
		rsaSigner(t, validFrom, validTo),
		ed25519Signer(t),
	}
	other := sm2Signer(t, validFrom, validTo)
	required := delivery.VerifyOptions{RequireSignature: true}
	for _, s := range signers {
		t.Run(s.alg, func(t *testing.T) {
			contents := deliveryFiles()
			m := buildManifest(t, contents)
			if err := s.sign(m); err != nil {
				t.Fatalf("sign: %v", err)
			}
			m = reparse(t, m) // as the hospital receives it

			rep := verifyMem(t, m, contents, []string{s.trusted}, required)
			sig := rep.Signature
			if !rep.OK || sig.Status != delivery.SignatureValid {
				t.Fatalf("valid signature: %+v %q", sig, rep.Problems())
			}
			if sig.Algorithm != s.alg || sig.Fingerprint != s.trusted || !strings.Contains(sig.Signer, s.signee) {
				t.Errorf("signature result %+v, want algorithm %s, fingerprint %s, signer %q", sig, s.alg, s.trusted, s.signee)
			}
			if len(rep.Warnings) != 0 {
				t.Errorf("warnings on a clean signed delivery: %q", rep.Warnings)
			}

			t.Run("fingerprint notation does not matter", func(t *testing.T) {
				colons := strings.ToUpper(s.trusted[:2]) + ":" + strings.ToUpper(s.trusted[2:4]) + ":" + s.trusted[4:]
				rep := verifyMem(t, m, contents, []string{"not a fingerprint", colons}, required)
				if !rep.OK || len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], `"not a fingerprint"`) {
					t.Fatalf("report %+v, warnings %q", rep.Signature, rep.Warnings)
				}
			})

			t.Run("untrusted", func(t *testing.T) {
				rep := verifyMem(t, m, contents, nil, required)
				if rep.OK || rep.Signature.Status != delivery.SignatureUntrusted || !strings.Contains(rep.Signature.Detail, "no certificate or key is registered") {
					t.Fatalf("no registered signer: %+v", rep.Signature)
				}
				rep = verifyMem(t, m, contents, []string{other.trusted}, required)
				if rep.OK || rep.Signature.Status != delivery.SignatureUntrusted || !strings.Contains(rep.Signature.Detail, "not among the 1 registered") {
					t.Fatalf("another signer registered: %+v", rep.Signature)
				}
				if p := strings.Join(rep.Problems(), "\n"); !strings.Contains(p, "is not registered") || strings.Contains(p, "artifact") {
					t.Fatalf("problems %q", p)
				}
				// Without a required signature, an unknown signer is a warning only.
				rep = verifyMem(t, m, contents, []string{other.trusted}, delivery.VerifyOptions{})
				if !rep.OK || len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], "untrusted") {
					t.Fatalf("not required: OK=%v warnings %q", rep.OK, rep.Warnings)
				}
			})

			t.Run("tampered manifest", func(t *testing.T) {
				for name, tamper := range map[string]func(*delivery.Manifest){
					"digest":  func(m *delivery.Manifest) { m.Artifacts[0].SHA256 = strings.Repeat("ab", 32) },
					"size":    func(m *delivery.Manifest) { m.Artifacts[1].Size++ },
					"vendor":  func(m *delivery.Manifest) { m.Vendor = "冒名软件" },
					"time":    func(m *delivery.Manifest) { m.DeliveredAt = m.DeliveredAt.Add(time.Second) },
					"dropped": func(m *delivery.Manifest) { m.Artifacts = m.Artifacts[1:] },
				} {
					t.Run(name, func(t *testing.T) {
						bad := reparse(t, m)
						tamper(bad)
						bad = reparse(t, bad)
						for _, opt := range []delivery.VerifyOptions{required, {}} {
							rep := verifyMem(t, bad, contents, []string{s.trusted}, opt)
							if rep.OK || rep.Signature.Status != delivery.SignatureInvalid {
								t.Fatalf("tampered manifest (required=%v): %+v", opt.RequireSignature, rep.Signature)
							}
							if p := strings.Join(rep.Problems(), "\n"); !strings.Contains(p, "signature invalid: the signature does not match the manifest") {
								t.Fatalf("problems %q", p)
							}
						}
					})
				}
			})

			t.Run("signature from another key", func(t *testing.T) {
				bad := reparse(t, m)
				swapped := reparse(t, m)
				if err := other.sign(swapped); err != nil {
					t.Fatal(err)
				}
				bad.Signature.Value = swapped.Signature.Value
				rep := verifyMem(t, bad, contents, []string{s.trusted, other.trusted}, required)
				if rep.Signature.Status != delivery.SignatureInvalid {
					t.Fatalf("foreign signature value: %+v", rep.Signature)
				}
			})
		})
	}
}

func TestExpiredCertificate(t *testing.T) {
	contents := deliveryFiles()
	required := delivery.VerifyOptions{RequireSignature: true}
	for _, c := range []struct {
		name     string
		from, to time.Time
		now      time.Time
		detail   string
	}{
		{"expired before delivery", validFrom, deliveredAt.Add(-time.Hour), verifyAt, "does not cover delivered_at 2026-11-01T08:00:00Z"},
		{"not yet valid at delivery", deliveredAt.Add(time.Hour), validTo, verifyAt, "does not cover delivered_at"},
		{"expired since delivery", validFrom, deliveredAt.Add(time.Hour), verifyAt, "does not cover the verification time 2026-11-02T09:30:00Z"},
		{"checked long after", validFrom, validTo, validTo.Add(time.Second), "does not cover the verification time"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := sm2Signer(t, c.from, c.to)
			m := buildManifest(t, contents)
			if err := s.sign(m); err != nil {
				t.Fatal(err)
			}
			opt := required
			opt.Now = c.now
			rep := verifyMem(t, m, contents, []string{s.trusted}, opt)
			if rep.OK || rep.Signature.Status != delivery.SignatureExpired || !strings.Contains(rep.Signature.Detail, c.detail) {
				t.Fatalf("got %+v, want expired with %q", rep.Signature, c.detail)
			}
			if p := strings.Join(rep.Problems(), "\n"); !strings.Contains(p, "certificate expired") {
				t.Fatalf("problems %q", p)
			}
			// An unregistered signer is reported as such first; the expiry is still mentioned.
			rep = verifyMem(t, m, contents, nil, opt)
			if rep.Signature.Status != delivery.SignatureUntrusted || !strings.Contains(rep.Signature.Detail, "besides, the certificate is valid from") {
				t.Fatalf("untrusted and expired: %+v", rep.Signature)
			}
			// Not required: a warning, not a failure.
			opt.RequireSignature = false
			rep = verifyMem(t, m, contents, []string{s.trusted}, opt)
			if !rep.OK || len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], "signature expired") {
				t.Fatalf("not required: OK=%v warnings %q", rep.OK, rep.Warnings)
			}
		})
	}
}

func TestSignRefuses(t *testing.T) {
	sm2Key, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	otherSM2, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sm2Cert := newCert(t, &sm2Key.PublicKey, sm2Key, "a", "b", validFrom, validTo)
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p384Cert := newCert(t, &p384.PublicKey, p384, "a", "b", validFrom, validTo)
	rsa1024, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	rsa1024Cert := newCert(t, &rsa1024.PublicKey, rsa1024, "a", "b", validFrom, validTo)

	for _, c := range []struct {
		name string
		sign func(*delivery.Manifest) error
		want string
	}{
		{"certificate for another key", func(m *delivery.Manifest) error { return delivery.SignSM2(m, otherSM2, sm2Cert) }, "not for this key"},
		{"not a certificate", func(m *delivery.Manifest) error { return delivery.SignSM2(m, sm2Key, []byte("junk")) }, "certificate"},
		{"P-384", func(m *delivery.Manifest) error { return delivery.SignECDSA(m, p384, p384Cert) }, "ECDSA P-384 key, which cannot make ECDSA-SHA256"},
		{"short RSA", func(m *delivery.Manifest) error { return delivery.SignRSA(m, rsa1024, rsa1024Cert) }, "RSA key of 1024 bits; at least 2048"},
		{"short Ed25519 key", func(m *delivery.Manifest) error { return delivery.SignEd25519(m, ed25519.PrivateKey("short")) }, "Ed25519 private key is 64 bytes"},
		{"nil key", func(m *delivery.Manifest) error { return delivery.SignSM2(m, nil, sm2Cert) }, "no SM2 key"},
		{"invalid manifest", func(m *delivery.Manifest) error {
			m.Artifacts[0].Name = "/abs"
			return delivery.SignSM2(m, sm2Key, sm2Cert)
		}, "is an absolute path"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := buildManifest(t, deliveryFiles())
			err := c.sign(m)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
			if m.Signature != nil {
				t.Fatal("a failed signing left a signature on the manifest")
			}
		})
	}
	// Nor can a manifest with such a certificate be parsed.
	m := buildManifest(t, deliveryFiles())
	if err := delivery.SignSM2(m, sm2Key, sm2Cert); err != nil {
		t.Fatal(err)
	}
	m.Signature.Certificate = certPEM(rsa1024Cert)
	m.Signature.Algorithm = delivery.AlgRSAPKCS1SHA256
	if _, err := m.Marshal(); err == nil || !strings.Contains(err.Error(), "signature.certificate: RSA key of 1024 bits") {
		t.Fatalf("weak RSA certificate accepted: %v", err)
	}
	// A huge RSA key (here a fake one, in a certificate issued by another key) is refused
	// before anyone spends time verifying with it.
	huge := &rsa.PublicKey{N: new(big.Int).SetBit(big.NewInt(1), 9000, 1), E: 65537}
	hugeCert := newCertFrom(t, huge, p384, p384Cert)
	m.Signature.Certificate = certPEM(hugeCert)
	if _, err := m.Marshal(); err == nil || !strings.Contains(err.Error(), "RSA key of 9001 bits; at most 8192 are supported") {
		t.Fatalf("huge RSA certificate accepted: %v", err)
	}
	m.Signature.Certificate = certPEM(sm2Cert) + certPEM(sm2Cert)
	m.Signature.Algorithm = delivery.AlgSM2SM3
	if _, err := m.Marshal(); err == nil || !strings.Contains(err.Error(), "more than one PEM block") {
		t.Fatalf("two certificates accepted: %v", err)
	}
}

func TestFingerprint(t *testing.T) {
	key, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der := newCert(t, &key.PublicKey, key, "a", "b", validFrom, validTo)
	certFP := mustFingerprint(t, certPEM(der))
	edPub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	edPKIX, err := x509.MarshalPKIXPublicKey(edPub)
	if err != nil {
		t.Fatal(err)
	}
	edFP := mustFingerprint(t, encodeStd(edPub))
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecPKIX, err := x509.MarshalPKIXPublicKey(&ecKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	openssl := "sha256 Fingerprint=" + strings.ToUpper(certFP[:2]) + ":" + strings.ToUpper(certFP[2:4]) + ":" + strings.ToUpper(certFP[4:])
	for _, c := range []struct {
		name, in, want, err string
	}{
		{"PEM certificate", certPEM(der), certFP, ""},
		{"base64 DER certificate", encodeStd(der), certFP, ""},
		{"base64 DER with line breaks", encodeStd(der)[:40] + "\n" + encodeStd(der)[40:], certFP, ""},
		{"hex fingerprint", "  " + certFP + "\n", certFP, ""},
		{"openssl output", openssl, certFP, ""},
		{"raw Ed25519 key", encodeStd(edPub), edFP, ""},
		{"PEM Ed25519 key", string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: edPKIX})), edFP, ""},
		{"base64 DER Ed25519 key", encodeStd(edPKIX), edFP, ""},
		{"PEM ECDSA key", string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: ecPKIX})), "", "must be registered by its certificate"},
		{"private key", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "", "neither a CERTIFICATE nor a PUBLIC KEY"},
		{"two certificates", certPEM(der) + certPEM(der), "", "more than one PEM block"},
		{"garbage", "hello, world", "", "neither PEM, base64 nor a hex fingerprint"},
		{"short base64", "AAAA", "", "neither a certificate nor a public key"},
		{"empty", " ", "", "nothing given"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := delivery.Fingerprint(c.in)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("Fingerprint = %q, %v; want error %q", got, err, c.err)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("Fingerprint = %q, %v; want %q", got, err, c.want)
			}
		})
	}
}
