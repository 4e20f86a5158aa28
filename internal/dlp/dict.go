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

//go:embed data/surnames.txt data/divisions.txt data/icd10.tsv data/medical.txt data/names.txt data/places.txt
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
	kAddrCue
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

	first    []uint8 // rune (BMP) → firstPair, firstName flags
	names    *nameTables
	asciiLen [26][37]uint32 // first letter, second byte → lengths of ASCII words
	pairs    pairTable      // first two runes → entries, longest first
	ascii    map[string]entry
	surname  map[string]int // single and compound surnames → frequency
	stop     map[rune]bool  // runes that end a given name or an address part
	icd      map[string]uint8
	routes   *prefixSet
	units    *prefixSet
	forms    *prefixSet
	salts    *prefixSet // after a drug name: 钠, 钙, 酯
	saltPre  []string   // before a drug name: 盐酸, 注射用; longest first
	mixed    *prefixSet // lab items and diseases in Latin then Chinese script: C反应蛋白, HIV感染
	diseaseQ []string   // before a disease name: 慢性, 萎缩性; longest first
	diseaseS *prefixSet // after a disease name: 急性加重
	suffixes *prefixSet
	strong   map[string]bool
	weak     map[string]bool
	orgAfter *prefixSet
	hospital *prefixSet
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
	// The words that end the names of hospitals and health institutions.
	d.hospital = newPrefixSet([]string{"医院", "保健院", "卫生院", "卫生中心", "疾控中心", "疾病预防控制中心", "急救中心", "血液中心", "医科大学", "医学院"}, false)
	d.forms = newPrefixSet(sections["drug_form"], false)
	d.salts = newPrefixSet(sections["drug_salt"], false)
	d.saltPre = longestFirst(sections["drug_salt_prefix"])
	d.diseaseQ = longestFirst(sections["disease_qualifier"])
	d.diseaseS = newPrefixSet(sections["disease_suffix"], false)
	var mixed []string
	for _, sec := range []string{"lab", "disease", "disease5"} {
		for _, w := range sections[sec] {
			if w[0] < utf8.RuneSelf && !isASCII(w) {
				mixed = append(mixed, w) // looked up in d.ascii by asciiWord
			}
		}
	}
	d.mixed = newPrefixSet(mixed, false)
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
			// Chapter R names symptoms and signs (咳嗽, 头痛), written in
			// every chief complaint; only its codes count as diagnoses.
			n := utf8.RuneCountInString(name)
			if code[0] != 'R' && n >= 2 && n <= 8 && !strings.ContainsAny(name, "，,、和或及的者（(") && !strings.Contains(name, "其他") {
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
			n, _ := strconv.ParseFloat(f, 64)
			d.surname[s] = max(int(n), 1)
		}
		for _, w := range sections["name_before"] {
			add(entry{word: w, kind: kNameBefore})
		}
		for _, w := range sections["name_after"] {
			add(entry{word: w, kind: kNameAfter})
		}
		// Roles before a name (记者, 教练) are context of nameAt, in
		// data/names.txt.
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
		for _, w := range addressCues() {
			add(entry{word: w, kind: kAddrCue})
		}
		places, err := readData("places.txt")
		if err != nil {
			return nil, err
		}
		seen := map[string]bool{}
		for _, l := range places {
			seen[l] = true
			add(entry{word: l, kind: kDivisionShort}) // level 0: a country or foreign city
		}
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
	d.first = make([]uint8, 0x10000)
	if d.name {
		if err := d.loadNames(d.first); err != nil {
			return nil, err
		}
	}
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
		d.first[k>>16] |= firstPair
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
	if d.first[r]&firstPair == 0 {
		return nil
	}
	return d.pairs.get(pairKey(r, bmp3(text, p+3)))
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
		if c == 0xC2 && i+1 < n && text[i+1] == 0xB7 && d.name {
			i = d.foreignAt(text, i, 2, emit) // 约翰·摩尔
			continue
		}
		if c < utf8.RuneSelf {
			if isAlpha(c) {
				j := i + 1
				for j < n && (isAlnum(text[j]) || text[j] == '-' && j+1 < n && isAlnum(text[j+1])) {
					j++
				}
				// A word running into CJK text or '-' may be a mixed term
				// (C反应蛋白, D-二聚体, HIV感染) that no ASCII filter knows.
				if d.asciiCandidate(text[i:j]) || j < n && (text[j] >= utf8.RuneSelf || text[j] == '-') {
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
			fl := d.first[bmp3(text, i)]
			if fl == 0 {
				i += 3
				continue
			}
			if list := d.candidates(text, i); list != nil {
				if adv := d.cjk(text, i, list, emit, &dosed); adv > 0 {
					i += adv
					continue
				}
			}
			if fl&firstName != 0 {
				if end := d.nameAt(text, i, emit); end > i {
					i = end
					continue
				}
			}
			i += 3
			continue
		}
		i++
	}
	if d.name {
		hl7Names(text, emit)
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
			return d.diseaseAt(text, i, end, e, emit) - i
		case kNameBefore:
			conf := 0.85
			if e.word == "姓名" {
				conf = 0.95
			}
			if f, ok := d.nameAfterCue(text, end, conf); ok {
				emit(f)
				return f.End - i
			}
		case kNameAfter:
			if f, ok := d.nameBeforeCue(text, i); ok {
				emit(f)
			}
		case kAddrCue:
			if f, ok := d.addressAfterCue(text, end); ok {
				emit(f)
				return f.End - i
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
	if j < len(text) && (text[j] >= utf8.RuneSelf || text[j] == '-') { // C反应蛋白, D-二聚体, HIV感染
		if k := d.mixed.match(text, i); k > j {
			switch e := d.ascii[strings.ToLower(string(text[i:k]))]; e.kind {
			case kLab:
				if vend, ok := d.labValue(text, k); ok {
					emit(Finding{Type: TypeLabResult, Start: i, End: vend, Confidence: 0.85})
					return vend
				}
			case kDisease:
				return d.diseaseAt(text, i, k, e, emit)
			}
		}
	}
	if len(w) == 3 && d.diag && (i == 0 || !isAlnum(text[i-1])) && w[0] >= 'A' && w[0] <= 'Z' && isDigit(w[1]) && isDigit(w[2]) {
		if hl7Event(text, i) {
			return j // ADT^A01: an HL7 message type's trigger event
		}
		lvl, ok := d.icd[string(w)]
		if !ok {
			return j
		}
		end, conf := j, 0.45
		switch k := icdSubdivision(text, j); {
		case k < 0:
			return j
		case k > j:
			end, conf = k, 0.85
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
		// patient=夏文, name: 王芳: a Chinese name after a Latin cue.
		if f, ok := d.nameAfterCue(text, j, 0.8); ok && text[f.Start] >= utf8.RuneSelf {
			emit(f)
			return f.End
		}
	}
	return j
}

// drugAt reports a drug name text[i:j] with its dosage form, dose, route
// and frequency when they follow; dosed mentions are held back to decide
// whether the text is a prescription.
func (d *dictionaries) drugAt(text []byte, i, j int, emit func(Finding), dosed *[]Finding) int {
	if pre := suffixIn(text[:i], d.saltPre); pre != "" {
		i -= len(pre) // 盐酸二甲双胍, 注射用头孢曲松钠
	}
	p := d.salts.match(text, j) // 头孢曲松钠, 阿托伐他汀钙片
	p = d.forms.match(text, p)
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

// diseaseAt reports the disease name text[i:j] of entry e with the
// qualifiers written before it (慢性胃炎, 2型糖尿病, 慢性萎缩性胃炎) and
// the course or stage after it (急性加重, 5期, Ⅱ期).
func (d *dictionaries) diseaseAt(text []byte, i, j int, e entry, emit func(Finding)) int {
	start := i
	for range 3 {
		if q := suffixIn(text[:start], d.diseaseQ); q != "" {
			start -= len(q)
			continue
		}
		if t := typePrefix(text[:start]); t > 0 {
			start -= t
			continue
		}
		break
	}
	end := j
	if k := d.diseaseS.match(text, end); k > end {
		end = k
	}
	if k := stage(text, end); k > end {
		end = k
	}
	conf := 0.6
	if hasContext(text, start, d.diagCtx) {
		conf = 0.9
	}
	emit(Finding{Type: TypeDiagnosis, Start: start, End: end, Confidence: conf, Level: int(e.level)})
	return end
}

// romanNumerals are the numerals of disease types and stages (Ⅱ型, Ⅲ期).
var romanNumerals = []string{"Ⅰ", "Ⅱ", "Ⅲ", "Ⅳ", "Ⅴ"}

// typePrefix returns the length of a disease type such as 2型, Ⅱ型 or II型
// at the end of b, or 0.
func typePrefix(b []byte) int {
	const xing = "型"
	if !bytes.HasSuffix(b, []byte(xing)) {
		return 0
	}
	n := numeral(b[:len(b)-len(xing)])
	if n == 0 {
		return 0
	}
	return n + len(xing)
}

// numeral returns the length of the one- or two-digit Arabic, Roman
// (II) or Unicode Roman (Ⅱ) numeral at the end of b, or 0. The numeral
// must not continue a longer ASCII word or number.
func numeral(b []byte) int {
	for _, r := range romanNumerals {
		if bytes.HasSuffix(b, []byte(r)) {
			return len(r)
		}
	}
	k := len(b)
	for k > 0 && len(b)-k < 3 && (isDigit(b[k-1]) || b[k-1] == 'I' || b[k-1] == 'V') {
		k--
	}
	if k == len(b) || k > 0 && isAlnum(b[k-1]) {
		return 0
	}
	return len(b) - k
}

// stage returns the end of a disease stage such as 5期, Ⅲ期 or 3级 at p,
// or p.
func stage(text []byte, p int) int {
	q := p
	for _, r := range romanNumerals {
		if bytes.HasPrefix(text[q:], []byte(r)) {
			q += len(r)
			break
		}
	}
	if q == p {
		for q < len(text) && q-p < 2 && isDigit(text[q]) {
			q++
		}
		if q == p || q < len(text) && isDigit(text[q]) {
			return p
		}
	}
	for _, w := range []string{"期", "级"} {
		if bytes.HasPrefix(text[q:], []byte(w)) {
			return q + len(w)
		}
	}
	return p
}

// suffixIn returns the longest of words (sorted longest first) that b ends
// with, or "".
func suffixIn(b []byte, words []string) string {
	for _, w := range words {
		if len(w) <= len(b) && string(b[len(b)-len(w):]) == w {
			return w
		}
	}
	return ""
}

// longestFirst returns words sorted by decreasing length.
func longestFirst(words []string) []string {
	out := slices.Clone(words)
	slices.SortStableFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// icdSubdivision returns the end of the subdivision after a three-character
// ICD-10 code ending at p: ".9", ".90", the national clinical extension
// ".900" or ".900x001", and ".x00x002" for a category without subdivision;
// p if there is none, -1 if the code runs into a longer token (E11.9a).
func icdSubdivision(text []byte, p int) int {
	if p+1 >= len(text) || text[p] != '.' || !isDigit(text[p+1]) && text[p+1] != 'x' {
		return p
	}
	q := p + 1
	for q < len(text) && q-p <= 3 && (isDigit(text[q]) || q == p+1 && text[q] == 'x') {
		q++
	}
	if q == p+2 && text[p+1] == 'x' {
		return p // a lone ".x"
	}
	if q+4 <= len(text) && text[q] == 'x' && isDigit(text[q+1]) && isDigit(text[q+2]) && isDigit(text[q+3]) {
		q += 4
	}
	if q < len(text) && isAlnum(text[q]) {
		return -1
	}
	return q
}
