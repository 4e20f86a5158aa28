package events

import (
	"bufio"
	"bytes"
	"errors"
	"reflect"
	"testing"
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
