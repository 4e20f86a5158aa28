package events

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
)

// MaxBatch is the most events one DecodeJSON call (one HTTP request, one Append) takes.
const MaxBatch = 100_000

// maxLine is the longest NDJSON line: an event with the largest raw original, escaped.
const maxLine = 2*maxRaw + 64<<10

// DecodeError says where a batch of JSON events is wrong: the line of the input and,
// when it is known, the index of the event (from 0). Its message names the place and
// the kind of fault, never a value of the input (it may be patient data).
type DecodeError struct {
	Line   int    // from 1; 0 when unknown
	Index  int    // from 0; -1 when the fault is not in one event
	Reason string // what is wrong, in English, without input values
	Err    error  // the reader's error, when reading failed (for errors.As), never shown
}

// Unwrap returns the reader's error, if reading failed.
func (e *DecodeError) Unwrap() error { return e.Err }

func (e *DecodeError) Error() string {
	switch {
	case e.Index >= 0 && e.Line > 0:
		return fmt.Sprintf("event %d (line %d): %s", e.Index, e.Line, e.Reason)
	case e.Index >= 0:
		return fmt.Sprintf("event %d: %s", e.Index, e.Reason)
	case e.Line > 0:
		return fmt.Sprintf("line %d: %s", e.Line, e.Reason)
	}
	return e.Reason
}

// ErrTooMany is returned (inside a DecodeError) for a batch of more than MaxBatch events.
var ErrTooMany = errors.New("events: too many events in one batch")

// DecodeJSON reads a batch of events as JSON: an array of event objects (when the first
// character that is not white space is '[') or NDJSON, one event object a line (blank
// lines skipped). Unknown fields are refused, so that a misspelt field is not silently
// dropped. Any fault fails the whole batch with a *DecodeError; nothing is validated
// beyond the JSON types (Append does that).
//
// It decodes as encoding/json's Decoder with DisallowUnknownFields did, to the same
// events and the same faults (json_scan.go says what that means; the differential fuzz
// test FuzzDecodeJSONSameAsStdlib holds it to that). The string fields of one event share
// one allocation: keeping any of them keeps the event's raw original in memory.
func DecodeJSON(r io.Reader) ([]Event, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	skipped := 0 // lines of leading white space
	for {
		b, err := br.Peek(1)
		if err == io.EOF {
			return []Event{}, nil
		}
		if err != nil {
			return nil, &DecodeError{Index: -1, Reason: "the input could not be read", Err: err}
		}
		switch b[0] {
		case '\n':
			skipped++
			br.ReadByte()
			continue
		case ' ', '\t', '\r':
			br.ReadByte()
			continue
		case '[':
			return decodeArray(br, skipped)
		}
		return decodeNDJSON(br, skipped)
	}
}

func decodeArray(br *bufio.Reader, skipped int) ([]Event, error) {
	data, err := io.ReadAll(br)
	if err != nil {
		return nil, &DecodeError{Index: -1, Reason: "the input could not be read", Err: err}
	}
	// lineAt returns the line of the value that starts at or after off: past white
	// space and the comma before it.
	lineAt := func(off int) int {
		i := min(off, len(data))
		for i < len(data) && (isSpace(data[i]) || data[i] == ',') {
			i++
		}
		return 1 + skipped + bytes.Count(data[:i], []byte{'\n'})
	}
	var d eventDecoder
	out := []Event{}
	i := 1 // past '['
	for {
		at := skipSpace(data, i)
		if at == len(data) {
			return nil, &DecodeError{Line: lineAt(i), Index: -1, Reason: reasonEOF}
		}
		if data[at] == ']' {
			i = at + 1
			break
		}
		if data[at] == '}' {
			return nil, &DecodeError{Line: lineAt(at), Index: -1, Reason: reasonSyntax}
		}
		if len(out) == MaxBatch {
			return nil, &DecodeError{Index: len(out), Reason: fmt.Sprintf("more than %d events in one batch", MaxBatch)}
		}
		p := at
		if len(out) > 0 {
			if data[p] != ',' {
				return nil, &DecodeError{Line: lineAt(at), Index: len(out), Reason: reasonSyntax}
			}
			p++
		}
		var e Event
		end, reason := d.event(data, p, &e)
		if reason != "" {
			return nil, &DecodeError{Line: lineAt(at), Index: len(out), Reason: reason}
		}
		out = appendEvent(out, &e)
		i = end
	}
	// After the array, only white space. The line of a fault is where encoding/json's
	// Decoder stood after reading the next token: past '[' or '{', at a misplaced
	// delimiter, past a scalar value, or at the start of one it could not read.
	p := skipSpace(data, i)
	if p == len(data) {
		return out, nil
	}
	off := p
	switch data[p] {
	case '[', '{':
		off = p + 1
	case ']', '}', ',', ':':
	default:
		if end, code := skipValue(data, p, 0); code == scanOK {
			off = end
		}
	}
	return nil, &DecodeError{Line: lineAt(off), Index: -1, Reason: reasonAfterArray}
}

func decodeNDJSON(br *bufio.Reader, skipped int) ([]Event, error) {
	sc := bufio.NewScanner(br)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	var d eventDecoder
	out := []Event{}
	line := skipped
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		if len(out) == MaxBatch {
			return nil, &DecodeError{Line: line, Index: len(out), Reason: fmt.Sprintf("more than %d events in one batch", MaxBatch)}
		}
		if b[0] != '{' {
			return nil, &DecodeError{Line: line, Index: len(out), Reason: reasonNotObject}
		}
		var e Event
		end, reason := d.object(b, 0, &e)
		if reason == "" && skipSpace(b, end) != len(b) {
			reason = reasonTwoValues
		}
		if reason != "" {
			return nil, &DecodeError{Line: line, Index: len(out), Reason: reason}
		}
		out = appendEvent(out, &e)
	}
	if err := sc.Err(); err != nil {
		reason := "the input could not be read"
		if errors.Is(err, bufio.ErrTooLong) {
			reason = fmt.Sprintf("line longer than %d bytes", maxLine)
		}
		return nil, &DecodeError{Line: line + 1, Index: len(out), Reason: reason, Err: err}
	}
	return out, nil
}

// appendEvent appends *e to out, doubling out when it is full: the ~1.25 growth of
// append for large slices copied (and allocated) a batch of events about five times over.
func appendEvent(out []Event, e *Event) []Event {
	if len(out) == cap(out) {
		out = slices.Grow(out, max(len(out), 64))
	}
	return append(out, *e)
}
