package input

import (
	"bytes"
	"strconv"
)

// hl7 prepares an HL7 v2 message (or a batch of them) for scanning. The
// text keeps the message's bytes, with segment separators \r turned into
// \n and MLLP framing bytes into spaces, so that offsets are unchanged and
// every segment is a line. Field names follow HL7: "PID-5" is the fifth
// field of PID; in MSH, the field separator itself is MSH-1.
func hl7(path string, text []byte, enc string) Unit {
	t := bytes.Clone(text)
	for i, c := range t {
		switch c {
		case '\r':
			t[i] = '\n'
		case 0x0B, 0x1C:
			t[i] = ' '
		}
	}
	sep := byte('|')
	if i := bytes.Index(t, []byte("MSH")); i >= 0 && i+3 < len(t) {
		sep = t[i+3]
	}
	u := Unit{Path: path, Kind: KindHL7, Text: t, Encoding: enc}
	u.field = func(off int) string {
		ls := bytes.LastIndexByte(t[:off], '\n') + 1
		for ls < off && t[ls] == ' ' {
			ls++
		}
		seg := t[ls:off]
		if len(t)-ls < 3 {
			return ""
		}
		name := t[ls : ls+3]
		for _, c := range name {
			if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
				return ""
			}
		}
		n := bytes.Count(seg, []byte{sep})
		if string(name) == "MSH" && n > 0 {
			n++
		}
		if n == 0 {
			return string(name)
		}
		return string(name) + "-" + strconv.Itoa(n)
	}
	return u
}
