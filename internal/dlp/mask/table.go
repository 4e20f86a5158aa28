package mask

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// TableOptions configure Masker.Table.
type TableOptions struct {
	// Sep is the field separator; 0 chooses ',' or, when the header has
	// more tabs than commas, '\t'.
	Sep rune
	// Quasi names the quasi-identifier columns of the risk summary; when
	// empty no summary is computed.
	Quasi []string
	// Sensitive names the sensitive column of l-diversity (optional).
	Sensitive string
}

// Table masks a CSV/TSV table read from r and writes it to w with the same
// columns: the first record is the header and is kept; a cell of a column
// named in the policy is replaced whole by that column's method, every
// other cell has its detected values masked. When opt.Quasi is set it
// returns the re-identification risk of the output table.
func (m *Masker) Table(r io.Reader, w io.Writer, opt TableOptions, st *Stats) (*Risk, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("mask: %w", err)
	}
	bom := bytes.HasPrefix(data, []byte("\uFEFF"))
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	sep := opt.Sep
	if sep == 0 {
		sep = ','
		if line, _, _ := bytes.Cut(bytes.TrimLeft(data, "\r\n"), []byte("\n")); bytes.Count(line, []byte("\t")) > bytes.Count(line, []byte(",")) {
			sep = '\t'
		}
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comma = sep
	cr.LazyQuotes = true
	cr.FieldsPerRecord = -1
	cw := csv.NewWriter(w)
	cw.Comma = sep
	if bom {
		if _, err := io.WriteString(w, "\uFEFF"); err != nil {
			return nil, err
		}
	}
	var header []string
	var risk *riskCounter
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, fmt.Errorf("mask: line %d, column %d: %v", pe.StartLine, pe.Column, pe.Err)
			}
			return nil, fmt.Errorf("mask: %w", err)
		}
		if header == nil {
			header = slices.Clone(rec)
			if len(opt.Quasi) > 0 {
				if risk, err = newRiskCounter(header, opt.Quasi, opt.Sensitive); err != nil {
					return nil, err
				}
			}
			if err := writeRecord(cw, w, rec); err != nil {
				return nil, err
			}
			continue
		}
		for i, v := range rec {
			col := ""
			if i < len(header) {
				col = header[i]
			}
			rec[i] = m.cell(col, v, st)
		}
		if risk != nil {
			risk.add(rec)
		}
		if err := writeRecord(cw, w, rec); err != nil {
			return nil, err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return nil, err
	}
	if risk == nil {
		return nil, nil
	}
	res := risk.result()
	return &res, nil
}

// writeRecord writes rec through cw, which writes to w; a record of one
// empty field is written as "" since csv.Writer would write an empty line,
// which readers skip.
func writeRecord(cw *csv.Writer, w io.Writer, rec []string) error {
	if len(rec) == 1 && rec[0] == "" {
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err
		}
		_, err := io.WriteString(w, "\"\"\n")
		return err
	}
	return cw.Write(rec)
}

// Risk is the re-identification risk of a table over its quasi-identifiers:
// records with the same quasi-identifier values form an equivalence class.
type Risk struct {
	Quasi     []string `json:"quasi"`
	Sensitive string   `json:"sensitive,omitempty"`
	Rows      int      `json:"rows"`
	Classes   int      `json:"classes"`
	// K is the size of the smallest class (k-anonymity); 0 for no rows.
	K int `json:"k"`
	// L is the smallest number of distinct sensitive values in a class
	// (l-diversity); 0 when no sensitive column is given.
	L int `json:"l"`
	// Unique counts the records alone in their class.
	Unique int `json:"unique"`
}

// String returns a one-line summary.
func (r Risk) String() string {
	s := fmt.Sprintf("re-identification risk over %s: %d rows in %d classes, k-anonymity k=%d, %d unique records",
		strings.Join(r.Quasi, ", "), r.Rows, r.Classes, r.K, r.Unique)
	if r.Sensitive != "" {
		s += fmt.Sprintf(", l-diversity of %s l=%d", r.Sensitive, r.L)
	}
	return s
}

// ComputeRisk returns the risk of rows (without the header) under header.
func ComputeRisk(header []string, rows [][]string, quasi []string, sensitive string) (Risk, error) {
	rc, err := newRiskCounter(header, quasi, sensitive)
	if err != nil {
		return Risk{}, err
	}
	for _, r := range rows {
		rc.add(r)
	}
	return rc.result(), nil
}

type riskCounter struct {
	quasi     []string
	qi        []int
	sensitive string
	si        int // -1 without a sensitive column
	rows      int
	classes   map[string]*class
}

type class struct {
	n      int
	values map[string]bool
}

func newRiskCounter(header, quasi []string, sensitive string) (*riskCounter, error) {
	rc := &riskCounter{quasi: quasi, sensitive: sensitive, si: -1, classes: map[string]*class{}}
	for _, q := range quasi {
		i := slices.Index(header, q)
		if i < 0 {
			return nil, fmt.Errorf("mask: quasi-identifier column %q not in the header", q)
		}
		rc.qi = append(rc.qi, i)
	}
	if sensitive != "" {
		if rc.si = slices.Index(header, sensitive); rc.si < 0 {
			return nil, fmt.Errorf("mask: sensitive column %q not in the header", sensitive)
		}
	}
	return rc, nil
}

func (rc *riskCounter) add(rec []string) {
	var key strings.Builder
	for _, i := range rc.qi {
		v := ""
		if i < len(rec) {
			v = rec[i]
		}
		fmt.Fprintf(&key, "%d:%s", len(v), v)
	}
	c := rc.classes[key.String()]
	if c == nil {
		c = &class{values: map[string]bool{}}
		rc.classes[key.String()] = c
	}
	c.n++
	if rc.si >= 0 && rc.si < len(rec) {
		c.values[rec[rc.si]] = true
	}
	rc.rows++
}

func (rc *riskCounter) result() Risk {
	r := Risk{Quasi: rc.quasi, Sensitive: rc.sensitive, Rows: rc.rows, Classes: len(rc.classes)}
	first := true
	for _, c := range rc.classes {
		if c.n == 1 {
			r.Unique++
		}
		if first || c.n < r.K {
			r.K = c.n
		}
		if rc.si >= 0 && (first || len(c.values) < r.L) {
			r.L = len(c.values)
		}
		first = false
	}
	return r
}
