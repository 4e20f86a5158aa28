package reference

import (
	"regexp"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// fold returns s in NFKC (full-width letters, digits and punctuation become their
// ASCII forms) without white space and with every dash as "-".
func fold(s string) string {
	s = norm.NFKC.String(s)
	var b strings.Builder
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
			continue
		case r == '‐' || r == '‑' || r == '‒' || r == '–' || r == '—' || r == '―' || r == '−' || r == '－':
			b.WriteByte('-')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// normalizeID is how patient identifiers are compared: NFKC, no white space, upper
// case ("p001" and "P001 " are the same patient).
func normalizeID(id string) string { return strings.ToUpper(fold(id)) }

// compoundSurnames are the two-character Chinese surnames Surname recognises.
var compoundSurnames = map[string]bool{
	"欧阳": true, "司马": true, "上官": true, "诸葛": true, "东方": true, "皇甫": true, "尉迟": true,
	"公孙": true, "慕容": true, "长孙": true, "宇文": true, "司徒": true, "令狐": true, "夏侯": true,
	"轩辕": true, "端木": true, "西门": true, "南宫": true, "独孤": true, "百里": true, "呼延": true,
	"澹台": true, "公冶": true, "太史": true, "申屠": true, "闻人": true, "赫连": true, "钟离": true,
	"宗政": true, "濮阳": true, "淳于": true, "单于": true, "司空": true, "万俟": true, "拓跋": true,
}

// Surname returns the surname of a name: for a Chinese name its first character (or
// first two, for a compound surname such as 欧阳); for a Latin-script name the part
// before a comma ("Wang, Fang") or else the last word ("Fang Wang"), in lower case.
func Surname(name string) string {
	name = strings.TrimSpace(norm.NFKC.String(name))
	if name == "" {
		return ""
	}
	rs := []rune(name)
	if unicode.Is(unicode.Han, rs[0]) {
		if len(rs) >= 3 && compoundSurnames[string(rs[:2])] {
			return string(rs[:2])
		}
		return string(rs[:1])
	}
	if before, _, ok := strings.Cut(name, ","); ok {
		return strings.ToLower(strings.Join(strings.Fields(before), " "))
	}
	f := strings.Fields(name)
	return strings.ToLower(f[len(f)-1])
}

// NormalizeAddress is how addresses are compared: NFKC (full-width digits become
// ASCII), no white space, every dash as "-", and "室" after a room number dropped.
func NormalizeAddress(addr string) string {
	a := fold(addr)
	a = strings.TrimSuffix(a, "室")
	return strings.ToLower(a)
}

const numeral = `[0-9一二三四五六七八九十百千零〇两]+`

// buildingMarked ends at the first building of an address ("…3号楼", "…5栋", "…A座").
var buildingMarked = regexp.MustCompile(`^.*?(?:` + numeral + `|[a-z])(?:号楼|栋|幢|座)`)

// buildingNumber ends at the last house number of an address ("…和平里1号").
var buildingNumber = regexp.MustCompile(`^.*` + numeral + `号`)

// Building returns the normalized address up to the building: up to the first
// 号楼/栋/幢/座 when there is one ("建设路2号院3号楼2单元201" → "建设路2号院3号楼"), else up
// to the last house number ("东城区和平里1号1-101" → "东城区和平里1号"), else the whole
// normalized address (a house is its own building).
func Building(addr string) string {
	a := NormalizeAddress(addr)
	if m := buildingMarked.FindString(a); m != "" {
		return m
	}
	if m := buildingNumber.FindString(a); m != "" {
		return m
	}
	return a
}
