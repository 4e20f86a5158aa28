// Package scan owns medguard's file scanner for patient data: it walks files,
// directory trees, archives and standard input, decodes them with package
// input, runs a dlp.Scanner over every text concurrently (one worker per
// GOMAXPROCS), scans large plain-text files in overlapping chunks so that
// memory stays flat in file size, and writes the results as a table, JSON
// lines, SARIF 2.1.0 or CSV — as they are found, through Options.Sink and
// a Writer, so that memory does not grow with the number of findings.
// Findings carry masked previews only; what could not be read is reported
// as a problem, never skipped silently.
package scan

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/medguard/medguard/internal/dlp"
	"github.com/medguard/medguard/internal/dlp/input"
	"github.com/medguard/medguard/internal/filewalk"
)

// Default chunking of large plain-text files.
const (
	DefaultChunkSize = 1 << 20
	DefaultOverlap   = 256
)

// Options configure Run.
type Options struct {
	// Scanner finds the data; required.
	Scanner *dlp.Scanner
	// Limits bound what reading one input may cost (see input.Limits).
	// Plain-text files scanned in chunks are not bound by MaxFileSize,
	// since their memory does not grow with their size.
	Limits input.Limits
	// Workers is the number of files scanned at once; 0 means GOMAXPROCS.
	Workers int
	// ChunkSize is the size above which a plain-text file (text, log,
	// CSV/TSV in UTF-8) is scanned in chunks of this many bytes; 0 means
	// DefaultChunkSize.
	ChunkSize int
	// Overlap is how many bytes consecutive chunks share; a finding
	// shorter than half of it is found exactly once even when it crosses a
	// chunk boundary. 0 means DefaultOverlap.
	Overlap int
	// Stdin is read for the path "-".
	Stdin io.Reader
	// Progress, when set, is called after every file, from one goroutine.
	Progress func(Progress)
	// Sink, when set, receives the findings as they are produced, in
	// output order (units by path, findings by offset), from the
	// goroutine that called Run: a unit's findings in one or more batches
	// (one per chunk for a large file scanned in chunks), then a batch
	// that ends the unit. The Result of Run then holds no findings: its
	// Files carry only their verdicts, and its Summary the running totals.
	// An error from Sink stops the Run, which returns it.
	Sink func(Batch) error
}

// Batch is a part of a Run's output given to Options.Sink.
type Batch struct {
	// Findings are the next findings of the current unit, by offset.
	Findings []Finding
	// Done, when set, ends the current unit: its path, kind, encoding
	// and verdict (its Findings are nil). Findings is then empty.
	Done *FileResult
}

// Progress tells how far a Run has come. Bytes are sizes on disk.
type Progress struct {
	FilesDone, FilesTotal int
	BytesDone, BytesTotal int64
}

// Finding is a dlp.Finding located in a file: Start and End are byte
// offsets in the unit's text (the file's own bytes for UTF-8 text, the
// extracted text of an archive member or document).
type Finding struct {
	dlp.Finding
	// Path names the file or member ("a.zip!/b.txt").
	Path string
	// Field names the column, JSON pointer, HL7 field… when known.
	Field string
}

// FileResult is the outcome of scanning one unit that had findings.
type FileResult struct {
	Path     string
	Kind     string
	Encoding string
	Findings []Finding
	Verdict  dlp.FileVerdict
}

// Result is the outcome of a Run.
type Result struct {
	// Files holds the units with findings, sorted by path; their
	// findings are sorted by offset. With Options.Sink, the findings went
	// to the Sink and Files holds none.
	Files []FileResult
	// Problems lists what could not be scanned in full, sorted by path.
	Problems []input.Problem
	// Units counts the texts scanned (files, archive members).
	Units int
	// Bytes counts the bytes of text scanned.
	Bytes int64
	// Elapsed is the wall-clock time of the run.
	Elapsed time.Duration

	// streamed counts the findings given to Options.Sink, which Files
	// does not hold.
	streamed totals
}

// totals are running counts of findings.
type totals struct {
	findings int
	byType   map[string]int
	byLevel  map[int]int
}

func (t *totals) add(fs []Finding) {
	if len(fs) > 0 && t.byType == nil {
		t.byType, t.byLevel = map[string]int{}, map[int]int{}
	}
	for _, f := range fs {
		t.findings++
		t.byType[f.Type]++
		t.byLevel[f.Level]++
	}
}

// Findings returns every finding of r in output order (path, then offset).
func (r *Result) Findings() []Finding {
	var out []Finding
	for _, f := range r.Files {
		out = append(out, f.Findings...)
	}
	return out
}

// job is one top-level file to scan.
type job struct {
	path string
	size int64
}

