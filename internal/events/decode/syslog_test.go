package decode

import (
	"bufio"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medguard/medguard/internal/events"
)

var cst = time.FixedZone("CST", 8*3600)

// receiver is the decoder of the syslog tests: Beijing time, the clock at 2026-03-01.
var receiver = Decoder{Location: cst, Now: func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, cst) }}

func TestParseSyslog(t *testing.T) {
	t.Parallel()
	dicom, err := os.ReadFile("testdata/dicom/atna-record-1.xml")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		dec  Decoder
		line string
		want events.Event // Raw is the line, ID a digest unless given
	}{
		{name: "5424 key=value", dec: receiver,
			line: `<134>1 2026-02-28T08:15:30.123+08:00 his01 HIS 2211 AUDIT - account=u1 action=view patient_id=P1 department="Internal Medicine" source_ip=10.1.2.3`,
			want: events.Event{Time: time.Date(2026, 2, 28, 8, 15, 30, 123e6, cst), System: "HIS", Account: "u1", Action: "view",
				Outcome: "success", PatientID: "P1", Department: "Internal Medicine", SourceIP: "10.1.2.3"}},
		{name: "5424 JSON with id and time", dec: receiver,
			line: `<134>1 2026-02-28T08:15:30Z emr01 EMR - - - {"id":"e-9","time":"2026-02-28T07:00:00Z","system":"EMR-2","account":"u2","action":"export","outcome":"failure","record_count":250,"terminal":"WS-12"}`,
			want: events.Event{ID: "e-9", Time: time.Date(2026, 2, 28, 7, 0, 0, 0, time.UTC), System: "EMR-2", Account: "u2",
				Action: "export", Outcome: "failure", RecordCount: 250, Terminal: "WS-12"}},
		{name: "5424 BOM and structured data", dec: receiver,
			line: "<134>1 2026-02-28T08:15:30Z lis01 LIS - - [medguard@32473 account=\"u3\" action=\"search\" record_count=\"12\"][timeQuality tzKnown=\"1\"] \ufeffstaff_id=S3",
			want: events.Event{Time: time.Date(2026, 2, 28, 8, 15, 30, 0, time.UTC), System: "LIS", Account: "u3",
				Action: "search", Outcome: "success", StaffID: "S3", RecordCount: 12}},
		{name: "5424 structured data only, hostname as system", dec: receiver,
			line: `<134>1 2026-02-28T08:15:30Z pacs01 - - - [medguard@32473 account="u4" action="login"]`,
			want: events.Event{Time: time.Date(2026, 2, 28, 8, 15, 30, 0, time.UTC), System: "pacs01", Account: "u4", Action: "login", Outcome: "success"}},
		{name: "3164 key=value, year and zone of the receiver", dec: receiver,
			line: `<38>Feb 28 08:15:30 his01 HIS[2211]: account=u1 action=login_failure outcome=failure source_ip=10.9.9.9 terminal="WS 7"`,
			want: events.Event{Time: time.Date(2026, 2, 28, 8, 15, 30, 0, cst), System: "HIS", Account: "u1",
				Action: "login_failure", Outcome: "failure", SourceIP: "10.9.9.9", Terminal: "WS 7"}},
		{name: "3164 December stamp received in January is last year",
			dec:  Decoder{Location: cst, Now: func() time.Time { return time.Date(2027, 1, 1, 0, 5, 0, 0, cst) }},
			line: `<38>Dec 31 23:59:58 his01 HIS: account=u1 action=logout`,
			want: events.Event{Time: time.Date(2026, 12, 31, 23, 59, 58, 0, cst), System: "HIS", Account: "u1", Action: "logout", Outcome: "success"}},
		{name: "3164 quoted value with escapes", dec: receiver,
			line: `<38>Feb 28 08:15:30 his01 HIS: account=u1 action=print record_type="lab \"final\" report \\ A4"`,
			want: events.Event{Time: time.Date(2026, 2, 28, 8, 15, 30, 0, cst), System: "HIS", Account: "u1", Action: "print",
				Outcome: "success", RecordType: `lab "final" report \ A4`}},
		{name: "3164 time in payload without zone is in the receiver's zone", dec: receiver,
			line: `<38>Feb 28 08:15:30 his01 HIS: account=u1 action=view time="2026-02-27 23:00:00" patient_id=P9`,
			want: events.Event{Time: time.Date(2026, 2, 27, 23, 0, 0, 0, cst), System: "HIS", Account: "u1", Action: "view",
				Outcome: "success", PatientID: "P9"}},
		{name: "5424 DICOM audit message payload", dec: Decoder{Location: time.UTC},
			line: `<85>1 2026-02-28T08:15:30Z pacs01 PACS - IHE+RFC-3881 - ` + strings.ReplaceAll(string(dicom), "\n", " "),
			want: events.Event{Time: time.Date(2001, 12, 17, 9, 30, 47, 0, time.UTC), System: "ReadingRoom",
				Account: "smitty@readingroom.hospital.org", Action: "create", Outcome: "success", PatientID: "ptid12345", SourceIP: "192.168.1.2"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got, err := c.dec.ParseSyslog([]byte(c.line + "\n"))
			if err != nil {
				t.Fatal(err)
			}
			if got.Raw != c.line {
				t.Errorf("Raw = %q, want the line", got.Raw)
			}
			if c.want.ID == "" {
				if !strings.HasPrefix(got.ID, "sha256:") {
					t.Errorf("ID = %q, want a digest", got.ID)
				}
				c.want.ID = got.ID
			}
			c.want.Raw = got.Raw
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("event (-want +got):\n%s", diff)
			}
		})
	}
}

