package events

// The reference decoder: DecodeJSON as it was before it had its own scanner. It stays
// here, unchanged but for the names, so that FuzzDecodeJSONSameAsStdlib can hold the
// new decoder to encoding/json's behaviour.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// refDecodeJSON is DecodeJSON as it was with encoding/json (one Decoder per line), kept
// as the reference of the differential fuzz test: an array of event objects (when the
// first character that is not white space is '[') or NDJSON, unknown fields refused, any
// fault failing the whole batch with a *DecodeError.
func refDecodeJSON(r io.Reader) ([]Event, error) {
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
			return refDecodeArray(br, skipped)
		}
		return refDecodeNDJSON(br, skipped)
	}
}

// refJSONReason turns an encoding/json error into a reason that quotes no input.
func refJSONReason(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	var pe *time.ParseError
	switch {
	case errors.As(err, &se):
		return "not valid JSON"
	case errors.As(err, &te):
		if te.Field != "" {
			return fmt.Sprintf("field %s must be a JSON %s", te.Field, refJSONKind(te.Type.Kind().String()))
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

func refJSONKind(k string) string {
	switch k {
	case "int", "int64":
		return "integer"
	case "struct":
		return "string (RFC 3339 time)"
	}
	return k
}

func refDecodeArray(br *bufio.Reader, skipped int) ([]Event, error) {
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
		return nil, &DecodeError{Line: lineAt(0), Index: -1, Reason: refJSONReason(err)}
	}
	out := []Event{}
	for dec.More() {
		if len(out) == MaxBatch {
			return nil, &DecodeError{Index: len(out), Reason: fmt.Sprintf("more than %d events in one batch", MaxBatch)}
		}
		at := dec.InputOffset()
		var e Event
		if err := dec.Decode(&e); err != nil {
			return nil, &DecodeError{Line: lineAt(at), Index: len(out), Reason: refJSONReason(err)}
		}
		out = append(out, e)
	}
	if _, err := dec.Token(); err != nil { // ']'
		return nil, &DecodeError{Line: lineAt(dec.InputOffset()), Index: -1, Reason: refJSONReason(err)}
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &DecodeError{Line: lineAt(dec.InputOffset()), Index: -1, Reason: "data after the array"}
	}
	return out, nil
}

func refDecodeNDJSON(br *bufio.Reader, skipped int) ([]Event, error) {
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
		e, err := refDecodeLine(b)
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

// refDecodeLine decodes one NDJSON line: exactly one event object.
func refDecodeLine(b []byte) (Event, error) {
	if b[0] != '{' {
		return Event{}, errors.New("not a JSON event object")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var e Event
	if err := dec.Decode(&e); err != nil {
		return Event{}, errors.New(refJSONReason(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return Event{}, errors.New("more than one JSON value on the line")
	}
	return e, nil
}
