package scan_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/medguard/medguard/internal/dlp/scan"
)

// sinkTree writes files whose output order tests the sink: a large log
// scanned in chunks, an archive whose member ("m.zip!/b.txt") sorts after
// a file of another name ("m.zip x.txt"), and small files.
func sinkTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	mustWrite(t, filepath.Join(dir, "m.log"), chunkText(50<<10))
	mustWrite(t, filepath.Join(dir, "m.zip x.txt"), []byte("手机 13812345678\n"))
	mustWrite(t, filepath.Join(dir, "k.txt"), []byte("患者张三 身份证 11010519491231002X\n"))
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	w, err := zw.Create("b.txt")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("手机 15912345678\n")); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, filepath.Join(dir, "m.zip"), zb.Bytes())
	return dir
}

// TestSink checks that Options.Sink receives a large file's findings chunk
// by chunk, that what it receives is what Run returns without a Sink, in
// the same order, and that a Writer fed by the Sink writes what Write
// writes from the whole Result, in every format.
func TestSink(t *testing.T) {
	t.Parallel()
	s := newScanner(t)
	dir := sinkTree(t)
	big := filepath.Join(dir, "m.log")
	paths := []string{"testdata/tree", dir}
	const chunk = 1024
	for _, workers := range []int{1, 4} {
		opt := scan.Options{Scanner: s, Workers: workers, ChunkSize: chunk, Overlap: 256}
		whole := run(t, opt, paths...)
		whole.Elapsed = 0

		var batches []scan.Batch
		sopt := opt
		sopt.Sink = func(b scan.Batch) error {
			b.Findings = slices.Clone(b.Findings)
			batches = append(batches, b)
			return nil
		}
		streamed := run(t, sopt, paths...)
		streamed.Elapsed = 0

		var got []scan.Finding
		var done []scan.FileResult
		bigBatches, pending := 0, 0
		for _, b := range batches {
			if b.Done != nil {
				if len(b.Findings) != 0 || b.Done.Findings != nil {
					t.Fatalf("workers %d: a Done batch carries findings", workers)
				}
				if pending == 0 {
					t.Errorf("workers %d: %s ended without findings", workers, b.Done.Path)
				}
				done = append(done, *b.Done)
				pending = 0
				continue
			}
			if len(b.Findings) == 0 {
				t.Errorf("workers %d: empty batch", workers)
			}
			if b.Findings[0].Path == big {
				bigBatches++
			}
			pending++
			got = append(got, b.Findings...)
		}
		// 50 KiB in 1 KiB chunks with findings in each.
		if bigBatches < 40 {
			t.Errorf("workers %d: the chunked file came in %d batches, want one per chunk (≥ 40)", workers, bigBatches)
		}
		if diff := cmp.Diff(whole.Findings(), got); diff != "" {
			t.Errorf("workers %d: streamed findings differ (-Result +Sink):\n%s", workers, diff)
		}
		var wantDone []scan.FileResult
		for _, fr := range whole.Files {
			fr.Findings = nil
			wantDone = append(wantDone, fr)
		}
		if diff := cmp.Diff(wantDone, done); diff != "" {
			t.Errorf("workers %d: units ended (-Result +Sink):\n%s", workers, diff)
		}
		if diff := cmp.Diff(wantDone, streamed.Files); diff != "" {
			t.Errorf("workers %d: Result.Files with a Sink (-want +got):\n%s", workers, diff)
		}
		if !slices.IsSortedFunc(done, func(a, b scan.FileResult) int { return strings.Compare(a.Path, b.Path) }) {
			t.Errorf("workers %d: units not in path order: %v", workers, pathsOf(done))
		}
		if diff := cmp.Diff(whole.Summary(), streamed.Summary()); diff != "" {
			t.Errorf("workers %d: summary (-Result +Sink):\n%s", workers, diff)
		}

		for _, format := range scan.Formats {
			want := write(t, format, whole)
			var b bytes.Buffer
			w, err := scan.NewWriter(&b, format)
			if err != nil {
				t.Fatal(err)
			}
			for _, batch := range batches {
				if err := w.Batch(batch); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Finish(streamed); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, b.String()); diff != "" {
				t.Errorf("workers %d: %s written from the Sink differs (-Write +Writer):\n%s", workers, format, diff)
			}
		}

		// The SARIF written result by result is the document of SARIF.
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(scan.SARIF(whole)); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want.String(), write(t, "sarif", whole)); diff != "" {
			t.Errorf("sarif written result by result differs (-SARIF +Write):\n%s", diff)
		}
	}
}

func pathsOf(frs []scan.FileResult) []string {
	var out []string
	for _, fr := range frs {
		out = append(out, fr.Path)
	}
	return out
}

// TestSinkError checks that an error of the Sink stops the Run.
func TestSinkError(t *testing.T) {
	t.Parallel()
	dir := sinkTree(t)
	errFull := errors.New("disk full")
	calls := 0
	_, err := scan.Run(context.Background(), []string{dir}, scan.Options{Scanner: newScanner(t), ChunkSize: 1024, Overlap: 256,
		Sink: func(scan.Batch) error {
			calls++
			if calls == 3 {
				return errFull
			}
			return nil
		}})
	if !errors.Is(err, errFull) {
		t.Fatalf("Run = %v, want the Sink's error", err)
	}
	if calls != 3 {
		t.Errorf("Sink called %d times, want 3: it must not be called after an error", calls)
	}
}

// TestSARIFNoFindings checks the SARIF of a Run without findings.
func TestSARIFNoFindings(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mustWrite(t, filepath.Join(dir, "empty.txt"), []byte("nothing here\n"))
	res := run(t, scan.Options{Scanner: newScanner(t)}, dir)
	var want bytes.Buffer
	enc := json.NewEncoder(&want)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(scan.SARIF(res)); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want.String(), write(t, "sarif", res)); diff != "" {
		t.Errorf("sarif without findings (-SARIF +Write):\n%s", diff)
	}
}
