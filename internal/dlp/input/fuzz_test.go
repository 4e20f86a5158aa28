package input_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"

	"github.com/medguard/medguard/internal/dlp/input"
)

// FuzzDecode checks every decoder through Decode: whatever the name (the
// format hint) and bytes, it must not panic, every unit's text must be
// valid UTF-8 and no bigger than the limits allow, Field must accept any
// offset, and every problem must name a path and a known reason.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.*")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(filepath.Base(file), b)
		f.Add("noext", b)
	}
	gbk, _ := simplifiedchinese.GBK.NewEncoder().Bytes(readFixtureF(f, "patients.csv"))
	u16, _ := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().Bytes([]byte("患者 13812345678"))
	f.Add("g.csv", gbk)
	f.Add("u.txt", u16)
	f.Add("a.docx", docx(f))
	f.Add("a.zip", makeZip(f, member{name: "x/../a.json", body: readFixtureF(f, "patient.json")},
		member{name: "b.zip", body: makeZip(f, member{name: "c.hl7", body: readFixtureF(f, "adt.hl7")})},
		member{name: "s.txt", body: []byte("secret"), encrypted: true}))
	f.Add("a.pdf", pdfDoc(`BT (Zhang San) Tj [(138) -300 (12345678)] TJ ET`, `begincmap beginbfrange <0000> <00ff> <4e00> endbfrange endcmap`))
	f.Add("b.xlsx", makeZip(f, member{name: "xl/sharedStrings.xml", body: []byte(`<sst><si><t>x</t></si></sst>`)},
		member{name: "xl/worksheets/sheet1.xml", body: []byte(`<row><c t="s"><v>0</v></c></row>`)}))
	lim := input.Limits{MaxFileSize: 1 << 20, MaxMemberSize: 1 << 16, MaxTotalExtracted: 1 << 18, MaxDepth: 3, MaxMembers: 50, MaxRatio: 50}
	reasons := []string{input.ReasonUnreadable, input.ReasonEncrypted, input.ReasonTooBig, input.ReasonZipBomb,
		input.ReasonTraversal, input.ReasonTooDeep, input.ReasonTooMany, input.ReasonBinary, input.ReasonUnsupported, input.ReasonMalformed}
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		maxText := 2*max(len(data), int(lim.MaxMemberSize)) + 64
		probs, err := input.Decode(name, data, lim, func(u input.Unit) error {
			if utf8.ValidString(name) && !utf8.ValidString(u.Path) {
				t.Errorf("path %q is not valid UTF-8", u.Path)
			}
			if !utf8.Valid(u.Text) {
				t.Errorf("%s (%s): text is not valid UTF-8: %q", u.Path, u.Kind, u.Text)
			}
			if len(u.Text) > maxText {
				t.Errorf("%s (%s): %d bytes of text from %d bytes of input", u.Path, u.Kind, len(u.Text), len(data))
			}
			step := len(u.Text)/64 + 1
			for off := -1; off <= len(u.Text); off += step {
				if s := u.Field(off); !utf8.ValidString(s) {
					t.Errorf("%s: Field(%d) = %q", u.Path, off, s)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("Decode: %v", err)
		}
		for _, p := range probs {
			known := false
			for _, r := range reasons {
				known = known || p.Reason == r || bytes.HasPrefix([]byte(p.Reason), []byte(r+": "))
			}
			if !known || p.Path == "" && name != "" || utf8.ValidString(name) && !utf8.ValidString(p.Path) {
				t.Errorf("problem %v: unknown reason or no path", p)
			}
		}
	})
}

func readFixtureF(f *testing.F, name string) []byte {
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		f.Fatal(err)
	}
	return b
}
