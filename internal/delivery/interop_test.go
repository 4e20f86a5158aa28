package delivery_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/delivery"
)

// TestOpenSSLInterop shows that a vendor needs no medguard code: testdata/canonical.sh
// reproduces Manifest.Canonical, and signatures made by the OpenSSL command line (the
// recipes of testdata/README.md) verify. It is skipped where openssl or sh is missing.
func TestOpenSSLInterop(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed")
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("sh not installed")
	}
	if out, err := exec.Command(openssl, "dgst", "-sm3", "-r", "/dev/null").CombinedOutput(); err != nil {
		t.Skipf("this openssl has no SM3: %v %s", err, out)
	}
	tmp := t.TempDir()
	run := func(name string, args ...string) []byte {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = tmp
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.Bytes())
		}
		return out
	}

	// Keys and self-signed certificates, made before the delivery so that they cover it.
	type vendorKey struct{ alg, key, cert string }
	keys := []vendorKey{
		{delivery.AlgSM2SM3, "sm2.key", "sm2.crt"},
		{delivery.AlgECDSASHA256, "ec.key", "ec.crt"},
		{delivery.AlgRSAPKCS1SHA256, "rsa.key", "rsa.crt"},
		{delivery.AlgEd25519, "ed.key", ""},
	}
	run(openssl, "genpkey", "-algorithm", "SM2", "-out", "sm2.key")
	run(openssl, "req", "-new", "-x509", "-key", "sm2.key", "-sm3", "-sigopt", "distid:1234567812345678",
		"-subj", "/CN=HIS 交付签名/O=东华软件", "-utf8", "-days", "30", "-out", "sm2.crt")
	run(openssl, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "ec.key")
	run(openssl, "req", "-new", "-x509", "-key", "ec.key", "-sha256", "-subj", "/CN=ECDSA release", "-days", "30", "-out", "ec.crt")
	run(openssl, "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "rsa.key")
	run(openssl, "req", "-new", "-x509", "-key", "rsa.key", "-sha256", "-subj", "/CN=RSA release", "-days", "30", "-out", "rsa.crt")
	run(openssl, "genpkey", "-algorithm", "ED25519", "-out", "ed.key")

	// The delivery, on disk.
	deliveryDir := filepath.Join(tmp, "delivery")
	for name, c := range deliveryFiles() {
		path := filepath.Join(deliveryDir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, c, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	files, err := delivery.FilesFromPaths(deliveryDir, []string{deliveryDir})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().UTC().Truncate(time.Second)
	m, err := delivery.Build("东华软件", "HIS", "5.2.0", "HIS-5.2.0-interop", at, files)
	if err != nil {
		t.Fatal(err)
	}

	// The shell recipe gives the same canonical bytes.
	script, err := filepath.Abs(filepath.Join("testdata", "canonical.sh"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(sh, script, deliveryDir)
	cmd.Env = append(os.Environ(), "VENDOR=东华软件", "PRODUCT=HIS", "VERSION=5.2.0", "DELIVERY_ID=HIS-5.2.0-interop",
		"DELIVERED_AT="+at.Format(time.RFC3339))
	canonical, err := cmd.Output()
	if err != nil {
		t.Fatalf("canonical.sh: %v", err)
	}
	if !bytes.Equal(canonical, m.Canonical()) {
		t.Fatalf("canonical.sh printed\n%s\nCanonical() is\n%s", canonical, m.Canonical())
	}
	if err := os.WriteFile(filepath.Join(tmp, "canonical.txt"), canonical, 0o644); err != nil {
		t.Fatal(err)
	}

	for _, k := range keys {
		t.Run(k.alg, func(t *testing.T) {
			sig := &delivery.Signature{Algorithm: k.alg}
			var value []byte
			switch k.alg {
			case delivery.AlgSM2SM3:
				value = run(openssl, "pkeyutl", "-sign", "-rawin", "-digest", "sm3", "-inkey", k.key,
					"-pkeyopt", "distid:1234567812345678", "-in", "canonical.txt")
			case delivery.AlgECDSASHA256, delivery.AlgRSAPKCS1SHA256:
				value = run(openssl, "dgst", "-sha256", "-sign", k.key, "canonical.txt")
			case delivery.AlgEd25519:
				value = run(openssl, "pkeyutl", "-sign", "-rawin", "-inkey", k.key, "-in", "canonical.txt")
				der := run(openssl, "pkey", "-in", k.key, "-pubout", "-outform", "DER")
				sig.PublicKey = encodeStd(der[len(der)-32:])
			}
			sig.Value = encodeStd(value)
			trusted := sig.PublicKey
			if k.cert != "" {
				pemCert, err := os.ReadFile(filepath.Join(tmp, k.cert))
				if err != nil {
					t.Fatal(err)
				}
				sig.Certificate = string(pemCert)
				trusted = strings.TrimSpace(string(run(openssl, "x509", "-in", k.cert, "-noout", "-fingerprint", "-sha256")))
			}
			signed := *m
			signed.Signature = sig
			received := reparse(t, &signed)
			rep, err := delivery.Verify(context.Background(), received, files, delivery.Trust{Fingerprints: []string{mustFingerprint(t, trusted)}},
				delivery.VerifyOptions{RequireSignature: true, Now: at.Add(time.Minute)})
			if err != nil {
				t.Fatal(err)
			}
			if !rep.OK || rep.Signature.Status != delivery.SignatureValid {
				t.Fatalf("OpenSSL %s signature: %+v %q", k.alg, rep.Signature, rep.Problems())
			}
		})
	}
}