// outcome is what a worker found in one job, or, when partial, the
// findings of one chunk of the job's file.
type outcome struct {
	job      int
	partial  bool
	batch    []Finding
	files    []FileResult
	problems []input.Problem
	units    int
	bytes    int64
	size     int64
	err      error
}

// Run scans paths (files, directories walked recursively, or "-" for
// Stdin) and returns the findings. It fails only when a path given cannot
// be opened at all, opt is invalid, or ctx ends; everything else is a
// problem in the result.
func Run(ctx context.Context, paths []string, opt Options) (*Result, error) {
	start := time.Now()
	if opt.Scanner == nil {
		return nil, errors.New("scan: no scanner")
	}
	if opt.ChunkSize <= 0 {
		opt.ChunkSize = DefaultChunkSize
	}
	if opt.Overlap <= 0 {
		opt.Overlap = DefaultOverlap
	}
	if opt.Overlap < 8 || opt.Overlap*2 > opt.ChunkSize {
		return nil, fmt.Errorf("scan: overlap %d must be at least 8 and at most half the chunk size %d", opt.Overlap, opt.ChunkSize)
	}
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	res := &Result{}
	jobs, problems, err := collect(paths)
	if err != nil {
		return nil, err
	}
	res.Problems = problems
	var total int64
	for _, j := range jobs {
		total += j.size
	}

	// Units are given out in path order: jobs are numbered in path order,
	// a unit's path is its job's path or begins with it and "!/", and a
	// unit is given out once every job that could still produce an
	// earlier path is done. A job scanned in chunks hands out its chunks
	// only when it is the first job not done (its turn), so that they
	// are never held.
	slices.SortStableFunc(jobs, func(a, b job) int { return cmp.Compare(a.path, b.path) })
	turns := make([]chan struct{}, len(jobs))
	for i := range turns {
		turns[i] = make(chan struct{})
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	in := make(chan int)
	out := make(chan outcome)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range in {
				emit := func(batch []Finding) error {
					select {
					case <-turns[i]:
					case <-ctx.Done():
						return ctx.Err()
					}
					select {
					case out <- outcome{job: i, partial: true, batch: batch}:
						return nil
					case <-ctx.Done():
						return ctx.Err()
					}
				}
				o := scanJob(ctx, jobs[i], opt, emit)
				o.job = i
				select {
				case out <- o:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	// At most ahead jobs past the first one not done are handed out, so
	// that the units held for their turn stay few.
	ahead := make(chan struct{}, 4*workers)
	go func() {
		defer close(in)
		for i := range jobs {
			select {
			case ahead <- struct{}{}:
			case <-ctx.Done():
				return
			}
			select {
			case in <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(out) }()

	var cur []Finding // findings of the current unit when there is no Sink
	sink := opt.Sink
	if sink == nil {
		sink = func(b Batch) error {
			cur = append(cur, b.Findings...)
			if b.Done != nil {
				fr := *b.Done
				fr.Findings, cur = cur, nil
				res.Files = append(res.Files, fr)
			}
			return nil
		}
	}
	deliver := func(b Batch) error {
		if opt.Sink != nil {
			res.streamed.add(b.Findings)
			if b.Done != nil {
				res.Files = append(res.Files, *b.Done)
			}
		}
		if err := sink(b); err != nil {
			return fmt.Errorf("scan: writing results: %w", err)
		}
		return nil
	}
	// pending holds units of jobs done, sorted by path then job, until
	// their turn.
	type unit struct {
		job int
		fr  FileResult
	}
	var pending []unit
	done := make([]bool, len(jobs))
	head, opened := 0, -1
	advance := func() error {
		for {
			for len(pending) > 0 && (head == len(jobs) ||
				cmp.Or(cmp.Compare(pending[0].fr.Path, jobs[head].path), cmp.Compare(pending[0].job, head)) < 0) {
				fr := pending[0].fr
				pending = pending[1:]
				if len(fr.Findings) > 0 {
					if err := deliver(Batch{Findings: fr.Findings}); err != nil {
						return err
					}
				}
				fr.Findings = nil
				if err := deliver(Batch{Done: &fr}); err != nil {
					return err
				}
			}
			if head == len(jobs) {
				return nil
			}
			if !done[head] {
				if opened < head {
					close(turns[head])
					opened = head
				}
				return nil
			}
			head++
			<-ahead
		}
	}

	p := Progress{FilesTotal: len(jobs), BytesTotal: total}
	var firstErr error
	fail := func(err error) {
		if firstErr == nil {
			firstErr = err
			cancel()
		}
	}
	if err := advance(); err != nil {
		fail(err)
	}
	for o := range out {
		if firstErr != nil {
			continue // drain
		}
		if o.partial {
			if o.job != head {
				fail(fmt.Errorf("scan: internal error: chunk of job %d out of turn (%d)", o.job, head))
				continue
			}
			if err := deliver(Batch{Findings: o.batch}); err != nil {
				fail(err)
			}
			continue
		}
		if o.err != nil {
			fail(o.err)
			continue
		}
		for _, fr := range o.files {
			u := unit{job: o.job, fr: fr}
			i, _ := slices.BinarySearchFunc(pending, u, func(a, b unit) int {
				return cmp.Or(cmp.Compare(a.fr.Path, b.fr.Path), cmp.Compare(a.job, b.job), -1)
			})
			pending = slices.Insert(pending, i, u)
		}
		done[o.job] = true
		if err := advance(); err != nil {
			fail(err)
			continue
		}
		res.Problems = append(res.Problems, o.problems...)
		res.Units += o.units
		res.Bytes += o.bytes
		p.FilesDone++
		p.BytesDone += o.size
		if opt.Progress != nil {
			opt.Progress(p)
		}
	}
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	if firstErr != nil {
		return nil, firstErr
	}
	slices.SortStableFunc(res.Problems, func(a, b input.Problem) int {
		return cmp.Or(cmp.Compare(a.Path, b.Path), cmp.Compare(a.Reason, b.Reason))
	})
	res.Elapsed = time.Since(start)
	return res, nil
}

// collect expands paths into the files to scan, in walk order. Entries of
// a tree that cannot be read become problems; a path given that does not
// exist is an error.
func collect(paths []string) ([]job, []input.Problem, error) {
	var jobs []job
	var problems []input.Problem
	problem := func(p, reason string, err error) {
		reason += ": " + err.Error()
		problems = append(problems, input.Problem{Path: p, Reason: reason})
	}
	for _, root := range paths {
		if root == "-" {
			jobs = append(jobs, job{path: "-", size: -1})
			continue
		}
		fi, err := os.Stat(root)
		if err != nil {
			return nil, nil, fmt.Errorf("scan: %w", err)
		}
		if !fi.IsDir() {
			jobs = append(jobs, job{path: root, size: fi.Size()})
			continue
		}
		err = filewalk.Files(root, func(p string, fi fs.FileInfo) error {
			jobs = append(jobs, job{path: p, size: fi.Size()})
			return nil
		}, func(p string, err error) {
			if errors.Is(err, filewalk.ErrLinkToDir) {
				problem(p, input.ReasonUnsupported, err)
				return
			}
			problem(p, input.ReasonUnreadable, err)
		})
		if err != nil {
			return nil, nil, fmt.Errorf("scan: %w", err)
		}
	}
	return jobs, problems, nil
}

// scanJob scans one top-level file: in chunks when it is large plain text,
// else through input.Open.
// Chunks of a file scanned in chunks go to emit, which blocks until it is
// the file's turn; the file's FileResult in the outcome then has no
// findings.
func scanJob(ctx context.Context, j job, opt Options, emit func([]Finding) error) outcome {
	o := outcome{size: max(j.size, 0)}
	if err := ctx.Err(); err != nil {
		o.err = err
		return o
	}
	if j.path != "-" && j.size > int64(opt.ChunkSize) {
		done, err := scanChunked(ctx, j.path, opt, emit, &o)
		if err != nil {
			o.err = err
			return o
		}
		if done {
			return o
		}
	}
	yield := func(u input.Unit) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		o.units++
		o.bytes += int64(len(u.Text))
		found := opt.Scanner.Scan(u.Text)
		if len(found) == 0 {
			return nil
		}
		fr := FileResult{Path: u.Path, Kind: u.Kind, Encoding: u.Encoding, Verdict: dlp.Verdict(found)}
		fr.Findings = make([]Finding, len(found))
		for i, f := range found {
			fr.Findings[i] = Finding{Finding: f, Path: u.Path, Field: u.Field(f.Start)}
		}
		o.files = append(o.files, fr)
		return nil
	}
	var problems []input.Problem
	var err error
	if j.path == "-" {
		stdin := opt.Stdin
		if stdin == nil {
			stdin = os.Stdin
		}
		problems, err = input.Read("-", stdin, opt.Limits, yield)
	} else {
		problems, err = input.Open(j.path, opt.Limits, yield)
	}
	o.problems = append(o.problems, problems...)
	if err != nil {
		if ctx.Err() != nil {
			o.err = ctx.Err()
		} else {
			// The file vanished or could not be stat'ed between the
			// walk and now.
			o.problems = append(o.problems, input.Problem{Path: j.path, Reason: input.ReasonUnreadable + ": " + err.Error()})
		}
	}
	return o
}
