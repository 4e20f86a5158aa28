package dlp

import (
	"bytes"
	"strings"
	"unicode/utf8"
)

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

// wordSet is a set of context words searched backwards in a window: a
// ctxSet with one set.
type wordSet struct {
	cs ctxSet
}

func newWordSet(words []string) *wordSet {
	ws := &wordSet{}
	ws.cs.add(0, words)
	return ws
}

// last returns the end of the last occurrence in w of one of the words, or
// -1.
func (ws *wordSet) last(w []byte) int {
	if ws == nil {
		return -1
	}
	p, _ := ws.cs.last(w, 0, -1)
	return p
}

// adjustBy applies context to a base confidence, given the ends p and n
// of the nearest positive and negative context words before a candidate
// (-1: none): the nearer wins; positive adds boost, negative subtracts 0.3.
func adjustBy(p, n int, base, boost float64) float64 {
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

// ctxSet holds the context words of several sets at once, each word tagged
// with the sets (bits) it belongs to, so that the positive words of a type
// and the negative words are found in one backward pass that stops as soon
// as the answer is known. Words are indexed by first byte; a bitset of the
// first two bytes of the words (and one of one-byte words) lets the pass
// skip every other position with one load. Words are stored lower-case and
// ASCII letters of the text are compared lower-cased.
type ctxSet struct {
	single  [4]uint64
	pairs   [1024]uint64 // first two bytes of longer words that begin below 0xE0
	cjk     [1024]uint64 // first character (BMP) of words that begin with one
	byFirst [256][]ctxWord
	maxLen  [16]int // longest word of each set
	// key[b] is a non-ASCII character every word of set b contains (保 for
	// the medical insurance words), or "": a window without it holds none
	// of the set's words.
	key   [16]string
	words [16][]string
}

type ctxWord struct {
	word string
	sets uint16
}

// add puts words into set bit (0–15); a word already present gains the
// set. Words of one set keep their order.
func (cs *ctxSet) add(bit uint, words []string) {
	for _, w := range words {
		w = strings.ToLower(w)
		if w == "" {
			continue
		}
		cs.words[bit] = append(cs.words[bit], w)
		cs.maxLen[bit] = max(cs.maxLen[bit], len(w))
		c := w[0]
		switch {
		case len(w) == 1:
			cs.single[c>>6] |= 1 << (c & 63)
		case c >= 0xE0 && c < 0xF0 && len(w) >= 3:
			r := bmp3([]byte(w), 0)
			cs.cjk[r>>6] |= 1 << (r & 63)
		default:
			k := uint(c)<<8 | uint(w[1])
			cs.pairs[k>>6] |= 1 << (k & 63)
		}
		found := false
		for i := range cs.byFirst[c] {
			if cs.byFirst[c][i].word == w {
				cs.byFirst[c][i].sets |= 1 << bit
				found = true
			}
		}
		if !found {
			cs.byFirst[c] = append(cs.byFirst[c], ctxWord{w, 1 << bit})
		}
	}
	cs.key[bit] = ""
	if all := cs.words[bit]; len(all) > 0 {
	runes:
		for _, r := range all[0] {
			if r < utf8.RuneSelf {
				continue // the text is not lower-cased: an ASCII key would miss "ID"
			}
			for _, w := range all[1:] {
				if !strings.ContainsRune(w, r) {
					continue runes
				}
			}
			cs.key[bit] = string(r)
			break
		}
	}
}

// mayHave reports whether w can hold a word of set bit: false when the
// set's words share a character that w lacks.
func (cs *ctxSet) mayHave(w []byte, bit int) bool {
	k := cs.key[bit]
	return k == "" || bytes.Contains(w, []byte(k))
}

// last returns p, the end of the last occurrence in w of a word of set pos
// (as wordSet.last), and n, the same for set neg (or -1 when neg < 0), in
// one backward pass. It stops once the order of p and n is known: n is
// exact when n > p could hold; when p >= 0 and no word of neg can end after
// it, n is -1; when n >= 0 and no word of pos can end at or after it, p is
// -1. Callers may compare p and n, and use p when p >= n.
func (cs *ctxSet) last(w []byte, pos, neg int) (p, n int) {
	p, n = -1, -1
	maxPos, maxNeg := cs.maxLen[pos], 0
	if neg >= 0 {
		maxNeg = cs.maxLen[neg]
	}
	pm := uint16(1) << pos
	nm := uint16(0)
	if neg >= 0 {
		nm = 1 << neg
	}
	for k := len(w) - 1; k >= 0; k-- {
		if p >= 0 && (nm == 0 || n >= 0 || k+maxNeg <= p) {
			return p, n
		}
		if n >= 0 && p < 0 && k+maxPos < n {
			return p, n
		}
		c := lower(w[k])
		var hit bool
		switch {
		case c >= 0xE0 && c < 0xF0:
			// A three-byte character: its code point, not its first
			// two bytes (shared by 64 characters), is looked up.
			if k+2 < len(w) {
				r := bmp3(w, k)
				hit = cs.cjk[r>>6]&(1<<(r&63)) != 0
			}
		default:
			hit = cs.single[c>>6]&(1<<(c&63)) != 0
			if !hit && k+1 < len(w) {
				q := uint(c)<<8 | uint(lower(w[k+1]))
				hit = cs.pairs[q>>6]&(1<<(q&63)) != 0
			}
		}
		if !hit {
			continue
		}
	words:
		for _, e := range cs.byFirst[c] {
			if e.sets&(pm|nm) == 0 || len(e.word) > len(w)-k {
				continue
			}
			s := e.word
			for m := 1; m < len(s); m++ {
				if lower(w[k+m]) != s[m] {
					continue words
				}
			}
			if p < 0 && e.sets&pm != 0 {
				p = k + len(s)
			}
			if n < 0 && e.sets&nm != 0 {
				n = k + len(s)
			}
		}
	}
	return p, n
}
