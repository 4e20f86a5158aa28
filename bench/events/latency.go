package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/medguard/medguard/internal/events"
)

// triggerRule is the built-in rule the trigger events fire at once: kind match on
// action privilege_change, grouped by account, so that each trigger (its own account)
// raises its own alert.
const triggerRule = "privilege-change"

// simStream is the normal part of a `medguard events simulate` stream: its events in time
// order without the injected misuse of truth.json, at the times the simulator wrote, so
// that the reference data (encounters, stays) explains them as it would live. When the
// bench needs more events than the stream holds, it replays it in rounds, each round's
// ids made unique and its times moved on by the simulated span (whole weeks: the time of
// day and the weekday stay); the encounters do not move, so that later rounds are
// explained worse (discharged patients) and raise far more alerts than a hospital does:
// size the simulation for the bench instead (run.sh does; wrapped reports how often).
type simStream struct {
	evs     []events.Event
	span    time.Duration // one round
	run     string        // prefix of the ids
	wrapped int           // events served past the first round
}

// loadSim reads DIR/events.ndjson and DIR/truth.json; the ids of the replay start with
// run.
func loadSim(dir, run string) (*simStream, error) {
	var truth struct {
		Days      int `json:"days"`
		Scenarios []struct {
			EventIDs []string `json:"event_ids"`
		} `json:"scenarios"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "truth.json"))
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &truth); err != nil {
		return nil, fmt.Errorf("truth.json: %w", err)
	}
	injected := map[string]bool{}
	for _, s := range truth.Scenarios {
		for _, id := range s.EventIDs {
			injected[id] = true
		}
	}
	f, err := os.Open(filepath.Join(dir, "events.ndjson"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	s := &simStream{run: run}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for line := 1; sc.Scan(); line++ {
		var e events.Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return nil, fmt.Errorf("events.ndjson line %d: %w", line, err)
		}
		if !injected[e.ID] {
			s.evs = append(s.evs, e)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(s.evs) == 0 {
		return nil, errors.New("the simulated stream has no normal events")
	}
	slices.SortStableFunc(s.evs, func(a, b events.Event) int { return a.Time.Compare(b.Time) })
	week := 7 * 24 * time.Hour
	first, last := s.evs[0].Time, s.evs[len(s.evs)-1].Time
	s.span = time.Duration(max(truth.Days, 1)) * 24 * time.Hour
	if last.Sub(first) >= s.span {
		s.span = last.Sub(first) + time.Hour
	}
	s.span = (s.span + week - 1) / week * week
	return s, nil
}

// at returns the n-th event of the endless replay.
func (s *simStream) at(n int) events.Event {
	round, i := n/len(s.evs), n%len(s.evs)
	e := s.evs[i]
	e.ID = s.run + "-" + strconv.Itoa(round) + "-" + e.ID
	if round > 0 {
		s.wrapped++
		e.Time = e.Time.Add(time.Duration(round) * s.span)
	}
	return e
}

// trigger is the event that fires triggerRule at once, with an account of its own.
func trigger(account string, t time.Time) events.Event {
	return events.Event{ID: "T-" + account, Time: t, System: "HIS", Account: account, Action: "privilege_change",
		Outcome: "success", SourceIP: "10.0.0.21", Terminal: "WS-ADMIN-01", RecordType: "account"}
}

// percentile returns the nearest-rank p-th percentile (0 < p <= 100) of sorted ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	rank := int(float64(len(ds))*p/100+0.999999999) - 1
	return ds[min(max(rank, 0), len(ds)-1)]
}

// latency is the distribution of one delay over the triggers, in milliseconds.
type latency struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50_ms"`
	P90 float64 `json:"p90_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
}

func summarize(ds []time.Duration) *latency {
	if len(ds) == 0 {
		return nil
	}
	ds = slices.Clone(ds)
	slices.Sort(ds)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	return &latency{N: len(ds), P50: ms(percentile(ds, 50)), P90: ms(percentile(ds, 90)), P99: ms(percentile(ds, 99)),
		Max: ms(ds[len(ds)-1])}
}

// apiClient calls medguard's API with a bearer token.
type apiClient struct {
	base, token string
	http        *http.Client
}

func (c *apiClient) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: HTTP %d: %.300s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// alertRow is what the bench reads of an alert.
type alertRow struct {
	ID      int64  `json:"id"`
	Kind    string `json:"kind"`
	Account string `json:"account"`
}

// triggerAlerts lists the triggerRule alerts whose account starts with prefix (every
// page), by account, and how many alerts each account has.
func (c *apiClient) triggerAlerts(ctx context.Context, prefix string) (map[string]int, map[int64]string, error) {
	byAccount, byID := map[string]int{}, map[int64]string{}
	for offset := 0; ; offset += 500 {
		var page struct {
			Items []alertRow `json:"items"`
		}
		if err := c.do(ctx, http.MethodGet, fmt.Sprintf("/api/v1/alerts?source=monitor&kind=%s&limit=500&offset=%d", triggerRule, offset), nil, &page); err != nil {
			return nil, nil, err
		}
		for _, a := range page.Items {
			if strings.HasPrefix(a.Account, prefix) {
				byAccount[a.Account]++
				byID[a.ID] = a.Account
			}
		}
		if len(page.Items) < 500 {
			return byAccount, byID, nil
		}
	}
}

// hookSink is the loopback webhook receiver: the first receipt time of each alert id.
type hookSink struct {
	mu   sync.Mutex
	seen map[int64]time.Time
	n    atomic.Int64
}

func (h *hookSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	var body struct {
		Alerts []alertRow `json:"alerts"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 8<<20)).Decode(&body); err != nil {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	for _, a := range body.Alerts {
		if _, ok := h.seen[a.ID]; !ok {
			h.seen[a.ID] = now
		}
	}
	h.mu.Unlock()
	h.n.Add(1)
	w.WriteHeader(http.StatusNoContent)
}

