package input

import (
	"bytes"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
)

// sniffLen is how much of the start of an input binary and UTF-16
// detection look at.
const sniffLen = 8 << 10

// toUTF8 returns data as UTF-8 text and the encoding it was in. ok is false
// when data looks binary. UTF-8 input (with or without a BOM) is returned
// as is, so that offsets in the text are offsets in data.
func toUTF8(data []byte) (text []byte, enc string, ok bool) {
	switch {
	case bytes.HasPrefix(data, []byte("\xFF\xFE")):
		return fromUTF16(data[2:], unicode.LittleEndian, EncodingUTF16LE)
	case bytes.HasPrefix(data, []byte("\xFE\xFF")):
		return fromUTF16(data[2:], unicode.BigEndian, EncodingUTF16BE)
	}
	switch utf16Guess(data) {
	case EncodingUTF16LE:
		return fromUTF16(data, unicode.LittleEndian, EncodingUTF16LE)
	case EncodingUTF16BE:
		return fromUTF16(data, unicode.BigEndian, EncodingUTF16BE)
	}
	if looksBinary(data) {
		return nil, "", false
	}
	if utf8.Valid(data) {
		return data, EncodingUTF8, true
	}
	if text, enc, ok := fromGB18030(data); ok {
		return text, enc, true
	}
	// Unknown single-byte encoding or damaged UTF-8: keep offsets by
	// replacing every invalid byte with '?'.
	out := make([]byte, 0, len(data))
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n <= 1 {
			out = append(out, '?')
			i++
			continue
		}
		out = append(out, data[i:i+n]...)
		i += n
	}
	return out, EncodingUnknown, true
}

func fromUTF16(data []byte, order unicode.Endianness, enc string) ([]byte, string, bool) {
	text, err := unicode.UTF16(order, unicode.IgnoreBOM).NewDecoder().Bytes(data)
	if err != nil || looksBinary(text) {
		return nil, "", false
	}
	return bytes.ToValidUTF8(text, []byte("\uFFFD")), enc, true
}

// utf16Guess recognises UTF-16 without a BOM by its NUL bytes: mostly-ASCII
// UTF-16LE text has a NUL at odd offsets, UTF-16BE at even ones.
func utf16Guess(data []byte) string {
	n := min(len(data), sniffLen) &^ 1
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
		return EncodingUTF16LE
	case even*10 >= pairs*3 && odd*20 < pairs:
		return EncodingUTF16BE
	}
	return ""
}

// looksBinary reports whether the start of data has a NUL byte or more than
// one control character in ten.
func looksBinary(data []byte) bool {
	head := data[:min(len(data), sniffLen)]
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

// fromGB18030 decodes data as GB18030 when every byte sequence in it is
// valid; enc is "gbk" when it uses only the two-byte GBK subset.
func fromGB18030(data []byte) ([]byte, string, bool) {
	text, err := simplifiedchinese.GB18030.NewDecoder().Bytes(data)
	if err != nil || bytes.ContainsRune(text, utf8.RuneError) {
		return nil, "", false
	}
	enc := EncodingGBK
	for i := 0; i < len(data); i++ {
		c := data[i]
		if c < 0x80 || c == 0x80 {
			continue
		}
		if i+1 < len(data) && data[i+1] >= 0x30 && data[i+1] <= 0x39 {
			enc = EncodingGB18030
			break
		}
		i++
	}
	return text, enc, true
}

// appendValid appends s to b, replacing invalid UTF-8 with U+FFFD.
func appendValid(b, s []byte) []byte {
	if utf8.Valid(s) {
		return append(b, s...)
	}
	return append(b, bytes.ToValidUTF8(s, []byte("\uFFFD"))...)
}
