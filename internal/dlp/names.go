package dlp

import (
	"bytes"
	"strings"
	"unicode/utf8"
)

// romanName finds one to three capitalised words after a cue such as
// "Patient:" or "Mr."; one word is enough after a title.
func romanName(text []byte, p int, title bool) (int, int, bool) {
	n := len(text)
	k := 0
	for p < n && k < 3 && (text[p] == ' ' || text[p] == ':' || text[p] == '.') {
		p++
		k++
	}
	s := p
	words, end := 0, p
	for words < 3 && p < n && text[p] >= 'A' && text[p] <= 'Z' {
		q := p + 1
		for q < n && (text[q] >= 'a' && text[q] <= 'z' || text[q] >= 'A' && text[q] <= 'Z') {
			q++
		}
		if q-p < 2 || q < n && isDigit(text[q]) {
			break
		}
		words++
		end = q
		if q+1 < n && text[q] == ' ' && text[q+1] >= 'A' && text[q+1] <= 'Z' {
			p = q + 1
			continue
		}
		break
	}
	if words >= 2 || words == 1 && title {
		return s, end, true
	}
	return 0, 0, false
}

// nameAfterCue finds a Chinese (or romanized) name right after a cue such as
// 姓名： or 患者.
func (d *dictionaries) nameAfterCue(text []byte, p int, conf float64) (Finding, bool) {
	field := false // a separator follows the cue: 姓名：王子军 is a form field
	for k := 0; k < 3 && p < len(text); k++ {
		switch {
		case text[p] == ':' || text[p] == '=':
			p++
			field = true
		case text[p] == ' ' || text[p] == '\t':
			p++
		case bytes.HasPrefix(text[p:], []byte("：")):
			p += 3
			field = true
		case bytes.HasPrefix(text[p:], []byte("　")):
			p += 3
		default:
			k = 3
		}
	}
	if p < len(text) && text[p] >= 'A' && text[p] <= 'Z' {
		if s, end, ok := romanName(text, p, false); ok {
			return Finding{Type: TypePersonName, Start: s, End: end, Confidence: conf - 0.1}, true
		}
		return Finding{}, false
	}
	rs := runesAt(text, p, 4)
	runes, ends := rs.r[:rs.n], rs.end[:rs.n]
	if len(runes) >= 2 && d.names.roleBefore[string(text[p:ends[1]])] {
		return Finding{}, false // 患者家属李秀兰: the name follows the role
	}
	sl := 0
	if len(runes) >= 2 && d.surname[string(text[p:ends[1]])] > 0 {
		sl = 2
	} else if len(runes) >= 1 && d.surname[string(text[p:ends[0]])] > 0 {
		sl = 1
	}
	if sl == 0 {
		return Finding{}, false
	}
	g := 0
	for g < 2 && sl+g < len(runes) && !d.stop[runes[sl+g]] {
		g++
	}
	if g == 0 {
		return Finding{}, false
	}
	// 患者罗英自2024-11-23起: 自 or 从 after one given-name character
	// starts the next phrase.
	if g == 2 && (runes[sl+1] == '自' || runes[sl+1] == '从') {
		g = 1
	}
	// 患者自述头痛, 医师查房: after a cue, the given name must be made of
	// given-name characters unless punctuation or a title follows it.
	for k := sl; k < sl+g; k++ {
		if d.names.givenTier(runes[k]) == 0 && d.names.rightContext(text, ends[sl+g-1]) < ctxBound {
			return Finding{}, false
		}
	}
	// 患者高度怀疑: a word, not a name; in a form field (姓名：王子军, 审核者：
	// 朱红) the value is the name even when it is also a word.
	if !field && (d.names.notName[string(text[p:ends[min(1, sl+g-1)]])] || d.names.notName[string(text[p:ends[sl+g-1]])]) {
		return Finding{}, false
	}
	return Finding{Type: TypePersonName, Start: p, End: ends[sl+g-1], Confidence: conf}, true
}

// nameBeforeCue finds a name right before a cue such as 先生 or 医生
// (王先生, 李小明医生), choosing the most frequent surname among the
// possible starts.
func (d *dictionaries) nameBeforeCue(text []byte, i int) (Finding, bool) {
	var starts [4]int
	var runes [4]rune
	k, p := 0, i
	for k < 3 && p >= 3 {
		r, size := utf8.DecodeLastRune(text[:p])
		if size != 3 || r < 0x4E00 || r > 0x9FFF || d.stop[r] {
			break
		}
		p -= 3
		runes[k], starts[k] = r, p
		k++
	}
	// A surname alone (王先生) does not identify anyone: start at m = 1.
	best, bestFreq := -1, 49
	for m := 1; m < k; m++ {
		f := max(d.surname[string(text[starts[m]:starts[m]+3])], d.surname[string(text[starts[m]:starts[m-1]+3])])
		if f > bestFreq || f == bestFreq && f > 0 {
			best, bestFreq = m, f
		}
	}
	if best < 0 {
		return Finding{}, false
	}
	return Finding{Type: TypePersonName, Start: starts[best], End: i, Confidence: 0.8}, true
}