// TestParseSyslogRejects: bad lines are refused with an error wrapping ErrInvalid that
// never quotes the line.
func TestParseSyslogRejects(t *testing.T) {
	t.Parallel()
	s := secretPatient
	cases := map[string]string{
		"empty":              "",
		"newline only":       "\n",
		"not syslog":         s,
		"bad 5424 header":    `<134>1 notatime host app - - - account=u1 action=view patient_id=` + s,
		"no payload":         `<134>1 2026-02-28T08:15:30Z h HIS - - -`,
		"unknown key":        `<134>1 2026-02-28T08:15:30Z h HIS - - - account=u1 action=view patient=` + s,
		"secret as key":      `<134>1 2026-02-28T08:15:30Z h HIS - - - account=u1 action=view ` + s + `=1`,
		"word without =":     `<134>1 2026-02-28T08:15:30Z h HIS - - - account=u1 action=view ` + s,
		"unknown action":     `<134>1 2026-02-28T08:15:30Z h HIS - - - account=u1 action=` + s,
		"no account":         `<134>1 2026-02-28T08:15:30Z h HIS - - - action=view patient_id=` + s,
		"no action":          `<134>1 2026-02-28T08:15:30Z h HIS - - - account=u1 patient_id=` + s,
		"bad outcome":        `<134>1 2026-02-28T08:15:30Z h HIS - - - account=u1 action=view outcome=` + s,
		"bad time":           `<134>1 2026-02-28T08:15:30Z h HIS - - - account=u1 action=view time=` + s,
		"bad count":          `<134>1 2026-02-28T08:15:30Z h HIS - - - account=u1 action=view record_count=` + s,
		"negative count":     `<134>1 2026-02-28T08:15:30Z h HIS - - - account=u1 action=view record_count=-1`,
		"twice":              `<134>1 2026-02-28T08:15:30Z h HIS - - - account=u1 action=view patient_id=P1 patient_id=` + s,
		"unterminated quote": `<134>1 2026-02-28T08:15:30Z h HIS - - - account=u1 action=view patient_id="` + s,
		"text after quote":   `<134>1 2026-02-28T08:15:30Z h HIS - - - account=u1 action=view patient_id="P"` + s,
		"bad JSON":           `<134>1 2026-02-28T08:15:30Z h HIS - - - {"account":"u1","patient_id":"` + s,
		"JSON unknown field": `<134>1 2026-02-28T08:15:30Z h HIS - - - {"account":"u1","action":"view","` + s + `":1}`,
		"JSON wrong type":    `<134>1 2026-02-28T08:15:30Z h HIS - - - {"account":"u1","action":"view","patient_id":4711}`,
		"JSON trailing":      `<134>1 2026-02-28T08:15:30Z h HIS - - - {"account":"u1","action":"view"} {"patient_id":"` + s + `"}`,
		"bad DICOM":          `<134>1 2026-02-28T08:15:30Z h HIS - - - <AuditMessage><x>` + s,
		"not UTF-8":          "<134>1 2026-02-28T08:15:30Z h HIS - - - account=u1 action=view patient_id=\xff" + s,
		"3164 no time":       `<38>` + s,
	}
	for name, line := range cases {
		_, err := receiver.ParseSyslog([]byte(line))
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v does not wrap ErrInvalid", name, err)
		}
		if strings.Contains(err.Error(), "SECRET") || strings.Contains(err.Error(), "4711") {
			t.Errorf("%s: error echoes the input: %v", name, err)
		}
	}
}

