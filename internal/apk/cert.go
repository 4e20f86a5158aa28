package apk

import (
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"math/big"
)

// parseCertificate parses a signing certificate as Android does, which is more lenient
// than crypto/x509 in one way that matters: since Go 1.23 x509 rejects a negative serial
// number, which some old signing certificates have (Android never checks the serial).
// Such a certificate is parsed with its serial made positive, then given back its own
// bytes (Raw) and serial, so that its digests and v1 issuer-and-serial matching are
// those of the certificate in the APK.
func parseCertificate(der []byte) (*x509.Certificate, error) {
	cert, err := x509.ParseCertificate(der)
	if err == nil {
		return cert, nil
	}
	fixed, serial, ok := positiveSerial(der)
	if !ok {
		return nil, err
	}
	c, err2 := x509.ParseCertificate(fixed)
	if err2 != nil {
		return nil, err // the original error says more
	}
	c.Raw, c.SerialNumber = der, serial
	return c, nil
}

// positiveSerial re-encodes a certificate whose serial number is negative with the
// serial's absolute value. It returns false when the serial is not negative or the
// structure is not a certificate.
func positiveSerial(der []byte) ([]byte, *big.Int, bool) {
	var outer struct {
		TBS    asn1.RawValue
		SigAlg asn1.RawValue
		Sig    asn1.RawValue
	}
	if rest, err := asn1.Unmarshal(der, &outer); err != nil || len(rest) > 0 {
		return nil, nil, false
	}
	var fields []asn1.RawValue
	for b := outer.TBS.Bytes; len(b) > 0; {
		var f asn1.RawValue
		rest, err := asn1.Unmarshal(b, &f)
		if err != nil {
			return nil, nil, false
		}
		fields = append(fields, f)
		b = rest
	}
	i := 0
	if len(fields) > 0 && fields[0].Class == asn1.ClassContextSpecific && fields[0].Tag == 0 {
		i = 1 // version
	}
	if len(fields) <= i || fields[i].Tag != asn1.TagInteger {
		return nil, nil, false
	}
	var serial *big.Int
	if _, err := asn1.Unmarshal(fields[i].FullBytes, &serial); err != nil || serial.Sign() >= 0 {
		return nil, nil, false
	}
	pos, err := asn1.Marshal(new(big.Int).Neg(serial))
	if err != nil {
		return nil, nil, false
	}
	var tbs []byte
	for j, f := range fields {
		if j == i {
			tbs = append(tbs, pos...)
			continue
		}
		tbs = append(tbs, f.FullBytes...)
	}
	tbsDER, err1 := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: tbs})
	body := append(append(tbsDER, outer.SigAlg.FullBytes...), outer.Sig.FullBytes...)
	out, err2 := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: body})
	if errors.Join(err1, err2) != nil {
		return nil, nil, false
	}
	return out, serial, true
}
