package mask

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/medguard/medguard/internal/dlp"
)

// dateRE matches a date: 1990-03-07, 1990/3/7, 1990.03.07, 19900307,
// 1990年3月7日 (optionally with a time after it).
var dateRE = regexp.MustCompile(`^\s*((?:18|19|20)\d{2})(?:[-/.年]\s*\d{1,2}(?:[-/.月]\s*\d{1,2}日?)?|(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]))(?:[ T].*)?\s*$`)

// ageRE matches an age: 42, 42岁, 42 years.
var ageRE = regexp.MustCompile(`^\s*(\d{1,3})\s*(?:岁|周岁|y|yr|yrs|years?)?\s*$`)

// generalize coarsens v, of type typ ("" when unknown), and reports
// whether it could.
func generalize(typ, v string) (string, bool) {
	switch typ {
	case dlp.TypeResidentID:
		if len(v) == 18 {
			return v[6:10], true // birth year
		}
		if len(v) == 15 {
			return "19" + v[6:8], true
		}
	case dlp.TypeMobile:
		digits := strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, v)
		if len(digits) >= 11 {
			d := digits[len(digits)-11:]
			return d[:3] + "********", true
		}
	case dlp.TypeAddress:
		return district(v)
	case dlp.TypeIPAddress:
		if i := strings.LastIndexByte(v, '.'); i > 0 && strings.Count(v, ".") == 3 {
			return v[:i] + ".0/24", true
		}
	}
	if m := dateRE.FindStringSubmatch(v); m != nil {
		return m[1], true
	}
	if m := ageRE.FindStringSubmatch(v); m != nil {
		if age, err := strconv.Atoi(m[1]); err == nil && age <= 150 {
			return AgeBand(age), true
		}
	}
	if typ == "" {
		return district(v)
	}
	return "", false
}

// AgeBand returns the ten-year band of an age: "0-9", "30-39", … "90+".
func AgeBand(age int) string {
	if age >= 90 {
		return "90+"
	}
	lo := age / 10 * 10
	return fmt.Sprintf("%d-%d", lo, lo+9)
}

// district cuts an address after its district or county (区, 县, 旗) or,
// lacking one, its city (市).
func district(v string) (string, bool) {
	limit := v
	if utf8.RuneCountInString(limit) > 24 {
		limit = string([]rune(limit)[:24])
	}
	for _, mark := range []string{"区", "县", "旗", "市"} {
		if i := strings.Index(limit, mark); i > 0 {
			return v[:i+len(mark)], true
		}
	}
	return "", false
}
