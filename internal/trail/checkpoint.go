package trail

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/medguard/medguard/internal/store"
)

// CheckpointFormat names the format and version of a checkpoint document.
const CheckpointFormat = "medguard-trail-checkpoint/1"

// Checkpoint is a signed statement of the chain's head at a moment: the chain then held
// entries 1 to Seq and entry Seq had MAC Hash. It is one JSON document (one line in a
// checkpoint file) that an operator can copy off the machine; PublicKey names the
// Ed25519 key that signed it, Signature signs SignedText.
type Checkpoint struct {
	Format    string    `json:"format"`
	Seq       int64     `json:"seq"`
	Hash      string    `json:"hash"`
	Alg       string    `json:"alg"` // algorithm of entry Seq; empty for the empty chain
	At        time.Time `json:"at"`
	PublicKey string    `json:"public_key"` // base64 of the Ed25519 public key
	Signature string    `json:"signature"`  // base64 of the Ed25519 signature of SignedText
}

// SignedText returns the exact text the signature covers.
func (c Checkpoint) SignedText() []byte {
	return fmt.Appendf(nil, "%s\nseq %d\nhash %s\nalg %s\nat %s\n", CheckpointFormat, c.Seq, c.Hash, c.Alg, c.At.UTC().Format(time.RFC3339Nano))
}

// Signer signs checkpoints with an Ed25519 key.
type Signer struct {
	key ed25519.PrivateKey
}

// NewSigner returns a Signer of key.
func NewSigner(key ed25519.PrivateKey) (*Signer, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, errors.New("trail: not an Ed25519 private key")
	}
	return &Signer{key: key}, nil
}

// PublicKey returns the key that checks the Signer's checkpoints.
func (s *Signer) PublicKey() ed25519.PublicKey { return s.key.Public().(ed25519.PublicKey) }

// Sign returns the signed checkpoint of entry seq with MAC hash and algorithm alg, at at.
func (s *Signer) Sign(seq int64, hash, alg string, at time.Time) Checkpoint {
	c := Checkpoint{Format: CheckpointFormat, Seq: seq, Hash: hash, Alg: alg, At: at.UTC().Truncate(time.Second),
		PublicKey: base64.StdEncoding.EncodeToString(s.PublicKey())}
	c.Signature = base64.StdEncoding.EncodeToString(ed25519.Sign(s.key, c.SignedText()))
	return c
}

// LoadSigner reads the Ed25519 signing key (PKCS #8 PEM) from the file at path.
func LoadSigner(path string) (*Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("trail: read signing key: %w", err)
	}
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("trail: signing key file %s is readable by other users (mode %v): chmod 600 it", path, st.Mode().Perm())
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("trail: signing key file %s holds no PEM PRIVATE KEY block", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("trail: signing key file %s: %w", path, err)
	}
	ek, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("trail: signing key file %s holds no Ed25519 key", path)
	}
	return NewSigner(ek)
}

// LoadOrCreateSigner is LoadSigner, creating the file (mode 0600, in a directory
// created 0700) with a fresh key when it does not exist.
func LoadOrCreateSigner(path string) (*Signer, error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("trail: create key directory: %w", err)
		}
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("trail: generate signing key: %w", err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(priv)
		if err != nil {
			return nil, fmt.Errorf("trail: encode signing key: %w", err)
		}
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if errors.Is(err, fs.ErrExist) {
			return LoadSigner(path)
		}
		if err != nil {
			return nil, fmt.Errorf("trail: create signing key file: %w", err)
		}
		err = pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der})
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, fmt.Errorf("trail: write signing key file %s: %w", path, err)
		}
		return NewSigner(priv)
	}
	return LoadSigner(path)
}

// Checkpoint signs the current head of the chain, after checking that the chain verifies
// and extends the checkpoints given (the earlier ones of the same file): a broken chain is
// never signed.
func (l *Log) Checkpoint(ctx context.Context, q store.Querier, s *Signer, earlier ...Checkpoint) (Checkpoint, error) {
	rep, err := l.Verify(ctx, q, earlier...)
	if err != nil {
		return Checkpoint{}, err
	}
	if !rep.OK {
		return Checkpoint{}, fmt.Errorf("trail: the chain does not verify, no checkpoint signed: broken at entry %d: %s", rep.BadSeq, rep.Problem)
	}
	var alg string
	if rep.HeadSeq > 0 {
		if err := q.QueryRowContext(ctx, `SELECT alg FROM trail WHERE seq = ?`, rep.HeadSeq).Scan(&alg); err != nil {
			return Checkpoint{}, fmt.Errorf("trail: read head entry: %w", err)
		}
	}
	return s.Sign(rep.HeadSeq, rep.HeadHash, alg, l.now()), nil
}

// Limits of a checkpoint file.
const (
	maxCheckpointLine  = 4 << 10
	maxCheckpointLines = 1 << 20
)

