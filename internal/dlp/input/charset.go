package input

import (
	"bytes"
	"unicode/utf8"

	"github.com/medguard/medguard/internal/textenc"
)

// toUTF8 returns data as UTF-8 text and the encoding it was in (see package textenc).
// ok is false when data looks binary. UTF-8 input (with or without a BOM) is returned as
// is, and text in an unknown encoding has its invalid bytes replaced by '?', so that
// offsets in the text are offsets in data.
func toUTF8(data []byte) (text []byte, enc string, ok bool) {
	t, err := textenc.DecodeLenient(data)
	if err != nil {
		return nil, "", false
	}
	switch t.Encoding {
	case textenc.UTF8:
		return data, EncodingUTF8, true
	case textenc.Unknown:
		return append(bytes.Clone(data[:t.BOM]), t.Bytes...), EncodingUnknown, true
	}
	return t.Bytes, string(t.Encoding), true
}

// appendValid appends s to b, replacing invalid UTF-8 with U+FFFD.
func appendValid(b, s []byte) []byte {
	if utf8.Valid(s) {
		return append(b, s...)
	}
	return append(b, bytes.ToValidUTF8(s, []byte("\uFFFD"))...)
}
