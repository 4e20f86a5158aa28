package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/events"
)

func TestPercentile(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		var ds []time.Duration
		for _, x := range v {
			ds = append(ds, time.Duration(x)*time.Millisecond)
		}
		return ds
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	tests := []struct {
		name string
		ds   []time.Duration
		p    float64
		want time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one", ms(7), 99, 7 * time.Millisecond},
		{"median of four is the second (nearest rank)", ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{"p99 of 100 is the 99th", ms(hundred...), 99, 99 * time.Millisecond},
		{"p90 of 100 is the 90th", ms(hundred...), 90, 90 * time.Millisecond},
		{"p99 of 50 is the largest", ms(hundred[:50]...), 99, 50 * time.Millisecond},
		{"p100 is the largest", ms(hundred...), 100, 100 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := percentile(tt.ds, tt.p); got != tt.want {
				t.Errorf("percentile(%d values, %v) = %v, want %v", len(tt.ds), tt.p, got, tt.want)
			}
		})
	}
	s := summarize(ms(30, 10, 20))
	if s.N != 3 || s.P50 != 20 || s.Max != 30 {
		t.Errorf("summarize = %+v, want n 3, p50 20, max 30 (sorted first)", s)
	}
}

// TestLoadSim: the replay leaves out the injected misuse, keeps the simulated times in
// its first round (the encounters explain them), and gives every event of a later round
// a new id and a time moved on by whole weeks, counting them.
func TestLoadSim(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.FixedZone("CST", 8*3600))
	var buf bytes.Buffer
	for i, id := range []string{"E-2", "E-1", "BAD-1", "E-3"} {
		e := events.Event{ID: id, Time: t0.Add(time.Duration(i) * time.Minute), System: "HIS", Account: "a", Action: "view"}
		if id == "E-2" {
			e.Time = t0.Add(10 * time.Minute) // out of order in the file
		}
		b, _ := json.Marshal(e)
		buf.Write(append(b, '\n'))
	}
	if err := os.WriteFile(filepath.Join(dir, "events.ndjson"), buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	truth := `{"days": 14, "scenarios": [{"kind": "x", "event_ids": ["BAD-1"]}]}`
	if err := os.WriteFile(filepath.Join(dir, "truth.json"), []byte(truth), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := loadSim(dir, "r")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for n := range 6 {
		e := s.at(n)
		ids = append(ids, e.ID)
		want := s.evs[n%3].Time
		if n >= 3 {
			want = want.Add(14 * 24 * time.Hour)
		}
		if !e.Time.Equal(want) {
			t.Errorf("event %d at %v, want %v", n, e.Time, want)
		}
	}
	if got, want := strings.Join(ids, " "), "r-0-E-1 r-0-E-3 r-0-E-2 r-1-E-1 r-1-E-3 r-1-E-2"; got != want {
		t.Errorf("ids %q, want %q (time order, injected left out, unique per round)", got, want)
	}
	if s.wrapped != 3 {
		t.Errorf("wrapped = %d, want 3", s.wrapped)
	}
	if _, err := loadSim(t.TempDir(), "r"); err == nil {
		t.Error("loadSim of an empty directory: no error")
	}
}

// TestLatencyReport: the report prints the latency table with its figures, flags a rate
// not sustained, and lost or doubled alerts.
func TestLatencyReport(t *testing.T) {
	path := filepath.Join(t.TempDir(), "results.jsonl")
	var buf bytes.Buffer
	for _, r := range []result{
		{Label: "sqlite", Scenario: scenLatency, Offered: 5000, Rate: 5010, Sustained: true, Triggers: 100, Alerts: 100,
			Ack: &latency{N: 100, P50: 30, P99: 80}, Alert: &latency{N: 100, P50: 160, P90: 260, P99: 701, Max: 802},
			AckToAlert: &latency{N: 100, P50: 120, P99: 670},
			Hook:       &latency{N: 100, P50: 593, P90: 1035, P99: 1671, Max: 1771}, PollMs: 10, PollRTTMs: 0.3},
		{Label: "postgres", Scenario: scenLatency, Offered: 50000, Rate: 12000, MaxLagMs: 9000, Triggers: 100, Alerts: 99, Duplicates: 1,
			Alert: &latency{N: 98, P50: 1, P90: 2, P99: 3, Max: 4}, PollMs: 10},
	} {
		b, _ := json.Marshal(r)
		buf.Write(append(b, '\n'))
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := writeReport(&out, path); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{
		"| sqlite | 5000 | 5010 | yes | 100 | 100 | 30 / 80 | 160 | 260 | 701 | 802 | 120 / 670 | 593 | 1035 | 1671 | 1771 | 10 (0.3) |",
		"| postgres | 50000 | 12000 | no (lag 9000 ms) | 100 | 99 (+1 dup) | - | 1 | 2 | 3 | 4 (2 unseen) | - | - | - | - | - |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "| engine | path |") {
		t.Errorf("report prints the ingest table without ingest results:\n%s", got)
	}
}
