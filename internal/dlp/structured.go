package dlp

import (
	"encoding/binary"
	"math/bits"
	"time"
)

// Indexes of the structured types in structured.on and structured.pos.
const (
	tResidentID = iota
	tMobile
	tLandline
	tEmail
	tBankCard
	tPassport
	tPermit
	tUSCC
	tInsurance
	tIP
	nStructured
	negSet = nStructured // the set of negative context words in structured.ctx
)

// structured is the one-pass detector for every checksum- or pattern-based
// identifier. It walks the text once, looking only at runs of ASCII letters
// and digits that hold a digit, and at '@'; everything else (CJK text and
// words without digits included) is skipped eight bytes at a time.
type structured struct {
	on      [nStructured]bool
	names   [nStructured]string
	ctx     *ctxSet // positive words of type t in set t, negative words in set negSet
	maxYear int
}

func newStructured(enabled func(string) bool) *structured {
	d := &structured{ctx: &ctxSet{}, maxYear: time.Now().Year()}
	ctx := positiveContext()
	for i, name := range StructuredTypes() {
		d.names[i] = name
		d.on[i] = enabled(name)
		d.ctx.add(uint(i), ctx[name])
	}
	d.ctx.add(negSet, negativeContext())
	return d
}

// Types implements Detector.
func (d *structured) Types() []string {
	var out []string
	for i, on := range d.on {
		if on {
			out = append(out, d.names[i])
		}
	}
	return out
}

func (d *structured) any() bool {
	for _, on := range d.on {
		if on {
			return true
		}
	}
	return false
}

// Byte classes of the structured pass: what a byte can start.
const (
	cNone  = iota // nothing: skipped
	cAlnum        // an ASCII letter or digit: a run
	cAt           // '@': an e-mail address around it
)

// byteClass maps every byte to its class.
var byteClass = func() (t [256]uint8) {
	for c := range 256 {
		switch {
		case isAlnum(byte(c)):
			t[c] = cAlnum
		case c == '@':
			t[c] = cAt
		}
	}
	return t
}()

// highBits has the top bit of every byte of a word set.
const highBits = 0x8080808080808080

// Byte-wise constants of nextDigit.
const (
	low7s  = 0x7F7F7F7F7F7F7F7F
	add30  = 0x5050505050505050 // 0x80 - 0x30: sets the top bit of bytes >= '0'
	add41  = 0x3F3F3F3F3F3F3F3F // 0x80 - 0x41: sets the top bit of bytes > '@'
	wordLn = 8
)

// nextDigit returns the first i' >= i such that text[i'] is an ASCII digit
// or '@', or len(text). Every structured identifier holds a digit (or is an
// e-mail address around '@'), so the text between is passed over eight
// bytes at a time: a word is skipped when none of its bytes lies in
// '0'…'@' (0x30–0x40; ':'…'?' are false alarms, checked one by one).
func nextDigit(text []byte, i int) int {
	for i+wordLn <= len(text) {
		x := binary.LittleEndian.Uint64(text[i:])
		y := x & low7s
		for m := (y + add30) &^ (y + add41) &^ x & highBits; m != 0; m &= m - 1 {
			if p := i + bits.TrailingZeros64(m)/8; text[p] <= '9' || text[p] == '@' {
				return p
			}
		}
		i += wordLn
	}
	for i < len(text) && (text[i]-'0' > 9 && text[i] != '@') {
		i++
	}
	return i
}

// Find implements Detector.
func (d *structured) Find(text []byte, emit func(Finding)) {
	n := len(text)
	email := d.on[tEmail]
	from := 0 // scanning resumes here: nothing before it starts a run
	for {
		k := nextDigit(text, from)
		if k >= n {
			return
		}
		c := text[k]
		if c == '@' {
			if email {
				if s, e, ok := emailAt(text, k); ok {
					emit(Finding{Type: TypeEmail, Start: s, End: e, Confidence: 0.95})
					from = e
					continue
				}
			}
			from = k + 1
			continue
		}
		// The alphanumeric run holding the digit starts at the first
		// letter or digit after a separator (or at from).
		i := k
		for i > from && byteClass[text[i-1]] == cAlnum {
			i--
		}
		j, digits := k, 0
		for j < n {
			c := text[j]
			if c-'0' < 10 {
				digits++
			} else if byteClass[c] != cAlnum {
				break
			}
			j++
		}
		// A run followed by '@' is the local part of an e-mail address
		// (13812345678@qq.com), left to the '@' branch.
		if j >= n || text[j] != '@' {
			if next := d.token(text, i, j, digits, emit); next > j {
				j = next
			}
		}
		from = j
	}
}

