package scan

import (
	"bufio"
	"encoding/json"
	"io"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/medguard/medguard/internal/dlp/input"
)

// jsonFinding is one line of JSON output; the field order is the
// documented one.
type jsonFinding struct {
	Path       string  `json:"path"`
	Type       string  `json:"type"`
	Start      int     `json:"start"`
	End        int     `json:"end"`
	Line       int     `json:"line"`
	Confidence float64 `json:"confidence"`
	Category   string  `json:"category"`
	Level      int     `json:"level"`
	Field      string  `json:"field,omitempty"`
	Preview    string  `json:"preview"`
}

// jsonWriter writes one line per finding as it comes, then the problem
// and summary lines.
type jsonWriter struct {
	bw     *bufio.Writer
	quoted quoteCache
}

func newJSONWriter(w io.Writer) *jsonWriter { return &jsonWriter{bw: bufio.NewWriterSize(w, 64<<10)} }

func (j *jsonWriter) batch(fs []Finding) error {
	for _, f := range fs {
		// Appended to the writer's free space, so that Write has
		// nothing to copy unless the line did not fit.
		line := j.quoted.appendFinding(j.bw.AvailableBuffer(), jsonFinding{f.Path, f.Type, f.Start, f.End, f.Line, f.Confidence, f.Category, f.Level, f.Field, f.Preview})
		if _, err := j.bw.Write(line); err != nil {
			return err
		}
	}
	return nil
}

func (j *jsonWriter) finish(res *Result) error {
	enc := json.NewEncoder(j.bw)
	enc.SetEscapeHTML(false)
	for _, p := range res.Problems {
		if err := enc.Encode(struct {
			Problem input.Problem `json:"problem"`
		}{p}); err != nil {
			return err
		}
	}
	if err := enc.Encode(struct {
		Summary Summary `json:"summary"`
	}{res.Summary()}); err != nil {
		return err
	}
	return j.bw.Flush()
}

func (j *jsonWriter) close() error { return nil }

// appendFinding appends f as one line of JSON, byte for byte what
// json.Encoder (without HTML escaping) writes for it, several times faster
// since findings can number millions.
func appendFinding(b []byte, f jsonFinding) []byte {
	var q quoteCache
	return q.appendFinding(b, f)
}

// appendFinding is appendFinding with the strings that repeat from one
// finding to the next (path, type, category, field) quoted once.
func (q *quoteCache) appendFinding(b []byte, f jsonFinding) []byte {
	b = append(b, `{"path":`...)
	b = q.appendString(b, f.Path, slotPath)
	b = append(b, `,"type":`...)
	b = q.appendString(b, f.Type, slotType)
	b = append(b, `,"start":`...)
	b = strconv.AppendInt(b, int64(f.Start), 10)
	b = append(b, `,"end":`...)
	b = strconv.AppendInt(b, int64(f.End), 10)
	b = append(b, `,"line":`...)
	b = strconv.AppendInt(b, int64(f.Line), 10)
	b = append(b, `,"confidence":`...)
	if k := int(f.Confidence*100 + 0.5); k >= 0 && k <= 100 && float64(k)/100 == f.Confidence {
		b = append(b, percents[k]...)
	} else {
		b = appendJSONFloat(b, f.Confidence)
	}
	b = append(b, `,"category":`...)
	b = q.appendString(b, f.Category, slotCategory)
	b = append(b, `,"level":`...)
	b = strconv.AppendInt(b, int64(f.Level), 10)
	if f.Field != "" {
		b = append(b, `,"field":`...)
		b = q.appendString(b, f.Field, slotField)
	}
	b = append(b, `,"preview":`...)
	b = appendJSONString(b, f.Preview)
	return append(b, '}', '\n')
}

// percents[k] is k/100 as encoding/json writes it: confidences are rounded
// to hundredths, so almost every one is in this table.
var percents = func() (t [101]string) {
	for k := range t {
		t[k] = string(appendJSONFloat(nil, float64(k)/100))
	}
	return t
}()

// quoteCache remembers the JSON form of the last few strings quoted: the
// path, type, category and column of consecutive findings repeat.
type quoteCache struct {
	entries [16]struct {
		s string
		q []byte
	}
	next int
	hit  [4]int // per slot (path, type, category, field): the entry last used
}

// Slots of quoteCache.appendString: which field of a finding is quoted.
const (
	slotPath = iota
	slotType
	slotCategory
	slotField
)

// appendString appends s quoted as appendJSONString does; slot says which
// field s is, whose last entry is tried first.
func (q *quoteCache) appendString(b []byte, s string, slot int) []byte {
	if e := &q.entries[q.hit[slot]]; e.q != nil && len(e.s) == len(s) && e.s == s {
		return append(b, e.q...)
	}
	for i := range q.entries {
		if e := &q.entries[i]; e.q != nil && len(e.s) == len(s) && e.s == s {
			q.hit[slot] = i
			return append(b, e.q...)
		}
	}
	if len(s) > 256 {
		return appendJSONString(b, s)
	}
	i := q.next
	q.next = (q.next + 1) % len(q.entries)
	e := &q.entries[i]
	e.s, e.q = s, appendJSONString(e.q[:0], s)
	q.hit[slot] = i
	return append(b, e.q...)
}

// appendJSONFloat appends f as encoding/json writes a float64 (f is
// finite: confidences are in [0, 1]).
func appendJSONFloat(b []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if n := len(b); format == 'e' && n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
		b[n-2] = b[n-1]
		b = b[:n-1]
	}
	return b
}

// appendJSONString appends s quoted as encoding/json does without HTML
// escaping: control characters, '"' and '\\' escaped, invalid UTF-8 as
// \ufffd, U+2028 and U+2029 escaped.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
