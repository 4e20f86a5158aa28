package decode

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medguard/medguard/internal/events"
)

// TestDecodeFHIRSamples decodes the HL7 AuditEvent examples (XML) and the IHE BALP
// examples (a JSON Bundle) of testdata/fhir and compares every event.
func TestDecodeFHIRSamples(t *testing.T) {
	t.Parallel()
	const hl7 = "hl7connect.healthintersections.com.au"
	ws := "Workstation1.ehr.familyclinic.com"
	at := func(s string) time.Time { return mustTime(t, s) }
	cases := []struct {
		file string
		want []events.Event // Raw is checked apart
		err  error
	}{
		{file: "audit-event-example-vread.xml", want: []events.Event{{ID: "example-rest", Time: at("2013-06-20T23:42:24Z"), System: hl7, Account: "95", Action: "view", Outcome: "success", PatientID: "example", Terminal: ws}}},
		{file: "audit-event-example-create-traceID.xml", want: []events.Event{{ID: "example-rest-create-traceID", Time: at("2019-12-04T11:59:28.646Z"), System: hl7, Account: "95", Action: "create", Outcome: "success", PatientID: "example", Terminal: ws}}},
		{file: "audit-event-example-search.xml", want: []events.Event{{ID: "example-search", Time: at("2015-08-22T23:42:24Z"), System: hl7, Account: "95", Action: "search", Outcome: "success", Terminal: ws}}},
		{file: "audit-event-example-login.xml", want: []events.Event{{ID: "example-login", Time: at("2013-06-20T23:41:23Z"), System: hl7, Account: "95", Action: "login", Outcome: "success", Terminal: ws}}},
		{file: "audit-event-example-logout.xml", want: []events.Event{{ID: "example-logout", Time: at("2013-06-20T23:46:41Z"), System: hl7, Account: "95", Action: "logout", Outcome: "success", SourceIP: "127.0.0.1"}}},
		{file: "audit-event-example-media.xml", want: []events.Event{{ID: "example-media", Time: at("2015-08-27T23:42:24Z"), System: hl7, Account: "95", Action: "export", Outcome: "success", PatientID: "e3cdfc81a0d24bd^^^&2.16.840.1.113883.4.2&ISO"}}},
		{file: "audit-event-example-pixQuery.xml", want: []events.Event{{ID: "example-pixQuery", Time: at("2015-08-26T23:42:24Z"), System: hl7, Account: "95", Action: "search", Outcome: "success", PatientID: "e3cdfc81a0d24bd^^^&2.16.840.1.113883.4.2&ISO", Terminal: ws}}},
		{file: "auditevent-example-disclosure.xml", want: []events.Event{{ID: "example-disclosure", Time: at("2013-09-22T00:08:00Z"), System: "Watchers Accounting of Disclosures Application", Account: "SomeIdiot@nowhere", Action: "export", Outcome: "success", PatientID: "example", Terminal: "custodian.net"}}},
		{file: "auditevent-example-advanced-create.xml", want: []events.Event{{ID: "example-advanced-create", Time: at("2020-04-29T09:49:00Z"), System: "Device/example", Account: "Betty Jones", Action: "create", Outcome: "success", PatientID: "example"}}},
		{file: "auditevent-example.xml", err: ErrUnsupported},     // application start
		{file: "list-AuditEvent-examples.xml", err: ErrInvalid},   // a List, not an AuditEvent
		{file: "auditevent-examples-header.xml", err: ErrInvalid}, // XHTML
		{file: "balp-bundle.json", want: []events.Event{
			{ID: "ex-auditBasicReadServer", Time: at("2020-04-29T09:49:00Z"), System: "Device/ex-device", Account: "John Smith", Action: "view", Outcome: "success", PatientID: "ex-patient", SourceIP: "2001:0db8:85a3:0000:0000:8a2e:0370:7334"},
			{ID: "ex-auditBasicQueryGetServer", Time: at("2020-04-29T09:49:00Z"), System: "Device/ex-device", Account: "jsmith", Action: "search", Outcome: "success", PatientID: "ex-patient", SourceIP: "2001:0db8:85a3:0000:0000:8a2e:0370:7334"},
			{ID: "ex-export-two-patients", Time: at("2020-04-29T10:00:00+08:00"), System: "EMR", Account: "u7", Action: "export", Outcome: "failure", PatientID: "MRN-1", RecordCount: 2, SourceIP: "10.0.0.7"},
		}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(filepath.Join("testdata", "fhir", c.file))
			if err != nil {
				t.Fatal(err)
			}
			got, err := Decoder{Location: time.UTC}.DecodeFHIR(data)
			if c.err != nil {
				if !errors.Is(err, c.err) {
					t.Fatalf("err = %v, want %v", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for i := range got {
				if !strings.Contains(string(data), got[i].Raw) || !strings.Contains(got[i].Raw, got[i].ID) ||
					!(strings.HasPrefix(got[i].Raw, "<AuditEvent") || strings.HasPrefix(got[i].Raw, "{")) {
					t.Errorf("event %d: Raw is not the AuditEvent's original text", i)
				}
				got[i].Raw = ""
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDecodeFHIRMore: R5 shapes, a break-glass alert, an error outcome, a Bundle in XML.
func TestDecodeFHIRMore(t *testing.T) {
	t.Parallel()
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("testdata", "fhir", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	evs, err := DecodeFHIR(read("auditevent-example-breakglass-start.xml"))
	if err != nil || evs[0].Action != events.ActionPrivilegeChange {
		t.Errorf("break-glass: %v %+v", err, evs)
	}
	evs, err = DecodeFHIR(read("auditevent-example-error.xml"))
	if err != nil || evs[0].Outcome != events.OutcomeFailure {
		t.Errorf("error outcome: %v %+v", err, evs)
	}
	vread := strings.TrimPrefix(string(read("audit-event-example-vread.xml")), "\ufeff")
	vread = vread[strings.Index(vread, "<AuditEvent"):]
	bundle := `<Bundle xmlns="http://hl7.org/fhir"><type value="collection"/><entry><resource>` + vread +
		`</resource></entry><entry><resource>` + vread + `</resource></entry></Bundle>`
	evs, err = DecodeFHIR([]byte(bundle))
	if err != nil || len(evs) != 2 || evs[1].Action != events.ActionView || !strings.HasPrefix(evs[1].Raw, "<AuditEvent") {
		t.Errorf("XML bundle: %v %d events", err, len(evs))
	}
	r5 := `{"resourceType":"AuditEvent","code":{"coding":[{"system":"http://hl7.org/fhir/restful-interaction","code":"read"}]},` +
		`"recorded":"2024-05-01T08:00:00+08:00","outcome":{"code":{"code":"0"}},"patient":{"reference":"Patient/P5"},` +
		`"agent":[{"who":{"identifier":{"value":"doc1"}},"networkString":"10.2.3.4","requestor":true}],"source":{"observer":{"display":"HIS"}}}`
	evs, err = DecodeFHIR([]byte(r5))
	if err != nil {
		t.Fatal(err)
	}
	want := events.Event{ID: evs[0].ID, Time: mustTime(t, "2024-05-01T08:00:00+08:00"), System: "HIS", Account: "doc1",
		Action: "view", Outcome: "success", PatientID: "P5", SourceIP: "10.2.3.4", Raw: r5}
	if !strings.HasPrefix(evs[0].ID, "sha256:") {
		t.Errorf("id without an id element = %q, want a digest", evs[0].ID)
	}
	if diff := cmp.Diff(want, evs[0]); diff != "" {
		t.Errorf("R5 (-want +got):\n%s", diff)
	}
}

// TestDecodeFHIRRejects: bad input is refused with an error wrapping ErrInvalid (or
// ErrUnsupported) that never quotes the input.
func TestDecodeFHIRRejects(t *testing.T) {
	t.Parallel()
	s := secretPatient
	good := `{"resourceType":"AuditEvent","id":"a1","subtype":[{"code":"read"}],"recorded":"2024-05-01T08:00:00Z","outcome":"0",` +
		`"agent":[{"who":{"identifier":{"value":"doc1"}},"requestor":true}],"entity":[{"what":{"reference":"Patient/` + s + `"}}]}`
	if evs, err := DecodeFHIR([]byte(good)); err != nil || evs[0].PatientID != s {
		t.Fatalf("good: %v %+v", err, evs)
	}
	cases := map[string]string{
		"empty":           "",
		"not json or xml": s,
		"truncated json":  good[:len(good)-3],
		"array":           `[` + good + `]`,
		"other resource":  `{"resourceType":"Patient","id":"` + s + `"}`,
		"bundle of other": `{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Patient","id":"` + s + `"}}]}`,
		"empty bundle":    `{"resourceType":"Bundle","entry":[]}`,
		"no recorded":     strings.Replace(good, `"recorded":"2024-05-01T08:00:00Z",`, "", 1),
		"bad recorded":    strings.Replace(good, `2024-05-01T08:00:00Z`, s, 1),
		"bad outcome":     strings.Replace(good, `"outcome":"0"`, `"outcome":"`+s+`"`, 1),
		"no action":       strings.Replace(good, `"subtype":[{"code":"read"}],`, "", 1),
		"no agent":        strings.Replace(good, `"agent":[{"who":{"identifier":{"value":"doc1"}},"requestor":true}],`, "", 1),
		"anonymous agent": strings.Replace(good, `"who":{"identifier":{"value":"doc1"}},`, "", 1),
		"bad xml":         `<AuditEvent xmlns="http://hl7.org/fhir"><id value="` + s + `"/>`,
		"xml other root":  `<Patient xmlns="http://hl7.org/fhir"><id value="` + s + `"/></Patient>`,
		"xml text after":  `<AuditEvent xmlns="http://hl7.org/fhir"></AuditEvent>` + s,
		"xml entity":      `<!DOCTYPE a [<!ENTITY x "` + s + `">]><AuditEvent xmlns="http://hl7.org/fhir"><id value="&x;"/></AuditEvent>`,
	}
	for name, in := range cases {
		_, err := DecodeFHIR([]byte(in))
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: %v wraps neither ErrInvalid nor ErrUnsupported", name, err)
		}
		if strings.Contains(err.Error(), "SECRET") || strings.Contains(err.Error(), "4711") {
			t.Errorf("%s: error echoes the input: %v", name, err)
		}
	}
}
