package delivery_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"flag"
	"io"
	"math/big"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"

	"github.com/medguard/medguard/internal/delivery"
)

var update = flag.Bool("update", false, "rewrite testdata/canonical.golden and testdata/sample")

// deliveredAt is the delivery time of the test manifests; verifyAt is when they are checked.
var (
	deliveredAt = time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	verifyAt    = time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC)
	// validFrom and validTo bound a certificate valid at both times.
	validFrom = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	validTo   = time.Date(2028, 1, 1, 0, 0, 0, 0, time.UTC)
)

// memFile is a received or delivered file held in memory.
func memFile(name string, content []byte) delivery.File {
	return delivery.File{Name: name, Open: func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(content)), nil
	}}
}

// failingFile is a file that cannot be opened.
func failingFile(name string) delivery.File {
	return delivery.File{Name: name, Open: func() (io.ReadCloser, error) {
		return nil, errors.New("disk on fire")
	}}
}

// deliveryFiles are the contents of a small delivery, by name.
func deliveryFiles() map[string][]byte {
	return map[string][]byte{
		"his-server-5.2.0.tar.gz": bytes.Repeat([]byte("HIS server payload\n"), 3000),
		"sbom/his-5.2.0.cdx.json": []byte(`{"bomFormat":"CycloneDX","specVersion":"1.6","version":1}` + "\n"),
		"docs/安装说明.txt":           []byte("先停服务，再升级。\n"),
	}
}

// asFiles turns contents into files.
func asFiles(contents map[string][]byte) []delivery.File {
	var out []delivery.File
	for name, c := range contents {
		out = append(out, memFile(name, c))
	}
	return out
}

// buildManifest builds an unsigned manifest for contents.
func buildManifest(t testing.TB, contents map[string][]byte) *delivery.Manifest {
	t.Helper()
	m, err := delivery.Build("东华软件", "HIS", "5.2.0", "HIS-5.2.0-2026-11-01", deliveredAt, asFiles(contents))
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return m
}

// reparse round-trips m through Marshal and ParseManifest, as a manifest travels.
func reparse(t testing.TB, m *delivery.Manifest) *delivery.Manifest {
	t.Helper()
	data, err := m.Marshal()
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	out, err := delivery.ParseManifest(data)
	if err != nil {
		t.Fatalf("ParseManifest(Marshal()): %v\n%s", err, data)
	}
	return out
}

// newCert returns a self-signed code-signing certificate (DER) for pub, signed by priv.
func newCert(t testing.TB, pub, priv any, cn, org string, from, to time.Time) []byte {
	t.Helper()
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn, Organization: []string{org}},
		NotBefore:             from,
		NotAfter:              to,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		BasicConstraintsValid: true,
	}
	der, err := smx509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, priv)
	if err != nil {
		t.Fatalf("CreateCertificate: %v", err)
	}
	return der
}

// newCertFrom returns a certificate (DER) for pub issued by the holder of parentKey.
func newCertFrom(t testing.TB, pub, parentKey any, parentDER []byte) []byte {
	t.Helper()
	parent, err := x509.ParseCertificate(parentDER)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "issued"}, NotBefore: validFrom, NotAfter: validTo}
	der, err := smx509.CreateCertificate(rand.Reader, tmpl, parent, pub, parentKey)
	if err != nil {
		t.Fatalf("CreateCertificate: %v", err)
	}
	return der
}

func certPEM(der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// signer signs manifests with one algorithm; trusted is the fingerprint to register.
type signer struct {
	alg     string
	sign    func(*delivery.Manifest) error
	trusted string
	signee  string // expected SignatureResult.Signer (substring)
}

func sm2Signer(t testing.TB, from, to time.Time) signer {
	t.Helper()
	key, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der := newCert(t, &key.PublicKey, key, "HIS 交付签名", "东华软件股份公司", from, to)
	return signer{alg: delivery.AlgSM2SM3, trusted: mustFingerprint(t, certPEM(der)), signee: "HIS 交付签名 (东华软件股份公司)",
		sign: func(m *delivery.Manifest) error { return delivery.SignSM2(m, key, der) }}
}

func ecdsaSigner(t testing.TB, from, to time.Time) signer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der := newCert(t, &key.PublicKey, key, "Release signing", "Example Vendor", from, to)
	return signer{alg: delivery.AlgECDSASHA256, trusted: mustFingerprint(t, certPEM(der)), signee: "Release signing (Example Vendor)",
		sign: func(m *delivery.Manifest) error { return delivery.SignECDSA(m, key, der) }}
}

func rsaSigner(t testing.TB, from, to time.Time) signer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der := newCert(t, &key.PublicKey, key, "", "RSA Vendor Ltd", from, to)
	return signer{alg: delivery.AlgRSAPKCS1SHA256, trusted: mustFingerprint(t, certPEM(der)), signee: "RSA Vendor Ltd",
		sign: func(m *delivery.Manifest) error { return delivery.SignRSA(m, key, der) }}
}

func ed25519Signer(t testing.TB) signer {
	t.Helper()
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	fp := mustFingerprint(t, encodeStd(pub))
	return signer{alg: delivery.AlgEd25519, trusted: fp, signee: fp,
		sign: func(m *delivery.Manifest) error { return delivery.SignEd25519(m, key) }}
}

func mustFingerprint(t testing.TB, s string) string {
	t.Helper()
	fp, err := delivery.Fingerprint(s)
	if err != nil {
		t.Fatalf("Fingerprint: %v", err)
	}
	return fp
}

func encodeStd(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
