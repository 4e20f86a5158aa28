package input_test

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"

	"github.com/medguard/medguard/internal/dlp/input"
)

func decode(t *testing.T, name string, data []byte, lim input.Limits) ([]input.Unit, []input.Problem) {
	t.Helper()
	var units []input.Unit
	probs, err := input.Decode(name, data, lim, func(u input.Unit) error {
		units = append(units, u)
		return nil
	})
	if err != nil {
		t.Fatalf("Decode(%s): %v", name, err)
	}
	return units, probs
}

func one(t *testing.T, name string, data []byte) input.Unit {
	t.Helper()
	units, probs := decode(t, name, data, input.Limits{})
	if len(units) != 1 || len(probs) != 0 {
		t.Fatalf("Decode(%s) = %d units, problems %v; want 1 unit, no problem", name, len(units), probs)
	}
	return units[0]
}

// fieldOf names the field holding the first occurrence of s in u.Text.
func fieldOf(t *testing.T, u input.Unit, s string) string {
	t.Helper()
	i := bytes.Index(u.Text, []byte(s))
	if i < 0 {
		t.Fatalf("%s: %q not in text %q", u.Path, s, u.Text)
	}
	return u.Field(i)
}

func encode(t *testing.T, s string, enc interface{ Bytes([]byte) ([]byte, error) }) []byte {
	t.Helper()
	b, err := enc.Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestEncodings(t *testing.T) {
	t.Parallel()
	const text = "患者张三 电话13812345678 Patient record line\n"
	utf16le := encode(t, text, unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM).NewEncoder())
	utf16be := encode(t, text, unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM).NewEncoder())
	tests := []struct {
		name, want, enc string
		data            []byte
	}{
		{"utf-8", text, input.EncodingUTF8, []byte(text)},
		{"utf-8 bom", "\uFEFF" + text, input.EncodingUTF8, []byte("\uFEFF" + text)},
		{"utf-16le bom", text, input.EncodingUTF16LE, append([]byte{0xFF, 0xFE}, utf16le...)},
		{"utf-16be bom", text, input.EncodingUTF16BE, append([]byte{0xFE, 0xFF}, utf16be...)},
		{"utf-16le nul pattern", text, input.EncodingUTF16LE, utf16le},
		{"utf-16be nul pattern", text, input.EncodingUTF16BE, utf16be},
		{"gbk", text, input.EncodingGBK, encode(t, text, simplifiedchinese.GBK.NewEncoder())},
		{"gb18030 four-byte", text + "😀", input.EncodingGB18030, encode(t, text+"😀", simplifiedchinese.GB18030.NewEncoder())},
		{"latin-1", "caf? 13812345678", input.EncodingUnknown, []byte("caf\xe9 13812345678")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := one(t, "a.txt", tt.data)
			if string(u.Text) != tt.want || u.Encoding != tt.enc || u.Kind != input.KindText {
				t.Errorf("got %q (%s, %s), want %q (%s, text)", u.Text, u.Encoding, u.Kind, tt.want, tt.enc)
			}
		})
	}
}

