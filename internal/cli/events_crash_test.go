package cli

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/events"
)

// envEventsChild names the data directory of the server TestEventsCrashChild runs.
const envEventsChild = "MEDGUARD_TEST_EVENTS_CHILD"

// TestEventsCrashChild is the server of TestEventsCrashAcknowledged: it runs only in the
// child process, serves the data directory and prints its URL.
func TestEventsCrashChild(t *testing.T) {
	dir := os.Getenv(envEventsChild)
	if dir == "" {
		t.Skip("the child of TestEventsCrashAcknowledged")
	}
	var out, errb bytes.Buffer
	run(context.Background(), []string{"serve", "--data", dir, "--addr", "127.0.0.1:0", "--log-level", "error"},
		strings.NewReader(""), &out, &errb, noEnv, func(u string) { fmt.Printf("URL %s\n", u) })
	t.Fatalf("the server ended: %s %s", out.String(), errb.String())
}

// TestEventsCrashAcknowledged is the acceptance's crash test: a server ingesting batches
// over HTTP is killed with SIGKILL at random points, again and again; after each restart
// every event whose batch was acknowledged (200) is stored exactly once, and batches
// sent again after a kill are counted as duplicates, never stored twice.
func TestEventsCrashAcknowledged(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	dir := t.TempDir()
	mustRun(t, "user", "add", "--username", "his", "--role", "it_ops", "--password", "Str0ng-Passw0rd-Here", "--data", dir)
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"token", "create", "--user", "his", "--scope", "events.ingest", "--data", dir},
		strings.NewReader(""), &out, &errb, noEnv, nil); code != 0 {
		t.Fatalf("token: %s", errb.String())
	}
	token := strings.TrimSpace(out.String())
	acked := map[string]bool{}
	next := 0
	client := &http.Client{Timeout: 30 * time.Second}
	const rounds, batch = 8, 500
	for round := range rounds {
		cmd := exec.Command(os.Args[0], "-test.run=^TestEventsCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), envEventsChild+"="+dir)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(stdout)
		url := ""
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "URL "); ok {
				url = u
				break
			}
		}
		if url == "" {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("round %d: the server printed no URL", round)
		}
		go func() {
			for sc.Scan() {
			}
		}()
		// Kill it at a random point while batches are in flight.
		killAt := time.Duration(50+rand.IntN(400)) * time.Millisecond
		timer := time.AfterFunc(killAt, func() { cmd.Process.Signal(syscall.SIGKILL) })
		for {
			first := next
			var body strings.Builder
			for i := range batch {
				fmt.Fprintf(&body, `{"id":"e-%d","time":"2026-03-31T09:00:00Z","system":"HIS","account":"a","action":"view","patient_id":"P%d"}`+"\n", first+i, i)
			}
			req, _ := http.NewRequest("POST", url+"/api/v1/events", strings.NewReader(body.String()))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/x-ndjson")
			resp, err := client.Do(req)
			if err != nil {
				break // killed: this batch is not acknowledged
			}
			var r events.Result
			err = json.NewDecoder(resp.Body).Decode(&r)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || err != nil {
				if resp.StatusCode == http.StatusTooManyRequests {
					continue
				}
				t.Fatalf("round %d: status %d", round, resp.StatusCode)
			}
			if r.Accepted+r.Duplicates != batch {
				t.Fatalf("round %d: %+v", round, r)
			}
			for i := range batch {
				acked[fmt.Sprint("e-", first+i)] = true
			}
			next += batch
		}
		timer.Stop()
		cmd.Wait()
		// Resend the last unacknowledged batch next round: next is unchanged, so the
		// first batch of the next round repeats it (its stored part are duplicates).
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "medguard.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT event_id, COUNT(*) FROM events GROUP BY event_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	stored := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			t.Fatal(err)
		}
		stored[id] = n
	}
	if len(acked) == 0 {
		t.Fatal("no batch was acknowledged")
	}
	for id := range acked {
		if stored[id] != 1 {
			t.Errorf("acknowledged event %s stored %d times", id, stored[id])
		}
	}
	t.Logf("%d rounds, %d events acknowledged, %d stored", rounds, len(acked), len(stored))
}
