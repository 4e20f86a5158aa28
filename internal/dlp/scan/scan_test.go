package scan_test

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"

	"github.com/medguard/medguard/internal/dlp"
	"github.com/medguard/medguard/internal/dlp/input"
	"github.com/medguard/medguard/internal/dlp/scan"
	"github.com/medguard/medguard/internal/textenc"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// rawValues are identifiers in testdata/tree that must never appear in any
// output.
var rawValues = []string{"11010519491231002X", "13812345678", "440306199003071232", "15912345678",
	"510108198506153016", "13912345678", "zhang.san@example.com"}

func newScanner(t testing.TB, types ...string) *dlp.Scanner {
	t.Helper()
	s, err := dlp.NewScanner(dlp.Config{Types: types})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func run(t *testing.T, opt scan.Options, paths ...string) *scan.Result {
	t.Helper()
	res, err := scan.Run(context.Background(), paths, opt)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func write(t *testing.T, format string, res *scan.Result) string {
	t.Helper()
	var b bytes.Buffer
	if err := scan.Write(&b, format, res); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, raw := range rawValues {
		if strings.Contains(out, raw) {
			t.Errorf("%s output holds the raw value %s", format, raw)
		}
	}
	return out
}

func TestRunTree(t *testing.T) {
	t.Parallel()
	res := run(t, scan.Options{Scanner: newScanner(t)}, "testdata/tree")
	if res.Units != 3 {
		t.Errorf("units = %d, want 3", res.Units)
	}
	if len(res.Problems) != 0 {
		t.Errorf("problems = %v", res.Problems)
	}
	var paths []string
	for _, f := range res.Files {
		paths = append(paths, filepath.ToSlash(f.Path))
	}
	if diff := cmp.Diff([]string{"testdata/tree/notes.txt", "testdata/tree/sub/patients.csv"}, paths); diff != "" {
		t.Fatalf("files with findings (-want +got):\n%s", diff)
	}
	notes := res.Files[0]
	if !notes.Verdict.IdentifiesPerson || notes.Verdict.HighestLevel < 4 {
		t.Errorf("notes.txt verdict = %+v, want a person identified", notes.Verdict)
	}
	data, _ := os.ReadFile("testdata/tree/notes.txt")
	for _, f := range notes.Findings {
		if f.Type == dlp.TypeResidentID && string(data[f.Start:f.End]) != "11010519491231002X" {
			t.Errorf("resident ID span %d..%d = %q", f.Start, f.End, data[f.Start:f.End])
		}
	}
	fields := map[string]string{}
	for _, f := range res.Files[1].Findings {
		fields[f.Type] = f.Field
	}
	if fields[dlp.TypeResidentID] != "身份证号" || fields[dlp.TypeMobile] != "手机" {
		t.Errorf("CSV fields = %v", fields)
	}
}

// TestGolden compares the table and JSON output on testdata/tree with the
// files in testdata/golden; run with -update to rewrite them.
func TestGolden(t *testing.T) {
	t.Parallel()
	res := run(t, scan.Options{Scanner: newScanner(t)}, "testdata/tree")
	res.Elapsed = 0
	for _, format := range []string{"table", "json", "csv"} {
		t.Run(format, func(t *testing.T) {
			got := write(t, format, res)
			file := filepath.Join("testdata", "golden", format+".txt")
			if *update {
				if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("%s output differs from %s (-want +got):\n%s", format, file, diff)
			}
		})
	}
}

// TestDeterministic checks that the output does not depend on the number
// of workers.
func TestDeterministic(t *testing.T) {
	t.Parallel()
	s := newScanner(t)
	var outs []string
	for _, workers := range []int{1, 4} {
		res := run(t, scan.Options{Scanner: s, Workers: workers}, "testdata/tree", "testdata/tree/notes.txt")
		res.Elapsed = 0
		outs = append(outs, write(t, "json", res))
	}
	if diff := cmp.Diff(outs[0], outs[1]); diff != "" {
		t.Errorf("1 worker vs 4 workers (-1 +4):\n%s", diff)
	}
}

// problemTree builds a tree with findings, a zip archive with a member, an
// encrypted Office document and a dangling symbolic link.
func problemTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	w, err := zw.Create("b.txt")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(w, "手机 13812345678")
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, filepath.Join(dir, "a.zip"), zb.Bytes())
	cdf := append([]byte("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"), make([]byte, 64)...)
	cdf = append(cdf, []byte("E\x00n\x00c\x00r\x00y\x00p\x00t\x00i\x00o\x00n\x00I\x00n\x00f\x00o\x00")...)
	mustWrite(t, filepath.Join(dir, "secret.docx"), cdf)
	if err := os.Symlink(filepath.Join(dir, "gone.txt"), filepath.Join(dir, "dangling.txt")); err != nil {
		t.Fatal(err)
	}
	return dir
}

