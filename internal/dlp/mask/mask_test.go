package mask_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/medguard/medguard/internal/dlp"
	"github.com/medguard/medguard/internal/dlp/mask"
)

var key = []byte("test key: not a secret")

// raw holds the structured identifiers of testdata/*; none may survive the
// default policy.
var raw = []string{"11010519491231002X", "13812345678", "zhang.san@example.com", "6222021234567890128",
	"440306199003071232", "15912345678", "510108198506153016", "13912345678"}

func scanner(t testing.TB) *dlp.Scanner {
	t.Helper()
	s, err := dlp.NewScanner(dlp.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func masker(t testing.TB, p mask.Policy, k []byte) *mask.Masker {
	t.Helper()
	m, err := mask.New(scanner(t), p, k)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func noRaw(t *testing.T, out string) {
	t.Helper()
	for _, r := range raw {
		if strings.Contains(out, r) {
			t.Errorf("raw value %s survived:\n%s", r, out)
		}
	}
}

func TestMethods(t *testing.T) {
	t.Parallel()
	m := masker(t, mask.DefaultPolicy(), key)
	id := "11010519491231002X"
	tests := []struct {
		name, method, typ, in string
		want                  *regexp.Regexp
	}{
		{"redact", mask.MethodRedact, dlp.TypeResidentID, id, regexp.MustCompile(`^\[cn_resident_id\]$`)},
		{"redact unknown type", mask.MethodRedact, "", "whatever", regexp.MustCompile(`^\[redacted\]$`)},
		{"partial", mask.MethodPartial, dlp.TypeResidentID, id, regexp.MustCompile(`^110\*{11}002X$`)},
		{"partial mobile", mask.MethodPartial, dlp.TypeMobile, "13812345678", regexp.MustCompile(`^138\*{4}5678$`)},
		{"pseudonym", mask.MethodPseudonym, dlp.TypeResidentID, id, regexp.MustCompile(`^PSN-[A-Z2-7]{16}$`)},
		{"token keeps classes", mask.MethodToken, dlp.TypeResidentID, id, regexp.MustCompile(`^\d{17}[A-Z]$`)},
		{"token keeps punctuation", mask.MethodToken, dlp.TypeEmail, "zhang.san@example.com", regexp.MustCompile(`^[a-z]{5}\.[a-z]{3}@[a-z]{7}\.[a-z]{3}$`)},
		{"token of a name", mask.MethodToken, dlp.TypePersonName, "张三", regexp.MustCompile(`^\p{Han}{2}$`)},
		{"generalize birth date", mask.MethodGeneralize, "", "1990-03-07", regexp.MustCompile(`^1990$`)},
		{"generalize Chinese date", mask.MethodGeneralize, "", "1990年3月7日", regexp.MustCompile(`^1990$`)},
		{"generalize compact date", mask.MethodGeneralize, "", "19900307", regexp.MustCompile(`^1990$`)},
		{"generalize age", mask.MethodGeneralize, "", "34", regexp.MustCompile(`^30-39$`)},
		{"generalize old age", mask.MethodGeneralize, "", "93岁", regexp.MustCompile(`^90\+$`)},
		{"generalize address", mask.MethodGeneralize, dlp.TypeAddress, "北京市朝阳区建国路88号3号楼201室", regexp.MustCompile(`^北京市朝阳区$`)},
		{"generalize resident ID", mask.MethodGeneralize, dlp.TypeResidentID, id, regexp.MustCompile(`^1949$`)},
		{"generalize mobile", mask.MethodGeneralize, dlp.TypeMobile, "138-1234-5678", regexp.MustCompile(`^138\*{8}$`)},
		{"generalize what cannot be", mask.MethodGeneralize, dlp.TypeEmail, "a@b.cn", regexp.MustCompile(`^\[email\]$`)},
		{"keep", mask.MethodKeep, dlp.TypeMobile, "13812345678", regexp.MustCompile(`^13812345678$`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := m.Value(tt.method, tt.typ, tt.in)
			if !tt.want.MatchString(got) {
				t.Errorf("Value(%s, %s, %q) = %q, want %s", tt.method, tt.typ, tt.in, got, tt.want)
			}
			if tt.method != mask.MethodKeep && strings.Contains(got, tt.in) {
				t.Errorf("%q holds the raw value", got)
			}
		})
	}
}

// TestKeyedStability checks that pseudonyms and tokens are the same in two
// runs with the same key, differ with another key, and differ between
// values.
func TestKeyedStability(t *testing.T) {
	t.Parallel()
	for _, hash := range []string{mask.HashSM3, mask.HashSHA256} {
		p := mask.Policy{Default: mask.MethodPseudonym, Hash: hash}
		a, b := masker(t, p, key), masker(t, p, key)
		other := masker(t, p, []byte("another key"))
		for _, method := range []string{mask.MethodPseudonym, mask.MethodToken} {
			v := "11010519491231002X"
			x, y, z := a.Value(method, dlp.TypeResidentID, v), b.Value(method, dlp.TypeResidentID, v), other.Value(method, dlp.TypeResidentID, v)
			if x != y {
				t.Errorf("%s/%s not stable: %q vs %q", hash, method, x, y)
			}
			if x == z {
				t.Errorf("%s/%s same with another key: %q", hash, method, x)
			}
			if w := a.Value(method, dlp.TypeResidentID, "440306199003071232"); w == x {
				t.Errorf("%s/%s same for two values: %q", hash, method, x)
			}
		}
	}
	sm3 := masker(t, mask.Policy{Hash: mask.HashSM3}, key).Value(mask.MethodPseudonym, "", "x")
	sha := masker(t, mask.Policy{Hash: mask.HashSHA256}, key).Value(mask.MethodPseudonym, "", "x")
	if sm3 == sha {
		t.Error("sm3 and sha256 pseudonyms are equal")
	}
	// The same text masked twice gives the same output.
	m := masker(t, mask.Policy{Default: mask.MethodPseudonym}, key)
	text := readFile(t, "text.txt")
	if a, b := m.Text(text, nil), masker(t, mask.Policy{Default: mask.MethodPseudonym}, key).Text(text, nil); !bytes.Equal(a, b) {
		t.Errorf("two runs differ:\n%s\n%s", a, b)
	}
}

func TestPolicy(t *testing.T) {
	t.Parallel()
	p, err := mask.ParsePolicy(readFile(t, "policy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Columns["身份证号"] != mask.MethodPseudonym || p.Types["email"] != mask.MethodRedact || !p.NeedsKey() {
		t.Errorf("policy = %+v", p)
	}
	for _, bad := range []string{"default: scramble", "columns: {年龄: blur}", "hash: md5", "colums: {}", "types: [1, 2]"} {
		if _, err := mask.ParsePolicy([]byte(bad)); err == nil {
			t.Errorf("bad policy %q accepted", bad)
		}
	}
	if _, err := mask.New(scanner(t), p, nil); err == nil {
		t.Error("a pseudonym policy without a key was accepted")
	}
	if _, err := mask.New(scanner(t), mask.DefaultPolicy(), nil); err != nil {
		t.Errorf("the default policy needs no key: %v", err)
	}
}

func TestTextDefaultPolicy(t *testing.T) {
	t.Parallel()
	m := masker(t, mask.DefaultPolicy(), nil)
	var st mask.Stats
	out := m.Text(readFile(t, "text.txt"), &st)
	noRaw(t, string(out))
	for _, f := range scanner(t).Scan(out) {
		for _, typ := range dlp.StructuredTypes() {
			if f.Type == typ {
				t.Errorf("masked text still has a %s at %d", f.Type, f.Start)
			}
		}
	}
	if !strings.Contains(string(out), "110***********002X") || st.Masked[dlp.TypeResidentID] != 1 {
		t.Errorf("masked text: %s\nstats %v", out, st)
	}
	if !bytes.Contains(out, []byte("诊断：")) {
		t.Errorf("text around the values was not kept: %s", out)
	}
}

func TestCSVColumnPolicy(t *testing.T) {
	t.Parallel()
	p, err := mask.ParsePolicy(readFile(t, "policy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	m := masker(t, p, key)
	var out bytes.Buffer
	risk, err := m.File(mask.FormatCSV, readFile(t, "patients.csv"), &out, mask.TableOptions{Quasi: []string{"年龄", "住址"}, Sensitive: "诊断"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	noRaw(t, out.String())
	rows, err := csv.NewReader(&out).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	in, _ := csv.NewReader(bytes.NewReader(readFile(t, "patients.csv"))).ReadAll()
	if diff := cmp.Diff(in[0], rows[0]); diff != "" || len(rows) != len(in) {
		t.Fatalf("header or row count changed (-in +out):\n%s", diff)
	}
	li := rows[1]
	checks := []struct {
		col  int
		want *regexp.Regexp
	}{
		{0, regexp.MustCompile(`^\p{Han}{2}$`)},                // 姓名: token
		{1, regexp.MustCompile(`^PSN-[A-Z2-7]{16}$`)},          // 身份证号: pseudonym
		{2, regexp.MustCompile(`^159\*{4}5678$`)},              // 手机: default partial
		{3, regexp.MustCompile(`^30-39$`)},                     // 年龄: generalize
		{4, regexp.MustCompile(`^1990$`)},                      // 出生日期: generalize
		{5, regexp.MustCompile(`^广东省深圳市南山区$`)},                 // 住址: generalize
		{6, regexp.MustCompile(`^高血压$|^高\*+$|^\[diagnosis]$`)}, // 诊断: detected or not
	}
	for _, c := range checks {
		if !c.want.MatchString(li[c.col]) {
			t.Errorf("column %s = %q, want %s", rows[0][c.col], li[c.col], c.want)
		}
	}
	if li[0] == "李四" {
		t.Error("name kept")
	}
	if risk == nil || risk.Rows != 2 || risk.K != 1 || risk.Classes != 2 {
		t.Errorf("risk = %+v", risk)
	}
}

// TestRisk checks k-anonymity and l-diversity on a table computed by hand:
// classes (30-39, 南山区) ×3 with 2 diagnoses, (40-49, 南山区) ×2 with 1,
// (40-49, 福田区) ×1.
func TestRisk(t *testing.T) {
	t.Parallel()
	header := []string{"年龄", "区", "诊断"}
	rows := [][]string{
		{"30-39", "南山区", "高血压"},
		{"30-39", "南山区", "糖尿病"},
		{"30-39", "南山区", "高血压"},
		{"40-49", "南山区", "哮喘"},
		{"40-49", "南山区", "哮喘"},
		{"40-49", "福田区", "肺炎"},
	}
	got, err := mask.ComputeRisk(header, rows, []string{"年龄", "区"}, "诊断")
	if err != nil {
		t.Fatal(err)
	}
	want := mask.Risk{Quasi: []string{"年龄", "区"}, Sensitive: "诊断", Rows: 6, Classes: 3, K: 1, L: 1, Unique: 1}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("risk (-want +got):\n%s", diff)
	}
	got, _ = mask.ComputeRisk(header, rows[:5], []string{"年龄", "区"}, "诊断")
	if got.K != 2 || got.L != 1 || got.Classes != 2 || got.Unique != 0 {
		t.Errorf("risk of the first 5 rows = %+v, want k=2 l=1", got)
	}
	got, _ = mask.ComputeRisk(header, rows[:3], []string{"区"}, "诊断")
	if got.K != 3 || got.L != 2 {
		t.Errorf("risk of the first 3 rows over 区 = %+v, want k=3 l=2", got)
	}
	if _, err := mask.ComputeRisk(header, rows, []string{"性别"}, ""); err == nil {
		t.Error("an unknown quasi-identifier column was accepted")
	}
}

func TestJSON(t *testing.T) {
	t.Parallel()
	m := masker(t, mask.Policy{Columns: map[string]string{"name": mask.MethodPseudonym, "age": mask.MethodGeneralize}}, key)
	var out bytes.Buffer
	var st mask.Stats
	if _, err := m.File(mask.FormatJSON, readFile(t, "record.json"), &out, mask.TableOptions{}, &st); err != nil {
		t.Fatal(err)
	}
	if !json.Valid(out.Bytes()) {
		t.Fatalf("output is not JSON: %s", out.String())
	}
	noRaw(t, out.String())
	var doc struct {
		Patient struct {
			Name   string `json:"name"`
			IDCard string `json:"idCard"`
			Phones []any  `json:"phones"`
			Age    any    `json:"age"`
		} `json:"patient"`
		Visits []struct {
			Paid bool `json:"paid"`
			Ref  any  `json:"ref"`
		} `json:"visits"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	p := doc.Patient
	if !strings.HasPrefix(p.Name, "PSN-") || p.IDCard != "110***********002X" || p.Age != "40-49" ||
		len(p.Phones) != 2 || p.Phones[1] != "139****5678" || !doc.Visits[0].Paid || doc.Visits[0].Ref != nil {
		t.Errorf("masked document: %s", out.String())
	}
	// Key order is kept.
	if i, j := strings.Index(out.String(), `"patient"`), strings.Index(out.String(), `"visits"`); i < 0 || j < i {
		t.Errorf("key order changed: %s", out.String())
	}
	// JSON Lines stay one document a line.
	out.Reset()
	if err := m.JSON(strings.NewReader("{\"a\":\"13812345678\"}\n{\"a\":1}\n"), &out, nil); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "{\"a\":\"138****5678\"}\n{\"a\":1}\n" {
		t.Errorf("JSON lines = %q", got)
	}
	for _, bad := range []string{"", "{", `{"a":}`, `[1,2`, `{"a":1}}`, strings.Repeat("[", 2000)} {
		if err := m.JSON(strings.NewReader(bad), new(bytes.Buffer), nil); err == nil {
			t.Errorf("bad JSON %q accepted", bad)
		} else if bad != "" && !strings.Contains(err.Error(), "at byte") {
			t.Errorf("error %q does not name the place", err)
		}
	}
}

func TestGBKText(t *testing.T) {
	t.Parallel()
	gbk := []byte("\xd5\xc5\xc8\xfd \xca\xd6\xbb\xfa 13812345678") // 张三 手机 …
	var out bytes.Buffer
	if _, err := masker(t, mask.DefaultPolicy(), nil).File(mask.FormatText, gbk, &out, mask.TableOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	if !utf8.Valid(out.Bytes()) || !strings.Contains(out.String(), "张") || strings.Contains(out.String(), "13812345678") {
		t.Errorf("GBK text masked to %q", out.String())
	}
}

// TestUTF16Text: a UTF-16 file (as Windows Notepad saves "Unicode") is decoded before
// masking, so its phone number is found and masked.
func TestUTF16Text(t *testing.T) {
	t.Parallel()
	u16 := []byte{0xFF, 0xFE}
	for _, r := range "张三 手机 13812345678" {
		u16 = append(u16, byte(r), byte(r>>8))
	}
	var out bytes.Buffer
	if _, err := masker(t, mask.DefaultPolicy(), nil).File(mask.FormatText, u16, &out, mask.TableOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	if !utf8.Valid(out.Bytes()) || !strings.Contains(out.String(), "手机") || strings.Contains(out.String(), "13812345678") {
		t.Errorf("UTF-16 text masked to %q", out.String())
	}
}

// FuzzMaskText checks that masking never panics, writes valid UTF-8, and
// that no structured value detected in the input survives the default
// policy.
func FuzzMaskText(f *testing.F) {
	for _, name := range []string{"text.txt", "patients.csv", "record.json"} {
		f.Add(readFile(f, name))
	}
	f.Add([]byte("\xff身份证 11010519491231002X\x80 138\xe0 13812345678"))
	s := scanner(f)
	m, err := mask.New(s, mask.DefaultPolicy(), nil)
	if err != nil {
		f.Fatal(err)
	}
	structured := map[string]bool{}
	for _, typ := range dlp.StructuredTypes() {
		structured[typ] = true
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		out := m.Text(text, nil)
		if !utf8.Valid(out) {
			t.Fatalf("invalid UTF-8 out: %q", out)
		}
		valid := bytes.ToValidUTF8(text, []byte("\uFFFD"))
		before := map[string]bool{}
		for _, fd := range s.Scan(valid) {
			if structured[fd.Type] {
				before[string(valid[fd.Start:fd.End])] = true
			}
		}
		for _, fd := range s.Scan(out) {
			if v := string(out[fd.Start:fd.End]); structured[fd.Type] && before[v] {
				t.Fatalf("%s value %q survived masking: %q", fd.Type, v, out)
			}
		}
	})
}

// FuzzMaskJSON checks that masking JSON never panics and that valid JSON
// comes out as valid JSON, one document a line.
func FuzzMaskJSON(f *testing.F) {
	f.Add(readFile(f, "record.json"))
	f.Add([]byte(`[{"a":"13812345678"},1.5e3,null,true,"\u003c"]` + "\n" + `{"b":[]}`))
	m := masker(f, mask.Policy{Columns: map[string]string{"a": mask.MethodToken, "age": mask.MethodGeneralize}}, key)
	f.Fuzz(func(t *testing.T, data []byte) {
		var out bytes.Buffer
		if err := m.JSON(bytes.NewReader(data), &out, nil); err != nil {
			return
		}
		dec := json.NewDecoder(&out)
		for {
			var v any
			if err := dec.Decode(&v); err != nil {
				if err.Error() == "EOF" {
					break
				}
				t.Fatalf("output is not JSON (%v): %q from %q", err, out.String(), data)
			}
		}
	})
}

// FuzzMaskTable checks that masking a table never panics and keeps the
// number of records and fields of a table that parses.
func FuzzMaskTable(f *testing.F) {
	f.Add(readFile(f, "patients.csv"))
	f.Add([]byte("a\tb\n\"x\ty\"\t13812345678\n"))
	m := masker(f, mask.Policy{Columns: map[string]string{"身份证号": mask.MethodPseudonym, "年龄": mask.MethodGeneralize}}, key)
	f.Fuzz(func(t *testing.T, data []byte) {
		var out bytes.Buffer
		if _, err := m.Table(bytes.NewReader(data), &out, mask.TableOptions{}, nil); err != nil {
			return
		}
		parse := func(b []byte) [][]string {
			sep := ','
			if line, _, _ := bytes.Cut(bytes.TrimLeft(bytes.TrimPrefix(b, []byte("\uFEFF")), "\r\n"), []byte("\n")); bytes.Count(line, []byte("\t")) > bytes.Count(line, []byte(",")) {
				sep = '\t'
			}
			r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b, []byte("\uFEFF"))))
			r.Comma, r.LazyQuotes, r.FieldsPerRecord = sep, true, -1
			rows, err := r.ReadAll()
			if err != nil {
				t.Fatalf("output does not parse (%v): %q", err, b)
			}
			return rows
		}
		in, got := parse(bytes.ToValidUTF8(data, []byte("\uFFFD"))), parse(out.Bytes())
		if len(in) != len(got) {
			t.Fatalf("%d records in, %d out: %q → %q", len(in), len(got), data, out.String())
		}
		for i := range in {
			if len(in[i]) != len(got[i]) {
				t.Fatalf("record %d: %d fields in, %d out", i, len(in[i]), len(got[i]))
			}
		}
	})
}