func scanAll(t *testing.T, split bufio.SplitFunc, stream string) ([]string, error) {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(stream))
	sc.Buffer(make([]byte, 0, 64), MaxFrame+16)
	sc.Split(split)
	var got []string
	for sc.Scan() {
		got = append(got, sc.Text())
	}
	return got, sc.Err()
}

func TestSplitFunctions(t *testing.T) {
	t.Parallel()
	a := `<134>1 2026-02-28T08:15:30Z h HIS - - - account=u1 action=view`
	b := "<38>Feb 28 08:15:30 his01 HIS: account=u2 action=print record_type=\"with\nnewline\""
	oc := func(m string) string { return strconv.Itoa(len(m)) + " " + m }
	cases := []struct {
		name   string
		split  bufio.SplitFunc
		stream string
		want   []string
		err    error
	}{
		{"octet counting", SplitOctetCounting, oc(a) + oc(b), []string{a, b}, nil},
		{"octet counting, LF between frames", SplitOctetCounting, oc(a) + "\n" + oc(b) + "\r\n", []string{a, b}, nil},
		{"octet counting, truncated frame", SplitOctetCounting, oc(a) + strconv.Itoa(len(b)+1) + " " + b, []string{a}, ErrFrame},
		{"octet counting, no length", SplitOctetCounting, a, nil, ErrFrame},
		{"octet counting, leading zero", SplitOctetCounting, "0" + oc(a), nil, ErrFrame},
		{"octet counting, zero length", SplitOctetCounting, "0 ", nil, ErrFrame},
		{"octet counting, too long", SplitOctetCounting, "99999999 x", nil, ErrFrame},
		{"octet counting, length only at EOF", SplitOctetCounting, "62", nil, ErrFrame},
		{"newline", SplitNewline, a + "\n" + a + "\r\n\n" + a, []string{a, a, a}, nil},
		{"newline, NUL trailer", SplitNewline, a + "\x00" + a + "\x00", []string{a, a}, nil},
		{"newline, CR at EOF only", SplitNewline, a + "\n\r", []string{a}, nil},
		{"mixed framing", SplitSyslog, oc(b) + a + "\n" + oc(a) + a, []string{b, a, a, a}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got, err := scanAll(t, c.split, c.stream)
			if !errors.Is(err, c.err) {
				t.Fatalf("err = %v, want %v", err, c.err)
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("frames (-want +got):\n%s", diff)
			}
		})
	}
	// Each frame parses.
	for _, f := range []string{a, b} {
		if _, err := receiver.ParseSyslog([]byte(f)); err != nil {
			t.Errorf("frame does not parse: %v", err)
		}
	}
}

// TestScanJSONEvent: the common JSON shape (what bench/events and most senders write)
// is read without encoding/json; every other shape is left to it.
func TestScanJSONEvent(t *testing.T) {
	t.Parallel()
	cases := []struct {
		payload string
		fast    bool
	}{
		{`{"id":"s-1","time":"2026-02-28T08:00:00.01Z","account":"u1","action":"view","record_count":12,"terminal":"WS 1"}`, true},
		{`{ "account" : "张三" , "action":"view" }`, true},
		{`{}`, true},
		{`{"account":"u\u0031","action":"view"}`, false},               // escape
		{`{"Account":"u1","action":"view"}`, false},                    // case-folded key
		{`{"account":"u1","colour":"red"}`, false},                     // unknown key
		{`{"account":null,"action":"view"}`, false},                    // null
		{`{"account":"u1","record_count":-1}`, false},                  // sign
		{`{"account":"u1","record_count":01}`, false},                  // leading zero
		{`{"account":"u1","record_count":1.5}`, false},                 // fraction
		{`{"account":"u1","record_count":"1"}`, false},                 // string count
		{`{"account":"u1","action":"view"}}`, false},                   // trailing text
		{`{"account":"u1",}`, false},                                   // trailing comma
		{`{"account":"u1"`, false},                                     // unterminated
		{"{\"account\":\"u\x01\"}", false},                             // control character
		{`{"account":"u1","record_count":1234567890123456789}`, false}, // may overflow
	}
	for _, c := range cases {
		var vals [numFields]string
		if _, ok := scanJSONEvent(c.payload, &vals); ok != c.fast {
			t.Errorf("%s: fast path %v, want %v", c.payload, ok, c.fast)
		}
	}
}
