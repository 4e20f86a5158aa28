// Package textenc tells how a text file is encoded — UTF-8 with or without a byte-order
// mark, UTF-16 with or without one, GBK/GB18030 as Chinese Windows tools write it — and
// returns the text as UTF-8. It is a leaf: it imports no medguard code.
//
// Three entry points share one detector:
//   - Decode, for importers that must refuse what they cannot read (asset CSV files);
//   - DecodeLenient, for scanners that read as much as they can (patient-data detection);
//   - DecodeUnicode, for formats that are Unicode by definition or declare their own
//     charset (SBOM JSON and XML): only byte-order marks and UTF-16 are handled.
package textenc

import (
	"bytes"
	"errors"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
)

// Encoding names a detected encoding.
type Encoding string

// The encodings Decode recognises.
const (
	UTF8    Encoding = "utf-8"
	UTF16LE Encoding = "utf-16le"
	UTF16BE Encoding = "utf-16be"
	GBK     Encoding = "gbk"     // GB18030 text that uses only its two-byte (GBK) subset
	GB18030 Encoding = "gb18030" // GB18030 text with four-byte sequences
	// Unknown is text that was neither valid UTF-8 nor clean GB18030; DecodeLenient
	// replaces each invalid byte with '?', so offsets in the text are offsets in the input.
	Unknown Encoding = "unknown"
)

// SniffLen is how much of the start of the input binary and UTF-16 detection look at.
const SniffLen = 8 << 10

// Errors of Decode (DecodeLenient returns only ErrBinary, DecodeUnicode only ErrOddUTF16).
var (
	ErrBinary          = errors.New("textenc: the data is binary, not text")
	ErrOddUTF16        = errors.New("textenc: UTF-16 text with an odd number of bytes")
	ErrInvalidUTF8     = errors.New("textenc: text marked as UTF-8 by its byte-order mark is not valid UTF-8")
	ErrUnknownEncoding = errors.New("textenc: the text is neither UTF-8 nor GBK/GB18030")
)

// Text is decoded input.
type Text struct {
	// Bytes is the text in UTF-8, without a byte-order mark. For UTF-8 input it is a
	// sub-slice of the input, and for Unknown input it has the input's length less BOM.
	Bytes    []byte
	Encoding Encoding
	// BOM is the length of the byte-order mark the input started with (0 for none).
	BOM int
}

type mode int

const (
	strict mode = iota
	lenient
	unicodeOnly
)

// Decode detects the encoding of data and returns it as UTF-8. It fails with ErrBinary
// for data that looks binary (a NUL byte or many control characters near the start),
// ErrOddUTF16 for truncated UTF-16, ErrInvalidUTF8 for damaged UTF-8 (after a UTF-8
// byte-order mark, or cut off in its last character), and ErrUnknownEncoding for anything neither UTF-8 nor GBK/GB18030.
func Decode(data []byte) (Text, error) { return decode(data, strict) }

// DecodeLenient is Decode for readers that take what they can: a truncated UTF-16 text
// ends in U+FFFD, and text in an unknown encoding (or damaged UTF-8) comes back with each
// invalid byte replaced by '?' and Encoding Unknown. Only binary data is refused.
func DecodeLenient(data []byte) (Text, error) { return decode(data, lenient) }

// DecodeUnicode removes a UTF-8 byte-order mark and converts UTF-16 (with a byte-order
// mark, or recognised by its NUL bytes) to UTF-8; anything else is returned as it is, with
// Encoding UTF8, for a parser that reads a declared charset or reports invalid UTF-8
// itself. It fails only with ErrOddUTF16.
func DecodeUnicode(data []byte) (Text, error) { return decode(data, unicodeOnly) }

func decode(data []byte, m mode) (Text, error) {
	switch {
	case bytes.HasPrefix(data, []byte("\xEF\xBB\xBF")):
		return fromUTF8(data[3:], 3, m)
	case bytes.HasPrefix(data, []byte("\xFF\xFE")):
		return fromUTF16(data[2:], 2, unicode.LittleEndian, UTF16LE, m)
	case bytes.HasPrefix(data, []byte("\xFE\xFF")):
		return fromUTF16(data[2:], 2, unicode.BigEndian, UTF16BE, m)
	}
	switch utf16Guess(data) {
	case UTF16LE:
		return fromUTF16(data, 0, unicode.LittleEndian, UTF16LE, m)
	case UTF16BE:
		return fromUTF16(data, 0, unicode.BigEndian, UTF16BE, m)
	}
	if m == unicodeOnly {
		return Text{Bytes: data, Encoding: UTF8}, nil
	}
	if looksBinary(data) {
		return Text{}, ErrBinary
	}
	if utf8.Valid(data) {
		return Text{Bytes: data, Encoding: UTF8}, nil
	}
	if cutUTF8(data) {
		// UTF-8 cut off in the middle of its last character, which GB18030 would often
		// accept as well, as nonsense.
		return damagedUTF8(data, 0, m)
	}
	if text, enc, ok := DecodeGB18030(data); ok {
		return Text{Bytes: text, Encoding: enc}, nil
	}
	if m == strict {
		return Text{}, ErrUnknownEncoding
	}
	return Text{Bytes: Sanitize(make([]byte, 0, len(data)), data), Encoding: Unknown}, nil
}

