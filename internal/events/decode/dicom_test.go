package decode

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/medguard/medguard/internal/events"
)

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestDecodeDICOMSamples decodes the real audit messages of testdata/dicom (oehf/ipf) and
// compares every field of the event each yields.
func TestDecodeDICOMSamples(t *testing.T) {
	t.Parallel()
	type want struct {
		file                                          string
		time                                          string
		system, account, action, outcome, patient, ip string
		terminal                                      string
		count                                         int
		err                                           error
	}
	cases := []want{
		{file: "atna-record-1.xml", time: "2001-12-17T09:30:47Z", system: "ReadingRoom", account: "smitty@readingroom.hospital.org", action: "create", outcome: "success", patient: "ptid12345", ip: "192.168.1.2"},
		{file: "atna-record-2.xml", time: "2025-01-21T11:05:39.3842263+01:00", system: "d7251114", account: "7601002860123", action: "create", outcome: "success", patient: "PATIENT1^^^&2.16.756.5.30.1.191.1.0.2.1&ISO"},
		{file: "audit-message-iti55.xml", time: "2025-02-25T17:03:42.163Z", system: "IheSpringBootTest", account: "unknown", action: "search", outcome: "success", ip: "192.168.42.20"},
		{file: "pdq.xml", time: "2020-03-19T12:16:37.32Z", system: "MPI", account: "MESA_DEPARTMENT|MESA_PD_CONSUMER", action: "search", outcome: "success", patient: "24^^^MPI&2.16.840.1.113883.3.37.4.1.1.2.1.1&ISO^PI", ip: "127.0.0.1", count: 4},
		{file: "pdqm.xml", time: "2020-03-19T14:25:02.926Z", system: "app-gateway", account: "/app-gateway/fhir/Patient", action: "search", outcome: "success", ip: "10.205.114.56"},
		{file: "pdqmread.xml", time: "2020-03-19T14:26:55.601Z", system: "app-gateway", account: "/app-gateway/fhir/Patient/IHERED-2340", action: "search", outcome: "success", patient: "Patient/IHERED-2340", ip: "10.205.114.56"},
		{file: "pixfeed.xml", time: "2020-03-19T12:24:34.434Z", system: "MPI", account: "PKL|SAP-ISH", action: "create", outcome: "success", patient: "7627199^^^HZLN&2.16.840.1.113883.3.37.4.1.1.2.411.1&ISO", ip: "127.0.0.1"},
		{file: "pixfeedmerge.xml", time: "2019-03-19T13:48:59.399Z", system: "EHR_2019", account: "NIST|NIST_SENDER", action: "delete", outcome: "success", patient: "MW-10001^^^NIST2010&2.16.840.1.113883.3.72.5.9.1&ISO", ip: "127.0.0.1"},
		{file: "pixupdatesource.xml", time: "2020-03-19T13:59:32.521Z", system: "EHR_2019", account: "BLA|IHE_SYS_IHERED", action: "view", outcome: "success", patient: "IHERED-2342^^^IHERED&1.3.6.1.4.1.21367.13.20.1000&ISO^PI", terminal: "localhost", count: 3},
		{file: "pixv3sourcefeed.xml", time: "", system: "", account: "10232", action: "create", outcome: "success"},
		{file: "xpidsource.xml", time: "2020-03-19T13:59:32.298Z", system: "EHR_2019", account: "BLA|IHE_SYS_IHERED", action: "modify", outcome: "success", patient: "IHEGREEN-2340^^^IHEGREEN&1.3.6.1.4.1.21367.13.20.2000&ISO^PI", terminal: "localhost", count: 4},
		{file: "start.xml", err: ErrUnsupported},
		{file: "stop.xml", err: ErrUnsupported},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(filepath.Join("testdata", "dicom", c.file))
			if err != nil {
				t.Fatal(err)
			}
			evs, err := Decoder{Location: time.UTC}.DecodeDICOM(data)
			if c.err != nil {
				if !errors.Is(err, c.err) {
					t.Fatalf("err = %v, want %v", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != 1 {
				t.Fatalf("got %d events, want 1", len(evs))
			}
			ev := evs[0]
			if !strings.HasPrefix(ev.ID, "sha256:") {
				t.Errorf("id = %q", ev.ID)
			}
			body := string(bytes.TrimSpace(data))
			if i := strings.Index(body, "<AuditMessage"); i >= 0 {
				body = body[i:]
			}
			if ev.Raw != body {
				t.Errorf("Raw is not the original AuditMessage text")
			}
			got := ev
			got.ID, got.Raw = "", ""
			w := events.Event{System: c.system, Account: c.account, Action: c.action, Outcome: c.outcome,
				PatientID: c.patient, SourceIP: c.ip, Terminal: c.terminal, RecordCount: c.count}
			if c.time != "" {
				w.Time = mustTime(t, c.time)
			} else {
				w.Time, got.Time = time.Time{}, time.Time{}
				got.System, got.PatientID, got.SourceIP = "", "", ""
			}
			if diff := cmp.Diff(w, got, cmpopts.EquateApproxTime(0)); diff != "" {
				t.Errorf("event (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDecodeDICOMLocalTime: an EventDateTime without offset is read in the Decoder's zone.
func TestDecodeDICOMLocalTime(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/dicom/atna-record-1.xml")
	if err != nil {
		t.Fatal(err)
	}
	shanghai := time.FixedZone("CST", 8*3600)
	evs, err := Decoder{Location: shanghai}.DecodeDICOM(data)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2001, 12, 17, 9, 30, 47, 0, shanghai); !evs[0].Time.Equal(want) {
		t.Errorf("time = %v, want %v", evs[0].Time, want)
	}
}

// TestDecodeDICOMSeveral: several AuditMessage elements in a row give one event each, each
// with its own Raw and id.
func TestDecodeDICOMSeveral(t *testing.T) {
	t.Parallel()
	a, _ := os.ReadFile("testdata/dicom/atna-record-1.xml")
	b, _ := os.ReadFile("testdata/dicom/pixfeed.xml")
	b = bytes.TrimPrefix(b, []byte(`<?xml version="1.0" encoding="UTF-8"?>`))
	evs, err := DecodeDICOM(append(append(a, '\n'), b...))
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[0].ID == evs[1].ID || !strings.HasPrefix(evs[1].Raw, "<AuditMessage") || !strings.HasSuffix(evs[0].Raw, "</AuditMessage>") {
		t.Fatalf("events = %+v", evs)
	}
}

const secretPatient = "SECRET-PATIENT-4711"

// TestDecodeDICOMRejects: bad input is refused with an error that wraps ErrInvalid and
// never quotes the input.
func TestDecodeDICOMRejects(t *testing.T) {
	t.Parallel()
	good := `<AuditMessage><EventIdentification EventActionCode="R" EventDateTime="2024-01-02T03:04:05Z" EventOutcomeIndicator="0"><EventID csd-code="110110"/></EventIdentification>` +
		`<ActiveParticipant UserID="u1" UserIsRequestor="true"/><ParticipantObjectIdentification ParticipantObjectID="` + secretPatient + `" ParticipantObjectTypeCode="1" ParticipantObjectTypeCodeRole="1"/></AuditMessage>`
	if evs, err := DecodeDICOM([]byte(good)); err != nil || evs[0].PatientID != secretPatient || evs[0].Action != events.ActionView {
		t.Fatalf("good message: %v %+v", err, evs)
	}
	cases := map[string]string{
		"empty":          "",
		"not xml":        secretPatient,
		"truncated":      good[:len(good)-5],
		"other root":     `<Patient id="` + secretPatient + `"/>`,
		"text outside":   good + secretPatient,
		"no date":        strings.Replace(good, `EventDateTime="2024-01-02T03:04:05Z"`, "", 1),
		"bad date":       strings.Replace(good, `2024-01-02T03:04:05Z`, secretPatient, 1),
		"bad outcome":    strings.Replace(good, `EventOutcomeIndicator="0"`, `EventOutcomeIndicator="`+secretPatient+`"`, 1),
		"no event id":    strings.Replace(good, `<EventID csd-code="110110"/>`, "", 1),
		"bad action":     strings.Replace(good, `EventActionCode="R"`, `EventActionCode="`+secretPatient+`"`, 1),
		"no participant": strings.Replace(good, `<ActiveParticipant UserID="u1" UserIsRequestor="true"/>`, "", 1),
		"empty user":     strings.Replace(good, `UserID="u1"`, `UserID=""`, 1),
		"unknown event":  strings.Replace(good, `110110`, secretPatient, 1),
		"entity":         `<!DOCTYPE a [<!ENTITY x "` + secretPatient + `">]>` + strings.Replace(good, "u1", "&x;", 1),
	}
	for name, in := range cases {
		_, err := DecodeDICOM([]byte(in))
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: %v wraps neither ErrInvalid nor ErrUnsupported", name, err)
		}
		if strings.Contains(err.Error(), secretPatient) || strings.Contains(err.Error(), "SECRET") {
			t.Errorf("%s: error echoes the input: %v", name, err)
		}
	}
}
