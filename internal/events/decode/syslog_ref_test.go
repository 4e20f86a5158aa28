package decode

// The syslog decoder as it was before it was rewritten for speed (commit 003e9e4), kept as
// the reference of the differential tests: the rewrite must decode every line to the
// same event, or fail with the same error.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	syslog "github.com/leodido/go-syslog/v4"
	"github.com/leodido/go-syslog/v4/rfc3164"
	"github.com/leodido/go-syslog/v4/rfc5424"

	"github.com/medguard/medguard/internal/events"
)

func (d Decoder) refParseSyslog(line []byte) (events.Event, error) {
	line = bytes.TrimRight(line, "\r\n\x00")
	if len(line) == 0 {
		return events.Event{}, invalid("empty syslog message")
	}
	if len(line) > MaxInput {
		return events.Event{}, invalid("syslog message too large")
	}
	if !utf8.Valid(line) {
		return events.Event{}, invalid("syslog message is not UTF-8")
	}
	var (
		msg syslog.Message
		err error
		sd  *map[string]map[string]string
	)
	if refIsRFC5424(line) {
		msg, err = rfc5424.NewParser().Parse(line)
		if err != nil {
			return events.Event{}, invalid("not a valid RFC 5424 syslog message")
		}
		if m, ok := msg.(*rfc5424.SyslogMessage); ok {
			sd = m.StructuredData
		}
	} else {
		now := d.now().In(d.loc())
		msg, err = rfc3164.NewParser(
			rfc3164.WithYear(rfc3164.Year{YYYY: now.Year()}),
			rfc3164.WithLocaleTimezone(d.loc()),
			rfc3164.WithRFC3339(),
			rfc3164.WithEmbeddedNewlines(), // a quoted value may hold a line end (octet-counted frames)
		).Parse(line)
		if err != nil {
			return events.Event{}, invalid("not a valid RFC 3164 or RFC 5424 syslog message")
		}
		if b, ok := msg.(*rfc3164.SyslogMessage); ok && b != nil && b.Timestamp != nil && b.Timestamp.After(now.Add(24*time.Hour)) {
			// A stamp in the future is from last year (sent in December, received in January).
			t := b.Timestamp.AddDate(-1, 0, 0)
			b.Timestamp = &t
		}
	}
	base := refBaseOf(msg)
	if base == nil {
		return events.Event{}, invalid("not a valid syslog message")
	}
	payload := ""
	if base.Message != nil {
		payload = strings.TrimSpace(strings.TrimPrefix(*base.Message, "\ufeff"))
	}
	ev := events.Event{}
	switch {
	case payload == "":
		if sd == nil {
			return events.Event{}, invalid("syslog message has no payload")
		}
	case payload[0] == '{':
		if err := d.refDecodeJSON([]byte(payload), &ev); err != nil {
			return events.Event{}, err
		}
	case payload[0] == '<':
		evs, err := d.DecodeDICOM([]byte(payload))
		if err != nil {
			return events.Event{}, fmt.Errorf("syslog payload: %w", err)
		}
		if len(evs) != 1 {
			return events.Event{}, invalid("syslog payload holds more than one DICOM audit message")
		}
		ev = evs[0]
	default:
		if err := d.refDecodeKeyValues(payload, &ev); err != nil {
			return events.Event{}, err
		}
	}
	if sd != nil {
		for _, params := range *sd {
			for k, v := range params {
				if !refIsEventField(k) {
					continue // other SD-IDs (timeQuality, origin …) describe the transport
				}
				if err := d.refSetField(&ev, k, v, true); err != nil {
					return events.Event{}, err
				}
			}
		}
	}
	if ev.Time.IsZero() && base.Timestamp != nil {
		ev.Time = *base.Timestamp
	}
	if ev.System == "" {
		switch {
		case base.Appname != nil && *base.Appname != "-":
			ev.System = *base.Appname
		case base.Hostname != nil && *base.Hostname != "-":
			ev.System = *base.Hostname
		}
	}
	if ev.ID == "" {
		ev.ID = digestID(line)
	}
	ev.Raw = string(line)
	if err := validate(&ev); err != nil {
		return events.Event{}, err
	}
	return ev, nil
}

// refIsRFC5424 reports whether line starts with "<PRI>VERSION " (VERSION 1 to 3 digits, not
// 0), the header RFC 3164 does not have.
func refIsRFC5424(line []byte) bool {
	i := bytes.IndexByte(line, '>')
	if len(line) == 0 || line[0] != '<' || i < 2 || i > 4 {
		return false
	}
	j := i + 1
	for j < len(line) && j-i <= 3 && line[j] >= '0' && line[j] <= '9' {
		j++
	}
	return j > i+1 && line[i+1] != '0' && j < len(line) && line[j] == ' '
}

func refBaseOf(m syslog.Message) *syslog.Base {
	switch v := m.(type) {
	case *rfc5424.SyslogMessage:
		if v == nil {
			return nil
		}
		return &v.Base
	case *rfc3164.SyslogMessage:
		if v == nil {
			return nil
		}
		return &v.Base
	}
	return nil
}

