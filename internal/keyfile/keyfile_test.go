package keyfile

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestLoadOrCreate: the first call creates a 0600 file (in a 0700 directory) with a
// random key, the next reads the same key, and a file of the wrong size or readable by
// others is refused.
func TestLoadOrCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "notify.key")
	k1, err := LoadOrCreate(path, 16)
	if err != nil || len(k1) != 16 {
		t.Fatalf("create: %v (%d bytes)", err, len(k1))
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, %v; want 0600", st.Mode().Perm(), err)
	}
	k2, err := LoadOrCreate(path, 16)
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatalf("reload: %v, same key %v", err, bytes.Equal(k1, k2))
	}
	if _, err := LoadOrCreate(path, 32); err == nil {
		t.Error("a key of the wrong size was accepted")
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreate(path, 16); err == nil {
		t.Error("a key file readable by others was accepted")
	}
}
