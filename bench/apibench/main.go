// Command apibench is a closed-loop HTTP load generator for medguard's asset inventory
// API, used by bench/run.sh. It runs a fixed set of GET scenarios (asset list first
// page, filtered list, deep page, dashboard) once per API token, each for a fixed
// duration after a warm-up, over keep-alive connections to 127.0.0.1 only, and prints
// requests/s and latency percentiles as JSON lines and as a table.
//
// With -ceiling it instead measures the database's own speed for the asset list's first
// page: the same COUNT and page SELECT the API runs for a user's scope, issued in a
// tight loop by -c goroutines straight through database/sql (modernc SQLite opened
// read-only, or pgx), with no HTTP, JSON or authentication.
//
// Usage:
//
//	apibench -url http://127.0.0.1:8080 -token admin=@admin.tok -token secofficer=@sec.tok [-c 16] [-d 10s] [-warmup 2s]
//	apibench -ceiling sqlite:/path/medguard.db -scope-user admin [-c 16] [-d 10s]
//	apibench -ceiling postgres://user@127.0.0.1:5432/db -scope-user admin
//
// A token value starting with @ is read from that file. Every run stops by itself: each
// scenario lasts -warmup plus -d, and each request times out after -timeout.
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx" for -ceiling postgres://
	_ "modernc.org/sqlite"             // database/sql driver "sqlite" for -ceiling sqlite:
)

// serverPID and dbPID name the processes whose CPU time is charged to the requests.
var serverPID, dbPID int

// cpuTime returns the CPU time used so far by the server and, with -db-pid, the
// PostgreSQL postmaster, its children and its reaped children; 0 when not measured.
func cpuTime() time.Duration {
	if serverPID == 0 {
		return 0
	}
	ticks := procTicks(serverPID, false)
	if dbPID != 0 {
		ticks += procTicks(dbPID, true)
		entries, _ := os.ReadDir("/proc")
		for _, e := range entries {
			pid, err := strconv.Atoi(e.Name())
			if err != nil || pid == dbPID {
				continue
			}
			if f := procStat(pid); len(f) > 2 && f[1] == strconv.Itoa(dbPID) {
				ticks += procTicks(pid, false)
			}
		}
	}
	return time.Duration(ticks) * time.Second / 100 // USER_HZ is 100 on Linux
}

// procStat returns the fields of /proc/PID/stat after the command name: state, ppid, ...
func procStat(pid int) []string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+1:]
	}
	return strings.Fields(s)
}

// procTicks is utime+stime of pid (and cutime+cstime with children) in clock ticks.
func procTicks(pid int, children bool) int64 {
	f := procStat(pid)
	if len(f) < 15 {
		return 0
	}
	var n int64
	idx := []int{11, 12} // utime, stime (fields 14, 15 of stat)
	if children {
		idx = append(idx, 13, 14)
	}
	for _, i := range idx {
		v, _ := strconv.ParseInt(f[i], 10, 64)
		n += v
	}
	return n
}

// scenario is one GET request repeated for the duration of a measurement.
type scenario struct {
	Name string
	Path string // path and query, appended to -url
}

// scenarios are the requests measured, in order.
var scenarios = []scenario{
	{"list_first_page", "/api/v1/assets?per_page=50"},
	{"list_filtered", "/api/v1/assets?q=PACS&zone=medical&per_page=50"},
	{"list_deep_page", "/api/v1/assets?page=500&per_page=50&sort=-updated_at"},
	{"dashboard", "/api/v1/dashboard"},
}

// result is the outcome of one scenario for one user; it is printed as a JSON line.
type result struct {
	Label      string  `json:"label,omitempty"`
	Scenario   string  `json:"scenario"`
	User       string  `json:"user"`
	Path       string  `json:"path,omitempty"`
	Conc       int     `json:"concurrency"`
	Seconds    float64 `json:"seconds"`
	Requests   int     `json:"requests"`
	Errors     int     `json:"errors"`
	RPS        float64 `json:"rps"`
	P50ms      float64 `json:"p50_ms"`
	P90ms      float64 `json:"p90_ms"`
	P99ms      float64 `json:"p99_ms"`
	MaxMs      float64 `json:"max_ms"`
	BodyBytes  int64   `json:"body_bytes_avg,omitempty"`
	Total      int     `json:"total,omitempty"`                 // "total" of the list response checked before timing
	Items      int     `json:"items,omitempty"`                 // items on that page
	CPUms      float64 `json:"server_cpu_ms_per_req,omitempty"` // -server-pid (+ -db-pid): CPU time per request
	FirstError string  `json:"first_error,omitempty"`
	Version    string  `json:"engine_version,omitempty"` // -ceiling: the database's own version
}

