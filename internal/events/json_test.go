package events_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/events"
)

// TestDecodeJSON: an array and NDJSON give the same events; a fault names its line and
// event index, never the value at fault.
func TestDecodeJSON(t *testing.T) {
	const one = `{"id":"1","time":"2026-03-31T09:00:00+08:00","system":"EMR","account":"doc","action":"view","patient_id":"P-SECRET-1"}`
	const two = `{"id":"2","time":"2026-03-31T09:01:00Z","system":"EMR","account":"doc","action":"login","record_count":3}`
	tests := []struct {
		name    string
		in      string
		n       int
		wantErr string // "" = no error
	}{
		{"array", "[" + one + ",\n" + two + "]", 2, ""},
		{"array after blank lines", "\n\n  [" + one + "]\n", 1, ""},
		{"ndjson", one + "\n\n" + two + "\n", 2, ""},
		{"ndjson crlf", one + "\r\n" + two, 2, ""},
		{"empty", "  \n", 0, ""},
		{"empty array", "[]", 0, ""},
		{"ndjson bad line", one + "\n" + `{"id":"P-SECRET-2",` + "\n", 0, "event 1 (line 2): the JSON ends too early"},
		{"ndjson wrong type", one + "\n\n" + `{"id":"x","record_count":"P-SECRET-3"}`, 0, "event 1 (line 3): field record_count must be a JSON integer"},
		{"ndjson unknown field", `{"P-SECRET-4":1}`, 0, "event 0 (line 1): unknown field"},
		{"ndjson bad time", `{"time":"P-SECRET-5"}`, 0, "event 0 (line 1): field time must be an RFC 3339 time"},
		{"ndjson two values", one + " " + two, 0, "event 0 (line 1): more than one JSON value on the line"},
		{"ndjson not an object", `"P-SECRET-6"`, 0, "event 0 (line 1): not a JSON event object"},
		{"array bad element", "[\n" + one + ",\n" + `{"id":P-SECRET-7}` + "]", 0, "event 1 (line 3): not valid JSON"},
		{"array unterminated", "[" + one, 0, "the JSON ends too early"},
		{"array trailing data", "[" + one + "] P-SECRET-8", 0, "data after the array"},
		{"array of strings", `["P-SECRET-9"]`, 0, "event 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := events.DecodeJSON(strings.NewReader(tt.in))
			if tt.wantErr == "" {
				if err != nil || len(got) != tt.n {
					t.Fatalf("got %d events, %v; want %d", len(got), err, tt.n)
				}
				return
			}
			var de *events.DecodeError
			if !errors.As(err, &de) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "SECRET") {
				t.Errorf("the error quotes the input: %v", err)
			}
		})
	}
	evs, _ := events.DecodeJSON(strings.NewReader(one))
	if evs[0].Time.UTC().Hour() != 1 || evs[0].PatientID != "P-SECRET-1" {
		t.Errorf("decoded %+v", evs[0])
	}
}

// FuzzDecodeNDJSON: any input gives events or a *DecodeError, never a panic, and an
// error never quotes the input.
func FuzzDecodeNDJSON(f *testing.F) {
	f.Add([]byte(`{"id":"1","time":"2026-03-31T09:00:00Z","system":"EMR","account":"doc","action":"view"}` + "\n"))
	f.Add([]byte(`[{"id":"1"},{"id":"2"}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		evs, err := events.DecodeJSON(strings.NewReader(string(data)))
		if err != nil {
			var de *events.DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			if evs != nil {
				t.Fatal("events and an error")
			}
			return
		}
		for i := range evs {
			_ = events.Validate(&evs[i])
		}
	})
}

// BenchmarkDecodeJSON decodes a batch of 10,000 typical events, as NDJSON and as an array;
// ns/event is the figure to watch.
func BenchmarkDecodeJSON(b *testing.B) {
	const n = 10_000
	nd, arr := events.BenchEvents(n)
	for _, bc := range []struct {
		name string
		data []byte
	}{{"ndjson", nd}, {"array", arr}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.data)))
			b.ReportAllocs()
			for b.Loop() {
				evs, err := events.DecodeJSON(bytes.NewReader(bc.data))
				if err != nil || len(evs) != n {
					b.Fatal(err, len(evs))
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
