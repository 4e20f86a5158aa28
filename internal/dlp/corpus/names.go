package corpus

import (
	"bufio"
	"bytes"
	_ "embed"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
)

// surnamesText is a copy of internal/dlp/data/surnames.txt (wainshine/
// Chinese-Names-Corpus, Apache-2.0; see ../data/licenses). corpus_test.go
// checks that the copy is identical.
//
//go:embed data/surnames.txt
var surnamesText []byte

// givenChars are characters common in Chinese given names, written for
// this package (no third-party source).
const givenChars = "伟芳娜敏静丽强磊军洋勇艳杰娟涛超秀霞平刚桂英华玉兰红建志文海斌宇浩凯鹏辉婷雪琳晨欣怡佳梓涵轩萱雨思博俊然晓明亮春燕萍鑫磊振宁嘉慧颖悦瑶诗琪子豪泽天翔峰岩波丹宏彬飞蕾薇倩璐婉清"

// pinyinSurnames and pinyinGiven romanize a few common surnames and given
// names, for English text and e-mail addresses.
var (
	pinyinSurnames = []string{"Zhang", "Wang", "Li", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu", "Sun", "Ma", "Zhu", "Hu", "Guo", "Lin", "He", "Gao", "Luo"}
	pinyinGiven    = []string{"Wei", "Fang", "Min", "Jing", "Lei", "Jun", "Yang", "Yong", "Jie", "Tao", "Ming", "Chao", "Xiuying", "Hua", "Yulan", "Jianguo", "Haiyan", "Xiaoming", "Yuxuan", "Zihan", "Hao", "Ting", "Xin", "Jiayi"}
)

// surnameTable holds the surnames with cumulative frequencies for
// weighted drawing.
type surnameTable struct {
	names []string
	cum   []int
}

var surnames = sync.OnceValue(func() surnameTable {
	var t surnameTable
	total := 0
	sc := bufio.NewScanner(bytes.NewReader(surnamesText))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		name, f, _ := strings.Cut(l, "\t")
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			n = 1
		}
		total += n
		t.names = append(t.names, name)
		t.cum = append(t.cum, total)
	}
	return t
})

// surname draws a surname with its frequency as weight.
func surname(r *rand.Rand) string {
	t := surnames()
	x := r.IntN(t.cum[len(t.cum)-1])
	lo, hi := 0, len(t.cum)
	for lo < hi {
		m := (lo + hi) / 2
		if t.cum[m] <= x {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return t.names[lo]
}

var given = []rune(givenChars)

// personName returns a surname and a one- or two-character given name
// (about a quarter of names have one).
func personName(r *rand.Rand) string {
	n := surname(r) + string(given[r.IntN(len(given))])
	if r.IntN(4) != 0 {
		n += string(given[r.IntN(len(given))])
	}
	return n
}

// romanName returns a romanized name, surname first as Chinese names are
// usually written in hospital systems.
func romanName(r *rand.Rand) string {
	return pick(r, pinyinSurnames) + " " + pick(r, pinyinGiven)
}
