package cli

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/store"
)

// insertRunningJob stores an organisation and a path job of it in the state a serving
// process leaves it while the job runs, owned by the process whose lease is owner
// ("" for none), and returns the job's id.
func insertRunningJob(t *testing.T, db *sql.DB, owner string) int64 {
	t.Helper()
	var org, id int64
	if err := db.QueryRow(`INSERT INTO orgs (kind, name, path, created_at, updated_at)
		VALUES ('hospital', 'H', '/h/', '2026-01-01 00:00:00', '2026-01-01 00:00:00') RETURNING id`).Scan(&org); err != nil {
		t.Fatal(err)
	}
	cols, vals := "", ""
	if owner != "" {
		cols, vals = ", owner", ", '"+owner+"'"
	}
	q := fmt.Sprintf(`INSERT INTO dlp_scans (org_id, kind, source, status, created_at, started_at%s)
		VALUES (%d, 'job', '/srv/share', 'running', '2026-01-01 00:00:00', '2026-01-01 00:00:00'%s) RETURNING id`, cols, org, vals)
	if err := db.QueryRow(q).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// jobStatus returns the status of scan id and when it finished.
func jobStatus(t *testing.T, db *sql.DB, id int64) (string, store.Time) {
	t.Helper()
	var st string
	var fin store.Time
	if err := db.QueryRow(fmt.Sprintf(`SELECT status, finished_at FROM dlp_scans WHERE id = %d`, id)).Scan(&st, &fin); err != nil {
		t.Fatal(err)
	}
	return st, fin
}

// TestCommandsLeaveRunningJobsAlone: a command that is not `serve` opens the store but
// does none of a server's start-up work, so a job a running server owns stays running
// (it used to be marked "failed: interrupted" by `user list`).
func TestCommandsLeaveRunningJobsAlone(t *testing.T) {
	eachStore(t, func(t *testing.T, flags []string, raw func() *sql.DB) {
		if code, _, errs := runCLI(t, "", append([]string{"migrate"}, flags...)...); code != 0 {
			t.Fatalf("migrate: %d %s", code, errs)
		}
		id := insertRunningJob(t, raw(), "")
		for _, args := range [][]string{{"user", "list"}, {"trail", "verify"}, {"migrate"}} {
			if code, _, errs := runCLI(t, "", append(args, flags...)...); code != 0 {
				t.Fatalf("%v: %d %s", args, code, errs)
			}
			if st, _ := jobStatus(t, raw(), id); st != "running" {
				t.Fatalf("after %v the running job is %q", args, st)
			}
		}
	})
}

// Environment of TestHelperProcess, the child processes of TestServeLeases.
const (
	envHelper     = "MEDGUARD_TEST_HELPER"      // "1" in a child
	envHelperArgs = "MEDGUARD_TEST_HELPER_ARGS" // the child's command line, JSON
)

// TestHelperProcess is not a test: run by TestServeLeases as a child process, it runs
// the command line in envHelperArgs as the medguard binary would, until SIGTERM.
func TestHelperProcess(t *testing.T) {
	if os.Getenv(envHelper) != "1" {
		t.Skip("a child process of TestServeLeases")
	}
	var args []string
	if err := json.Unmarshal([]byte(os.Getenv(envHelperArgs)), &args); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(99)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	code := Run(ctx, args, strings.NewReader(""), os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// child is a medguard process started by a test.
type child struct {
	t     *testing.T
	name  string
	cmd   *exec.Cmd
	ready chan string // the server's URL
	done  chan error  // closed with the exit status

	mu     sync.Mutex
	stderr strings.Builder
}

// startChild runs `medguard args…` as a child process with a lease TTL of one second.
func startChild(t *testing.T, name string, args ...string) *child {
	t.Helper()
	b, _ := json.Marshal(args)
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), envHelper+"=1", envHelperArgs+"="+string(b), "MEDGUARD_LEASE_TTL=1s")
	c := &child{t: t, name: name, cmd: cmd, ready: make(chan string, 1), done: make(chan error, 1)}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var pipes sync.WaitGroup
	pipes.Add(2)
	go func() {
		defer pipes.Done()
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "medguard is running at "); ok {
				c.ready <- u
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	go func() {
		defer pipes.Done()
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			c.mu.Lock()
			c.stderr.WriteString(sc.Text() + "\n")
			c.mu.Unlock()
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	go func() {
		pipes.Wait()
		c.done <- cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-c.done
	})
	return c
}

// log returns what the child wrote to stderr so far.
func (c *child) log() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stderr.String()
}

// waitReady waits (at most a minute) for the child's server to listen.
func (c *child) waitReady() {
	c.t.Helper()
	select {
	case <-c.ready:
	case err := <-c.done:
		c.t.Fatalf("%s exited before serving: %v\n%s", c.name, err, c.log())
	case <-time.After(time.Minute):
		c.t.Fatalf("%s did not start serving\n%s", c.name, c.log())
	}
}

// signs counts the trail checkpoints the child logged signing.
func (c *child) signs() int { return strings.Count(c.log(), "signed a trail checkpoint") }

// waitFor polls cond every 50 ms for at most limit; it fails the test with what when
// cond never held.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", limit, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// leaseRow is a row of the leases table.
type leaseRow struct {
	holder            string
	acquired, expires store.Time
}

func readLease(t *testing.T, db *sql.DB, name string) (leaseRow, bool) {
	t.Helper()
	var l leaseRow
	err := db.QueryRow(`SELECT holder, acquired_at, expires_at FROM leases WHERE name = '`+name+`'`).Scan(&l.holder, &l.acquired, &l.expires)
	if err == sql.ErrNoRows {
		return l, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return l, true
}

// TestServeLeases runs two `serve` processes on one store. Only one signs the trail's
// checkpoints (it holds the lease) and the other leaves the first one's path job alone;
// once the first is killed, the second takes over its lease, signs, and marks the job
// failed — but only after the dead process's leases have expired. A process that stops
// cleanly releases its leases.
func TestServeLeases(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	eachStore(t, func(t *testing.T, flags []string, raw func() *sql.DB) {
		db := raw()
		if code, _, errs := runCLI(t, "", append([]string{"migrate"}, flags...)...); code != 0 {
			t.Fatalf("migrate: %d %s", code, errs)
		}
		serve := append([]string{"serve", "--addr", "127.0.0.1:0"}, flags...)
		a := startChild(t, "first server", serve...)
		a.waitReady()
		waitFor(t, 10*time.Second, "the first server to sign a checkpoint", func() bool { return a.signs() == 1 })
		cp, ok := readLease(t, db, "trail.checkpoint")
		if !ok || !strings.HasPrefix(cp.holder, "node:") {
			t.Fatalf("checkpoint lease after the first start: %+v %v", cp, ok)
		}
		holderA := cp.holder
		// The first server's own lease, owning the jobs it runs.
		if _, ok := readLease(t, db, holderA); !ok {
			t.Fatalf("no lease %s of the first server", holderA)
		}
		job := insertRunningJob(t, db, holderA)

		b := startChild(t, "second server", serve...)
		b.waitReady()
		// While the first lives (and renews its leases every third of a second), the
		// second neither signs nor touches the first one's job, however often it tries.
		for i := 0; i < 30; i++ {
			if l, _ := readLease(t, db, "trail.checkpoint"); l.holder != holderA {
				t.Fatalf("the checkpoint lease moved to %q while its holder ran", l.holder)
			}
			if st, _ := jobStatus(t, db, job); st != "running" {
				t.Fatalf("the second server made the first one's job %q", st)
			}
			time.Sleep(100 * time.Millisecond)
		}
		if n := b.signs(); n != 0 {
			t.Fatalf("the second server signed %d checkpoints while the first held the lease\n%s", n, b.log())
		}

		if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-a.done
		deadCP, _ := readLease(t, db, "trail.checkpoint")
		deadNode, ok := readLease(t, db, holderA)
		if !ok {
			t.Fatal("the killed server's lease is gone before it expired")
		}
		waitFor(t, 20*time.Second, "the second server to take over the checkpoints", func() bool { return b.signs() == 1 })
		waitFor(t, 20*time.Second, "the second server to fail the dead one's job", func() bool {
			st, _ := jobStatus(t, db, job)
			return st == "failed"
		})
		cp, _ = readLease(t, db, "trail.checkpoint")
		if cp.holder == holderA || !strings.HasPrefix(cp.holder, "node:") {
			t.Fatalf("checkpoint lease after the takeover: %+v", cp)
		}
		if cp.acquired.Time.Before(deadCP.expires.Time) {
			t.Errorf("the lease was taken over at %v, before it expired at %v", cp.acquired.Time, deadCP.expires.Time)
		}
		if _, fin := jobStatus(t, db, job); !fin.Valid || fin.Time.Before(deadNode.expires.Time) {
			t.Errorf("the job was failed at %v, before its owner's lease expired at %v", fin.Time, deadNode.expires.Time)
		}

		// A clean stop releases the leases at once.
		if err := b.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-b.done:
			if err != nil {
				t.Fatalf("second server: %v\n%s", err, b.log())
			}
		case <-time.After(30 * time.Second):
			t.Fatal("the second server did not stop")
		}
		if l, ok := readLease(t, db, "trail.checkpoint"); ok {
			t.Errorf("the checkpoint lease is still held after a clean stop: %+v", l)
		}
		if l, ok := readLease(t, db, cp.holder); ok {
			t.Errorf("the stopped server's own lease is still there: %+v", l)
		}
	})
}

// TestMigrateMasksOldScanNames: `migrate` converts the names of scans stored before they
// were masked when the DLP key is in its data directory, and otherwise leaves them to a
// server rather than sealing raw values under a key of its own.
func TestMigrateMasksOldScanNames(t *testing.T) {
	eachStore(t, func(t *testing.T, flags []string, raw func() *sql.DB) {
		data := flags[len(flags)-1] // --data is last in both engines' flags
		migrate := append([]string{"migrate"}, flags...)
		if code, _, errs := runCLI(t, "", migrate...); code != 0 {
			t.Fatalf("migrate: %d %s", code, errs)
		}
		db := raw()
		id := insertRunningJob(t, db, "")
		const idNo = "440306199003071232"
		if _, err := db.Exec(fmt.Sprintf(`UPDATE dlp_scans SET status = 'done', source = '/srv/share/%s' WHERE id = %d`, idNo, id)); err != nil {
			t.Fatal(err)
		}
		source := func() string {
			var s string
			if err := db.QueryRow(fmt.Sprintf(`SELECT source FROM dlp_scans WHERE id = %d`, id)).Scan(&s); err != nil {
				t.Fatal(err)
			}
			return s
		}
		code, out, errs := runCLI(t, "", migrate...)
		if code != 0 || !strings.Contains(out, "1 stored scans keep patient data in their names until a server starts") {
			t.Fatalf("migrate without the DLP key: %d %q %q", code, out, errs)
		}
		if _, err := os.Stat(filepath.Join(data, "dlp.key")); err == nil || !strings.Contains(source(), idNo) {
			t.Fatalf("migrate without the DLP key made one or converted: %v %q", err, source())
		}
		if err := os.WriteFile(data+"/dlp.key", []byte("0123456789abcdef"), 0o600); err != nil {
			t.Fatal(err)
		}
		code, out, errs = runCLI(t, "", migrate...)
		if code != 0 || !strings.Contains(out, "masked patient data in the names of 1 stored scans") {
			t.Fatalf("migrate with the DLP key: %d %q %q", code, out, errs)
		}
		if s := source(); strings.Contains(s, idNo) {
			t.Fatalf("the name is still in clear: %q", s)
		}
	})
}
