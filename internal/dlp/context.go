package dlp

import "unicode/utf8"

// contextWindow is how many bytes before a candidate are searched for
// context words (about twelve CJK characters).
const contextWindow = 40

// positiveContext returns the context words that raise the confidence of
// each structured type. ASCII words are matched case-insensitively.
func positiveContext() map[string][]string {
	return map[string][]string{
		TypeResidentID:       {"身份证", "身份号", "证件号", "公民身份", "id"},
		TypeMobile:           {"手机", "电话", "联系方式", "联系人", "致电", "拨打", "短信", "tel", "phone", "mobile", "cell"},
		TypeLandline:         {"电话", "座机", "固话", "传真", "联系方式", "tel", "phone", "fax"},
		TypeEmail:            {"邮箱", "邮件", "mail"},
		TypeBankCard:         {"卡号", "银行卡", "账号", "帐号", "储蓄卡", "信用卡", "借记卡", "开户", "card", "account"},
		TypePassport:         {"护照", "passport"},
		TypeHKMacauPermit:    {"通行证", "港澳", "回乡证", "permit"},
		TypeUSCC:             {"统一社会信用代码", "信用代码", "社会信用", "税号", "纳税人识别号", "uscc"},
		TypeMedicalInsurance: {"医保", "社保", "医疗保险", "参保", "保险号"},
		TypeIPAddress:        {"ip", "地址", "主机", "服务器", "host", "client", "from", "addr", "src", "dst"},
	}
}

// negativeContext returns words suggesting that a number is not personal
// data.
func negativeContext() []string {
	return []string{
		"订单", "单号", "流水号", "交易号", "运单", "快递", "版本", "序列号", "批号", "批次", "条码", "发票",
		"order", "txn", "trace", "serial", "version", "build", "uuid", "hash", "sku", "invoice",
	}
}

// contextBefore returns the window of text just before start, cut at a rune
// boundary.
func contextBefore(text []byte, start int) []byte {
	from := max(0, start-contextWindow)
	for from < start && !utf8.RuneStart(text[from]) {
		from++
	}
	return text[from:start]
}

// lower returns c with ASCII upper-case letters lower-cased.
func lower(c byte) byte {
	if c-'A' < 26 {
		return c + 32
	}
	return c
}

// wordSet is a small set of context words indexed by first byte, so that
// a window is searched in one backward pass; a bitset of the first two
// bytes of the words (and one of one-byte words) lets the pass skip every
// other position with one load. Words are stored lower-case and ASCII
// letters of the text are compared lower-cased.
type wordSet struct {
	single  [4]uint64    // one-byte words
	pairs   [1024]uint64 // first two bytes of longer words
	byFirst [256][]string
}

func newWordSet(words []string) *wordSet {
	ws := &wordSet{}
	for _, w := range words {
		if w == "" {
			continue
		}
		c := w[0]
		if len(w) == 1 {
			ws.single[c>>6] |= 1 << (c & 63)
		} else {
			k := uint(c)<<8 | uint(w[1])
			ws.pairs[k>>6] |= 1 << (k & 63)
		}
		ws.byFirst[c] = append(ws.byFirst[c], w)
	}
	return ws
}

// last returns the end of the last occurrence in w of one of the words, or
// -1.
func (ws *wordSet) last(w []byte) int {
	if ws == nil {
		return -1
	}
	for k := len(w) - 1; k >= 0; k-- {
		c := lower(w[k])
		hit := ws.single[c>>6]&(1<<(c&63)) != 0
		if !hit && k+1 < len(w) {
			p := uint(c)<<8 | uint(lower(w[k+1]))
			hit = ws.pairs[p>>6]&(1<<(p&63)) != 0
		}
		if !hit {
			continue
		}
	words:
		for _, s := range ws.byFirst[c] {
			if len(s) > len(w)-k {
				continue
			}
			for m := 1; m < len(s); m++ {
				if lower(w[k+m]) != s[m] {
					continue words
				}
			}
			return k + len(s)
		}
	}
	return -1
}

// adjust applies context to a base confidence: the nearer of positive and
// negative context words before start wins; positive adds boost, negative
// subtracts 0.3.
func adjust(text []byte, start int, pos, neg *wordSet, base, boost float64) float64 {
	w := contextBefore(text, start)
	p, n := pos.last(w), neg.last(w)
	switch {
	case p >= 0 && p >= n:
		return min(0.99, base+boost)
	case n >= 0:
		return max(0.05, base-0.3)
	}
	return base
}

// hasContext reports whether one of words occurs just before start.
func hasContext(text []byte, start int, words *wordSet) bool {
	return words.last(contextBefore(text, start)) >= 0
}
