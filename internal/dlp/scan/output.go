package scan

import (
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
// problems are left to the caller).
func Write(w io.Writer, format string, res *Result) error {
	switch format {
	case "table", "":
		return writeTable(w, res)
	case "json":
		return writeJSON(w, res)
	case "sarif":
		return writeSARIF(w, res)
	case "csv":
		return writeCSV(w, res)
	}
	return fmt.Errorf("scan: unknown format %q (want %s)", format, strings.Join(Formats, ", "))
}

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

// Summary returns the totals of r: Files counts the texts scanned (files
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
