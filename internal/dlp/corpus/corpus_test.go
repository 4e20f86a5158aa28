package corpus

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func TestGenerateLabelledDeterministic(t *testing.T) {
	t.Parallel()
	a, b := GenerateLabelled(7, 50), GenerateLabelled(7, 50)
	if diff := cmp.Diff(a, b); diff != "" {
		t.Fatalf("same seed, different documents (-first +second):\n%s", diff)
	}
	if cmp.Equal(a, GenerateLabelled(8, 50)) {
		t.Fatal("different seeds gave the same documents")
	}
}

// TestSpans checks every label of a few hundred documents: inside the text,
// on character boundaries, ordered and not overlapping, and the labelled
// value passes this package's own check for its type.
func TestSpans(t *testing.T) {
	t.Parallel()
	seen := map[string]int{}
	kinds := map[string]bool{}
	for _, d := range GenerateLabelled(3, 400) {
		kinds[d.Kind] = true
		if err := d.check(); err != nil {
			t.Fatalf("%s: %v", d.Kind, err)
		}
		for i, s := range d.Spans {
			if i > 0 && s.Start < d.Spans[i-1].End {
				t.Fatalf("%s: span %d overlaps the previous one", d.Kind, i)
			}
			v := d.Text[s.Start:s.End]
			seen[s.Type]++
			if msg := checkValue(s.Type, v); msg != "" {
				t.Errorf("%s: %s %q: %s", d.Kind, s.Type, v, msg)
			}
		}
	}
	for _, k := range Kinds() {
		if !kinds[k] {
			t.Errorf("no document of kind %s", k)
		}
	}
	for _, typ := range []string{TypeResidentID, TypeMobile, TypeLandline, TypeEmail, TypeBankCard, TypePassport, TypeHKMacauPermit,
		TypeUSCC, TypeMedicalInsurance, TypeIPAddress, TypePersonName, TypeAddress, TypeDrug, TypePrescription, TypeLabResult, TypeDiagnosis} {
		if seen[typ] == 0 {
			t.Errorf("no %s labelled in 400 documents", typ)
		}
	}
}

var (
	reMobile   = regexp.MustCompile(`^(86 ?)?1\d{2}[- ]?\d{4}[- ]?\d{4}$`)
	rePassport = regexp.MustCompile(`^(E\d{8}|E[A-HJ-NP-Z]\d{7}|G\d{8}|[DSP]E\d{7})$`)
	rePermit   = regexp.MustCompile(`^(C\d{8}|C[A-HJ-NP-Z]\d{7}|[HM]\d{8}(\d{2})?)$`)
	reIPv4     = regexp.MustCompile(`^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$`)
	reEmail    = regexp.MustCompile(`^[a-z0-9._]+@[a-z0-9.-]+\.[a-z]{2,}$`)
)

var unsep = strings.NewReplacer("-", "", " ", "")

func checkValue(typ, v string) string {
	switch typ {
	case TypeResidentID:
		v = strings.ToUpper(unsep.Replace(v))
		if len(v) == 15 {
			return ""
		}
		if !validID(v) {
			return "check character wrong"
		}
	case TypeBankCard:
		if !luhnValid(unsep.Replace(v)) {
			return "fails Luhn"
		}
	case TypeUSCC:
		if len(v) != 18 || usccCheck(v[:17]) != v[17] || orgCodeCheck(v[8:16]) != v[16] {
			return "check character wrong"
		}
	case TypeMobile:
		if !reMobile.MatchString(v) {
			return "not a mobile number"
		}
		d := unsep.Replace(v)
		if !isMobile(d[len(d)-11:]) {
			return "unknown segment"
		}
	case TypePassport:
		if !rePassport.MatchString(v) {
			return "not a passport number"
		}
	case TypeHKMacauPermit:
		if !rePermit.MatchString(v) {
			return "not a permit number"
		}
	case TypeIPAddress:
		if !reIPv4.MatchString(v) {
			return "not an IPv4 address"
		}
	case TypeEmail:
		if !reEmail.MatchString(v) {
			return "not an e-mail address"
		}
	case TypePersonName:
		if n := utf8.RuneCountInString(v); n < 2 || n > 4 && !strings.Contains(v, " ") {
			return "not a name"
		}
	}
	return ""
}

