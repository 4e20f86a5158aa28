package dlp

import (
	"bufio"
	"bytes"
	"embed"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

//go:embed data/surnames.txt data/divisions.txt data/icd10.tsv data/medical.txt
var dataFiles embed.FS

// Kinds of dictionary entries.
const (
	kDivision = iota + 1
	kDivisionShort
	kDrug
	kLab
	kDisease
	kNameBefore
	kNameAfter
	kNameASCII
	kNameVerb
)

type entry struct {
	word  string
	kind  uint8
	level uint8 // division level (1–3) or diagnosis sensitivity (3 or 5)
}

// dictionaries is the one-pass detector for names, addresses, drugs and
// prescriptions, lab results and diagnoses. CJK runes are looked up in a
// per-rune bucket table so that text without trigger characters costs one
// table load per rune.
type dictionaries struct {
	name, addr, drug, presc, lab, diag bool

	first    *runeSet       // BMP runes some CJK word starts with
	asciiLen [26][37]uint32 // first letter, second byte → lengths of ASCII words
	pairs    pairTable      // first two runes → entries, longest first
	ascii    map[string]entry
	surname  map[string]int // single and compound surnames → frequency
	stop     map[rune]bool  // runes that end a given name or an address part
	icd      map[string]uint8
	routes   *prefixSet
	units    *prefixSet
	forms    *prefixSet
	suffixes *prefixSet
	strong   map[string]bool
	weak     map[string]bool
	orgAfter *prefixSet
	addrCtx  *wordSet
	diagCtx  *wordSet
}

func readData(name string) ([]string, error) {
	b, err := dataFiles.ReadFile("data/" + name)
	if err != nil {
		return nil, fmt.Errorf("dlp: embedded %s: %w", name, err)
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l != "" && !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	return lines, nil
}

// sensitiveICD reports whether a three-character ICD-10 code is a level-5
// diagnosis: sexually transmitted infections (A50–A64), HIV (B20–B24, Z21),
// mental and behavioural disorders (F01–F99) and abortion (O04).
func sensitiveICD(code string) bool {
	if len(code) != 3 {
		return false
	}
	n, err := strconv.Atoi(code[1:])
	if err != nil {
		return false
	}
	switch code[0] {
	case 'A':
		return n >= 50 && n <= 64
	case 'B':
		return n >= 20 && n <= 24
	case 'F':
		return n >= 1
	case 'Z':
		return n == 21
	case 'O':
		return n == 4
	}
	return false
}

func newDictionaries(on func(string) bool) (*dictionaries, error) {
	d := &dictionaries{
		name: on(TypePersonName), addr: on(TypeAddress), drug: on(TypeDrug), presc: on(TypePrescription),
		lab: on(TypeLabResult), diag: on(TypeDiagnosis),
		ascii: map[string]entry{}, surname: map[string]int{}, stop: map[rune]bool{}, icd: map[string]uint8{},
		strong: map[string]bool{}, weak: map[string]bool{"省": true, "市": true, "区": true, "县": true, "村": true, "镇": true, "乡": true},
	}
	if !d.name && !d.addr && !d.drug && !d.presc && !d.lab && !d.diag {
		return nil, nil
	}
	byPair := map[uint32][]entry{}
	add := func(e entry) {
		r, size := utf8.DecodeRuneInString(e.word)
		if size == 0 {
			return
		}
		if r < utf8.RuneSelf {
			d.ascii[strings.ToLower(e.word)] = e
			return
		}
		r2, size2 := utf8.DecodeRuneInString(e.word[size:])
		if r > 0xFFFF || size != 3 || size2 != 3 || r2 > 0xFFFF {
			return // every CJK word has at least two BMP runes
		}
		k := pairKey(r, r2)
		byPair[k] = append(byPair[k], e)
	}

	sections := map[string][]string{}
	med, err := readData("medical.txt")
	if err != nil {
		return nil, err
	}
	cur := ""
	for _, l := range med {
		if strings.HasPrefix(l, "[") && strings.HasSuffix(l, "]") {
			cur = l[1 : len(l)-1]
			continue
		}
		sections[cur] = append(sections[cur], l)
	}
	d.routes = newPrefixSet(sections["route"], true)
	d.units = newPrefixSet(sections["unit"], false)
	d.suffixes = newPrefixSet(sections["address_suffix"], false)
	d.addrCtx = newWordSet(sections["address_context"])
	d.diagCtx = newWordSet(sections["diagnosis_context"])
	d.orgAfter = newPrefixSet([]string{"人民政府", "政府", "人民法院", "法院", "检察院", "公安", "人大", "政协", "委", "局", "厅", "银行", "分行", "大学", "学院", "总部", "分公司", "公司", "电视台", "日报", "晚报", "卫健委", "卫生"}, false)
	d.forms = newPrefixSet([]string{"缓释片", "控释片", "肠溶片", "分散片", "咀嚼片", "胶囊", "软胶囊", "片", "颗粒", "注射液", "注射剂", "口服液", "糖浆", "软膏", "乳膏", "滴眼液", "气雾剂", "混悬液", "栓"}, false)
	for _, s := range []string{"号", "栋", "幢", "座", "楼", "层", "室", "单元", "号院", "号楼", "弄", "路", "街", "巷", "胡同", "大道", "小区"} {
		d.strong[s] = true
	}
	for _, r := range "的了在是和与及或就都也而但从到向往于对为被把让给等个这那我你他她它们有没不去来说时因入出住男女性岁年月日今昨曾已经由将要会能可将并及称表示认指介告称此其同报道讲问答谈以前后见采访又还则即便" {
		d.stop[r] = true
	}

	if d.drug || d.presc {
		for _, w := range sections["drug"] {
			add(entry{word: w, kind: kDrug})
		}
	}
	if d.lab {
		for _, w := range sections["lab"] {
			add(entry{word: w, kind: kLab})
		}
	}
	if d.diag {
		for _, w := range sections["disease"] {
			add(entry{word: w, kind: kDisease, level: 3})
		}
		for _, w := range sections["disease5"] {
			add(entry{word: w, kind: kDisease, level: 5})
		}
		icd, err := readData("icd10.tsv")
		if err != nil {
			return nil, err
		}
		for _, l := range icd[1:] {
			code, name, ok := strings.Cut(l, "\t")
			if !ok || len(code) != 3 {
				continue
			}
			lvl := uint8(3)
			if sensitiveICD(code) {
				lvl = 5
			}
			d.icd[code] = lvl
			n := utf8.RuneCountInString(name)
			if n >= 2 && n <= 8 && !strings.ContainsAny(name, "，,、和或及的者（(") && !strings.Contains(name, "其他") {
				add(entry{word: name, kind: kDisease, level: lvl})
			}
		}
	}
	if d.name {
		sn, err := readData("surnames.txt")
		if err != nil {
			return nil, err
		}
		for _, l := range sn {
			s, f, _ := strings.Cut(l, "\t")
			n, _ := strconv.Atoi(f)
			d.surname[s] = max(n, 1)
		}
		for _, w := range sections["name_before"] {
			add(entry{word: w, kind: kNameBefore})
		}
		for _, w := range sections["name_after"] {
			add(entry{word: w, kind: kNameAfter})
		}
		for _, w := range sections["name_role"] {
			add(entry{word: w, kind: kNameBefore, level: 1}) // level 1: a role, not a clinical cue
		}
		for _, w := range sections["name_after_verb"] {
			add(entry{word: w, kind: kNameVerb})
		}
		for _, w := range []string{"patient", "name", "mr", "mrs", "ms", "miss", "dr", "doctor", "prof"} {
			add(entry{word: w, kind: kNameASCII})
		}
	}
	if d.addr {
		div, err := readData("divisions.txt")
		if err != nil {
			return nil, err
		}
		seen := map[string]bool{}
		for _, l := range div {
			name, lv, _ := strings.Cut(l, "\t")
			level, _ := strconv.Atoi(lv)
			add(entry{word: name, kind: kDivision, level: uint8(level)})
			seen[name] = true
			if short := shortDivision(name); short != "" && !seen[short] {
				seen[short] = true
				add(entry{word: short, kind: kDivisionShort, level: uint8(level)})
			}
		}
	}
	d.first = &runeSet{}
	for w := range d.ascii {
		if len(w) >= 2 && len(w) <= 24 && w[0]-'a' < 26 {
			if k := wordByte(w[1]); k >= 0 {
				d.asciiLen[w[0]-'a'][k] |= 1 << len(w)
			}
		}
	}
	d.pairs = newPairTable(len(byPair))
	for k, list := range byPair {
		slices.SortStableFunc(list, func(a, b entry) int { return len(b.word) - len(a.word) })
		d.first.add(rune(k >> 16))
		d.pairs.put(k, list)
	}
	return d, nil
}

// pairTable is an open-addressing hash table from a pair of BMP runes to
// dictionary entries; it is several times faster than a Go map on this hot
// path. Key 0 marks an empty slot (no CJK pair has it).
type pairTable struct {
	keys  []uint32
	vals  []int32
	lists [][]entry
	shift uint
}

func newPairTable(n int) pairTable {
	bits := uint(4)
	for 1<<bits < 4*n {
		bits++
	}
	return pairTable{keys: make([]uint32, 1<<bits), vals: make([]int32, 1<<bits), shift: 32 - bits}
}

func (t *pairTable) slot(k uint32) uint32 { return (k * 0x9E3779B1) >> t.shift }

func (t *pairTable) put(k uint32, list []entry) {
	mask := uint32(len(t.keys) - 1)
	h := t.slot(k)
	for t.keys[h] != 0 {
		h = (h + 1) & mask
	}
	t.keys[h] = k
	t.vals[h] = int32(len(t.lists))
	t.lists = append(t.lists, list)
}

func (t *pairTable) get(k uint32) []entry {
	mask := uint32(len(t.keys) - 1)
	for h := t.slot(k); ; h = (h + 1) & mask {
		switch t.keys[h] {
		case k:
			return t.lists[t.vals[h]]
		case 0:
			return nil
		}
	}
}

func pairKey(r1, r2 rune) uint32 { return uint32(r1)<<16 | uint32(r2) }

// bmp3 decodes the three-byte UTF-8 sequence at text[p:] without checks;
// callers know text[p] is a lead byte 0xE0–0xEF and p+3 <= len(text).
func bmp3(text []byte, p int) rune {
	return rune(text[p]&0x0F)<<12 | rune(text[p+1]&0x3F)<<6 | rune(text[p+2]&0x3F)
}

// candidates returns the dictionary entries that may start at text[p:].
func (d *dictionaries) candidates(text []byte, p int) []entry {
	if p+6 > len(text) || text[p] < 0xE0 || text[p] >= 0xF0 || text[p+3] < 0xE0 || text[p+3] >= 0xF0 {
		return nil
	}
	r := bmp3(text, p)
	if !d.first.has(r) {
		return nil
	}
	return d.pairs.get(pairKey(r, bmp3(text, p+3)))
}

// shortDivision returns the common short form of a division name (北京市 →
// 北京, 广西壮族自治区 → 广西), or "" when it would be a single character.
func shortDivision(name string) string {
	for _, suf := range []string{"维吾尔自治区", "壮族自治区", "回族自治区", "特别行政区", "自治区", "自治州", "自治县", "地区", "省", "市", "区", "县"} {
		if s, ok := strings.CutSuffix(name, suf); ok {
			if utf8.RuneCountInString(s) >= 2 {
				return s
			}
			return ""
		}
	}
	return ""
}

// Types implements Detector.
func (d *dictionaries) Types() []string {
	var out []string
	for _, t := range []struct {
		on  bool
		typ string
	}{{d.name, TypePersonName}, {d.addr, TypeAddress}, {d.drug, TypeDrug}, {d.presc, TypePrescription}, {d.lab, TypeLabResult}, {d.diag, TypeDiagnosis}} {
		if t.on {
			out = append(out, t.typ)
		}
	}
	return out
}

// runeSet is a set of BMP runes as a bitset.
type runeSet [0x10000 / 64]uint64

func (s *runeSet) add(r rune)      { s[r>>6] |= 1 << (r & 63) }
func (s *runeSet) has(r rune) bool { return s[r>>6]&(1<<(r&63)) != 0 }

// wordByte returns the index of c as the second byte of an ASCII word
// (letters 0–25, digits 26–35, '-' 36) or -1.
func wordByte(c byte) int {
	c = lower(c)
	switch {
	case c-'a' < 26:
		return int(c - 'a')
	case c-'0' < 10:
		return 26 + int(c-'0')
	case c == '-':
		return 36
	}
	return -1
}

// asciiCandidate reports whether the ASCII word w, starting with a letter,
// may be an ICD-10 code or a key of d.ascii; it rules out most words
// without a map look-up.
func (d *dictionaries) asciiCandidate(w []byte) bool {
	if len(w) == 3 && d.diag && w[0]-'A' < 26 {
		return true
	}
	if len(w) < 2 || len(w) > 24 {
		return false
	}
	k := wordByte(w[1])
	return k >= 0 && d.asciiLen[lower(w[0])-'a'][k]&(1<<len(w)) != 0
}

// Find implements Detector.
func (d *dictionaries) Find(text []byte, emit func(Finding)) {
	var dosed []Finding
	n := len(text)
	i := 0
	for i < n {
		c := text[i]
		if c < utf8.RuneSelf {
			if isAlpha(c) {
				j := i + 1
				for j < n && (isAlnum(text[j]) || text[j] == '-' && j+1 < n && isAlnum(text[j+1])) {
					j++
				}
				if d.asciiCandidate(text[i:j]) {
					if end := d.asciiWord(text, i, j, emit, &dosed); end > j {
						j = end
					}
				}
				i = j
				continue
			}
			i++
			continue
		}
		if c >= 0xE0 && c < 0xF0 && i+2 < n {
			if !d.first.has(bmp3(text, i)) {
				i += 3
				continue
			}
			if list := d.candidates(text, i); list != nil {
				if adv := d.cjk(text, i, list, emit, &dosed); adv > 0 {
					i += adv
					continue
				}
			}
			i += 3
			continue
		}
		i++
	}
	typ := TypeDrug
	if len(dosed) >= 2 {
		typ = TypePrescription
	}
	for _, f := range dosed {
		f.Type = typ
		emit(f)
	}
}

func (d *dictionaries) cjk(text []byte, i int, list []entry, emit func(Finding), dosed *[]Finding) int {
	rest := text[i:]
	for _, e := range list {
		if len(e.word) > len(rest) || string(rest[:len(e.word)]) != e.word {
			continue
		}
		end := i + len(e.word)
		switch e.kind {
		case kDivision, kDivisionShort:
			if f, ok := d.address(text, i, e); ok {
				emit(f)
				return f.End - i
			}
		case kDrug:
			return d.drugAt(text, i, end, emit, dosed) - i
		case kLab:
			if vend, ok := d.labValue(text, end); ok {
				emit(Finding{Type: TypeLabResult, Start: i, End: vend, Confidence: 0.85})
				return vend - i
			}
		case kDisease:
			conf := 0.6
			if hasContext(text, i, d.diagCtx) {
				conf = 0.9
			}
			emit(Finding{Type: TypeDiagnosis, Start: i, End: end, Confidence: conf, Level: int(e.level)})
			return end - i
		case kNameBefore:
			conf := 0.85
			if e.word == "姓名" {
				conf = 0.95
			}
			minFreq := 1
			if e.level == 1 {
				conf, minFreq = 0.7, 100
			}
			if f, ok := d.nameAfterCue(text, end, conf, minFreq); ok {
				emit(f)
				return f.End - i
			}
		case kNameAfter:
			if f, ok := d.nameBeforeCue(text, i); ok {
				emit(f)
			}
		case kNameVerb:
			if f, ok := d.nameBeforeVerb(text, i); ok {
				emit(f)
			}
		}
	}
	return 0
}

// asciiWord handles the ASCII word text[i:j]: ICD-10 codes, lab items and
// drugs in Latin script, and romanized names after a cue.
func (d *dictionaries) asciiWord(text []byte, i, j int, emit func(Finding), dosed *[]Finding) int {
	w := text[i:j]
	if len(w) == 3 && d.diag && w[0] >= 'A' && w[0] <= 'Z' && isDigit(w[1]) && isDigit(w[2]) {
		lvl, ok := d.icd[string(w)]
		if !ok {
			return j
		}
		end, conf := j, 0.45
		if j+1 < len(text) && text[j] == '.' && isDigit(text[j+1]) {
			end = j + 2
			if end < len(text) && isDigit(text[end]) {
				end++
			}
			conf = 0.85
		}
		if hasContext(text, i, d.diagCtx) {
			conf = 0.9
		}
		emit(Finding{Type: TypeDiagnosis, Start: i, End: end, Confidence: conf, Level: int(lvl)})
		return end
	}
	if len(w) < 2 || len(w) > 24 {
		return j
	}
	var buf [24]byte
	for k, c := range w {
		if c-'A' < 26 {
			c += 32
		}
		buf[k] = c
	}
	e, ok := d.ascii[string(buf[:len(w)])]
	if !ok {
		return j
	}
	switch e.kind {
	case kDrug:
		return d.drugAt(text, i, j, emit, dosed)
	case kLab:
		if vend, ok := d.labValue(text, j); ok {
			emit(Finding{Type: TypeLabResult, Start: i, End: vend, Confidence: 0.8})
			return vend
		}
	case kNameASCII:
		if s, end, ok := romanName(text, j, len(w) <= 4); ok {
			emit(Finding{Type: TypePersonName, Start: s, End: end, Confidence: 0.8})
			return end
		}
	}
	return j
}

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

// drugAt reports a drug name text[i:j] with its dosage form, dose, route
// and frequency when they follow; dosed mentions are held back to decide
// whether the text is a prescription.
func (d *dictionaries) drugAt(text []byte, i, j int, emit func(Finding), dosed *[]Finding) int {
	p := j
	if q := d.forms.match(text, p); q > p {
		p = q
	}
	end := p
	q := skipBlank(text, p)
	if v := number(text, q); v > q {
		u := skipBlank(text, v)
		if w := d.units.match(text, u); w > u {
			end = w
			for range 3 {
				r := skipBlank(text, end)
				if r < len(text) && (text[r] == ',' || text[r] == '/') {
					r = skipBlank(text, r+1)
				}
				x := d.routes.match(text, r)
				if x == r {
					break
				}
				end = x
			}
			*dosed = append(*dosed, Finding{Type: TypeDrug, Start: i, End: end, Confidence: 0.9})
			return end
		}
	}
	if d.drug {
		emit(Finding{Type: TypeDrug, Start: i, End: end, Confidence: 0.6})
	}
	return end
}

// labValue finds the value (and unit) after a lab test item ending at p.
func (d *dictionaries) labValue(text []byte, p int) (int, bool) {
	n := len(text)
	q := p
	for k := 0; k < 4 && q < n; k++ {
		switch {
		case text[q] == ' ' || text[q] == ':' || text[q] == '=' || text[q] == '\t':
			q++
		case bytes.HasPrefix(text[q:], []byte("：")), bytes.HasPrefix(text[q:], []byte("为")):
			q += 3
		default:
			k = 4
		}
	}
	if q < n && (text[q] == '<' || text[q] == '>') {
		q++
	}
	v := number(text, q)
	if v == q {
		return 0, false
	}
	end := v
	u := skipBlank(text, v)
	if w := d.units.match(text, u); w > u {
		end = w
	}
	for _, arrow := range []string{"↑", "↓"} {
		if bytes.HasPrefix(text[end:], []byte(arrow)) {
			end += len(arrow)
		}
	}
	return end, true
}

// address extends a division name at text[i:] with further divisions and
// road, number, building and room parts.
func (d *dictionaries) address(text []byte, i int, first entry) (Finding, bool) {
	p := i + len(first.word)
	divs, parts, strong := 1, 0, false
	for range 12 {
		if q := d.divisionAt(text, p); q > p {
			p = q
			divs++
			continue
		}
		if q, s := d.component(text, p); q > p {
			p = q
			parts++
			strong = strong || s
			continue
		}
		break
	}
	if parts == 0 && d.orgAfter.match(text, p) > p {
		return Finding{}, false // 北京市人民政府, 广东省公安厅: an organisation
	}
	var conf float64
	switch {
	case strong:
		conf = 0.85
	case parts > 0 || divs > 1:
		conf = 0.7
	case first.kind == kDivisionShort && first.level > 1:
		return Finding{}, false // a bare city or county short form (朝阳, 海淀) is too ambiguous
	case first.kind == kDivision:
		conf = 0.45
	default:
		conf = 0.4
	}
	if hasContext(text, i, d.addrCtx) {
		conf = min(0.95, conf+0.2)
	}
	return Finding{Type: TypeAddress, Start: i, End: p, Confidence: conf}, true
}

func (d *dictionaries) divisionAt(text []byte, p int) int {
	rest := text[p:]
	for _, e := range d.candidates(text, p) {
		if (e.kind == kDivision || e.kind == kDivisionShort) && len(e.word) <= len(rest) && string(rest[:len(e.word)]) == e.word {
			return p + len(e.word)
		}
	}
	return p
}

// component matches one address part at p: up to ten CJK characters,
// digits or letters ending in an address suffix (路, 号, 室 …). It reports
// the end and whether the suffix is street-level or finer.
func (d *dictionaries) component(text []byte, p int) (int, bool) {
	q := p
	for k := 0; k < 10 && q < len(text); k++ {
		if k > 0 {
			if e := d.suffixes.match(text, q); e > q {
				// 城市, 地区, 一村: a one-character stem before a
				// division suffix is an ordinary word.
				if k == 1 && d.weak[string(text[q:e])] {
					return p, false
				}
				return e, d.strong[string(text[q:e])]
			}
		}
		c := text[q]
		switch {
		case isAlnum(c) || c == '-' || c == '#':
			q++
		case c >= 0xE0 && c < 0xF0:
			r, size := utf8.DecodeRune(text[q:])
			if size != 3 || r < 0x4E00 || r > 0x9FFF || d.stop[r] {
				return p, false
			}
			q += 3
		default:
			return p, false
		}
	}
	return p, false
}

// nameAfterCue finds a Chinese (or romanized) name right after a cue such as
// 姓名： or 患者.
func (d *dictionaries) nameAfterCue(text []byte, p int, conf float64, minFreq int) (Finding, bool) {
	for k := 0; k < 3 && p < len(text); k++ {
		switch {
		case text[p] == ' ' || text[p] == ':' || text[p] == '\t':
			p++
		case bytes.HasPrefix(text[p:], []byte("：")), bytes.HasPrefix(text[p:], []byte("　")):
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
	runes, ends := d.runesAt(text, p, 4)
	sl := 0
	if len(runes) >= 2 && d.surname[string(runes[:2])] >= minFreq {
		sl = 2
	} else if len(runes) >= 1 && d.surname[string(runes[:1])] >= minFreq {
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
		f := d.surname[string(runes[m])]
		if m >= 1 {
			f = max(f, d.surname[string([]rune{runes[m], runes[m-1]})])
		}
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
		runes, _ := d.runesAt(text, s, l)
		if len(runes) != l {
			continue
		}
		stop := false
		for _, r := range runes[1:] {
			stop = stop || d.stop[r]
		}
		if stop || d.surname[string(runes[:1])] < 100 {
			continue
		}
		return Finding{Type: TypePersonName, Start: s, End: i, Confidence: 0.6}, true
	}
	return Finding{}, false
}

// runesAt decodes up to max CJK runes at p and their end offsets.
func (d *dictionaries) runesAt(text []byte, p, limit int) ([]rune, []int) {
	var runes []rune
	var ends []int
	for len(runes) < limit && p < len(text) {
		r, size := utf8.DecodeRune(text[p:])
		if size != 3 || r < 0x3400 || r > 0x9FFF {
			break
		}
		p += size
		runes = append(runes, r)
		ends = append(ends, p)
	}
	return runes, ends
}

func skipBlank(text []byte, p int) int {
	for p < len(text) && (text[p] == ' ' || text[p] == '\t') {
		p++
	}
	return p
}

// number matches a decimal number at p and returns its end (p if none).
func number(text []byte, p int) int {
	q := p
	for q < len(text) && isDigit(text[q]) {
		q++
	}
	if q > p && q+1 < len(text) && text[q] == '.' && isDigit(text[q+1]) {
		q++
		for q < len(text) && isDigit(text[q]) {
			q++
		}
	}
	return q
}

// prefixSet matches the longest of a set of words at a position; words
// are indexed by first byte. With fold, ASCII words match case-insensitively
// and must not continue with a letter (so "st" does not match "stop").
type prefixSet struct {
	byFirst [256][]string
	fold    bool
}

func newPrefixSet(words []string, fold bool) *prefixSet {
	ps := &prefixSet{fold: fold}
	for _, w := range words {
		if w == "" {
			continue
		}
		if fold {
			w = strings.ToLower(w)
		}
		ps.byFirst[w[0]] = append(ps.byFirst[w[0]], w)
		if fold && isAlpha(w[0]) {
			ps.byFirst[w[0]-32] = append(ps.byFirst[w[0]-32], w)
		}
	}
	for i := range ps.byFirst {
		slices.SortStableFunc(ps.byFirst[i], func(a, b string) int { return len(b) - len(a) })
	}
	return ps
}

// match returns the end of the longest word found at p, or p.
func (ps *prefixSet) match(text []byte, p int) int {
	if p >= len(text) {
		return p
	}
	for _, w := range ps.byFirst[text[p]] {
		if len(w) > len(text)-p {
			continue
		}
		got := text[p : p+len(w)]
		if ps.fold && w[0] < utf8.RuneSelf {
			if !strings.EqualFold(string(got), w) {
				continue
			}
			if e := p + len(w); e < len(text) && isAlpha(text[e]) {
				continue
			}
			return p + len(w)
		}
		if string(got) == w {
			return p + len(w)
		}
	}
	return p
}
