package input

import (
	"bytes"
	"compress/zlib"
	"io"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// pdf extracts the text shown by the Tj, TJ, ' and " operators of the
// uncompressed and Flate-compressed content streams of a PDF, mapping
// character codes through the ToUnicode CMaps found in the file (merged,
// not per font). Scanned images, other filters and encrypted files are
// reported as Problems.
func (d *decoder) pdf(path string, data []byte, depth int) error {
	if depth >= d.lim.MaxDepth {
		d.problem(path, ReasonTooDeep, "container nested deeper than %d", d.lim.MaxDepth)
		return nil
	}
	if bytes.Contains(data, []byte("/Encrypt")) {
		d.problem(path, ReasonEncrypted, "encrypted PDF")
		return nil
	}
	var streams [][]byte
	for i := 0; ; {
		j := bytes.Index(data[i:], []byte("stream"))
		if j < 0 {
			break
		}
		j += i
		i = j + len("stream")
		if j >= 3 && string(data[j-3:j]) == "end" {
			continue
		}
		start := i
		if start < len(data) && data[start] == '\r' {
			start++
		}
		if start < len(data) && data[start] == '\n' {
			start++
		}
		end := bytes.Index(data[start:], []byte("endstream"))
		if end < 0 {
			break
		}
		end += start
		i = end + len("endstream")
		window := max(0, j-4096) // a stream dictionary is short; bound the look-back
		dict := data[window:j]
		if k := bytes.LastIndex(dict, []byte("obj")); k >= 0 {
			dict = dict[k:]
		}
		raw := bytes.TrimRight(data[start:end], "\r\n")
		switch {
		case bytes.Contains(dict, []byte("/FlateDecode")) && !bytes.Contains(dict, []byte("/DecodeParms")):
			body, ok := d.inflate(path, raw)
			if !ok {
				return nil
			}
			streams = append(streams, body)
		case bytes.Contains(dict, []byte("/Filter")):
			// images and other filters carry no text we can read
		default:
			streams = append(streams, raw)
		}
	}
	cmap := map[uint32][]rune{}
	for _, s := range streams {
		if bytes.Contains(s, []byte("begincmap")) {
			parseCMap(s, cmap)
		}
	}
	b := builder{limit: int(d.lim.MaxMemberSize)}
	for _, s := range streams {
		if bytes.Contains(s, []byte("BT")) && !bytes.Contains(s, []byte("begincmap")) {
			showText(&b, s, cmap)
			b.newline()
		}
		if b.full() {
			d.problem(path, ReasonTooBig, "extracted text beyond %d bytes, the rest not scanned", b.limit)
			break
		}
	}
	if len(bytes.TrimSpace(b.text)) == 0 {
		d.problem(path, ReasonUnsupported, "pdf text extraction found no text (scanned image, or fonts or filters not supported)")
		return nil
	}
	return d.yield(Unit{Path: path, Kind: KindPDF, Text: b.text})
}

// inflate decompresses one Flate stream within the limits, keeping what
// precedes a corrupt tail.
func (d *decoder) inflate(path string, raw []byte) ([]byte, bool) {
	zr, err := zlib.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, true // not a stream we can read; others may be
	}
	limit := min(d.lim.MaxMemberSize, d.lim.MaxTotalExtracted-d.extracted)
	if r := int64(d.lim.MaxRatio * float64(len(raw))); r > ratioFloor {
		limit = min(limit, r)
	} else {
		limit = min(limit, ratioFloor)
	}
	body, _ := io.ReadAll(io.LimitReader(zr, limit+1))
	d.extracted += int64(len(body))
	if int64(len(body)) > limit {
		d.problem(path, ReasonZipBomb, "pdf stream inflates beyond %d bytes", limit)
		return nil, false
	}
	return body, true
}

// pdfLexer reads the tokens of a PDF content stream.
type pdfLexer struct {
	s []byte
	i int
}

const pdfDelims = "()<>[]{}/%"

func isPDFSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == 0
}

