package events

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
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

// jsonReason turns an encoding/json error into a reason that quotes no input.
func jsonReason(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	var pe *time.ParseError
	switch {
	case errors.As(err, &se):
		return "not valid JSON"
	case errors.As(err, &te):
		if te.Field != "" {
			return fmt.Sprintf("field %s must be a JSON %s", te.Field, jsonKind(te.Type.Kind().String()))
		}
		return "not a JSON event object"
	case errors.As(err, &pe):
		return "field time must be an RFC 3339 time"
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "the JSON ends too early"
	case bytes.HasPrefix([]byte(err.Error()), []byte("json: unknown field")):
		return "unknown field (the fields are those of the normalized event)"
	}
	return "not a valid JSON event"
}

func jsonKind(k string) string {
	switch k {
	case "int", "int64":
		return "integer"
	case "struct":
		return "string (RFC 3339 time)"
	}
	return k
}

func decodeArray(br *bufio.Reader, skipped int) ([]Event, error) {
	data, err := io.ReadAll(br)
	if err != nil {
		return nil, &DecodeError{Index: -1, Reason: "the input could not be read", Err: err}
	}
	// lineAt returns the line of the value that starts at or after off: past white
	// space and the comma before it.
	lineAt := func(off int64) int {
		i := int(min(off, int64(len(data))))
		for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n' || data[i] == ',') {
			i++
		}
		return 1 + skipped + bytes.Count(data[:i], []byte{'\n'})
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if _, err := dec.Token(); err != nil { // '['
		return nil, &DecodeError{Line: lineAt(0), Index: -1, Reason: jsonReason(err)}
	}
	out := []Event{}
	for dec.More() {
		if len(out) == MaxBatch {
			return nil, &DecodeError{Index: len(out), Reason: fmt.Sprintf("more than %d events in one batch", MaxBatch)}
		}
		at := dec.InputOffset()
		var e Event
		if err := dec.Decode(&e); err != nil {
			return nil, &DecodeError{Line: lineAt(at), Index: len(out), Reason: jsonReason(err)}
		}
		out = append(out, e)
	}
	if _, err := dec.Token(); err != nil { // ']'
		return nil, &DecodeError{Line: lineAt(dec.InputOffset()), Index: -1, Reason: jsonReason(err)}
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &DecodeError{Line: lineAt(dec.InputOffset()), Index: -1, Reason: "data after the array"}
	}
	return out, nil
}

func decodeNDJSON(br *bufio.Reader, skipped int) ([]Event, error) {
	sc := bufio.NewScanner(br)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
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
		e, err := decodeLine(b)
		if err != nil {
			return nil, &DecodeError{Line: line, Index: len(out), Reason: err.Error()}
		}
		out = append(out, e)
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

// decodeLine decodes one NDJSON line: exactly one event object.
func decodeLine(b []byte) (Event, error) {
	if b[0] != '{' {
		return Event{}, errors.New("not a JSON event object")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var e Event
	if err := dec.Decode(&e); err != nil {
		return Event{}, errors.New(jsonReason(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return Event{}, errors.New("more than one JSON value on the line")
	}
	return e, nil
}