// tokenFlag collects repeated -token label=TOKEN (or label=@file) values.
type tokenFlag struct {
	labels, tokens []string
}

func (t *tokenFlag) String() string { return strings.Join(t.labels, ",") }

func (t *tokenFlag) Set(v string) error {
	label, tok, ok := strings.Cut(v, "=")
	if !ok {
		label, tok = fmt.Sprintf("user%d", len(t.labels)+1), v
	}
	if strings.HasPrefix(tok, "@") {
		b, err := os.ReadFile(tok[1:])
		if err != nil {
			return fmt.Errorf("read token file: %w", err)
		}
		tok = strings.TrimSpace(string(b))
	}
	if tok == "" {
		return errors.New("empty token")
	}
	t.labels, t.tokens = append(t.labels, label), append(t.tokens, tok)
	return nil
}

func main() {
	var tokens tokenFlag
	base := flag.String("url", "", "base URL of the medguard server, http://127.0.0.1:PORT (loopback only)")
	flag.Var(&tokens, "token", "API token as label=TOKEN or label=@file (repeat for several users)")
	conc := flag.Int("c", 16, "concurrency: connections/workers, each with one request in flight")
	dur := flag.Duration("d", 10*time.Second, "measured duration per scenario")
	warm := flag.Duration("warmup", 2*time.Second, "unmeasured warm-up per scenario")
	timeout := flag.Duration("timeout", 30*time.Second, "timeout of one request")
	only := flag.String("scenarios", "", "comma-separated scenario names to run (default all)")
	label := flag.String("label", "", "label copied into every JSON line (e.g. the engine)")
	jsonOut := flag.String("json", "", "also append the JSON lines to this file")
	ceiling := flag.String("ceiling", "", "measure the database ceiling instead: sqlite:/path/file.db or postgres://...")
	scopeUser := flag.String("scope-user", "admin", "with -ceiling: user whose organisation scope the SQL uses")
	flag.IntVar(&serverPID, "server-pid", 0, "process id of the medguard server: report its CPU time per request")
	flag.IntVar(&dbPID, "db-pid", 0, "process id of the PostgreSQL postmaster: add its and its children's CPU time")
	explainTarget := flag.String("explain", "", "print query plans and single-run timings of each scenario's SQL on sqlite:/path or postgres://... and exit")
	report := flag.String("report", "", "print a Markdown report of this JSON-lines results file and exit")
	flag.Parse()
	if *explainTarget != "" {
		if err := explain(os.Stdout, *explainTarget, *scopeUser); err != nil {
			fatal(err.Error())
		}
		return
	}
	if *report != "" {
		if err := writeReport(os.Stdout, *report); err != nil {
			fatal(err.Error())
		}
		return
	}
	if *conc < 1 || *conc > 1024 || *dur <= 0 || *dur > time.Hour || *warm < 0 || *warm > time.Hour {
		fatal("bad -c, -d or -warmup")
	}
	var results []result
	if *ceiling != "" {
		r, err := runCeiling(*ceiling, *scopeUser, *conc, *warm, *dur)
		if err != nil {
			fatal(err.Error())
		}
		r.Label = *label
		results = append(results, r)
		emit(r, *jsonOut)
	} else {
		if len(tokens.tokens) == 0 {
			fatal("give at least one -token")
		}
		u, err := checkURL(*base)
		if err != nil {
			fatal(err.Error())
		}
		client := newClient(*conc, *timeout)
		for _, sc := range scenarios {
			if *only != "" && !slices.Contains(strings.Split(*only, ","), sc.Name) {
				continue
			}
			for i, tok := range tokens.tokens {
				r := runHTTP(client, u+sc.Path, tok, *conc, *warm, *dur)
				r.Label, r.Scenario, r.User, r.Path = *label, sc.Name, tokens.labels[i], sc.Path
				results = append(results, r)
				emit(r, *jsonOut)
			}
		}
		client.CloseIdleConnections()
	}
	printTable(os.Stdout, results)
}

