package dlpsvc

import (
	"context"
	"io"
	"os"

	"github.com/medguard/medguard/internal/dlp"
	"github.com/medguard/medguard/internal/dlp/input"
	"github.com/medguard/medguard/internal/dlp/scan"
)

// Chunked scanning of large plain-text files (logs, CSV exports) in a job: a plain UTF-8
// text file larger than the input limit (Options.Limits.MaxFileSize) is read in
// windows of at most that many bytes instead of being refused as too big, so that
// memory stays flat in file size.
const (
	// maxChunk bounds the size of a chunk whatever the input limit: several
	// windows of a file are held at once (scanned in parallel), and 1 MiB keeps
	// them and their findings small at no cost in speed (bench/RESULTS.md).
	maxChunk = 1 << 20
	// maxOverlap bounds the bytes consecutive windows share; a finding up to half
	// of it long is never cut by a chunk edge.
	maxOverlap = 4 << 10
)

// chunkSizes returns the chunk and overlap sizes for input limit lim: a window
// (chunk+overlap) is no larger than lim.
func chunkSizes(lim int64) (chunk, overlap int) {
	window := int(min(lim, maxChunk+maxOverlap))
	overlap = min(maxOverlap, window/4)
	return window - overlap, overlap
}

// maxFileSize is the input limit of a file read whole.
func (s *Service) maxFileSize() int64 {
	if s.opt.Limits.MaxFileSize > 0 {
		return s.opt.Limits.MaxFileSize
	}
	return input.DefaultLimits().MaxFileSize
}

// scanLarge scans the file at path in chunks when it is larger than the input limit
// and plain UTF-8 text; chunked is false, with nothing read that counts, when the file
// must go through input.Open (which reports it too big when it is).
func (s *Service) scanLarge(ctx context.Context, engine *dlp.Scanner, path string) (rs []unitResult, chunked bool) {
	lim := s.maxFileSize()
	st, err := os.Stat(path)
	if err != nil || !st.Mode().IsRegular() || st.Size() <= lim {
		return nil, false
	}
	chunk, overlap := chunkSizes(lim)
	u := unitResult{path: path}
	fr, problems, size, chunked, err := scan.LargeFile(ctx, path, engine, chunk, overlap, u.collect)
	if !chunked {
		return nil, false
	}
	if err != nil {
		return nil, true
	}
	return u.finish(fr, problems, size), true
}

// chunker scans one reader in windows with scan.Chunker and keeps, besides the
// verdict, at most MaxStoredFindingsPerFile findings with their raw values (all
// counted).
type chunker struct {
	engine         *dlp.Scanner
	chunk, overlap int
	path, kind     string
	header         []string // CSV/TSV column names
	sep            byte
}

// run scans r and returns the file's result and its problems; nothing when ctx ends.
func (c *chunker) run(ctx context.Context, r io.Reader) []unitResult {
	u := unitResult{path: c.path}
	sc := scan.Chunker{Scanner: c.engine, Chunk: c.chunk, Overlap: c.overlap, Path: c.path, Kind: c.kind,
		Header: c.header, Sep: c.sep, Emit: u.collect}
	fr, problems, size, err := sc.Run(ctx, r)
	if err != nil {
		return nil
	}
	return u.finish(fr, problems, size)
}

// collect keeps a window's findings and their raw values, up to
// MaxStoredFindingsPerFile, and counts them all.
func (u *unitResult) collect(text []byte, base int64, batch []scan.Finding) error {
	for _, f := range batch {
		u.total++
		if len(u.findings) < MaxStoredFindingsPerFile {
			rel := f.Start - int(base)
			u.findings = append(u.findings, f.Finding)
			u.raws = append(u.raws, append([]byte(nil), text[rel:rel+f.End-f.Start]...))
			u.fields = append(u.fields, f.Field)
		}
	}
	return nil
}

// finish completes u with the file's verdict and size, followed by a result for
// each problem met while reading.
func (u *unitResult) finish(fr scan.FileResult, problems []input.Problem, size int64) []unitResult {
	u.kind, u.encoding, u.size, u.verdict = fr.Kind, fr.Encoding, size, fr.Verdict
	out := []unitResult{*u}
	for _, p := range problems {
		out = append(out, unitResult{path: p.Path, problem: p.Reason})
	}
	return out
}
