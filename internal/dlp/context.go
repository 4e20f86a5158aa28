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
// boundary, with ASCII letters lower-cased into buf.
func contextBefore(text []byte, start int, buf *[contextWindow]byte) []byte {
	from := max(0, start-contextWindow)
	for from < start && !utf8.RuneStart(text[from]) {
		from++
	}
	w := buf[:start-from]
	copy(w, text[from:start])
	for i, c := range w {
		if c-'A' < 26 {
			w[i] = c + 32
		}
	}
	return w
}

// wordSet is a small set of context words indexed by first byte, so that
// a window is searched in one backward pass.
type wordSet struct {
	byFirst [256][]string
}

func newWordSet(words []string) *wordSet {
	ws := &wordSet{}
	for _, w := range words {
		if w != "" {
			ws.byFirst[w[0]] = append(ws.byFirst[w[0]], w)
		}
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
		for _, s := range ws.byFirst[w[k]] {
			if len(s) <= len(w)-k && string(w[k:k+len(s)]) == s {
				return k + len(s)
			}
		}
	}
	return -1
}

// adjust applies context to a base confidence: the nearer of positive and
// negative context words before start wins; positive adds boost, negative
// subtracts 0.3.
func adjust(text []byte, start int, pos, neg *wordSet, base, boost float64) float64 {
	var buf [contextWindow]byte
	w := contextBefore(text, start, &buf)
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
	var buf [contextWindow]byte
	return words.last(contextBefore(text, start, &buf)) >= 0
}
