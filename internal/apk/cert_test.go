package apk

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"math/big"
	"testing"
)

// withSerial re-encodes a certificate with another serial number (its signature no
// longer matches, which Android does not check).
func withSerial(t *testing.T, der []byte, serial *big.Int) []byte {
	t.Helper()
	var outer struct{ TBS, SigAlg, Sig asn1.RawValue }
	if _, err := asn1.Unmarshal(der, &outer); err != nil {
		t.Fatal(err)
	}
	var fields [][]byte
	for b := outer.TBS.Bytes; len(b) > 0; {
		var f asn1.RawValue
		rest, err := asn1.Unmarshal(b, &f)
		if err != nil {
			t.Fatal(err)
		}
		fields = append(fields, f.FullBytes)
		b = rest
	}
	s, err := asn1.Marshal(serial)
	if err != nil {
		t.Fatal(err)
	}
	fields[1] = s // after the [0] version
	tbs, _ := asn1.Marshal(asn1.RawValue{Tag: asn1.TagSequence, IsCompound: true, Bytes: bytes.Join(fields, nil)})
	out, _ := asn1.Marshal(asn1.RawValue{Tag: asn1.TagSequence, IsCompound: true,
		Bytes: append(append(tbs, outer.SigAlg.FullBytes...), outer.Sig.FullBytes...)})
	return out
}

// TestNegativeSerial: a certificate with a negative serial number, which crypto/x509
// refuses since Go 1.23, is read with its own bytes and serial.
func TestNegativeSerial(t *testing.T) {
	orig := testCert(t, "Old Hospital App", 2048)
	neg := withSerial(t, orig.Raw, big.NewInt(-123456789))
	if _, err := x509.ParseCertificate(neg); err == nil {
		t.Skip("crypto/x509 accepts negative serial numbers here: nothing to work around")
	}
	c, err := parseCertificate(neg)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(c.Raw, neg) || c.SerialNumber.Cmp(big.NewInt(-123456789)) != 0 {
		t.Errorf("raw kept %v, serial %v", bytes.Equal(c.Raw, neg), c.SerialNumber)
	}
	if !bytes.Equal(c.RawSubjectPublicKeyInfo, orig.RawSubjectPublicKeyInfo) || c.Subject.CommonName != "Old Hospital App" {
		t.Errorf("public key or subject changed: %s", c.Subject)
	}
	// A positive serial is not touched, and garbage stays an error.
	if _, _, ok := positiveSerial(orig.Raw); ok {
		t.Error("positive serial re-encoded")
	}
	if _, err := parseCertificate([]byte{0x30, 0x03, 0x02, 0x01, 0xff}); err == nil {
		t.Error("garbage parsed")
	}
}
