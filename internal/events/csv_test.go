package events_test

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/medguard/medguard/internal/events"
)

// TestDecodeCSV: a header of event fields, or a vendor's columns renamed by a mapping (in
// GBK, with its own action values and time layout), gives events whose raw original is
// the row; faults name their line and quote nothing.
func TestDecodeCSV(t *testing.T) {
	plain := "id,time,system,account,action,patient_id,record_count,extra\n" +
		"1,2026-03-31T09:00:00+08:00,EMR,doc,view,P-SECRET-1,2,ignored\n" +
		"2,2026-03-31 09:01:00,EMR,doc,login,,,\n"
	evs, err := events.DecodeCSV([]byte(plain), events.Mapping{})
	if err != nil || len(evs) != 2 {
		t.Fatalf("%d events, %v", len(evs), err)
	}
	if evs[0].PatientID != "P-SECRET-1" || evs[0].RecordCount != 2 || evs[0].Raw != "1,2026-03-31T09:00:00+08:00,EMR,doc,view,P-SECRET-1,2,ignored" {
		t.Errorf("first: %+v", evs[0])
	}

	m, err := events.ParseMapping([]byte("columns:\n  流水号: id\n  操作时间: time\n  系统: system\n  工号: account\n  操作: action\n" +
		"actions:\n  查看病历: view\ntime_format: \"2006/01/02 15:04\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	gbk, err := simplifiedchinese.GBK.NewEncoder().String("流水号,操作时间,系统,工号,操作\nA1,2026/03/31 09:05,HIS,张医生,查看病历\n")
	if err != nil {
		t.Fatal(err)
	}
	evs, err = events.DecodeCSV([]byte(gbk), m)
	if err != nil || len(evs) != 1 || evs[0].Action != "view" || evs[0].Account != "张医生" || evs[0].Time.Minute() != 5 {
		t.Fatalf("gbk: %+v %v", evs, err)
	}

	for _, tc := range []struct{ name, in, want string }{
		{"no id column", "time,system,account,action\n", "line 1: the header has no column for the field id"},
		{"bad time", plain + "3,P-SECRET-2,EMR,doc,view\n", "event 2 (line 4): the time does not parse"},
		{"bad count", "id,time,system,account,action,record_count\n1,2026-03-31T09:00:00Z,E,a,view,P-SECRET-3\n", "event 0 (line 2): record_count"},
		{"bad quote", "id,time,system,account,action\n1,\"P-SECRET-4,x\n", "a quote in the wrong place"},
		{"two columns one field", "id,id,time,system,account,action\n", "two columns give the field id"},
	} {
		_, err := events.DecodeCSV([]byte(tc.in), events.Mapping{})
		var de *events.DecodeError
		if !errors.As(err, &de) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "SECRET") {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	for _, bad := range []string{"columns: {a: patient}", "actions: {a: peek}", "colums: {}", "columns: [1"} {
		if _, err := events.ParseMapping([]byte(bad)); err == nil {
			t.Errorf("mapping %q accepted", bad)
		}
	}
	if _, err := events.ParseMapping([]byte(`{"columns": {"Vendor ID": "id"}, "time_format": "2006-01-02"}`)); err != nil {
		t.Errorf("JSON mapping: %v", err)
	}
}

// FuzzDecodeCSV: any input gives events or a *DecodeError, never a panic.
func FuzzDecodeCSV(f *testing.F) {
	f.Add([]byte("id,time,system,account,action\n1,2026-03-31T09:00:00Z,EMR,doc,view\n"))
	f.Add([]byte("id,time,system,account,action,record_count\n1,x,E,a,view,2\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		evs, err := events.DecodeCSV(data, events.Mapping{})
		if err != nil {
			var de *events.DecodeError
			if !errors.As(err, &de) || evs != nil {
				t.Fatalf("%T %v with %d events", err, err, len(evs))
			}
			return
		}
		for i := range evs {
			_ = events.Validate(&evs[i])
		}
	})
}