func fatal(msg string) {
	fmt.Fprintln(os.Stderr, "apibench:", msg)
	os.Exit(2)
}

// checkURL accepts only plain HTTP to 127.0.0.1 and returns the base without a
// trailing slash.
func checkURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("bad -url: %w", err)
	}
	if u.Scheme != "http" || u.Hostname() != "127.0.0.1" || u.Port() == "" || u.User != nil || u.RawQuery != "" {
		return "", fmt.Errorf("-url must be http://127.0.0.1:PORT (load tests target loopback only), not %q", raw)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// newClient returns a keep-alive client that dials 127.0.0.1 only and never follows
// redirects.
func newClient(conc int, timeout time.Duration) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	tr := &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, _, err := net.SplitHostPort(addr)
			if err != nil || host != "127.0.0.1" {
				return nil, fmt.Errorf("apibench: refusing to connect to %q: loopback only", addr)
			}
			return d.DialContext(ctx, network, addr)
		},
		MaxIdleConns:        conc * 2,
		MaxIdleConnsPerHost: conc * 2,
		MaxConnsPerHost:     conc,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}
	return &http.Client{Transport: tr, Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// probe issues one request and reports the list total and item count when the answer
// is a list page, so that the results show what each scenario really selects.
func probe(client *http.Client, target, token string) (total, items int, err error) {
	req, err := http.NewRequest(http.MethodGet, target, nil)
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, 0, fmt.Errorf("HTTP %d: %.200s", resp.StatusCode, body)
	}
	var page struct {
		Total int               `json:"total"`
		Items []json.RawMessage `json:"items"`
	}
	_ = json.Unmarshal(body, &page) // the dashboard is not a page: zeros
	return page.Total, len(page.Items), nil
}

// runHTTP measures one scenario: conc workers each send GET target back to back.
func runHTTP(client *http.Client, target, token string, conc int, warm, dur time.Duration) result {
	r := result{Conc: conc}
	total, items, err := probe(client, target, token)
	if err != nil {
		r.FirstError = err.Error()
	}
	r.Total, r.Items = total, items
	var measuring atomic.Bool
	var firstErr atomic.Value
	var bytes atomic.Int64
	lat := make([][]time.Duration, conc)
	errs := make([]int, conc)
	ctx, cancel := context.WithTimeout(context.Background(), warm+dur)
	defer cancel()
	var wg sync.WaitGroup
	var cpu0 atomic.Int64
	timer := time.AfterFunc(warm, func() { cpu0.Store(int64(cpuTime())); measuring.Store(true) })
	defer timer.Stop()
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
				req.Header.Set("Authorization", "Bearer "+token)
				t0 := time.Now()
				resp, err := client.Do(req)
				ok := err == nil && resp.StatusCode == http.StatusOK
				var n int64
				if err == nil {
					n, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					ok = ok && err == nil
				}
				el := time.Since(t0)
				if ctx.Err() != nil {
					return // cut off by the end of the run: not counted
				}
				if !measuring.Load() {
					continue
				}
				lat[w] = append(lat[w], el)
				bytes.Add(n)
				if !ok {
					errs[w]++
					if err == nil {
						err = fmt.Errorf("HTTP %d", resp.StatusCode)
					}
					firstErr.CompareAndSwap(nil, err.Error())
				}
			}
		}(w)
	}
	<-ctx.Done()
	cpu1 := cpuTime()
	wg.Wait()
	// Requests still in flight at the end are not counted: the window is exactly dur.
	elapsed := dur
	var all []time.Duration
	for w := range lat {
		all = append(all, lat[w]...)
		r.Errors += errs[w]
	}
	if e, ok := firstErr.Load().(string); ok && r.FirstError == "" {
		r.FirstError = e
	}
	fill(&r, all, elapsed)
	if r.Requests > 0 {
		r.BodyBytes = bytes.Load() / int64(r.Requests)
		if serverPID != 0 {
			r.CPUms = round(float64(cpu1-time.Duration(cpu0.Load()))/float64(time.Millisecond)/float64(r.Requests), 2)
		}
	}
	return r
}

