package authcode

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// FuzzVerify checks codes seeded from testdata/codes.txt against the test key ring.
// Verify must not panic; a failure is exactly one of the sentinel errors (ErrUnknownKey
// being an ErrSignature); a success comes with claims that Issue would accept, valid at
// the time of the check.
func FuzzVerify(f *testing.F) {
	for _, c := range codeCases(f) {
		f.Add(c.code)
	}
	ring := testRing(f)
	f.Fuzz(func(t *testing.T, code string) {
		claims, err := Verify(code, ring, checkAt)
		if err != nil {
			n := 0
			for _, s := range sentinels {
				if errors.Is(err, s) {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("Verify(%q): %v is %d of the sentinel errors, want 1", code, err, n)
			}
			if (errors.Is(err, ErrExpired) || errors.Is(err, ErrNotYetValid)) && claims.KeyID == "" {
				t.Fatalf("Verify(%q): %v without the claims", code, err)
			}
			return
		}
		if err := claims.payload().validate(); err != nil {
			t.Fatalf("Verify(%q) accepted claims Issue refuses: %v", code, err)
		}
		if checkAt.Before(claims.IssuedAt) || !checkAt.Before(claims.ExpiresAt) {
			t.Fatalf("Verify(%q) accepted a code valid %s to %s", code, claims.IssuedAt, claims.ExpiresAt)
		}
	})
}

// FuzzIssue issues codes of fuzzed claims: Issue refuses them or Verify gives them back
// unchanged.
func FuzzIssue(f *testing.F) {
	f.Add("AC-1", "com.example.app", int64(7), "示例医院", "H-7", int64(1796112000), int64(1827648000))
	f.Add("", "a", int64(1), "", "X", int64(946684800), int64(946684801))
	f.Add("a b", "app\n", int64(-1), "\u202e", "", int64(0), int64(-5))
	s := signer(f, "ed25519")
	f.Fuzz(func(t *testing.T, id, app string, org int64, name, hcode string, iat, exp int64) {
		in := Claims{ID: id, AppID: app, OrgID: org, HospitalName: name, HospitalCode: hcode,
			IssuedAt: time.Unix(iat, 0).UTC(), ExpiresAt: time.Unix(exp, 0).UTC()}
		code, err := Issue(s, in)
		if err != nil {
			return
		}
		if len(code) > MaxCodeLen {
			t.Fatalf("issued a code of %d characters, more than Verify takes", len(code))
		}
		got, err := Verify(code, s.Public(), in.IssuedAt)
		if err != nil {
			t.Fatalf("issued code does not verify: %v", err)
		}
		want := in
		want.Algorithm, want.KeyID = Ed25519, s.Public().ID()
		if id == "" {
			want.ID = got.ID
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("claims changed (-want +got):\n%s", d)
		}
	})
}

// FuzzParseKeyRingPEM reads fuzzed key files, seeded with the test keys: no panic, and a
// ring that parses has keys whose PEM parses back to the same ids.
func FuzzParseKeyRingPEM(f *testing.F) {
	for _, name := range []string{"ed25519.pub", "sm2.pub", "ed25519.key", "sm2.key"} {
		f.Add(readFile(f, name))
	}
	f.Add(append(readFile(f, "ed25519.pub"), readFile(f, "sm2.pub")...))
	f.Fuzz(func(t *testing.T, b []byte) {
		ring, err := ParseKeyRingPEM(b)
		if err != nil {
			return
		}
		for _, k := range ring.Keys() {
			again, err := ParsePublicKeyPEM(k.MarshalPEM())
			if err != nil || again.ID() != k.ID() || again.Algorithm() != k.Algorithm() {
				t.Fatalf("key %s does not survive PEM: %v", k.ID(), err)
			}
		}
	})
}