// refJSONPayload is events.Event as a payload carries it: the time is text, read by refSetField.
type refJSONPayload struct {
	ID          *string          `json:"id"`
	Time        *string          `json:"time"`
	System      *string          `json:"system"`
	Account     *string          `json:"account"`
	StaffID     *string          `json:"staff_id"`
	Department  *string          `json:"department"`
	Action      *string          `json:"action"`
	Outcome     *string          `json:"outcome"`
	PatientID   *string          `json:"patient_id"`
	RecordType  *string          `json:"record_type"`
	RecordCount *json.RawMessage `json:"record_count"`
	SourceIP    *string          `json:"source_ip"`
	Terminal    *string          `json:"terminal"`
}

func (d Decoder) refDecodeJSON(data []byte, ev *events.Event) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var j refJSONPayload
	if err := dec.Decode(&j); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) && refIsEventField(ute.Field) {
			return invalid("JSON payload: field " + ute.Field + " has the wrong type")
		}
		if strings.HasPrefix(err.Error(), "json: unknown field") {
			return invalid("JSON payload has a field that events do not have")
		}
		return invalid("JSON payload is not a valid JSON object")
	}
	if dec.More() {
		return invalid("JSON payload has data after the object")
	}
	set := func(name string, p *string) error {
		if p == nil {
			return nil
		}
		return d.refSetField(ev, name, *p, false)
	}
	for _, f := range []struct {
		name string
		p    *string
	}{{"id", j.ID}, {"time", j.Time}, {"system", j.System}, {"account", j.Account}, {"staff_id", j.StaffID},
		{"department", j.Department}, {"action", j.Action}, {"outcome", j.Outcome}, {"patient_id", j.PatientID},
		{"record_type", j.RecordType}, {"source_ip", j.SourceIP}, {"terminal", j.Terminal}} {
		if err := set(f.name, f.p); err != nil {
			return err
		}
	}
	if j.RecordCount != nil {
		var n int
		if err := json.Unmarshal(*j.RecordCount, &n); err != nil {
			return invalid("JSON payload: record_count is not an integer")
		}
		if n < 0 {
			return invalid("record_count is negative")
		}
		ev.RecordCount = n
	}
	return nil
}

// refDecodeKeyValues reads `key=value key="quoted value"` pairs.
func (d Decoder) refDecodeKeyValues(s string, ev *events.Event) error {
	seen := map[string]bool{}
	i := 0
	for {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		if i >= len(s) {
			break
		}
		k := i
		for i < len(s) && s[i] != '=' && s[i] != ' ' && s[i] != '\t' {
			i++
		}
		key := s[k:i]
		if i >= len(s) || s[i] != '=' || key == "" {
			return invalid("key=value payload: a word without '='")
		}
		if !refIsEventField(key) {
			return invalid("key=value payload: a key that is not an event field")
		}
		if seen[key] {
			return invalid("key=value payload: field " + key + " given twice")
		}
		seen[key] = true
		i++ // '='
		var val string
		if i < len(s) && s[i] == '"' {
			i++
			var b strings.Builder
			closed := false
			for i < len(s) {
				c := s[i]
				if c == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\') {
					b.WriteByte(s[i+1])
					i += 2
					continue
				}
				if c == '"' {
					closed = true
					i++
					break
				}
				b.WriteByte(c)
				i++
			}
			if !closed {
				return invalid("key=value payload: unterminated quoted value of " + key)
			}
			if i < len(s) && s[i] != ' ' && s[i] != '\t' {
				return invalid("key=value payload: text right after the quoted value of " + key)
			}
			val = b.String()
		} else {
			v := i
			for i < len(s) && s[i] != ' ' && s[i] != '\t' {
				i++
			}
			val = s[v:i]
		}
		if err := d.refSetField(ev, key, val, false); err != nil {
			return err
		}
	}
	if len(seen) == 0 {
		return invalid("key=value payload has no field")
	}
	return nil
}

var refEventFields = map[string]bool{"id": true, "time": true, "system": true, "account": true, "staff_id": true,
	"department": true, "action": true, "outcome": true, "patient_id": true, "record_type": true,
	"record_count": true, "source_ip": true, "terminal": true}

func refIsEventField(k string) bool { return refEventFields[k] }

// refSetField sets one named field from text. With onlyEmpty, a field already set (by the
// payload) is left as it is.
func (d Decoder) refSetField(ev *events.Event, key, val string, onlyEmpty bool) error {
	str := func(p *string) error {
		if onlyEmpty && *p != "" {
			return nil
		}
		*p = val
		return nil
	}
	switch key {
	case "id":
		return str(&ev.ID)
	case "system":
		return str(&ev.System)
	case "account":
		return str(&ev.Account)
	case "staff_id":
		return str(&ev.StaffID)
	case "department":
		return str(&ev.Department)
	case "action":
		return str(&ev.Action)
	case "outcome":
		return str(&ev.Outcome)
	case "patient_id":
		return str(&ev.PatientID)
	case "record_type":
		return str(&ev.RecordType)
	case "source_ip":
		return str(&ev.SourceIP)
	case "terminal":
		return str(&ev.Terminal)
	case "time":
		if onlyEmpty && !ev.Time.IsZero() {
			return nil
		}
		t, err := parseTime(val, d.loc())
		if err != nil {
			return invalid("time is neither RFC 3339 nor YYYY-MM-DD HH:MM:SS")
		}
		ev.Time = t
	case "record_count":
		if onlyEmpty && ev.RecordCount != 0 {
			return nil
		}
		n, err := strconv.Atoi(val)
		if err != nil || n < 0 {
			return invalid("record_count is not a non-negative integer")
		}
		ev.RecordCount = n
	default:
		return invalid("unknown field")
	}
	return nil
}
