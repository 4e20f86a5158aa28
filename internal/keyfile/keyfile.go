// Package keyfile reads a secret key kept in a file outside the database, creating the
// file (mode 0600, in a directory created 0700) with fresh random bytes on first use.
// It knows nothing of what the key is for.
package keyfile

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// LoadOrCreate returns the size-byte key in the file at path, creating the file with a
// random key when it does not exist. A file of another size, or one that other users may
// read, is refused.
func LoadOrCreate(path string, size int) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("keyfile: create directory: %w", err)
		}
		key := make([]byte, size)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("keyfile: generate key: %w", err)
		}
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if errors.Is(err, fs.ErrExist) {
			return LoadOrCreate(path, size) // another process created it first
		}
		if err != nil {
			return nil, fmt.Errorf("keyfile: create %s: %w", path, err)
		}
		_, err = f.Write(key)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, fmt.Errorf("keyfile: write %s: %w", path, err)
		}
		return key, nil
	}
	if err != nil {
		return nil, fmt.Errorf("keyfile: read %s: %w", path, err)
	}
	if len(b) != size {
		return nil, fmt.Errorf("keyfile: %s holds %d bytes, want %d", path, len(b), size)
	}
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("keyfile: %s is readable by other users (mode %v): chmod 600 it", path, st.Mode().Perm())
	}
	return b, nil
}