func mustWrite(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestArchiveAndProblems(t *testing.T) {
	t.Parallel()
	dir := problemTree(t)
	res := run(t, scan.Options{Scanner: newScanner(t)}, dir)
	if len(res.Files) != 1 || res.Files[0].Path != filepath.Join(dir, "a.zip")+"!/b.txt" {
		t.Fatalf("files = %+v, want the member a.zip!/b.txt", res.Files)
	}
	if f := res.Files[0].Findings; len(f) != 1 || f[0].Type != dlp.TypeMobile || f[0].Start != len("手机 ") {
		t.Errorf("member findings = %+v", f)
	}
	reasons := map[string]string{}
	for _, p := range res.Problems {
		reasons[filepath.Base(p.Path)] = p.Reason
	}
	if !strings.HasPrefix(reasons["dangling.txt"], input.ReasonUnreadable) ||
		!strings.HasPrefix(reasons["secret.docx"], input.ReasonEncrypted) {
		t.Errorf("problems = %v, want dangling.txt unreadable and secret.docx encrypted", res.Problems)
	}

	// Every format reports the problems (table and CSV leave them to the
	// caller, for stderr).
	var problemLines int
	for _, line := range strings.Split(strings.TrimSpace(write(t, "json", res)), "\n") {
		var v struct {
			Problem *input.Problem `json:"problem"`
		}
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("json line %q: %v", line, err)
		}
		if v.Problem != nil {
			problemLines++
		}
	}
	if problemLines != 2 {
		t.Errorf("json problem lines = %d, want 2", problemLines)
	}
	rep := scan.SARIF(res)
	if n := len(rep.Runs[0].Invocations[0].ToolExecutionNotifications); n != 2 {
		t.Errorf("sarif notifications = %d, want 2", n)
	}
	if err := rep.Validate(); err != nil {
		t.Errorf("sarif: %v", err)
	}
}

func TestMissingPath(t *testing.T) {
	t.Parallel()
	if _, err := scan.Run(context.Background(), []string{"testdata/no-such-file"}, scan.Options{Scanner: newScanner(t)}); err == nil {
		t.Error("a missing path was accepted")
	}
	if _, err := scan.Run(context.Background(), []string{"testdata/tree"}, scan.Options{Scanner: newScanner(t), ChunkSize: 100, Overlap: 80}); err == nil {
		t.Error("an overlap larger than half the chunk was accepted")
	}
}

func TestFormats(t *testing.T) {
	t.Parallel()
	res := run(t, scan.Options{Scanner: newScanner(t)}, "testdata/tree")
	t.Run("json", func(t *testing.T) {
		lines := strings.Split(strings.TrimSpace(write(t, "json", res)), "\n")
		want := []string{"path", "type", "start", "end", "line", "confidence", "category", "level", "preview"}
		for i, line := range lines {
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatalf("line %d %q: %v", i+1, line, err)
			}
			if i == len(lines)-1 {
				s, ok := m["summary"].(map[string]any)
				if !ok {
					t.Fatalf("last line is not a summary: %s", line)
				}
				for _, k := range []string{"files", "bytes", "findings", "by_type", "by_level", "highest_level", "identifies_person_files", "problems", "elapsed"} {
					if _, ok := s[k]; !ok {
						t.Errorf("summary lacks %q", k)
					}
				}
				if s["files"] != 3.0 || s["findings"] != float64(len(lines)-1) {
					t.Errorf("summary = %v", s)
				}
				continue
			}
			for _, k := range want {
				if _, ok := m[k]; !ok {
					t.Errorf("line %d lacks %q: %s", i+1, k, line)
				}
			}
		}
	})
	t.Run("sarif", func(t *testing.T) {
		out := write(t, "sarif", res)
		rep, err := sarif.FromString(out)
		if err != nil {
			t.Fatal(err)
		}
		if err := rep.Validate(); err != nil {
			t.Fatalf("sarif does not validate: %v", err)
		}
		types := map[string]bool{}
		for _, f := range res.Findings() {
			types[f.Type] = true
		}
		if got := len(rep.Runs[0].Tool.Driver.Rules); got != len(types) {
			t.Errorf("rules = %d, want one per type (%d)", got, len(types))
		}
		if got := len(rep.Runs[0].Results); got != len(res.Findings()) {
			t.Errorf("results = %d, want %d", got, len(res.Findings()))
		}
	})
	t.Run("csv", func(t *testing.T) {
		rows, err := csv.NewReader(strings.NewReader(write(t, "csv", res))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(scan.CSVHeader, rows[0]); diff != "" {
			t.Errorf("header (-want +got):\n%s", diff)
		}
		if len(rows)-1 != len(res.Findings()) {
			t.Errorf("rows = %d, want %d", len(rows)-1, len(res.Findings()))
		}
	})
	if err := scan.Write(new(bytes.Buffer), "xml", res); err == nil {
		t.Error("unknown format accepted")
	}
}

