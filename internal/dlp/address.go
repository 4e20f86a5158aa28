package dlp

import (
	"bytes"
	"strings"
	"unicode/utf8"
)

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
	if parts == 0 && d.orgAhead(text, p) {
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
	case first.level == 0:
		conf = 0.3 // a country or foreign city alone
	case first.kind == kDivision:
		conf = 0.45
	default:
		conf = 0.4
	}
	if hasContext(text, i, d.addrCtx) {
		conf = min(0.95, conf+0.2)
	} else if parts == 0 && !placeEnds(text, p) {
		conf = 0.2 // 北京协和医院, 上海银监局: most often part of a longer name
	}
	return Finding{Type: TypeAddress, Start: i, End: p, Confidence: conf}, true
}

// orgAhead reports whether the name of an organisation follows a place name
// ending at p: an authority or company (人民政府, 公安厅, 银行), directly or
// after the division suffix the place name was matched without
// (北京|市人民政府), or a hospital whose name ends within eight characters
// (北京中心医院, 上海市第一人民医院: the document's header, not the patient's
// address).
func (d *dictionaries) orgAhead(text []byte, p int) bool {
	if d.orgAfter.match(text, p) > p {
		return true
	}
	if r, size := utf8.DecodeRune(text[p:]); size == 3 && strings.ContainsRune("省市区县", r) && d.orgAfter.match(text, p+size) > p+size {
		return true
	}
	for k := 0; k < 8 && p+3 <= len(text) && text[p] >= 0xE0 && text[p] < 0xF0; k++ {
		if d.hospital.match(text, p) > p {
			return true
		}
		p += 3
	}
	return false
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
	// 翠苑小区, 康乐花园: an estate word after a name that already ended in a
	// suffix is a part of its own, but not right after a division (北京市小区).
	if e := d.suffixes.match(text, p); e-p >= 6 && p >= 3 {
		if r, _ := utf8.DecodeLastRune(text[:p]); !strings.ContainsRune("省市区县旗盟镇乡", r) {
			return e, d.strong[string(text[p:e])]
		}
	}
	q, loose := p, false
	for k := 0; k < 10 && q < len(text); k++ {
		if k > 0 {
			if e := d.suffixes.match(text, q); e > q {
				// 城市, 地区, 一村: a one-character stem before a
				// division suffix is an ordinary word.
				if k == 1 && d.weak[string(text[q:e])] {
					return p, false
				}
				strong := d.strong[string(text[q:e])]
				if loose && !strong {
					return p, false
				}
				return e, strong
			}
		}
		c := text[q]
		switch {
		case isAlnum(c) || c == '-' || c == '#':
			q++
		case c >= 0xE0 && c < 0xF0:
			r, size := utf8.DecodeRune(text[q:])
			if size != 3 || r < 0x4E00 || r > 0x9FFF {
				return p, false
			}
			if d.stop[r] {
				// 人民路, 和平路, 青年路: a few characters that end
				// names are common in road names; they are taken only
				// when the part ends in a road or finer suffix.
				if !strings.ContainsRune(roadStopOK, r) {
					return p, false
				}
				loose = true
			}
			q += 3
		default:
			return p, false
		}
	}
	return p, false
}

// roadStopOK holds the runes of dictionaries.stop that road and estate names
// often contain (人民路, 和平路, 青年路, 前门大街, 会展路, 经三路, 日坛路).
const roadStopOK = "人和年月日前后同会经"

// placeEnds reports whether a place name without road or number parts ends
// at p: at the end of the text, before punctuation, a space, a digit or a
// Latin letter, or before a function character (的, 和, 等 …). A place name
// running on into other characters is most often the start of the name of
// an organisation (北京协和医院, 广东发展银行).
func placeEnds(text []byte, p int) bool {
	if p+3 > len(text) {
		return true
	}
	r, _ := utf8.DecodeRune(text[p:])
	if !cjkRune(r) {
		return true
	}
	return strings.ContainsRune("的和与及等在是到至从向也都为将、地人队", r)
}

// addressCues returns the words after which an address may start without a
// division name (家住幸福小区3栋, 位于漕溪北路595号).
func addressCues() []string {
	return []string{"住址", "地址", "家住", "现住", "住在", "居住在", "位于", "地处", "坐落于", "坐落在"}
}

// addressAfterCue finds an address made of road, number, building and room
// parts (and division names) right after an address cue ending at p. A
// division name at p is left to address, which is called for it next.
func (d *dictionaries) addressAfterCue(text []byte, p int) (Finding, bool) {
	for k := 0; k < 3 && p < len(text); k++ {
		switch {
		case text[p] == ' ' || text[p] == ':' || text[p] == '\t':
			p++
		case bytes.HasPrefix(text[p:], []byte("：")), bytes.HasPrefix(text[p:], []byte("于")), bytes.HasPrefix(text[p:], []byte("在")):
			p += 3
		default:
			k = 3
		}
	}
	if d.divisionAt(text, p) > p {
		return Finding{}, false
	}
	start, q, parts, strong := p, p, 0, false
	for range 12 {
		if e := d.divisionAt(text, q); e > q {
			q = e
			continue
		}
		e, s := d.component(text, q)
		if e == q {
			break
		}
		q = e
		parts++
		strong = strong || s
	}
	if parts == 0 {
		return Finding{}, false
	}
	conf := 0.7
	if strong {
		conf = 0.85
	}
	return Finding{Type: TypeAddress, Start: start, End: q, Confidence: conf}, true
}
