package dlp

import "unicode/utf8"

// HL7 v2 messages reach the scanner as text, one segment a line (see
// dlp/input): a name there has no cue but its place. The default
// delimiters are assumed: '^' between components, '~' between repetitions.

// hl7Event reports whether the three-character word at text[i] is the
// trigger event of an HL7 message type (MSH-9: ADT^A01, ORU^R01^ORU_R01):
// three capital letters and '^' right before it, at the start of a field;
// or the message structure's event (ORU_R01).
func hl7Event(text []byte, i int) bool {
	if i > 0 && text[i-1] == '_' {
		return true
	}
	if i < 4 || text[i-1] != '^' {
		return false
	}
	for _, c := range text[i-4 : i-1] {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return i == 4 || !isAlnum(text[i-5])
}

// hl7NameFields lists, per segment, the fields holding a person's name
// (data type XPN): PID-5 patient name, PID-6 mother's maiden name, NK1-2
// next of kin.
var hl7NameFields = map[string][]int{"PID": {5, 6}, "NK1": {2}}

// hl7Names reports the names in the name fields of HL7 v2 segments: the
// family, given and middle name components of a field's first repetition
// (赵^六, Smith^John^Q), when each is made of letters or CJK characters.
func hl7Names(text []byte, emit func(Finding)) {
	n := len(text)
	for ls := 0; ls < n; {
		le := ls
		for le < n && text[le] != '\n' && text[le] != '\r' {
			le++
		}
		s := ls
		for s < le && text[s] == ' ' {
			s++
		}
		if le-s > 4 && (s == 0 || text[s-1] == '\n' || text[s-1] == '\r' || text[s-1] == ' ') {
			if fields, ok := hl7NameFields[string(text[s:s+3])]; ok && hl7Sep(text[s+3]) {
				hl7Segment(text[:le], s, text[s+3], fields, emit)
			}
		}
		ls = le + 1
	}
}

// hl7Sep reports whether c can be an HL7 field separator.
func hl7Sep(c byte) bool {
	return c < utf8.RuneSelf && c > ' ' && !isAlnum(c) && c != '^' && c != '~'
}

// hl7Segment reports the names in the given fields of the segment starting
// at text[s]; text ends with the segment.
func hl7Segment(text []byte, s int, sep byte, fields []int, emit func(Finding)) {
	field, start := 0, s+3
	for p := s + 3; p <= len(text); p++ {
		if p < len(text) && text[p] != sep {
			continue
		}
		if field > 0 {
			for _, want := range fields {
				if field == want {
					if end, ok := hl7Name(text[:p], start); ok {
						emit(Finding{Type: TypePersonName, Start: start, End: end, Confidence: 0.9})
					}
				}
			}
		}
		field++
		start = p + 1
	}
}

// hl7Name returns the end of the name at text[start:] (one field): family,
// given and middle name components, each letters, spaces, '-', '\” or CJK
// characters; the family and given names must not be empty.
func hl7Name(text []byte, start int) (int, bool) {
	end, comp, p := start, 0, start
	for comp < 3 {
		q := p
		for q < len(text) && text[q] != '^' && text[q] != '~' {
			r, size := utf8.DecodeRune(text[q:])
			if !(isAlpha(text[q]) || text[q] == ' ' || text[q] == '-' || text[q] == '\'' || r >= 0x3400 && r <= 0x9FFF || r == '·') {
				return 0, false
			}
			q += size
		}
		if q == p && comp < 2 {
			return 0, false
		}
		if q > p {
			end = q
		}
		comp++
		if q >= len(text) || text[q] != '^' {
			break
		}
		p = q + 1
	}
	return end, comp >= 2
}