// fill sets the request count, rate and percentiles from the latencies.
func fill(r *result, all []time.Duration, elapsed time.Duration) {
	slices.Sort(all)
	r.Requests = len(all)
	r.Seconds = round(elapsed.Seconds(), 3)
	if len(all) == 0 {
		return
	}
	r.RPS = round(float64(len(all))/elapsed.Seconds(), 1)
	pct := func(p float64) float64 {
		i := int(p*float64(len(all))+0.5) - 1
		i = max(0, min(i, len(all)-1))
		return ms(all[i])
	}
	r.P50ms, r.P90ms, r.P99ms, r.MaxMs = pct(0.50), pct(0.90), pct(0.99), ms(all[len(all)-1])
}

func ms(d time.Duration) float64 { return round(float64(d)/float64(time.Millisecond), 2) }

func round(x float64, places int) float64 {
	p := 1.0
	for range places {
		p *= 10
	}
	return float64(int64(x*p+0.5)) / p
}

func emit(r result, path string) {
	b, _ := json.Marshal(r)
	fmt.Println(string(b))
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		fatal(err.Error())
	}
	defer f.Close()
	fmt.Fprintln(f, string(b))
}

func printTable(w io.Writer, rs []result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tuser\treq/s\tp50 ms\tp90 ms\tp99 ms\tmax ms\terrors\ttotal\titems\t")
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%s\t%.1f\t%.2f\t%.2f\t%.2f\t%.2f\t%d\t%d\t%d\t\n",
			r.Scenario, r.User, r.RPS, r.P50ms, r.P90ms, r.P99ms, r.MaxMs, r.Errors, r.Total, r.Items)
	}
	tw.Flush()
}

// The asset list's first page for a scope, exactly as asset.Service.List builds it for
// a query with no filters and the default sort (name).
const (
	ceilingCount  = `SELECT COUNT(*) FROM assets a WHERE a.org_id IN (SELECT id FROM orgs WHERE path LIKE %s ESCAPE '\')`
	ceilingSelect = `SELECT a.id, a.org_id, o.name, o.path, a.code, a.name, a.kind, a.subtype, a.owner, a.location, a.zone,
	a.mlps_level, a.ip, a.mac, a.vendor, a.model, a.serial, a.lifecycle, a.procured_on, a.in_service_on,
	a.retired_on, a.tags, a.notes, a.version, a.created_at, a.updated_at FROM assets a JOIN orgs o ON o.id = a.org_id
	WHERE a.org_id IN (SELECT id FROM orgs WHERE path LIKE %s ESCAPE '\') ORDER BY a.name, a.id LIMIT 50 OFFSET 0`
	// The same for a scope that covers every organisation.
	ceilingCountAll  = `SELECT COUNT(*) FROM assets a`
	ceilingSelectAll = `SELECT a.id, a.org_id, o.name, o.path, a.code, a.name, a.kind, a.subtype, a.owner, a.location, a.zone,
	a.mlps_level, a.ip, a.mac, a.vendor, a.model, a.serial, a.lifecycle, a.procured_on, a.in_service_on,
	a.retired_on, a.tags, a.notes, a.version, a.created_at, a.updated_at FROM assets a JOIN orgs o ON o.id = a.org_id
	ORDER BY a.name, a.id LIMIT 50 OFFSET 0`
)

// openTarget opens sqlite:/path (read-only) or a postgres:// URL on 127.0.0.1 and
// returns the placeholder for the first parameter.
func openTarget(target string) (*sql.DB, string, error) {
	switch {
	case strings.HasPrefix(target, "sqlite:"):
		path := strings.TrimPrefix(target, "sqlite:")
		if _, err := os.Stat(path); err != nil {
			return nil, "", fmt.Errorf("sqlite file: %w", err)
		}
		db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(10000)")
		if err != nil {
			return nil, "", fmt.Errorf("open: %w", err)
		}
		return db, "?", nil
	case strings.HasPrefix(target, "postgres://"), strings.HasPrefix(target, "postgresql://"):
		u, err := url.Parse(target)
		if err != nil || (u.Hostname() != "127.0.0.1" && u.Hostname() != "localhost") {
			return nil, "", errors.New("the postgres URL must point at 127.0.0.1")
		}
		db, err := sql.Open("pgx", target)
		if err != nil {
			return nil, "", fmt.Errorf("open: %w", err)
		}
		return db, "$1", nil
	}
	return nil, "", errors.New("target must be sqlite:/path or a postgres:// URL")
}

