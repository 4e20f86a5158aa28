// Package upstream is the upward reporting (上报) of internet-hospital apps from a
// hospital's medguard to a regional medguard, so that the region sees every hospital's
// apps, scores and incidents (事后追溯) without reaching into the hospitals' databases.
//
// # Parties
//
// The regional medguard holds the hospital as an organisation node of its tree (a
// hospital under the region). The hospital's medguard is a separate instance with its
// own registry (package appreg). Nothing is pulled: the hospital pushes.
//
// # The link and its two secrets
//
// An administrator of the region links the hospital node (`medguard upstream link --org
// ID`, or POST /api/v1/upstream/links). The link is two secrets, shown once and
// configured at the hospital (apps.upstream_token and apps.upstream_key):
//
//   - the token ("mgt_…"), an API token of scope app.report belonging to a service
//     account of the hospital node. It may push reports and call nothing else, and only
//     the token of the node's current link is accepted: a token of another hospital, or
//     a person's token, cannot report for this one. Like every API token it is stored
//     hashed; linking again revokes the previous one. The service account ("upstream-"
//     and the node's id, role app operator) has a random password nobody is shown; like
//     any account's, its token is refused while the node requires MFA and the account
//     has not enrolled.
//   - the acknowledgement key ("mgk_" and 64 hexadecimal digits), with which the region
//     proves itself to the hospital. The region stores it sealed (SM4-GCM under the key
//     file DATA/upstream.key, bound to the node), since it must use it again.
//
// # One push
//
// The hospital POSTs a Report (JSON, at most MaxReportSize) to
// /api/v1/upstream/apps with "Authorization: Bearer <token>". The report carries every
// app of the hospital's registry — id, name, platform, package, operator, status,
// score, grade, rectification deadline, open findings, codes (ids, expiry, revocation;
// never the code itself) and the time of its last evaluation — and the incidents
// (evictions, eviction proposals, critical findings) since the last acknowledged report.
// Each report has a random id and the time it was generated.
//
// The region accepts the report for the token's node only, and stores it keyed by
// (node, the app's id at the hospital): a newer report replaces the node's apps, the
// same report again or an older one changes nothing, and an incident is stored once
// under its key however often it is sent. The region answers an Ack (JSON) naming the
// report's id, with the header
//
//	X-Medguard-Upstream-Signature: v1=<hex HMAC-SHA256(acknowledgement key, body)>
//
// The hospital checks the signature over the exact body and that the Ack names the
// report it sent. An answer without a valid signature — a man in the middle, a
// misconfigured proxy, the wrong server — is an error like a network failure: the push
// is tried again, and the incidents are sent again until a report is acknowledged.
//
// # Where things are
//
// Region (region.go) keeps links and received reports; Pusher (push.go) builds and
// sends the hospital's report; DecodeReport (report.go) reads a report from outside and
// rejects anything malformed with a clear error.
package upstream

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
)

// SignatureHeader carries the region's signature of its acknowledgement.
const SignatureHeader = "X-Medguard-Upstream-Signature"

// Path is where a regional medguard receives reports (POST) and lists them (GET).
const Path = "/api/v1/upstream/apps"

// keyPrefix starts an acknowledgement key, so that a leaked one is recognised.
const keyPrefix = "mgk_"

// keySize is the size of an acknowledgement key in bytes.
const keySize = 32

// newKey returns a new acknowledgement key as text.
func newKey() (string, error) {
	var b [keySize]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return keyPrefix + hex.EncodeToString(b[:]), nil
}

// ErrBadKey says an acknowledgement key is not "mgk_" and 64 hexadecimal digits.
var ErrBadKey = errors.New("upstream: the acknowledgement key must be \"mgk_\" followed by 64 hexadecimal digits")

// ParseKey reads an acknowledgement key as `medguard upstream link` printed it.
func ParseKey(s string) ([]byte, error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(s), keyPrefix)
	if !ok || len(rest) != 2*keySize {
		return nil, ErrBadKey
	}
	b, err := hex.DecodeString(rest)
	if err != nil {
		return nil, ErrBadKey
	}
	return b, nil
}

// Sign returns the signature header's value for body under key.
func Sign(key, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write(body)
	return "v1=" + hex.EncodeToString(m.Sum(nil))
}

// VerifySignature reports whether sig is key's signature of body, in constant time.
func VerifySignature(key, body []byte, sig string) bool {
	got, ok := strings.CutPrefix(strings.TrimSpace(sig), "v1=")
	if !ok {
		return false
	}
	b, err := hex.DecodeString(got)
	if err != nil {
		return false
	}
	m := hmac.New(sha256.New, key)
	m.Write(body)
	return hmac.Equal(b, m.Sum(nil))
}
