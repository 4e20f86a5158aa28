package scan

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Formats lists the output formats of Write.
var Formats = []string{"table", "json", "sarif", "csv"}

// Write writes res to w in format: "table" (findings, per-file verdicts
// and a summary; problems are left to the caller, for stderr), "json" (one
// object per finding per line, one {"problem":…} line per problem, then
// one {"summary":…} line), "sarif" (SARIF 2.1.0; problems as tool
// execution notifications) or "csv" (a header, then one row per finding;
// problems are left to the caller). It writes what a Writer given res's
// findings and then res writes; the table aligns its finding rows in
// blocks of 4096.
func Write(w io.Writer, format string, res *Result) error {
	sw, err := NewWriter(w, format)
	if err != nil {
		return err
	}
	defer sw.Close()
	for _, fr := range res.Files {
		if err := sw.Batch(Batch{Findings: fr.Findings}); err != nil {
			return err
		}
	}
	return sw.Finish(res)
}

// Writer writes a Run's output while it runs: Batch is an Options.Sink
// that writes each finding as it comes (SARIF, a single document whose
// header depends on every finding, spools them to a temporary file), and
// Finish writes what follows the findings. Memory does not grow with the
// number of findings: the table format aligns its columns over blocks of
// tableBlock rows rather than over the whole table.
type Writer struct {
	out interface {
		batch([]Finding) error
		finish(*Result) error
		close() error
	}
}

// NewWriter returns a Writer of format (see Write) to w. Close releases
// what it holds when Finish is not reached.
func NewWriter(w io.Writer, format string) (*Writer, error) {
	switch format {
	case "table", "":
		return &Writer{newTableWriter(w)}, nil
	case "json":
		return &Writer{newJSONWriter(w)}, nil
	case "sarif":
		return &Writer{newSARIFWriter(w)}, nil
	case "csv":
		return &Writer{newCSVWriter(w)}, nil
	}
	return nil, fmt.Errorf("scan: unknown format %q (want %s)", format, strings.Join(Formats, ", "))
}

// Batch writes the findings of b; it is an Options.Sink.
func (w *Writer) Batch(b Batch) error {
	if len(b.Findings) == 0 {
		return nil
	}
	return w.out.batch(b.Findings)
}

// Finish writes what follows the findings (verdicts, problems, summary)
// from res, the Result of the Run whose findings were given to Batch, and
// releases what w holds.
func (w *Writer) Finish(res *Result) error {
	return errors.Join(w.out.finish(res), w.out.close())
}

// Close releases what the Writer holds (SARIF's temporary file).
func (w *Writer) Close() error { return w.out.close() }

// Summary is the totals of a Result.
type Summary struct {
	Files                 int            `json:"files"`
	Bytes                 int64          `json:"bytes"`
	Findings              int            `json:"findings"`
	ByType                map[string]int `json:"by_type"`
	ByLevel               map[string]int `json:"by_level"`
	HighestLevel          int            `json:"highest_level"`
	IdentifiesPersonFiles int            `json:"identifies_person_files"`
	Problems              int            `json:"problems"`
	// Elapsed is the wall-clock time in seconds.
	Elapsed float64 `json:"elapsed"`
}

// Summary returns the totals of r (of the findings in Files and of those
// given to Options.Sink): Files counts the texts scanned (files
// and archive members), ByLevel counts findings per level ("1"–"5"), and
// HighestLevel is the highest file verdict.
func (r *Result) Summary() Summary {
	s := Summary{Files: r.Units, Bytes: r.Bytes, ByType: map[string]int{}, ByLevel: map[string]int{},
		Problems: len(r.Problems), Elapsed: r.Elapsed.Seconds()}
	for _, f := range r.Files {
		s.HighestLevel = max(s.HighestLevel, f.Verdict.HighestLevel)
		if f.Verdict.IdentifiesPerson {
			s.IdentifiesPersonFiles++
		}
		for _, x := range f.Findings {
			s.Findings++
			s.ByType[x.Type]++
			s.ByLevel[strconv.Itoa(x.Level)]++
		}
	}
	s.Findings += r.streamed.findings
	for t, n := range r.streamed.byType {
		s.ByType[t] += n
	}
	for l, n := range r.streamed.byLevel {
		s.ByLevel[strconv.Itoa(l)] += n
	}
	return s
}

// HighestLevel returns the highest file verdict level of r (0 when nothing
// was found).
func (r *Result) HighestLevel() int {
	h := 0
	for _, f := range r.Files {
		h = max(h, f.Verdict.HighestLevel)
	}
	return h
}
