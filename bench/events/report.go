package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// Scenario names run.sh records.
const (
	scenHTTP          = "http"
	scenSyslog        = "syslog"
	scenCeilingSQLite = "ceiling:sqlite3 .import"
	scenCeilingPG     = "ceiling:psql \\copy"
	scenRsyslog       = "peer:rsyslog"
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

// writeReport prints one Markdown table: each medguard measurement with its peer's
// figure and the ratio medguard ÷ peer.
func writeReport(w io.Writer, path string) error {
	rs, err := readResults(path)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	find := func(label, scen string) (result, bool) {
		for _, r := range rs {
			if r.Label == label && r.Scenario == scen {
				return r, true
			}
		}
		return result{}, false
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
