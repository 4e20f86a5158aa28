package auth

import (
	"bufio"
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/medguard/medguard/internal/problem"
)

// Password length limits, in characters (runes).
const (
	MinPasswordLen = 12
	MaxPasswordLen = 128
)

// Argon2id parameters for new hashes (OWASP: 19 MiB, 2 passes, 1 lane).
const (
	argonMemory  = 19456 // KiB
	argonTime    = 2
	argonThreads = 1
	argonSaltLen = 16
	argonKeyLen  = 32
)

// hashMemory and hashTime are the Argon2id memory (KiB) and passes of new hashes: the
// constants above, except in a test binary that asked for cheap hashes.
var hashMemory, hashTime uint32 = argonMemory, argonTime

// UseCheapHashesInTests makes the password hashes made from now on cheap — Argon2id
// with 64 KiB and one pass, still the real function, its parameters in the hash — for
// the tests of packages that create and log in many users (a web test starts a server
// with its users per test: the OWASP parameters were 28 % of that package's CPU). Call it
// from TestMain before the tests run. It panics outside a test binary: a served or
// commanded medguard always hashes with the OWASP parameters.
func UseCheapHashesInTests() {
	if !testing.Testing() {
		panic("auth: UseCheapHashesInTests called outside a test binary")
	}
	hashMemory, hashTime = 64, 1
}

//go:embed common_passwords.txt
var commonPasswordsText string

// commonPasswords holds the embedded list, lower-cased.
var commonPasswords = func() map[string]struct{} {
	m := make(map[string]struct{})
	sc := bufio.NewScanner(strings.NewReader(commonPasswordsText))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m[strings.ToLower(line)] = struct{}{}
	}
	return m
}()

func weak(format string, args ...any) error {
	return problem.Invalid("password", format, args...).WithCode("weak_password")
}

// ValidatePassword checks password against the policy: 12 to 128 characters, not
// containing the username, at least three of the four classes lower-case, upper-case,
// digit and other (any non-ASCII letter counts as other), and not a well-known password.
// It returns a problem with code "weak_password" naming the rule broken.
func ValidatePassword(password, username string) error {
	if !utf8.ValidString(password) {
		return weak("password is not valid text")
	}
	n := utf8.RuneCountInString(password)
	if n < MinPasswordLen {
		return weak("password must be at least %d characters long", MinPasswordLen)
	}
	if n > MaxPasswordLen {
		return weak("password must be at most %d characters long", MaxPasswordLen)
	}
	var lower, upper, digit, other bool
	for _, r := range password {
		switch {
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			return weak("password must not contain control characters")
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= 'A' && r <= 'Z':
			upper = true
		case r >= '0' && r <= '9':
			digit = true
		default:
			other = true
		}
	}
	classes := 0
	for _, ok := range []bool{lower, upper, digit, other} {
		if ok {
			classes++
		}
	}
	if classes < 3 {
		return weak("password must mix at least three of: lower-case letters, upper-case letters, digits, other characters")
	}
	lp := strings.ToLower(password)
	if u := strings.ToLower(strings.TrimSpace(username)); u != "" && strings.Contains(lp, u) {
		return weak("password must not contain the username")
	}
	if _, ok := commonPasswords[lp]; ok {
		return weak("password is too common")
	}
	return nil
}

// HashPassword returns the Argon2id hash of pw in PHC string format
// ($argon2id$v=19$m=19456,t=2,p=1$salt$hash).
func HashPassword(pw string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("auth: hash password: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, hashTime, hashMemory, argonThreads, argonKeyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, hashMemory, hashTime, argonThreads,
		enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// phc is a parsed Argon2id hash.
type phc struct {
	memory  uint32
	time    uint32
	threads uint8
	salt    []byte
	key     []byte
}

var errBadHash = errors.New("auth: malformed password hash")

// parsePHC parses an Argon2id PHC string, rejecting parameters outside sane bounds so
// that a tampered row cannot make a check run for minutes or exhaust memory.
func parsePHC(encoded string) (phc, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return phc{}, errBadHash
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return phc{}, fmt.Errorf("%w: unsupported version", errBadHash)
	}
	var h phc
	seen := map[string]bool{}
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || seen[k] {
			return phc{}, fmt.Errorf("%w: bad parameters", errBadHash)
		}
		seen[k] = true
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return phc{}, fmt.Errorf("%w: bad parameter %s", errBadHash, k)
		}
		switch k {
		case "m":
			if n < 8 || n > 1<<20 { // up to 1 GiB
				return phc{}, fmt.Errorf("%w: memory out of range", errBadHash)
			}
			h.memory = uint32(n)
		case "t":
			if n < 1 || n > 16 {
				return phc{}, fmt.Errorf("%w: time out of range", errBadHash)
			}
			h.time = uint32(n)
		case "p":
			if n < 1 || n > 16 {
				return phc{}, fmt.Errorf("%w: parallelism out of range", errBadHash)
			}
			h.threads = uint8(n)
		default:
			return phc{}, fmt.Errorf("%w: unknown parameter", errBadHash)
		}
	}
	if !seen["m"] || !seen["t"] || !seen["p"] {
		return phc{}, fmt.Errorf("%w: missing parameter", errBadHash)
	}
	var err error
	if h.salt, err = base64.RawStdEncoding.Strict().DecodeString(parts[4]); err != nil || len(h.salt) < 8 || len(h.salt) > 64 {
		return phc{}, fmt.Errorf("%w: bad salt", errBadHash)
	}
	if h.key, err = base64.RawStdEncoding.Strict().DecodeString(parts[5]); err != nil || len(h.key) < 16 || len(h.key) > 64 {
		return phc{}, fmt.Errorf("%w: bad hash", errBadHash)
	}
	return h, nil
}

// CheckPassword reports whether pw matches the Argon2id hash encoded, comparing in
// constant time. A malformed hash is an error, never a match.
func CheckPassword(encoded, pw string) (bool, error) {
	h, err := parsePHC(encoded)
	if err != nil {
		return false, err
	}
	key := argon2.IDKey([]byte(pw), h.salt, h.time, h.memory, h.threads, uint32(len(h.key)))
	return subtle.ConstantTimeCompare(key, h.key) == 1, nil
}
