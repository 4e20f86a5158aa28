package authcode

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// checkAt is when the codes of testdata/codes.txt are checked.
var checkAt = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

// outcomes names the outcomes of testdata/codes.txt.
var outcomes = map[string]error{
	"valid":             nil,
	"malformed":         ErrMalformed,
	"unknown-algorithm": ErrUnknownAlgorithm,
	"signature":         ErrSignature,
	"unknown-key":       ErrUnknownKey,
	"expired":           ErrExpired,
	"not-yet-valid":     ErrNotYetValid,
}

// sentinels are Verify's errors; exactly one applies to a failure (ErrUnknownKey apart,
// which is an ErrSignature).
var sentinels = []error{ErrMalformed, ErrUnknownAlgorithm, ErrSignature, ErrExpired, ErrNotYetValid}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func signer(t testing.TB, name string) *Signer {
	t.Helper()
	s, err := ParsePrivateKeyPEM(readFile(t, name+".key"))
	if err != nil {
		t.Fatalf("%s.key: %v", name, err)
	}
	return s
}

// testRing is the ring of testdata/ed25519.pub and testdata/sm2.pub.
func testRing(t testing.TB) *KeyRing {
	t.Helper()
	ring, err := ParseKeyRingPEM(append(readFile(t, "ed25519.pub"), readFile(t, "sm2.pub")...))
	if err != nil {
		t.Fatal(err)
	}
	return ring
}

type codeCase struct{ name, outcome, code string }

func codeCases(t testing.TB) []codeCase {
	t.Helper()
	var cases []codeCase
	sc := bufio.NewScanner(bytes.NewReader(readFile(t, "codes.txt")))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 3 {
			t.Fatalf("codes.txt: %q: want NAME OUTCOME CODE", line)
		}
		cases = append(cases, codeCase{f[0], f[1], f[2]})
	}
	return cases
}

// failedWith checks that err is want (nil for success) and no other of the sentinels.
func failedWith(t *testing.T, err, want error) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("error %v, want none", err)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Fatalf("error %v, want %v", err, want)
	}
	for _, s := range sentinels {
		if s != want && !(want == ErrUnknownKey && s == ErrSignature) && errors.Is(err, s) {
			t.Fatalf("error %v is also %v", err, s)
		}
	}
}

// TestCodesFixture: each code of testdata/codes.txt gets the outcome its line names.
func TestCodesFixture(t *testing.T) {
	t.Parallel()
	ring := testRing(t)
	cases := codeCases(t)
	if len(cases) < 10 {
		t.Fatalf("only %d cases in codes.txt", len(cases))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want, ok := outcomes[c.outcome]
			if !ok {
				t.Fatalf("unknown outcome %q", c.outcome)
			}
			claims, err := Verify(c.code, ring, checkAt)
			failedWith(t, err, want)
			if err == nil && (claims.AppID == "" || claims.ID == "" || claims.KeyID == "") {
				t.Errorf("valid code with empty claims: %+v", claims)
			}
		})
	}
}

func testClaims() Claims {
	return Claims{ID: "AC-1", AppID: "com.example.app", OrgID: 7, HospitalName: "示例医院", HospitalCode: "H-7",
		IssuedAt: time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC), ExpiresAt: time.Date(2027, 12, 1, 8, 0, 0, 0, time.UTC)}
}

