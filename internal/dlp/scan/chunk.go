package scan

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/medguard/medguard/internal/dlp"
	"github.com/medguard/medguard/internal/dlp/input"
	"github.com/medguard/medguard/internal/textenc"
)

// sniffSize is how much of a large file is looked at to decide whether it
// is plain UTF-8 text that can be scanned in chunks.
const sniffSize = 64 << 10

// chunkKind returns the unit kind of a large file that can be scanned in
// chunks, or "" when it must go through input.Open (a container, a format
// whose text is extracted, or an encoding other than UTF-8).
func chunkKind(path string, head []byte) string {
	kind := ""
	switch ext(path) {
	case "csv":
		kind = input.KindCSV
	case "tsv", "tab":
		kind = input.KindTSV
	case "log", "out", "err":
		kind = input.KindLog
	case "", "txt", "text", "md", "sql", "yaml", "yml", "ini", "conf", "cfg", "properties", "dat":
		kind = input.KindText
	default:
		return ""
	}
	for _, magic := range []string{"PK\x03\x04", "PK\x05\x06", "\xD0\xCF\x11\xE0", "%PDF-", "\x1F\x8B", "\xFF\xFE", "\xFE\xFF"} {
		if bytes.HasPrefix(head, []byte(magic)) {
			return ""
		}
	}
	if bytes.IndexByte(head, 0) >= 0 { // UTF-16 or binary
		return ""
	}
	trim := bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\uFEFF")), " \t\r\n")
	if kind == input.KindText && (bytes.HasPrefix(trim, []byte("<")) || bytes.HasPrefix(trim, []byte("MSH|")) ||
		bytes.HasPrefix(trim, []byte("{")) || bytes.HasPrefix(trim, []byte("["))) {
		return "" // markup, HL7 or JSON: its text is extracted
	}
	if !utf8.Valid(head[:runeCut(head)]) {
		return "" // GBK/GB18030 or damaged: decoded whole by input
	}
	return kind
}

