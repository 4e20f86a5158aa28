package events

import (
	"bytes"
	"errors"
	"fmt"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// The event decoder of DecodeJSON: one pass over the bytes of an event that checks the
// JSON syntax and fills the Event, exactly as encoding/json's Decoder (with
// DisallowUnknownFields) did — same events, same faults — at a fraction of the cost:
// no reflection, and one allocation per event for all its strings.
//
// What it keeps of encoding/json (FuzzDecodeJSONSameAsStdlib holds it to that):
//   - syntax: RFC 8259, nesting deeper than 10,000 refused; the first syntax fault in
//     the bytes wins over every other fault of the event;
//   - field names: an exact match, else a case-insensitive one (bytes.EqualFold, so
//     "ID", "Account" and "ſystem" match too); a duplicate field: the last wins;
//   - null leaves a field as it was (empty, or the value of an earlier duplicate);
//   - strings: \uXXXX escapes with surrogate pairs; a lone surrogate and every byte of
//     invalid UTF-8 become U+FFFD;
//   - record_count: a JSON number written as an integer that fits in an int;
//   - time: time.Time's own UnmarshalJSON on the raw value (which does not unescape, so
//     a time written with escapes is refused, as before);
//   - faults: a fault of time stops the event; a wrong type or an unknown field is
//     remembered and the event goes on, so the reason is that of the first fault of time
//     if there is one, else that of the first other fault.

// The faults of one value, before they get their reasons.
const (
	scanOK     = iota
	scanSyntax // not valid JSON
	scanEOF    // the input ends inside the value
)

// maxDepth is the deepest nesting of objects and arrays that encoding/json takes.
const maxDepth = 10000

// The reasons of DecodeError for faults inside an event.
const (
	reasonSyntax     = "not valid JSON"
	reasonEOF        = "the JSON ends too early"
	reasonNotObject  = "not a JSON event object"
	reasonUnknown    = "unknown field (the fields are those of the normalized event)"
	reasonBadTime    = "field time must be an RFC 3339 time"
	reasonBadEvent   = "not a valid JSON event"
	reasonTwoValues  = "more than one JSON value on the line"
	reasonAfterArray = "data after the array"
)

func scanReason(code int) string {
	if code == scanEOF {
		return reasonEOF
	}
	return reasonSyntax
}

// The fields of Event, by their JSON names; fieldTime and fieldRecordCount are the two
// that are not strings.
const (
	fieldID = iota
	fieldTime
	fieldSystem
	fieldAccount
	fieldStaffID
	fieldDepartment
	fieldAction
	fieldOutcome
	fieldPatientID
	fieldRecordType
	fieldRecordCount
	fieldSourceIP
	fieldTerminal
	fieldRaw
	nFields
	fieldUnknown = -1
)

var fieldNames = [nFields]string{"id", "time", "system", "account", "staff_id", "department", "action", "outcome",
	"patient_id", "record_type", "record_count", "source_ip", "terminal", "raw"}

// typeReasons[f] is the reason for a value of the wrong JSON type in field f.
var typeReasons = func() (r [nFields]string) {
	for f, name := range fieldNames {
		kind := "string"
		if f == fieldRecordCount {
			kind = "integer"
		}
		r[f] = fmt.Sprintf("field %s must be a JSON %s", name, kind)
	}
	return r
}()

// lookupField returns the field named by an (unescaped) object key: the exact name,
// else one equal under Unicode case folding, as encoding/json matches them.
func lookupField(key []byte) int {
	switch string(key) {
	case "id":
		return fieldID
	case "time":
		return fieldTime
	case "system":
		return fieldSystem
	case "account":
		return fieldAccount
	case "staff_id":
		return fieldStaffID
	case "department":
		return fieldDepartment
	case "action":
		return fieldAction
	case "outcome":
		return fieldOutcome
	case "patient_id":
		return fieldPatientID
	case "record_type":
		return fieldRecordType
	case "record_count":
		return fieldRecordCount
	case "source_ip":
		return fieldSourceIP
	case "terminal":
		return fieldTerminal
	case "raw":
		return fieldRaw
	}
	for f, name := range fieldNames {
		if bytes.EqualFold(key, []byte(name)) {
			return f
		}
	}
	return fieldUnknown
}

// eventDecoder decodes events one at a time; its buffers are reused from one to the next.
type eventDecoder struct {
	strs  []byte // the unescaped string fields of the event, back to back
	key   []byte // an object key that had to be unescaped
	spans [nFields]struct{ from, to int32 }
	set   [nFields]bool
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func skipSpace(data []byte, i int) int {
	for i < len(data) && isSpace(data[i]) {
		i++
	}
	return i
}

// event decodes the JSON value that starts at data[i] (after white space) into e, as
// encoding/json's Decoder.Decode of one value: an object is an event, null the empty
// event, anything else is refused. It returns the end of the value and "" or the reason
// of the fault. A scalar value at the top ends where its syntax does (what follows is the
// caller's business).
func (d *eventDecoder) event(data []byte, i int, e *Event) (int, string) {
	i = skipSpace(data, i)
	if i == len(data) {
		return i, reasonEOF
	}
	switch data[i] {
	case '{':
		return d.object(data, i, e)
	case 'n':
		end, code := scanLiteral(data, i, "null")
		if code != scanOK {
			return i, scanReason(code)
		}
		*e = Event{}
		return end, ""
	}
	end, code := skipValue(data, i, 0)
	if code != scanOK {
		return i, scanReason(code)
	}
	return end, reasonNotObject
}

// object decodes the event object at data[i] == '{'.
func (d *eventDecoder) object(data []byte, i int, e *Event) (int, string) {
	*e = Event{}
	d.strs = d.strs[:0]
	d.set = [nFields]bool{}
	var timeFault, fault string // the first fault of time; the first other fault
	i = skipSpace(data, i+1)
	if i == len(data) {
		return i, reasonEOF
	}
	if data[i] == '}' {
		return i + 1, ""
	}
	for {
		// The key.
		if data[i] != '"' {
			return i, reasonSyntax
		}
		end, plain, code := scanString(data, i)
		if code != scanOK {
			return i, scanReason(code)
		}
		key := data[i+1 : end-1]
		if !plain {
			d.key = appendUnquoted(d.key[:0], key)
			key = d.key
		}
		f := lookupField(key)
		i = skipSpace(data, end)
		if i == len(data) {
			return i, reasonEOF
		}
		if data[i] != ':' {
			return i, reasonSyntax
		}
		i = skipSpace(data, i+1)
		if i == len(data) {
			return i, reasonEOF
		}

		// The value.
		start := i
		c := data[i]
		switch {
		case f == fieldUnknown:
			if fault == "" {
				fault = reasonUnknown
			}
			i, code = skipValue(data, i, 1)
		case c == 'n':
			i, code = scanLiteral(data, i, "null") // null changes nothing
		case f == fieldTime:
			i, code = skipValue(data, i, 1)
			if code == scanOK && timeFault == "" {
				if err := e.Time.UnmarshalJSON(data[start:i]); err != nil {
					timeFault = reasonBadEvent
					if _, ok := errors.AsType[*time.ParseError](err); ok {
						timeFault = reasonBadTime
					}
				}
			}
		case f == fieldRecordCount:
			if c == '-' || c >= '0' && c <= '9' {
				i, code = scanNumber(data, i)
				if code == scanOK {
					n, ok := parseInt(data[start:i])
					if ok {
						e.RecordCount = n
					} else if fault == "" {
						fault = typeReasons[f]
					}
				}
				break
			}
			i, code = skipValue(data, i, 1)
			if code == scanOK && fault == "" {
				fault = typeReasons[f]
			}
		case c == '"':
			var plain bool
			i, plain, code = scanString(data, i)
			if code == scanOK {
				from := len(d.strs)
				if plain {
					d.strs = append(d.strs, data[start+1:i-1]...)
				} else {
					d.strs = appendUnquoted(d.strs, data[start+1:i-1])
				}
				d.spans[f].from, d.spans[f].to = int32(from), int32(len(d.strs))
				d.set[f] = true
			}
		default:
			i, code = skipValue(data, i, 1)
			if code == scanOK && fault == "" {
				fault = typeReasons[f]
			}
		}
		if code != scanOK {
			return i, scanReason(code)
		}

		// A comma or the end of the object.
		i = skipSpace(data, i)
		if i == len(data) {
			return i, reasonEOF
		}
		switch data[i] {
		case ',':
			i = skipSpace(data, i+1)
			if i == len(data) {
				return i, reasonEOF
			}
			continue
		case '}':
			i++
		default:
			return i, reasonSyntax
		}
		break
	}
	switch {
	case timeFault != "":
		return i, timeFault
	case fault != "":
		return i, fault
	}
	d.fill(e)
	return i, ""
}

// fill sets the string fields of e from one string holding them all.
func (d *eventDecoder) fill(e *Event) {
	all := string(d.strs)
	str := func(f int) string {
		if !d.set[f] {
			return ""
		}
		return all[d.spans[f].from:d.spans[f].to]
	}
	e.ID = str(fieldID)
	e.System = str(fieldSystem)
	e.Account = str(fieldAccount)
	e.StaffID = str(fieldStaffID)
	e.Department = str(fieldDepartment)
	e.Action = str(fieldAction)
	e.Outcome = str(fieldOutcome)
	e.PatientID = str(fieldPatientID)
	e.RecordType = str(fieldRecordType)
	e.SourceIP = str(fieldSourceIP)
	e.Terminal = str(fieldTerminal)
	e.Raw = str(fieldRaw)
}

// parseInt parses a JSON number as encoding/json does for an int field: only digits
// after an optional minus sign, within the range of int.
func parseInt(b []byte) (int, bool) {
	neg := b[0] == '-'
	if neg {
		b = b[1:]
	}
	const maxU = uint64(1<<(strconvIntSize-1) - 1)
	limit := maxU
	if neg {
		limit++
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		if n > (limit-uint64(c-'0'))/10 {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	if neg {
		return int(-n), true
	}
	return int(n), true
}

// strconvIntSize is the size of an int in bits.
const strconvIntSize = 32 << (^uint(0) >> 63)

// skipValue checks the syntax of the JSON value at data[i] (not white space), at nesting
// depth depth (the value's own container not counted), and returns its end.
func skipValue(data []byte, i, depth int) (int, int) {
	switch c := data[i]; {
	case c == '"':
		end, _, code := scanString(data, i)
		return end, code
	case c == '-' || c >= '0' && c <= '9':
		return scanNumber(data, i)
	case c == 't':
		return scanLiteral(data, i, "true")
	case c == 'f':
		return scanLiteral(data, i, "false")
	case c == 'n':
		return scanLiteral(data, i, "null")
	case c == '{' || c == '[':
		if depth+1 > maxDepth {
			return i, scanSyntax
		}
		return skipContainer(data, i, depth+1)
	}
	return i, scanSyntax
}

// skipContainer checks the object or array at data[i], at nesting depth depth.
func skipContainer(data []byte, i, depth int) (int, int) {
	isObject := data[i] == '{'
	closing := byte(']')
	if isObject {
		closing = '}'
	}
	i = skipSpace(data, i+1)
	if i == len(data) {
		return i, scanEOF
	}
	if data[i] == closing {
		return i + 1, scanOK
	}
	for {
		var code int
		if isObject {
			if data[i] != '"' {
				return i, scanSyntax
			}
			if i, _, code = scanString(data, i); code != scanOK {
				return i, code
			}
			i = skipSpace(data, i)
			if i == len(data) {
				return i, scanEOF
			}
			if data[i] != ':' {
				return i, scanSyntax
			}
			i = skipSpace(data, i+1)
			if i == len(data) {
				return i, scanEOF
			}
		}
		if i, code = skipValue(data, i, depth); code != scanOK {
			return i, code
		}
		i = skipSpace(data, i)
		if i == len(data) {
			return i, scanEOF
		}
		switch data[i] {
		case ',':
			i = skipSpace(data, i+1)
			if i == len(data) {
				return i, scanEOF
			}
		case closing:
			return i + 1, scanOK
		default:
			return i, scanSyntax
		}
	}
}

// scanString checks the string at data[i] == '"' and returns its end (after the closing
// quote) and whether its content is its value as it is (no escape, valid UTF-8).
func scanString(data []byte, i int) (end int, plain bool, code int) {
	plain = true
	high := false
	for j := i + 1; ; {
		for j < len(data) && !needsLook[data[j]] {
			j++
		}
		if j >= len(data) {
			return len(data), false, scanEOF
		}
		switch c := data[j]; {
		case c == '"':
			if high && plain {
				plain = utf8.Valid(data[i+1 : j])
			}
			return j + 1, plain, scanOK
		case c == '\\':
			plain = false
			j++
			if j == len(data) {
				return j, false, scanEOF
			}
			switch data[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				for k := 0; k < 4; k++ {
					j++
					if j == len(data) {
						return j, false, scanEOF
					}
					if !isHex(data[j]) {
						return j, false, scanSyntax
					}
				}
			default:
				return j, false, scanSyntax
			}
		case c < ' ':
			return j, false, scanSyntax
		case c >= utf8.RuneSelf:
			high = true
		}
		j++
	}
}

// needsLook[c] is true for the bytes that scanString must look at: a quote, a backslash,
// a control character, a byte of a multi-byte UTF-8 sequence.
var needsLook = func() (t [256]bool) {
	for c := range t {
		t[c] = c < ' ' || c == '"' || c == '\\' || c >= utf8.RuneSelf
	}
	return t
}()

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// scanNumber checks the number at data[i] ('-' or a digit) and returns its end: the first
// byte that cannot continue it. A number cut short by the end of data is scanEOF.
func scanNumber(data []byte, i int) (int, int) {
	n := len(data)
	digits := func(j int) (int, int) { // one digit or more
		if j == n {
			return j, scanEOF
		}
		if data[j] < '0' || data[j] > '9' {
			return j, scanSyntax
		}
		for j < n && data[j] >= '0' && data[j] <= '9' {
			j++
		}
		return j, scanOK
	}
	j := i
	if data[j] == '-' {
		j++
	}
	if j == n {
		return j, scanEOF
	}
	var code int
	if data[j] == '0' {
		j++
	} else if j, code = digits(j); code != scanOK {
		return j, code
	}
	if j < n && data[j] == '.' {
		if j, code = digits(j + 1); code != scanOK {
			return j, code
		}
	}
	if j < n && (data[j] == 'e' || data[j] == 'E') {
		j++
		if j < n && (data[j] == '+' || data[j] == '-') {
			j++
		}
		if j, code = digits(j); code != scanOK {
			return j, code
		}
	}
	return j, scanOK
}

// scanLiteral checks the literal lit (true, false or null) at data[i].
func scanLiteral(data []byte, i int, lit string) (int, int) {
	for k := 0; k < len(lit); k++ {
		if i+k == len(data) {
			return i + k, scanEOF
		}
		if data[i+k] != lit[k] {
			return i + k, scanSyntax
		}
	}
	return i + len(lit), scanOK
}

// appendUnquoted appends the value of the content of a JSON string whose syntax is
// checked, as encoding/json unquotes it: a lone surrogate and each byte of invalid UTF-8
// become U+FFFD.
func appendUnquoted(dst, s []byte) []byte {
	for r := 0; r < len(s); {
		c := s[r]
		switch {
		case c == '\\':
			r++
			switch s[r] {
			case 'b':
				dst = append(dst, '\b')
			case 'f':
				dst = append(dst, '\f')
			case 'n':
				dst = append(dst, '\n')
			case 'r':
				dst = append(dst, '\r')
			case 't':
				dst = append(dst, '\t')
			case 'u':
				rr := getu4(s[r-1:])
				r += 5
				if utf16.IsSurrogate(rr) {
					if dec := utf16.DecodeRune(rr, getu4(s[r:])); dec != utf8.RuneError {
						dst = utf8.AppendRune(dst, dec)
						r += 6
						continue
					}
					rr = utf8.RuneError
				}
				dst = utf8.AppendRune(dst, rr)
				continue
			default: // " \ /
				dst = append(dst, s[r])
			}
			r++
		case c < utf8.RuneSelf:
			dst = append(dst, c)
			r++
		default:
			rr, size := utf8.DecodeRune(s[r:])
			dst = utf8.AppendRune(dst, rr)
			r += size
		}
	}
	return dst
}

// getu4 decodes \uXXXX at the start of s, or returns -1.
func getu4(s []byte) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range s[2:6] {
		switch {
		case '0' <= c && c <= '9':
			c = c - '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}