func TestTypesFilter(t *testing.T) {
	t.Parallel()
	res := run(t, scan.Options{Scanner: newScanner(t, dlp.TypeMobile)}, "testdata/tree")
	if len(res.Findings()) != 3 {
		t.Errorf("findings = %d, want the 3 mobile numbers", len(res.Findings()))
	}
	for _, f := range res.Findings() {
		if f.Type != dlp.TypeMobile {
			t.Errorf("finding of type %s with --types cn_mobile", f.Type)
		}
	}
}

// chunkText builds a text of about n bytes in which identifiers sit at
// every position relative to the chunk boundaries.
func chunkText(n int) []byte {
	var b bytes.Buffer
	ids := []string{"11010519491231002X", "13812345678", "zhang.san@example.com", "6222021234567890128"}
	for i := 0; b.Len() < n; i++ {
		b.WriteString(strings.Repeat("。", i%7))
		b.WriteString(strings.Repeat("x", i%13))
		fmt.Fprintf(&b, " 号码 %s ", ids[i%len(ids)])
		if i%3 == 0 {
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

type span struct {
	Type       string
	Start, End int
	Line       int
}

func spans[T any](fs []T, get func(T) dlp.Finding) []span {
	var out []span
	for _, f := range fs {
		d := get(f)
		out = append(out, span{d.Type, d.Start, d.End, d.Line})
	}
	return out
}

// TestChunked scans files larger than the chunk size: the findings, their
// file offsets and lines are those of a scan of the whole text, and one
// crossing a chunk boundary is found once.
func TestChunked(t *testing.T) {
	t.Parallel()
	s := newScanner(t, dlp.StructuredTypes()...)
	dir := t.TempDir()

	// An ID across the first boundary (byte 1024+256 of the first window).
	id := "11010519491231002X"
	text := append(bytes.Repeat([]byte("a "), 630), []byte(" 身份证 "+id+" \n")...)
	text = append(text, bytes.Repeat([]byte("b\n"), 1000)...)
	path := filepath.Join(dir, "boundary.txt")
	mustWrite(t, path, text)
	res := run(t, scan.Options{Scanner: s, ChunkSize: 1024, Overlap: 256}, path)
	f := res.Findings()
	at := bytes.Index(text, []byte(id))
	if at > 1280 || at+len(id) < 1280 {
		t.Fatalf("test text: ID at %d..%d does not cross byte 1280", at, at+len(id))
	}
	if len(f) != 1 || f[0].Start != at || f[0].End != at+len(id) || f[0].Line != 1 {
		t.Fatalf("findings = %+v, want one at %d", f, at)
	}
	if res.Bytes != int64(len(text)) || res.Units != 1 {
		t.Errorf("bytes, units = %d, %d; want %d, 1", res.Bytes, res.Units, len(text))
	}

	for _, size := range []int{1 << 10, 4 << 10} {
		text := chunkText(50 << 10)
		path := filepath.Join(dir, fmt.Sprintf("many-%d.log", size))
		mustWrite(t, path, text)
		want := spans(s.Scan(text), func(f dlp.Finding) dlp.Finding { return f })
		got := spans(run(t, scan.Options{Scanner: s, ChunkSize: size, Overlap: 256}, path).Findings(),
			func(f scan.Finding) dlp.Finding { return f.Finding })
		if len(want) < 100 {
			t.Fatalf("test text has only %d findings", len(want))
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("chunk %d: chunked vs whole scan (-whole +chunked):\n%s", size, diff)
		}
	}

	// A large CSV keeps its column names.
	var csvText bytes.Buffer
	csvText.WriteString("序号,手机,备注\n")
	for i := 0; csvText.Len() < 8<<10; i++ {
		fmt.Fprintf(&csvText, "%d,13812345678,\"复诊, 第%d次\"\n", i, i)
	}
	path = filepath.Join(dir, "big.csv")
	mustWrite(t, path, csvText.Bytes())
	res = run(t, scan.Options{Scanner: s, ChunkSize: 1024, Overlap: 256}, path)
	if n := len(res.Findings()); n < 100 {
		t.Fatalf("big.csv findings = %d", n)
	}
	for _, f := range res.Findings() {
		if f.Field != "手机" {
			t.Fatalf("big.csv finding at line %d in field %q, want 手机", f.Line, f.Field)
		}
	}
	// Several findings a line, quoted separators between them, a column
	// without a name and one past the header; rows longer than half the
	// overlap, so that windows begin inside rows.
	csvText.Reset()
	csvText.WriteString("序号,手机,备注,,身份证\n")
	for i := 0; csvText.Len() < 16<<10; i++ {
		fmt.Fprintf(&csvText, "%d,13812345678,\"复诊, 第%d次%s\",13912345678,11010519491231002X,\"a,\"\"b\",user%d@example.com\n",
			i, i, strings.Repeat("，", i%50), i)
	}
	path = filepath.Join(dir, "wide.csv")
	mustWrite(t, path, csvText.Bytes())
	res = run(t, scan.Options{Scanner: s, ChunkSize: 1024, Overlap: 256}, path)
	want := map[string]string{dlp.TypeMobile + "138": "手机", dlp.TypeMobile + "139": "column 4", dlp.TypeResidentID: "身份证", dlp.TypeEmail: "column 7"}
	lines := map[int]int{}
	for _, f := range res.Findings() {
		key := f.Type
		if f.Type == dlp.TypeMobile {
			key += f.Preview[:3]
		}
		if f.Field != want[key] {
			t.Fatalf("wide.csv %s at line %d in field %q, want %q", f.Type, f.Line, f.Field, want[key])
		}
		lines[f.Line]++
	}
	if len(lines) < 100 {
		t.Fatalf("wide.csv: findings on %d lines", len(lines))
	}
	for l, n := range lines {
		if n != 4 {
			t.Fatalf("wide.csv line %d: %d findings, want 4", l, n)
		}
	}

	// A large file that is not UTF-8 is decoded whole by input.
	gbk := bytes.Repeat([]byte("\xd5\xc5\xc8\xfd 13812345678\n"), 200) // 张三 in GBK
	path = filepath.Join(dir, "gbk.txt")
	mustWrite(t, path, gbk)
	res = run(t, scan.Options{Scanner: s, ChunkSize: 1024, Overlap: 256}, path)
	if len(res.Files) != 1 || res.Files[0].Encoding != input.EncodingGBK || len(res.Findings()) != 200 {
		t.Errorf("gbk.txt: %d files, %d findings", len(res.Files), len(res.Findings()))
	}
}

// FuzzChunked scans arbitrary text in small chunks: no panic, spans inside
// the file on rune boundaries, ordered and disjoint, lines right, and the
// preview is the mask of the bytes at the span (so offsets are file
// offsets).
func FuzzChunked(f *testing.F) {
	for _, file := range []string{"testdata/tree/notes.txt", "testdata/tree/sub/patients.csv"} {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint16(64))
	}
	f.Add(chunkText(2000), uint16(100))
	f.Add([]byte("\xff\xfe身份证 11010519491231002X\x80\n138\xe0 13812345678"), uint16(40))
	s := newScanner(f)
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte, chunk uint16) {
		size := 64 + int(chunk)%4096
		path := filepath.Join(dir, "f.txt")
		mustWrite(t, path, data)
		res, err := scan.Run(context.Background(), []string{path}, scan.Options{Scanner: s, ChunkSize: size, Overlap: 32})
		if err != nil {
			t.Fatal(err)
		}
		if len(data) <= size {
			return
		}
		end := 0
		for _, fr := range res.Files {
			if fr.Encoding != input.EncodingUTF8 && fr.Encoding != input.EncodingUnknown {
				return // decoded whole: offsets are in the decoded text
			}
			for _, fd := range fr.Findings {
				if fd.Start < end || fd.Start >= fd.End || fd.End > len(data) {
					t.Fatalf("bad span %d..%d (previous end %d, len %d)", fd.Start, fd.End, end, len(data))
				}
				end = fd.End
				if want := 1 + bytes.Count(data[:fd.Start], []byte{'\n'}); fd.Line != want {
					t.Fatalf("finding at %d: line %d, want %d", fd.Start, fd.Line, want)
				}
				if fr.Encoding == input.EncodingUTF8 {
					if want := dlp.Mask(fd.Type, data[fd.Start:fd.End]); fd.Preview != want {
						t.Fatalf("preview %q, want %q: offsets are not file offsets", fd.Preview, want)
					}
				}
			}
		}
	})
}