// TestRoundTrip: for each algorithm a fresh key issues a code that its public key, read
// back from PEM, verifies to the same claims; the private key survives PEM too.
func TestRoundTrip(t *testing.T) {
	t.Parallel()
	for _, alg := range Algorithms {
		t.Run(string(alg), func(t *testing.T) {
			s, err := GenerateKey(alg)
			if err != nil {
				t.Fatal(err)
			}
			privPEM, err := s.MarshalPEM()
			if err != nil {
				t.Fatal(err)
			}
			s2, err := ParsePrivateKeyPEM(privPEM)
			if err != nil {
				t.Fatalf("private key PEM: %v", err)
			}
			if s2.Public().ID() != s.Public().ID() || s2.Public().Algorithm() != alg {
				t.Fatalf("reparsed key %s %s, want %s %s", s2.Public().ID(), s2.Public().Algorithm(), s.Public().ID(), alg)
			}
			pub, err := ParsePublicKeyPEM(s.Public().MarshalPEM())
			if err != nil {
				t.Fatal(err)
			}
			in := testClaims()
			in.IssuedAt = in.IssuedAt.Add(500 * time.Millisecond) // dropped: codes hold seconds
			code, err := Issue(s2, in)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(code, "MGAC1.") || strings.ContainsAny(code, "=+/ \n") {
				t.Errorf("code %q is not MGAC1.base64url.base64url", code)
			}
			got, err := Verify(" "+code+"\n", pub, in.IssuedAt.Add(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			want := testClaims()
			want.Algorithm, want.KeyID = alg, pub.ID()
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("claims (-want +got):\n%s", d)
			}
		})
	}
}

// TestIssueRefuses: claims a code must not carry are refused when issuing, and an empty
// ID is drawn at random.
func TestIssueRefuses(t *testing.T) {
	t.Parallel()
	s := signer(t, "ed25519")
	for _, c := range []struct {
		name string
		edit func(*Claims)
	}{
		{"no app", func(c *Claims) { c.AppID = "" }},
		{"app with space", func(c *Claims) { c.AppID = "com example" }},
		{"no org", func(c *Claims) { c.OrgID = 0 }},
		{"no hospital", func(c *Claims) { c.HospitalName, c.HospitalCode = "", "" }},
		{"escape in name", func(c *Claims) { c.HospitalName = "A\x1b[2JB" }},
		{"bidi in name", func(c *Claims) { c.HospitalName = "A\u202eB" }},
		{"long name", func(c *Claims) { c.HospitalName = strings.Repeat("医", maxHospital+1) }},
		{"no expiry", func(c *Claims) { c.ExpiresAt = time.Time{} }},
		{"expiry before issue", func(c *Claims) { c.ExpiresAt = c.IssuedAt.Add(-time.Second) }},
		{"expiry at issue", func(c *Claims) { c.ExpiresAt = c.IssuedAt }},
		{"year 1990", func(c *Claims) { c.IssuedAt = time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC) }},
	} {
		cl := testClaims()
		c.edit(&cl)
		if code, err := Issue(s, cl); err == nil {
			t.Errorf("%s: issued %s", c.name, code)
		}
	}
	if _, err := Issue(nil, testClaims()); err == nil {
		t.Error("issued without a key")
	}
	cl := testClaims()
	cl.ID = ""
	a, err1 := Issue(s, cl)
	b, err2 := Issue(s, cl)
	ca, _ := Verify(a, s.Public(), cl.IssuedAt)
	cb, _ := Verify(b, s.Public(), cl.IssuedAt)
	if err1 != nil || err2 != nil || ca.ID == "" || ca.ID == cb.ID {
		t.Errorf("drawn ids %q %q (%v %v)", ca.ID, cb.ID, err1, err2)
	}
}

// TestTampering: changing any one character of a valid code's payload or signature
// makes it fail (malformed, an unknown algorithm or a bad signature), never verify to
// other claims.
func TestTampering(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"ed25519", "sm2"} {
		s := signer(t, name)
		code, err := Issue(s, testClaims())
		if err != nil {
			t.Fatal(err)
		}
		at := testClaims().IssuedAt
		for i := len(Prefix) + 1; i < len(code); i++ {
			if code[i] == '.' {
				continue
			}
			for _, r := range []byte{'A', 'g', '_'} {
				if code[i] == r {
					continue
				}
				bad := code[:i] + string(r) + code[i+1:]
				_, err := Verify(bad, s.Public(), at)
				if err == nil {
					// The last character of a base64 part may carry unused bits; a strict
					// decoder refuses those, so no change may verify.
					t.Fatalf("%s: code changed at %d verifies: %s", name, i, bad)
				}
				if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrSignature) && !errors.Is(err, ErrUnknownAlgorithm) {
					t.Fatalf("%s: code changed at %d: %v, want malformed, unknown algorithm or signature", name, i, err)
				}
			}
		}
	}
}

