package textenc_test

import (
	"bytes"
	"errors"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"

	"github.com/medguard/medguard/internal/textenc"
)

// encode returns s in enc.
func encode(t testing.TB, s string, enc encoding.Encoding) []byte {
	t.Helper()
	if b, err := enc.NewEncoder().Bytes([]byte(s)); err == nil {
		return b
	}
	t.Fatalf("%q cannot be encoded", s)
	return nil
}

// TestDecode is the cases of the three decoders this package replaced (asset CSV
// import, SBOM input, DLP input), each run through the three entry points.
func TestDecode(t *testing.T) {
	t.Parallel()
	const text = "患者张三 电话13812345678 Patient record line\n"
	le := encode(t, text, unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM))
	be := encode(t, text, unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM))
	gbk := encode(t, text, simplifiedchinese.GBK)
	gb18030 := encode(t, text+"😀", simplifiedchinese.GB18030)
	elf := []byte{0x7F, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	controls := bytes.Repeat([]byte{1, 2, 3, 'a'}, 100)
	type want struct {
		text string
		enc  textenc.Encoding
		bom  int
		err  error
	}
	tests := []struct {
		name                     string
		data                     []byte
		strict, lenient, uniOnly want
	}{
		{name: "empty", data: nil,
			strict: want{"", textenc.UTF8, 0, nil}, lenient: want{"", textenc.UTF8, 0, nil}, uniOnly: want{"", textenc.UTF8, 0, nil}},
		{name: "utf-8", data: []byte(text),
			strict: want{text, textenc.UTF8, 0, nil}, lenient: want{text, textenc.UTF8, 0, nil}, uniOnly: want{text, textenc.UTF8, 0, nil}},
		{name: "utf-8 bom", data: []byte("\uFEFF" + text),
			strict: want{text, textenc.UTF8, 3, nil}, lenient: want{text, textenc.UTF8, 3, nil}, uniOnly: want{text, textenc.UTF8, 3, nil}},
		{name: "utf-8 bom only", data: []byte("\uFEFF"),
			strict: want{"", textenc.UTF8, 3, nil}, lenient: want{"", textenc.UTF8, 3, nil}, uniOnly: want{"", textenc.UTF8, 3, nil}},
		{name: "utf-8 bom, damaged", data: []byte("\uFEFFab\xffc"),
			strict: want{err: textenc.ErrInvalidUTF8}, lenient: want{"ab?c", textenc.Unknown, 3, nil}, uniOnly: want{"ab\xffc", textenc.UTF8, 3, nil}},
		{name: "utf-16le bom", data: append([]byte{0xFF, 0xFE}, le...),
			strict: want{text, textenc.UTF16LE, 2, nil}, lenient: want{text, textenc.UTF16LE, 2, nil}, uniOnly: want{text, textenc.UTF16LE, 2, nil}},
		{name: "utf-16be bom", data: append([]byte{0xFE, 0xFF}, be...),
			strict: want{text, textenc.UTF16BE, 2, nil}, lenient: want{text, textenc.UTF16BE, 2, nil}, uniOnly: want{text, textenc.UTF16BE, 2, nil}},
		{name: "utf-16le surrogate pair", data: []byte{0xFF, 0xFE, 'a', 0, 0x2D, 0x4E, 0x3D, 0xD8, 0x00, 0xDE},
			strict: want{"a中😀", textenc.UTF16LE, 2, nil}, lenient: want{"a中😀", textenc.UTF16LE, 2, nil}, uniOnly: want{"a中😀", textenc.UTF16LE, 2, nil}},
		{name: "utf-16be unpaired surrogate", data: []byte{0xFE, 0xFF, 0, 'a', 0xD8, 0x3D, 0, 'b'},
			strict: want{"a\uFFFDb", textenc.UTF16BE, 2, nil}, lenient: want{"a\uFFFDb", textenc.UTF16BE, 2, nil}, uniOnly: want{"a\uFFFDb", textenc.UTF16BE, 2, nil}},
		{name: "utf-16le bom, odd length", data: []byte{0xFF, 0xFE, 'a', 0, 'b'},
			strict: want{err: textenc.ErrOddUTF16}, lenient: want{"a\uFFFD", textenc.UTF16LE, 2, nil}, uniOnly: want{err: textenc.ErrOddUTF16}},
		{name: "utf-16le bom only", data: []byte{0xFF, 0xFE},
			strict: want{"", textenc.UTF16LE, 2, nil}, lenient: want{"", textenc.UTF16LE, 2, nil}, uniOnly: want{"", textenc.UTF16LE, 2, nil}},
		{name: "utf-16le without bom", data: le,
			strict: want{text, textenc.UTF16LE, 0, nil}, lenient: want{text, textenc.UTF16LE, 0, nil}, uniOnly: want{text, textenc.UTF16LE, 0, nil}},
		{name: "utf-16be without bom", data: be,
			strict: want{text, textenc.UTF16BE, 0, nil}, lenient: want{text, textenc.UTF16BE, 0, nil}, uniOnly: want{text, textenc.UTF16BE, 0, nil}},
		{name: "utf-16 binary", data: []byte{0xFF, 0xFE, 1, 0, 2, 0, 3, 0, 4, 0},
			strict: want{err: textenc.ErrBinary}, lenient: want{err: textenc.ErrBinary}, uniOnly: want{"\x01\x02\x03\x04", textenc.UTF16LE, 2, nil}},
		{name: "gbk", data: gbk,
			strict: want{text, textenc.GBK, 0, nil}, lenient: want{text, textenc.GBK, 0, nil}, uniOnly: want{string(gbk), textenc.UTF8, 0, nil}},
		{name: "gb18030 four-byte", data: gb18030,
			strict: want{text + "😀", textenc.GB18030, 0, nil}, lenient: want{text + "😀", textenc.GB18030, 0, nil}, uniOnly: want{string(gb18030), textenc.UTF8, 0, nil}},
		{name: "latin-1", data: []byte("caf\xe9 13812345678"),
			strict: want{err: textenc.ErrUnknownEncoding}, lenient: want{"caf? 13812345678", textenc.Unknown, 0, nil}, uniOnly: want{"caf\xe9 13812345678", textenc.UTF8, 0, nil}},
		{name: "truncated utf-8", data: []byte("张三\xe5\xbc"),
			strict: want{err: textenc.ErrInvalidUTF8}, lenient: want{"张三??", textenc.Unknown, 0, nil}, uniOnly: want{"张三\xe5\xbc", textenc.UTF8, 0, nil}},
		{name: "gbk that looks like cut utf-8", data: []byte("ab\xe5\xbc"),
			strict: want{"ab寮", textenc.GBK, 0, nil}, lenient: want{"ab寮", textenc.GBK, 0, nil}, uniOnly: want{"ab\xe5\xbc", textenc.UTF8, 0, nil}},
		{name: "elf", data: elf,
			strict: want{err: textenc.ErrBinary}, lenient: want{err: textenc.ErrBinary}, uniOnly: want{string(elf), textenc.UTF8, 0, nil}},
		{name: "control characters", data: controls,
			strict: want{err: textenc.ErrBinary}, lenient: want{err: textenc.ErrBinary}, uniOnly: want{string(controls), textenc.UTF8, 0, nil}},
		{name: "nul after utf-8 bom", data: []byte("\uFEFFa\x00b"),
			strict: want{err: textenc.ErrBinary}, lenient: want{err: textenc.ErrBinary}, uniOnly: want{"a\x00b", textenc.UTF8, 3, nil}},
		{name: "nul beyond the sniffed head", data: append(bytes.Repeat([]byte("a"), textenc.SniffLen), 0),
			strict: want{strings(textenc.SniffLen) + "\x00", textenc.UTF8, 0, nil}, lenient: want{strings(textenc.SniffLen) + "\x00", textenc.UTF8, 0, nil}, uniOnly: want{strings(textenc.SniffLen) + "\x00", textenc.UTF8, 0, nil}},
	}
	for _, tt := range tests {
		for _, run := range []struct {
			mode string
			fn   func([]byte) (textenc.Text, error)
			want want
		}{{"Decode", textenc.Decode, tt.strict}, {"DecodeLenient", textenc.DecodeLenient, tt.lenient}, {"DecodeUnicode", textenc.DecodeUnicode, tt.uniOnly}} {
			t.Run(tt.name+"/"+run.mode, func(t *testing.T) {
				got, err := run.fn(tt.data)
				if run.want.err != nil {
					if !errors.Is(err, run.want.err) {
						t.Fatalf("error %v, want %v", err, run.want.err)
					}
					return
				}
				if err != nil || string(got.Bytes) != run.want.text || got.Encoding != run.want.enc || got.BOM != run.want.bom {
					t.Errorf("got %q (%s, bom %d), %v; want %q (%s, bom %d)", got.Bytes, got.Encoding, got.BOM, err, run.want.text, run.want.enc, run.want.bom)
				}
			})
		}
	}
}

