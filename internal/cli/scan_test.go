package cli

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// scanData is the scan package's test tree: a clinical note, a patient
// table and a clean file.
const scanData = "../dlp/scan/testdata/tree"

// scanRaw are identifiers in scanData that no output may show.
var scanRaw = []string{"11010519491231002X", "13812345678", "440306199003071232", "15912345678", "zhang.san@example.com"}

func assertNoRaw(t *testing.T, where, out string) {
	t.Helper()
	for _, r := range scanRaw {
		if strings.Contains(out, r) {
			t.Errorf("%s shows the raw value %s", where, r)
		}
	}
}

func TestScanCommand(t *testing.T) {
	t.Parallel()
	code, out, errs := runCLI(t, "", "scan", scanData, "--format", "json")
	if code != ExitOK {
		t.Fatalf("scan json = %d %q", code, errs)
	}
	assertNoRaw(t, "json output", out)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for _, line := range lines[:len(lines)-1] {
		var f map[string]any
		if err := json.Unmarshal([]byte(line), &f); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		for _, k := range []string{"path", "type", "start", "end", "line", "confidence", "category", "level", "preview"} {
			if _, ok := f[k]; !ok {
				t.Errorf("line lacks %q: %s", k, line)
			}
		}
	}
	var sum struct {
		Summary struct {
			Files        int `json:"files"`
			Findings     int `json:"findings"`
			HighestLevel int `json:"highest_level"`
		} `json:"summary"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil || sum.Summary.Files != 3 ||
		sum.Summary.Findings != len(lines)-1 || sum.Summary.HighestLevel != 4 {
		t.Errorf("summary line %q (%v)", lines[len(lines)-1], err)
	}

	// --fail-on: level-4 data found → exit 1; nothing of level 5 → 0.
	if code, _, errs := runCLI(t, "", "scan", scanData, "--fail-on", "4"); code != ExitError || !strings.Contains(errs, "level 4") || strings.Contains(errs, "at or above the --fail-on level") {
		t.Errorf("--fail-on 4 = %d %q, want %d and only the scan's own message", code, errs, ExitError)
	}
	if code, _, errs := runCLI(t, "", "scan", scanData, "--fail-on", "5"); code != ExitOK {
		t.Errorf("--fail-on 5 = %d %q", code, errs)
	}

	// --types keeps only the types asked for.
	code, out, _ = runCLI(t, "", "scan", scanData, "--format", "csv", "--types", "cn_mobile")
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if code != ExitOK || err != nil || len(rows) != 4 || rows[0][0] != "path" {
		t.Fatalf("csv --types = %d %v %q", code, err, out)
	}
	for _, r := range rows[1:] {
		if r[1] != "cn_mobile" {
			t.Errorf("--types cn_mobile gave %v", r)
		}
	}

	// Table output, SARIF, standard input and --profile.
	code, out, errs = runCLI(t, "", "scan", scanData, "--profile")
	if code != ExitOK || !strings.Contains(out, "cn_resident_id") || !strings.Contains(errs, "MB/s") {
		t.Errorf("table = %d %q %q", code, out, errs)
	}
	assertNoRaw(t, "table output", out)
	code, out, _ = runCLI(t, "", "scan", scanData, "--format", "sarif")
	if code != ExitOK || !strings.Contains(out, `"version": "2.1.0"`) {
		t.Errorf("sarif = %d %q", code, out)
	}
	code, out, _ = runCLI(t, "手机 13812345678\n", "scan", "-", "--format", "json")
	if code != ExitOK || !strings.Contains(out, `"path":"-","type":"cn_mobile"`) {
		t.Errorf("stdin = %d %q", code, out)
	}

	// A problem is reported on stderr for table output.
	dir := t.TempDir()
	if err := os.Symlink(filepath.Join(dir, "gone"), filepath.Join(dir, "dangling.txt")); err != nil {
		t.Fatal(err)
	}
	if code, _, errs = runCLI(t, "", "scan", dir); code != ExitOK || !strings.Contains(errs, "dangling.txt: unreadable") {
		t.Errorf("problem = %d %q", code, errs)
	}

	for _, bad := range [][]string{
		{"scan", scanData, "--format", "xml"},
		{"scan", scanData, "--fail-on", "9"},
		{"scan"},
	} {
		if code, _, _ := runCLI(t, "", bad...); code != ExitUsage {
			t.Errorf("%v = %d, want %d", bad, code, ExitUsage)
		}
	}
	if code, _, _ := runCLI(t, "", "scan", scanData, "--types", "no_such_type"); code != ExitError {
		t.Errorf("unknown type = %d", code)
	}
	if code, _, _ := runCLI(t, "", "scan", "no/such/path"); code != ExitError {
		t.Errorf("missing path = %d", code)
	}
}

func TestScanDetectorsFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rules := filepath.Join(dir, "detectors.yaml")
	os.WriteFile(rules, []byte("types: [medical_record_no]\ncustom:\n  - name: medical_record_no\n    pattern: 'MR\\d{6}'\n    context: [病案号]\n"), 0o644)
	note := filepath.Join(dir, "note.txt")
	os.WriteFile(note, []byte("病案号 MR123456，手机 13812345678\n"), 0o644)
	code, out, errs := runCLI(t, "", "scan", note, "--detectors", rules, "--format", "csv")
	if code != ExitOK || !strings.Contains(out, "medical_record_no") || strings.Contains(out, "cn_mobile") {
		t.Errorf("custom detector = %d %q %q", code, out, errs)
	}
	os.WriteFile(rules, []byte("typo: []\n"), 0o644)
	if code, _, errs := runCLI(t, "", "scan", note, "--detectors", rules); code != ExitError || !strings.Contains(errs, "typo") {
		t.Errorf("bad detectors file = %d %q", code, errs)
	}
}

func runWithEnv(t *testing.T, env map[string]string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errb, func(k string) string { return env[k] }, nil)
	return code, out.String(), errb.String()
}

func TestMaskCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := filepath.Join(dir, "patients.csv")
	os.WriteFile(in, []byte("姓名,身份证号,手机,年龄,住址,诊断\n"+
		"李四,440306199003071232,15912345678,34,广东省深圳市南山区科技园路1号,高血压\n"+
		"王五,510108198506153016,13912345678,36,广东省深圳市南山区科技园路2号,糖尿病\n"+
		"赵六,11010519491231002X,13812345678,75,北京市朝阳区建国路88号,高血压\n"), 0o644)
	policy := filepath.Join(dir, "policy.yaml")
	os.WriteFile(policy, []byte("columns: {姓名: token, 身份证号: pseudonym, 年龄: generalize, 住址: generalize}\n"), 0o644)
	keyFile := filepath.Join(dir, "key")
	os.WriteFile(keyFile, []byte("0123456789abcdef0123\n"), 0o600)

	outA, outB := filepath.Join(dir, "a.csv"), filepath.Join(dir, "b.csv")
	code, out, errs := runCLI(t, "", "mask", in, "--out", outA, "--policy", policy, "--key-file", keyFile,
		"--quasi", "年龄,住址", "--sensitive", "诊断")
	if code != ExitOK || !strings.Contains(out, "k=1") || !strings.Contains(out, "l=1") || !strings.Contains(out, "masked 18 values") {
		t.Fatalf("mask = %d %q %q", code, out, errs)
	}
	a, _ := os.ReadFile(outA)
	assertNoRaw(t, "masked CSV", string(a))
	rows, err := csv.NewReader(bytes.NewReader(a)).ReadAll()
	if err != nil || len(rows) != 4 || len(rows[0]) != 6 || rows[1][3] != "30-39" || rows[1][4] != "广东省深圳市南山区" {
		t.Fatalf("masked CSV %v: %s", err, a)
	}
	// The same key from the environment gives the same pseudonyms.
	code, out, _ = runWithEnv(t, map[string]string{"MEDGUARD_MASK_KEY": "0123456789abcdef0123"}, "", "mask", in, "--out", outB,
		"--policy", policy, "--quasi", "年龄,住址", "--format", "json")
	var rep struct {
		Masked map[string]int  `json:"masked"`
		Risk   struct{ K int } `json:"risk"`
	}
	if code != ExitOK || json.Unmarshal([]byte(out), &rep) != nil || rep.Risk.K != 1 || rep.Masked["cn_resident_id"] != 3 {
		t.Errorf("mask --format json = %d %q", code, out)
	}
	if b, _ := os.ReadFile(outB); !bytes.Equal(a, b) {
		t.Errorf("two runs with the same key differ:\n%s\n%s", a, b)
	}
	// Another key, other pseudonyms.
	code, _, _ = runWithEnv(t, map[string]string{"MEDGUARD_MASK_KEY": "another key of enough length"}, "", "mask", in, "--out", outB, "--policy", policy)
	if b, _ := os.ReadFile(outB); code != ExitOK || bytes.Equal(a, b) {
		t.Errorf("another key = %d, same output", code)
	}

	// JSON on stdin, default policy, to stdout; the report goes to stderr.
	code, out, errs = runCLI(t, `{"phone":"13812345678","n":1}`, "mask", "-", "--out", "-", "--input-format", "json")
	if code != ExitOK || out != "{\"phone\":\"138****5678\",\"n\":1}\n" || !strings.Contains(errs, "masked 1 values") {
		t.Errorf("mask json stdin = %d %q %q", code, out, errs)
	}

	for _, bad := range [][]string{
		{"mask", in},              // no --out
		{"mask", in, "--out", in}, // overwrite the input
		{"mask", in, "--out", outB, "--policy", policy},      // no key
		{"mask", in, "--out", outB, "--sensitive", "诊断"},     // --sensitive without --quasi
		{"mask", in, "--out", outB, "--format", "xml"},       // bad format
		{"mask", policy, "--out", outB, "--quasi", "年龄"},     // --quasi on a non-table
		{"mask", in, "--out", outB, "--input-format", "pdf"}, // bad input format
	} {
		if code, _, errs := runCLI(t, "", bad...); code != ExitUsage {
			t.Errorf("%v = %d %q, want %d", bad[2:], code, errs, ExitUsage)
		}
	}
	if code, _, errs := runCLI(t, "", "mask", in, "--out", outB, "--quasi", "性别"); code != ExitError || !strings.Contains(errs, "性别") {
		t.Errorf("unknown quasi column = %d %q", code, errs)
	}
}