// TestGoldenJSONLines keeps the JSON lines of the golden file parseable
// line by line.
func TestGoldenJSONLines(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("testdata/golden/json.txt")
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if !json.Valid(sc.Bytes()) {
			t.Errorf("golden json line %q is not JSON", sc.Text())
		}
	}
}

// TestChunkerParallel scans one text in windows with one to five scanning
// goroutines: the findings and the windows' order are those of a scan of
// the whole text whatever the number; an error from Emit, and a context
// cancelled while windows are being scanned, end Run with that error.
func TestChunkerParallel(t *testing.T) {
	t.Parallel()
	s := newScanner(t)
	text := append(chunkText(60<<10), "\xff\xfe 13812345678 tail"...)
	want := spans(s.Scan(textenc.Sanitize(nil, text)), func(f dlp.Finding) dlp.Finding { return f })
	for par := 1; par <= 5; par++ {
		var got []span
		last := int64(-1)
		c := &scan.Chunker{Scanner: s, Chunk: 1 << 10, Overlap: 256, Path: "t.log", Kind: input.KindLog, Parallel: par,
			Emit: func(win []byte, base int64, batch []scan.Finding) error {
				if base <= last {
					t.Errorf("parallel %d: window at %d after one at %d", par, base, last)
				}
				last = base
				for _, f := range batch {
					if string(win[f.Start-int(base):f.End-int(base)]) != string(textenc.Sanitize(nil, text[f.Start:f.End])) {
						t.Errorf("parallel %d: %s at %d: window text differs from the file", par, f.Type, f.Start)
					}
				}
				got = append(got, spans(batch, func(f scan.Finding) dlp.Finding { return f.Finding })...)
				return nil
			}}
		fr, problems, size, err := c.Run(context.Background(), bytes.NewReader(text))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("parallel %d: chunked vs whole (-whole +chunked):\n%s", par, diff)
		}
		if size != int64(len(text)) || len(problems) != 1 || fr.Encoding != input.EncodingUnknown ||
			fr.Verdict.CountsByType[dlp.TypeMobile] == 0 {
			t.Errorf("parallel %d: size %d of %d, problems %v, encoding %q, verdict %v", par, size, len(text), problems, fr.Encoding, fr.Verdict)
		}

		stop := errors.New("sink full")
		calls := 0
		c.Emit = func([]byte, int64, []scan.Finding) error {
			if calls++; calls == 3 {
				return stop
			}
			return nil
		}
		if _, _, _, err := c.Run(context.Background(), bytes.NewReader(text)); !errors.Is(err, stop) || calls != 3 {
			t.Errorf("parallel %d: Emit error: err %v after %d calls", par, err, calls)
		}

		ctx, cancel := context.WithCancel(context.Background())
		calls = 0
		c.Emit = func([]byte, int64, []scan.Finding) error {
			if calls++; calls == 2 {
				cancel()
			}
			return nil
		}
		if _, _, _, err := c.Run(ctx, bytes.NewReader(text)); !errors.Is(err, context.Canceled) {
			t.Errorf("parallel %d: cancelled: err %v", par, err)
		}
	}
}
