package dlp

import (
	"strings"
	"unicode/utf8"
)

// Mask returns a masked form of value suitable for display: the first and
// last few characters are kept (110***********1234), e-mail addresses keep
// their first character and domain, names their surname. The result is
// valid UTF-8 even when value is not.
func Mask(typ string, value []byte) string {
	s := strings.ToValidUTF8(string(value), "\uFFFD")
	runes := []rune(s)
	n := len(runes)
	switch typ {
	case TypeEmail:
		if at := strings.LastIndexByte(s, '@'); at > 0 {
			r, _ := utf8.DecodeRuneInString(s)
			return string(r) + "***" + s[at:]
		}
	case TypePersonName:
		if n >= 2 {
			return string(runes[:1]) + strings.Repeat("*", n-1)
		}
	case TypeAddress, TypeDiagnosis, TypeDrug, TypeLabResult, TypePrescription:
		keep := min(n/2, 6)
		return string(runes[:keep]) + strings.Repeat("*", n-keep)
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
	return string(runes[:head]) + strings.Repeat("*", n-head-tail) + string(runes[n-tail:])
}
