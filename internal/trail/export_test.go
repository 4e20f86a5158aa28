package trail

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"hash"

	"github.com/medguard/medguard/internal/store"
)

// NewUnkeyed returns a Log writing unkeyed entries of alg, as versions before the trail
// key did, for upgrade tests.
func NewUnkeyed(alg string) *Log {
	l, err := New(alg, Key{secret: make([]byte, KeySize)})
	if err != nil {
		panic(err)
	}
	l.alg = alg
	return l
}

// Rehash rewrites entries from..to the way an attacker with write access to the
// database would: each entry relinked to the one before it, its alg set to alg when not
// empty, its MAC recomputed with newH, and the head moved to entry to when moveHead.
func Rehash(ctx context.Context, db *store.DB, from, to int64, alg string, newH func() hash.Hash, moveHead bool) error {
	prev := Genesis
	if from > 1 {
		if err := db.QueryRowContext(ctx, `SELECT hash FROM trail WHERE seq = ?`, from-1).Scan(&prev); err != nil {
			return err
		}
	}
	for seq := from; seq <= to; seq++ {
		e, err := scanEntry(db.QueryRowContext(ctx, `SELECT `+entryColumns+` FROM trail WHERE seq = ?`, seq))
		if err != nil {
			return err
		}
		e.PrevHash = prev
		if alg != "" {
			e.Alg = alg
		}
		e.Hash = e.hashWith(newH())
		if _, err := db.ExecContext(ctx, `UPDATE trail SET alg = ?, prev_hash = ?, hash = ? WHERE seq = ?`, e.Alg, e.PrevHash, e.Hash, seq); err != nil {
			return err
		}
		prev = e.Hash
	}
	if moveHead {
		_, err := db.ExecContext(ctx, `UPDATE trail_head SET seq = ?, hash = ? WHERE id = 1`, to, prev)
		return err
	}
	return nil
}

// PlainSHA256 is the hash of an attacker without the key.
func PlainSHA256() hash.Hash { return sha256.New() }

// KeyedWith returns the HMAC-SHA256 of an attacker who holds the key.
func KeyedWith(k Key) func() hash.Hash {
	return func() hash.Hash { return hmac.New(sha256.New, k.secret) }
}
