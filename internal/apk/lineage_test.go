package apk

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestLineageOfFixture: the lineage of an APK apksig signed with rsa-2048 rotated to
// rsa-2048_2, the digests taken from the certificate files.
func TestLineageOfFixture(t *testing.T) {
	var want []string
	for _, name := range []string{"rsa-2048.x509.pem", "rsa-2048_2.x509.pem"} {
		block, _ := pem.Decode(fixture(t, name))
		if block == nil {
			t.Fatalf("%s: no PEM block", name)
		}
		s := sha256.Sum256(block.Bytes)
		want = append(want, hex.EncodeToString(s[:]))
	}
	rep, err := inspectBytes(fixture(t, "golden-aligned-v1v2v3-lineage-out.apk"))
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Signature.Verified || !slices.Equal(rep.Signature.Lineage, want) {
		t.Fatalf("verified %v, lineage %v, want %v (failures %v)", rep.Signature.Verified, rep.Signature.Lineage, want, rep.Signature.Failures)
	}
	// The v3 signer is the newest certificate; v2 and v1 keep the oldest.
	for _, s := range rep.Signature.Signers {
		if slices.Contains(s.Schemes, SchemeV3) && s.SHA256 != want[1] {
			t.Errorf("v3 signer %s, want %s", s.SHA256, want[1])
		}
	}
}

// lineageNode builds one node: cert, the algorithm its parent signed it with, the
// algorithm it signs the next with, signed by parent (nil for the first).
func lineageNode(t *testing.T, cert []byte, parentAlg, alg uint32, parent *rsa.PrivateKey) []byte {
	t.Helper()
	var sd []byte
	sd = binary.LittleEndian.AppendUint32(sd, uint32(len(cert)))
	sd = append(sd, cert...)
	sd = binary.LittleEndian.AppendUint32(sd, parentAlg)
	var sig []byte
	if parent != nil {
		h := sha256.Sum256(sd)
		var err error
		if sig, err = rsa.SignPKCS1v15(rand.Reader, parent, crypto.SHA256, h[:]); err != nil {
			t.Fatal(err)
		}
	}
	var n []byte
	n = binary.LittleEndian.AppendUint32(n, uint32(len(sd)))
	n = append(n, sd...)
	n = binary.LittleEndian.AppendUint32(n, 0) // flags
	n = binary.LittleEndian.AppendUint32(n, alg)
	n = binary.LittleEndian.AppendUint32(n, uint32(len(sig)))
	return append(n, sig...)
}

func lineageOf(nodes ...[]byte) []byte {
	out := binary.LittleEndian.AppendUint32(nil, 1)
	for _, n := range nodes {
		out = binary.LittleEndian.AppendUint32(out, uint32(len(n)))
		out = append(out, n...)
	}
	return out
}

// TestVerifyLineage: a lineage verifies when each certificate is signed by the key
// before it and ends with the signer; a forged link or another signer fails.
func TestVerifyLineage(t *testing.T) {
	keys := make([]*rsa.PrivateKey, 3)
	certs := make([]*x509.Certificate, 3)
	for i := range keys {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(i + 1)), Subject: pkix.Name{CommonName: "key"},
			NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<31, 0)}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
		if err != nil {
			t.Fatal(err)
		}
		keys[i] = k
		if certs[i], err = x509.ParseCertificate(der); err != nil {
			t.Fatal(err)
		}
	}
	const alg = 0x0103 // RSASSA-PKCS1-v1_5 with SHA-256
	first := lineageNode(t, certs[0].Raw, 0, alg, nil)
	second := lineageNode(t, certs[1].Raw, alg, 0, keys[0])
	forged := lineageNode(t, certs[1].Raw, alg, 0, keys[2]) // signed by a key outside the lineage

	got, err := verifyLineage(lineageOf(first, second), certs[1])
	if err != nil || len(got) != 2 {
		t.Fatalf("valid lineage: %v %v", got, err)
	}
	for _, c := range []struct {
		name   string
		value  []byte
		signer *x509.Certificate
		want   string
	}{
		{"forged link", lineageOf(first, forged), certs[1], "node #2"},
		{"another signer", lineageOf(first, second), certs[2], "not the signer's"},
		{"algorithm mismatch", lineageOf(first, lineageNode(t, certs[1].Raw, 0x0104, 0, keys[0])), certs[1], "algorithm"},
		{"version", append([]byte{2, 0, 0, 0}, lineageOf(first)[4:]...), certs[0], "version"},
		{"truncated", lineageOf(first, second)[:40], certs[1], "exceeds"},
		{"empty", lineageOf(), nil, "empty"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := verifyLineage(c.value, c.signer)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want one containing %q", err, c.want)
			}
		})
	}
}
