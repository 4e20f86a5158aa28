package asset_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/asset"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
	"github.com/medguard/medguard/internal/trail"
	"github.com/medguard/medguard/internal/trail/trailtest"
)

// The environment of the child process TestImportKilled starts.
const (
	envKillChild = "MEDGUARD_TEST_IMPORT_CHILD" // "1" in the child
	envKillDB    = "MEDGUARD_TEST_IMPORT_DB"    // sqlite:PATH or a postgres:// URL
	envKillCSV   = "MEDGUARD_TEST_IMPORT_CSV"   // the file to import
	envKillOrg   = "MEDGUARD_TEST_IMPORT_ORG"   // importer's organisation: ID:PATH
	envKillHold  = "MEDGUARD_TEST_IMPORT_HOLD"  // rows after which the child stops and waits to be killed
)

// TestImportKilled kills (SIGKILL) a process in the middle of importing a 50,000-row
// file and checks that the database holds none of the file, with an intact trail, and
// that importing the same file again then creates every row.
func TestImportKilled(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			var db *store.DB
			var spec string
			var err error
			switch d {
			case store.SQLite:
				path := filepath.Join(t.TempDir(), "kill.db")
				db, err = store.OpenSQLiteFile(ctx, path)
				spec = "sqlite:" + path
			case store.Postgres:
				spec = storetest.FreshPostgresURL(t)
				db, err = store.Open(ctx, store.Config{DSN: spec})
			}
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			if _, err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			w := newWorld(t, db)

			n := 50_000
			if testing.Short() {
				n = 5_000
			}
			orgs := demoOrgs(w)[:3]
			codes := map[int64]string{}
			for _, o := range orgs {
				codes[o.ID] = o.Code
			}
			data := generatedCSV(t, asset.Generate(rand.New(rand.NewSource(51)), orgs, n), codes)
			file := filepath.Join(t.TempDir(), "assets.csv")
			if err := os.WriteFile(file, data, 0o600); err != nil {
				t.Fatal(err)
			}
			before := countTrail(t, db, "asset.create")

			// The child writes half the file, reports it and waits; then it is killed.
			hold := n / 2
			written := runKilledImport(t, spec, file, w.actorA, hold)
			if written < hold || written >= n {
				t.Fatalf("the child reported %d rows written before the kill, want %d to %d", written, hold, n-1)
			}
			if got := countAssets(t, db); got != 0 {
				t.Fatalf("after the kill %d of %d rows are in the database, want none", got, n)
			}
			if got := countTrail(t, db, "asset.create"); got != before {
				t.Fatalf("after the kill the trail holds %d asset.create entries, want %d", got, before)
			}
			verifyTrail(t, db)

			// The same file again: every row is created, none is a duplicate.
			rep := doImport(t, w, w.actorA, data, asset.ImportOptions{})
			if rep.Rows != n || rep.Created != n || rep.Rejected != 0 {
				t.Fatalf("re-run: rows %d created %d rejected %d, first errors %v", rep.Rows, rep.Created, rep.Rejected, firstErrors(rep))
			}
			if got := countAssets(t, db); got != n {
				t.Fatalf("assets after the re-run = %d, want %d", got, n)
			}
			if got := countTrail(t, db, "asset.create"); got != before+n {
				t.Fatalf("trail asset.create after the re-run = %d, want %d", got, before+n)
			}
			verifyTrail(t, db)
		})
	}
}

// runKilledImport runs TestImportKillHelper in a child process importing file into
// the database spec as a, waits until it reports at least hold rows written, kills it
// with SIGKILL and returns the last number of rows it reported.
func runKilledImport(t *testing.T, spec, file string, a actor.Actor, hold int) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestImportKillHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), envKillChild+"=1", envKillDB+"="+spec, envKillCSV+"="+file,
		envKillOrg+"="+strconv.FormatInt(a.OrgID, 10)+":"+a.OrgPath, envKillHold+"="+strconv.Itoa(hold))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	written := 0
	var seen []string
wait:
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				_ = cmd.Wait()
				t.Fatalf("the child ended before it was killed; output %q, stderr %s", seen, stderr.String())
			}
			seen = append(seen, line)
			if v, ok := strings.CutPrefix(line, "written "); ok {
				if written, err = strconv.Atoi(v); err != nil {
					t.Fatalf("child: %q", line)
				}
				if written >= hold {
					break wait
				}
			}
		case <-ctx.Done():
			t.Fatalf("the child did not reach %d rows; output %q, stderr %s", hold, seen, stderr.String())
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for range lines { // drain until the pipe closes
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("child: %v, want killed", err)
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child ended with %v, want killed by SIGKILL; stderr %s", err, stderr.String())
	}
	return written
}

// TestImportKillHelper is the child process of TestImportKilled; it does nothing in a
// normal run. It imports the file, printing "written N" after each batch, and once it
// has written the rows it was told to hold at, it waits (at most two minutes) to be
// killed.
func TestImportKillHelper(t *testing.T) {
	if os.Getenv(envKillChild) != "1" {
		t.Skip("child process of TestImportKilled")
	}
	ctx := context.Background()
	spec := os.Getenv(envKillDB)
	var db *store.DB
	var err error
	if path, ok := strings.CutPrefix(spec, "sqlite:"); ok {
		db, err = store.OpenSQLiteFile(ctx, path)
	} else {
		db, err = store.Open(ctx, store.Config{DSN: spec})
	}
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	idText, path, _ := strings.Cut(os.Getenv(envKillOrg), ":")
	orgID, _ := strconv.ParseInt(idText, 10, 64)
	hold, _ := strconv.Atoi(os.Getenv(envKillHold))
	data, err := os.ReadFile(os.Getenv(envKillCSV))
	if err != nil {
		t.Fatal(err)
	}
	tl, err := trail.New(trail.SHA256, trailtest.Key(t))
	if err != nil {
		t.Fatal(err)
	}
	svc := asset.NewService(db, tl)
	a := actor.Actor{UserID: 11, Username: "alice", Role: "admin", OrgID: orgID, OrgPath: path}
	_, err = svc.Import(ctx, a, bytes.NewReader(data), asset.ImportOptions{Progress: func(written int) {
		fmt.Printf("written %d\n", written)
		if written >= hold {
			time.Sleep(2 * time.Minute)
			fmt.Println("not killed")
			os.Exit(3)
		}
	}})
	fmt.Printf("import ended: %v\n", err)
	os.Exit(4)
}