func TestBinary(t *testing.T) {
	t.Parallel()
	for _, data := range [][]byte{
		{0x7F, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0},
		bytes.Repeat([]byte{1, 2, 3, 'a'}, 100),
	} {
		units, probs := decode(t, "prog", data, input.Limits{})
		want := []input.Problem{{Path: "prog", Reason: "binary: no text to scan"}}
		if len(units) != 0 || !cmp.Equal(probs, want) {
			t.Errorf("units %d, problems %v; want none and %v", len(units), probs, want)
		}
	}
}

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCSV(t *testing.T) {
	t.Parallel()
	data := readFixture(t, "patients.csv")
	u := one(t, "patients.csv", data)
	if !bytes.Equal(u.Text, data) || u.Kind != input.KindCSV {
		t.Fatalf("CSV text must be the file itself, got kind %s", u.Kind)
	}
	if diff := cmp.Diff([]string{"姓名", "身份证号", "手机", "备注"}, u.Columns); diff != "" {
		t.Errorf("Columns (-want +got):\n%s", diff)
	}
	for s, want := range map[string]string{
		"张三": "姓名", "110101199003074514": "身份证号", "13912345678": "手机",
		"口服": "备注", "备注\"": "备注", "11010519491231002X": "身份证号", "姓名": "",
	} {
		if got := fieldOf(t, u, s); got != want {
			t.Errorf("Field(%q) = %q, want %q", s, got, want)
		}
	}
	// GBK-encoded CSV: offsets in the decoded text, columns still named.
	g := one(t, "g.csv", encode(t, string(data), simplifiedchinese.GBK.NewEncoder()))
	if g.Encoding != input.EncodingGBK || fieldOf(t, g, "13812345678") != "手机" {
		t.Errorf("GBK CSV: encoding %s, field %q", g.Encoding, fieldOf(t, g, "13812345678"))
	}
	tsv := one(t, "contacts.tsv", readFixture(t, "contacts.tsv"))
	if tsv.Kind != input.KindTSV || fieldOf(t, tsv, "137") != "mobile" {
		t.Errorf("TSV: kind %s, field %q", tsv.Kind, fieldOf(t, tsv, "137"))
	}
	extra := one(t, "x.csv", []byte("a\n1,13812345678\n"))
	if got := fieldOf(t, extra, "138"); got != "column 2" {
		t.Errorf("cell beyond header named %q, want column 2", got)
	}
}

func TestJSON(t *testing.T) {
	t.Parallel()
	u := one(t, "patient.json", readFixture(t, "patient.json"))
	want := "姓名: 张三\nidCard: 110101199003074514\n13812345678\n13912345678\nnote: 患者主诉\n姓名: 李四\n"
	if string(u.Text) != want {
		t.Fatalf("text %q, want %q", u.Text, want)
	}
	for s, want := range map[string]string{
		"张三": "/patient/姓名", "1101": "/patient/idCard", "138": "/patient/phones/0",
		"139": "/patient/phones/1", "主诉": "/patient/note", "idCard": "",
	} {
		if got := fieldOf(t, u, s); got != want {
			t.Errorf("Field(%q) = %q, want %q", s, got, want)
		}
	}
	if got := fieldOf(t, one(t, "p.json", []byte(`[{"a/b~": {"c": "13812345678"}}]`)), "138"); got != "/0/a~1b~0/c" {
		t.Errorf("escaped pointer %q", got)
	}
	units, probs := decode(t, "bad.json", []byte(`{"a": "13812345678", }`), input.Limits{})
	if len(units) != 1 || units[0].Kind != input.KindText || len(probs) != 1 ||
		!strings.HasPrefix(probs[0].Reason, "malformed: json: byte ") {
		t.Errorf("malformed JSON: units %v, problems %v; want text fallback and a malformed problem", units, probs)
	}
}

func TestMarkup(t *testing.T) {
	t.Parallel()
	x := one(t, "record.xml", readFixture(t, "record.xml"))
	want := "@id: 110101199003074514\nname: 张三\ntel: 13812345678\nnote: 过敏 & 哮喘\n"
	if string(x.Text) != want {
		t.Errorf("xml text %q, want %q", x.Text, want)
	}
	if got := fieldOf(t, x, "1101"); got != "/record/patient/@id" {
		t.Errorf("attribute field %q", got)
	}
	if got := fieldOf(t, x, "张三"); got != "/record/patient/name" {
		t.Errorf("element field %q", got)
	}
	h := one(t, "page.html", readFixture(t, "page.html"))
	for _, s := range []string{"患者张三，电话 13812345678\u00a0。", "110101199003074514", `x="13800000000"`, "地址:北京", "病历"} {
		if !bytes.Contains(h.Text, []byte(s)) {
			t.Errorf("html text %q lacks %q", h.Text, s)
		}
	}
	for _, s := range []string{"<b>", "<p>", "</", "color:red", "&nbsp;"} {
		if bytes.Contains(h.Text, []byte(s)) {
			t.Errorf("html text %q has markup %q", h.Text, s)
		}
	}
	units, probs := decode(t, "bad.xml", []byte("<a>\n<b 张三</b></a>"), input.Limits{})
	if len(units) != 1 || units[0].Kind != input.KindText || !bytes.Contains(units[0].Text, []byte("张三")) ||
		!cmp.Equal(probs, []input.Problem{{Path: "bad.xml", Reason: "malformed: xml: line 2: expected attribute name in element (scanned as text)"}}) {
		t.Errorf("malformed XML: units %v, problems %v", units, probs)
	}
}

