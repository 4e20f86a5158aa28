package decode

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/events"
)

// ErrUnsupported is wrapped when a well-formed audit record is of a kind medguard does
// not monitor (for example a DICOM Application Activity start/stop message): callers may
// count and skip such records instead of treating them as broken.
var ErrUnsupported = errors.New("decode: audit record of an unsupported kind")

// dicomCode is a coded value of DICOM PS3.15 A.5: csd-code in the current schema, code in
// the RFC 3881 schema it grew from.
type dicomCode struct {
	CSDCode string `xml:"csd-code,attr"`
	Code    string `xml:"code,attr"`
}

func (c dicomCode) value() string {
	if c.CSDCode != "" {
		return strings.TrimSpace(c.CSDCode)
	}
	return strings.TrimSpace(c.Code)
}

type dicomMessage struct {
	XMLName xml.Name `xml:"AuditMessage"`
	Event   struct {
		ActionCode string      `xml:"EventActionCode,attr"`
		DateTime   string      `xml:"EventDateTime,attr"`
		Outcome    string      `xml:"EventOutcomeIndicator,attr"`
		ID         dicomCode   `xml:"EventID"`
		TypeCodes  []dicomCode `xml:"EventTypeCode"`
	} `xml:"EventIdentification"`
	Participants []struct {
		UserID        string `xml:"UserID,attr"`
		AltUserID     string `xml:"AlternativeUserID,attr"`
		IsRequestor   string `xml:"UserIsRequestor,attr"`
		NetworkID     string `xml:"NetworkAccessPointID,attr"`
		NetworkIDType string `xml:"NetworkAccessPointTypeCode,attr"`
	} `xml:"ActiveParticipant"`
	Source []struct {
		SourceID string `xml:"AuditSourceID,attr"`
		SiteID   string `xml:"AuditEnterpriseSiteID,attr"`
	} `xml:"AuditSourceIdentification"`
	Objects []struct {
		ID       string `xml:"ParticipantObjectID,attr"`
		TypeCode string `xml:"ParticipantObjectTypeCode,attr"`
		Role     string `xml:"ParticipantObjectTypeCodeRole,attr"`
	} `xml:"ParticipantObjectIdentification"`
}

// DICOM PS3.16 CID 400 audit event IDs.
const (
	dcmApplicationActivity = "110100"
	dcmAuditLogUsed        = "110101"
	dcmInstancesAccessed   = "110103"
	dcmInstancesTransfer   = "110104"
	dcmStudyDeleted        = "110105"
	dcmExport              = "110106"
	dcmImport              = "110107"
	dcmOrderRecord         = "110109"
	dcmPatientRecord       = "110110"
	dcmProcedureRecord     = "110111"
	dcmQuery               = "110112"
	dcmUserAuthentication  = "110114"
	dcmSecurityRoleChange  = "110136"
	dcmSecurityAlert       = "110113"
	dcmTypeLogout          = "110123"
	dcmTypeOverrideStarted = "110127" // emergency override (break-glass) started
)

// DecodeDICOM decodes one DICOM PS3.15 A.5 audit message (an AuditMessage element), or
// several AuditMessage elements one after the other, into events: one event a message.
// Raw is the text of each message as received; the id is a digest of it, since the format
// carries none. A timestamp without offset is read in the zero Decoder's zone (local).
func DecodeDICOM(data []byte) ([]events.Event, error) { return Decoder{}.DecodeDICOM(data) }

// DecodeDICOM is the package function DecodeDICOM with d's assumptions.
func (d Decoder) DecodeDICOM(data []byte) ([]events.Event, error) {
	if len(data) > MaxInput {
		return nil, invalid("DICOM audit message too large")
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	var out []events.Event
	for {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: DICOM audit message is not well-formed XML (message %d)", ErrInvalid, len(out)+1)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local != "AuditMessage" {
				return nil, invalid("DICOM audit message: root element is not AuditMessage")
			}
			var m dicomMessage
			if err := dec.DecodeElement(&m, &t); err != nil {
				return nil, fmt.Errorf("%w: DICOM audit message is not well-formed XML (message %d)", ErrInvalid, len(out)+1)
			}
			raw := bytes.TrimSpace(data[start:dec.InputOffset()])
			ev, err := d.dicomEvent(&m, raw)
			if err != nil {
				return nil, fmt.Errorf("DICOM audit message %d: %w", len(out)+1, err)
			}
			out = append(out, ev)
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return nil, invalid("DICOM audit message: text outside AuditMessage")
			}
		}
	}
	if len(out) == 0 {
		return nil, invalid("no DICOM AuditMessage element")
	}
	return out, nil
}