func (h *hookSink) at(id int64) (time.Time, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	t, ok := h.seen[id]
	return t, ok
}

// startHook serves a hookSink on loopback and registers it, through the API, as a
// webhook channel with a route for the triggerRule's monitoring alerts.
func startHook(ctx context.Context, api *apiClient, name string) (*hookSink, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	sink := &hookSink{seen: map[int64]time.Time{}}
	srv := &http.Server{Handler: sink, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	stop := func() { srv.Close() }
	var ch struct {
		ID int64 `json:"id"`
	}
	err = api.do(ctx, http.MethodPost, "/api/v1/notify/channels", map[string]any{"name": name, "kind": "webhook",
		"url": "http://" + ln.Addr().String() + "/hook", "secret": "latency-bench", "lang": "en"}, &ch)
	if err == nil {
		err = api.do(ctx, http.MethodPost, "/api/v1/notify/routes", map[string]any{"channel_id": ch.ID, "source": "monitor",
			"kind": triggerRule, "subtree": true, "quiet_start": -1, "quiet_end": -1}, nil)
	}
	if err != nil {
		stop()
		return nil, nil, fmt.Errorf("webhook channel: %w", err)
	}
	return sink, stop, nil
}

// runLatency measures the delay from the sending of an event to its alert: for each
// offered rate, -clients post the simulated normal events in one NDJSON batch every
// -tick, each batch ending with a trigger event (its own account) that the built-in rule
// privilege-change fires on; the alert is looked for every -poll, in the alerts table of
// -db or else through GET /api/v1/alerts, and, with -hook, received by a loopback webhook
// channel routed the rule's alerts. It fails, after every rate, when a trigger has no
// alert or more than one.
func runLatency(args []string) error {
	fs := flag.NewFlagSet("latency", flag.ExitOnError)
	url := fs.String("url", "", "server base URL (loopback)")
	tok := fs.String("token", "", "events.ingest token, or @file")
	apiTok := fs.String("api-token", "", "token of a user who reads alerts and manages notifications (scope write), or @file")
	simDir := fs.String("sim", "", "directory written by medguard events simulate")
	rateList := fs.String("rates", "5000,10000,20000,50000", "offered rates, events/s, comma-separated")
	dur := fs.Duration("duration", 15*time.Second, "sending time per rate")
	tick := fs.Duration("tick", 100*time.Millisecond, "one batch (ending with one trigger) every tick")
	clients := fs.Int("clients", 4, "parallel HTTP clients")
	poll := fs.Duration("poll", 10*time.Millisecond, "interval of the alert polling")
	dbURL := fs.String("db", "", "poll the alerts table of this database (sqlite:PATH or postgres://…) instead of the API")
	hook := fs.Bool("hook", true, "also receive the alerts by a webhook notification channel")
	drain := fs.Duration("drain", 30*time.Second, "after the last batch, wait at most this long for the alerts")
	label := fs.String("label", "", "engine label")
	run := fs.String("run", "lat", "account prefix of this run's triggers")
	out := fs.String("json", "", "append the results to this JSON-lines file")
	var cpu cpuMeter
	cpu.flags(fs)
	fs.Parse(args)
	host := strings.TrimSuffix(strings.TrimPrefix(*url, "http://"), "/")
	if err := loopback(host); err != nil {
		return err
	}
	token, err := readToken(*tok)
	if err != nil {
		return err
	}
	atok, err := readToken(*apiTok)
	if err != nil {
		return err
	}
	var rates []int
	for _, f := range strings.Split(*rateList, ",") {
		r, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || r <= 0 {
			return fmt.Errorf("-rates: %q is not a positive number", f)
		}
		rates = append(rates, r)
	}
	if *tick <= 0 || *dur < *tick || *clients <= 0 || *poll <= 0 {
		return errors.New("-tick, -duration, -clients and -poll must be positive, -duration at least -tick")
	}
	sim, err := loadSim(*simDir, *run)
	if err != nil {
		return err
	}
	ctx := context.Background()
	api := &apiClient{base: "http://" + host, token: atok, http: &http.Client{Timeout: 30 * time.Second}}
	var sink *hookSink
	if *hook {
		var stop func()
		if sink, stop, err = startHook(ctx, api, "latency-bench-"+*run); err != nil {
			return err
		}
		defer stop()
	}
	newAlerts, pollFrom := apiPoller{api}.newAlerts, "API"
	if *dbURL != "" {
		pollFrom = "database"
		db, err := openDB(*dbURL)
		if err != nil {
			return err
		}
		defer db.Close()
		newAlerts = (&dbPoller{db: db}).newAlerts
	}
	cursor := 0
	var lost []string
	for _, rate := range rates {
		r, err := latencyRate(ctx, latencyRun{url: *url, token: token, api: api, sink: sink, sim: sim, cursor: &cursor,
			rate: rate, dur: *dur, tick: *tick, clients: *clients, poll: *poll, drain: *drain,
			prefix: fmt.Sprintf("%s-%d-", *run, rate), cpu: &cpu, newAlerts: newAlerts, pollFrom: pollFrom})
		if err != nil {
			return fmt.Errorf("rate %d: %w", rate, err)
		}
		r.Label = *label
		if err := emit(*out, r); err != nil {
			return err
		}
		if r.Alerts != r.Triggers || r.Duplicates > 0 {
			lost = append(lost, fmt.Sprintf("rate %d: %d triggers, %d with an alert, %d duplicate alerts", rate, r.Triggers, r.Alerts, r.Duplicates))
		}
	}
	if lost != nil {
		return fmt.Errorf("alerts lost or doubled: %s", strings.Join(lost, "; "))
	}
	return nil
}

// apiPoller lists the newest triggerRule alerts through the API (GET /api/v1/alerts,
// most recently seen first: the triggers' event times increase, so the newest 25 hold
// every alert raised since the last poll).
type apiPoller struct{ api *apiClient }

func (p apiPoller) newAlerts(ctx context.Context) ([]alertRow, error) {
	var page struct {
		Items []alertRow `json:"items"`
	}
	err := p.api.do(ctx, http.MethodGet, "/api/v1/alerts?source=monitor&kind="+triggerRule+"&limit=25", nil, &page)
	return page.Items, err
}

// dbPoller reads the triggerRule alerts committed after the last it saw from the
// database itself: a query by primary key that costs the server next to nothing, where
// one API request costs it milliseconds of CPU.
type dbPoller struct {
	db   *sql.DB
	last int64
}

func (p *dbPoller) newAlerts(ctx context.Context) ([]alertRow, error) {
	rows, err := p.db.QueryContext(ctx, `SELECT id, account FROM alerts WHERE id > $1 AND source = 'monitor' AND kind = $2 ORDER BY id`,
		p.last, triggerRule)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []alertRow
	for rows.Next() {
		var a alertRow
		if err := rows.Scan(&a.ID, &a.Account); err != nil {
			return nil, err
		}
		p.last = max(p.last, a.ID)
		out = append(out, a)
	}
	return out, rows.Err()
}

type latencyRun struct {
	url, token string
	api        *apiClient
	sink       *hookSink
	sim        *simStream
	cursor     *int
	rate       int
	dur, tick  time.Duration
	clients    int
	poll       time.Duration
	drain      time.Duration
	prefix     string
	cpu        *cpuMeter
	newAlerts  func(context.Context) ([]alertRow, error)
	pollFrom   string // "database" or "API"
}

func latencyRate(ctx context.Context, lr latencyRun) (result, error) {
	per := max(int(float64(lr.rate)*lr.tick.Seconds()+0.5), 1) // events per batch, the trigger included
	nb := int(lr.dur / lr.tick)
	accounts := make([]string, nb)
	bodies := make([][]byte, nb)
	wrapped := lr.sim.wrapped
	for k := range nb {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		var last time.Time
		for range per - 1 {
			e := lr.sim.at(*lr.cursor)
			*lr.cursor++
			last = e.Time
			if err := enc.Encode(e); err != nil {
				return result{}, err
			}
		}
		if last.IsZero() {
			last = lr.sim.at(*lr.cursor).Time
		}
		accounts[k] = lr.prefix + strconv.Itoa(k)
		if err := enc.Encode(trigger(accounts[k], last)); err != nil {
			return result{}, err
		}
		bodies[k] = buf.Bytes()
	}
	if n := lr.sim.wrapped - wrapped; n > 0 {
		fmt.Fprintf(os.Stderr, "eventbench: rate %d: %d events replayed past the end of the simulated stream (explained against stale encounters): simulate a larger hospital\n", lr.rate, n)
	}
	idx := make(map[string]int, nb)
	for k, a := range accounts {
		idx[a] = k
	}

	// The poller: the first time each trigger's alert is seen, and its alert id.
	var mu sync.Mutex
	polled := make([]time.Time, nb)
	alertID := make([]int64, nb)
	var seen, polls atomic.Int64
	var pollTime atomic.Int64 // ns spent in the requests
	pctx, stopPoll := context.WithCancel(ctx)
	var pwg sync.WaitGroup
	pwg.Go(func() {
		t := time.NewTicker(lr.poll)
		defer t.Stop()
		for {
			t0 := time.Now()
			rows, err := lr.newAlerts(pctx)
			now := time.Now()
			if err == nil {
				polls.Add(1)
				pollTime.Add(int64(now.Sub(t0)))
				mu.Lock()
				for _, a := range rows {
					if k, ok := idx[a.Account]; ok && polled[k].IsZero() {
						polled[k], alertID[k] = now, a.ID
						seen.Add(1)
					}
				}
				mu.Unlock()
			}
			select {
			case <-pctx.Done():
				return
			case <-t.C:
			}
		}
	})

	// The sender: batch k is due at start + k×tick; a free client sends it then (or as
	// soon as one is free: the lag).
	client := &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: lr.clients}}
	sent, acked := make([]time.Time, nb), make([]time.Time, nb)
	var ackedEvents, retries atomic.Int64
	var maxLag atomic.Int64
	queue := make(chan int, nb)
	sctx, cancel := context.WithTimeout(ctx, lr.dur+5*time.Minute)
	defer cancel()
	var firstErr error
	var emu sync.Mutex
	var wg sync.WaitGroup
	start, cpu0 := time.Now(), lr.cpu.now()
	for range lr.clients {
		wg.Go(func() {
			for k := range queue {
				if sctx.Err() != nil {
					return
				}
				t0 := time.Now()
				lag := int64(t0.Sub(start.Add(time.Duration(k) * lr.tick)))
				for m := maxLag.Load(); lag > m && !maxLag.CompareAndSwap(m, lag); m = maxLag.Load() {
				}
				n, err := post(sctx, client, lr.url, lr.token, bodies[k], &retries)
				if err != nil {
					emu.Lock()
					firstErr = cmpErr(firstErr, err)
					emu.Unlock()
					cancel()
					return
				}
				sent[k], acked[k] = t0, time.Now()
				ackedEvents.Add(n)
			}
		})
	}
	for k := range nb {
		time.Sleep(time.Until(start.Add(time.Duration(k) * lr.tick)))
		queue <- k
	}
	close(queue)
	wg.Wait()
	sendSecs := time.Since(start).Seconds()
	if firstErr != nil {
		stopPoll()
		pwg.Wait()
		return result{}, firstErr
	}
	// Wait for the alerts of every trigger (and their notifications).
	hooked := func() int {
		if lr.sink == nil {
			return nb
		}
		n := 0
		mu.Lock()
		defer mu.Unlock()
		for k := range nb {
			if alertID[k] != 0 {
				if _, ok := lr.sink.at(alertID[k]); ok {
					n++
				}
			}
		}
		return n
	}
	deadline := time.Now().Add(lr.drain)
	for time.Now().Before(deadline) && (seen.Load() < int64(nb) || hooked() < nb) {
		time.Sleep(50 * time.Millisecond)
	}
	drained := time.Since(start).Seconds()
	cpuSecs := (lr.cpu.now() - cpu0).Seconds()
	stopPoll()
	pwg.Wait()

	// None lost: every trigger has exactly one alert.
	byAccount, byID, err := lr.api.triggerAlerts(ctx, lr.prefix)
	if err != nil {
		return result{}, err
	}
	alerts, dup := 0, 0
	for _, n := range byAccount {
		alerts++
		dup += n - 1
	}
	var toPoll, toAck, toHook, ackToPoll []time.Duration
	missingHook := 0
	for k := range nb {
		if !polled[k].IsZero() {
			toPoll = append(toPoll, polled[k].Sub(sent[k]))
			ackToPoll = append(ackToPoll, polled[k].Sub(acked[k]))
		}
		toAck = append(toAck, acked[k].Sub(sent[k]))
		if lr.sink != nil {
			id := alertID[k]
			if id == 0 { // not seen by the poller: find its id in the full list
				for aid, acct := range byID {
					if acct == accounts[k] {
						id = aid
					}
				}
			}
			if t, ok := lr.sink.at(id); ok && id != 0 {
				toHook = append(toHook, t.Sub(sent[k]))
			} else {
				missingHook++
			}
		}
	}
	pollRTT := 0.0
	if p := polls.Load(); p > 0 {
		pollRTT = float64(pollTime.Load()) / float64(p) / 1e6
	}
	last := slices.MaxFunc(acked, func(a, b time.Time) int { return a.Compare(b) })
	active := last.Sub(start).Seconds()
	r := result{Scenario: scenLatency, Events: int64(nb * per), Stored: ackedEvents.Load(), Seconds: active,
		Rate: float64(ackedEvents.Load()) / active, Retries: retries.Load(), Offered: float64(lr.rate),
		Replayed: lr.sim.wrapped - wrapped, Triggers: nb, Alerts: alerts, Duplicates: dup, MissingHook: missingHook,
		Ack: summarize(toAck), Alert: summarize(toPoll), AckToAlert: summarize(ackToPoll), Hook: summarize(toHook),
		MaxLagMs: float64(maxLag.Load()) / 1e6, PollMs: float64(lr.poll.Microseconds()) / 1000, PollRTTMs: pollRTT,
		Note: fmt.Sprintf("%d clients, a batch of %d (one trigger) every %s for %.0fs; sent in %.1fs, all alerts after %.1fs; alerts polled from the %s",
			lr.clients, per, lr.tick, lr.dur.Seconds(), sendSecs, drained, lr.pollFrom)}
	r.Sustained = r.Rate >= 0.95*r.Offered && r.MaxLagMs < 1000
	r.perCPU(lr.cpu.on(), cpuSecs)
	return r, nil
}
