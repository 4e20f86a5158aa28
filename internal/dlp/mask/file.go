package mask

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/medguard/medguard/internal/textenc"
)

// Formats of File.
const (
	FormatText = "text"
	FormatCSV  = "csv"
	FormatTSV  = "tsv"
	FormatJSON = "json"
)

// FormatOf chooses the format of a file from its name: csv, tsv, json
// (.json, .jsonl, .ndjson) or text.
func FormatOf(name string) string {
	base := name[strings.LastIndexAny(name, `/\`)+1:]
	ext := ""
	if i := strings.LastIndexByte(base, '.'); i >= 0 {
		ext = strings.ToLower(base[i+1:])
	}
	switch ext {
	case "csv":
		return FormatCSV
	case "tsv", "tab":
		return FormatTSV
	case "json", "jsonl", "ndjson":
		return FormatJSON
	}
	return FormatText
}

// File masks data, in format (FormatText, FormatCSV, FormatTSV or
// FormatJSON), and writes the result to w in UTF-8. Text and tables in
// GBK/GB18030 are decoded first. For tables, opt sets the separator and
// the risk summary, which is returned when asked for.
func (m *Masker) File(format string, data []byte, w io.Writer, opt TableOptions, st *Stats) (*Risk, error) {
	switch format {
	case FormatJSON:
		return nil, m.JSON(bytes.NewReader(data), w, st)
	case FormatCSV, FormatTSV:
		if format == FormatTSV && opt.Sep == 0 {
			opt.Sep = '\t'
		}
		return m.Table(bytes.NewReader(toUTF8(data)), w, opt, st)
	case FormatText, "":
		_, err := w.Write(m.Text(toUTF8(data), st))
		return nil, err
	}
	return nil, fmt.Errorf("mask: unknown format %q", format)
}

// toUTF8 returns data as UTF-8 (see package textenc): as is when valid (a BOM kept),
// decoded when it is UTF-16 or clean GB18030, else with invalid bytes replaced by '?'
// (by U+FFFD in what looks binary).
func toUTF8(data []byte) []byte {
	t, err := textenc.DecodeLenient(data)
	switch {
	case err != nil:
		return bytes.ToValidUTF8(data, []byte("\uFFFD"))
	case t.Encoding == textenc.UTF8:
		return data
	}
	return t.Bytes
}