func (d *structured) emit(emit func(Finding), text []byte, t, s, e int, base, boost float64) {
	p, n := d.ctx.last(contextBefore(text, s), t, negSet)
	emit(Finding{Type: d.names[t], Start: s, End: e, Confidence: adjustBy(p, n, base, boost)})
}

// token examines the alphanumeric run text[s:e] holding digits digits and
// returns where scanning should continue (e, or later when the finding
// spans several runs).
func (d *structured) token(text []byte, s, e, digits int, emit func(Finding)) int {
	v := text[s:e]
	l := e - s
	n := len(text)
	if digits == l {
		if e+1 < n && (text[e] == ' ' || text[e] == '-') && isDigit(text[e+1]) {
			if end, ok := d.grouped(text, s, emit); ok {
				return end
			}
		}
		if l <= 3 && e+1 < n && text[e] == '.' && isDigit(text[e+1]) {
			if end, ok := ipv4At(text, s); ok {
				if d.on[tIP] {
					d.emit(emit, text, tIP, s, end, 0.8, 0.15)
				}
				return end
			}
		}
		switch {
		case l == 18:
			if d.on[tResidentID] && residentID18(v, d.maxYear) {
				d.emit(emit, text, tResidentID, s, e, 0.9, 0.09)
				return e
			}
		case l == 15:
			if d.on[tResidentID] && residentID15(v) {
				d.emit(emit, text, tResidentID, s, e, 0.6, 0.3)
				return e
			}
		case l == 11 && v[0] == '1':
			if d.on[tMobile] && mobile(v) {
				d.emit(emit, text, tMobile, s, e, 0.85, 0.13)
				return e
			}
		case l == 13 && v[0] == '8' && v[1] == '6':
			if d.on[tMobile] && mobile(v[2:]) {
				d.emit(emit, text, tMobile, s, e, 0.85, 0.13)
				return e
			}
		case (l == 11 || l == 12) && v[0] == '0':
			if a := areaCodeLen(v); a > 0 && d.on[tLandline] && localNumber(v[a:], a) {
				d.emit(emit, text, tLandline, s, e, 0.45, 0.4)
				return e
			}
		case l == 7 || l == 8:
			if ps, ok := parenAreaCode(text, s); ok && d.on[tLandline] && v[0] >= '2' && v[0] <= '8' {
				d.emit(emit, text, tLandline, ps, e, 0.75, 0.2)
				return e
			}
		}
		// A 17- or 18-digit run that starts with a region code and a birth
		// year is an ID number (mistyped, or missing its check digit), not
		// a card, even when it passes Luhn by chance (one in ten).
		// An all-digit USCC after its context word (统一社会信用代码) is
		// not a card either, though 51…–55… codes can pass Luhn.
		if l >= 16 && l <= 19 && d.on[tBankCard] && knownBIN(v) && luhn(v) && !idShaped(v) &&
			!(l == 18 && d.on[tUSCC] && uscc(v) && d.hasContext(text, s, tUSCC)) {
			d.emit(emit, text, tBankCard, s, e, 0.8, 0.18)
			return e
		}
	} else {
		switch {
		case l == 18 && (v[17] == 'X' || v[17] == 'x') && digits == 17:
			if d.on[tResidentID] && residentID18(v, d.maxYear) {
				d.emit(emit, text, tResidentID, s, e, 0.9, 0.09)
				return e
			}
		case l >= 9 && l <= 11:
			if t, base := travelDocument(v); t >= 0 && d.on[t] && !approvalNumber(text, s) {
				d.emit(emit, text, t, s, e, base, 0.3)
				return e
			}
		}
	}
	if l == 18 && d.on[tUSCC] && uscc(v) {
		// An all-digit code passes the MOD 31 check by chance one time in
		// 31, so it needs context.
		if digits < l {
			d.emit(emit, text, tUSCC, s, e, 0.9, 0.09)
			return e
		}
		if d.hasContext(text, s, tUSCC) {
			emit(Finding{Type: TypeUSCC, Start: s, End: e, Confidence: 0.9})
			return e
		}
	}
	if d.on[tInsurance] && l >= 8 && l <= 24 && digits >= 6 && d.insuranceContext(text, s) {
		emit(Finding{Type: TypeMedicalInsurance, Start: s, End: e, Confidence: 0.85})
	}
	return e
}

// hasContext reports whether a positive context word of type t occurs
// just before start.
func (d *structured) hasContext(text []byte, start, t int) bool {
	w := contextBefore(text, start)
	if !d.ctx.mayHave(w, t) {
		return false
	}
	p, _ := d.ctx.last(w, t, -1)
	return p >= 0
}

