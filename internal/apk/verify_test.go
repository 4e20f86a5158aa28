package apk

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const fixtures = "testdata/apksig"

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtures, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func inspectBytes(b []byte) (*Report, error) { return Inspect(bytes.NewReader(b), int64(len(b))) }

// TestVerifyFixtures checks every case of testdata/verify.txt: the outcome, the schemes
// that verified and the reason, as apksig's tests expect them.
func TestVerifyFixtures(t *testing.T) {
	f, err := os.Open("testdata/verify.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		fields := strings.Fields(text)
		if len(fields) < 4 {
			t.Fatalf("verify.txt:%d: want FILE OUTCOME SCHEMES REASON, got %q", line, text)
		}
		name, outcome, schemes := fields[0], fields[1], fields[2]
		reason := strings.Join(fields[3:], " ")
		n++
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rep, err := InspectFile(filepath.Join(fixtures, name))
			if outcome == "error" {
				if err == nil {
					t.Fatalf("verify.txt:%d: no error, want one containing %q", line, reason)
				}
				if !errors.Is(err, ErrNotAPK) && !errors.Is(err, ErrMalformed) {
					t.Errorf("verify.txt:%d: error %v is neither ErrNotAPK nor ErrMalformed", line, err)
				}
				if !strings.Contains(err.Error(), reason) {
					t.Errorf("verify.txt:%d: error %q does not contain %q", line, err, reason)
				}
				return
			}
			if err != nil {
				t.Fatalf("verify.txt:%d: %v", line, err)
			}
			sig := rep.Signature
			var got string
			switch {
			case sig.Verified:
				got = "verified"
			case len(sig.Present) == 0:
				got = "unsigned"
			default:
				got = "failed"
			}
			if got != outcome {
				t.Errorf("verify.txt:%d: %s, want %s (failures %v)", line, got, outcome, sig.Failures)
			}
			want := []string{}
			if schemes != "-" {
				want = strings.Split(schemes, ",")
			}
			if !slices.Equal(sig.Schemes, want) {
				t.Errorf("verify.txt:%d: schemes %v, want %v (failures %v)", line, sig.Schemes, want, sig.Failures)
			}
			var reasons []string
			for _, f := range sig.Failures {
				reasons = append(reasons, f.Scheme+": "+f.Reason)
			}
			all := strings.Join(reasons, "; ")
			switch {
			case reason == "-" && len(sig.Failures) > 0:
				t.Errorf("verify.txt:%d: failures %s, want none", line, all)
			case reason != "-" && !strings.Contains(all, reason):
				t.Errorf("verify.txt:%d: failures %q do not contain %q", line, all, reason)
			}
			if sig.Verified && len(sig.Signers) == 0 {
				t.Errorf("verify.txt:%d: verified without a signer", line)
			}
		})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 30 {
		t.Fatalf("only %d cases read from verify.txt", n)
	}
}

// TestSignerDigests checks the reported certificate digests against the certificate
// apksig says signed the APK (rsa-2048, whose SHA-256 apksig's test names), digested here
// from the PEM file independently of the APK.
func TestSignerDigests(t *testing.T) {
	block, _ := pem.Decode(fixture(t, "rsa-2048.x509.pem"))
	if block == nil {
		t.Fatal("rsa-2048.x509.pem: no PEM block")
	}
	s256, m5 := sha256.Sum256(block.Bytes), md5.Sum(block.Bytes)
	if got := hex.EncodeToString(s256[:]); got != "fb5dbd3c669af9fc236c6991e6387b7f11ff0590997f22d0f5c74ff40e04fca8" {
		t.Fatalf("rsa-2048.x509.pem SHA-256 %s is not the one apksig names", got)
	}
	for _, name := range []string{"v1-only-pkcs7-cert-bag-first-cert-not-used.apk", "v2-only-with-rsa-pss-sha256-2048.apk", "golden-aligned-v1v2v3-out.apk"} {
		rep, err := inspectBytes(fixture(t, name))
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Signature.Signers) != 1 {
			t.Fatalf("%s: %d signers, want 1: %+v", name, len(rep.Signature.Signers), rep.Signature.Signers)
		}
		s := rep.Signature.Signers[0]
		if s.SHA256 != hex.EncodeToString(s256[:]) || s.MD5 != hex.EncodeToString(m5[:]) {
			t.Errorf("%s: signer SHA-256 %s MD5 %s, want %x %x", name, s.SHA256, s.MD5, s256, m5)
		}
		if s.KeyAlgorithm != "RSA" || s.KeySize != 2048 {
			t.Errorf("%s: key %s %d, want RSA 2048", name, s.KeyAlgorithm, s.KeySize)
		}
		if !slices.Equal(s.Schemes, rep.Signature.Schemes) {
			t.Errorf("%s: signer schemes %v, want %v", name, s.Schemes, rep.Signature.Schemes)
		}
	}
}