func TestHL7(t *testing.T) {
	t.Parallel()
	data := readFixture(t, "adt.hl7")
	for name, data := range map[string][]byte{"adt.hl7": data, "-": append(append([]byte{0x0B}, data...), 0x1C, '\r')} {
		u := one(t, name, data)
		if u.Kind != input.KindHL7 || len(u.Text) != len(data) {
			t.Fatalf("%s: kind %s, %d bytes of %d", name, u.Kind, len(u.Text), len(data))
		}
		for s, want := range map[string]string{
			"HIS": "MSH-3", "ADT^A01": "MSH-9", "MRN12345": "PID-3", "张^三": "PID-5",
			"三": "PID-5", "13812345678": "PID-13", "北京市": "PID-11", "W01": "PV1-3", "PV1": "PV1",
		} {
			if got := fieldOf(t, u, s); got != want {
				t.Errorf("%s: Field(%q) = %q, want %q", name, s, got, want)
			}
		}
		if bytes.Count(u.Text, []byte("\n")) != 3+bytes.Count(data, []byte{0x1C}) {
			t.Errorf("%s: segments are not lines: %q", name, u.Text)
		}
	}
}

func TestLog(t *testing.T) {
	t.Parallel()
	u := one(t, "app.log", readFixture(t, "app.log"))
	if u.Kind != input.KindLog {
		t.Errorf("kind %s, want log", u.Kind)
	}
}

// member is one entry of a generated ZIP archive.
type member struct {
	name      string
	body      []byte
	store     bool
	encrypted bool
	declared  int // declared uncompressed size when not 0 (a lie)
}