// nameBeforeVerb finds a two- or three-character name (common surname plus
// given name) before a reporting verb such as 表示 or 认为, when the name
// starts right after punctuation, a space or the start of the text.
func (d *dictionaries) nameBeforeVerb(text []byte, i int) (Finding, bool) {
	for _, l := range []int{3, 2} {
		s := i - 3*l
		if s < 0 {
			continue
		}
		if s > 0 {
			r, _ := utf8.DecodeLastRune(text[:s])
			if r >= 0x3400 && r <= 0x9FFF {
				continue
			}
		}
		rs := runesAt(text, s, l)
		runes := rs.r[:rs.n]
		if len(runes) != l {
			continue
		}
		stop := false
		for _, r := range runes[1:] {
			stop = stop || d.stop[r]
		}
		if stop || d.surname[string(text[s:s+3])] < 100 {
			continue
		}
		return Finding{Type: TypePersonName, Start: s, End: i, Confidence: 0.6}, true
	}
	return Finding{}, false
}

// Flags of dictionaries.first: which scans a rune may start.
const (
	firstPair uint8 = 1 << iota // some dictionary word starts with the rune
	firstName                   // a surname starts with the rune
)

// Left and right context classes of a name candidate, weakest first.
const (
	ctxNone  = iota // inside running text
	ctxWeak         // a function character (和, 被 / 的, 在)
	ctxBound        // punctuation, a space, a digit or the edge of the text
	ctxCue          // a role or title before, a title or reporting verb after
)

// nameTables holds the tables of the surname-triggered name scan; see
// data/names.txt. Per-rune flags and surname frequencies are slices indexed
// by BMP rune so that the scan costs table loads, not map look-ups, until a
// candidate has passed the cheap tests.
type nameTables struct {
	char       []uint8  // BMP rune → ch* flags
	freq       []uint16 // BMP rune → frequency of the single surname
	notName    map[string]bool
	roleBefore map[string]bool
	cueAfter   map[string]bool
}

// Flags of nameTables.char.
const (
	chGivenCommon uint8 = 1 << iota // frequent in given names
	chGiven                         // occurs in given names
	chRoleEnd                       // ends a role word (记者, 主任)
	chCueStart                      // starts a title or reporting verb (先生, 表示)
	chWeakBefore                    // a function character before a name (和, 被)
	chWeakAfter                     // a function character after a name (的, 在)
	chCompound                      // starts a compound surname (欧阳, 司马)
	chTranslit                      // occurs in transliterated foreign names
)

// givenTier returns 2 for a frequent given-name character, 1 for one that
// occurs in given names, 0 otherwise.
func (nt *nameTables) givenTier(r rune) int {
	switch c := nt.char[r]; {
	case c&chGivenCommon != 0:
		return 2
	case c&chGiven != 0:
		return 1
	}
	return 0
}

// minSurnameFreq is the frequency (per 10,000 people) from which a single
// surname triggers a name scan without a cue.
const minSurnameFreq = 20

// loadNames reads data/names.txt and flags the surname start runes in first.
func (d *dictionaries) loadNames(first []uint8) error {
	lines, err := readData("names.txt")
	if err != nil {
		return err
	}
	nt := &nameTables{
		char: make([]uint8, 0x10000), freq: make([]uint16, 0x10000),
		notName: map[string]bool{}, roleBefore: map[string]bool{}, cueAfter: map[string]bool{},
	}
	flag := func(r rune, f uint8) {
		if r <= 0xFFFF {
			nt.char[r] |= f
		}
	}
	cur := ""
	for _, l := range lines {
		if strings.HasPrefix(l, "[") && strings.HasSuffix(l, "]") {
			cur = l[1 : len(l)-1]
			continue
		}
		for _, r := range l {
			switch cur {
			case "given_common_chars":
				flag(r, chGivenCommon|chGiven)
			case "given_chars":
				flag(r, chGiven)
			case "weak_before":
				flag(r, chWeakBefore)
			case "weak_after":
				flag(r, chWeakAfter)
			case "translit_chars":
				flag(r, chTranslit)
			}
		}
		switch cur {
		case "not_name":
			nt.notName[l] = true
		case "role_before":
			nt.roleBefore[l] = true
			r, _ := utf8.DecodeLastRuneInString(l)
			flag(r, chRoleEnd)
		case "cue_after":
			nt.cueAfter[l] = true
			r, _ := utf8.DecodeRuneInString(l)
			flag(r, chCueStart)
		}
	}
	for s, f := range d.surname {
		r, size := utf8.DecodeRuneInString(s)
		if r > 0xFFFF || size != 3 {
			continue
		}
		if len(s) > size {
			flag(r, chCompound)
			first[r] |= firstName
			continue
		}
		nt.freq[r] = uint16(min(f, 0xFFFF))
		if f >= minSurnameFreq {
			first[r] |= firstName
		}
	}
	for _, r := range "•・" {
		first[r] |= firstName // the separators of foreign names
	}
	d.names = nt
	return nil
}

