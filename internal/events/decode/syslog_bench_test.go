package decode

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/events"
)

// benchLines are the messages of the benchmarks: RFC 5424 with the JSON payload
// bench/events sends (json.Marshal of an event), and RFC 3164 with key=value pairs.
func benchLines(n int) [][]byte {
	base := time.Date(2026, 2, 28, 8, 0, 0, 0, time.UTC)
	lines := make([][]byte, 0, n)
	for i := range n {
		e := events.Event{ID: fmt.Sprintf("s-%d", i), Time: base.Add(time.Duration(i) * 10 * time.Millisecond), System: "EMR",
			Account: fmt.Sprintf("u%04d", i%2000), StaffID: fmt.Sprintf("S%05d", i%2000), Department: fmt.Sprintf("D%02d", i%40),
			Action: "view", SourceIP: fmt.Sprintf("10.%d.%d.%d", i%8, i/8%256, 10+i%200), Terminal: fmt.Sprintf("WS-%04d", i%2000),
			PatientID: fmt.Sprintf("P%07d", i*7919%100000), RecordType: "emr", RecordCount: 1}
		if i%2 == 0 {
			payload, _ := json.Marshal(e)
			lines = append(lines, fmt.Appendf(nil, "<110>1 %s his-app-01 %s - - - %s", e.Time.Format("2006-01-02T15:04:05.000Z"), e.System, payload))
		} else {
			lines = append(lines, fmt.Appendf(nil, `<38>Feb 28 08:15:30 his01 HIS[2211]: id=h-%d account=%s staff_id=%s action=login_failure outcome=failure source_ip=%s terminal="WS %d"`,
				i, e.Account, e.StaffID, e.SourceIP, i%2000))
		}
	}
	return lines
}

func BenchmarkParseSyslog(b *testing.B) {
	lines := benchLines(1000)
	for _, c := range []struct {
		name  string
		first int
	}{{"5424-json", 0}, {"3164-kv", 1}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			i := c.first
			for b.Loop() {
				if _, err := receiver.ParseSyslog(lines[i]); err != nil {
					b.Fatal(err)
				}
				i = (i + 2) % len(lines)
			}
		})
	}
}

// BenchmarkSplitSyslog: the framing alone, a stream of octet-counted and newline-framed
// messages read through a bufio.Scanner as the listener reads a connection.
func BenchmarkSplitSyslog(b *testing.B) {
	var stream []byte
	lines := benchLines(1000)
	for i, l := range lines {
		if i%2 == 0 {
			stream = strconv.AppendInt(stream, int64(len(l)), 10)
			stream = append(stream, ' ')
			stream = append(stream, l...)
		} else {
			stream = append(append(stream, l...), '\n')
		}
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(stream)))
	for b.Loop() {
		sc := bufio.NewScanner(bytes.NewReader(stream))
		sc.Buffer(make([]byte, 0, 64<<10), MaxFrame+16)
		sc.Split(SplitSyslog)
		n := 0
		for sc.Scan() {
			n++
		}
		if sc.Err() != nil || n != len(lines) {
			b.Fatalf("%d frames, err %v", n, sc.Err())
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(lines)), "ns/msg")
}