func strings(n int) string { return string(bytes.Repeat([]byte("a"), n)) }

func TestDecodeGB18030(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   string
		want string
		enc  textenc.Encoding
		ok   bool
	}{
		{"\xd5\xc5\xc8\xfd.txt", "张三.txt", textenc.GBK, true},
		{string(encode(t, "😀", simplifiedchinese.GB18030)), "😀", textenc.GB18030, true},
		{"abc", "abc", textenc.GBK, true},
		{"\xd5", "", "", false},
		{"\xff\xff", "", "", false},
	} {
		text, enc, ok := textenc.DecodeGB18030([]byte(tt.in))
		if ok != tt.ok || string(text) != tt.want || enc != tt.enc {
			t.Errorf("DecodeGB18030(%q) = %q, %s, %v; want %q, %s, %v", tt.in, text, enc, ok, tt.want, tt.enc, tt.ok)
		}
	}
}

// FuzzDecode checks that no input panics any entry point, that what is returned is
// valid UTF-8 (except DecodeUnicode, which leaves 8-bit text to its caller), that UTF-8
// input comes back as a sub-slice of the input, and that Unknown text keeps offsets.
func FuzzDecode(f *testing.F) {
	f.Add([]byte("code,name\nA-1,张三\n"))
	f.Add([]byte("\xEF\xBB\xBFcode,name\n"))
	f.Add([]byte{0xFF, 0xFE, 'a', 0, 0x2D, 0x4E})
	f.Add([]byte{0xFE, 0xFF, 0, 'a', 0xD8, 0x3D})
	f.Add([]byte{'a', 0, 'b', 0, 'c', 0})
	f.Add([]byte("\xd5\xc5\xc8\xfd"))
	f.Add([]byte("caf\xe9"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, fn := range []func([]byte) (textenc.Text, error){textenc.Decode, textenc.DecodeLenient} {
			got, err := fn(data)
			if err != nil {
				continue
			}
			if !utf8.Valid(got.Bytes) {
				t.Fatalf("invalid UTF-8 out of %q: %q", data, got.Bytes)
			}
			switch got.Encoding {
			case textenc.UTF8:
				if !bytes.Equal(got.Bytes, data[got.BOM:]) {
					t.Fatalf("UTF-8 text %q is not the input %q", got.Bytes, data)
				}
			case textenc.Unknown:
				if len(got.Bytes) != len(data)-got.BOM {
					t.Fatalf("Unknown text %q does not keep the offsets of %q", got.Bytes, data)
				}
			}
		}
		if _, err := textenc.DecodeLenient(data); err != nil && !errors.Is(err, textenc.ErrBinary) {
			t.Fatalf("DecodeLenient failed with %v", err)
		}
		if _, err := textenc.DecodeUnicode(data); err != nil && !errors.Is(err, textenc.ErrOddUTF16) {
			t.Fatalf("DecodeUnicode failed with %v", err)
		}
	})
}

func TestSanitize(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, want string }{
		{"", ""},
		{"张三 ok", "张三 ok"},
		{"caf\xe9", "caf?"},
		{"\xe5\xbc", "??"},
		{"a\xed\xa0\x80b", "a???b"}, // an encoded surrogate is not UTF-8
	} {
		if got := textenc.Sanitize([]byte(">"), []byte(tt.in)); string(got) != ">"+tt.want || len(got) != 1+len(tt.in) {
			t.Errorf("Sanitize(%q) = %q, want %q", tt.in, got[1:], tt.want)
		}
	}
}
