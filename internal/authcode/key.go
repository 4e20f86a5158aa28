package authcode

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
)

// Algorithm names a signature algorithm of authorization codes, as written in a code's
// "alg" field.
type Algorithm string

// The algorithms of authorization codes.
const (
	// Ed25519 is the default: pure Ed25519 (RFC 8032) over the signing input.
	Ed25519 Algorithm = "Ed25519"
	// SM2 is SM2 with SM3 (GB/T 32918.2) and the default user id "1234567812345678",
	// the signature ASN.1 DER-encoded.
	SM2 Algorithm = "SM2-SM3"
)

// Algorithms lists the supported algorithms, the default first.
var Algorithms = []Algorithm{Ed25519, SM2}

// ParseAlgorithm returns the algorithm named s: "ed25519" or "sm2" as an operator types
// them, or the names of a code's "alg" field ("Ed25519", "SM2-SM3").
func ParseAlgorithm(s string) (Algorithm, error) {
	switch s {
	case "ed25519", "Ed25519":
		return Ed25519, nil
	case "sm2", "SM2", "SM2-SM3", "sm2-sm3":
		return SM2, nil
	}
	return "", fmt.Errorf("%w %q (want ed25519 or sm2)", ErrUnknownAlgorithm, s)
}

// PEM block types of the key files.
const (
	pemPrivate = "PRIVATE KEY" // PKCS #8
	pemPublic  = "PUBLIC KEY"  // PKIX SubjectPublicKeyInfo
)

// maxPEM bounds a key file: a key ring of a few dozen public keys fits easily.
const maxPEM = 64 << 10

// PublicKey is a public key that verifies authorization codes, with its algorithm and its
// key id (the first 16 hex digits of the SHA-256 of its PKIX DER encoding).
type PublicKey struct {
	alg Algorithm
	id  string
	key crypto.PublicKey // ed25519.PublicKey or *ecdsa.PublicKey on the SM2 curve
	der []byte           // PKIX
}

// ID returns the key id written into the codes the key's private half signs.
func (k *PublicKey) ID() string { return k.id }

// Algorithm returns the algorithm the key verifies.
func (k *PublicKey) Algorithm() Algorithm { return k.alg }

// MarshalPEM returns the key as a PEM "PUBLIC KEY" block (PKIX).
func (k *PublicKey) MarshalPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: pemPublic, Bytes: k.der})
}

// PublicKey returns k itself when id is its key id: a single key is a Keys of one.
func (k *PublicKey) PublicKey(id string) (*PublicKey, bool) {
	return k, k != nil && id == k.id
}

// verify reports whether sig is k's signature of msg.
func (k *PublicKey) verify(msg, sig []byte) bool {
	switch pub := k.key.(type) {
	case ed25519.PublicKey:
		return k.alg == Ed25519 && len(sig) == ed25519.SignatureSize && ed25519.Verify(pub, msg, sig)
	case *ecdsa.PublicKey:
		return k.alg == SM2 && sm2.VerifyASN1WithSM2(pub, nil, msg, sig)
	}
	return false
}

// newPublicKey wraps a parsed public key, refusing the kinds codes are not signed with.
func newPublicKey(pub any) (*PublicKey, error) {
	var alg Algorithm
	switch k := pub.(type) {
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("authcode: an Ed25519 public key is %d bytes, got %d", ed25519.PublicKeySize, len(k))
		}
		alg = Ed25519
	case *ecdsa.PublicKey:
		if k.Curve != sm2.P256() {
			return nil, fmt.Errorf("authcode: an ECDSA key on %s, not an SM2 key", k.Curve.Params().Name)
		}
		alg = SM2
	default:
		return nil, fmt.Errorf("authcode: a %T key; authorization codes are signed with Ed25519 or SM2", pub)
	}
	der, err := smx509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("authcode: encode public key: %w", err)
	}
	sum := sha256.Sum256(der)
	return &PublicKey{alg: alg, id: hex.EncodeToString(sum[:8]), key: pub, der: der}, nil
}

// ParsePublicKeyPEM reads exactly one PEM "PUBLIC KEY" block (PKIX) holding an Ed25519
// or SM2 key.
func ParsePublicKeyPEM(b []byte) (*PublicKey, error) {
	ring, err := ParseKeyRingPEM(b)
	if err != nil {
		return nil, err
	}
	if len(ring.keys) != 1 {
		return nil, fmt.Errorf("authcode: %d public keys where one was expected", len(ring.keys))
	}
	return ring.keys[0], nil
}

// Keys finds the public key of a key id. *PublicKey (a single key) and *KeyRing
// (several) implement it.
type Keys interface {
	PublicKey(id string) (*PublicKey, bool)
}

// KeyRing holds the public keys that verify codes: the current key and the previous ones,
// so that codes signed before a rotation verify until they expire. Its zero value is an
// empty ring.
type KeyRing struct {
	keys []*PublicKey
}