// ParseCheckpoints reads a checkpoint file: one checkpoint a line, as JSON; blank lines
// are skipped. Every checkpoint must be well formed and carry a valid signature by its
// public key; all must be signed by the same key. Errors name the line, never its text.
func ParseCheckpoints(r io.Reader) ([]Checkpoint, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1024), maxCheckpointLine)
	var out []Checkpoint
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		if len(out) >= maxCheckpointLines {
			return nil, fmt.Errorf("trail: checkpoint file: more than %d checkpoints", maxCheckpointLines)
		}
		c, err := ParseCheckpoint(b)
		if err != nil {
			return nil, fmt.Errorf("trail: checkpoint file line %d: %w", line, err)
		}
		if len(out) > 0 && c.PublicKey != out[0].PublicKey {
			return nil, fmt.Errorf("trail: checkpoint file line %d: signed by another key than line 1's checkpoint", line)
		}
		out = append(out, c)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("trail: checkpoint file line %d: longer than %d bytes", line+1, maxCheckpointLine)
		}
		return nil, fmt.Errorf("trail: checkpoint file: %w", err)
	}
	if len(out) == 0 {
		return nil, errors.New("trail: checkpoint file holds no checkpoint")
	}
	return out, nil
}

// ParseCheckpoint reads one checkpoint document and checks its form and signature.
func ParseCheckpoint(b []byte) (Checkpoint, error) {
	var c Checkpoint
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Checkpoint{}, errors.New("not a checkpoint JSON document")
	}
	if dec.More() {
		return Checkpoint{}, errors.New("data after the checkpoint document")
	}
	if c.Format != CheckpointFormat {
		return Checkpoint{}, errors.New("unknown checkpoint format (want " + CheckpointFormat + ")")
	}
	if c.Seq < 0 {
		return Checkpoint{}, errors.New("negative sequence number")
	}
	if h, err := hex.DecodeString(c.Hash); err != nil || len(h) != 32 {
		return Checkpoint{}, errors.New("hash is not 64 hexadecimal digits")
	}
	if c.Seq == 0 && (c.Hash != Genesis || c.Alg != "") {
		return Checkpoint{}, errors.New("a checkpoint of the empty chain must hold the genesis hash and no algorithm")
	}
	if _, _, ok := baseAlg(c.Alg); c.Seq > 0 && !ok {
		return Checkpoint{}, errors.New("unknown algorithm")
	}
	if c.At.IsZero() {
		return Checkpoint{}, errors.New("no time")
	}
	pub, err := base64.StdEncoding.DecodeString(c.PublicKey)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		return Checkpoint{}, errors.New("public_key is not a base64 Ed25519 public key")
	}
	sig, err := base64.StdEncoding.DecodeString(c.Signature)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return Checkpoint{}, errors.New("signature is not a base64 Ed25519 signature")
	}
	if !ed25519.Verify(pub, c.SignedText(), sig) {
		return Checkpoint{}, errors.New("the signature does not verify: the checkpoint was altered")
	}
	return c, nil
}

// PublicKeyBytes returns the checkpoint's public key.
func (c Checkpoint) PublicKeyBytes() (ed25519.PublicKey, error) {
	b, err := base64.StdEncoding.DecodeString(c.PublicKey)
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, errors.New("trail: the checkpoint's public key is not a base64 Ed25519 key")
	}
	return b, nil
}

func mustB64(s string) []byte {
	b, _ := base64.StdEncoding.DecodeString(s)
	return b
}

// MarshalLine returns the checkpoint as one line of a checkpoint file.
func (c Checkpoint) MarshalLine() []byte {
	b, _ := json.Marshal(c) // a Checkpoint always marshals
	return append(b, '\n')
}

// KeyID returns a short name of the checkpoint's signing key: the first 16 hex digits of
// the SHA-256 of the public key, as printed next to verified checkpoints.
func KeyID(pub ed25519.PublicKey) string {
	h, _ := newHash(SHA256)
	h.Write(pub)
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// AppendCheckpoint appends c as a line to the checkpoint file at path, creating it
// (mode 0600) when it does not exist, and syncs it to disk.
func AppendCheckpoint(path string, c Checkpoint) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("trail: checkpoint directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("trail: open checkpoint file: %w", err)
	}
	_, err = f.Write(c.MarshalLine())
	if serr := f.Sync(); err == nil {
		err = serr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("trail: write checkpoint file: %w", err)
	}
	return nil
}

// LastCheckpoint returns the newest checkpoint of the file at path, and false when the
// file does not exist or holds none.
func LastCheckpoint(path string) (Checkpoint, bool, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Checkpoint{}, false, nil
	}
	if err != nil {
		return Checkpoint{}, false, fmt.Errorf("trail: open checkpoint file: %w", err)
	}
	defer f.Close()
	cps, err := ParseCheckpoints(f)
	if err != nil {
		return Checkpoint{}, false, err
	}
	last := cps[0]
	for _, c := range cps[1:] {
		if c.Seq >= last.Seq {
			last = c
		}
	}
	return last, true, nil
}

// String describes the checkpoint in one line.
func (c Checkpoint) String() string {
	return "entry " + strconv.FormatInt(c.Seq, 10) + " at " + c.At.UTC().Format(time.RFC3339)
}