// fromUTF8 handles the text after a UTF-8 byte-order mark.
func fromUTF8(data []byte, bom int, m mode) (Text, error) {
	if m == unicodeOnly {
		return Text{Bytes: data, Encoding: UTF8, BOM: bom}, nil
	}
	if looksBinary(data) {
		return Text{}, ErrBinary
	}
	if utf8.Valid(data) {
		return Text{Bytes: data, Encoding: UTF8, BOM: bom}, nil
	}
	return damagedUTF8(data, bom, m)
}

func damagedUTF8(data []byte, bom int, m mode) (Text, error) {
	if m == strict {
		return Text{}, ErrInvalidUTF8
	}
	return Text{Bytes: Sanitize(make([]byte, 0, len(data)), data), Encoding: Unknown, BOM: bom}, nil
}

// cutUTF8 reports whether data is valid UTF-8 but for an incomplete last character, with
// other non-ASCII characters before it as evidence that it is UTF-8 at all (a short GBK
// text can look like one cut UTF-8 character).
func cutUTF8(data []byte) bool {
	for k := 1; k <= 3 && k <= len(data); k++ {
		start := len(data) - k
		if utf8.RuneStart(data[start]) {
			return data[start] >= 0xC0 && !utf8.FullRune(data[start:]) && utf8.Valid(data[:start]) && !ascii(data[:start])
		}
	}
	return false
}

func ascii(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func fromUTF16(data []byte, bom int, order unicode.Endianness, enc Encoding, m mode) (Text, error) {
	odd := len(data)%2 != 0
	if odd {
		if m != lenient {
			return Text{}, ErrOddUTF16
		}
		data = data[:len(data)-1]
	}
	// Unpaired surrogates become U+FFFD; the decoder does not fail on them.
	text, err := unicode.UTF16(order, unicode.IgnoreBOM).NewDecoder().Bytes(data)
	if err != nil {
		return Text{}, ErrOddUTF16
	}
	if odd {
		text = append(text, "\uFFFD"...)
	}
	if m != unicodeOnly && looksBinary(text) {
		return Text{}, ErrBinary
	}
	return Text{Bytes: bytes.ToValidUTF8(text, []byte("\uFFFD")), Encoding: enc, BOM: bom}, nil
}

// utf16Guess recognises UTF-16 without a byte-order mark by its NUL bytes: mostly-ASCII
// UTF-16LE text has a NUL at odd offsets, UTF-16BE at even ones.
func utf16Guess(data []byte) Encoding {
	n := min(len(data), SniffLen) &^ 1
	if n < 4 {
		return ""
	}
	var even, odd int
	for i := 0; i < n; i += 2 {
		if data[i] == 0 {
			even++
		}
		if data[i+1] == 0 {
			odd++
		}
	}
	pairs := n / 2
	switch {
	case odd*10 >= pairs*3 && even*20 < pairs:
		return UTF16LE
	case even*10 >= pairs*3 && odd*20 < pairs:
		return UTF16BE
	}
	return ""
}

// looksBinary reports whether the start of data has a NUL byte or more than one control
// character in ten.
func looksBinary(data []byte) bool {
	head := data[:min(len(data), SniffLen)]
	if bytes.IndexByte(head, 0) >= 0 {
		return true
	}
	ctl := 0
	for _, c := range head {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v' && c != 0x1B && c != 0x1C || c == 0x7F {
			ctl++
		}
	}
	return ctl*10 > len(head)
}

// DecodeGB18030 decodes data as GB18030 when every byte sequence in it is valid; enc is
// GBK when it uses only the two-byte GBK subset.
func DecodeGB18030(data []byte) (text []byte, enc Encoding, ok bool) {
	text, err := simplifiedchinese.GB18030.NewDecoder().Bytes(data)
	if err != nil || bytes.ContainsRune(text, utf8.RuneError) {
		return nil, "", false
	}
	enc = GBK
	for i := 0; i < len(data); i++ {
		c := data[i]
		if c <= 0x80 {
			continue
		}
		if i+1 < len(data) && data[i+1] >= 0x30 && data[i+1] <= 0x39 {
			enc = GB18030
			break
		}
		i++
	}
	return text, enc, true
}

// Sanitize appends b to dst with every byte that is not part of valid UTF-8 replaced by
// '?', so that offsets in the result are offsets in b.
func Sanitize(dst, b []byte) []byte {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			dst = append(dst, '?')
			i++
			continue
		}
		dst = append(dst, b[i:i+n]...)
		i += n
	}
	return dst
}
