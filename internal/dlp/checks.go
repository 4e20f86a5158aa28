package dlp

import "strings"

// validRegion reports whether the six ASCII digits in code are a GB/T 2260
// code of any revision (see regions_gen.go).
func validRegion(code []byte) bool {
	if len(code) != 6 {
		return false
	}
	n := 0
	for _, c := range code {
		if !isDigit(c) {
			return false
		}
		n = n*10 + int(c-'0')
	}
	return regionBits[n>>6]&(1<<(n&63)) != 0
}

// regionBits has bit n set for every region code n of regionCodes: one
// load instead of a binary search over 7,000 codes (125 KiB).
var regionBits = func() *[1000000/64 + 1]uint64 {
	var t [1000000/64 + 1]uint64
	for i := 0; i+6 <= len(regionCodes); i += 6 {
		n := atoi([]byte(regionCodes[i : i+6]))
		t[n>>6] |= 1 << (n & 63)
	}
	return &t
}()

func isDigit(c byte) bool { return c-'0' < 10 }

func isAlpha(c byte) bool { return (c|0x20)-'a' < 26 }

func isAlnum(c byte) bool { return isDigit(c) || isAlpha(c) }

func atoi(b []byte) int {
	n := 0
	for _, c := range b {
		n = n*10 + int(c-'0')
	}
	return n
}

func validDate(y, m, d, maxYear int) bool {
	if y < 1900 || y > maxYear || m < 1 || m > 12 || d < 1 {
		return false
	}
	days := [13]int{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[m]
	if m == 2 && (y%4 == 0 && (y%100 != 0 || y%400 == 0)) {
		days = 29
	}
	return d <= days
}

// residentID18 validates an 18-character GB 11643 citizen identity number:
// region code, birth date and the ISO 7064 MOD 11-2 check character.
func residentID18(v []byte, maxYear int) bool {
	if len(v) != 18 {
		return false
	}
	for _, c := range v[:17] {
		if !isDigit(c) {
			return false
		}
	}
	weights := [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, w := range weights {
		sum += int(v[i]-'0') * w
	}
	want := "10X98765432"[sum%11]
	got := v[17]
	if got == 'x' {
		got = 'X'
	}
	if got != want {
		return false
	}
	if !validDate(atoi(v[6:10]), atoi(v[10:12]), atoi(v[12:14]), maxYear) {
		return false
	}
	return validRegion(v[:6])
}

// residentID15 validates a legacy 15-digit identity number (region code,
// YYMMDD birth date in the 1900s, three-digit sequence; no check digit).
func residentID15(v []byte) bool {
	if len(v) != 15 {
		return false
	}
	if !validDate(1900+atoi(v[6:8]), atoi(v[8:10]), atoi(v[10:12]), 1999) {
		return false
	}
	return validRegion(v[:6])
}

// luhn reports whether the digits pass the Luhn (mod 10) check.
func luhn(v []byte) bool {
	sum := 0
	double := false
	for i := len(v) - 1; i >= 0; i-- {
		d := int(v[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

// knownBIN reports whether a 16–19 digit card number starts with an issuer
// identification range used by cards issued or accepted in China: UnionPay
// (62, 81), Visa (4), Mastercard (51–55, 2221–2720), JCB (3528–3589),
// Discover/UnionPay-partner (60, 64, 65) and the legacy ICBC/ABC 9558/9559.
func knownBIN(v []byte) bool {
	if len(v) < 16 || len(v) > 19 {
		return false
	}
	p2 := atoi(v[:2])
	p4 := atoi(v[:4])
	switch {
	case v[0] == '4':
		return true
	case p2 >= 51 && p2 <= 55, p2 == 62, p2 == 60, p2 == 64, p2 == 65, p2 == 81:
		return true
	case p4 >= 2221 && p4 <= 2720, p4 >= 3528 && p4 <= 3589, p4 == 9558, p4 == 9559:
		return true
	}
	return false
}

// mobilePrefixes lists, as pairs of digits after the leading 1, the
// mainland mobile number segments in current use (2024).
const mobilePrefixes = "30313233343536373839" + // 130–139
	"45464748" + "49" + // data and IoT-voice segments 145–149
	"505152535556575859" + // 150–153, 155–159
	"62656667" + // 162, 165–167
	"7071727374757677" + "78" + // 170–178
	"80818283848586878889" + // 180–189
	"9091929395969799" + "98" // 190–193, 195–199

// mobile reports whether v is an 11-digit mainland mobile number in a
// current segment.
func mobile(v []byte) bool {
	if len(v) != 11 || v[0] != '1' {
		return false
	}
	for _, c := range v {
		if !isDigit(c) {
			return false
		}
	}
	for i := 0; i+1 < len(mobilePrefixes); i += 2 {
		if mobilePrefixes[i] == v[1] && mobilePrefixes[i+1] == v[2] {
			return true
		}
	}
	return false
}

// areaCodeLen returns the length (3 or 4, including the leading 0) of the
// long-distance area code that v starts with, or 0.
func areaCodeLen(v []byte) int {
	if len(v) < 3 || v[0] != '0' {
		return 0
	}
	switch {
	case v[1] == '1' && v[2] == '0', v[1] == '2':
		return 3
	case v[1] >= '3' && v[1] <= '9' && len(v) >= 4:
		return 4
	}
	return 0
}

// localNumber reports whether v is a 7- or 8-digit local telephone number
// valid after an area code of length area.
func localNumber(v []byte, area int) bool {
	if v[0] < '2' || v[0] > '8' {
		return false
	}
	if area == 3 {
		return len(v) == 8
	}
	return len(v) == 7 || len(v) == 8
}

const usccAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// uscc validates an 18-character unified social credit code (GB 32100-2015):
// registration authority, organisation type, region code and the MOD 31
// check character.
func uscc(v []byte) bool {
	if len(v) != 18 || strings.IndexByte("123456789AGNY", v[0]) < 0 || !isDigit(v[1]) || v[1] == '0' {
		return false
	}
	for _, c := range v[2:8] {
		if !isDigit(c) {
			return false
		}
	}
	weights := [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}
	sum := 0
	for i, w := range weights {
		k := strings.IndexByte(usccAlphabet, v[i])
		if k < 0 {
			return false
		}
		sum += k * w
	}
	want := usccAlphabet[(31-sum%31)%31]
	if v[17] != want {
		return false
	}
	// 100000 marks organisations registered at national level.
	return string(v[2:8]) == "100000" || validRegion(v[2:8])
}
