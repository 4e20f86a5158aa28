package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

// Scenario name prefixes of the peer measurements run.sh appends to the results file.
const (
	peerWrk     = "wrk:"     // wrk against the same URL
	peerPgbench = "pgbench:" // pgbench running the list's SQL
	peerCeiling = "ceiling:" // apibench -ceiling: the list's SQL from Go
	seedName    = "seed"     // seeding time: Seconds, Total = assets
)

// writeReport prints Markdown tables of the JSON-lines results in path: one table per
// engine, the peer ratios and the SQLite ÷ PostgreSQL ratios.
func writeReport(w io.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	defer f.Close()
	var rs []result
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for line := 1; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var r result
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return fmt.Errorf("report: %s line %d: %w", path, line, err)
		}
		rs = append(rs, r)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	var engines []string
	find := func(label, scen, user string) (result, bool) {
		for _, r := range rs {
			if r.Label == label && r.Scenario == scen && (user == "" || r.User == user) {
				return r, true
			}
		}
		return result{}, false
	}
	for _, r := range rs {
		if !contains(engines, r.Label) {
			engines = append(engines, r.Label)
		}
	}
	for _, eng := range engines {
		fmt.Fprintf(w, "#### %s\n\n", eng)
		if s, ok := find(eng, seedName, ""); ok {
			fmt.Fprintf(w, "Seeding %d assets (`medguard demo --seed-only`): %.1f s (%.0f assets/s).\n\n", s.Total, s.Seconds, float64(s.Total)/s.Seconds)
		}
		fmt.Fprintln(w, "| scenario | user | rows matched | req/s | p50 ms | p90 ms | p99 ms | max ms | errors | CPU ms/req |")
		fmt.Fprintln(w, "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|")
		for _, r := range rs {
			if r.Label != eng || r.Scenario == seedName {
				continue
			}
			total := "—"
			if r.Total > 0 {
				total = fmt.Sprint(r.Total)
			}
			fmt.Fprintf(w, "| %s | %s | %s | %.1f | %.1f | %s | %.1f | %s | %d | %s |\n", r.Scenario, r.User, total, r.RPS,
				r.P50ms, opt(r.P90ms), r.P99ms, opt(r.MaxMs), r.Errors, opt(r.CPUms))
		}
		fmt.Fprintln(w)
	}

	fmt.Fprintln(w, "#### Peers: wrk cross-check and database ceilings (asset list, first page)")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| engine | user | apibench req/s | wrk req/s | apibench ÷ wrk | apibench p50 / p99 ms | wrk p50 / p99 ms | pgbench tps | medguard ÷ pgbench | Go SQL loop/s | medguard ÷ Go SQL loop |")
	fmt.Fprintln(w, "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
	for _, eng := range engines {
		for _, r := range rs {
			if r.Label != eng || r.Scenario != "list_first_page" {
				continue
			}
			row := []string{eng, r.User, fmt.Sprintf("%.1f", r.RPS), "—", "—", fmt.Sprintf("%.1f / %.1f", r.P50ms, r.P99ms), "—", "—", "—", "—", "—"}
			if p, ok := find(eng, peerWrk+"list_first_page", r.User); ok {
				row[3], row[4], row[6] = fmt.Sprintf("%.1f", p.RPS), ratio(r.RPS, p.RPS), fmt.Sprintf("%.1f / %.1f", p.P50ms, p.P99ms)
			}
			if p, ok := find(eng, peerPgbench+"list_first_page", r.User); ok {
				row[7], row[8] = fmt.Sprintf("%.1f", p.RPS), ratio(r.RPS, p.RPS)
			}
			if p, ok := find(eng, peerCeiling+"list_first_page", r.User); ok {
				row[9], row[10] = fmt.Sprintf("%.1f", p.RPS), ratio(r.RPS, p.RPS)
			}
			fmt.Fprintf(w, "| %s |\n", strings.Join(row, " | "))
		}
	}
	fmt.Fprintln(w)

	if len(engines) >= 2 {
		a, b := engines[0], engines[1]
		fmt.Fprintf(w, "#### %s ÷ %s (req/s ratio; > 1 means %s is faster)\n\n", a, b, a)
		fmt.Fprintf(w, "| scenario | user | %s req/s | %s req/s | ratio | %s p50 ms | %s p50 ms |\n", a, b, a, b)
		fmt.Fprintln(w, "|---|---|--:|--:|--:|--:|--:|")
		for _, r := range rs {
			if r.Label != a || r.Scenario == seedName || strings.Contains(r.Scenario, ":") {
				continue
			}
			if o, ok := find(b, r.Scenario, r.User); ok {
				fmt.Fprintf(w, "| %s | %s | %.1f | %.1f | %s | %.1f | %.1f |\n", r.Scenario, r.User, r.RPS, o.RPS, ratio(r.RPS, o.RPS), r.P50ms, o.P50ms)
			}
		}
		if sa, ok := find(a, seedName, ""); ok {
			if sb, ok := find(b, seedName, ""); ok {
				fmt.Fprintf(w, "| seeding (assets/s) | — | %.0f | %.0f | %s | | |\n", float64(sa.Total)/sa.Seconds,
					float64(sb.Total)/sb.Seconds, ratio(float64(sa.Total)/sa.Seconds, float64(sb.Total)/sb.Seconds))
			}
		}
		fmt.Fprintln(w)
	}
	return nil
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func ratio(a, b float64) string {
	if b == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f", a/b)
}

func opt(v float64) string {
	if v == 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f", v)
}
