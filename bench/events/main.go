// Command eventbench measures medguard's durable ingestion of audit events end to end,
// for bench/events/run.sh: NDJSON batches over HTTP (POST /api/v1/events) and RFC 5424
// syslog over TCP with octet-counting framing, against a `medguard serve` on loopback,
// and the same stream sent to the peers of the same run (rsyslog for syslog; the
// database's own bulk load for HTTP, from a CSV of the same rows this program writes);
// and the alert latency of the live detection: from the sending of an event that a
// built-in rule fires on, amid a simulated hospital's normal stream at a fixed offered
// rate, to its alert (seen in the database or through the API, and received by a
// webhook notification channel).
//
// Subcommands:
//
//	eventbench http   -url URL -token @FILE [-clients 4] [-batch 10000] [-events N] [-label L] [-json FILE]
//	eventbench syslog -addr HOST:PORT [-conns 4] [-events N] -db DB | -file PATH [-label L] [-peer P] [-json FILE]
//	eventbench latency -url URL -token @FILE -api-token @FILE -sim DIR [-rates 5000,10000,…] [-duration 15s]
//	                   [-tick 100ms] [-clients 4] [-poll 10ms] [-db DB] [-hook=true] [-label L] [-json FILE]
//	eventbench count  -db sqlite:PATH | postgres://…
//	eventbench prep   -db sqlite:PATH | postgres://…   (migrate an empty database, print the organisation id)
//	eventbench csv    -out FILE -org ID [-events N] [-engine sqlite|postgres]
//	eventbench timed  -label L -scenario S -events N -json FILE -- COMMAND ARGS…
//	eventbench report -json FILE
//	eventbench freeport   (print a free TCP port of 127.0.0.1)
//
// Every event has a fixed shape drawn from one seeded generator (2,000 accounts, 100,000
// patients, 40 departments, time in order), so that every run and every peer gets the
// same stream. Everything stays on 127.0.0.1 and every step is bounded in time.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	_ "modernc.org/sqlite"             // database/sql driver "sqlite"

	"github.com/medguard/medguard/internal/events"
	"github.com/medguard/medguard/internal/store"
)

// Shape of the generated stream.
const (
	accounts    = 2000
	patients    = 100000
	departments = 40
)

var (
	systems = []string{"HIS", "EMR", "LIS", "PACS", "NIS"}
	// actionMix: patient-record actions dominate a hospital's audit stream.
	actionMix = []string{"view", "view", "view", "view", "view", "view", "search", "search", "modify", "print",
		"create", "prescribe", "login", "logout", "login_failure", "export"}
	base = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
)

// event returns the n-th event of the stream of run (ids unique per run).
func event(run string, n int) events.Event {
	r := rand.New(rand.NewPCG(uint64(n), 0x9e3779b97f4a7c15))
	acct := r.IntN(accounts)
	action := actionMix[r.IntN(len(actionMix))]
	e := events.Event{
		ID:         fmt.Sprintf("%s-%d", run, n),
		Time:       base.Add(time.Duration(n) * 10 * time.Millisecond),
		System:     systems[r.IntN(len(systems))],
		Account:    fmt.Sprintf("u%04d", acct),
		StaffID:    fmt.Sprintf("S%05d", acct),
		Department: fmt.Sprintf("D%02d", acct%departments),
		Action:     action,
		SourceIP:   fmt.Sprintf("10.%d.%d.%d", acct%8, acct/8%256, 10+acct%200),
		Terminal:   fmt.Sprintf("WS-%04d", acct),
	}
	switch action {
	case "login", "logout", "login_failure":
	default:
		e.PatientID = fmt.Sprintf("P%07d", r.IntN(patients))
		e.RecordType = "emr"
		e.RecordCount = 1
	}
	if action == "login_failure" {
		e.Outcome = "failure"
	}
	return e
}

// withRaw gives e the raw original an HTTP sender would attach (the vendor's own line).
func withRaw(e events.Event) events.Event {
	e.Raw = fmt.Sprintf("ts=%s user=%s op=%s pid=%s ws=%s ip=%s", e.Time.Format(time.RFC3339Nano), e.Account, e.Action,
		e.PatientID, e.Terminal, e.SourceIP)
	return e
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: eventbench http|syslog|latency|count|prep|csv|timed|report [flags]")
		os.Exit(2)
	}
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "http":
		err = runHTTP(args)
	case "syslog":
		err = runSyslog(args)
	case "count":
		err = runCount(args)
	case "prep":
		err = runPrep(args)
	case "csv":
		err = runCSV(args)
	case "timed":
		err = runTimed(args)
	case "latency":
		err = runLatency(args)
	case "report":
		err = runReport(args)
	case "freeport":
		err = runFreePort()
	default:
		err = fmt.Errorf("unknown subcommand %q", cmd)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "eventbench:", err)
		os.Exit(1)
	}
}

