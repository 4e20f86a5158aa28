package scan

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
)

// CSVHeader is the header row of CSV output.
var CSVHeader = []string{"path", "type", "start", "end", "line", "confidence", "category", "level", "field", "preview"}

// csvWriter writes the header, then one row per finding as it comes.
type csvWriter struct {
	cw     *csv.Writer
	header bool
}

func newCSVWriter(w io.Writer) *csvWriter { return &csvWriter{cw: csv.NewWriter(w)} }

func (c *csvWriter) writeHeader() error {
	if c.header {
		return nil
	}
	c.header = true
	return c.cw.Write(CSVHeader)
}

func (c *csvWriter) batch(fs []Finding) error {
	if err := c.writeHeader(); err != nil {
		return err
	}
	for _, f := range fs {
		if err := c.cw.Write([]string{cell(f.Path), f.Type, strconv.Itoa(f.Start), strconv.Itoa(f.End), strconv.Itoa(f.Line),
			strconv.FormatFloat(f.Confidence, 'f', -1, 64), f.Category, strconv.Itoa(f.Level), cell(f.Field), cell(f.Preview)}); err != nil {
			return err
		}
	}
	return nil
}

func (c *csvWriter) finish(*Result) error {
	if err := c.writeHeader(); err != nil {
		return err
	}
	c.cw.Flush()
	return c.cw.Error()
}

func (c *csvWriter) close() error { return nil }

// cell defuses a text cell that a spreadsheet would run as a formula.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
