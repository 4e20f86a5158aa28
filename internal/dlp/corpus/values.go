package corpus

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// This file makes identifier values. Every check character is computed
// here from the standard's definition, independently of package dlp, so
// that the corpus is an oracle for the detectors rather than a copy of
// them.

func digits(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + r.IntN(10))
	}
	return string(b)
}

func pick[T any](r *rand.Rand, list []T) T { return list[r.IntN(len(list))] }

// birthDate returns a date between 1930 and 2023 as YYYYMMDD.
func birthDate(r *rand.Rand) string {
	y := 1930 + r.IntN(94)
	m := 1 + r.IntN(12)
	d := 1 + r.IntN(daysIn(y, m))
	return fmt.Sprintf("%04d%02d%02d", y, m, d)
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// idCheck computes the GB 11643 check character of the 17 digits body with
// ISO 7064 MOD 11-2: the weight of the digit at position i (counted from
// the right, the check character being position 1) is 2^(i-1) mod 11, and
// the check value c satisfies (sum + c) mod 11 == 1, with 10 written X.
func idCheck(body string) byte {
	sum, w := 0, 2 // position 2 has weight 2
	for i := len(body) - 1; i >= 0; i-- {
		sum += int(body[i]-'0') * w
		w = w * 2 % 11
	}
	c := (12 - sum%11) % 11
	if c == 10 {
		return 'X'
	}
	return byte('0' + c)
}

// validID reports whether an 18-character ID has the right check
// character; date and region are the caller's business.
func validID(id string) bool {
	return len(id) == 18 && idCheck(id[:17]) == id[17]
}

// residentID returns a valid 18-character resident ID of a person born at
// birth (YYYYMMDD) and registered in reg.
func residentID(r *rand.Rand, code, birth string) string {
	body := code + birth + digits(r, 3)
	return body + string(idCheck(body))
}

// wrongCheck replaces the check character of a valid ID with another.
func wrongCheck(r *rand.Rand, id string) string {
	good := id[17]
	for {
		c := "0123456789X"[r.IntN(11)]
		if c != good {
			return id[:17] + string(c)
		}
	}
}

// badBirthID returns an ID with a correct check character but a birth
// date that does not exist (month 13, 30 February, day 32, year 2099).
func badBirthID(r *rand.Rand, code string) string {
	bad := pick(r, []string{"19851301", "20000230", "19790432", "20990101", "19620931", "18990615"})
	body := code + bad + digits(r, 3)
	return body + string(idCheck(body))
}

// legacyID returns a 15-digit resident ID (before 1999): region, YYMMDD,
// three-digit sequence, no check digit.
func legacyID(r *rand.Rand, code string) string {
	y := 1930 + r.IntN(60)
	m := 1 + r.IntN(12)
	d := 1 + r.IntN(daysIn(y, m))
	return fmt.Sprintf("%s%02d%02d%02d%s", code, y%100, m, d, digits(r, 3))
}

// luhnDigit returns the Luhn check digit to append to body.
func luhnDigit(body string) byte {
	sum := 0
	for i := 0; i < len(body); i++ {
		d := int(body[len(body)-1-i] - '0')
		if i%2 == 0 { // doubled: it will be second from the right
			d = d*2/10 + d*2%10
		}
		sum += d
	}
	return byte('0' + (10-sum%10)%10)
}

func luhnValid(num string) bool {
	return len(num) >= 2 && luhnDigit(num[:len(num)-1]) == num[len(num)-1]
}

// cardBIN is an issuer prefix of a card issued in China and the length of
// its card numbers.
type cardBIN struct {
	prefix string
	length int
}

// cardBINs are real issuer prefixes: UnionPay debit cards of ICBC, ABC,
// CCB, BOC, BOCOM and PSBC, CMB debit and Visa/Mastercard/JCB credit cards.
var cardBINs = []cardBIN{
	{"622202", 19}, {"621226", 19}, {"622848", 19}, {"621700", 19}, {"621661", 19},
	{"622262", 19}, {"622150", 19}, {"622588", 16}, {"621483", 16}, {"436742", 16},
	{"427020", 16}, {"512315", 16}, {"356833", 16}, {"625809", 16},
}

// bankCard returns a Luhn-valid card number with a real prefix.
func bankCard(r *rand.Rand) string {
	b := pick(r, cardBINs)
	body := b.prefix + digits(r, b.length-len(b.prefix)-1)
	return body + string(luhnDigit(body))
}

// luhnFailing returns a number shaped like a card (real prefix, right
// length) whose check digit is wrong.
func luhnFailing(r *rand.Rand) string {
	c := bankCard(r)
	last := c[len(c)-1]
	d := byte('0' + (int(last-'0')+1+r.IntN(9))%10)
	return c[:len(c)-1] + string(d)
}

// groupCard writes a card number in groups of four separated by sep.
func groupCard(num string, sep string) string {
	var parts []string
	for i := 0; i < len(num); i += 4 {
		parts = append(parts, num[i:min(i+4, len(num))])
	}
	return strings.Join(parts, sep)
}

// mobileSegments are the three-digit prefixes of mainland mobile numbers
// issued by China Mobile, China Unicom, China Telecom, China Broadnet and
// virtual operators (2024).
var mobileSegments = []string{
	"130", "131", "132", "133", "134", "135", "136", "137", "138", "139",
	"145", "147", "149", "150", "151", "152", "153", "155", "156", "157", "158", "159",
	"162", "165", "166", "167", "170", "171", "172", "173", "175", "176", "177", "178",
	"180", "181", "182", "183", "184", "185", "186", "187", "188", "189",
	"190", "191", "192", "193", "195", "196", "197", "198", "199",
}

// deadSegments are 11-digit prefixes that no mobile number has.
var deadSegments = []string{"100", "101", "110", "112", "120", "121", "122", "127", "140", "141", "143", "154", "160", "168", "169", "194"}

func mobile(r *rand.Rand) string { return pick(r, mobileSegments) + digits(r, 8) }

func isMobile(s string) bool {
	if len(s) != 11 {
		return false
	}
	for _, p := range mobileSegments {
		if s[:3] == p {
			return true
		}
	}
	return false
}

// formatMobile writes a mobile number the ways people write it.
func formatMobile(r *rand.Rand, m string) string {
	switch r.IntN(10) {
	case 0:
		return m[:3] + "-" + m[3:7] + "-" + m[7:]
	case 1:
		return m[:3] + " " + m[3:7] + " " + m[7:]
	case 2:
		return "86" + m
	case 3:
		return "86 " + m[:3] + " " + m[3:7] + " " + m[7:]
	}
	return m
}

// landline returns a landline number written with its area code.
func landline(r *rand.Rand) string {
	a := pick(r, areaCodes)
	n := 8
	if len(a) == 4 && r.IntN(4) == 0 {
		n = 7
	}
	local := strconv.Itoa(2+r.IntN(7)) + digits(r, n-1)
	switch r.IntN(8) {
	case 0:
		return "(" + a + ")" + local
	case 1:
		return "（" + a + "）" + local
	case 2:
		return a + local
	case 3:
		return a + "-" + local + "-" + strconv.Itoa(100+r.IntN(900))
	case 4:
		return a + " " + local
	}
	return a + "-" + local
}

// upperNoIO is the alphabet of letters used in document numbers (I and O
// are not used, being confusable with 1 and 0).
const upperNoIO = "ABCDEFGHJKLMNPQRSTUVWXYZ"

// passport returns a People's Republic of China passport number: ordinary
// e-passports E + 8 digits or E + letter + 7 digits, older G + 8 digits,
// diplomatic, service and public-affairs DE/SE/PE + 7 digits.
func passport(r *rand.Rand) string {
	switch r.IntN(6) {
	case 0, 1:
		return "E" + digits(r, 8)
	case 2:
		return "E" + string(upperNoIO[r.IntN(len(upperNoIO))]) + digits(r, 7)
	case 3:
		return "G" + digits(r, 8)
	case 4:
		return pick(r, []string{"DE", "SE", "PE"}) + digits(r, 7)
	}
	return "E" + digits(r, 8)
}

// permit returns an exit-entry permit for Hong Kong and Macau (往来港澳通行证,
// C + 8 digits or C + letter + 7 digits) or a home-return permit
// (港澳居民来往内地通行证, H/M + 8 digits, optionally + 2-digit issue count).
func permit(r *rand.Rand) string {
	switch r.IntN(5) {
	case 0:
		return "C" + digits(r, 8)
	case 1:
		return "C" + string(upperNoIO[r.IntN(len(upperNoIO))]) + digits(r, 7)
	case 2:
		return pick(r, []string{"H", "M"}) + digits(r, 8) + fmt.Sprintf("%02d", r.IntN(5))
	}
	return pick(r, []string{"H", "M"}) + digits(r, 8)
}

// usccAlphabet is the 31-character alphabet of GB 32100-2015 (no I, O, S,
// V, Z); a character's value is its index.
const usccAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// orgCodeCheck computes the GB 11714 check character of an 8-character
// organisation code body.
func orgCodeCheck(body string) byte {
	weights := []int{3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := range 8 {
		c := body[i]
		v := int(c - '0')
		if c >= 'A' {
			v = int(c-'A') + 10
		}
		sum += v * weights[i]
	}
	switch c := 11 - sum%11; c {
	case 10:
		return 'X'
	case 11:
		return '0'
	default:
		return byte('0' + c)
	}
}

// usccCheck computes the GB 32100 check character of 17 characters: the
// weight of position i (0-based) is 3^i mod 31, and the check value makes
// the weighted sum a multiple of 31.
func usccCheck(body string) byte {
	sum, w := 0, 1
	for i := range 17 {
		sum += strings.IndexByte(usccAlphabet, body[i]) * w
		w = w * 3 % 31
	}
	return usccAlphabet[(31-sum%31)%31]
}

// uscc returns a unified social credit code: registration authority and
// organisation type (12 public institution — what most hospitals are —,
// 91 company, 52 social organisation, 93 farmers' co-operative), the
// region code, a GB 11714 organisation code and the check character.
func uscc(r *rand.Rand, code string) string {
	head := pick(r, []string{"12", "12", "91", "91", "52", "93"})
	var org []byte
	for range 8 {
		if r.IntN(4) == 0 {
			org = append(org, "ABCDEFGHJKLMNPQRTUWXY"[r.IntN(21)])
		} else {
			org = append(org, byte('0'+r.IntN(10)))
		}
	}
	body := head + code + string(org) + string(orgCodeCheck(string(org)))
	return body + string(usccCheck(body))
}

// insuranceNo returns a medical insurance (医保) personal number. Formats
// differ by region: a 10–12 digit serial, the region code followed by a
// serial, or a two-letter province prefix and digits. Values that would
// also be a mobile number or a landline are re-drawn: no detector could
// tell them apart (11 digits beginning 13–19 are the mobile numbering
// plan, satellite segments included).
func insuranceNo(r *rand.Rand, code string) string {
	for {
		var v string
		switch r.IntN(3) {
		case 0:
			v = strconv.Itoa(1+r.IntN(9)) + digits(r, 9+r.IntN(3))
		case 1:
			v = code + digits(r, 6+r.IntN(4))
		default:
			v = pick(r, []string{"BJ", "SH", "GD", "ZJ", "JS", "SC"}) + digits(r, 9+r.IntN(3))
		}
		if !(len(v) == 11 && v[0] == '1' && v[1] >= '3') && len(v) != 15 && len(v) != 18 {
			return v
		}
	}
}

// ipv4 returns an address from the private ranges hospitals use inside
// and from public ranges of Chinese carriers.
func ipv4(r *rand.Rand) string {
	switch r.IntN(5) {
	case 0:
		return fmt.Sprintf("10.%d.%d.%d", r.IntN(256), r.IntN(256), 1+r.IntN(254))
	case 1:
		return fmt.Sprintf("192.168.%d.%d", r.IntN(256), 1+r.IntN(254))
	case 2:
		return fmt.Sprintf("172.%d.%d.%d", 16+r.IntN(16), r.IntN(256), 1+r.IntN(254))
	}
	return fmt.Sprintf("%d.%d.%d.%d", pick(r, []int{58, 101, 114, 116, 119, 120, 180, 202, 218, 222, 223}), r.IntN(256), r.IntN(256), 1+r.IntN(254))
}

// ipv6 returns an IPv6 address; the detectors do not claim IPv6, so these
// are never labelled.
func ipv6(r *rand.Rand) string {
	return fmt.Sprintf("240e:%x:%x:%x::%x", r.IntN(0x10000), r.IntN(0x10000), r.IntN(0x10000), 1+r.IntN(0xfff))
}

var mailDomains = []string{"163.com", "126.com", "qq.com", "sina.com", "foxmail.com", "gmail.com", "outlook.com", "hospital.org.cn", "pumch.cn", "yy.gov.cn", "mail.sysu.edu.cn"}

// email returns an address whose local part is a pinyin name, a QQ number
// or a mobile number.
func email(r *rand.Rand) string {
	var local string
	switch r.IntN(4) {
	case 0:
		local = strconv.Itoa(10000 + r.IntN(1_000_000_000))
	case 1:
		local = mobile(r)
	case 2:
		local = pick(r, pinyinGiven) + "." + pick(r, pinyinSurnames)
	default:
		local = pick(r, pinyinSurnames) + pick(r, []string{"", "_", "."}) + pick(r, pinyinGiven) + strconv.Itoa(r.IntN(100))
	}
	return strings.ToLower(local) + "@" + pick(r, mailDomains)
}
