package syslogd_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/events"
	"github.com/medguard/medguard/internal/events/syslogd"
)

// countingAppender stores nothing: it counts the events and tells done when want have
// been appended, so that a benchmark measures the listener alone.
type countingAppender struct {
	n     atomic.Int64
	want  atomic.Int64
	done  chan struct{}
	calls atomic.Int64
}

func (c *countingAppender) Append(_ context.Context, _ int64, evs []events.Event) (events.Result, error) {
	c.calls.Add(1)
	if n := c.n.Add(int64(len(evs))); n == c.want.Load() {
		c.done <- struct{}{}
	}
	return events.Result{Accepted: len(evs)}, nil
}

// benchStreams builds conns streams of per messages each: even connections send RFC 5424
// with the JSON payload of bench/events, octet-counted; odd ones RFC 3164 with key=value
// pairs, newline-framed.
func benchStreams(conns, per int) [][]byte {
	base := time.Date(2026, 2, 28, 8, 0, 0, 0, time.UTC)
	streams := make([][]byte, conns)
	for c := range conns {
		var b []byte
		for i := c * per; i < (c+1)*per; i++ {
			acct := i % 2000
			if c%2 == 0 {
				e := events.Event{ID: fmt.Sprintf("s-%d", i), Time: base.Add(time.Duration(i) * 10 * time.Millisecond), System: "EMR",
					Account: fmt.Sprintf("u%04d", acct), StaffID: fmt.Sprintf("S%05d", acct), Department: fmt.Sprintf("D%02d", acct%40),
					Action: "view", PatientID: fmt.Sprintf("P%07d", i*7919%100000), RecordType: "emr", RecordCount: 1,
					SourceIP: fmt.Sprintf("10.%d.%d.%d", acct%8, acct/8%256, 10+acct%200), Terminal: fmt.Sprintf("WS-%04d", acct)}
				payload, _ := json.Marshal(e)
				m := fmt.Sprintf("<110>1 %s his-app-01 %s - - - %s", e.Time.Format("2006-01-02T15:04:05.000Z"), e.System, payload)
				b = strconv.AppendInt(b, int64(len(m)), 10)
				b = append(append(b, ' '), m...)
			} else {
				b = fmt.Appendf(b, "<38>Feb 28 08:15:30 his01 HIS[2211]: id=h-%d account=u%04d staff_id=S%05d action=login_failure outcome=failure source_ip=10.9.%d.%d terminal=\"WS %d\"\n",
					i, acct, acct, acct%256, 10+acct%200, acct)
			}
		}
		streams[c] = b
	}
	return streams
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkListenerTCP pushes a stream through the listener over loopback TCP (four
// connections, half RFC 5424 + JSON octet-counted, half RFC 3164 + key=value
// newline-framed) into an appender that only counts. An iteration is 40,000 messages;
// ns/msg is wall time, cpu-ns/msg the process's CPU time (listener and sender) a message.
func BenchmarkListenerTCP(b *testing.B) {
	const conns, per = 4, 10000
	streams := benchStreams(conns, per)
	app := &countingAppender{done: make(chan struct{}, 1)}
	l, err := syslogd.New(app, syslogd.Config{TCP: "127.0.0.1:0", OrgID: 1})
	if err != nil {
		b.Fatal(err)
	}
	if err := l.Listen(); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- l.Serve(ctx) }()
	defer func() {
		cancel()
		<-served
	}()
	addr := l.TCPAddr().String()
	var total int64
	cpu0 := cpuTime()
	b.ResetTimer()
	for range b.N {
		total += conns * per
		app.want.Store(total)
		var wg sync.WaitGroup
		for _, s := range streams {
			wg.Go(func() {
				c, err := net.Dial("tcp", addr)
				if err != nil {
					b.Error(err)
					return
				}
				defer c.Close()
				if _, err := c.Write(s); err != nil {
					b.Error(err)
				}
			})
		}
		wg.Wait()
		<-app.done
	}
	b.StopTimer()
	cpu := cpuTime() - cpu0
	if st := l.Stats(); st.Rejected != 0 || st.Dropped != 0 || int64(st.Stored) != total {
		b.Fatalf("stats %+v, want %d stored", st, total)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(total), "ns/msg")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(total), "cpu-ns/msg")
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "msgs/s")
	b.ReportMetric(float64(total)/float64(app.calls.Load()), "events/append")
}
