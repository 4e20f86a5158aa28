// Package authcode issues and verifies authorization codes (授权码): the signed, compact,
// copy-pasteable text an internet-hospital app receives when it is approved, naming the
// app, the hospital, the period of validity, the code's own id (for revocation) and the
// key that signed it.
//
// A code of format version 1 reads
//
//	MGAC1.<base64url(payload JSON)>.<base64url(signature)>
//
// without padding. The signature covers the bytes "MGAC1.<base64url(payload)>", so the
// version is signed too. The payload names its algorithm ("alg": Ed25519 or SM2-SM3) and
// key id ("kid"); a verifier looks the key up by id and insists that the key's algorithm
// is the code's, so a code cannot choose how it is checked. Verification is offline and
// needs only the public key; revocation (by Claims.ID) is an online check of the server,
// outside this package.
package authcode

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Prefix begins every code of format version 1, followed by a dot.
const Prefix = "MGAC1"

// MaxCodeLen bounds a code: a payload with every field at its longest and an SM2
// signature stay well below it.
const MaxCodeLen = 4096

// Errors of Verify, wrapped with the detail; callers map them with errors.Is.
var (
	// ErrMalformed is the error of text that is not a code of a known format: the
	// prefix, the base64url, the JSON or a field is wrong.
	ErrMalformed = errors.New("malformed authorization code")
	// ErrUnknownAlgorithm is the error of a code (or a caller) naming an algorithm this
	// package does not know.
	ErrUnknownAlgorithm = errors.New("unknown signature algorithm")
	// ErrSignature is the error of a signature that does not verify with the key the code
	// names, of a key that is not given, or of a key of another algorithm.
	ErrSignature = errors.New("authorization code signature does not verify")
	// ErrExpired is the error of a code whose validity ended before the time of the check.
	ErrExpired = errors.New("authorization code expired")
	// ErrNotYetValid is the error of a code whose validity begins after the time of the
	// check.
	ErrNotYetValid = errors.New("authorization code not yet valid")
)

// ErrUnknownKey is an ErrSignature: the code names a key id that is not among the keys
// given, for instance one issued after a rotation the verifier has not heard of.
var ErrUnknownKey = fmt.Errorf("%w: no public key with the code's key id", ErrSignature)

// Limits on the claims' text fields, in characters.
const (
	maxID       = 64
	maxAppID    = 128
	maxHospital = 200
)

