package apk

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

// fuzzSeeds are small fixtures of every scheme, used as seed corpora.
var fuzzSeeds = []string{
	"v2-only-with-rsa-pss-sha256-2048.apk",
	"v3-only-with-ecdsa-sha256-p256.apk",
	"v1-only-with-rsa-2048.apk",
	"v1-only-with-signed-attrs-signerInfo1-good-signerInfo2-good.apk",
	"v31-rsa-2048_2-tgt-34-1-tgt-28.apk",
	"golden-rsa-verity-out.apk",
	"empty-unsigned.apk",
}

// FuzzInspect: whatever the bytes, Inspect returns a report or an error, never panics,
// and an error is one of its sentinels.
func FuzzInspect(f *testing.F) {
	for _, name := range fuzzSeeds {
		f.Add(fixture(f, name))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		rep, err := inspectBytes(b)
		if err != nil {
			if rep != nil {
				t.Fatal("a report with an error")
			}
			if !errors.Is(err, ErrNotAPK) && !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v is neither ErrNotAPK nor ErrMalformed", err)
			}
			return
		}
		if rep.Signature.Verified && len(rep.Signature.Schemes) == 0 {
			t.Fatal("verified without a scheme")
		}
	})
}

// FuzzSigningBlock: an APK Signing Block of any content is parsed and its scheme blocks
// verified against a fixture's sections without a panic.
func FuzzSigningBlock(f *testing.F) {
	apk := fixture(f, "v2-only-with-rsa-pss-sha256-2048.apk")
	l, err := findLayout(bytes.NewReader(apk), int64(len(apk)))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range fuzzSeeds[:6] {
		b := fixture(f, name)
		ll, err := findLayout(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			f.Fatal(err)
		}
		if blk, err := findSigningBlock(bytes.NewReader(b), ll); err == nil {
			f.Add(b[blk.offset:ll.cdOffset])
		}
	}
	f.Add(append(binary.LittleEndian.AppendUint64(nil, 24), append(make([]byte, 8), sigBlockMagic...)...))
	f.Fuzz(func(t *testing.T, b []byte) {
		blk, err := parseSigningBlock(b, 0)
		if err != nil {
			return
		}
		digests := &digestCache{r: bytes.NewReader(apk), l: l, offset: min(int64(len(b)), l.cdOffset), sums: map[digestAlg][]byte{}, errs: map[digestAlg]error{}}
		for _, s := range []struct {
			name string
			id   uint32
		}{{SchemeV31, blockIDv31}, {SchemeV3, blockIDv3}, {SchemeV2, blockIDv2}} {
			if v, ok := blk.pairs[s.id]; ok {
				res := verifyV2V3(s.name, v, digests)
				if res.err == nil && len(res.signers) == 0 {
					t.Fatal("verified without a signer")
				}
			}
		}
	})
}

// FuzzManifest: binary XML of any content is parsed, or rejected with an error, without
// a panic (androidbinary's own panics are turned into errors).
func FuzzManifest(f *testing.F) {
	for _, name := range []string{"debuggable-boolean.apk", "v2-only-with-rsa-pss-sha256-2048.apk", "v31-ec-p256-2-tgt-33-1-tgt-28-targetSdk-30.apk"} {
		b := fixture(f, name)
		a, err := openArchive(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			f.Fatal(err)
		}
		raw, err := a.read("AndroidManifest.xml")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseManifest(b)
		if err == nil && m == nil {
			t.Fatal("no manifest and no error")
		}
	})
}

// FuzzJARManifest: MANIFEST.MF / .SF text of any content parses or fails cleanly.
func FuzzJARManifest(f *testing.F) {
	b := fixture(f, "v1-only-with-rsa-2048.apk")
	a, err := openArchive(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		f.Fatal(err)
	}
	for _, n := range []string{"META-INF/MANIFEST.MF", "META-INF/RSA-2048.SF"} {
		raw, err := a.read(n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseManifestMF(b)
		if err == nil {
			for _, s := range m.sections {
				_, _, _ = s.digest()
			}
		}
	})
}
