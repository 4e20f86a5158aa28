package app

import (
	"bytes"
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/medguard/medguard/internal/appreg"
	"github.com/medguard/medguard/internal/appscore"
	"github.com/medguard/medguard/internal/authcode"
)

// AuthcodeDir is the directory under the data directory holding the keys that sign
// authorization codes: authcode-KEYID.key (private, 0600) and authcode-KEYID.pub, as
// `medguard authcode keygen --out DIR` writes them.
const AuthcodeDir = "authcode"

// openCodes loads the code-signing keys of dir, making one of alg when there is none:
// the newest private key (by modification time) signs; every public key verifies, so
// that codes signed before a rotation verify until they expire.
func openCodes(dir, alg string) (*appreg.SignedCodes, error) {
	keys, err := filepath.Glob(filepath.Join(dir, "authcode-*.key"))
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		a, err := authcode.ParseAlgorithm(cmp.Or(alg, "ed25519"))
		if err != nil {
			return nil, fmt.Errorf("apps: code algorithm: %w", err)
		}
		s, err := authcode.GenerateKey(a)
		if err != nil {
			return nil, fmt.Errorf("apps: generate the code-signing key: %w", err)
		}
		priv, err := s.MarshalPEM()
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("apps: %w", err)
		}
		base := filepath.Join(dir, "authcode-"+s.Public().ID())
		if err := os.WriteFile(base+".key", priv, 0o600); err != nil {
			return nil, fmt.Errorf("apps: write the code-signing key: %w", err)
		}
		if err := os.WriteFile(base+".pub", s.Public().MarshalPEM(), 0o644); err != nil {
			return nil, fmt.Errorf("apps: write the code-signing key: %w", err)
		}
		keys = []string{base + ".key"}
	}
	newest, newestAt := "", int64(0)
	for _, k := range keys {
		fi, err := os.Stat(k)
		if err != nil {
			return nil, fmt.Errorf("apps: %w", err)
		}
		if at := fi.ModTime().UnixNano(); newest == "" || at > newestAt || (at == newestAt && k > newest) {
			newest, newestAt = k, at
		}
	}
	b, err := os.ReadFile(newest)
	if err != nil {
		return nil, fmt.Errorf("apps: %w", err)
	}
	signer, err := authcode.ParsePrivateKeyPEM(b)
	if err != nil {
		return nil, fmt.Errorf("apps: %s: %w", newest, err)
	}
	pubs, err := filepath.Glob(filepath.Join(dir, "authcode-*.pub"))
	if err != nil {
		return nil, err
	}
	var previous []*authcode.PublicKey
	for _, p := range pubs {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("apps: %w", err)
		}
		k, err := authcode.ParsePublicKeyPEM(b)
		if err != nil {
			return nil, fmt.Errorf("apps: %s: %w", p, err)
		}
		if k.ID() != signer.Public().ID() {
			previous = append(previous, k)
		}
	}
	return appreg.NewSignedCodes(signer, previous...)
}

// PublicKeysPEM returns the public keys that verify the registry's codes, the signing
// key first: what `medguard authcode verify --pubkey` reads.
func PublicKeysPEM(c *appreg.SignedCodes) []byte {
	var buf bytes.Buffer
	buf.Write(c.Signer.Public().MarshalPEM())
	keys := c.Ring.Keys()
	slices.SortFunc(keys, func(a, b *authcode.PublicKey) int { return strings.Compare(a.ID(), b.ID()) })
	for _, k := range keys {
		if k.ID() != c.Signer.Public().ID() {
			buf.Write(k.MarshalPEM())
		}
	}
	return buf.Bytes()
}

// scoreModel reads the evaluation model of path, or the built-in one.
func scoreModel(path string) (appscore.Model, error) {
	if path == "" {
		return appscore.DefaultModel(), nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return appscore.Model{}, fmt.Errorf("config: apps.score_model: %w", err)
	}
	m, err := appscore.ParseModel(b)
	if err != nil {
		return appscore.Model{}, fmt.Errorf("config: apps.score_model %s: %w", path, err)
	}
	return m, nil
}
