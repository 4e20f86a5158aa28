package dlp

import (
	"bytes"
	"unicode/utf8"
)

// Mask returns a masked form of value suitable for display: the first and
// last few characters are kept (110***********1234), e-mail addresses keep
// their first character and domain, names their surname. The result is
// valid UTF-8 even when value is not (invalid sequences count as U+FFFD).
func Mask(typ string, value []byte) string {
	return string(appendMask(nil, typ, value))
}

// appendMask appends Mask(typ, value) to dst.
func appendMask(dst []byte, typ string, value []byte) []byte {
	v := value
	isASCII := ascii(v)
	if !isASCII && !utf8.Valid(v) {
		v = bytes.ToValidUTF8(v, []byte("\uFFFD"))
	}
	n := len(v)
	if !isASCII {
		n = utf8.RuneCount(v)
	}
	// off is the byte offset of the k-th rune; runes are bytes in ASCII,
	// as most structured values are.
	off := func(k int) int {
		if isASCII {
			return k
		}
		return runeOffset(v, k)
	}
	switch typ {
	case TypeEmail:
		if at := bytes.LastIndexByte(v, '@'); at > 0 {
			return appendMasked(dst, v[:off(1)], 3, v[at:])
		}
	case TypePersonName:
		if n >= 2 {
			return appendMasked(dst, v[:off(1)], n-1, nil)
		}
	case TypeAddress, TypeDiagnosis, TypeDrug, TypeLabResult, TypePrescription:
		keep := min(n/2, 6)
		return appendMasked(dst, v[:off(keep)], n-keep, nil)
	}
	var head, tail int
	switch {
	case n >= 11:
		head, tail = 3, 4
	case n >= 7:
		head, tail = 2, 2
	case n >= 3:
		head, tail = 1, 0
	}
	return appendMasked(dst, v[:off(head)], n-head-tail, v[off(n-tail):])
}

// runeOffset returns the byte offset of the k-th rune of the valid UTF-8 v.
func runeOffset(v []byte, k int) int {
	off := 0
	for ; k > 0 && off < len(v); k-- {
		_, size := utf8.DecodeRune(v[off:])
		off += size
	}
	return off
}

// appendMasked appends head, stars asterisks and tail to dst.
func appendMasked(dst, head []byte, stars int, tail []byte) []byte {
	dst = append(dst, head...)
	for range stars {
		dst = append(dst, '*')
	}
	return append(dst, tail...)
}

// ascii reports whether v is all ASCII, as most structured values are.
func ascii(v []byte) bool {
	for _, c := range v {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