// ext returns the lower-case extension of the base name of path.
func ext(path string) string {
	base := path[strings.LastIndexAny(path, `/\`)+1:]
	i := strings.LastIndexByte(base, '.')
	if i < 0 {
		return ""
	}
	return strings.ToLower(base[i+1:])
}

// runeCut returns the length of b without an incomplete UTF-8 sequence at
// its end.
func runeCut(b []byte) int {
	for k := 1; k <= utf8.UTFMax && k <= len(b); k++ {
		i := len(b) - k
		if !utf8.RuneStart(b[i]) {
			continue
		}
		if !utf8.FullRune(b[i:]) {
			return i
		}
		return len(b)
	}
	return len(b)
}

// scanChunked scans a large plain-text file in overlapping chunks with
// LargeFile. It returns done=false, without having read anything that
// counts, when the file must be read by input.Open. The findings of every
// chunk go to emit; the FileResult added to o holds none.
func scanChunked(ctx context.Context, path string, opt Options, emit func([]Finding) error, o *outcome) (done bool, err error) {
	fr, problems, size, done, err := LargeFile(ctx, path, opt.Scanner, opt.ChunkSize, opt.Overlap,
		func(_ []byte, _ int64, batch []Finding) error { return emit(batch) })
	if !done || err != nil {
		return done, err
	}
	o.units++
	o.bytes += size
	o.problems = append(o.problems, problems...)
	if len(fr.Verdict.CountsByType) > 0 {
		o.files = append(o.files, fr)
	}
	return true, nil
}

// LargeFile scans the file at path in overlapping windows of chunk+overlap
// bytes, so that memory does not grow with the file. It returns
// chunked=false, without having read anything that counts, when the file is
// not plain UTF-8 text (a container, a format whose text is extracted, another
// encoding) and must be read by input.Open. Each window's findings (offsets
// and lines in the file) go to emit with the window's text and the file
// offset of its first byte, so that a caller may take a finding's raw value
// as text[f.Start-base : f.End-base]; the FileResult returned has the
// verdict and no findings. err is the context's or emit's error.
func LargeFile(ctx context.Context, path string, s *dlp.Scanner, chunk, overlap int,
	emit func(text []byte, base int64, batch []Finding) error) (fr FileResult, problems []input.Problem, size int64, chunked bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return fr, nil, 0, false, nil // input.Open reports it
	}
	defer f.Close()
	head := make([]byte, sniffSize)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return fr, nil, 0, false, nil
	}
	head = head[:n]
	kind := chunkKind(path, head)
	if kind == "" {
		return fr, nil, 0, false, nil
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fr, nil, 0, false, nil
	}
	c := &Chunker{Scanner: s, Chunk: chunk, Overlap: overlap, Path: path, Kind: kind, Emit: emit}
	if kind == input.KindCSV || kind == input.KindTSV {
		c.Header, c.Sep = tableHeader(head, kind)
	}
	fr, problems, size, err = c.Run(ctx, f)
	return fr, problems, size, true, err
}

// tableHeader parses the first record of a CSV/TSV head.
func tableHeader(head []byte, kind string) ([]string, byte) {
	line, _, _ := bytes.Cut(head, []byte("\n"))
	sep := byte(',')
	if kind == input.KindTSV || bytes.Count(line, []byte("\t")) > bytes.Count(line, []byte(",")) {
		sep = '\t'
	}
	r := csv.NewReader(bytes.NewReader(head))
	r.Comma = rune(sep)
	r.LazyQuotes = true
	r.FieldsPerRecord = -1
	rec, err := r.Read()
	if err != nil {
		return nil, sep
	}
	rec[0] = strings.TrimPrefix(rec[0], "\uFEFF")
	return rec, sep
}

// Chunker scans one reader in windows of Chunk+Overlap bytes. Window k+1
// starts Overlap bytes before the end of window k; a finding belongs to
// the window in which its start lies before the middle of the overlap
// with the next window, so every finding shorter than Overlap/2 is seen
// whole, with at least Overlap/2 bytes of context on each side, by
// exactly one window. Windows are read one after another and scanned by
// Parallel goroutines at once; their findings go to Emit in file order,
// from the goroutine that called Run. `medguard scan` and the service's
// path jobs both read large plain-text files with it.
type Chunker struct {
	Scanner        *dlp.Scanner
	Chunk, Overlap int
	Path, Kind     string
	Header         []string // CSV/TSV column names
	Sep            byte     // CSV/TSV separator
	// Parallel is how many windows are scanned at once; 0 means
	// DefaultParallel(). At most Parallel+1 windows are held.
	Parallel int
	// Emit receives each window's findings (offsets and lines in the
	// file) with the window's text and the file offset of its first byte:
	// a finding's raw value is text[f.Start-base : f.End-base].
	Emit func(text []byte, base int64, batch []Finding) error
}

// columnNames holds "column N" for the first columns, which a CSV/TSV
// without a name for them gives every finding.
var columnNames = func() []string {
	out := make([]string, 64)
	for k := range out {
		out[k] = fmt.Sprintf("column %d", k+1)
	}
	return out
}()

// DefaultParallel is how many windows of one file a Chunker scans at once
// by default: GOMAXPROCS, at most 4, so that the windows held by the files
// scanned at the same time stay few.
func DefaultParallel() int { return min(runtime.GOMAXPROCS(0), 4) }

// window is one window of a Chunker's input on its way from the reader
// through a scanning goroutine to Emit.
type window struct {
	buf     []byte // as read
	end     int    // buf[:end] is scanned: whole runes unless at EOF
	text    []byte // buf[:end], or a copy with invalid UTF-8 replaced
	invalid bool   // buf[:end] is not valid UTF-8
	base    int64  // file offset of buf[0]
	lines   int    // newlines before base
	ownFrom int64  // findings starting before this belong to an earlier window
	ownTo   int64  // findings starting at or after this belong to a later one; -1: none
	eof     bool
	problem string // a read error that ended the input
	// lead is the part of the line that began before base (for the
	// column of a CSV/TSV finding on the window's first line); leadOK is
	// false when that part was longer than maxLead.
	lead   []byte
	leadOK bool
	batch  []Finding
	done   chan struct{} // closed once scanned
}

// Run scans r and gives each window's findings to c.Emit; the FileResult
// returned has the verdict and no findings, the int64 is the bytes read.
// Its error is the context's or Emit's.
func (c *Chunker) Run(ctx context.Context, r io.Reader) (FileResult, []input.Problem, int64, error) {
	fr := FileResult{Path: c.Path, Kind: c.Kind, Encoding: input.EncodingUTF8}
	par := c.Parallel
	if par <= 0 {
		par = DefaultParallel()
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }() // the goroutines end before Run returns
	free := make(chan []byte, par+1)       // buffers, allocated on first use
	for range par + 1 {
		free <- nil
	}
	todo := make(chan *window)
	order := make(chan *window, par+1)
	wg.Add(1 + par)
	go func() {
		defer wg.Done()
		defer close(todo)
		defer close(order)
		c.read(ctx, r, free, todo, order)
	}()
	for range par {
		go func() {
			defer wg.Done()
			var found []dlp.Finding
			for w := range todo {
				found = c.scanWindow(w, found)
				close(w.done)
			}
		}()
	}

	var problems []input.Problem
	var verdict verdictAcc
	var lastEnd int64 // end of the last finding kept
	for w := range order {
		select {
		case <-w.done:
		case <-ctx.Done():
			return fr, nil, 0, ctx.Err()
		}
		if w.invalid && fr.Encoding != input.EncodingUnknown {
			fr.Encoding = input.EncodingUnknown
			problems = append(problems, input.Problem{Path: c.Path, Reason: fmt.Sprintf(
				"%s: invalid UTF-8 after byte %d; invalid bytes scanned as '?'", input.ReasonMalformed, w.base)})
		}
		if w.problem != "" {
			problems = append(problems, input.Problem{Path: c.Path, Reason: w.problem})
		}
		// A finding that overlaps one kept from the window before is
		// the same data seen again, or a shorter reading of it.
		batch := w.batch[:0]
		for _, f := range w.batch {
			if int64(f.Start) < lastEnd {
				continue
			}
			lastEnd = int64(f.End)
			verdict.add(f.Finding)
			batch = append(batch, f)
		}
		if len(batch) > 0 {
			if err := c.Emit(w.text, w.base, batch); err != nil {
				return fr, nil, 0, err
			}
		}
		if w.eof {
			if err := ctx.Err(); err != nil {
				return fr, nil, 0, err
			}
			fr.Verdict = verdict.result()
			return fr, problems, w.base + int64(len(w.buf)), nil
		}
		free <- w.buf
	}
	if err := ctx.Err(); err != nil {
		return fr, nil, 0, err
	}
	return fr, nil, 0, errors.New("scan: internal error: chunked input ended without its last window")
}

// read reads r into windows and hands each to the scanning goroutines
// (todo) and, in file order, to Run (order).
func (c *Chunker) read(ctx context.Context, r io.Reader, free chan []byte, todo, order chan<- *window) {
	var carry []byte  // the overlap with the next window
	var base int64    // file offset of the next window
	var ownFrom int64 // ownTo of the previous window
	lines := 0        // newlines before base
	var lead []byte   // the line begun before base
	leadOK := true
	for {
		var buf []byte
		select {
		case buf = <-free:
		case <-ctx.Done():
			return
		}
		if buf == nil {
			buf = make([]byte, 0, c.Chunk+c.Overlap)
		}
		buf = append(buf[:0], carry...)
		n, err := io.ReadFull(r, buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		w := &window{buf: buf, base: base, lines: lines, ownFrom: ownFrom, ownTo: -1, done: make(chan struct{}), leadOK: leadOK}
		if c.Header != nil {
			w.lead = slices.Clone(lead)
		}
		w.eof = errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
		if err != nil && !w.eof {
			w.problem = fmt.Sprintf("%s: at byte %d: %v", input.ReasonUnreadable, base+int64(len(buf)), err)
			w.eof = true
		}
		w.end = len(buf)
		if !w.eof {
			w.end = runeCut(buf)
			w.ownTo = base + int64(w.end-c.Overlap/2)
		}
		for _, ch := range []chan<- *window{order, todo} {
			select {
			case ch <- w:
			case <-ctx.Done():
				return
			}
		}
		if w.eof {
			return
		}
		next := w.end - c.Overlap
		for next < w.end && !utf8.RuneStart(buf[next]) {
			next++
		}
		lines += bytes.Count(buf[:next], []byte{'\n'})
		if c.Header != nil { // only CSV/TSV columns need the line begun before a window
			switch nl := bytes.LastIndexByte(buf[:next], '\n'); {
			case nl >= 0:
				lead, leadOK = append(lead[:0], buf[nl+1:next]...), true
			case leadOK && len(lead)+next <= maxLead:
				lead = append(lead, buf[:next]...)
			default:
				lead, leadOK = lead[:0], false
			}
		}
		carry = append(carry[:0], buf[next:]...)
		base += int64(next)
		ownFrom = w.ownTo
	}
}

// scanWindow scans w and sets w.batch to the findings that belong to it,
// with offsets and lines in the file; found is a buffer for the scanner.
func (c *Chunker) scanWindow(w *window, found []dlp.Finding) []dlp.Finding {
	w.text = w.buf[:w.end]
	if !utf8.Valid(w.text) {
		w.text, w.invalid = textenc.Sanitize(nil, w.text), true
	}
	found = c.Scanner.AppendScan(found[:0], w.text)
	if len(found) > 0 {
		w.batch = make([]Finding, 0, len(found))
	}
	var at columnAt
	var first *columnAt // the column count after w.lead, for the first line
	if c.Header != nil && w.base > 0 {
		first = &columnAt{atStart: true}
		if w.leadOK {
			c.count(first, w.lead)
		} else {
			first.col = -1
		}
	}
	for _, f := range found {
		abs := w.base + int64(f.Start)
		if abs < w.ownFrom || w.ownTo >= 0 && abs >= w.ownTo {
			continue
		}
		f.Start, f.End = int(abs), int(w.base+int64(f.End))
		f.Line += w.lines
		w.batch = append(w.batch, Finding{Finding: f, Path: c.Path, Field: c.field(w.text, int(abs-w.base), f.Line, &at, first)})
	}
	return found
}

// columnAt is where the column count of a CSV/TSV line stood after
// reading the window up to pos: findings of one line are named from left to
// right, so each goes on from where the one before it stopped.
type columnAt struct {
	line, pos, col  int
	quoted, atStart bool
}

// maxLead bounds the part of a line carried from one window to the next
// to name CSV/TSV columns: a longer line is not a table row.
const maxLead = 64 << 10

// field names the CSV/TSV column of offset off of window, on file line
// line; at carries the count from the previous finding of the window, and
// first, when the window begins inside a line, the count at the window's
// start (col -1: unknown).
func (c *Chunker) field(window []byte, off, line int, at *columnAt, first *columnAt) string {
	if c.Header == nil || line <= 1 {
		return ""
	}
	if at.line != line || at.pos > off {
		nl := bytes.LastIndexByte(window[:off], '\n')
		if nl < 0 && first != nil {
			*at = *first
		} else {
			*at = columnAt{pos: nl + 1, atStart: true}
		}
		at.line = line
	}
	if at.col < 0 {
		return ""
	}
	c.count(at, window[at.pos:off])
	at.pos = off
	col := at.col
	if col < len(c.Header) {
		if h := c.Header[col]; h != "" {
			return h
		}
	}
	if col < len(columnNames) {
		return columnNames[col]
	}
	return fmt.Sprintf("column %d", col+1)
}

// count goes on counting the columns of at over b.
func (c *Chunker) count(at *columnAt, b []byte) {
	col, quoted, atStart := at.col, at.quoted, at.atStart
	for _, ch := range b {
		switch {
		case ch == '"' && (quoted || atStart):
			quoted = !quoted
		case ch == c.Sep && !quoted:
			col++
			atStart = true
			continue
		}
		atStart = false
	}
	at.col, at.quoted, at.atStart = col, quoted, atStart
}

// verdictAcc computes dlp.Verdict of a file's findings without holding
// them: the verdict depends on the counts per type and, for the level and
// whether the findings identify a person, only on which (type, category,
// level) combinations occur, so one finding of each is kept. Types and
// combinations are few, so both are kept in short lists searched from the
// last one used, cheaper than a map for millions of findings.
type verdictAcc struct {
	counts []typeCount
	last   int // index in counts of the last type counted
	reps   []dlp.Finding
}

type typeCount struct {
	typ string
	n   int
}

func (v *verdictAcc) add(f dlp.Finding) {
	if v.last >= len(v.counts) || v.counts[v.last].typ != f.Type {
		v.last = slices.IndexFunc(v.counts, func(c typeCount) bool { return c.typ == f.Type })
		if v.last < 0 {
			v.last = len(v.counts)
			v.counts = append(v.counts, typeCount{typ: f.Type})
		}
	}
	v.counts[v.last].n++
	if !slices.ContainsFunc(v.reps, func(r dlp.Finding) bool {
		return r.Type == f.Type && r.Category == f.Category && r.Level == f.Level
	}) {
		v.reps = append(v.reps, f)
	}
}

func (v *verdictAcc) result() dlp.FileVerdict {
	r := dlp.Verdict(v.reps)
	if len(v.counts) > 0 {
		r.CountsByType = make(map[string]int, len(v.counts))
		for _, c := range v.counts {
			r.CountsByType[c.typ] = c.n
		}
	}
	return r
}
