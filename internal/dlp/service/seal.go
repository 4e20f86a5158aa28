package dlpsvc

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/emmansun/gmsm/sm4"

	"github.com/medguard/medguard/internal/keyfile"
)

// KeySize is the size of the SM4 key that seals raw values.
const KeySize = sm4.BlockSize

// LoadOrCreateKey reads the raw-value key from the file at path, creating the file
// (mode 0600, in a directory created 0700) with a fresh random key when it does not
// exist. A file of the wrong size or readable by others is refused.
func LoadOrCreateKey(path string) ([]byte, error) {
	key, err := keyfile.LoadOrCreate(path, KeySize)
	if err != nil {
		return nil, fmt.Errorf("dlp: %w", err)
	}
	return key, nil
}

// sealer seals raw values with SM4-GCM. The additional data binds a sealed value to its
// scan and type, so that a value copied into another row does not open.
type sealer struct {
	aead cipher.AEAD
}

func newSealer(key []byte) (*sealer, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("dlp: the raw-value key must be %d bytes, not %d", KeySize, len(key))
	}
	b, err := sm4.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("dlp: SM4 key: %w", err)
	}
	aead, err := cipher.NewGCM(b)
	if err != nil {
		return nil, fmt.Errorf("dlp: SM4-GCM: %w", err)
	}
	return &sealer{aead: aead}, nil
}

func additional(scanID int64, typ string) []byte {
	b := binary.BigEndian.AppendUint64(nil, uint64(scanID))
	return append(b, typ...)
}

// Seal returns nonce ‖ ciphertext of value.
func (s *sealer) Seal(scanID int64, typ string, value []byte) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(value)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("dlp: nonce: %w", err)
	}
	return s.aead.Seal(nonce, nonce, value, additional(scanID, typ)), nil
}

// Open returns the value sealed in b.
func (s *sealer) Open(scanID int64, typ string, b []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(b) < n+s.aead.Overhead() {
		return nil, errors.New("dlp: sealed value is too short")
	}
	out, err := s.aead.Open(nil, b[:n], b[n:], additional(scanID, typ))
	if err != nil {
		return nil, fmt.Errorf("dlp: open sealed value: %w", err)
	}
	return out, nil
}
