package sbom

import (
	"bytes"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/medguard/medguard/internal/textenc"
)

// decodeText returns data as UTF-8 without a byte-order mark. UTF-16 input (with a BOM, as
// Windows tools write it, or recognised by its NUL bytes) is converted; line numbers are
// unchanged by the conversion. Other text is left as it is: JSON is UTF-8 by definition and
// XML declares its own character set.
func decodeText(data []byte) ([]byte, error) {
	t, err := textenc.DecodeUnicode(data)
	if err != nil {
		return nil, errors.New("UTF-16 input has an odd number of bytes")
	}
	return t.Bytes, nil
}

// trimLeft skips white space at the start of text.
func trimLeft(text []byte) []byte {
	return bytes.TrimLeft(text, " \t\r\n\f\v")
}

// lineCol converts a byte offset in text to a 1-based line and (rune) column.
func lineCol(text []byte, off int64) (line, col int) {
	if off < 0 {
		off = 0
	}
	if off > int64(len(text)) {
		off = int64(len(text))
	}
	before := text[:off]
	line = bytes.Count(before, []byte{'\n'}) + 1
	start := bytes.LastIndexByte(before, '\n') + 1
	col = utf8.RuneCount(before[start:]) + 1
	return line, col
}

// placeAt formats the position of byte offset off in text.
func placeAt(text []byte, off int64) string {
	l, c := lineCol(text, off)
	return fmt.Sprintf("line %d, column %d", l, c)
}

// clip shortens s for inclusion in a message.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