func (d Decoder) dicomEvent(m *dicomMessage, raw []byte) (events.Event, error) {
	ev := events.Event{ID: digestID(raw), Raw: string(raw)}
	if m.Event.DateTime == "" {
		return ev, invalid("EventIdentification has no EventDateTime")
	}
	t, err := parseTime(m.Event.DateTime, d.loc())
	if err != nil {
		return ev, invalid("EventDateTime is not an xs:dateTime")
	}
	ev.Time = t
	switch strings.TrimSpace(m.Event.Outcome) {
	case "0":
		ev.Outcome = events.OutcomeSuccess
	case "4", "8", "12":
		ev.Outcome = events.OutcomeFailure
	default:
		return ev, invalid("EventOutcomeIndicator is not 0, 4, 8 or 12")
	}
	id := m.Event.ID.value()
	if id == "" {
		return ev, invalid("EventIdentification has no EventID code")
	}
	action, err := dicomAction(id, strings.TrimSpace(m.Event.ActionCode), ev.Outcome, m.Event.TypeCodes)
	if err != nil {
		return ev, err
	}
	ev.Action = action

	requestor := -1
	for i, p := range m.Participants {
		if strings.EqualFold(strings.TrimSpace(p.IsRequestor), "true") {
			requestor = i
			break
		}
	}
	if requestor < 0 && len(m.Participants) > 0 {
		requestor = 0
	}
	if requestor < 0 {
		return ev, invalid("no ActiveParticipant")
	}
	p := m.Participants[requestor]
	ev.Account = strings.TrimSpace(p.UserID)
	if ev.Account == "" {
		// Some senders leave UserID empty and name the process in AlternativeUserID.
		ev.Account = strings.TrimSpace(p.AltUserID)
	}
	if ev.Account == "" {
		return ev, invalid("requesting ActiveParticipant has no UserID")
	}
	switch strings.TrimSpace(p.NetworkIDType) {
	case "2": // IP address
		ev.SourceIP = strings.TrimSpace(p.NetworkID)
	case "1": // machine name
		ev.Terminal = strings.TrimSpace(p.NetworkID)
	}
	for _, s := range m.Source {
		if v := strings.TrimSpace(s.SourceID); v != "" {
			ev.System = v
			break
		}
	}
	patients := 0
	for _, o := range m.Objects {
		// Type 1 (person) in role 1 (patient).
		if strings.TrimSpace(o.TypeCode) == "1" && strings.TrimSpace(o.Role) == "1" && strings.TrimSpace(o.ID) != "" {
			if patients == 0 {
				ev.PatientID = strings.TrimSpace(o.ID)
			}
			patients++
		}
	}
	if patients > 1 {
		ev.RecordCount = patients
	}
	return ev, nil
}

// dicomAction maps a DICOM event ID, its EventActionCode (C, R, U, D, E), outcome and
// event type codes to an events action.
func dicomAction(id, actionCode, outcome string, types []dicomCode) (string, error) {
	byCRUD := func() (string, error) {
		switch actionCode {
		case "C":
			return events.ActionCreate, nil
		case "R", "E":
			return events.ActionView, nil
		case "U":
			return events.ActionModify, nil
		case "D":
			return events.ActionDelete, nil
		}
		return "", invalid("EventActionCode is not C, R, U, D or E")
	}
	switch id {
	case dcmPatientRecord, dcmInstancesAccessed, dcmOrderRecord, dcmProcedureRecord, dcmInstancesTransfer:
		return byCRUD()
	case dcmQuery:
		return events.ActionSearch, nil
	case dcmExport:
		return events.ActionExport, nil
	case dcmImport:
		return events.ActionCreate, nil
	case dcmStudyDeleted:
		return events.ActionDelete, nil
	case dcmAuditLogUsed:
		return events.ActionView, nil
	case dcmSecurityRoleChange:
		return events.ActionPrivilegeChange, nil
	case dcmUserAuthentication:
		for _, t := range types {
			if t.value() == dcmTypeLogout {
				return events.ActionLogout, nil
			}
		}
		if outcome == events.OutcomeSuccess {
			return events.ActionLogin, nil
		}
		return events.ActionLoginFailure, nil
	}
	if id == dcmSecurityAlert {
		for _, t := range types {
			if t.value() == dcmTypeOverrideStarted {
				return events.ActionPrivilegeChange, nil // break-glass: access beyond the role
			}
		}
	}
	if id == dcmApplicationActivity {
		return "", fmt.Errorf("%w: DICOM event ID %s (Application Activity)", ErrUnsupported, id)
	}
	if !isCode(id) {
		return "", invalid("EventID code is not a DICOM code")
	}
	return "", fmt.Errorf("%w: DICOM event ID %s", ErrUnsupported, id)
}

// parseTime reads an RFC 3339 / xs:dateTime timestamp; one without offset is in loc.
func parseTime(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05.999999999", "2006-01-02T15:04:05", "2006-01-02 15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errors.New("bad time")
}

// isCode reports whether s looks like a terminology code (short, digits, letters and
// dashes) and so may be named in an error without risk of quoting patient data.
func isCode(s string) bool {
	if s == "" || len(s) > 12 {
		return false
	}
	digits := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '-' || r == '.':
		default:
			return false
		}
	}
	return digits > 0
}
