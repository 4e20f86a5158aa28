package events

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/medguard/medguard/internal/textenc"
)

// Fields lists the field names of an event as a CSV header (and NDJSON) names them; raw
// is not among them: the raw original of a CSV event is its row.
func Fields() []string {
	return []string{"id", "time", "system", "account", "staff_id", "department", "action", "outcome", "patient_id",
		"record_type", "record_count", "source_ip", "terminal"}
}

// Mapping adapts a vendor's CSV export: Columns renames its header names to event field
// names, Actions renames its action values to actions, TimeFormat is the Go layout of its
// times (default RFC 3339, or "2006-01-02 15:04:05" in the local time zone).
type Mapping struct {
	Columns    map[string]string `yaml:"columns" json:"columns"`
	Actions    map[string]string `yaml:"actions" json:"actions"`
	TimeFormat string            `yaml:"time_format" json:"time_format"`
}

// ParseMapping reads a mapping file, YAML or JSON, and checks that it names only event
// fields and actions.
func ParseMapping(data []byte) (Mapping, error) {
	var m Mapping
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil && !errors.Is(err, io.EOF) {
		return Mapping{}, fmt.Errorf("events: mapping: not a mapping of columns, actions and time_format (%s)", yamlReason(err))
	}
	for _, f := range m.Columns {
		if !slices.Contains(Fields(), f) {
			return Mapping{}, fmt.Errorf("events: mapping: a column is mapped to %q, which is not an event field (%s)", f, strings.Join(Fields(), ", "))
		}
	}
	for _, a := range m.Actions {
		if !slices.Contains(Actions(), a) {
			return Mapping{}, fmt.Errorf("events: mapping: an action is mapped to %q, which is not an action (%s)", a, strings.Join(Actions(), ", "))
		}
	}
	return m, nil
}

// yamlReason keeps the line of a YAML error without the text it quotes.
func yamlReason(err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		if i := strings.Index(te.Errors[0], ":"); i > 0 {
			return te.Errors[0][:i]
		}
	}
	if s := err.Error(); strings.HasPrefix(s, "yaml: line ") {
		if i := strings.Index(s[len("yaml: "):], ":"); i > 0 {
			return s[len("yaml: ") : len("yaml: ")+i]
		}
	}
	return "invalid YAML or JSON"
}

// DecodeCSV reads events from CSV text (UTF-8, UTF-16 or GBK/GB18030) with a header row
// of event field names, or of a vendor's names that m maps to them. Columns that are
// neither are ignored. Each event's raw original is its row. A fault — text that is not
// CSV, a header without id, time, system, account or action, a time or record count that
// does not parse — fails the whole input with a *DecodeError naming its line; the values
// themselves are checked by Append.
func DecodeCSV(data []byte, m Mapping) ([]Event, error) {
	text, err := textenc.Decode(data)
	if err != nil {
		return nil, &DecodeError{Index: -1, Reason: "not text in UTF-8, UTF-16 or GBK/GB18030", Err: err}
	}
	r := csv.NewReader(bytes.NewReader(text.Bytes))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return []Event{}, nil
	}
	if err != nil {
		return nil, &DecodeError{Line: 1, Index: -1, Reason: csvReason(err)}
	}
	col := map[string]int{} // event field → column
	for i, h := range header {
		h = strings.TrimSpace(h)
		if f, ok := m.Columns[h]; ok {
			h = f
		}
		if slices.Contains(Fields(), h) {
			if _, dup := col[h]; dup {
				return nil, &DecodeError{Line: 1, Index: -1, Reason: fmt.Sprintf("two columns give the field %s", h)}
			}
			col[h] = i
		}
	}
	for _, f := range []string{"id", "time", "system", "account", "action"} {
		if _, ok := col[f]; !ok {
			return nil, &DecodeError{Line: 1, Index: -1, Reason: fmt.Sprintf("the header has no column for the field %s", f)}
		}
	}
	layouts := []string{time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02T15:04:05"}
	if m.TimeFormat != "" {
		layouts = []string{m.TimeFormat}
	}
	out := []Event{}
	var raw bytes.Buffer
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// FieldPos panics after an error: the line is the error's.
			line := 0
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.Line
			}
			return nil, &DecodeError{Line: line, Index: len(out), Reason: csvReason(err)}
		}
		line, _ := r.FieldPos(0)
		if len(out) == MaxImport {
			return nil, &DecodeError{Line: line, Index: len(out), Reason: fmt.Sprintf("more than %d events in one file", MaxImport)}
		}
		get := func(f string) string {
			if i, ok := col[f]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		e := Event{ID: get("id"), System: get("system"), Account: get("account"), StaffID: get("staff_id"),
			Department: get("department"), Action: get("action"), Outcome: get("outcome"), PatientID: get("patient_id"),
			RecordType: get("record_type"), SourceIP: get("source_ip"), Terminal: get("terminal")}
		if a, ok := m.Actions[e.Action]; ok {
			e.Action = a
		}
		if t := get("time"); t != "" {
			for _, l := range layouts {
				if p, err := time.ParseInLocation(l, t, time.Local); err == nil {
					e.Time = p
					break
				}
			}
			if e.Time.IsZero() {
				return nil, &DecodeError{Line: line, Index: len(out), Reason: "the time does not parse (set time_format in a mapping file)"}
			}
		}
		if c := get("record_count"); c != "" {
			n, err := strconv.Atoi(c)
			if err != nil {
				return nil, &DecodeError{Line: line, Index: len(out), Reason: "record_count is not a whole number"}
			}
			e.RecordCount = n
		}
		raw.Reset()
		w := csv.NewWriter(&raw)
		_ = w.Write(rec)
		w.Flush()
		e.Raw = strings.TrimSuffix(raw.String(), "\n")
		out = append(out, e)
	}
	return out, nil
}

// MaxImport is the most events one imported file may hold.
const MaxImport = 10_000_000

// csvReason says what encoding/csv found wrong, without quoting the input.
func csvReason(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		switch {
		case errors.Is(pe.Err, csv.ErrQuote), errors.Is(pe.Err, csv.ErrBareQuote):
			return "a quote in the wrong place"
		}
	}
	return "not valid CSV"
}
