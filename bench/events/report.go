package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// Scenario names run.sh records.
const (
	scenHTTP          = "http"
	scenSyslog        = "syslog"
	scenCeilingSQLite = "ceiling:sqlite3 .import"
	scenCeilingPG     = "ceiling:psql \\copy"
	scenRsyslog       = "peer:rsyslog"
	scenLatency       = "latency"
)

func runReport(args []string) error {
	fs := flag.NewFlagSet("report", flag.ExitOnError)
	path := fs.String("json", "", "results (JSON lines)")
	fs.Parse(args)
	return writeReport(os.Stdout, *path)
}

func readResults(path string) ([]result, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var rs []result
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var r result
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("%s line %d: %w", path, line, err)
		}
		rs = append(rs, r)
	}
	return rs, sc.Err()
}

// writeReport prints the Markdown tables of a run: each ingest measurement with its
// peer's figure and the ratio medguard ÷ peer; the alert latency per engine and rate.
func writeReport(w io.Writer, path string) error {
	rs, err := readResults(path)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := writeIngest(w, rs); err != nil {
		return err
	}
	return writeLatency(w, rs)
}

// writeIngest prints the ingest table (nothing when the run measured no ingest).
func writeIngest(w io.Writer, rs []result) error {
	find := func(label, scen string) (result, bool) {
		for _, r := range rs {
			if r.Label == label && r.Scenario == scen {
				return r, true
			}
		}
		return result{}, false
	}
	if !slices.ContainsFunc(rs, func(r result) bool { return r.Scenario == scenHTTP || r.Scenario == scenSyslog }) {
		return nil
	}
	fmt.Fprintln(w, "| engine | path | events sent | stored | seconds | medguard events/s | per CPU-s | peer | peer events/s | per CPU-s | ratio (wall) | ratio (CPU) |")
	fmt.Fprintln(w, "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: |")
	for _, r := range rs {
		var peer string
		switch r.Scenario {
		case scenHTTP:
			peer = scenCeilingSQLite
			if r.Label == "postgres" {
				peer = scenCeilingPG
			}
		case scenSyslog:
			peer = scenRsyslog
		default:
			continue
		}
		p, ok := find(r.Label, peer)
		if !ok {
			p, ok = find("-", peer)
		}
		ps, pr, pc, ratio, cratio := "-", "-", "-", "-", "-"
		if ok {
			ps, pr, pc = strings.TrimPrefix(strings.TrimPrefix(peer, "ceiling:"), "peer:"), fmt.Sprintf("%.0f", p.Rate), num(p.PerCPU)
			if p.Rate > 0 {
				ratio = fmt.Sprintf("%.2f", r.Rate/p.Rate)
			}
			if p.PerCPU > 0 && r.PerCPU > 0 {
				cratio = fmt.Sprintf("%.2f", r.PerCPU/p.PerCPU)
			}
		}
		fmt.Fprintf(w, "| %s | %s | %d | %d | %.1f | %.0f | %s | %s | %s | %s | %s | %s |\n", r.Label, r.Scenario, r.Events, r.Stored,
			r.Seconds, r.Rate, num(r.PerCPU), ps, pr, pc, ratio, cratio)
	}
	return nil
}

func num(v float64) string {
	if v <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f", v)
}

// writeLatency prints the latency table: per engine and offered rate, the rate achieved,
// the triggers and their alerts, and the delays in milliseconds from the sending of a
// trigger's batch to its acknowledgement, to its alert (polled) and to its webhook.
func writeLatency(w io.Writer, rs []result) error {
	if !slices.ContainsFunc(rs, func(r result) bool { return r.Scenario == scenLatency }) {
		return nil
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| engine | offered ev/s | achieved ev/s | sustained | triggers | alerts | ack p50/p99 ms | alert p50 | p90 | p99 | max | ack→alert p50/p99 | webhook p50 | p90 | p99 | max | poll ms (mean RTT) |")
	fmt.Fprintln(w, "| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	ms := func(v float64) string { return fmt.Sprintf("%.0f", v) }
	for _, r := range rs {
		if r.Scenario != scenLatency {
			continue
		}
		sus := "yes"
		if !r.Sustained {
			sus = fmt.Sprintf("no (lag %.0f ms)", r.MaxLagMs)
		}
		alerts := fmt.Sprintf("%d", r.Alerts)
		if r.Duplicates > 0 {
			alerts += fmt.Sprintf(" (+%d dup)", r.Duplicates)
		}
		ack, ackAlert := "-", "-"
		if r.Ack != nil {
			ack = ms(r.Ack.P50) + " / " + ms(r.Ack.P99)
		}
		if r.AckToAlert != nil {
			ackAlert = ms(r.AckToAlert.P50) + " / " + ms(r.AckToAlert.P99)
		}
		al := []string{"-", "-", "-", "-"}
		if a := r.Alert; a != nil {
			al = []string{ms(a.P50), ms(a.P90), ms(a.P99), ms(a.Max)}
			if a.N < r.Triggers {
				al[3] += fmt.Sprintf(" (%d unseen)", r.Triggers-a.N)
			}
		}
		hk := []string{"-", "-", "-", "-"}
		if h := r.Hook; h != nil {
			hk = []string{ms(h.P50), ms(h.P90), ms(h.P99), ms(h.Max)}
			if r.MissingHook > 0 {
				hk[3] += fmt.Sprintf(" (%d missing)", r.MissingHook)
			}
		}
		fmt.Fprintf(w, "| %s | %.0f | %.0f | %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s (%.1f) |\n", r.Label, r.Offered, r.Rate,
			sus, r.Triggers, alerts, ack, al[0], al[1], al[2], al[3], ackAlert, hk[0], hk[1], hk[2], hk[3], ms(r.PollMs), r.PollRTTMs)
	}
	return nil
}
