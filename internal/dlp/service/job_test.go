package dlpsvc

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medguard/medguard/internal/dlp"
	"github.com/medguard/medguard/internal/dlp/input"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
	"github.com/medguard/medguard/internal/textenc"
)

// runJobNow records a queued job over root and runs it in the test's goroutine under
// ctx, as StartJob does in the background, calling batchDone after each stored batch.
func (e *env) runJobNow(ctx context.Context, svc *Service, root string, batchDone func(Scan)) Scan {
	e.t.Helper()
	bg := context.Background()
	sc := Scan{OrgID: e.hospA.ID, OrgName: e.hospA.Name, Kind: KindJob, Source: root, Status: StatusQueued,
		CreatedAt: time.Now().UTC()}
	if err := e.db.InTx(bg, func(tx *store.Tx) error { return svc.insertScan(bg, tx, e.privacyA, &sc) }); err != nil {
		e.t.Fatal(err)
	}
	svc.wg.Add(1)
	svc.runJob(ctx, e.privacyA, sc, root, batchDone)
	got, err := svc.Scan(bg, e.auditorA, sc.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return got
}

// rows counts the rows of table (dlp_files or dlp_findings) of scan id.
func (e *env) rows(table string, id int64) int {
	e.t.Helper()
	var n int
	if err := e.db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM `+table+` WHERE scan_id = ?`, id).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// writeTree writes n small notes under root and returns the totals a scan of them
// must have, computed by scanning each text with engine.
func writeTree(t *testing.T, root string, n int, engine *dlp.Scanner) Scan {
	t.Helper()
	want := Scan{CountsByType: map[string]int{}}
	for i := range n {
		text := plainNote
		switch i % 3 {
		case 0:
			text = clinicalNote
		case 1:
			text = drugNote + plainNote
		}
		text = fmt.Sprintf("%d\n%s", i, text)
		p := filepath.Join(root, fmt.Sprintf("d%d", i%7), fmt.Sprintf("f%04d.txt", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		fs := engine.Scan([]byte(text))
		want.add(unitResult{size: int64(len(text)), total: len(fs), verdict: dlp.Verdict(fs)})
	}
	return want
}

func TestJobStoresManyFilesBatchByBatch(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		engine, err := e.svc.scanner(nil)
		if err != nil {
			t.Fatal(err)
		}
		const n = 5*jobBatch + 13 // more than jobAhead: results wait in order
		want := writeTree(t, e.root, n, engine)
		if want.Findings == 0 || want.Findings > MaxStoredFindings {
			t.Fatalf("bad fixture: %d findings", want.Findings)
		}
		var progress []int
		got := e.runJobNow(context.Background(), e.svc, e.root, func(sc Scan) {
			// While the job runs, its row shows what is stored so far.
			row, err := e.svc.Scan(context.Background(), e.auditorA, sc.ID)
			if err != nil {
				t.Fatal(err)
			}
			if row.Status != StatusRunning || row.FilesDone != sc.FilesDone || row.FilesTotal != n || row.Files != sc.FilesDone ||
				row.Bytes == 0 || row.Findings != e.rows("dlp_findings", sc.ID) || e.rows("dlp_files", sc.ID) != sc.FilesDone {
				t.Errorf("progress after %d files: %+v", sc.FilesDone, row)
			}
			progress = append(progress, row.FilesDone)
		})
		if got.Status != StatusDone || got.Error != "" || got.FilesTotal != n || got.FilesDone != n || got.Problems != 0 {
			t.Fatalf("job = %+v", got)
		}
		if diff := cmp.Diff([]int{jobBatch, 2 * jobBatch, 3 * jobBatch, 4 * jobBatch, 5 * jobBatch, n}, progress); diff != "" {
			t.Errorf("progress (-want +got):\n%s", diff)
		}
		type totals struct {
			Files, Findings, HighestLevel int
			Bytes                         int64
			IdentifiesPerson              bool
			Counts                        map[string]int
		}
		if diff := cmp.Diff(totals{want.Files, want.Findings, want.HighestLevel, want.Bytes, want.IdentifiesPerson, want.CountsByType},
			totals{got.Files, got.Findings, got.HighestLevel, got.Bytes, got.IdentifiesPerson, got.CountsByType}); diff != "" {
			t.Errorf("totals (-want +got):\n%s", diff)
		}
		if f, fi := e.rows("dlp_files", got.ID), e.rows("dlp_findings", got.ID); f != n || fi != want.Findings {
			t.Errorf("stored %d files and %d findings, want %d and %d", f, fi, n, want.Findings)
		}
	})
}

func TestCancelledJobKeepsWhatItStored(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		engine, err := e.svc.scanner(nil)
		if err != nil {
			t.Fatal(err)
		}
		const n = 4 * jobBatch
		writeTree(t, e.root, n, engine)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		got := e.runJobNow(ctx, e.svc, e.root, func(Scan) { cancel() })
		if got.Status != StatusFailed || got.FinishedAt == nil || got.FilesTotal != n || got.FilesDone != jobBatch ||
			got.Files != jobBatch || got.Findings == 0 {
			t.Fatalf("cancelled job = %+v", got)
		}
		if want := fmt.Sprintf("stopped after %d of %d files", jobBatch, n); !strings.HasPrefix(got.Error, JobInterrupted) ||
			!strings.Contains(got.Error, want) {
			t.Errorf("error %q, want %q and %q", got.Error, JobInterrupted, want)
		}
		if f, fi := e.rows("dlp_files", got.ID), e.rows("dlp_findings", got.ID); f != jobBatch || fi != got.Findings {
			t.Errorf("kept %d files and %d findings, want %d and %d", f, fi, jobBatch, got.Findings)
		}
		failed := false
		for _, en := range e.trailActions() {
			failed = failed || en.ObjectID == idString(got.ID) && en.Action == "dlp.job_failed"
		}
		if !failed {
			t.Error("the failure is not trailed")
		}
	})
}

// TestJobTakenOverStops: a job that another process took over (marked failed because
// this process's lease had expired, say while it stalled) stops at its next batch and
// leaves the record as the other process wrote it: it is neither brought back to
// running nor finished as done.
func TestJobTakenOverStops(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		engine, err := e.svc.scanner(nil)
		if err != nil {
			t.Fatal(err)
		}
		const n = 4 * jobBatch
		writeTree(t, e.root, n, engine)
		batches := 0
		got := e.runJobNow(context.Background(), e.svc, e.root, func(sc Scan) {
			batches++
			if batches == 1 {
				if _, err := e.svc.Recover(context.Background(), nil); err != nil {
					t.Fatal(err)
				}
			}
		})
		if got.Status != StatusFailed || got.Error != JobInterrupted || got.FilesDone != jobBatch || batches != 1 {
			t.Fatalf("job taken over after its first batch = %+v after %d batches", got, batches)
		}
		for _, en := range e.trailActions() {
			if en.ObjectID == idString(got.ID) && (en.Action == "dlp.job_done" || en.Action == "dlp.job_failed") {
				t.Errorf("the process that lost the job trailed %s", en.Action)
			}
		}
	})
}

// bigLog returns a plain ASCII log of about size bytes, dense with identifiers at
// shifting offsets so that some cross every chunk edge.
func bigLog(size int) string {
	var b strings.Builder
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, "%s%d patient id %s phone %s ok\n", strings.Repeat(" ", i%23), i, residentID, mobile)
	}
	return b.String()
}

func TestJobScansLargeTextInChunks(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		const limit = 1024
		key := make([]byte, KeySize)
		copy(key, "0123456789abcdef")
		svc, err := New(db, e.tl, Options{Key: key, ScanRoots: []string{e.root}, Workers: 2,
			Limits:    input.Limits{MaxFileSize: limit},
			MayReveal: func(role string) bool { return role == "privacy_officer" },
			Logger:    slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(svc.Close)
		whole := bigLog(20 * limit)
		for name, body := range map[string]string{
			"app.log":   whole,
			"dump.json": `{"note": "` + strings.Repeat("a", 2*limit) + `"}`, // extracted format: still too big
			"note.txt":  clinicalNote,
		} {
			if err := os.WriteFile(filepath.Join(e.root, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		engine, err := svc.scanner(nil)
		if err != nil {
			t.Fatal(err)
		}
		ref := engine.Scan([]byte(whole))
		if len(ref) == 0 || len(ref) > MaxStoredFindingsPerFile {
			t.Fatalf("bad fixture: %d findings", len(ref))
		}
		// The fixture must put findings across window ends and ownership cuts.
		chunk, overlap := chunkSizes(limit)
		crossEnd, crossCut := 0, 0
		for _, f := range ref {
			for k := 0; k*chunk < len(whole); k++ {
				if end := k*chunk + chunk + overlap; f.Start < end && end < f.End {
					crossEnd++
				}
				if cut := k*chunk + chunk + overlap/2; f.Start < cut && cut < f.End {
					crossCut++
				}
			}
		}
		if crossEnd == 0 || crossCut == 0 {
			t.Fatalf("no finding crosses a chunk edge (%d) or cut (%d)", crossEnd, crossCut)
		}

		sc, err := svc.StartJob(ctx, e.privacyA, e.hospA.ID, e.root)
		if err != nil {
			t.Fatal(err)
		}
		svc.Wait()
		got, err := svc.Scan(ctx, e.auditorA, sc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != StatusDone || got.Files != 2 || got.Problems != 1 || got.Findings != len(ref)+len(engine.Scan([]byte(clinicalNote))) {
			t.Fatalf("job = %+v, want %d findings in app.log", got, len(ref))
		}
		files, _, err := svc.Files(ctx, e.auditorA, sc.ID, 10, 0)
		if err != nil {
			t.Fatal(err)
		}
		var logFile File
		for _, f := range files {
			switch filepath.Base(f.Path) {
			case "app.log":
				logFile = f
			case "dump.json":
				if !strings.HasPrefix(f.Problem, input.ReasonTooBig) {
					t.Errorf("dump.json: %+v, want too big", f)
				}
			}
		}
		if logFile.Kind != input.KindLog || logFile.Size != int64(len(whole)) || logFile.Findings != len(ref) || logFile.Problem != "" {
			t.Fatalf("app.log = %+v", logFile)
		}
		stored, total, err := svc.Findings(ctx, e.auditorA, FindingQuery{ScanID: sc.ID, FileID: logFile.ID, Limit: 1000})
		if err != nil || total != len(ref) {
			t.Fatalf("findings: %d %v", total, err)
		}
		type span struct {
			Type             string
			Start, End, Line int
		}
		var want, have []span
		for _, f := range ref {
			want = append(want, span{f.Type, f.Start, f.End, f.Line})
		}
		for _, f := range stored {
			have = append(have, span{f.Type, f.Start, f.End, f.Line})
		}
		if diff := cmp.Diff(want, have); diff != "" {
			t.Errorf("chunked findings differ from a whole scan (-want +got):\n%s", diff)
		}
		// Raw values are sealed per finding, with file offsets.
		revealed := 0
		for _, f := range stored {
			if !f.Revealable {
				t.Fatalf("finding %+v is not revealable", f)
			}
			end := chunk + overlap
			if f.Start < end && end < f.End || revealed == 0 {
				r, err := svc.Reveal(ctx, e.privacyA, f.ID, "test")
				if err != nil || r.Value != whole[f.Start:f.End] {
					t.Errorf("reveal %+v = %q %v, want %q", f, r.Value, err, whole[f.Start:f.End])
				}
				revealed++
			}
		}
	})
}

func TestChunkerMatchesWholeScan(t *testing.T) {
	t.Parallel()
	engine, err := dlp.NewScanner(dlp.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name           string
		text           string
		chunk, overlap int
	}{
		{"ascii log", bigLog(8 << 10), 300, 100},
		{"clinical notes", strings.Repeat(clinicalNote+drugNote+plainNote, 40), 500, 128},
		{"one window", clinicalNote, 4096, 256},
		{"invalid utf-8", strings.Repeat("id "+residentID+"\xff\xfe\n", 60), 200, 64},
		{"empty", "", 100, 40},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkChunker(t, engine, []byte(tc.text), tc.chunk, tc.overlap)
		})
	}
}

// checkChunker scans text in chunks and compares with a scan of the whole text: the
// same findings (spans inside the text, lines, values), and the same verdict.
func checkChunker(t *testing.T, engine *dlp.Scanner, text []byte, chunk, overlap int) {
	t.Helper()
	c := &chunker{engine: engine, chunk: chunk, overlap: overlap, path: "t.log", kind: input.KindLog}
	rs := c.run(context.Background(), strings.NewReader(string(text)))
	if len(rs) == 0 || rs[0].problem != "" {
		t.Fatalf("chunker returned %+v", rs)
	}
	u := rs[0]
	clean := textenc.Sanitize(nil, text)
	ref := engine.Scan(clean)
	if u.total != len(ref) || u.size != int64(len(text)) {
		t.Fatalf("chunked: %d findings over %d bytes, whole: %d over %d", u.total, u.size, len(ref), len(text))
	}
	for i, f := range u.findings {
		if f.Start < 0 || f.End > len(text) || f.Start > f.End {
			t.Fatalf("finding %+v outside the text (%d bytes)", f, len(text))
		}
		if r := ref[i]; f.Type != r.Type || f.Start != r.Start || f.End != r.End || f.Line != r.Line {
			t.Fatalf("finding %d = %+v, whole scan %+v", i, f, r)
		}
		if string(u.raws[i]) != string(clean[f.Start:f.End]) {
			t.Fatalf("raw of %+v = %q", f, u.raws[i])
		}
	}
	if diff := cmp.Diff(dlp.Verdict(ref), u.verdict); len(ref) > 0 && diff != "" {
		t.Errorf("verdict (-whole +chunked):\n%s", diff)
	}
}

// FuzzChunker scans any text in small overlapping chunks: it never panics, every
// finding lies inside the text with its raw value taken from there, and findings come in
// order without overlap, so none is counted twice. (Equality with a whole scan holds
// only for findings shorter than half the overlap with the same context; the table
// test above checks it.)
func FuzzChunker(f *testing.F) {
	engine, err := dlp.NewScanner(dlp.Config{})
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(clinicalNote+drugNote), 64)
	f.Add([]byte(bigLog(2000)), 100)
	f.Fuzz(func(t *testing.T, text []byte, chunk int) {
		if len(text) > 1<<16 {
			return
		}
		chunk = 64 + abs(chunk)%2048
		c := &chunker{engine: engine, chunk: chunk, overlap: 64, path: "t.csv", kind: input.KindCSV, header: []string{"a", "b"}, sep: ','}
		rs := c.run(context.Background(), strings.NewReader(string(text)))
		if len(rs) == 0 || rs[0].problem != "" {
			t.Fatalf("chunker returned %+v", rs)
		}
		u := rs[0]
		clean := textenc.Sanitize(nil, text)
		if u.size != int64(len(text)) || u.total != len(u.findings) || len(u.raws) != u.total || len(u.fields) != u.total {
			t.Fatalf("size %d of %d, %d findings, %d kept", u.size, len(text), u.total, len(u.findings))
		}
		last := 0
		for i, f := range u.findings {
			if f.Start < last || f.End > len(text) || f.Start > f.End {
				t.Fatalf("finding %+v out of order or outside the text (%d bytes)", f, len(text))
			}
			last = f.End
			if string(u.raws[i]) != string(clean[f.Start:f.End]) {
				t.Fatalf("raw of %+v = %q", f, u.raws[i])
			}
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
