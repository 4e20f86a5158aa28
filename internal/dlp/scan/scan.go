// Package scan owns medguard's file scanner for patient data: it walks files,
// directory trees, archives and standard input, decodes them with package
// input, runs a dlp.Scanner over every text concurrently (one worker per
// GOMAXPROCS), scans large plain-text files in overlapping chunks so that
// memory stays flat in file size, and writes the results as a table, JSON
// lines, SARIF 2.1.0 or CSV. Findings carry masked previews only; what could
// not be read is reported as a problem, never skipped silently.
package scan

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/medguard/medguard/internal/dlp"
	"github.com/medguard/medguard/internal/dlp/input"
)

// Default chunking of large plain-text files.
const (
	DefaultChunkSize = 4 << 20
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
	// findings are sorted by offset.
	Files []FileResult
	// Problems lists what could not be scanned in full, sorted by path.
	Problems []input.Problem
	// Units counts the texts scanned (files, archive members).
	Units int
	// Bytes counts the bytes of text scanned.
	Bytes int64
	// Elapsed is the wall-clock time of the run.
	Elapsed time.Duration
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

// outcome is what a worker found in one job.
type outcome struct {
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

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	in := make(chan job)
	out := make(chan outcome)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range in {
				o := scanJob(ctx, j, opt)
				select {
				case out <- o:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() {
		defer close(in)
		for _, j := range jobs {
			select {
			case in <- j:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(out) }()

	p := Progress{FilesTotal: len(jobs), BytesTotal: total}
	var firstErr error
	for o := range out {
		if o.err != nil && firstErr == nil {
			firstErr = o.err
			cancel()
		}
		res.Files = append(res.Files, o.files...)
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
	slices.SortStableFunc(res.Files, func(a, b FileResult) int { return cmp.Compare(a.Path, b.Path) })
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
		if err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			reason += ": " + err.Error()
		}
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
		err = filepath.WalkDir(root, func(p string, de fs.DirEntry, err error) error {
			if err != nil {
				problem(p, input.ReasonUnreadable, err)
				if de != nil && de.IsDir() && p != root {
					return fs.SkipDir
				}
				return nil
			}
			if de.IsDir() {
				return nil
			}
			fi, err := os.Stat(p) // follows a symbolic link to a file
			if err != nil {
				problem(p, input.ReasonUnreadable, err)
				return nil
			}
			if fi.IsDir() {
				problem(p, input.ReasonUnsupported+": symbolic link to a directory not followed", nil)
				return nil
			}
			jobs = append(jobs, job{path: p, size: fi.Size()})
			return nil
		})
		if err != nil {
			return nil, nil, fmt.Errorf("scan: %w", err)
		}
	}
	return jobs, problems, nil
}

// scanJob scans one top-level file: in chunks when it is large plain text,
// else through input.Open.
func scanJob(ctx context.Context, j job, opt Options) outcome {
	o := outcome{size: max(j.size, 0)}
	if err := ctx.Err(); err != nil {
		o.err = err
		return o
	}
	if j.path != "-" && j.size > int64(opt.ChunkSize) {
		done, err := scanChunked(ctx, j.path, opt, &o)
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
