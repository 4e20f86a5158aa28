package decode

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

// ParseSyslog decodes one syslog message (RFC 5424, or RFC 3164 when the line does not
// carry the RFC 5424 version) into an event, with the zero Decoder's assumptions: an RFC
// 3164 stamp is in the local zone and in the receiver's current year. See
// Decoder.ParseSyslog.
func ParseSyslog(line []byte) (events.Event, error) { return Decoder{}.ParseSyslog(line) }

// ParseSyslog decodes one syslog message. The message (MSG) carries the event as
//   - a JSON object with the field names of events.Event (`{"account":"u1",…}`),
//   - key=value pairs with the same names (`account=u1 action=view patient_id=P1`; a value
//     with spaces is double-quoted, `\"` and `\\` escape inside quotes), or
//   - a DICOM PS3.15 audit message (`<AuditMessage …>`), decoded as by DecodeDICOM.
//
// RFC 5424 structured-data parameters named like event fields fill those fields the
// payload left empty (parameters of other SD-IDs, e.g. timeQuality, are ignored). What
// the payload leaves empty comes from the header: the time from the syslog timestamp, the
// system from APP-NAME (or HOSTNAME), the id from a digest of the line. Raw is the line
// as received, without the trailing newline. A field the event does not have is refused,
// never dropped in silence.
func (d Decoder) ParseSyslog(line []byte) (events.Event, error) {
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
	// The machines, not the parsers: a parser only adds a mutex (and the best-effort mode,
	// which is off) around its machine, and the machine is used once.
	if isRFC5424(line) {
		msg, err = rfc5424.NewMachine().Parse(line)
		if err != nil {
			return events.Event{}, invalid("not a valid RFC 5424 syslog message")
		}
		if m, ok := msg.(*rfc5424.SyslogMessage); ok {
			sd = m.StructuredData
		}
	} else {
		now := d.now().In(d.loc())
		msg, err = rfc3164.NewMachine(
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
	base := baseOf(msg)
	if base == nil {
		return events.Event{}, invalid("not a valid syslog message")
	}
	// The line is copied once, into Raw; the payload and the field values taken from it
	// are parts of Raw, not copies.
	raw := string(line)
	payload := ""
	if base.Message != nil {
		payload = *base.Message
		if strings.HasSuffix(raw, payload) {
			payload = raw[len(raw)-len(payload):]
		}
		payload = strings.TrimSpace(strings.TrimPrefix(payload, "\ufeff"))
	}
	ev := events.Event{}
	switch {
	case payload == "":
		if sd == nil {
			return events.Event{}, invalid("syslog message has no payload")
		}
	case payload[0] == '{':
		if err := d.decodeJSONEvent(payload, &ev); err != nil {
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
		if err := d.decodeKeyValues(payload, &ev); err != nil {
			return events.Event{}, err
		}
	}
	if sd != nil {
		for _, params := range *sd {
			for k, v := range params {
				f := fieldIndex(k)
				if f < 0 {
					continue // other SD-IDs (timeQuality, origin …) describe the transport
				}
				if err := d.setField(&ev, f, v, true); err != nil {
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
	ev.Raw = raw
	if err := validate(&ev); err != nil {
		return events.Event{}, err
	}
	return ev, nil
}

// isRFC5424 reports whether line starts with "<PRI>VERSION " (VERSION 1 to 3 digits, not
// 0), the header RFC 3164 does not have.
func isRFC5424(line []byte) bool {
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

func baseOf(m syslog.Message) *syslog.Base {
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

// The event fields a payload may name, by index (fieldIndex), in the order a JSON
// payload's fields are set (record_count last).
const (
	fID = iota
	fTime
	fSystem
	fAccount
	fStaffID
	fDepartment
	fAction
	fOutcome
	fPatientID
	fRecordType
	fSourceIP
	fTerminal
	fRecordCount
	numFields
)

// fieldIndex is the index of the event field named k, or -1.
func fieldIndex(k string) int {
	switch k {
	case "id":
		return fID
	case "time":
		return fTime
	case "system":
		return fSystem
	case "account":
		return fAccount
	case "staff_id":
		return fStaffID
	case "department":
		return fDepartment
	case "action":
		return fAction
	case "outcome":
		return fOutcome
	case "patient_id":
		return fPatientID
	case "record_type":
		return fRecordType
	case "source_ip":
		return fSourceIP
	case "terminal":
		return fTerminal
	case "record_count":
		return fRecordCount
	}
	return -1
}

func isEventField(k string) bool { return fieldIndex(k) >= 0 }

// decodeJSONEvent decodes a JSON payload. The common shape — an object whose keys are
// field names spelled exactly, its values strings without escapes and record_count a
// plain integer — is read by scanJSONEvent without reflection or copies; anything else
// (escapes, null, other types, keys in another case, unknown keys, syntax errors, text
// after the object) by encoding/json, which gives the errors.
func (d Decoder) decodeJSONEvent(s string, ev *events.Event) error {
	var vals [numFields]string
	if have, ok := scanJSONEvent(s, &vals); ok {
		for f := range fRecordCount {
			if have&(1<<f) != 0 {
				if err := d.setField(ev, f, vals[f], false); err != nil {
					return err
				}
			}
		}
		if have&(1<<fRecordCount) != 0 {
			n, err := strconv.Atoi(vals[fRecordCount]) // at most 18 digits: no overflow
			if err != nil {
				return invalid("JSON payload: record_count is not an integer")
			}
			ev.RecordCount = n
		}
		return nil
	}
	return d.decodeJSONEventStd([]byte(s), ev)
}

// scanJSONEvent reads the common shape of a JSON payload (see decodeJSONEvent) into
// vals, returning the bit set of the fields present; ok is false when s has any other
// shape. A field given twice keeps its last value, as with encoding/json.
func scanJSONEvent(s string, vals *[numFields]string) (have uint16, ok bool) {
	i := skipJSONSpace(s, 0)
	if i >= len(s) || s[i] != '{' {
		return 0, false
	}
	i = skipJSONSpace(s, i+1)
	if i < len(s) && s[i] == '}' {
		return 0, skipJSONSpace(s, i+1) == len(s)
	}
	for {
		if i >= len(s) || s[i] != '"' {
			return 0, false
		}
		j := i + 1
		for j < len(s) && s[j] != '"' && s[j] != '\\' {
			j++
		}
		if j >= len(s) || s[j] != '"' {
			return 0, false
		}
		f := fieldIndex(s[i+1 : j])
		if f < 0 {
			return 0, false
		}
		i = skipJSONSpace(s, j+1)
		if i >= len(s) || s[i] != ':' {
			return 0, false
		}
		i = skipJSONSpace(s, i+1)
		if i >= len(s) {
			return 0, false
		}
		if f == fRecordCount {
			j = i
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			if n := j - i; n == 0 || n > 18 || (s[i] == '0' && n > 1) {
				return 0, false
			}
		} else {
			if s[i] != '"' {
				return 0, false
			}
			ascii := true
			for j = i + 1; j < len(s); j++ {
				c := s[j]
				if c == '"' || c == '\\' || c < 0x20 {
					break
				}
				if c >= utf8.RuneSelf {
					ascii = false
				}
			}
			if j >= len(s) || s[j] != '"' {
				return 0, false
			}
			i++ // the opening quote
			if !ascii && !utf8.ValidString(s[i:j]) {
				return 0, false
			}
		}
		vals[f] = s[i:j]
		have |= 1 << f
		if f != fRecordCount {
			j++ // the closing quote
		}
		i = skipJSONSpace(s, j)
		if i >= len(s) {
			return 0, false
		}
		switch s[i] {
		case ',':
			i = skipJSONSpace(s, i+1)
		case '}':
			return have, skipJSONSpace(s, i+1) == len(s)
		default:
			return 0, false
		}
	}
}

func skipJSONSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// jsonEvent is events.Event as a payload carries it: the time is text, read by setField.
type jsonEvent struct {
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

// decodeJSONEventStd decodes any JSON payload with encoding/json.
func (d Decoder) decodeJSONEventStd(data []byte, ev *events.Event) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var j jsonEvent
	if err := dec.Decode(&j); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) && isEventField(ute.Field) {
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
	for _, f := range []struct {
		f int
		p *string
	}{{fID, j.ID}, {fTime, j.Time}, {fSystem, j.System}, {fAccount, j.Account}, {fStaffID, j.StaffID},
		{fDepartment, j.Department}, {fAction, j.Action}, {fOutcome, j.Outcome}, {fPatientID, j.PatientID},
		{fRecordType, j.RecordType}, {fSourceIP, j.SourceIP}, {fTerminal, j.Terminal}} {
		if f.p == nil {
			continue
		}
		if err := d.setField(ev, f.f, *f.p, false); err != nil {
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

// decodeKeyValues reads `key=value key="quoted value"` pairs. A value is a part of s
// unless it holds an escape.
func (d Decoder) decodeKeyValues(s string, ev *events.Event) error {
	var seen uint16
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
		f := fieldIndex(key)
		if f < 0 {
			return invalid("key=value payload: a key that is not an event field")
		}
		if seen&(1<<f) != 0 {
			return invalid("key=value payload: field " + key + " given twice")
		}
		seen |= 1 << f
		i++ // '='
		var val string
		if i < len(s) && s[i] == '"' {
			i++
			v := i
			for i < len(s) && s[i] != '"' && s[i] != '\\' {
				i++
			}
			closed := i < len(s) && s[i] == '"'
			if closed {
				val = s[v:i]
				i++
			} else {
				var b strings.Builder
				b.WriteString(s[v:i])
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
				val = b.String()
			}
			if !closed {
				return invalid("key=value payload: unterminated quoted value of " + key)
			}
			if i < len(s) && s[i] != ' ' && s[i] != '\t' {
				return invalid("key=value payload: text right after the quoted value of " + key)
			}
		} else {
			v := i
			for i < len(s) && s[i] != ' ' && s[i] != '\t' {
				i++
			}
			val = s[v:i]
		}
		if err := d.setField(ev, f, val, false); err != nil {
			return err
		}
	}
	if seen == 0 {
		return invalid("key=value payload has no field")
	}
	return nil
}

// setField sets field f (a fieldIndex) from text. With onlyEmpty, a field already set
// (by the payload) is left as it is.
func (d Decoder) setField(ev *events.Event, f int, val string, onlyEmpty bool) error {
	var p *string
	switch f {
	case fID:
		p = &ev.ID
	case fSystem:
		p = &ev.System
	case fAccount:
		p = &ev.Account
	case fStaffID:
		p = &ev.StaffID
	case fDepartment:
		p = &ev.Department
	case fAction:
		p = &ev.Action
	case fOutcome:
		p = &ev.Outcome
	case fPatientID:
		p = &ev.PatientID
	case fRecordType:
		p = &ev.RecordType
	case fSourceIP:
		p = &ev.SourceIP
	case fTerminal:
		p = &ev.Terminal
	case fTime:
		if onlyEmpty && !ev.Time.IsZero() {
			return nil
		}
		t, err := parseTime(val, d.loc())
		if err != nil {
			return invalid("time is neither RFC 3339 nor YYYY-MM-DD HH:MM:SS")
		}
		ev.Time = t
		return nil
	case fRecordCount:
		if onlyEmpty && ev.RecordCount != 0 {
			return nil
		}
		n, err := strconv.Atoi(val)
		if err != nil || n < 0 {
			return invalid("record_count is not a non-negative integer")
		}
		ev.RecordCount = n
		return nil
	default:
		return invalid("unknown field")
	}
	if !onlyEmpty || *p == "" {
		*p = val
	}
	return nil
}

// validate checks what every decoded event must have; the messages name fields, never
// values.
func validate(ev *events.Event) error {
	if ev.Time.IsZero() {
		return invalid("event has no time")
	}
	if ev.Account == "" {
		return invalid("event has no account")
	}
	if ev.Action == "" {
		return invalid("event has no action")
	}
	known := false
	for _, a := range events.Actions() {
		if ev.Action == a {
			known = true
			break
		}
	}
	if !known {
		return invalid("action is not one of the events actions")
	}
	switch ev.Outcome {
	case "":
		ev.Outcome = events.OutcomeSuccess
	case events.OutcomeSuccess, events.OutcomeFailure:
	default:
		return invalid("outcome is neither success nor failure")
	}
	return nil
}