// result is one measurement, one JSON line of the results file.
type result struct {
	Label    string  `json:"label"`    // sqlite, postgres
	Scenario string  `json:"scenario"` // http, syslog, latency, ceiling:…, peer:rsyslog
	Events   int64   `json:"events"`   // sent
	Stored   int64   `json:"stored"`   // acknowledged (HTTP) or found stored afterwards
	Seconds  float64 `json:"seconds"`
	Rate     float64 `json:"events_per_s"`
	Retries  int64   `json:"retries,omitempty"` // HTTP 429 answers
	// CPUSeconds is the CPU time of the storing processes (server or peer, and the
	// PostgreSQL backends) over the measurement; PerCPU is Stored over it.
	CPUSeconds float64 `json:"cpu_seconds,omitempty"`
	PerCPU     float64 `json:"events_per_cpu_s,omitempty"`
	Note       string  `json:"note,omitempty"`

	// The latency scenario: the offered rate, the triggers sent and their alerts found
	// (Duplicates: alerts beyond one per trigger), the delays from sending a trigger's
	// batch to its acknowledgement (Ack), to its alert first listed by the polling
	// (Alert; AckToAlert from the acknowledgement) and to its webhook notification
	// (Hook; MissingHook: triggers without one), the sender's worst lag behind the
	// schedule, the polling interval and the mean time of one poll.
	Offered     float64  `json:"offered_per_s,omitempty"`
	Sustained   bool     `json:"sustained,omitempty"`
	Replayed    int      `json:"replayed,omitempty"` // normal events replayed past the simulated stream's end
	Triggers    int      `json:"triggers,omitempty"`
	Alerts      int      `json:"alerts,omitempty"`
	Duplicates  int      `json:"duplicates,omitempty"`
	MissingHook int      `json:"missing_hook,omitempty"`
	Ack         *latency `json:"ack,omitempty"`
	Alert       *latency `json:"alert,omitempty"`
	AckToAlert  *latency `json:"ack_to_alert,omitempty"`
	Hook        *latency `json:"hook,omitempty"`
	MaxLagMs    float64  `json:"max_lag_ms,omitempty"`
	PollMs      float64  `json:"poll_ms,omitempty"`
	PollRTTMs   float64  `json:"poll_rtt_ms,omitempty"`
}

func (r *result) perCPU(on bool, secs float64) {
	if on && secs > 0 {
		r.CPUSeconds, r.PerCPU = secs, float64(r.Stored)/secs
	}
}

func emit(path string, r result) error {
	b, _ := json.Marshal(r)
	fmt.Println(string(b))
	if path == "" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.Write(append(b, '\n'))
	return err
}

func readToken(v string) (string, error) {
	if f, ok := strings.CutPrefix(v, "@"); ok {
		b, err := os.ReadFile(f)
		return strings.TrimSpace(string(b)), err
	}
	return v, nil
}

func loopback(host string) error {
	h, _, err := net.SplitHostPort(host)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(h); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%s is not a loopback address", host)
	}
	return nil
}

