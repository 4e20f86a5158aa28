package sbom

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPartyName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Organization: Example Labs (sbom@example.org)": "Example Labs",
		"Person: Georg Brandl <georg@python.org>":       "Georg Brandl",
		"organization:ACME":                             "ACME",
		"Natanael Copa <ncopa@alpinelinux.org>":         "Natanael Copa",
		"Organization: julialang.org ()":                "julialang.org",
		"Tool: syft":                                    "syft",
		"NOASSERTION":                                   "",
		"Person: NOASSERTION":                           "",
		"ACME (Hangzhou) Ltd.":                          "ACME (Hangzhou) Ltd.",
		"  ":                                            "",
	} {
		if got := partyName(in); got != want {
			t.Errorf("partyName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHash(t *testing.T) {
	t.Parallel()
	tests := []struct {
		alg, value string
		want       Hash
		warn       bool
	}{
		{"SHA256", "ABCDEF", Hash{"SHA-256", "abcdef"}, false},
		{"sha-1", "00ff", Hash{"SHA-1", "00ff"}, false},
		{"SHA_512", "1f", Hash{"SHA-512", "1f"}, false},
		{"SHA3-256", "aa", Hash{"SHA3-256", "aa"}, false},
		{"blake2b-256", "aa", Hash{"BLAKE2b-256", "aa"}, false},
		{"BLAKE2b-512", "aa", Hash{"BLAKE2b-512", "aa"}, false},
		{"md5", " 9E10 ", Hash{"MD5", "9e10"}, false},
		{"md5", "9E 10", Hash{"MD5", "9E 10"}, true}, // inner space: not hex
		{"CRC32", "1234ABCD", Hash{"CRC32", "1234abcd"}, false},
		{"SHA-256", "q80=", Hash{"SHA-256", "q80="}, true},
	}
	for _, tt := range tests {
		b := newBuilder(FormatCycloneDXJSON, "1.5")
		got, ok := b.hash("r", tt.alg, tt.value)
		if !ok || got != tt.want || (len(b.doc.Warnings) == 1) != tt.warn {
			t.Errorf("hash(%q, %q) = %+v, %v, warnings %v; want %+v, warning %v", tt.alg, tt.value, got, ok, b.doc.Warnings, tt.want, tt.warn)
		}
	}
	b := newBuilder(FormatCycloneDXJSON, "1.5")
	if _, ok := b.hash("r", "SHA-256", "  "); ok {
		t.Error("empty value accepted")
	}
}

func TestLicenceHelpers(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Apache License, Version 2.0": "Apache-License-Version-2.0",
		"  GPL v2+ ":                  "GPL-v2",
		"--x--":                       "x",
		"中文 License 1.0":              "License-1.0",
		"!!!":                         "",
	} {
		if got := sanitiseLicenseRef(in); got != want {
			t.Errorf("sanitiseLicenseRef(%q) = %q, want %q", in, got, want)
		}
	}
	for _, tt := range []struct {
		parts []string
		want  string
	}{
		{nil, ""},
		{[]string{"MIT"}, "MIT"},
		{[]string{"MIT OR Apache-2.0"}, "MIT OR Apache-2.0"},
		{[]string{"MIT", "Apache-2.0 OR GPL-2.0-only"}, "MIT AND (Apache-2.0 OR GPL-2.0-only)"},
		{[]string{"(MIT OR ISC)", "Zlib"}, "(MIT OR ISC) AND Zlib"},
		{[]string{"(MIT) OR (ISC)", "Zlib"}, "((MIT) OR (ISC)) AND Zlib"},
		{[]string{"GPL-2.0-only WITH Classpath-exception-2.0", "MIT"}, "(GPL-2.0-only WITH Classpath-exception-2.0) AND MIT"},
	} {
		if got := joinAnd(tt.parts); got != tt.want {
			t.Errorf("joinAnd(%q) = %q, want %q", tt.parts, got, tt.want)
		}
	}
	if id, ok := knownLicenseID("gpl-2.0+"); !ok || id != "GPL-2.0+" {
		t.Errorf("deprecated id: knownLicenseID = %q, %v", id, ok)
	}
	if id, ok := knownLicenseID("Apache License 2.0"); ok {
		t.Errorf("a licence name is not an id; got %q", id)
	}
	if id, ok := knownLicenseID(" gpl-2.0-ONLY "); !ok || id != "GPL-2.0-only" {
		t.Errorf("knownLicenseID = %q, %v", id, ok)
	}
}

func TestFixElementID(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in      string
		special bool
		want    string
		changed bool
	}{
		{"SPDXRef-a", false, "SPDXRef-a", false},
		{"a", false, "SPDXRef-a", true},
		{"spdxref-a", false, "SPDXRef-a", true},
		{"NOASSERTION", true, "NOASSERTION", false},
		{"NOASSERTION", false, "SPDXRef-NOASSERTION", true},
		{"DocumentRef-x:SPDXRef-a", false, "DocumentRef-x:SPDXRef-a", false},
		{"DocumentRef-x:a", false, "DocumentRef-x:SPDXRef-a", true},
		{"documentref-x:SPDXRef-a", false, "DocumentRef-x:SPDXRef-a", true},
		{"DocumentRef-x", false, "DocumentRef-x", false},
	} {
		got, changed := fixElementID(tt.in, tt.special)
		if got != tt.want || changed != tt.changed {
			t.Errorf("fixElementID(%q) = %q, %v; want %q, %v", tt.in, got, changed, tt.want, tt.changed)
		}
	}
}

func TestReadTagValues(t *testing.T) {
	t.Parallel()
	in := "SPDXVersion: SPDX-2.3\r\n# comment\n\nA:  one  \rB: <text>two\nlines</text>\n  C : <text>inline</text> ignored\nD: <text>never closed\nE: x\n"
	pairs, truncated, err := readTagValues([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []tvPair{
		{"SPDXVersion", "SPDX-2.3", 1},
		{"A", "one", 4},
		{"B", "two\nlines", 5},
		{"C", "inline", 7},
		{"D", "never closed\nE: x\n", 8},
	}
	if diff := cmp.Diff(want, pairs, cmp.AllowUnexported(tvPair{})); diff != "" {
		t.Errorf("pairs (-want +got):\n%s", diff)
	}
	if truncated != 8 {
		t.Errorf("truncated = %d, want 8", truncated)
	}
}

func TestLocateJSON(t *testing.T) {
	t.Parallel()
	text := []byte("{\n \"a\": [1, {\"b\": \"x\", \"c\": {\"b\": 5}}],\n \"b\": true\n}")
	ptr, off, ok := locateJSONField(text, "b", "number")
	if !ok || ptr != "/a/1/c/b" || placeAt(text, off) != "line 2, column 33" {
		t.Errorf("got %q %s %v", ptr, placeAt(text, off), ok)
	}
	if ptr, _, ok := locateJSONField(text, "c.b", "number"); !ok || ptr != "/a/1/c/b" {
		t.Errorf("got %q %v", ptr, ok)
	}
	if _, _, ok := locateJSONField(text, "b", "array"); ok {
		t.Error("found a value of the wrong kind")
	}
	if got := placeOfPointer(text, "/b"); got != "line 3, column 7 (/b)" {
		t.Errorf("placeOfPointer = %q", got)
	}
	if got := placeOfPointer(text, "/zzz"); got != "/zzz" {
		t.Errorf("placeOfPointer = %q", got)
	}
}
