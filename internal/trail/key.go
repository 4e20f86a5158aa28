package trail

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/medguard/medguard/internal/store"
)

// KeySize is the size of the secret the chain's MACs are computed with.
const KeySize = 32

// Key is the secret the chain's MACs are computed with, and the head of the chain when
// the key was created: the last sequence number that may hold an unkeyed entry and its
// hash, which pins the unkeyed part of the chain the way a checkpoint does.
type Key struct {
	secret      []byte
	LegacyUntil int64
	LegacyHead  string // hash of entry LegacyUntil; empty when not recorded
}

// NewKey returns a key of secret (at least KeySize bytes) for a chain whose entries up
// to legacyUntil were written before the key existed.
func NewKey(secret []byte, legacyUntil int64) (Key, error) {
	if len(secret) < KeySize {
		return Key{}, fmt.Errorf("trail: the trail key must hold at least %d bytes, not %d", KeySize, len(secret))
	}
	if legacyUntil < 0 {
		return Key{}, errors.New("trail: legacy-until must not be negative")
	}
	return Key{secret: bytes.Clone(secret), LegacyUntil: legacyUntil}, nil
}

// GenerateKey returns a fresh random key for a chain that holds no unkeyed entry.
func GenerateKey() (Key, error) {
	return generateKey(0)
}

func generateKey(legacyUntil int64) (Key, error) {
	b := make([]byte, KeySize)
	if _, err := rand.Read(b); err != nil {
		return Key{}, fmt.Errorf("trail: generate key: %w", err)
	}
	return Key{secret: b, LegacyUntil: legacyUntil}, nil
}

const keyFileHeader = "medguard trail key v1"

// marshal returns the text of the key file: a header line, the secret in hex, the last
// entry that may be unkeyed and that entry's hash.
func (k Key) marshal() []byte {
	return fmt.Appendf(nil, "%s\nsecret %s\nlegacy-until %d\nlegacy-head %s\n", keyFileHeader, hex.EncodeToString(k.secret), k.LegacyUntil, k.LegacyHead)
}

func parseKey(b []byte) (Key, error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	var lines []string
	for sc.Scan() {
		lines = append(lines, strings.TrimSpace(sc.Text()))
	}
	if len(lines) != 4 || lines[0] != keyFileHeader {
		return Key{}, errors.New("not a medguard trail key file (want four lines: header, secret, legacy-until, legacy-head)")
	}
	hexSecret, ok := strings.CutPrefix(lines[1], "secret ")
	if !ok {
		return Key{}, errors.New("line 2 must be: secret <hex>")
	}
	secret, err := hex.DecodeString(hexSecret)
	if err != nil {
		return Key{}, errors.New("line 2: the secret is not hexadecimal")
	}
	until, ok := strings.CutPrefix(lines[2], "legacy-until ")
	if !ok {
		return Key{}, errors.New("line 3 must be: legacy-until <sequence number>")
	}
	n, err := strconv.ParseInt(until, 10, 64)
	if err != nil {
		return Key{}, errors.New("line 3: legacy-until is not a number")
	}
	head, ok := strings.CutPrefix(lines[3], "legacy-head ")
	if h, err := hex.DecodeString(head); !ok || err != nil || len(h) != 32 {
		return Key{}, errors.New("line 4 must be: legacy-head <64 hexadecimal digits>")
	}
	k, err := NewKey(secret, n)
	k.LegacyHead = head
	return k, err
}

// Head returns the sequence number and MAC recorded as the head of the chain.
func Head(ctx context.Context, q store.Querier) (seq int64, hash string, err error) {
	if err := q.QueryRowContext(ctx, `SELECT seq, hash FROM trail_head WHERE id = 1`).Scan(&seq, &hash); err != nil {
		return 0, "", fmt.Errorf("trail: read head: %w", err)
	}
	return seq, hash, nil
}

// LoadOrCreateKey reads the trail key from the file at path. When the file does not
// exist it creates one (mode 0600, in a directory created 0700) holding a fresh random
// secret and the chain's current head as the last entry that may stay unkeyed — unless
// the chain already holds keyed entries, whose key would then be lost: that is refused.
// A file readable by other users, or malformed, is refused.
func LoadOrCreateKey(ctx context.Context, path string, q store.Querier) (Key, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		seq, headHash, err := Head(ctx, q)
		if err != nil {
			return Key{}, err
		}
		var alg string
		err = q.QueryRowContext(ctx, `SELECT alg FROM trail WHERE seq = ?`, seq).Scan(&alg)
		if err == nil {
			if _, keyed, _ := baseAlg(alg); keyed {
				return Key{}, fmt.Errorf("trail: the key file %s is missing but the trail holds entries keyed with it: restore the file from a backup (a new key would break the chain)", path)
			}
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return Key{}, fmt.Errorf("trail: create key directory: %w", err)
		}
		k, err := generateKey(seq)
		if err != nil {
			return Key{}, err
		}
		k.LegacyHead = headHash
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if errors.Is(err, fs.ErrExist) {
			return LoadOrCreateKey(ctx, path, q) // another process created it first
		}
		if err != nil {
			return Key{}, fmt.Errorf("trail: create key file: %w", err)
		}
		_, err = f.Write(k.marshal())
		if serr := f.Sync(); err == nil {
			err = serr
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return Key{}, fmt.Errorf("trail: write key file %s: %w", path, err)
		}
		return k, nil
	}
	if err != nil {
		return Key{}, fmt.Errorf("trail: read key file: %w", err)
	}
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
		return Key{}, fmt.Errorf("trail: key file %s is readable by other users (mode %v): chmod 600 it", path, st.Mode().Perm())
	}
	k, err := parseKey(b)
	if err != nil {
		return Key{}, fmt.Errorf("trail: key file %s: %w", path, err)
	}
	return k, nil
}
