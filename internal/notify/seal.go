package notify

import (
	"context"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/emmansun/gmsm/sm4"
)

// KeySize is the size of the SM4 key that seals channel secrets (notify.key).
const KeySize = sm4.BlockSize

// sealedPrefix marks a secret stored sealed: "sm4gcm:" + base64(nonce ‖ ciphertext). A
// stored secret without it is a plain one written before secrets were sealed: it is read
// as it is until SealPlain (run when a server starts) seals it.
const sealedPrefix = "sm4gcm:"

// errNoKey: a secret cannot be sealed or opened without the key.
var errNoKey = errors.New("notify: no key to seal channel secrets with (Options.Key)")

// newAEAD returns SM4-GCM with key, or nil for no key.
func newAEAD(key []byte) (cipher.AEAD, error) {
	if key == nil {
		return nil, nil
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("notify: the secret key must be %d bytes, not %d", KeySize, len(key))
	}
	b, err := sm4.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("notify: SM4 key: %w", err)
	}
	return cipher.NewGCM(b)
}

// secretAD binds a sealed secret to its channel's organisation and name, so that a value
// copied into another channel's row does not open.
func secretAD(orgID int64, name string) []byte {
	return []byte("notify.channel.secret\x00" + strconv.FormatInt(orgID, 10) + "\x00" + name)
}

// sealSecret returns what is stored for a channel's secret ("" stays "").
func (s *Service) sealSecret(orgID int64, name, secret string) (string, error) {
	if secret == "" {
		return "", nil
	}
	if s.aead == nil {
		return "", errNoKey
	}
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(secret)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("notify: nonce: %w", err)
	}
	return sealedPrefix + base64.StdEncoding.EncodeToString(s.aead.Seal(nonce, nonce, []byte(secret), secretAD(orgID, name))), nil
}

// openSecret returns the secret a channel's row stores: opened when sealed, as it is
// when it is a plain one from before sealing.
func (s *Service) openSecret(orgID int64, name, stored string) (string, error) {
	rest, sealed := strings.CutPrefix(stored, sealedPrefix)
	if !sealed {
		return stored, nil
	}
	if s.aead == nil {
		return "", errNoKey
	}
	b, err := base64.StdEncoding.DecodeString(rest)
	n := s.aead.NonceSize()
	if err != nil || len(b) < n+s.aead.Overhead() {
		return "", errors.New("notify: a sealed channel secret is damaged")
	}
	out, err := s.aead.Open(nil, b[:n], b[n:], secretAD(orgID, name))
	if err != nil {
		return "", fmt.Errorf("notify: open a channel secret (is notify.key the one it was sealed with?): %w", err)
	}
	return string(out), nil
}

// SealPlain seals the channel secrets stored in plain text (rows written before secrets
// were sealed) and returns how many it sealed. A server runs it once when it starts.
func (s *Service) SealPlain(ctx context.Context) (int, error) {
	if s.aead == nil {
		return 0, nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, org_id, name, secret FROM notify_channels WHERE secret <> '' AND secret NOT LIKE 'sm4gcm:%'`)
	if err != nil {
		return 0, fmt.Errorf("notify: plain secrets: %w", err)
	}
	type plain struct {
		id, org      int64
		name, secret string
	}
	var todo []plain
	for rows.Next() {
		var p plain
		if err := rows.Scan(&p.id, &p.org, &p.name, &p.secret); err != nil {
			rows.Close()
			return 0, fmt.Errorf("notify: plain secrets: %w", err)
		}
		todo = append(todo, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("notify: plain secrets: %w", err)
	}
	for _, p := range todo {
		sealed, err := s.sealSecret(p.org, p.name, p.secret)
		if err != nil {
			return 0, err
		}
		// Only if it is still the plain value read above.
		if _, err := s.db.ExecContext(ctx, `UPDATE notify_channels SET secret = ? WHERE id = ? AND secret = ?`, sealed, p.id, p.secret); err != nil {
			return 0, fmt.Errorf("notify: seal secret of channel %d: %w", p.id, err)
		}
	}
	return len(todo), nil
}