// next returns the next token: kind 's' for a literal string, 'h' for a hex
// string (both decoded), '[' and ']', 'n' for a name, 'o' for an operator
// or number; kind 0 at the end.
func (l *pdfLexer) next() (byte, []byte) {
	for l.i < len(l.s) {
		c := l.s[l.i]
		switch {
		case isPDFSpace(c):
			l.i++
		case c == '%':
			for l.i < len(l.s) && l.s[l.i] != '\n' && l.s[l.i] != '\r' {
				l.i++
			}
		case c == '(':
			return 's', l.literal()
		case c == '<' && l.i+1 < len(l.s) && l.s[l.i+1] == '<':
			l.i += 2
			return 'o', []byte("<<")
		case c == '<':
			return 'h', l.hex()
		case c == '>' && l.i+1 < len(l.s) && l.s[l.i+1] == '>':
			l.i += 2
			return 'o', []byte(">>")
		case c == '[' || c == ']':
			l.i++
			return c, nil
		case c == '/':
			start := l.i
			l.i++
			l.word()
			return 'n', l.s[start:l.i]
		default:
			start := l.i
			l.word()
			if l.i == start {
				l.i++
			}
			return 'o', l.s[start:l.i]
		}
	}
	return 0, nil
}

func (l *pdfLexer) word() {
	for l.i < len(l.s) && !isPDFSpace(l.s[l.i]) && bytes.IndexByte([]byte(pdfDelims), l.s[l.i]) < 0 {
		l.i++
	}
}

func (l *pdfLexer) literal() []byte {
	var out []byte
	depth := 0
	l.i++ // '('
	for l.i < len(l.s) {
		c := l.s[l.i]
		l.i++
		switch c {
		case '(':
			depth++
		case ')':
			if depth == 0 {
				return out
			}
			depth--
		case '\\':
			if l.i >= len(l.s) {
				return out
			}
			e := l.s[l.i]
			l.i++
			switch e {
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			case 't':
				c = '\t'
			case 'b':
				c = '\b'
			case 'f':
				c = '\f'
			case '\r', '\n':
				if e == '\r' && l.i < len(l.s) && l.s[l.i] == '\n' {
					l.i++
				}
				continue
			default:
				if e >= '0' && e <= '7' {
					v := int(e - '0')
					for k := 0; k < 2 && l.i < len(l.s) && l.s[l.i] >= '0' && l.s[l.i] <= '7'; k++ {
						v = v*8 + int(l.s[l.i]-'0')
						l.i++
					}
					c = byte(v)
				} else {
					c = e
				}
			}
		}
		out = append(out, c)
	}
	return out
}