func makeZip(t testing.TB, members ...member) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, m := range members {
		if !m.encrypted && m.declared == 0 {
			method := zip.Deflate
			if m.store {
				method = zip.Store
			}
			w, err := zw.CreateHeader(&zip.FileHeader{Name: m.name, Method: method})
			if err != nil {
				t.Fatal(err)
			}
			w.Write(m.body)
			continue
		}
		var packed bytes.Buffer
		fw, _ := flate.NewWriter(&packed, flate.BestCompression)
		fw.Write(m.body)
		fw.Close()
		fh := &zip.FileHeader{Name: m.name, Method: zip.Deflate, CompressedSize64: uint64(packed.Len()), UncompressedSize64: uint64(len(m.body))}
		if m.encrypted {
			fh.Flags |= 1
		}
		if m.declared != 0 {
			fh.UncompressedSize64 = uint64(m.declared)
		}
		w, err := zw.CreateRaw(fh)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(packed.Bytes())
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func paths(units []input.Unit) []string {
	var ps []string
	for _, u := range units {
		ps = append(ps, u.Path+" "+u.Kind)
	}
	return ps
}

func TestZip(t *testing.T) {
	t.Parallel()
	inner := makeZip(t, member{name: "deep/c.txt", body: []byte("电话 13812345678")})
	outer := makeZip(t,
		member{name: "a.txt", body: []byte("110101199003074514")},
		member{name: "dir/", body: nil},
		member{name: "b/inner.zip", body: inner, store: true},
		member{name: "../../etc/evil.txt", body: []byte("13912345678")},
		member{name: "/abs.txt", body: []byte("x")},
		member{name: `..\win.txt`, body: []byte("y")},
		member{name: "secret.txt", body: []byte("13712345678"), encrypted: true},
		member{name: "bomb.txt", body: bytes.Repeat([]byte{'0'}, 4<<20)},
		member{name: "liar.txt", body: bytes.Repeat([]byte("13812345678 "), 100), declared: 10},
		member{name: "p.csv", body: []byte("name,tel\n张三,13812345678\n")},
	)
	units, probs := decode(t, "a.zip", outer, input.Limits{})
	wantUnits := []string{
		"a.zip!/a.txt text", "a.zip!/b/inner.zip!/deep/c.txt text", "a.zip!/../../etc/evil.txt text",
		"a.zip!//abs.txt text", `a.zip!/..\win.txt text`, "a.zip!/p.csv csv",
	}
	if diff := cmp.Diff(wantUnits, paths(units)); diff != "" {
		t.Errorf("units (-want +got):\n%s", diff)
	}
	wantProbs := []input.Problem{
		{Path: "a.zip!/../../etc/evil.txt", Reason: "path traversal: member name escapes the extraction directory"},
		{Path: "a.zip!//abs.txt", Reason: "path traversal: member name escapes the extraction directory"},
		{Path: `a.zip!/..\win.txt`, Reason: "path traversal: member name escapes the extraction directory"},
		{Path: "a.zip!/secret.txt", Reason: "encrypted: password-protected archive member"},
		{Path: "a.zip!/liar.txt", Reason: "zip bomb: member inflates beyond its declared size 10"},
	}
	if len(probs) != len(wantProbs)+1 || !strings.HasPrefix(probs[4].Reason, "zip bomb: compression ratio 4194304/") {
		t.Fatalf("problems %v: want a zip bomb for bomb.txt", probs)
	}
	probs = append(probs[:4], probs[5:]...)
	if diff := cmp.Diff(wantProbs, probs); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	if got := fieldOf(t, units[5], "138"); got != "tel" {
		t.Errorf("CSV member field %q, want tel", got)
	}
}

func TestZipLimits(t *testing.T) {
	t.Parallel()
	// A nest of archives, each holding the previous one.
	nest := makeZip(t, member{name: "x.txt", body: []byte("13812345678")})
	for i := 0; i < 5; i++ {
		nest = makeZip(t, member{name: fmt.Sprintf("l%d.zip", i), body: nest})
	}
	big := bytes.Repeat([]byte("13812345678 张三\n"), 1000)
	many := []member{}
	for i := 0; i < 5; i++ {
		many = append(many, member{name: fmt.Sprintf("m%d.txt", i), body: big})
	}
	tests := []struct {
		name  string
		data  []byte
		lim   input.Limits
		units int
		want  []string // reason prefixes
	}{
		{"depth", nest, input.Limits{MaxDepth: 3}, 0, []string{"too deep"}},
		{"depth ok", nest, input.Limits{MaxDepth: 6}, 1, nil},
		{"members", makeZip(t, many...), input.Limits{MaxMembers: 2}, 2, []string{"too many members"}},
		{"member size", makeZip(t, many...), input.Limits{MaxMemberSize: 1000}, 0, []string{"too big", "too big", "too big", "too big", "too big"}},
		{"total", makeZip(t, many...), input.Limits{MaxTotalExtracted: 3 * int64(len(big))}, 3, []string{"zip bomb", "zip bomb"}},
		{"file size", makeZip(t, many...), input.Limits{MaxFileSize: 100}, 0, []string{"too big"}},
		{"not a zip", []byte("PK\x03\x04garbage"), input.Limits{}, 0, []string{"unreadable"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			units, probs := decode(t, "t.zip", tt.data, tt.lim)
			var got []string
			for _, p := range probs {
				got = append(got, strings.SplitN(p.Reason, ":", 2)[0])
			}
			if len(units) != tt.units || !cmp.Equal(got, tt.want) {
				t.Errorf("%d units, problems %v; want %d units, %v", len(units), probs, tt.units, tt.want)
			}
		})
	}
}

func TestGzip(t *testing.T) {
	t.Parallel()
	gz := func(b []byte) []byte {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(b)
		zw.Close()
		return buf.Bytes()
	}
	units, probs := decode(t, "app.log.gz", gz(readFixture(t, "app.log")), input.Limits{})
	if diff := cmp.Diff([]string{"app.log.gz!/app.log log"}, paths(units)); diff != "" || len(probs) != 0 {
		t.Errorf("units (-want +got):\n%s problems %v", diff, probs)
	}
	units, probs = decode(t, "bomb.gz", gz(make([]byte, 8<<20)), input.Limits{})
	if len(units) != 0 || len(probs) != 1 || !strings.HasPrefix(probs[0].Reason, "zip bomb") {
		t.Errorf("gzip bomb: units %v problems %v", paths(units), probs)
	}
}

func TestOpen(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name string, b []byte) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.txt", []byte("13812345678"))
	write("sub/b.csv", readFixture(t, "patients.csv"))
	write("sub/deeper/c.zip", makeZip(t, member{name: "d.json", body: []byte(`{"tel":"13812345678"}`)}))
	write("big.txt", bytes.Repeat([]byte("a"), 2000))
	write("img.bin", []byte{0, 1, 2, 3, 0, 0})
	if err := os.Symlink(filepath.Join(dir, "sub"), filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	var got []string
	probs, err := input.Open(dir, input.Limits{MaxFileSize: 1000}, func(u input.Unit) error {
		got = append(got, strings.TrimPrefix(u.Path, dir+"/")+" "+u.Kind)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a.txt text", "sub/b.csv csv", "sub/deeper/c.zip!/d.json json"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("units (-want +got):\n%s", diff)
	}
	var gotProbs []string
	for _, p := range probs {
		gotProbs = append(gotProbs, strings.TrimPrefix(p.Path, dir+"/")+": "+p.Reason)
	}
	wantProbs := []string{
		"big.txt: too big: 2000 bytes > limit 1000",
		"img.bin: binary: no text to scan",
		"link: unsupported: symbolic link to a directory not followed",
	}
	if diff := cmp.Diff(wantProbs, gotProbs); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	if _, err := input.Open(filepath.Join(dir, "missing"), input.Limits{}, func(input.Unit) error { return nil }); err == nil {
		t.Error("Open of a missing path: no error")
	}
	stop := fmt.Errorf("stop")
	if _, err := input.Open(dir, input.Limits{}, func(input.Unit) error { return stop }); err != stop {
		t.Errorf("yield error not returned: %v", err)
	}
}

func TestRead(t *testing.T) {
	t.Parallel()
	var units []input.Unit
	probs, err := input.Read("-", strings.NewReader("PID|1||x"), input.Limits{}, func(u input.Unit) error {
		units = append(units, u)
		return nil
	})
	if err != nil || len(probs) != 0 || len(units) != 1 || units[0].Kind != input.KindText {
		t.Errorf("Read: %v %v %v", err, probs, units)
	}
	probs, _ = input.Read("-", strings.NewReader(strings.Repeat("x", 11)), input.Limits{MaxFileSize: 10}, func(input.Unit) error { return nil })
	if len(probs) != 1 || probs[0].Reason != "too big: more than 10 bytes" {
		t.Errorf("Read over the limit: %v", probs)
	}
}

// Office documents are generated: tiny but real OOXML part layouts.
func docx(t testing.TB) []byte {
	return makeZip(t,
		member{name: "[Content_Types].xml", body: []byte(`<Types/>`)},
		member{name: "word/document.xml", body: []byte(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>
<w:p><w:r><w:t>患者：</w:t></w:r><w:r><w:t xml:space="preserve">张</w:t></w:r><w:r><w:t>三</w:t></w:r></w:p>
<w:p><w:r><w:t>身份证</w:t><w:tab/><w:t>110101199003074514</w:t></w:r></w:p></w:body></w:document>`)},
		member{name: "word/header1.xml", body: []byte(`<w:hdr xmlns:w="w"><w:p><w:r><w:t>仁和医院</w:t></w:r></w:p></w:hdr>`)},
		member{name: "word/styles.xml", body: []byte(`<w:styles xmlns:w="w"><w:t>not text</w:t></w:styles>`)},
	)
}

func TestOffice(t *testing.T) {
	t.Parallel()
	d := one(t, "a.docx", docx(t))
	if want := "患者：张三\n身份证\t110101199003074514\n仁和医院\n"; string(d.Text) != want || d.Kind != input.KindDOCX {
		t.Errorf("docx text %q (%s), want %q", d.Text, d.Kind, want)
	}
	if fieldOf(t, d, "张三") != "word/document.xml" || fieldOf(t, d, "仁和") != "word/header1.xml" {
		t.Errorf("docx fields %q %q", fieldOf(t, d, "张三"), fieldOf(t, d, "仁和"))
	}
	xlsx := makeZip(t,
		member{name: "xl/workbook.xml", body: []byte(`<workbook/>`)},
		member{name: "xl/worksheets/sheet10.xml", body: []byte(`<worksheet><sheetData><row r="1"><c r="A1"><v>1</v></c></row></sheetData></worksheet>`)},
		member{name: "xl/worksheets/sheet2.xml", body: []byte(`<worksheet><sheetData>
<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>
<row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2"><v>13812345678</v></c><c r="C2" t="inlineStr"><is><t>口服</t></is></c><c r="D2" t="s"><v>99</v></c></row>
</sheetData></worksheet>`)},
		member{name: "xl/sharedStrings.xml", body: []byte(`<sst><si><t>姓名</t></si><si><t>电话</t></si><si><r><t>张</t></r><r><t>三</t></r><rPh><t>ちょう</t></rPh></si></sst>`)},
	)
	x := one(t, "book.bin", xlsx)
	if want := "姓名\t电话\n张三\t13812345678\t口服\n1\n"; string(x.Text) != want || x.Kind != input.KindXLSX {
		t.Errorf("xlsx text %q (%s), want %q", x.Text, x.Kind, want)
	}
	if fieldOf(t, x, "138") != "sheet2!B2" || fieldOf(t, x, "张三") != "sheet2!A2" {
		t.Errorf("xlsx fields %q %q", fieldOf(t, x, "138"), fieldOf(t, x, "张三"))
	}
	pptx := makeZip(t,
		member{name: "ppt/presentation.xml", body: []byte(`<p/>`)},
		member{name: "ppt/slides/slide2.xml", body: []byte(`<p:sld xmlns:a="a" xmlns:p="p"><a:p><a:r><a:t>第二页 13812345678</a:t></a:r></a:p></p:sld>`)},
		member{name: "ppt/slides/slide1.xml", body: []byte(`<p:sld xmlns:a="a" xmlns:p="p"><a:p><a:r><a:t>病例讨论</a:t></a:r></a:p><a:p><a:r><a:t>患者张三</a:t></a:r></a:p></p:sld>`)},
		member{name: "ppt/notesSlides/notesSlide1.xml", body: []byte(`<p:notes xmlns:a="a" xmlns:p="p"><a:p><a:r><a:t>备注</a:t></a:r></a:p></p:notes>`)},
	)
	p := one(t, "deck.pptx", pptx)
	if want := "病例讨论\n患者张三\n第二页 13812345678\n备注\n"; string(p.Text) != want || p.Kind != input.KindPPTX {
		t.Errorf("pptx text %q (%s), want %q", p.Text, p.Kind, want)
	}
	if fieldOf(t, p, "138") != "slide2" || fieldOf(t, p, "备注") != "notesSlide1" {
		t.Errorf("pptx fields %q %q", fieldOf(t, p, "138"), fieldOf(t, p, "备注"))
	}
	// An office document inside an archive.
	units, _ := decode(t, "mail.zip", makeZip(t, member{name: "att/report.docx", body: docx(t)}), input.Limits{})
	if diff := cmp.Diff([]string{"mail.zip!/att/report.docx docx"}, paths(units)); diff != "" {
		t.Errorf("docx in zip (-want +got):\n%s", diff)
	}
	// Password-protected OOXML is an OLE2 compound file with an
	// EncryptionInfo stream.
	cdf := append([]byte("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"), make([]byte, 504)...)
	enc := append(bytes.Clone(cdf), []byte("E\x00n\x00c\x00r\x00y\x00p\x00t\x00i\x00o\x00n\x00I\x00n\x00f\x00o\x00")...)
	for name, want := range map[string]string{
		"locked.docx": "encrypted: password-protected Office document",
		"old.doc":     "unsupported: OLE2 compound file (legacy Office format)",
	} {
		data := cdf
		if name == "locked.docx" {
			data = enc
		}
		units, probs := decode(t, name, data, input.Limits{})
		if len(units) != 0 || !cmp.Equal(probs, []input.Problem{{Path: name, Reason: want}}) {
			t.Errorf("%s: units %v, problems %v", name, paths(units), probs)
		}
	}
}

func pdfDoc(streams ...string) []byte {
	var b strings.Builder
	b.WriteString("%PDF-1.4\n")
	for i, s := range streams {
		fmt.Fprintf(&b, "%d 0 obj\n<< /Length %d >>\nstream\n%s\nendstream\nendobj\n", i+1, len(s), s)
	}
	b.WriteString("trailer\n<< /Root 1 0 R >>\n%%EOF\n")
	return []byte(b.String())
}

func TestPDF(t *testing.T) {
	t.Parallel()
	plain := pdfDoc(`BT /F1 12 Tf 72 712 Td (Patient: Zhang San) Tj 0 -14 Td [(Tel ) -250 (138) 10 (12345678)] TJ T* (ID \(card\) 110101199003074514) Tj ET`)
	u := one(t, "a.pdf", plain)
	if want := "Patient: Zhang San\nTel  13812345678\nID (card) 110101199003074514\n"; string(u.Text) != want {
		t.Errorf("pdf text %q, want %q", u.Text, want)
	}
	// A Flate-compressed content stream shown through a ToUnicode CMap.
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write([]byte(`BT /F1 12 Tf <00010002> Tj ET`))
	zw.Close()
	cmap := `/CIDInit /ProcSet findresource begin 12 dict begin begincmap 2 beginbfchar <0001> <60a3> <0002> <8005> endbfchar endcmap end end`
	doc := []byte("%PDF-1.5\n1 0 obj\n<< /Length " + fmt.Sprint(z.Len()) + " /Filter /FlateDecode >>\nstream\n" + z.String() + "\nendstream\nendobj\n")
	doc = append(doc, pdfDoc(cmap)[len("%PDF-1.4\n"):]...)
	u = one(t, "b.pdf", doc)
	if string(u.Text) != "患者\n" {
		t.Errorf("pdf with CMap: text %q, want 患者", u.Text)
	}
	for name, tt := range map[string]struct {
		data []byte
		want string
	}{
		"enc.pdf":  {[]byte("%PDF-1.7\ntrailer << /Encrypt 5 0 R >>"), "encrypted: encrypted PDF"},
		"scan.pdf": {pdfDoc("q 100 0 0 100 0 0 cm /Im1 Do Q"), "unsupported: pdf text extraction found no text (scanned image, or fonts or filters not supported)"},
	} {
		units, probs := decode(t, name, tt.data, input.Limits{})
		if len(units) != 0 || !cmp.Equal(probs, []input.Problem{{Path: name, Reason: tt.want}}) {
			t.Errorf("%s: units %v, problems %v", name, paths(units), probs)
		}
	}
}

func TestUnitTextIsValidUTF8(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"a.json", "a.xml", "a.html", "a.csv", "a.hl7", "a.txt"} {
		units, _ := decode(t, name, []byte("\xff\xfe\x00\xd8<a>\"x\xe9\"</a>"), input.Limits{})
		for _, u := range units {
			if !utf8.Valid(u.Text) {
				t.Errorf("%s: invalid UTF-8 %q", name, u.Text)
			}
		}
	}
}