// foreignAt looks for a transliterated foreign name around the separator
// text[dot:dot+size] (·, • or ・): transliteration characters on both sides,
// as in 约翰·摩尔 or 格洛丽亚·斯图尔特, with up to three parts. It returns
// the end of the name, or dot+size.
func (d *dictionaries) foreignAt(text []byte, dot, size int, emit func(Finding)) int {
	nt := d.names
	start, left := dot, 0
	for start >= 3 && left <= 6 {
		r, sz := utf8.DecodeLastRune(text[:start])
		if sz != 3 || r > 0xFFFF || nt.char[r]&chTranslit == 0 {
			break
		}
		start -= 3
		left++
	}
	if left == 0 || left > 6 {
		return dot + size
	}
	end, parts, total := dot+size, 1, left
	for parts < 3 {
		k := 0
		for k < 7 && end+3 <= len(text) {
			r := bmp3(text, end)
			if text[end] < 0xE0 || text[end] >= 0xF0 || nt.char[r]&chTranslit == 0 {
				break
			}
			end += 3
			k++
		}
		if k == 0 || k > 6 {
			return dot + size
		}
		parts++
		total += k
		next := 0
		switch {
		case end+2 <= len(text) && text[end] == 0xC2 && text[end+1] == 0xB7:
			next = 2
		case end+3 <= len(text) && (string(text[end:end+3]) == "•" || string(text[end:end+3]) == "・"):
			next = 3
		}
		if next == 0 || end+next+3 > len(text) || nt.char[bmp3(text, end+next)&0xFFFF]&chTranslit == 0 || text[end+next] < 0xE0 || text[end+next] >= 0xF0 {
			break
		}
		end += next
	}
	if total < 3 {
		return dot + size
	}
	emit(Finding{Type: TypePersonName, Start: start, End: end, Confidence: 0.75})
	return end
}

// cjkRune reports whether r is a CJK unified ideograph.
func cjkRune(r rune) bool { return r >= 0x3400 && r <= 0x9FFF }