// idShaped reports whether a 17- or 18-digit run begins with a GB/T 2260
// region code followed by a birth year 18xx–20xx, as resident IDs do
// (mistyped ones included: a wrong date does not make it a card).
func idShaped(v []byte) bool {
	return (len(v) == 17 || len(v) == 18) && v[6] <= '2' && (v[6] == '2' && v[7] == '0' || v[6] == '1' && v[7] >= '8') && validRegion(v[:6])
}

// approvalNumber reports whether the run at s follows 准字, as in a drug
// approval number (国药准字H20040123), which has the form of a home-return
// permit.
func approvalNumber(text []byte, s int) bool {
	return s >= 6 && string(text[s-6:s]) == "准字"
}

// insuranceContext reports whether a medical insurance context word
// (医保卡号) precedes start with no nearer negative word (医保结算流水号)
// and no other number in between (医保号 123456 setlId=2024…).
func (d *structured) insuranceContext(text []byte, start int) bool {
	w := contextBefore(text, start)
	if !d.ctx.mayHave(w, tInsurance) {
		return false
	}
	p, n := d.ctx.last(w, tInsurance, negSet)
	if p < 0 || n > p {
		return false
	}
	for _, c := range w[p:] {
		if isDigit(c) {
			return false
		}
	}
	return true
}

// travelDocument classifies a letters-and-digits run as a passport or a
// Hong Kong/Macau permit and returns its type index and base confidence,
// or -1.
func travelDocument(v []byte) (int, float64) {
	digitsFrom := func(k int) bool {
		for _, c := range v[k:] {
			if !isDigit(c) {
				return false
			}
		}
		return true
	}
	upper := func(c byte) bool { return c >= 'A' && c <= 'Z' && c != 'I' && c != 'O' }
	l := len(v)
	switch v[0] {
	case 'E':
		if l == 9 && (digitsFrom(1) || upper(v[1]) && digitsFrom(2)) {
			return tPassport, 0.65
		}
	case 'G':
		if l == 9 && digitsFrom(1) {
			return tPassport, 0.55
		}
	case 'D', 'S', 'P':
		if l == 9 && v[1] == 'E' && digitsFrom(2) {
			return tPassport, 0.55
		}
	case 'C':
		if l == 9 && (digitsFrom(1) || upper(v[1]) && digitsFrom(2)) {
			return tPermit, 0.6
		}
	case 'H', 'M':
		if (l == 9 || l == 11) && digitsFrom(1) {
			return tPermit, 0.6
		}
	}
	return -1, 0
}

// grouped looks at digit groups separated by single spaces or hyphens
// starting at s (e.g. 138-1234-5678, 6222 0212 3456 7890, 010-12345678) and
// reports the end of the finding it emitted.
func (d *structured) grouped(text []byte, s int, emit func(Finding)) (int, bool) {
	var buf [24]byte
	var lens, ends [6]int
	ng, nd := 0, 0
	n := len(text)
	sep := byte(0)
	i := s
	for ng < len(lens) {
		j := i
		for j < n && isDigit(text[j]) {
			j++
		}
		if ng == 2 && j-i == 3 && j < n && (text[j] == 'X' || text[j] == 'x') {
			j++ // check character of a resident ID written 6-8-4
		}
		if j == i || j-i > 19 || nd+j-i > len(buf) || (j < n && isAlpha(text[j])) {
			break
		}
		nd += copy(buf[nd:], text[i:j])
		lens[ng], ends[ng] = j-i, j
		ng++
		if ng == 2 && !groupStart(lens[0], lens[1]) {
			return 0, false // a date, a time, a version…
		}
		if j+1 >= n || !isDigit(text[j+1]) || (sep != 0 && text[j] != sep) || (sep == 0 && text[j] != ' ' && text[j] != '-') {
			break
		}
		sep = text[j]
		i = j + 1
	}
	if ng < 2 {
		return 0, false
	}
	// Mobile: 138 1234 5678, optionally after 86.
	for k := 0; k+3 <= ng && k <= 1; k++ {
		if lens[k] == 3 && lens[k+1] == 4 && lens[k+2] == 4 && (k == 0 || lens[0] == 2 && buf[0] == '8' && buf[1] == '6') {
			off := 0
			if k == 1 {
				off = 2
			}
			if d.on[tMobile] && mobile(buf[off:off+11]) {
				d.emit(emit, text, tMobile, s, ends[k+2], 0.85, 0.13)
				return ends[k+2], true
			}
		}
	}
	// Bank card: groups of four, the last of one to four digits.
	if ng >= 4 && lens[0] == 4 && lens[1] == 4 && lens[2] == 4 && lens[3] == 4 {
		k, total := 4, 16
		if ng > 4 && lens[4] <= 4 && 16+lens[4] <= 19 {
			k, total = 5, 16+lens[4]
		}
		if d.on[tBankCard] && knownBIN(buf[:total]) && luhn(buf[:total]) {
			d.emit(emit, text, tBankCard, s, ends[k-1], 0.8, 0.18)
			return ends[k-1], true
		}
	}
	// Resident ID written as 6-8-4.
	if ng >= 3 && lens[0] == 6 && lens[1] == 8 && lens[2] == 4 && d.on[tResidentID] && residentID18(buf[:18], d.maxYear) {
		d.emit(emit, text, tResidentID, s, ends[2], 0.9, 0.09)
		return ends[2], true
	}
	// Landline: area code, local number, optional extension.
	if a := lens[0]; (a == 3 || a == 4) && areaCodeLen(buf[:a]) == a && localNumber(buf[a:a+lens[1]], a) && d.on[tLandline] {
		end := ends[1]
		if ng > 2 && sep == '-' && lens[2] <= 5 {
			end = ends[2]
		}
		d.emit(emit, text, tLandline, s, end, 0.75, 0.2)
		return end, true
	}
	return 0, false
}