// TestChecksums pins the check characters against published examples.
func TestChecksums(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"11010519491231002X", true}, // GB 11643-1999 example
		{"440524188001010014", true}, // GB 11643-1999 example
		{"110105194912310021", false},
	} {
		if got := validID(tc.name); got != tc.ok {
			t.Errorf("validID(%s) = %v", tc.name, got)
		}
	}
	if !luhnValid("4111111111111111") || luhnValid("4111111111111112") {
		t.Error("Luhn check disagrees with the Visa test number")
	}
	// Codes published by their holders: the GB 32100 check character and
	// the GB 11714 check character of the organisation code inside.
	for _, code := range []string{"91350100M000100Y43", "91440300708461136T"} {
		if got := usccCheck(code[:17]); got != code[17] {
			t.Errorf("usccCheck(%s) = %c", code, got)
		}
		if got := orgCodeCheck(code[8:16]); got != code[16] {
			t.Errorf("orgCodeCheck(%s) = %c", code[8:16], got)
		}
	}
	r := rand.New(rand.NewPCG(1, 1))
	for range 200 {
		if c := luhnFailing(r); luhnValid(c) {
			t.Fatalf("luhnFailing gave a valid number %s", c)
		}
		if s := orderNo19(r); luhnValid(s) || len(s) != 19 {
			t.Fatalf("orderNo19 gave %s", s)
		}
		if u := wrongUSCC(r, uscc(r, "440305")); usccCheck(u[:17]) == u[17] {
			t.Fatalf("wrongUSCC gave a valid code %s", u)
		}
		if id := residentID(r, "110105", birthDate(r)); validID(wrongCheck(r, id)) {
			t.Fatal("wrongCheck gave a valid ID")
		}
	}
}

