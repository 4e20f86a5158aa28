package scan

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
)

// CSVHeader is the header row of CSV output.
var CSVHeader = []string{"path", "type", "start", "end", "line", "confidence", "category", "level", "field", "preview"}

func writeCSV(w io.Writer, res *Result) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	for _, fr := range res.Files {
		for _, f := range fr.Findings {
			if err := cw.Write([]string{cell(f.Path), f.Type, strconv.Itoa(f.Start), strconv.Itoa(f.End), strconv.Itoa(f.Line),
				strconv.FormatFloat(f.Confidence, 'f', -1, 64), f.Category, strconv.Itoa(f.Level), cell(f.Field), cell(f.Preview)}); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// cell defuses a text cell that a spreadsheet would run as a formula.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
