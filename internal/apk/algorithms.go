package apk

import (
	"crypto"
	//lint:ignore SA1019 old APKs are DSA signed (v1, v2 and v3 all allow it): verifying them needs crypto/dsa.
	"crypto/dsa"
	"crypto/ecdsa"
	_ "crypto/md5" // registers MD5 for RSA PKCS#1 v1.5 signatures of old v1 signers
	"crypto/rsa"
	_ "crypto/sha1" // registers SHA-1 for v1 signers
	_ "crypto/sha256"
	_ "crypto/sha512"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
)

// sigAlg is a signature algorithm of APK Signature Scheme v2/v3.
type sigAlg struct {
	id     uint32
	name   string
	hash   crypto.Hash // the hash signed
	key    string      // RSA, EC, DSA
	pss    bool
	digest digestAlg // the content digest it comes with
}

// digestAlg is a content digest algorithm of APK Signature Scheme v2/v3.
type digestAlg int

const (
	digestChunkedSHA256 digestAlg = iota + 1
	digestChunkedSHA512
	digestVeritySHA256
)

// sigAlgs are the signature algorithms Android verifies in v2/v3 blocks; others are
// ignored as Android ignores them (an APK must carry at least one it knows).
var sigAlgs = map[uint32]sigAlg{
	0x0101: {0x0101, "RSASSA-PSS with SHA-256", crypto.SHA256, "RSA", true, digestChunkedSHA256},
	0x0102: {0x0102, "RSASSA-PSS with SHA-512", crypto.SHA512, "RSA", true, digestChunkedSHA512},
	0x0103: {0x0103, "RSASSA-PKCS1-v1_5 with SHA-256", crypto.SHA256, "RSA", false, digestChunkedSHA256},
	0x0104: {0x0104, "RSASSA-PKCS1-v1_5 with SHA-512", crypto.SHA512, "RSA", false, digestChunkedSHA512},
	0x0201: {0x0201, "ECDSA with SHA-256", crypto.SHA256, "EC", false, digestChunkedSHA256},
	0x0202: {0x0202, "ECDSA with SHA-512", crypto.SHA512, "EC", false, digestChunkedSHA512},
	0x0301: {0x0301, "DSA with SHA-256", crypto.SHA256, "DSA", false, digestChunkedSHA256},
	0x0421: {0x0421, "RSASSA-PKCS1-v1_5 with SHA-256 (verity)", crypto.SHA256, "RSA", false, digestVeritySHA256},
	0x0423: {0x0423, "ECDSA with SHA-256 (verity)", crypto.SHA256, "EC", false, digestVeritySHA256},
	0x0425: {0x0425, "DSA with SHA-256 (verity)", crypto.SHA256, "DSA", false, digestVeritySHA256},
}

// errBadSignature is a signature that does not verify (as opposed to one that cannot be
// checked).
var errBadSignature = errors.New("signature does not verify")

// verifySignature checks sig over data with pub, hashing data with h. pss selects
// RSASSA-PSS (salt as long as the digest, as apksigner writes it) for RSA keys.
func verifySignature(pub crypto.PublicKey, h crypto.Hash, pss bool, data, sig []byte) error {
	if !h.Available() {
		return fmt.Errorf("hash %v not available", h)
	}
	d := h.New()
	d.Write(data)
	sum := d.Sum(nil)
	switch k := pub.(type) {
	case *rsa.PublicKey:
		var err error
		if pss {
			err = rsa.VerifyPSS(k, h, sum, sig, &rsa.PSSOptions{SaltLength: h.Size(), Hash: h})
		} else {
			err = rsa.VerifyPKCS1v15(k, h, sum, sig)
		}
		if err != nil {
			return errBadSignature
		}
		return nil
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(k, sum, sig) {
			return errBadSignature
		}
		return nil
	case *dsa.PublicKey:
		var rs struct{ R, S *big.Int }
		rest, err := asn1.Unmarshal(sig, &rs)
		if err != nil || len(rest) > 0 || rs.R == nil || rs.S == nil {
			return fmt.Errorf("DSA signature is not a DER SEQUENCE of two INTEGERs")
		}
		if k.Q == nil || k.Q.Sign() <= 0 || k.P == nil || k.G == nil || k.Y == nil {
			return fmt.Errorf("DSA public key incomplete")
		}
		// FIPS 186-3 4.6: the leftmost min(N, outlen) bits of the hash.
		if n := (k.Q.BitLen() + 7) / 8; len(sum) > n {
			sum = sum[:n]
		}
		if !dsa.Verify(k, sum, rs.R, rs.S) {
			return errBadSignature
		}
		return nil
	}
	return fmt.Errorf("unsupported public key type %T", pub)
}

// keyAlgorithm names pub's algorithm and size in bits.
func keyAlgorithm(pub crypto.PublicKey) (string, int) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return "RSA", k.N.BitLen()
	case *ecdsa.PublicKey:
		return "EC", k.Curve.Params().BitSize
	case *dsa.PublicKey:
		if k.P != nil {
			return "DSA", k.P.BitLen()
		}
		return "DSA", 0
	}
	return fmt.Sprintf("%T", pub), 0
}

func keyMatches(pub crypto.PublicKey, key string) bool {
	k, _ := keyAlgorithm(pub)
	return k == key
}