func (l *pdfLexer) hex() []byte {
	l.i++ // '<'
	var out []byte
	var hi byte
	half := false
	for l.i < len(l.s) && l.s[l.i] != '>' {
		c := l.s[l.i]
		l.i++
		v, ok := unhex(c)
		if !ok {
			continue
		}
		if half {
			out = append(out, hi<<4|v)
		} else {
			hi = v
		}
		half = !half
	}
	if half {
		out = append(out, hi<<4)
	}
	l.i++ // '>'
	return out
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// showText appends the text shown in a content stream.
func showText(b *builder, s []byte, cmap map[uint32][]rune) {
	l := pdfLexer{s: s}
	var (
		operands [][]byte // strings since the last operator
		nums     []float64
		inArray  bool
	)
	for !b.full() {
		kind, tok := l.next()
		switch kind {
		case 0:
			return
		case 's', 'h':
			operands = append(operands, tok)
		case '[':
			inArray = true
			operands, nums = operands[:0], nums[:0]
		case ']':
			inArray = false
		case 'o':
			if f, err := strconv.ParseFloat(string(tok), 64); err == nil {
				if inArray && f < -200 && len(operands) > 0 {
					operands = append(operands, []byte(" ")) // a wide gap between words
				}
				nums = append(nums, f)
				continue
			}
			switch string(tok) {
			case "Tj", "TJ":
				for _, o := range operands {
					b.text = appendPDFString(b.text, o, cmap)
				}
			case "'", `"`:
				b.newline()
				for _, o := range operands {
					b.text = appendPDFString(b.text, o, cmap)
				}
			case "T*", "ET":
				b.newline()
			case "Td", "TD":
				if len(nums) >= 2 && nums[len(nums)-1] != 0 {
					b.newline()
				} else if n := len(b.text); n > 0 && b.text[n-1] != ' ' && b.text[n-1] != '\n' {
					b.text = append(b.text, ' ')
				}
			}
			if !inArray {
				operands, nums = operands[:0], nums[:0]
			}
		}
	}
}

// appendPDFString decodes a string operand: through the CMap when one
// maps its codes, as UTF-16BE with a BOM, else as Latin-1.
func appendPDFString(dst, s []byte, cmap map[uint32][]rune) []byte {
	if len(cmap) > 0 {
		out, ok := dst, true
		for i := 0; i+1 < len(s) && ok; i += 2 {
			rs, found := cmap[uint32(s[i])<<8|uint32(s[i+1])]
			if !found {
				ok = false
				break
			}
			for _, r := range rs {
				out = utf8.AppendRune(out, r)
			}
		}
		if ok && len(s)%2 == 0 && len(s) > 0 {
			return out
		}
		out = dst
		ok = true
		for _, c := range s {
			rs, found := cmap[uint32(c)]
			if !found {
				ok = false
				break
			}
			for _, r := range rs {
				out = utf8.AppendRune(out, r)
			}
		}
		if ok {
			return out
		}
		dst = out[:len(dst)]
	}
	if len(s) >= 2 && s[0] == 0xFE && s[1] == 0xFF {
		u := make([]uint16, 0, len(s)/2)
		for i := 2; i+1 < len(s); i += 2 {
			u = append(u, uint16(s[i])<<8|uint16(s[i+1]))
		}
		for _, r := range utf16.Decode(u) {
			dst = utf8.AppendRune(dst, r)
		}
		return dst
	}
	for _, c := range s {
		if c < 0x20 && c != '\t' && c != '\n' {
			c = ' '
		}
		dst = utf8.AppendRune(dst, rune(c))
	}
	return dst
}

// parseCMap adds the bfchar and bfrange mappings of a ToUnicode CMap to m.
func parseCMap(s []byte, m map[uint32][]rune) {
	const maxRange = 1 << 16
	l := pdfLexer{s: s}
	var (
		hexes [][]byte
		mode  string
		inArr bool
	)
	code := func(b []byte) (uint32, bool) {
		if len(b) == 0 || len(b) > 4 {
			return 0, false
		}
		var v uint32
		for _, c := range b {
			v = v<<8 | uint32(c)
		}
		return v, true
	}
	runes := func(b []byte) []rune {
		b = b[:min(len(b), 8)] // a code maps to a few characters at most
		u := make([]uint16, 0, len(b)/2)
		for i := 0; i+1 < len(b); i += 2 {
			u = append(u, uint16(b[i])<<8|uint16(b[i+1]))
		}
		return utf16.Decode(u)
	}
	for {
		kind, tok := l.next()
		switch kind {
		case 0:
			return
		case 'h':
			if inArr {
				continue
			}
			hexes = append(hexes, tok)
			switch {
			case mode == "bfchar" && len(hexes) == 2:
				if c, ok := code(hexes[0]); ok && len(m) < maxRange {
					m[c] = runes(hexes[1])
				}
				hexes = hexes[:0]
			case mode == "bfrange" && len(hexes) == 3:
				lo, ok1 := code(hexes[0])
				hi, ok2 := code(hexes[1])
				dst := runes(hexes[2])
				if ok1 && ok2 && lo <= hi && hi-lo < maxRange && len(dst) > 0 {
					for c := lo; c <= hi && len(m) < maxRange; c++ {
						rs := append([]rune(nil), dst...)
						rs[len(rs)-1] += rune(c - lo)
						m[c] = rs
					}
				}
				hexes = hexes[:0]
			}
		case '[': // bfrange with an array of destinations: not supported
			inArr = true
		case ']':
			inArr, hexes = false, hexes[:0]
		case 'o':
			switch string(tok) {
			case "beginbfchar":
				mode, hexes = "bfchar", hexes[:0]
			case "beginbfrange":
				mode, hexes = "bfrange", hexes[:0]
			case "endbfchar", "endbfrange":
				mode, hexes = "", hexes[:0]
			}
		}
	}
}
