package dlpsvc

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/emmansun/gmsm/sm4"
)

// KeySize is the size of the SM4 key that seals raw values.
const KeySize = sm4.BlockSize

// LoadOrCreateKey reads the raw-value key from the file at path, creating the file
// (mode 0600, in a directory created 0700) with a fresh random key when it does not
// exist. A file of the wrong size or readable by others is refused.
func LoadOrCreateKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("dlp: create key directory: %w", err)
		}
		key := make([]byte, KeySize)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("dlp: generate key: %w", err)
		}
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if errors.Is(err, fs.ErrExist) {
			return LoadOrCreateKey(path) // another process created it first
		}
		if err != nil {
			return nil, fmt.Errorf("dlp: create key file: %w", err)
		}
		_, err = f.Write(key)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, fmt.Errorf("dlp: write key file %s: %w", path, err)
		}
		return key, nil
	}
	if err != nil {
		return nil, fmt.Errorf("dlp: read key file: %w", err)
	}
	if len(b) != KeySize {
		return nil, fmt.Errorf("dlp: key file %s holds %d bytes, want %d", path, len(b), KeySize)
	}
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("dlp: key file %s is readable by other users (mode %v): chmod 600 it", path, st.Mode().Perm())
	}
	return b, nil
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