// signingBlockOf splits an APK into entries, signing block, central directory and EOCD.
func signingBlockOf(t testing.TB, apk []byte) (entries, block, cd, eocd []byte) {
	t.Helper()
	l, err := findLayout(bytes.NewReader(apk), int64(len(apk)))
	if err != nil {
		t.Fatal(err)
	}
	b, err := findSigningBlock(bytes.NewReader(apk), l)
	if err != nil {
		t.Fatal(err)
	}
	return apk[:b.offset], apk[b.offset:l.cdOffset], apk[l.cdOffset:l.eocdOffset], apk[l.eocdOffset:]
}

// rebuild makes an APK of entries, a signing block holding pairs (id → value, in order)
// and the central directory and EOCD, the EOCD's central-directory offset moved.
func rebuild(entries []byte, pairs [][2][]byte, cd, eocd []byte) []byte {
	var body []byte
	for _, p := range pairs {
		body = binary.LittleEndian.AppendUint64(body, uint64(len(p[0])+len(p[1])))
		body = append(body, p[0]...)
		body = append(body, p[1]...)
	}
	size := uint64(len(body) + 24)
	var block []byte
	block = binary.LittleEndian.AppendUint64(block, size)
	block = append(block, body...)
	block = binary.LittleEndian.AppendUint64(block, size)
	block = append(block, sigBlockMagic...)
	out := append(append(append([]byte{}, entries...), block...), cd...)
	e := append([]byte{}, eocd...)
	binary.LittleEndian.PutUint32(e[16:], uint32(len(entries)+len(block)))
	return append(out, e...)
}

func pairsOf(t testing.TB, block []byte) [][2][]byte {
	t.Helper()
	b, err := parseSigningBlock(block, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out [][2][]byte
	for _, id := range b.ids {
		out = append(out, [2][]byte{binary.LittleEndian.AppendUint32(nil, id), b.pairs[id]})
	}
	return out
}

// TestDuplicateSigningBlocksRejected: an APK Signing Block with two v2 blocks is
// rejected, whichever of the two is genuine (the fdroidserver bypass of 2024 relied on
// verifiers that read the last one while Android reads the first).
func TestDuplicateSigningBlocksRejected(t *testing.T) {
	apk := fixture(t, "v2-only-with-rsa-pss-sha256-2048.apk")
	entries, block, cd, eocd := signingBlockOf(t, apk)
	pairs := pairsOf(t, block)
	var v2 [2][]byte
	for _, p := range pairs {
		if binary.LittleEndian.Uint32(p[0]) == blockIDv2 {
			v2 = p
		}
	}
	if v2[0] == nil {
		t.Fatal("fixture has no v2 block")
	}
	// The rebuilt APK without a duplicate verifies: the rebuilding is sound.
	if rep, err := inspectBytes(rebuild(entries, pairs, cd, eocd)); err != nil || !rep.Signature.Verified {
		t.Fatalf("rebuilt APK does not verify: %v %+v", err, rep)
	}
	forged := append([]byte{}, v2[1]...)
	forged[len(forged)/2] ^= 0xff // another signer's block, as an attacker's would be
	for name, ps := range map[string][][2][]byte{
		"same block twice":   append(append([][2][]byte{}, pairs...), v2),
		"forged block first": append([][2][]byte{{v2[0], forged}}, pairs...),
		"forged block last":  append(append([][2][]byte{}, pairs...), [2][]byte{v2[0], forged}),
	} {
		t.Run(name, func(t *testing.T) {
			rep, err := inspectBytes(rebuild(entries, ps, cd, eocd))
			if err != nil {
				t.Fatal(err)
			}
			if rep.Signature.Verified {
				t.Fatalf("an APK with two v2 blocks verified: %+v", rep.Signature)
			}
			if !slices.ContainsFunc(rep.Signature.Failures, func(f SchemeFailure) bool {
				return strings.Contains(f.Reason, "two v2 blocks")
			}) {
				t.Errorf("failures %+v do not name the duplicate", rep.Signature.Failures)
			}
			if !slices.ContainsFunc(rep.Findings, func(f Finding) bool { return f.ID == "signature-not-verified" }) {
				t.Errorf("no signature-not-verified finding: %+v", rep.Findings)
			}
		})
	}
}

// TestTamperedAPKsFail: a byte changed in an entry breaks each scheme's digest.
func TestTamperedAPKsFail(t *testing.T) {
	for _, c := range []struct{ name, reason string }{
		{"v2-only-with-rsa-pss-sha256-2048.apk", "content digest"},
		{"v3-only-with-ecdsa-sha256-p256.apk", "content digest"},
		{"v1-only-with-rsa-2048.apk", "entry AndroidManifest.xml"}, // deflated: corrupt, or a digest mismatch
	} {
		t.Run(c.name, func(t *testing.T) {
			apk := fixture(t, c.name)
			// The manifest is stored uncompressed or deflated; either way its bytes are
			// covered. Flip a byte inside AndroidManifest.xml's local data.
			i := bytes.Index(apk, []byte("AndroidManifest.xml"))
			if i < 0 {
				t.Fatal("no AndroidManifest.xml in the fixture")
			}
			bad := append([]byte{}, apk...)
			bad[i+len("AndroidManifest.xml")+40] ^= 0x01
			rep, err := inspectBytes(bad)
			if err != nil {
				t.Fatalf("tampered APK not read: %v", err)
			}
			if rep.Signature.Verified {
				t.Fatalf("tampered APK verified")
			}
			var all []string
			for _, f := range rep.Signature.Failures {
				all = append(all, f.Reason)
			}
			if !strings.Contains(strings.Join(all, "; "), c.reason) {
				t.Errorf("failures %v, want one about %q", all, c.reason)
			}
		})
	}
}

// TestNotAnAPK: inputs that are not APKs are errors, not reports.
func TestNotAnAPK(t *testing.T) {
	for name, b := range map[string][]byte{
		"empty":     nil,
		"text":      []byte("this is not a zip archive at all, just some text to read"),
		"zip magic": append([]byte("PK\x05\x06"), make([]byte, 18)...),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := inspectBytes(b)
			if err == nil || (!errors.Is(err, ErrNotAPK) && !errors.Is(err, ErrMalformed)) {
				t.Fatalf("err = %v, want ErrNotAPK or ErrMalformed", err)
			}
		})
	}
}