// NewKeyRing returns a ring of keys; two keys with one id are refused.
func NewKeyRing(keys ...*PublicKey) (*KeyRing, error) {
	r := &KeyRing{}
	for _, k := range keys {
		if err := r.Add(k); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Add adds a key to the ring; a key already there (same id) is refused.
func (r *KeyRing) Add(k *PublicKey) error {
	if k == nil {
		return errors.New("authcode: no key")
	}
	if _, dup := r.PublicKey(k.id); dup {
		return fmt.Errorf("authcode: key %s is in the ring twice", k.id)
	}
	r.keys = append(r.keys, k)
	return nil
}

// PublicKey returns the key whose id is id.
func (r *KeyRing) PublicKey(id string) (*PublicKey, bool) {
	if r == nil {
		return nil, false
	}
	i := slices.IndexFunc(r.keys, func(k *PublicKey) bool { return k.id == id })
	if i < 0 {
		return nil, false
	}
	return r.keys[i], true
}

// Keys returns the ring's keys in the order they were added.
func (r *KeyRing) Keys() []*PublicKey { return slices.Clone(r.keys) }

// ParseKeyRingPEM reads one or more PEM "PUBLIC KEY" blocks, as a key file holding the
// current and previous keys does. Text between blocks (comments) is ignored; anything
// that is not a public key, a private key above all, is refused.
func ParseKeyRingPEM(b []byte) (*KeyRing, error) {
	if len(b) > maxPEM {
		return nil, fmt.Errorf("authcode: key file of %d bytes, more than %d", len(b), maxPEM)
	}
	r := &KeyRing{}
	rest := b
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		switch block.Type {
		case pemPublic:
		case pemPrivate, "EC PRIVATE KEY", "RSA PRIVATE KEY", "ENCRYPTED PRIVATE KEY":
			return nil, errors.New("authcode: the file holds a private key; verification needs only the public key (.pub)")
		default:
			return nil, fmt.Errorf("authcode: PEM block %q, want %q", block.Type, pemPublic)
		}
		pub, err := smx509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("authcode: bad public key: %v", err)
		}
		k, err := newPublicKey(pub)
		if err != nil {
			return nil, err
		}
		if err := r.Add(k); err != nil {
			return nil, err
		}
	}
	if len(r.keys) == 0 {
		return nil, errors.New("authcode: no PEM \"PUBLIC KEY\" block (-----BEGIN PUBLIC KEY-----)")
	}
	return r, nil
}

// Signer is a private key that issues authorization codes.
type Signer struct {
	pub  *PublicKey
	sign func(msg []byte) ([]byte, error)
	priv any // ed25519.PrivateKey or *sm2.PrivateKey
}

// GenerateKey returns a new random key of alg.
func GenerateKey(alg Algorithm) (*Signer, error) {
	switch alg {
	case Ed25519:
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("authcode: generate key: %w", err)
		}
		return newSigner(priv)
	case SM2:
		priv, err := sm2.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("authcode: generate key: %w", err)
		}
		return newSigner(priv)
	}
	return nil, fmt.Errorf("%w %q", ErrUnknownAlgorithm, alg)
}

// newSigner wraps a private key.
func newSigner(priv any) (*Signer, error) {
	switch k := priv.(type) {
	case ed25519.PrivateKey:
		if len(k) != ed25519.PrivateKeySize {
			return nil, fmt.Errorf("authcode: an Ed25519 private key is %d bytes, got %d", ed25519.PrivateKeySize, len(k))
		}
		pub, err := newPublicKey(k.Public())
		if err != nil {
			return nil, err
		}
		return &Signer{pub: pub, priv: k, sign: func(msg []byte) ([]byte, error) { return ed25519.Sign(k, msg), nil }}, nil
	case *sm2.PrivateKey:
		pub, err := newPublicKey(&k.PublicKey)
		if err != nil {
			return nil, err
		}
		return &Signer{pub: pub, priv: k, sign: func(msg []byte) ([]byte, error) {
			return sm2.SignASN1(rand.Reader, k, msg, sm2.NewSM2SignerOption(true, nil))
		}}, nil
	}
	return nil, fmt.Errorf("authcode: a %T private key; authorization codes are signed with Ed25519 or SM2", priv)
}

// Public returns the public half of the key, which verifies the codes it issues.
func (s *Signer) Public() *PublicKey { return s.pub }

// MarshalPEM returns the private key as a PEM "PRIVATE KEY" block (PKCS #8, unencrypted):
// keep it in a file only its owner may read.
func (s *Signer) MarshalPEM() ([]byte, error) {
	der, err := smx509.MarshalPKCS8PrivateKey(s.priv)
	if err != nil {
		return nil, fmt.Errorf("authcode: encode private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemPrivate, Bytes: der}), nil
}

// ParsePrivateKeyPEM reads exactly one PEM "PRIVATE KEY" block (PKCS #8) holding an
// Ed25519 or SM2 key.
func ParsePrivateKeyPEM(b []byte) (*Signer, error) {
	if len(b) > maxPEM {
		return nil, fmt.Errorf("authcode: key file of %d bytes, more than %d", len(b), maxPEM)
	}
	block, rest := pem.Decode(b)
	if block == nil {
		return nil, errors.New("authcode: no PEM \"PRIVATE KEY\" block (-----BEGIN PRIVATE KEY-----)")
	}
	if block.Type != pemPrivate {
		return nil, fmt.Errorf("authcode: PEM block %q, want %q (PKCS #8)", block.Type, pemPrivate)
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, errors.New("authcode: more than one PEM block in a private key file")
	}
	priv, err := smx509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("authcode: bad private key: %v", err)
	}
	return newSigner(priv)
}