// groupStart reports whether digit groups of lengths a and b can begin one
// of the forms grouped knows: 86 138…, 138 1234…, 6222 0212…, 110105
// 19491231…, 010 1234…, 0571 8888….
func groupStart(a, b int) bool {
	switch a {
	case 2:
		return b == 3
	case 3:
		return b == 4 || b == 8
	case 4:
		return b == 4 || b == 7 || b == 8
	case 6:
		return b == 8
	}
	return false
}

// parenAreaCode reports whether the digits at s follow an area code in
// ASCII or full-width parentheses, and where the opening parenthesis is.
func parenAreaCode(text []byte, s int) (int, bool) {
	e := s
	if e > 0 && text[e-1] == ' ' {
		e--
	}
	switch {
	case e >= 1 && text[e-1] == ')':
		e--
	case e >= 3 && text[e-3] == 0xEF && text[e-2] == 0xBC && text[e-1] == 0x89: // ）
		e -= 3
	default:
		return 0, false
	}
	b := e
	for b > 0 && e-b < 4 && isDigit(text[b-1]) {
		b--
	}
	a := e - b
	if (a != 3 && a != 4) || areaCodeLen(text[b:e]) != a {
		return 0, false
	}
	switch {
	case b >= 1 && text[b-1] == '(':
		return b - 1, true
	case b >= 3 && text[b-3] == 0xEF && text[b-2] == 0xBC && text[b-1] == 0x88: // （
		return b - 3, true
	}
	return 0, false
}

// ipv4At parses a dotted-quad IPv4 address starting at s and returns its
// end. Version-like strings (preceded by '.', or with a fifth part) are
// rejected.
func ipv4At(text []byte, s int) (int, bool) {
	n := len(text)
	if s > 0 && (text[s-1] == '.' || text[s-1] == '-' || text[s-1] == '_') {
		return 0, false
	}
	i := s
	for part := 0; part < 4; part++ {
		if part > 0 {
			if i >= n || text[i] != '.' {
				return 0, false
			}
			i++
		}
		j, v := i, 0
		for j < n && j-i < 4 && isDigit(text[j]) {
			v = v*10 + int(text[j]-'0')
			j++
		}
		if j == i || j-i > 3 || v > 255 || (j-i > 1 && text[i] == '0') {
			return 0, false
		}
		i = j
	}
	if i < n && (isAlnum(text[i]) || text[i] == '_' || (text[i] == '.' && i+1 < n && isAlnum(text[i+1]))) {
		return 0, false
	}
	return i, true
}

func isLocalPart(c byte) bool {
	return isAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-'
}

// emailAt finds an e-mail address around the '@' at text[at].
func emailAt(text []byte, at int) (int, int, bool) {
	n := len(text)
	s := at
	for s > 0 && at-s < 64 && isLocalPart(text[s-1]) {
		s--
	}
	for s < at && (text[s] == '.' || text[s] == '-') {
		s++
	}
	if s == at || text[at-1] == '.' {
		return 0, 0, false
	}
	e := at + 1
	for e < n && e-at < 255 && (isAlnum(text[e]) || text[e] == '-' || text[e] == '.') {
		e++
	}
	for e > at+1 && (text[e-1] == '.' || text[e-1] == '-') {
		e--
	}
	dot := -1
	for k := e - 1; k > at; k-- {
		if text[k] == '.' {
			dot = k
			break
		}
	}
	if dot <= at+1 || e-dot-1 < 2 || text[at+1] == '.' || text[at+1] == '-' {
		return 0, 0, false
	}
	for _, c := range text[dot+1 : e] {
		if !isAlpha(c) {
			return 0, 0, false
		}
	}
	return s, e, true
}