// runHTTP posts the stream in NDJSON batches from several clients and counts the events
// the server acknowledged (accepted in a 200 answer); a 429 is retried after its
// Retry-After.
func runHTTP(args []string) error {
	fs := flag.NewFlagSet("http", flag.ExitOnError)
	url := fs.String("url", "", "server base URL (loopback)")
	tok := fs.String("token", "", "events.ingest token, or @file")
	clients := fs.Int("clients", 4, "parallel clients")
	batch := fs.Int("batch", 10000, "events per request")
	total := fs.Int("events", 400000, "events to send")
	label := fs.String("label", "", "engine label")
	run := fs.String("run", "h", "id prefix of this run's events")
	out := fs.String("json", "", "append the result to this JSON-lines file")
	timeout := fs.Duration("timeout", 10*time.Minute, "stop after this long")
	var cpu cpuMeter
	cpu.flags(fs)
	fs.Parse(args)
	host := strings.TrimPrefix(strings.TrimPrefix(*url, "http://"), "https://")
	if err := loopback(strings.TrimSuffix(host, "/")); err != nil {
		return err
	}
	token, err := readToken(*tok)
	if err != nil {
		return err
	}
	nb := (*total + *batch - 1) / *batch
	bodies := make([][]byte, nb)
	for b := range nb {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		for n := b * *batch; n < min((b+1)**batch, *total); n++ {
			if err := enc.Encode(withRaw(event(*run, n))); err != nil {
				return err
			}
		}
		bodies[b] = buf.Bytes()
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	client := &http.Client{Timeout: 5 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: *clients}}
	var next, acked, retries atomic.Int64
	var firstErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	start, cpu0 := time.Now(), cpu.now()
	for range *clients {
		wg.Go(func() {
			for {
				b := int(next.Add(1) - 1)
				if b >= nb || ctx.Err() != nil {
					return
				}
				n, err := post(ctx, client, *url, token, bodies[b], &retries)
				if err != nil {
					mu.Lock()
					firstErr = cmpErr(firstErr, err)
					mu.Unlock()
					cancel()
					return
				}
				acked.Add(n)
			}
		})
	}
	wg.Wait()
	secs, cpuSecs := time.Since(start).Seconds(), (cpu.now() - cpu0).Seconds()
	if firstErr != nil {
		return firstErr
	}
	r := result{Label: *label, Scenario: "http", Events: int64(*total), Stored: acked.Load(), Seconds: secs,
		Rate: float64(acked.Load()) / secs, Retries: retries.Load(),
		Note: fmt.Sprintf("%d clients, NDJSON batches of %d", *clients, *batch)}
	r.perCPU(cpu.on(), cpuSecs)
	return emit(*out, r)
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

func post(ctx context.Context, client *http.Client, url, token string, body []byte, retries *atomic.Int64) (int64, error) {
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(url, "/")+"/api/v1/events", bytes.NewReader(body))
		if err != nil {
			return 0, err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/x-ndjson")
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusOK:
			var res events.Result
			if err := json.Unmarshal(b, &res); err != nil {
				return 0, fmt.Errorf("answer: %w", err)
			}
			if len(res.Rejected) > 0 {
				return 0, fmt.Errorf("server rejected %d events (first: %+v)", len(res.Rejected), res.Rejected[0])
			}
			return int64(res.Accepted), nil
		case http.StatusTooManyRequests:
			retries.Add(1)
			wait, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
			select {
			case <-time.After(time.Duration(max(wait, 0))*time.Second + 50*time.Millisecond):
			case <-ctx.Done():
				return 0, ctx.Err()
			}
		default:
			return 0, fmt.Errorf("HTTP %d: %.200s", resp.StatusCode, b)
		}
	}
}

// syslogLine is event n as an RFC 5424 message with a JSON payload, octet-counted.
func syslogFrame(dst []byte, run string, n int) []byte {
	e := event(run, n)
	e.Time = e.Time.UTC()
	payload, _ := json.Marshal(e)
	msg := fmt.Sprintf("<110>1 %s his-app-01 %s - - - %s", e.Time.Format("2006-01-02T15:04:05.000Z"), e.System, payload)
	dst = strconv.AppendInt(dst, int64(len(msg)), 10)
	dst = append(dst, ' ')
	return append(dst, msg...)
}

