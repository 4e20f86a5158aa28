package scan_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/medguard/medguard/internal/dlp"
	"github.com/medguard/medguard/internal/dlp/input"
	"github.com/medguard/medguard/internal/dlp/scan"
	"github.com/medguard/medguard/internal/textenc"
)

// FuzzChunkerColumns scans any CSV-like text in small windows with one to four
// scanning goroutines: the findings are those of a scan of the whole text, and
// each one's column is the one counted from the start of its line (quotes
// honoured), also when the line began in an earlier window.
func FuzzChunkerColumns(f *testing.F) {
	f.Add([]byte("序号,手机,备注,身份证\n1,13812345678,\"复诊, 第1次\",11010519491231002X\n"), uint8(0), uint8(1))
	f.Add([]byte("a,b\n\"x,\"\"y\",13912345678,zhang.san@example.com\n,,,,15912345678\n"), uint8(3), uint8(2))
	f.Add(bytes.Repeat([]byte("患者,13812345678,\"北京市海淀区, 中关村大街27号\",11010519491231002X,备注备注备注备注\n"), 40), uint8(1), uint8(3))
	s, err := dlp.NewScanner(dlp.Config{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text []byte, size, par uint8) {
		if len(text) > 1<<16 {
			return
		}
		chunk := 64 + int(size)*4
		c := &scan.Chunker{Scanner: s, Chunk: chunk, Overlap: 32, Path: "t.csv", Kind: input.KindCSV, Sep: ',',
			Header: []string{"h1", "h2", "h3", "h4", "h5"}, Parallel: 1 + int(par)%4}
		var got []scan.Finding
		c.Emit = func(_ []byte, _ int64, batch []scan.Finding) error {
			got = append(got, batch...)
			return nil
		}
		if _, _, _, err := c.Run(context.Background(), bytes.NewReader(text)); err != nil {
			t.Fatal(err)
		}
		clean := textenc.Sanitize(nil, text)
		// Short findings are found exactly as in one scan of the whole text.
		var want, short []span
		for _, f := range s.Scan(clean) {
			if f.End-f.Start < 16 {
				want = append(want, span{f.Type, f.Start, f.End, f.Line})
			}
		}
		for _, f := range got {
			if f.End-f.Start < 16 {
				short = append(short, span{f.Type, f.Start, f.End, f.Line})
			}
			if f.Line <= 1 {
				if f.Field != "" {
					t.Fatalf("finding on the header line has field %q", f.Field)
				}
				continue
			}
			if want := column(clean, f.Start, c.Header); f.Field != want {
				t.Fatalf("%s at %d (line %d): field %q, want %q", f.Type, f.Start, f.Line, f.Field, want)
			}
		}
		if len(want) != len(short) {
			// A long finding in one window may hide a short one the whole
			// scan reports; only compare when both agree on the long ones.
			return
		}
		if diff := cmp.Diff(want, short); diff != "" {
			t.Fatalf("chunked vs whole (-whole +chunked):\n%s", diff)
		}
	})
}

// column names the column of offset off of text counted from the start of its
// line, as a CSV reader with lazy quotes would.
func column(text []byte, off int, header []string) string {
	start := bytes.LastIndexByte(text[:off], '\n') + 1
	col, quoted, atStart := 0, false, true
	for _, b := range text[start:off] {
		switch {
		case b == '"' && (quoted || atStart):
			quoted = !quoted
		case b == ',' && !quoted:
			col++
			atStart = true
			continue
		}
		atStart = false
	}
	if col < len(header) && header[col] != "" {
		return header[col]
	}
	return fmt.Sprintf("column %d", col+1)
}
