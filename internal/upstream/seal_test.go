package upstream

import (
	"bytes"
	"strings"
	"testing"
)

// TestSealedKey: an acknowledgement key is stored sealed, opens for its own node only
// and not under another sealing key.
func TestSealedKey(t *testing.T) {
	r, err := NewRegion(nil, nil, nil, bytes.Repeat([]byte{1}, KeySize))
	if err != nil {
		t.Fatal(err)
	}
	key := bytes.Repeat([]byte{7}, keySize)
	sealed, err := r.seal(4, key)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(sealed, sealedPrefix) || strings.Contains(sealed, string(key)) {
		t.Fatalf("sealed = %q", sealed)
	}
	if got, err := r.open(4, sealed); err != nil || !bytes.Equal(got, key) {
		t.Fatalf("open: %x %v", got, err)
	}
	if _, err := r.open(5, sealed); err == nil {
		t.Error("a key sealed for node 4 opens for node 5")
	}
	other, _ := NewRegion(nil, nil, nil, bytes.Repeat([]byte{2}, KeySize))
	if _, err := other.open(4, sealed); err == nil || !strings.Contains(err.Error(), KeyFile) {
		t.Errorf("open under another sealing key: %v", err)
	}
	for _, damaged := range []string{"", "plain", sealedPrefix + "!!", sealedPrefix + "AAAA"} {
		if _, err := r.open(4, damaged); err == nil {
			t.Errorf("open(%q) succeeded", damaged)
		}
	}
	if _, err := NewRegion(nil, nil, nil, []byte("short")); err == nil {
		t.Error("a short sealing key accepted")
	}
}