// idPattern is the alphabet of code ids and app ids: printable, no spaces, safe in URLs.
var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]*$`)

// Claims is what a code says. IssuedAt and ExpiresAt bound its validity: it is valid from
// IssuedAt (inclusive) until ExpiresAt (exclusive), at a precision of seconds.
type Claims struct {
	// ID identifies the code itself, for revocation; Issue draws a random one when empty.
	ID string
	// AppID is the approved app's id.
	AppID string
	// OrgID is the hospital's organisation id in the platform.
	OrgID int64
	// HospitalName and HospitalCode name the hospital; at least one is required.
	HospitalName string
	HospitalCode string
	IssuedAt     time.Time
	ExpiresAt    time.Time
	// Algorithm and KeyID are set by Issue from the signer.
	Algorithm Algorithm
	KeyID     string
}

// payload is the JSON form of Claims inside a code.
type payload struct {
	Alg          Algorithm `json:"alg"`
	Kid          string    `json:"kid"`
	ID           string    `json:"id"`
	App          string    `json:"app"`
	Org          int64     `json:"org"`
	Hospital     string    `json:"hospital,omitempty"`
	HospitalCode string    `json:"hospital_code,omitempty"`
	Iat          int64     `json:"iat"`
	Exp          int64     `json:"exp"`
}

// Bounds of the times in a code (Unix seconds): 2000-01-01 to 9999-12-31.
const (
	minUnix = 946684800
	maxUnix = 253402300799
)

func (c Claims) payload() payload {
	return payload{Alg: c.Algorithm, Kid: c.KeyID, ID: c.ID, App: c.AppID, Org: c.OrgID, Hospital: c.HospitalName,
		HospitalCode: c.HospitalCode, Iat: c.IssuedAt.Unix(), Exp: c.ExpiresAt.Unix()}
}

func (p payload) claims() Claims {
	return Claims{ID: p.ID, AppID: p.App, OrgID: p.Org, HospitalName: p.Hospital, HospitalCode: p.HospitalCode,
		IssuedAt: time.Unix(p.Iat, 0).UTC(), ExpiresAt: time.Unix(p.Exp, 0).UTC(), Algorithm: p.Alg, KeyID: p.Kid}
}

// validate checks the fields every code must have, whoever wrote it.
func (p payload) validate() error {
	if p.Kid == "" {
		return errors.New("kid: required")
	}
	if !idPattern.MatchString(p.Kid) || len(p.Kid) > maxID {
		return errors.New("kid: not a key id")
	}
	if err := checkID("id", p.ID, maxID); err != nil {
		return err
	}
	if err := checkID("app", p.App, maxAppID); err != nil {
		return err
	}
	if p.Org <= 0 {
		return errors.New("org: a positive organisation id is required")
	}
	if p.Hospital == "" && p.HospitalCode == "" {
		return errors.New("hospital: a hospital name or code is required")
	}
	if err := checkText("hospital", p.Hospital); err != nil {
		return err
	}
	if err := checkText("hospital_code", p.HospitalCode); err != nil {
		return err
	}
	for _, t := range []struct {
		name string
		v    int64
	}{{"iat", p.Iat}, {"exp", p.Exp}} {
		if t.v < minUnix || t.v > maxUnix {
			return fmt.Errorf("%s: %d is not a time between 2000 and 9999", t.name, t.v)
		}
	}
	if p.Exp <= p.Iat {
		return errors.New("exp: the code must expire after it is issued")
	}
	return nil
}

func checkID(name, s string, max int) error {
	switch {
	case s == "":
		return fmt.Errorf("%s: required", name)
	case len(s) > max:
		return fmt.Errorf("%s: longer than %d characters", name, max)
	case !idPattern.MatchString(s):
		return fmt.Errorf("%s: only letters, digits and . _ : - are allowed", name)
	}
	return nil
}

// checkText refuses text that is too long, not UTF-8 or holds control characters (which
// would reach a terminal when the claims are printed).
func checkText(name, s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%s: not UTF-8", name)
	}
	if utf8.RuneCountInString(s) > maxHospital {
		return fmt.Errorf("%s: longer than %d characters", name, maxHospital)
	}
	if strings.TrimSpace(s) != s {
		return fmt.Errorf("%s: leading or trailing space", name)
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			return fmt.Errorf("%s: control character %U", name, r)
		}
	}
	return nil
}

var b64 = base64.RawURLEncoding.Strict()

// Issue signs c with signer and returns the code. It sets the algorithm and key id from
// the signer, draws a random ID (128 bits, hex) when c has none and drops the times' fractions of a
// second; the claims must name an app, an organisation, a hospital and a period.
func Issue(signer *Signer, c Claims) (string, error) {
	if signer == nil {
		return "", errors.New("authcode: issue: no signing key")
	}
	c.Algorithm, c.KeyID = signer.pub.alg, signer.pub.id
	if c.ID == "" {
		var b [16]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", fmt.Errorf("authcode: issue: %w", err)
		}
		// Hex, not base64: an id starts with a letter or a digit (idPattern), and one code
		// in 32 drew a leading '-' or '_'.
		c.ID = hex.EncodeToString(b[:])
	}
	if c.IssuedAt.IsZero() || c.ExpiresAt.IsZero() {
		return "", errors.New("authcode: issue: the issue and expiry times are required")
	}
	p := c.payload()
	if err := p.validate(); err != nil {
		return "", fmt.Errorf("authcode: issue: %w", err)
	}
	js, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("authcode: issue: %w", err)
	}
	input := Prefix + "." + b64.EncodeToString(js)
	sig, err := signer.sign([]byte(input))
	if err != nil {
		return "", fmt.Errorf("authcode: issue: sign: %w", err)
	}
	code := input + "." + b64.EncodeToString(sig)
	// Check the code as a verifier will, at a time it is valid.
	if _, err := Verify(code, signer.pub, time.Unix(p.Iat, 0)); err != nil {
		return "", fmt.Errorf("authcode: issue: the new code does not verify: %w", err)
	}
	return code, nil
}

// Verify checks code with the keys and returns its claims when it is valid at now.
// Errors wrap ErrMalformed, ErrUnknownAlgorithm, ErrSignature (ErrUnknownKey among them),
// ErrExpired or ErrNotYetValid, in the order they are checked. With ErrExpired and
// ErrNotYetValid the claims are returned too: their signature verified, only the time is
// wrong. Surrounding white space (a copy-paste) is ignored; nothing else is.
func Verify(code string, keys Keys, now time.Time) (Claims, error) {
	code = strings.TrimSpace(code)
	if len(code) > MaxCodeLen {
		return Claims{}, fmt.Errorf("%w: %d characters, more than %d", ErrMalformed, len(code), MaxCodeLen)
	}
	prefix, rest, ok := strings.Cut(code, ".")
	if !ok || prefix != Prefix {
		if strings.HasPrefix(code, "MGAC") && ok {
			return Claims{}, fmt.Errorf("%w: format %q is not supported (want %s)", ErrMalformed, prefix, Prefix)
		}
		return Claims{}, fmt.Errorf("%w: does not begin with %q", ErrMalformed, Prefix+".")
	}
	body, sigText, ok := strings.Cut(rest, ".")
	if !ok || strings.Contains(sigText, ".") {
		return Claims{}, fmt.Errorf("%w: want three parts separated by dots", ErrMalformed)
	}
	js, err := b64.DecodeString(body)
	if err != nil || len(js) == 0 {
		return Claims{}, fmt.Errorf("%w: the payload is not base64url", ErrMalformed)
	}
	sig, err := b64.DecodeString(sigText)
	if err != nil || len(sig) == 0 {
		return Claims{}, fmt.Errorf("%w: the signature is not base64url", ErrMalformed)
	}
	var p payload
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return Claims{}, fmt.Errorf("%w: the payload is not the JSON of a code: %v", ErrMalformed, jsonReason(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return Claims{}, fmt.Errorf("%w: data after the payload's JSON", ErrMalformed)
	}
	switch p.Alg {
	case Ed25519, SM2:
	case "":
		return Claims{}, fmt.Errorf("%w: alg: required", ErrMalformed)
	default:
		return Claims{}, fmt.Errorf("%w %q (want %s or %s)", ErrUnknownAlgorithm, clip(string(p.Alg)), Ed25519, SM2)
	}
	if err := p.validate(); err != nil {
		return Claims{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if keys == nil {
		return Claims{}, fmt.Errorf("%w (key %s): no keys given", ErrUnknownKey, p.Kid)
	}
	key, ok := keys.PublicKey(p.Kid)
	if !ok || key == nil {
		return Claims{}, fmt.Errorf("%w (key %s)", ErrUnknownKey, p.Kid)
	}
	if key.alg != p.Alg {
		return Claims{}, fmt.Errorf("%w: the code is signed with %s, key %s is an %s key", ErrSignature, p.Alg, key.id, key.alg)
	}
	if !key.verify([]byte(Prefix+"."+body), sig) {
		return Claims{}, fmt.Errorf("%w with key %s", ErrSignature, key.id)
	}
	c := p.claims()
	switch {
	case now.Before(c.IssuedAt):
		return c, fmt.Errorf("%w: valid from %s", ErrNotYetValid, c.IssuedAt.Format(time.RFC3339))
	case !now.Before(c.ExpiresAt):
		return c, fmt.Errorf("%w at %s", ErrExpired, c.ExpiresAt.Format(time.RFC3339))
	}
	return c, nil
}

// jsonReason describes a JSON decoding error without quoting the input at length.
func jsonReason(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("syntax error at byte %d", syn.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("field %s: %s where %s was expected", clip(typ.Field), typ.Value, typ.Type)
	}
	return clip(err.Error())
}

// clip shortens text from a code before it goes into a message and quotes nothing
// unprintable.
func clip(s string) string {
	s = strings.Map(func(r rune) rune {
		if !unicode.IsPrint(r) {
			return '?'
		}
		return r
	}, s)
	if utf8.RuneCountInString(s) > 40 {
		s = string([]rune(s)[:40]) + "…"
	}
	return s
}
