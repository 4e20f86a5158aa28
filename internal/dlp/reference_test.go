package dlp

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// The fast paths of the scanner (byte-class and eight-byte skipping in the
// structured pass, first-rune and ASCII-word filters in the dictionary
// pass, bigram filters of context words, the allocation-light Mask) are
// checked here against the plain loops they replaced.

func refStructuredFind(d *structured, text []byte, emit func(Finding)) {
	n := len(text)
	i := 0
	for i < n {
		c := text[i]
		if c >= 0x80 || !isAlnum(c) {
			if c == '@' && d.on[tEmail] {
				if s, e, ok := emailAt(text, i); ok {
					emit(Finding{Type: TypeEmail, Start: s, End: e, Confidence: 0.95})
					i = e
					continue
				}
			}
			i++
			continue
		}
		j, digits := i, 0
		for j < n && isAlnum(text[j]) {
			if isDigit(text[j]) {
				digits++
			}
			j++
		}
		if digits > 0 && (j >= n || text[j] != '@') {
			if next := d.token(text, i, j, digits, emit); next > j {
				j = next
			}
		}
		i = j
	}
}

func refDictFind(d *dictionaries, text []byte, emit func(Finding)) {
	var dosed []Finding
	n := len(text)
	i := 0
	for i < n {
		c := text[i]
		if c == 0xC2 && i+1 < n && text[i+1] == 0xB7 && d.name {
			i = d.foreignAt(text, i, 2, emit)
			continue
		}
		if c < utf8.RuneSelf {
			if isAlpha(c) {
				j := i
				for j < n && (isAlnum(text[j]) || text[j] == '-' && j+1 < n && isAlnum(text[j+1])) {
					j++
				}
				if end := d.asciiWord(text, i, j, emit, &dosed); end > j {
					j = end
				}
				i = j
				continue
			}
			i++
			continue
		}
		if c >= 0xE0 && c < 0xF0 && i+2 < n {
			if list := d.candidates(text, i); list != nil {
				if adv := d.cjk(text, i, list, emit, &dosed); adv > 0 {
					i += adv
					continue
				}
			}
			if d.first[bmp3(text, i)]&firstName != 0 {
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

func refLast(words []string, w []byte) int {
	low := bytes.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' {
			return r + 32
		}
		return r
	}, w)
	if !utf8.Valid(w) {
		low = bytes.Clone(w)
		for i, c := range low {
			low[i] = lower(c)
		}
	}
	for k := len(low) - 1; k >= 0; k-- {
		for _, s := range words {
			if s != "" && len(s) <= len(low)-k && string(low[k:k+len(s)]) == s {
				return k + len(s)
			}
		}
	}
	return -1
}

func refMask(typ string, value []byte) string {
	s := strings.ToValidUTF8(string(value), "\uFFFD")
	runes := []rune(s)
	n := len(runes)
	switch typ {
	case TypeEmail:
		if at := strings.LastIndexByte(s, '@'); at > 0 {
			r, _ := utf8.DecodeRuneInString(s)
			return string(r) + "***" + s[at:]
		}
	case TypePersonName:
		if n >= 2 {
			return string(runes[:1]) + strings.Repeat("*", n-1)
		}
	case TypeAddress, TypeDiagnosis, TypeDrug, TypeLabResult, TypePrescription:
		keep := min(n/2, 6)
		return string(runes[:keep]) + strings.Repeat("*", n-keep)
	}
	var head, tail int
	switch {
	case n >= 11:
		head, tail = 3, 4
	case n >= 7:
		head, tail = 2, 2
	case n >= 3:
		head, tail = 1, 0
	}
	return string(runes[:head]) + strings.Repeat("*", n-head-tail) + string(runes[n-tail:])
}

// referenceTexts returns the fixture lines and random mixtures of their
// pieces with invalid bytes, clinical text, logs and CSV.
func referenceTexts(t *testing.T) [][]byte {
	t.Helper()
	files, err := filepath.Glob("testdata/detectors/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("fixtures: %v %d", err, len(files))
	}
	var lines [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for l := range bytes.SplitSeq(b, []byte("\n")) {
			l = bytes.TrimLeft(l, "+-# ")
			l = bytes.ReplaceAll(bytes.ReplaceAll(l, []byte("⟦"), nil), []byte("⟧"), nil)
			lines = append(lines, l)
		}
	}
	pieces := append(slices.Clone(lines),
		[]byte("2024-05-01 10:00:00 INFO request id=0a1b2c3d path=/api/v1/patients status=200 client=10.1.2.3 Host: 192.168.0.1\n"),
		[]byte("123456,男,45,12.50,门诊,00123456\n"), []byte("\xff\xe4\xb8"), []byte("联系电话13812345678，邮箱 Wang.Li@Example.COM"),
		[]byte("患者王小明，身份证号11010519491231002X，诊断：2型糖尿病，二甲双胍片 0.5g 口服 tid。住址：北京市海淀区中关村大街27号。"))
	r := rand.New(rand.NewPCG(4, 2))
	texts := lines
	for range 300 {
		var b []byte
		for range 1 + r.IntN(40) {
			b = append(b, pieces[r.IntN(len(pieces))]...)
		}
		texts = append(texts, b)
	}
	return texts
}

func TestFastPathsMatchReference(t *testing.T) {
	t.Parallel()
	texts := referenceTexts(t)
	all := func(string) bool { return true }
	st := newStructured(all)
	dict, err := newDictionaries(all)
	if err != nil {
		t.Fatal(err)
	}
	collect := func(find func([]byte, func(Finding)), text []byte) []Finding {
		var out []Finding
		find(text, func(f Finding) { out = append(out, f) })
		return out
	}
	for i, text := range texts {
		got := collect(st.Find, text)
		want := collect(func(b []byte, e func(Finding)) { refStructuredFind(st, b, e) }, text)
		if !slices.Equal(got, want) {
			t.Errorf("structured, text %d %q:\ngot  %v\nwant %v", i, text, got, want)
		}
		got = collect(dict.Find, text)
		want = collect(func(b []byte, e func(Finding)) { refDictFind(dict, b, e) }, text)
		if !slices.Equal(got, want) {
			t.Errorf("dictionaries, text %d %q:\ngot  %v\nwant %v", i, text, got, want)
		}
	}
}

func TestWordSetMatchesReference(t *testing.T) {
	t.Parallel()
	words := append(slices.Concat(negativeContext(), positiveContext()[TypeIPAddress], positiveContext()[TypeMobile]), "#", "x")
	ws := newWordSet(words)
	for _, text := range referenceTexts(t) {
		for end := 0; end <= len(text); end += 1 + end%7 {
			w := contextBefore(text, end)
			if got, want := ws.last(w), refLast(words, w); got != want {
				t.Fatalf("last(%q) = %d, want %d", w, got, want)
			}
		}
	}
}

func TestMaskMatchesReference(t *testing.T) {
	t.Parallel()
	for _, text := range referenceTexts(t) {
		for _, typ := range AllTypes() {
			for s := 0; s < len(text); s += 1 + s%5 {
				v := text[s:min(len(text), s+1+s%97)]
				if got, want := Mask(typ, v), refMask(typ, v); got != want {
					t.Fatalf("Mask(%s, %q) = %q, want %q", typ, v, got, want)
				}
			}
		}
	}
}

// TestCtxSetMatchesReference checks the one-pass look-up of positive and
// negative context words against two separate searches: the decisions
// taken from (p, n) — which is nearer, and p itself when it wins — agree.
func TestCtxSetMatchesReference(t *testing.T) {
	t.Parallel()
	pos := positiveContext()
	cs := &ctxSet{}
	for i, name := range StructuredTypes() {
		cs.add(uint(i), pos[name])
	}
	cs.add(negSet, negativeContext())
	neg := negativeContext()
	if cs.key[tInsurance] != "保" || cs.key[tResidentID] != "" {
		t.Errorf("keys: insurance %q, resident ID %q", cs.key[tInsurance], cs.key[tResidentID])
	}
	// ASCII words are matched in any case, so they give no key.
	ascii := &ctxSet{}
	ascii.add(0, []string{"MRN", "mrn no"})
	if ascii.key[0] != "" || !ascii.mayHave([]byte("MRN: "), 0) {
		t.Errorf("ASCII key %q", ascii.key[0])
	}
	for _, text := range referenceTexts(t) {
		for end := 0; end <= len(text); end += 1 + end%5 {
			w := contextBefore(text, end)
			for i, name := range StructuredTypes() {
				wp, wn := refLast(pos[name], w), refLast(neg, w)
				p, n := cs.last(w, i, negSet)
				if got, want := adjustBy(p, n, 0.5, 0.2), adjustBy(wp, wn, 0.5, 0.2); got != want {
					t.Fatalf("%s in %q: (p, n) = (%d, %d), want (%d, %d)", name, w, p, n, wp, wn)
				}
				if wp >= 0 && wp >= wn && p != wp {
					t.Fatalf("%s in %q: p = %d, want %d", name, w, p, wp)
				}
				if p, _ := cs.last(w, i, -1); p != wp {
					t.Fatalf("%s alone in %q: p = %d, want %d", name, w, p, wp)
				}
				if wp >= 0 && !cs.mayHave(w, i) {
					t.Fatalf("%s in %q: mayHave false, but %q ends at %d", name, w, w[:wp], wp)
				}
			}
		}
	}
}

// TestValidRegionMatchesList checks the region bitmap against the code list
// for every six-digit number, and rejects what is not six digits.
func TestValidRegionMatchesList(t *testing.T) {
	t.Parallel()
	list := map[string]bool{}
	for i := 0; i+6 <= len(regionCodes); i += 6 {
		list[regionCodes[i:i+6]] = true
	}
	for n := range 1000000 {
		code := fmt.Sprintf("%06d", n)
		if got := validRegion([]byte(code)); got != list[code] {
			t.Fatalf("validRegion(%s) = %v", code, got)
		}
	}
	for _, bad := range []string{"", "11010", "1101055", "11010X", "1 0105", "\xff10105"} {
		if validRegion([]byte(bad)) {
			t.Errorf("validRegion(%q) = true", bad)
		}
	}
}

// TestNextDigitMatchesLoop checks the word-at-a-time search of nextDigit
// against a byte loop, for every byte value at every position of a word
// and at the ragged end of a text.
func TestNextDigitMatchesLoop(t *testing.T) {
	t.Parallel()
	ref := func(text []byte, i int) int {
		for i < len(text) && !(isDigit(text[i]) || text[i] == '@') {
			i++
		}
		return i
	}
	filler := []byte("患者abc:;<=>?ABZ[`{\x7f\xff ")
	for size := range 20 {
		text := make([]byte, size)
		for pos := range size {
			for c := range 256 {
				for k := range text {
					text[k] = filler[(k*7+pos)%len(filler)]
				}
				text[pos] = byte(c)
				for from := range min(size, 3) {
					if got, want := nextDigit(text, from), ref(text, from); got != want {
						t.Fatalf("nextDigit(%q, %d) = %d, want %d", text, from, got, want)
					}
				}
			}
		}
	}
}