// TestJSONContract: the JSON names other tools read (the web upload, scripts) are there
// with their types.
func TestJSONContract(t *testing.T) {
	rep, err := inspectBytes(fixture(t, "golden-aligned-v1v2v3-out.apk"))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteReport(&buf, rep, "json"); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	get := func(path ...string) any {
		var v any = doc
		for _, p := range path {
			switch x := v.(type) {
			case map[string]any:
				v = x[p]
			case []any:
				if len(x) == 0 {
					t.Fatalf("%v: empty array", path)
				}
				v = x[0].(map[string]any)[p]
			default:
				t.Fatalf("%v: %T at %s", path, v, p)
			}
		}
		return v
	}
	for _, c := range []struct {
		path []string
		want any
	}{
		{[]string{"signature", "verified"}, true},
		{[]string{"signature", "schemes"}, []any{"v3", "v2", "v1"}},
		{[]string{"signature", "signers", "sha256"}, "fb5dbd3c669af9fc236c6991e6387b7f11ff0590997f22d0f5c74ff40e04fca8"},
		{[]string{"signature", "signers", "md5"}, "e995a5ed7137307661f854e66901ee9e"},
		{[]string{"manifest", "package"}, "android.appsecurity.cts.tinyapp"},
		{[]string{"manifest", "version_code"}, 10.0},
		{[]string{"manifest", "version_name"}, "1.0"},
		{[]string{"manifest", "min_sdk"}, 23.0},
		{[]string{"manifest", "target_sdk"}, 23.0},
		{[]string{"file", "size"}, float64(len(fixture(t, "golden-aligned-v1v2v3-out.apk")))},
	} {
		if got := get(c.path...); fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%s = %v, want %v", strings.Join(c.path, "."), got, c.want)
		}
	}
	for _, p := range [][]string{{"file", "sha256"}, {"file", "sm3"}, {"findings", "id"}, {"findings", "severity"}, {"findings", "evidence"}} {
		if s, ok := get(p...).(string); !ok || s == "" {
			t.Errorf("%s missing", strings.Join(p, "."))
		}
	}
	if _, ok := get("signature", "failures").([]any); !ok {
		t.Error("signature.failures is not an array")
	}
}

// TestGarbageBeforeEOCD: bytes between the central directory and the EOCD are covered by
// no v2/v3 digest; Android then ignores the signing block (apksig:
// v2-only-garbage-between-cd-and-eocd.apk fails with JAR_SIG_NO_MANIFEST).
func TestGarbageBeforeEOCD(t *testing.T) {
	apk := fixture(t, "v2-only-with-rsa-pss-sha256-2048.apk")
	l, err := findLayout(bytes.NewReader(apk), int64(len(apk)))
	if err != nil {
		t.Fatal(err)
	}
	bad := append(append(append([]byte{}, apk[:l.eocdOffset]...), "GARBAGE"...), apk[l.eocdOffset:]...)
	rep, err := inspectBytes(bad)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Signature.Verified || len(rep.Signature.Schemes) != 0 {
		t.Fatalf("verified %v with schemes %v", rep.Signature.Verified, rep.Signature.Schemes)
	}
	if len(rep.Signature.Failures) == 0 || !strings.Contains(rep.Signature.Failures[0].Reason, "7 bytes between the central directory and the EOCD") {
		t.Errorf("failures %+v", rep.Signature.Failures)
	}
}