// TestWrongKey: a code verified with another key of its algorithm, or with a key of the
// other algorithm, fails as a signature error; a code whose alg names no algorithm
// fails as ErrUnknownAlgorithm before any key is looked at.
func TestWrongKey(t *testing.T) {
	t.Parallel()
	ed, sm := signer(t, "ed25519"), signer(t, "sm2")
	other, err := GenerateKey(Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	edCode, _ := Issue(ed, testClaims())
	smCode, err := Issue(sm, testClaims())
	if err != nil {
		t.Fatal(err)
	}
	at := testClaims().IssuedAt
	t.Run("other ed25519 key", func(t *testing.T) {
		_, err := Verify(edCode, other.Public(), at)
		failedWith(t, err, ErrUnknownKey)
	})
	t.Run("sm2 code, ed25519 key", func(t *testing.T) {
		_, err := Verify(smCode, ed.Public(), at)
		failedWith(t, err, ErrSignature)
	})
	t.Run("ed25519 code, sm2 key", func(t *testing.T) {
		_, err := Verify(edCode, sm.Public(), at)
		failedWith(t, err, ErrSignature)
	})
	// A forger relabels the SM2 code's payload with the Ed25519 key's id: the key is
	// found, but it is an Ed25519 key and the code says SM2.
	t.Run("sm2 code relabelled with the ed25519 kid", func(t *testing.T) {
		parts := strings.Split(smCode, ".")
		js, _ := b64.DecodeString(parts[1])
		js = bytes.Replace(js, []byte(sm.Public().ID()), []byte(ed.Public().ID()), 1)
		_, err := Verify(parts[0]+"."+b64.EncodeToString(js)+"."+parts[2], ed.Public(), at)
		failedWith(t, err, ErrSignature)
		if !strings.Contains(err.Error(), "SM2-SM3") {
			t.Errorf("%v does not say the code is SM2", err)
		}
	})
	t.Run("unknown alg", func(t *testing.T) {
		parts := strings.Split(smCode, ".")
		js, _ := b64.DecodeString(parts[1])
		js = bytes.Replace(js, []byte(`"SM2-SM3"`), []byte(`"ES256"`), 1)
		_, err := Verify(parts[0]+"."+b64.EncodeToString(js)+"."+parts[2], sm.Public(), at)
		failedWith(t, err, ErrUnknownAlgorithm)
	})
	t.Run("no keys", func(t *testing.T) {
		_, err := Verify(edCode, nil, at)
		failedWith(t, err, ErrUnknownKey)
		var nilKey *PublicKey
		_, err = Verify(edCode, nilKey, at)
		failedWith(t, err, ErrUnknownKey)
	})
}

// TestValidityBoundaries: valid from IssuedAt (inclusive) until ExpiresAt (exclusive);
// outside, the error says which and the verified claims come back with it.
func TestValidityBoundaries(t *testing.T) {
	t.Parallel()
	s := signer(t, "sm2")
	c := testClaims()
	code, err := Issue(s, c)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []struct {
		at   time.Time
		want error
	}{
		{c.IssuedAt.Add(-time.Nanosecond), ErrNotYetValid},
		{c.IssuedAt.Add(-time.Second), ErrNotYetValid},
		{c.IssuedAt, nil},
		{c.ExpiresAt.Add(-time.Nanosecond), nil},
		{c.ExpiresAt, ErrExpired},
		{c.ExpiresAt.Add(time.Second), ErrExpired},
		{c.ExpiresAt.In(time.FixedZone("CST", 8*3600)), ErrExpired},
	} {
		got, err := Verify(code, s.Public(), b.at)
		if b.want == nil && err != nil || b.want != nil && !errors.Is(err, b.want) {
			t.Errorf("at %s: %v, want %v", b.at, err, b.want)
		}
		if got.AppID != c.AppID {
			t.Errorf("at %s: claims %+v not returned", b.at, got)
		}
	}
}

// TestKeyRingRotation: after a rotation the ring holds the new key and the old one;
// codes of both verify, a code of the old key until it expires; a key dropped from the
// ring no longer verifies its codes. Duplicates and private keys are refused.
func TestKeyRingRotation(t *testing.T) {
	t.Parallel()
	old, cur := signer(t, "ed25519"), signer(t, "sm2")
	oldCode, err := Issue(old, testClaims())
	if err != nil {
		t.Fatal(err)
	}
	c := testClaims()
	c.ID, c.IssuedAt, c.ExpiresAt = "AC-2", c.IssuedAt.AddDate(0, 6, 0), c.ExpiresAt.AddDate(1, 0, 0)
	newCode, err := Issue(cur, c)
	if err != nil {
		t.Fatal(err)
	}
	// The key file after the rotation: the new key first, the old one kept below it.
	file := append(append(cur.Public().MarshalPEM(), "# previous key, until its codes expire\n"...), old.Public().MarshalPEM()...)
	ring, err := ParseKeyRingPEM(file)
	if err != nil {
		t.Fatal(err)
	}
	if ids := []string{ring.Keys()[0].ID(), ring.Keys()[1].ID()}; ids[0] != cur.Public().ID() || ids[1] != old.Public().ID() {
		t.Errorf("ring order %v", ids)
	}
	at := c.IssuedAt.Add(time.Hour)
	for name, code := range map[string]string{"old": oldCode, "new": newCode} {
		if got, err := Verify(code, ring, at); err != nil {
			t.Errorf("%s code: %v", name, err)
		} else if got.KeyID == "" {
			t.Errorf("%s code: no key id", name)
		}
	}
	if _, err := Verify(oldCode, ring, testClaims().ExpiresAt); !errors.Is(err, ErrExpired) {
		t.Errorf("old code after its expiry: %v", err)
	}
	if _, err := Verify(newCode, ring, testClaims().ExpiresAt); err != nil {
		t.Errorf("new code after the old one's expiry: %v", err)
	}
	newOnly, _ := NewKeyRing(cur.Public())
	if _, err := Verify(oldCode, newOnly, at); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("old code without the old key: %v", err)
	}
	if _, err := NewKeyRing(old.Public(), old.Public()); err == nil {
		t.Error("a ring with one key twice")
	}
	if _, err := ParseKeyRingPEM(append(file, old.Public().MarshalPEM()...)); err == nil {
		t.Error("a key file with one key twice")
	}
	if _, err := ParsePublicKeyPEM(file); err == nil {
		t.Error("ParsePublicKeyPEM took two keys")
	}
}

