package input

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"sort"
)

// table reads a CSV or TSV text. The unit's text is the input itself; the
// first record is taken as the header naming the columns. A text that does
// not parse is scanned as plain text and reported as malformed.
func (d *decoder) table(path, kind string, text []byte, enc string) Unit {
	sep := ','
	if kind == KindTSV {
		sep = '\t'
	} else if line, _, _ := bytes.Cut(text, []byte("\n")); bytes.Count(line, []byte("\t")) > bytes.Count(line, []byte(",")) {
		sep = '\t'
	}
	r := csv.NewReader(bytes.NewReader(text))
	r.Comma = sep
	r.LazyQuotes = true
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	var header []string
	rows := []int{0} // byte offset where each record starts
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			where := ""
			if errors.As(err, &pe) {
				where = fmt.Sprintf("line %d, column %d: ", pe.StartLine, pe.Column)
				err = pe.Err
			}
			d.problem(path, ReasonMalformed, "%s%s%v (scanned as text)", kind, ": "+where, err)
			return Unit{Path: path, Kind: KindText, Text: text, Encoding: enc}
		}
		if header == nil {
			header = make([]string, len(rec))
			for i, h := range rec {
				header[i] = string(bytes.TrimPrefix([]byte(h), []byte("\uFEFF")))
			}
		}
		rows = append(rows, int(r.InputOffset()))
	}
	u := Unit{Path: path, Kind: kind, Text: text, Encoding: enc, Columns: header}
	u.field = func(off int) string {
		row := sort.Search(len(rows), func(i int) bool { return rows[i] > off }) - 1
		if row <= 0 { // the header row, or before it
			return ""
		}
		col := column(text[rows[row]:off], byte(sep))
		if col < len(header) && header[col] != "" {
			return header[col]
		}
		return fmt.Sprintf("column %d", col+1)
	}
	return u
}

// column counts the separators outside quotes in the record prefix rec.
func column(rec []byte, sep byte) int {
	col, quoted, start := 0, false, true
	for _, c := range rec {
		switch {
		case c == '"' && (quoted || start):
			quoted = !quoted
		case c == sep && !quoted:
			col++
			start = true
			continue
		}
		start = false
	}
	return col
}