// runCeiling measures COUNT + first-page SELECT per iteration straight on the database.
func runCeiling(target, user string, conc int, warm, dur time.Duration) (result, error) {
	r := result{Scenario: peerCeiling + "list_first_page", User: user, Conc: conc}
	db, ph, err := openTarget(target)
	if err != nil {
		return r, err
	}
	defer db.Close()
	r.Path = strings.SplitN(target, ":", 2)[0]
	db.SetMaxOpenConns(conc)
	db.SetMaxIdleConns(conc)
	ctx := context.Background()
	verQ := `SELECT sqlite_version()`
	if ph != "?" {
		verQ = `SHOW server_version`
	}
	if err := db.QueryRowContext(ctx, verQ).Scan(&r.Version); err != nil {
		return r, fmt.Errorf("engine version: %w", err)
	}
	scope, err := scopeOf(ctx, db, ph, user)
	if err != nil {
		return r, err
	}
	countQ, selectQ := fmt.Sprintf(ceilingCount, ph), fmt.Sprintf(ceilingSelect, ph)
	args := []any{scope}
	// Like asset.Service.List, a scope that covers every organisation gets no condition.
	var outside bool
	if err := db.QueryRowContext(ctx, fmt.Sprintf(`SELECT EXISTS (SELECT 1 FROM orgs WHERE path NOT LIKE %s ESCAPE '\')`, ph), scope).Scan(&outside); err != nil {
		return r, fmt.Errorf("scope check: %w", err)
	}
	if !outside {
		countQ, selectQ, args = ceilingCountAll, ceilingSelectAll, nil
	}
	once := func(ctx context.Context) (int, int, error) {
		var total int
		if err := db.QueryRowContext(ctx, countQ, args...).Scan(&total); err != nil {
			return 0, 0, err
		}
		rows, err := db.QueryContext(ctx, selectQ, args...)
		if err != nil {
			return 0, 0, err
		}
		defer rows.Close()
		n := 0
		vals := make([]any, 26)
		ptrs := make([]any, 26)
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				return 0, 0, err
			}
			n++
		}
		return total, n, rows.Err()
	}
	if r.Total, r.Items, err = once(ctx); err != nil {
		return r, fmt.Errorf("ceiling query: %w", err)
	}
	var measuring atomic.Bool
	var firstErr atomic.Value
	lat := make([][]time.Duration, conc)
	errs := make([]int, conc)
	rctx, cancel := context.WithTimeout(ctx, warm+dur)
	defer cancel()
	if serverPID == 0 {
		serverPID = os.Getpid() // the SQL runs in this process (SQLite) or is sent from it
	}
	var cpu0 atomic.Int64
	timer := time.AfterFunc(warm, func() { cpu0.Store(int64(cpuTime())); measuring.Store(true) })
	defer timer.Stop()
	var wg sync.WaitGroup
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for rctx.Err() == nil {
				t0 := time.Now()
				_, _, err := once(rctx)
				el := time.Since(t0)
				if rctx.Err() != nil {
					return
				}
				if !measuring.Load() {
					continue
				}
				lat[w] = append(lat[w], el)
				if err != nil {
					errs[w]++
					firstErr.CompareAndSwap(nil, err.Error())
				}
			}
		}(w)
	}
	<-rctx.Done()
	cpu1 := cpuTime()
	wg.Wait()
	elapsed := dur // in-flight iterations cut off at the end are not counted
	var all []time.Duration
	for w := range lat {
		all = append(all, lat[w]...)
		r.Errors += errs[w]
	}
	if e, ok := firstErr.Load().(string); ok {
		r.FirstError = e
	}
	fill(&r, all, elapsed)
	if r.Requests > 0 {
		r.CPUms = round(float64(cpu1-time.Duration(cpu0.Load()))/float64(time.Millisecond)/float64(r.Requests), 2)
	}
	return r, nil
}