// TestKeyFilesRefused: key files of the wrong kind are refused with a message saying why.
func TestKeyFilesRefused(t *testing.T) {
	t.Parallel()
	ecP256 := "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEaS8Yx5NgzIAHnl0RkXlU9rBsF62W\nvL5v2bjzKKXCAZ0Gn2U/9i8F9y9Uq4GKpcXqVQcW3xPJZ4Iy5VdU0qf2Eg==\n-----END PUBLIC KEY-----\n"
	for _, c := range []struct {
		name, pem, want string
	}{
		{"empty", "", "no PEM"},
		{"private key as public", string(readFile(t, "ed25519.key")), "private key"},
		{"certificate", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "CERTIFICATE"},
		{"garbage DER", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "bad public key"},
		{"P-256 key", ecP256, ""},
	} {
		_, err := ParsePublicKeyPEM([]byte(c.pem))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error saying %q", c.name, err, c.want)
		}
	}
	if _, err := ParsePrivateKeyPEM(readFile(t, "ed25519.pub")); err == nil {
		t.Error("a public key taken as private")
	}
	if _, err := ParsePrivateKeyPEM(append(readFile(t, "ed25519.key"), readFile(t, "sm2.key")...)); err == nil {
		t.Error("two private keys in one file taken")
	}
	if _, err := GenerateKey("RSA"); !errors.Is(err, ErrUnknownAlgorithm) {
		t.Errorf("GenerateKey(RSA): %v", err)
	}
	for in, want := range map[string]Algorithm{"ed25519": Ed25519, "sm2": SM2, "SM2-SM3": SM2} {
		if got, err := ParseAlgorithm(in); err != nil || got != want {
			t.Errorf("ParseAlgorithm(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseAlgorithm("rsa"); !errors.Is(err, ErrUnknownAlgorithm) {
		t.Errorf("ParseAlgorithm(rsa): %v", err)
	}
}

// TestPayloadShape: the payload is the documented JSON, so that other implementations
// can read codes.
func TestPayloadShape(t *testing.T) {
	t.Parallel()
	code, err := Issue(signer(t, "ed25519"), testClaims())
	if err != nil {
		t.Fatal(err)
	}
	js, err := b64.DecodeString(strings.Split(code, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(js, &m); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"alg": "Ed25519", "kid": "2b8d9b9ca5a7d947", "id": "AC-1", "app": "com.example.app", "org": 7.0,
		"hospital": "示例医院", "hospital_code": "H-7", "iat": 1796112000.0, "exp": 1827648000.0}
	if d := cmp.Diff(want, m); d != "" {
		t.Errorf("payload (-want +got):\n%s", d)
	}
}

// TestIssuedIDsAreValid: the random id Issue draws is always one Verify takes (a
// base64 id started with '-' or '_' one time in 32 and was refused).
func TestIssuedIDsAreValid(t *testing.T) {
	t.Parallel()
	s, err := GenerateKey(Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for i := 0; i < 500; i++ {
		if _, err := Issue(s, Claims{AppID: "com.example.app", OrgID: 3, HospitalCode: "H3", IssuedAt: now.Add(-time.Hour),
			ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatalf("issue %d: %v", i, err)
		}
	}
}
