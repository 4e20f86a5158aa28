package apk

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// The PKCS#7 / CMS SignedData of a v1 (JAR) signature block file (META-INF/*.RSA|DSA|EC),
// parsed with encoding/asn1. Only what JAR signature verification needs is read.

var (
	oidSignedData    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidContentType   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidMessageDigest = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
)

// digestOIDs are the digest algorithms of SignerInfo.digestAlgorithm.
var digestOIDs = map[string]crypto.Hash{
	"1.2.840.113549.2.5":      crypto.MD5,
	"1.3.14.3.2.26":           crypto.SHA1,
	"2.16.840.1.101.3.4.2.4":  crypto.SHA224,
	"2.16.840.1.101.3.4.2.1":  crypto.SHA256,
	"2.16.840.1.101.3.4.2.2":  crypto.SHA384,
	"2.16.840.1.101.3.4.2.3":  crypto.SHA512,
	"1.2.840.113549.1.1.1":    0, // rsaEncryption used as a digest OID by some signers: invalid
	"2.16.840.1.101.3.4.2.10": 0,
}

// sigOID is a SignerInfo.signatureAlgorithm: its key type and, for the OIDs that name
// one, the hash it signs with (0: the SignerInfo's digest algorithm).
type sigOID struct {
	key  string
	hash crypto.Hash
}

var sigOIDs = map[string]sigOID{
	"1.2.840.113549.1.1.1":   {"RSA", 0},
	"1.2.840.113549.1.1.4":   {"RSA", crypto.MD5},
	"1.2.840.113549.1.1.5":   {"RSA", crypto.SHA1},
	"1.2.840.113549.1.1.14":  {"RSA", crypto.SHA224},
	"1.2.840.113549.1.1.11":  {"RSA", crypto.SHA256},
	"1.2.840.113549.1.1.12":  {"RSA", crypto.SHA384},
	"1.2.840.113549.1.1.13":  {"RSA", crypto.SHA512},
	"1.2.840.10040.4.1":      {"DSA", 0},
	"1.2.840.10040.4.3":      {"DSA", crypto.SHA1},
	"2.16.840.1.101.3.4.3.1": {"DSA", crypto.SHA224},
	"2.16.840.1.101.3.4.3.2": {"DSA", crypto.SHA256},
	"2.16.840.1.101.3.4.3.3": {"DSA", crypto.SHA384},
	"2.16.840.1.101.3.4.3.4": {"DSA", crypto.SHA512},
	"1.2.840.10045.2.1":      {"EC", 0},
	"1.2.840.10045.4.1":      {"EC", crypto.SHA1},
	"1.2.840.10045.4.3.1":    {"EC", crypto.SHA224},
	"1.2.840.10045.4.3.2":    {"EC", crypto.SHA256},
	"1.2.840.10045.4.3.3":    {"EC", crypto.SHA384},
	"1.2.840.10045.4.3.4":    {"EC", crypto.SHA512},
}

type algorithmIdentifier struct {
	Algorithm  asn1.ObjectIdentifier
	Parameters asn1.RawValue `asn1:"optional"`
}

type contentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"explicit,optional,tag:0"`
}

type signedData struct {
	Version          int
	DigestAlgorithms asn1.RawValue
	ContentInfo      contentInfo
	Certificates     asn1.RawValue   `asn1:"optional,tag:0"`
	CRLs             asn1.RawValue   `asn1:"optional,tag:1"`
	SignerInfos      []asn1.RawValue `asn1:"set"`
}

type issuerAndSerial struct {
	Issuer asn1.RawValue
	Serial *big.Int
}

type attribute struct {
	Type   asn1.ObjectIdentifier
	Values asn1.RawValue `asn1:"set"`
}

// pkcs7 is a parsed SignedData.
type pkcs7 struct {
	eContentType asn1.ObjectIdentifier
	certs        []*x509.Certificate
	signerInfos  []asn1.RawValue
}

// errBlock is a SignerInfo problem that makes Android reject the whole signature block
// rather than move on to the next SignerInfo.
type errBlock struct{ err error }

func (e *errBlock) Error() string { return e.err.Error() }
func (e *errBlock) Unwrap() error { return e.err }

func parsePKCS7(der []byte) (*pkcs7, error) {
	var ci contentInfo
	rest, err := asn1.Unmarshal(der, &ci)
	if err != nil {
		return nil, fmt.Errorf("PKCS#7 ContentInfo: %v", err)
	}
	if len(rest) > 0 {
		return nil, errors.New("PKCS#7: trailing data after ContentInfo")
	}
	if !ci.ContentType.Equal(oidSignedData) {
		return nil, fmt.Errorf("PKCS#7 content type %v is not SignedData", ci.ContentType)
	}
	var sd signedData
	if rest, err := asn1.Unmarshal(ci.Content.Bytes, &sd); err != nil || len(rest) > 0 {
		return nil, fmt.Errorf("PKCS#7 SignedData: %v", cmpErr(err, "trailing data"))
	}
	p := &pkcs7{eContentType: sd.ContentInfo.ContentType, signerInfos: sd.SignerInfos}
	if len(sd.ContentInfo.Content.Bytes) > 0 {
		return nil, errors.New("PKCS#7: the signed content is attached; JAR signatures are detached")
	}
	for b := sd.Certificates.Bytes; len(b) > 0; {
		var raw asn1.RawValue
		rest, err := asn1.Unmarshal(b, &raw)
		if err != nil {
			return nil, fmt.Errorf("PKCS#7 certificates: %v", err)
		}
		b = rest
		cert, err := parseCertificate(raw.FullBytes)
		if err != nil {
			return nil, fmt.Errorf("PKCS#7 certificate: %v", err)
		}
		p.certs = append(p.certs, cert)
	}
	if len(p.signerInfos) == 0 {
		return nil, errors.New("PKCS#7: no SignerInfo")
	}
	return p, nil
}

func cmpErr(err error, otherwise string) string {
	if err != nil {
		return err.Error()
	}
	return otherwise
}

// verifySignerInfo verifies one SignerInfo over content (the .SF file) and returns the
// certificate that signed and the signature algorithm's name. An *errBlock error fails
// the whole block, as Android N and later do for a SignerInfo they cannot parse; any
// other error fails only this SignerInfo.
//
// preN verifies as Android before 7.0 does: the content type of the signed attributes is
// not checked.
func (p *pkcs7) verifySignerInfo(si asn1.RawValue, content []byte, preN bool) (*x509.Certificate, string, error) {
	if si.Class != asn1.ClassUniversal || si.Tag != asn1.TagSequence {
		return nil, "", &errBlock{errors.New("SignerInfo is not a SEQUENCE")}
	}
	var fields []asn1.RawValue
	for b := si.Bytes; len(b) > 0; {
		var f asn1.RawValue
		rest, err := asn1.Unmarshal(b, &f)
		if err != nil {
			return nil, "", &errBlock{fmt.Errorf("SignerInfo: %v", err)}
		}
		fields = append(fields, f)
		b = rest
	}
	if len(fields) < 5 {
		return nil, "", &errBlock{errors.New("SignerInfo: too few fields")}
	}
	sid, digestAlgRaw := fields[1], fields[2]
	i := 3
	var signedAttrs *asn1.RawValue
	if fields[i].Class == asn1.ClassContextSpecific && fields[i].Tag == 0 {
		signedAttrs = &fields[i]
		i++
	}
	if len(fields) < i+2 {
		return nil, "", &errBlock{errors.New("SignerInfo: too few fields")}
	}
	sigAlgRaw, sigRaw := fields[i], fields[i+1]

	var digestAlg, sigAlg algorithmIdentifier
	if _, err := asn1.Unmarshal(digestAlgRaw.FullBytes, &digestAlg); err != nil {
		return nil, "", &errBlock{fmt.Errorf("SignerInfo digest algorithm: %v", err)}
	}
	if _, err := asn1.Unmarshal(sigAlgRaw.FullBytes, &sigAlg); err != nil {
		return nil, "", &errBlock{fmt.Errorf("SignerInfo signature algorithm: %v", err)}
	}
	var sig []byte
	if _, err := asn1.Unmarshal(sigRaw.FullBytes, &sig); err != nil {
		return nil, "", &errBlock{fmt.Errorf("SignerInfo signature: %v", err)}
	}
	h, ok := digestOIDs[digestAlg.Algorithm.String()]
	if !ok || h == 0 {
		return nil, "", fmt.Errorf("unsupported digest algorithm %v", digestAlg.Algorithm)
	}
	so, ok := sigOIDs[sigAlg.Algorithm.String()]
	if !ok {
		return nil, "", fmt.Errorf("unsupported signature algorithm %v", sigAlg.Algorithm)
	}
	sigHash := h
	if so.hash != 0 {
		sigHash = so.hash
	}

	cert, err := p.findCert(sid)
	if err != nil {
		return nil, "", err
	}
	if !keyMatches(cert.PublicKey, so.key) {
		return nil, "", fmt.Errorf("signature algorithm %v does not fit the certificate's %T key", sigAlg.Algorithm, cert.PublicKey)
	}
	name := jcaName(sigHash, so.key)

	signed := content
	if signedAttrs != nil {
		md, err := p.checkSignedAttrs(signedAttrs.Bytes, preN)
		if err != nil {
			return nil, name, err
		}
		d := h.New()
		d.Write(content)
		if !bytes.Equal(d.Sum(nil), md) {
			return nil, name, errors.New("the message digest of the signed attributes does not match the .SF file")
		}
		// The signature covers the DER SET OF the attributes, not the [0] IMPLICIT form.
		signed = append([]byte{0x31}, signedAttrs.FullBytes[1:]...)
	}
	if err := verifySignature(cert.PublicKey, sigHash, false, signed, sig); err != nil {
		return nil, name, fmt.Errorf("%s: %v", name, err)
	}
	return cert, name, nil
}

// checkSignedAttrs returns the message digest of the signed attributes and checks their
// content type, as Android N and later do: a missing content type or message digest, or
// more than one message digest, fails the block; a wrong content type fails the
// SignerInfo.
func (p *pkcs7) checkSignedAttrs(b []byte, preN bool) ([]byte, error) {
	var ct asn1.ObjectIdentifier
	var md []byte
	seenCT, seenMD := false, false
	for len(b) > 0 {
		var a attribute
		rest, err := asn1.Unmarshal(b, &a)
		if err != nil {
			return nil, &errBlock{fmt.Errorf("signed attribute: %v", err)}
		}
		b = rest
		var values []asn1.RawValue
		for v := a.Values.Bytes; len(v) > 0; {
			var rv asn1.RawValue
			r, err := asn1.Unmarshal(v, &rv)
			if err != nil {
				return nil, &errBlock{fmt.Errorf("signed attribute value: %v", err)}
			}
			values = append(values, rv)
			v = r
		}
		switch {
		case a.Type.Equal(oidContentType):
			if seenCT || len(values) != 1 {
				return nil, &errBlock{errors.New("signed attributes: more than one content type")}
			}
			seenCT = true
			if _, err := asn1.Unmarshal(values[0].FullBytes, &ct); err != nil {
				return nil, &errBlock{fmt.Errorf("signed content type: %v", err)}
			}
		case a.Type.Equal(oidMessageDigest):
			if seenMD || len(values) != 1 {
				return nil, &errBlock{errors.New("signed attributes: more than one message digest")}
			}
			seenMD = true
			if _, err := asn1.Unmarshal(values[0].FullBytes, &md); err != nil {
				return nil, &errBlock{fmt.Errorf("signed message digest: %v", err)}
			}
		}
	}
	if !seenMD {
		return nil, &errBlock{errors.New("signed attributes: no message digest")}
	}
	if preN {
		return md, nil
	}
	if !seenCT {
		return nil, &errBlock{errors.New("signed attributes: no content type")}
	}
	if !ct.Equal(p.eContentType) {
		return nil, fmt.Errorf("signed content type %v differs from the SignedData's %v", ct, p.eContentType)
	}
	return md, nil
}

// findCert finds the certificate a SignerInfo names by issuer and serial number (or
// subject key identifier). The first certificate of the set is not necessarily it.
func (p *pkcs7) findCert(sid asn1.RawValue) (*x509.Certificate, error) {
	if sid.Class == asn1.ClassContextSpecific && sid.Tag == 0 {
		for _, c := range p.certs {
			if bytes.Equal(c.SubjectKeyId, sid.Bytes) {
				return c, nil
			}
		}
		return nil, errors.New("no certificate with the SignerInfo's subject key identifier")
	}
	var ias issuerAndSerial
	if _, err := asn1.Unmarshal(sid.FullBytes, &ias); err != nil || ias.Serial == nil {
		return nil, &errBlock{fmt.Errorf("SignerInfo issuer and serial number: %v", cmpErr(err, "no serial"))}
	}
	for _, c := range p.certs {
		if c.SerialNumber.Cmp(ias.Serial) == 0 && sameName(c.RawIssuer, ias.Issuer.FullBytes) {
			return c, nil
		}
	}
	return nil, errors.New("no certificate matches the SignerInfo's issuer and serial number")
}

// sameName compares two DER X.500 names as Java's X500Principal does: attribute by
// attribute, the values compared case-insensitively whatever their string type
// (PrintableString in one, UTF8String in the other is the same name).
func sameName(a, b []byte) bool {
	if bytes.Equal(a, b) {
		return true
	}
	var ra, rb pkix.RDNSequence
	if rest, err := asn1.Unmarshal(a, &ra); err != nil || len(rest) > 0 {
		return false
	}
	if rest, err := asn1.Unmarshal(b, &rb); err != nil || len(rest) > 0 {
		return false
	}
	if len(ra) != len(rb) {
		return false
	}
	for i := range ra {
		if len(ra[i]) != len(rb[i]) {
			return false
		}
		for j := range ra[i] {
			x, y := ra[i][j], rb[i][j]
			if !x.Type.Equal(y.Type) || canonical(x.Value) != canonical(y.Value) {
				return false
			}
		}
	}
	return true
}

func canonical(v any) string {
	return strings.ToLower(strings.Join(strings.Fields(fmt.Sprint(v)), " "))
}

// jcaName names a signature algorithm as Java does: SHA256withRSA.
func jcaName(h crypto.Hash, key string) string {
	names := map[crypto.Hash]string{crypto.MD5: "MD5", crypto.SHA1: "SHA1", crypto.SHA224: "SHA224",
		crypto.SHA256: "SHA256", crypto.SHA384: "SHA384", crypto.SHA512: "SHA512"}
	k := key
	if k == "EC" {
		k = "ECDSA"
	}
	return names[h] + "with" + k
}
