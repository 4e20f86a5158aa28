package apk

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
)

// The proof-of-rotation attribute of a v3 (or v3.1) signer: the signing certificate
// lineage, oldest certificate first, each node signed by the key of the node before it.
//
//	uint32 version (1)
//	sequence of length-prefixed nodes:
//	  length-prefixed signed data: length-prefixed certificate, uint32 algorithm the parent signed with
//	  uint32 flags
//	  uint32 algorithm this node signs the next with
//	  length-prefixed signature (by the parent) over the signed data

// maxLineage bounds the nodes read of a lineage.
const maxLineage = 64

// verifyLineage checks a proof-of-rotation value and returns the certificates' SHA-256,
// oldest first. The newest certificate must be the signer's.
func verifyLineage(value []byte, signer *x509.Certificate) ([]string, error) {
	r := &lpReader{b: value, what: "lineage"}
	version, err := r.uint32()
	if err != nil {
		return nil, err
	}
	if version != 1 {
		return nil, fmt.Errorf("lineage version %d unknown", version)
	}
	var last *x509.Certificate
	var lastAlg uint32
	var out []string
	for n := 1; !r.empty(); n++ {
		if n > maxLineage {
			return nil, fmt.Errorf("more than %d certificates in the lineage", maxLineage)
		}
		node, err := r.prefixed(fmt.Sprintf("lineage node #%d", n))
		if err != nil {
			return nil, err
		}
		signed, err := node.prefixed("lineage signed data")
		if err != nil {
			return nil, err
		}
		raw := signed.b
		if _, err := node.uint32(); err != nil { // flags
			return nil, err
		}
		alg, err := node.uint32()
		if err != nil {
			return nil, err
		}
		sig, err := node.prefixed("lineage signature")
		if err != nil {
			return nil, err
		}
		certRaw, err := signed.prefixed("lineage certificate")
		if err != nil {
			return nil, err
		}
		parentAlg, err := signed.uint32()
		if err != nil {
			return nil, err
		}
		if last != nil {
			if parentAlg != lastAlg {
				return nil, fmt.Errorf("lineage node #%d: signed with algorithm %#x, its parent names %#x", n, parentAlg, lastAlg)
			}
			a, ok := sigAlgs[lastAlg]
			if !ok {
				return nil, fmt.Errorf("lineage node #%d: unknown signature algorithm %#x", n, lastAlg)
			}
			if !keyMatches(last.PublicKey, a.key) {
				return nil, fmt.Errorf("lineage node #%d: algorithm %s does not fit the parent's key", n, a.name)
			}
			if err := verifySignature(last.PublicKey, a.hash, a.pss, raw, sig.b); err != nil {
				return nil, fmt.Errorf("lineage node #%d: the parent's %s signature: %v", n, a.name, err)
			}
		}
		cert, err := parseCertificate(certRaw.b)
		if err != nil {
			return nil, fmt.Errorf("lineage node #%d certificate: %v", n, err)
		}
		sum := sha256.Sum256(cert.Raw)
		out = append(out, hex.EncodeToString(sum[:]))
		last, lastAlg = cert, alg
	}
	if last == nil {
		return nil, errors.New("empty lineage")
	}
	if signer != nil && !bytes.Equal(last.Raw, signer.Raw) {
		return nil, errors.New("the newest certificate of the lineage is not the signer's")
	}
	return out, nil
}