// nameAt looks for a Chinese name (surname plus one or two given-name
// characters) starting at text[i], a rune flagged firstName. It weighs the
// given-name characters and the context on both sides: a role before (记者,
// 主任) or a title or reporting verb after (先生, 表示) makes a name at 0.8;
// text boundaries or function characters on both sides and common given-name
// characters make one at 0.5–0.55. It returns the end of the name, or i.
func (d *dictionaries) nameAt(text []byte, i int, emit func(Finding)) int {
	nt := d.names
	if r := bmp3(text, i); r == '•' || r == '・' {
		return d.foreignAt(text, i, 3, emit)
	}
	var runes [4]rune
	var ends [4]int
	n, p := 0, i
	for n < 4 && p+3 <= len(text) && text[p] >= 0xE0 && text[p] < 0xF0 {
		r := bmp3(text, p)
		if !cjkRune(r) {
			break
		}
		p += 3
		runes[n], ends[n] = r, p
		n++
	}
	if n < 2 {
		return i
	}
	sl, freq := 1, int(nt.freq[runes[0]])
	if n >= 3 && nt.char[runes[0]]&chCompound != 0 && d.surname[string(text[i:ends[1]])] > 0 {
		sl, freq = 2, d.surname[string(text[i:ends[1]])]
	} else if freq < minSurnameFreq {
		return i
	}
	if d.stop[runes[sl]] {
		return i
	}
	lc := nt.leftContext(text, i)
	if lc == ctxCue {
		// 主帅鲁滕, 主教练科比什利: a transliterated name after a role.
		e := i
		for e+3 <= len(text) && e-i < 21 && text[e] >= 0xE0 && text[e] < 0xF0 && nt.char[bmp3(text, e)]&chTranslit != 0 {
			e += 3
		}
		if e-i >= 9 && e-i <= 18 && nt.rightContext(text, e) >= ctxBound {
			emit(Finding{Type: TypePersonName, Start: i, End: e, Confidence: 0.75})
			return e
		}
	}
	best, bestRC, bestEnd := 0.0, -1, i
	for gl := 2; gl >= 1; gl-- {
		k := sl + gl
		if k > n || d.stop[runes[k-1]] {
			continue
		}
		end := ends[k-1]
		rc := nt.rightContext(text, end)
		g1, g2 := nt.givenTier(runes[sl]), nt.givenTier(runes[k-1])
		q := g1
		if gl == 2 {
			q += g2
		}
		known := g1 > 0 && g2 > 0
		conf := 0.0
		switch {
		case lc == ctxCue && rc >= ctxBound:
			// Between a role and a title, verb or punctuation any
			// characters make the given name (主任郭田勇告诉).
			conf = 0.85
		case lc == ctxCue && known:
			conf = 0.8
			if rc == ctxNone && gl == 1 {
				conf = 0 // 记者王强调查: the name is longer or not one
			}
		case lc == ctxCue && gl == 2 && freq >= 100:
			conf = 0.7 // 记者何丰伦孟昭丽: a common surname and two characters after a role
		case rc == ctxCue && lc == ctxBound:
			conf = 0.8 // ，谢永福介绍
		case rc == ctxCue && known && lc >= ctxWeak:
			conf = 0.8
		case rc == ctxCue && lc == ctxNone && gl == 2 && q >= 3 && freq >= 100:
			conf = 0.6 // 中心刘宏告诉; the start is less certain
		case known && lc >= ctxWeak && rc >= ctxWeak && lc+rc >= 3 && (gl == 2 && (q >= 3 || lc+rc == 4) || sl == 2 || gl == 1 && q == 2 && lc+rc == 4):
			conf = 0.55
		case known && lc == ctxWeak && rc == ctxWeak && gl == 2 && q >= 3 && freq >= 100:
			conf = 0.5
		}
		if conf > 0 && (rc > bestRC || rc == bestRC && conf > best) && !nt.notName[string(text[i:end])] {
			best, bestRC, bestEnd = conf, rc, end
		}
	}
	if best == 0 || nt.notName[string(text[i:ends[1]])] {
		return i
	}
	// 主任李成: the surname character ends a role word before it.
	if nt.char[runes[0]]&chRoleEnd != 0 {
		for k := 1; k <= 3; k++ {
			if s := i - 3*k; s >= 0 && nt.roleBefore[string(text[s:i+3])] {
				return i
			}
		}
	}
	emit(Finding{Type: TypePersonName, Start: i, End: bestEnd, Confidence: best})
	return bestEnd
}

// leftContext classifies what precedes a name candidate at i.
func (nt *nameTables) leftContext(text []byte, i int) int {
	if i == 0 {
		return ctxBound
	}
	r, _ := utf8.DecodeLastRune(text[:i])
	if !cjkRune(r) {
		return ctxBound
	}
	c := nt.char[r]
	if c&chRoleEnd != 0 {
		for k := 5; k >= 2; k-- {
			if s := i - 3*k; s >= 0 && nt.roleBefore[string(text[s:i])] {
				return ctxCue
			}
		}
	}
	if c&chWeakBefore != 0 {
		return ctxWeak
	}
	return ctxNone
}

// rightContext classifies what follows a name candidate ending at e.
func (nt *nameTables) rightContext(text []byte, e int) int {
	if e >= len(text) {
		return ctxBound
	}
	r, _ := utf8.DecodeRune(text[e:])
	if !cjkRune(r) {
		return ctxBound
	}
	c := nt.char[r]
	if c&chCueStart != 0 {
		for k := 2; k >= 1; k-- {
			if f := e + 3*k; f <= len(text) && nt.cueAfter[string(text[e:f])] {
				return ctxCue
			}
		}
	}
	if c&chWeakAfter != 0 {
		return ctxWeak
	}
	return ctxNone
}

// cjkRunes holds up to four CJK runes decoded at a position and their end
// offsets, without allocating.
type cjkRunes struct {
	r   [4]rune
	end [4]int
	n   int
}

// runesAt decodes up to limit (at most four) CJK runes at p.
func runesAt(text []byte, p, limit int) cjkRunes {
	var rs cjkRunes
	for rs.n < min(limit, 4) && p < len(text) {
		r, size := utf8.DecodeRune(text[p:])
		if size != 3 || !cjkRune(r) {
			break
		}
		p += size
		rs.r[rs.n], rs.end[rs.n] = r, p
		rs.n++
	}
	return rs
}
