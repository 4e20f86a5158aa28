package events

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// FuzzDecodeJSONSameAsStdlib holds DecodeJSON to the decoder it replaced (refDecodeJSON,
// encoding/json with one Decoder per line): for every input both return the same events,
// or both a *DecodeError with the same Line, Index and Reason (and both, or neither, for a
// line that is too long).
func FuzzDecodeJSONSameAsStdlib(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := DecodeJSON(bytes.NewReader(data))
		want, wantErr := refDecodeJSON(bytes.NewReader(data))
		if (err == nil) != (wantErr == nil) {
			t.Fatalf("DecodeJSON: %v\nencoding/json: %v", err, wantErr)
		}
		if err == nil {
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("events differ\nDecodeJSON:    %#v\nencoding/json: %#v", got, want)
			}
			return
		}
		var de, wde *DecodeError
		if !errors.As(err, &de) || !errors.As(wantErr, &wde) {
			t.Fatalf("not a *DecodeError: %T %v, %T %v", err, err, wantErr, wantErr)
		}
		if got != nil {
			t.Fatal("events and an error")
		}
		if de.Line != wde.Line || de.Index != wde.Index || de.Reason != wde.Reason {
			t.Fatalf("errors differ\nDecodeJSON:    %#v\nencoding/json: %#v", de, wde)
		}
		if errors.Is(err, bufio.ErrTooLong) != errors.Is(wantErr, bufio.ErrTooLong) {
			t.Fatalf("errors differ\nDecodeJSON:    %v\nencoding/json: %v", err, wantErr)
		}
	})
}

// BenchEvents is benchEvents for the tests of package events_test.
var BenchEvents = benchEvents

// benchEvents is a batch of n typical events (about 400 bytes each) as NDJSON and as a
// JSON array.
func benchEvents(n int) (ndjson, array []byte) {
	var nd, arr bytes.Buffer
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	arr.WriteString("[\n")
	for i := range n {
		m := map[string]any{"id": fmt.Sprintf("HIS-%09d", i), "time": t0.Add(time.Duration(i) * time.Second).Format(time.RFC3339), "system": "HIS",
			"account": fmt.Sprintf("u%04d", i%2000), "staff_id": fmt.Sprintf("S%04d", i%2000), "department": "cardiology", "action": "view",
			"outcome": "success", "patient_id": fmt.Sprintf("P%06d", i*7%100000), "record_type": "emr", "record_count": 1,
			"source_ip": "10.1.2.3", "terminal": "T00012", "raw": "<134>1 2026-11-01T00:00:00Z his01 audit - - - user u0001 viewed record of patient P000123"}
		j, err := json.Marshal(m)
		if err != nil {
			panic(err)
		}
		nd.Write(j)
		nd.WriteByte('\n')
		if i > 0 {
			arr.WriteString(",\n")
		}
		arr.Write(j)
	}
	arr.WriteString("\n]\n")
	return nd.Bytes(), arr.Bytes()
}

// BenchmarkDecodeJSONStdlib is BenchmarkDecodeJSON of the encoding/json reference, to
// compare the two in one run.
func BenchmarkDecodeJSONStdlib(b *testing.B) {
	const n = 10_000
	nd, arr := benchEvents(n)
	for _, bc := range []struct {
		name string
		data []byte
	}{{"ndjson", nd}, {"array", arr}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.data)))
			b.ReportAllocs()
			for b.Loop() {
				evs, err := refDecodeJSON(bytes.NewReader(bc.data))
				if err != nil || len(evs) != n {
					b.Fatal(err, len(evs))
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// TestDecodeJSONSameAsStdlibLimits: at the limits the fuzzer does not reach (the longest
// line, the most events) DecodeJSON and the encoding/json reference still agree.
func TestDecodeJSONSameAsStdlibLimits(t *testing.T) {
	long := func(n int) string { // one event of n bytes
		head := `{"id":"1","raw":"`
		return head + strings.Repeat("x", n-len(head)-2) + `"}`
	}
	many := func(n int, sep string) string {
		return strings.TrimSuffix(strings.Repeat(`{"id":"1"}`+sep, n), sep)
	}
	tests := []struct{ name, in string }{
		{"line of maxLine-1 bytes", long(maxLine-1) + "\n"},
		{"line of maxLine bytes", long(maxLine) + "\n"},
		{"line of maxLine+1 bytes", "\n" + long(maxLine+1) + "\n"},
		{"last line of maxLine-1 bytes", long(maxLine - 1)},
		{"last line of maxLine bytes", long(maxLine)},
		{"line of maxLine-1 bytes and CR", long(maxLine-1) + "\r\n"},
		{"MaxBatch lines", many(MaxBatch, "\n")},
		{"MaxBatch+1 lines", many(MaxBatch+1, "\n")},
		{"MaxBatch+1 lines, the last bad", many(MaxBatch, "\n") + "\nx"},
		{"array of MaxBatch", "[" + many(MaxBatch, ",") + "]"},
		{"array of MaxBatch+1", "[" + many(MaxBatch+1, ",") + "]"},
		{"array of MaxBatch and a comma", "[" + many(MaxBatch, ",") + ",]"},
		{"nesting of 9,999", `{"x":` + strings.Repeat("[", 9999) + strings.Repeat("]", 9999) + "}"},
		{"nesting of 10,000", `{"x":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + "}"},
		{"array nesting of 10,000", `[` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + "]"},
		{"array nesting of 10,001", `[` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + "]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeJSON(strings.NewReader(tt.in))
			want, wantErr := refDecodeJSON(strings.NewReader(tt.in))
			if fmt.Sprint(err) != fmt.Sprint(wantErr) || len(got) != len(want) ||
				errors.Is(err, bufio.ErrTooLong) != errors.Is(wantErr, bufio.ErrTooLong) {
				t.Fatalf("DecodeJSON: %d events, %v\nencoding/json: %d events, %v", len(got), err, len(want), wantErr)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatal("events differ")
			}
		})
	}
}