// runSyslog sends the stream over -conns TCP connections, then polls the count stored
// (a database's events table, or the lines of a file written by rsyslog) until it stops
// growing; the rate is events stored over the time from the first byte sent to the last
// growth seen.
func runSyslog(args []string) error {
	fs := flag.NewFlagSet("syslog", flag.ExitOnError)
	addr := fs.String("addr", "", "syslog TCP address (loopback)")
	conns := fs.Int("conns", 4, "parallel connections")
	total := fs.Int("events", 400000, "events to send")
	dbURL := fs.String("db", "", "count the events table of this database (sqlite:PATH or postgres://…)")
	file := fs.String("file", "", "count the lines of this file (the peer's output)")
	label := fs.String("label", "", "engine label")
	scenario := fs.String("scenario", "syslog", "scenario name")
	run := fs.String("run", "s", "id prefix of this run's events")
	out := fs.String("json", "", "append the result to this JSON-lines file")
	idle := fs.Duration("idle", 10*time.Second, "the count is final after it has not grown for this long")
	timeout := fs.Duration("timeout", 10*time.Minute, "stop after this long")
	var cpu cpuMeter
	cpu.flags(fs)
	fs.Parse(args)
	if err := loopback(*addr); err != nil {
		return err
	}
	count, closeCount, err := counter(*dbURL, *file)
	if err != nil {
		return err
	}
	defer closeCount()
	before, err := count()
	if err != nil {
		return err
	}
	// The frames are built before the clock starts.
	per := (*total + *conns - 1) / *conns
	streams := make([][]byte, *conns)
	for c := range *conns {
		var b []byte
		for n := c * per; n < min((c+1)*per, *total); n++ {
			b = syslogFrame(b, *run, n)
		}
		streams[c] = b
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	start, cpu0 := time.Now(), cpu.now()
	errs := make(chan error, *conns)
	var wg sync.WaitGroup
	for c := range *conns {
		wg.Go(func() {
			d := net.Dialer{Timeout: 10 * time.Second}
			conn, err := d.DialContext(ctx, "tcp", *addr)
			if err != nil {
				errs <- err
				return
			}
			defer conn.Close()
			conn.SetWriteDeadline(time.Now().Add(*timeout))
			if _, err := conn.Write(streams[c]); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	sent := time.Since(start)
	close(errs)
	for err := range errs {
		return err
	}
	last, lastGrowth, lastCPU := before, time.Now(), cpu.now()
	for ctx.Err() == nil {
		n, err := count()
		if err != nil {
			return err
		}
		if n != last {
			last, lastGrowth, lastCPU = n, time.Now(), cpu.now()
		}
		if n-before >= int64(*total) || time.Since(lastGrowth) > *idle {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	stored := last - before
	secs := lastGrowth.Sub(start).Seconds()
	r := result{Label: *label, Scenario: *scenario, Events: int64(*total), Stored: stored, Seconds: secs,
		Rate: float64(stored) / secs, Note: fmt.Sprintf("%d TCP connections, octet counting, RFC 5424 + JSON; all sent after %.1fs", *conns, sent.Seconds())}
	r.perCPU(cpu.on(), (lastCPU - cpu0).Seconds())
	return emit(*out, r)
}

// counter returns a function counting the stored events (rows of the events table, or
// lines of a file).
func counter(dbURL, file string) (func() (int64, error), func(), error) {
	if file != "" {
		return func() (int64, error) {
			b, err := os.ReadFile(file)
			if errors.Is(err, os.ErrNotExist) {
				return 0, nil
			}
			return int64(bytes.Count(b, []byte{'\n'})), err
		}, func() {}, nil
	}
	db, err := openDB(dbURL)
	if err != nil {
		return nil, nil, err
	}
	return func() (int64, error) {
		var n int64
		err := db.QueryRow(`SELECT COUNT(*) FROM events`).Scan(&n)
		return n, err
	}, func() { db.Close() }, nil
}

func openDB(u string) (*sql.DB, error) {
	switch {
	case strings.HasPrefix(u, "sqlite:"):
		return sql.Open("sqlite", "file:"+strings.TrimPrefix(u, "sqlite:")+"?_pragma=busy_timeout(10000)&mode=ro")
	case strings.HasPrefix(u, "postgres://"), strings.HasPrefix(u, "postgresql://"):
		return sql.Open("pgx", u)
	}
	return nil, errors.New("-db must be sqlite:PATH or postgres://…")
}

func runCount(args []string) error {
	fs := flag.NewFlagSet("count", flag.ExitOnError)
	dbURL := fs.String("db", "", "sqlite:PATH or postgres://…")
	fs.Parse(args)
	count, done, err := counter(*dbURL, "")
	if err != nil {
		return err
	}
	defer done()
	n, err := count()
	if err != nil {
		return err
	}
	fmt.Println(n)
	return nil
}

// runPrep migrates an empty database to medguard's schema and adds one organisation,
// for the bulk-load ceiling; it prints the organisation's id.
func runPrep(args []string) error {
	fs := flag.NewFlagSet("prep", flag.ExitOnError)
	dbURL := fs.String("db", "", "sqlite:PATH or postgres://…")
	fs.Parse(args)
	ctx := context.Background()
	var db *store.DB
	var err error
	if p, ok := strings.CutPrefix(*dbURL, "sqlite:"); ok {
		db, err = store.OpenSQLiteFile(ctx, p)
	} else {
		db, err = store.Open(ctx, store.Config{DSN: *dbURL})
	}
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return err
	}
	now := time.Now().UTC()
	if _, err := db.ExecContext(ctx, `INSERT INTO orgs (kind, name, path, created_at, updated_at) VALUES ('hospital', 'bench', '', ?, ?)`, now, now); err != nil {
		return err
	}
	var id int64
	if err := db.QueryRowContext(ctx, `SELECT MAX(id) FROM orgs`).Scan(&id); err != nil {
		return err
	}
	fmt.Println(id)
	return nil
}

// runCSV writes the rows medguard stores for the HTTP stream (same sizes: the sealed
// patient id and raw original as random bytes of the sealed length, the keyed hash as 64
// hex digits), for the database's bulk load.
func runCSV(args []string) error {
	fs := flag.NewFlagSet("csv", flag.ExitOnError)
	path := fs.String("out", "", "CSV file to write")
	org := fs.Int64("org", 0, "organisation id")
	total := fs.Int("events", 400000, "rows")
	engine := fs.String("engine", "sqlite", "sqlite (blobs as text of the same length, with an id column) or postgres (bytea as \\x hex)")
	run := fs.String("run", "c", "id prefix")
	fs.Parse(args)
	f, err := os.Create(*path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	r := rand.New(rand.NewPCG(1, 2))
	blob := func(n int) string {
		if n == 0 {
			return ""
		}
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('a' + r.IntN(26))
		}
		if *engine == "postgres" {
			return `\x` + hex.EncodeToString(b)
		}
		return string(b)
	}
	recv := time.Now().UTC().Format("2006-01-02 15:04:05.999999999-07:00")
	for n := range *total {
		e := withRaw(event(*run, n))
		if e.Outcome == "" {
			e.Outcome = "success"
		}
		hash, sealed, pkey := "", "", int64(0)
		if e.PatientID != "" {
			s := sha256.Sum256([]byte(e.PatientID))
			hash, sealed = hex.EncodeToString(s[:]), blob(12+len(e.PatientID)+16)
			pkey = int64(binary.BigEndian.Uint64(s[:8]) | 1)
		}
		raw := blob(12 + len(e.Raw) + 16)
		if *engine != "postgres" {
			fmt.Fprintf(w, "%d,", n+1)
		}
		// An empty text is "" (in PostgreSQL's CSV an unquoted empty field is NULL, which
		// medguard stores for a missing sealed value only).
		// part and pkey as medguard computes them (migration 0040): the id is n+1 in the
		// empty table on both engines.
		fmt.Fprintf(w, "%d,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%d,%s,%s,%s,%s,%d,%d\n", *org, e.System, e.ID,
			e.Time.Format("2006-01-02 15:04:05.999999999-07:00"), e.Account, e.StaffID, e.Department, e.Action, e.Outcome,
			sealed, text(hash), text(e.RecordType), e.RecordCount, e.SourceIP, e.Terminal, raw, recv, (n+1)>>14, pkey)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// text is a CSV field for a text column: "" when empty.
func text(s string) string {
	if s == "" {
		return `""`
	}
	return s
}

// runTimed runs a command (the peer's bulk load) and records its wall time as a rate.
func runTimed(args []string) error {
	fs := flag.NewFlagSet("timed", flag.ExitOnError)
	label := fs.String("label", "", "engine label")
	scenario := fs.String("scenario", "", "scenario name")
	total := fs.Int("events", 0, "rows the command loads")
	out := fs.String("json", "", "append the result to this JSON-lines file")
	note := fs.String("note", "", "what the command is")
	var cpu cpuMeter
	cpu.flags(fs)
	fs.Parse(args)
	argv := fs.Args()
	if len(argv) == 0 {
		return errors.New("timed: no command")
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	start, cpu0 := time.Now(), cpu.now()
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("timed: %s: %w", argv[0], err)
	}
	secs := time.Since(start).Seconds()
	// The command's own CPU time, plus the database server's when measured.
	cpuSecs := (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime() + cpu.now() - cpu0).Seconds()
	r := result{Label: *label, Scenario: *scenario, Events: int64(*total), Stored: int64(*total), Seconds: secs,
		Rate: float64(*total) / secs, Note: *note}
	r.perCPU(true, cpuSecs)
	return emit(*out, r)
}

func runFreePort() error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer l.Close()
	fmt.Println(l.Addr().(*net.TCPAddr).Port)
	return nil
}