// TestRegionsReal checks the hand-written region codes against the
// detector's GB/T 2260 list and the names against its division names, and
// that the unknown codes are in no revision.
func TestRegionsReal(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("../regions_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string]bool{}
	for _, m := range regexp.MustCompile(`"(\d+)"`).FindAllSubmatch(src, -1) {
		for s := m[1]; len(s) >= 6; s = s[6:] {
			codes[string(s[:6])] = true
		}
	}
	if len(codes) < 7000 {
		t.Fatalf("read %d codes from regions_gen.go", len(codes))
	}
	div, err := os.ReadFile("../data/divisions.txt")
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, l := range strings.Split(string(div), "\n") {
		n, _, _ := strings.Cut(l, "\t")
		names[n] = true
	}
	for _, r := range regions {
		if !codes[r.code] {
			t.Errorf("%s (%s) is not a GB/T 2260 code", r.code, r.district)
		}
		for _, n := range []string{r.province, r.city, r.district} {
			if n != "" && !names[n] {
				t.Errorf("%s: %s is not a division name", r.code, n)
			}
		}
	}
	for _, c := range unknownRegions {
		if codes[c] {
			t.Errorf("unknown region %s is a GB/T 2260 code", c)
		}
	}
}

func TestSurnamesCopy(t *testing.T) {
	t.Parallel()
	orig, err := os.ReadFile("../data/surnames.txt")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(orig, surnamesText) {
		t.Fatal("data/surnames.txt differs from ../data/surnames.txt; copy it again")
	}
}

func TestWrite(t *testing.T) {
	t.Parallel()
	for _, st := range []Stream{StreamMixed, StreamClinical, StreamLog, StreamCSV} {
		var a, b bytes.Buffer
		if err := Write(&a, st, 100_000, 5); err != nil {
			t.Fatal(err)
		}
		if err := Write(&b, st, 100_000, 5); err != nil {
			t.Fatal(err)
		}
		if a.Len() < 100_000 || a.Len() > 120_000 || !bytes.Equal(a.Bytes(), b.Bytes()) || !utf8.Valid(a.Bytes()) {
			t.Errorf("stream %d: %d bytes, deterministic %v", st, a.Len(), bytes.Equal(a.Bytes(), b.Bytes()))
		}
	}
	if err := Write(&bytes.Buffer{}, Stream(99), 10, 1); err == nil {
		t.Error("unknown stream accepted")
	}
	if err := WriteMixed(failWriter{}, 1<<20, 1); err == nil {
		t.Error("write error not reported")
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestReadJSONL(t *testing.T) {
	t.Parallel()
	good := `{"kind":"app_log","text":"电话13812345678","spans":[{"type":"cn_mobile","start":6,"end":17}]}` + "\n\n"
	docs, err := ReadJSONL(strings.NewReader(good))
	if err != nil || len(docs) != 1 || docs[0].Spans[0].End != 17 {
		t.Fatalf("ReadJSONL(good) = %v, %v", docs, err)
	}
	for _, tc := range []struct{ name, in string }{
		{"not json", "{"},
		{"outside", `{"text":"abc","spans":[{"type":"x","start":1,"end":9}]}`},
		{"empty span", `{"text":"abc","spans":[{"type":"x","start":1,"end":1}]}`},
		{"no type", `{"text":"abc","spans":[{"start":0,"end":1}]}`},
		{"mid rune", `{"text":"电话","spans":[{"type":"x","start":1,"end":3}]}`},
	} {
		if _, err := ReadJSONL(strings.NewReader(tc.in)); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: err = %v, want ErrFormat", tc.name, err)
		}
	}
}

func FuzzReadJSONL(f *testing.F) {
	for _, d := range GenerateLabelled(1, 3) {
		var b bytes.Buffer
		b.WriteString(`{"kind":"` + d.Kind + `","text":"x","spans":[]}` + "\n")
		f.Add(b.Bytes())
	}
	f.Add([]byte(`{"text":"电话","spans":[{"type":"x","start":3,"end":6}]}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		docs, err := ReadJSONL(bytes.NewReader(in))
		if err == nil {
			spansInside(t, docs)
		}
	})
}

// spansInside fails when a document read has a span that is empty or outside its text.
func spansInside(t *testing.T, docs []Document) {
	t.Helper()
	for _, d := range docs {
		for _, s := range d.Spans {
			if s.Start < 0 || s.End > len(d.Text) || s.Start >= s.End {
				t.Fatalf("accepted span %v outside text of %d bytes", s, len(d.Text))
			}
		}
	}
}

func TestScore(t *testing.T) {
	t.Parallel()
	s := Score{}
	labels := []Span{{"a", 0, 5}, {"a", 10, 15}, {"b", 20, 25}}
	s.Add(labels, []Span{{"a", 0, 5}, {"a", 11, 15}, {"c", 30, 31}})
	want := Score{"a": {TP: 1, FP: 1, FN: 1, Overlap: 2, Labels: 2}, "b": {FN: 1, Labels: 1}, "c": {FP: 1}}
	if diff := cmp.Diff(want, s); diff != "" {
		t.Fatalf("score (-want +got):\n%s", diff)
	}
	if p, r := s["a"].Precision(), s["a"].Recall(); p != 0.5 || r != 0.5 {
		t.Errorf("precision %v recall %v", p, r)
	}
	var b bytes.Buffer
	if err := s.WriteMarkdown(&b, []string{"b", "a"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "| b | 1 | 0 | 0 | 1 |") || strings.Index(b.String(), "| b |") > strings.Index(b.String(), "| a |") {
		t.Errorf("table:\n%s", b.String())
	}
}
