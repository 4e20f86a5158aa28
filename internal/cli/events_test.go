package cli

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEventsImportStores: a vendor's GBK CSV imported through a mapping is stored under
// its mapped fields on both engines, with the patient id sealed (not in any column in
// clear); importing it again stores nothing more.
func TestEventsImportStores(t *testing.T) {
	eachStore(t, func(t *testing.T, flags []string, raw func() *sql.DB) {
		tmp := t.TempDir()
		eventsFiles(t, "", tmp)
		args := append([]string{"events", "import", "--format", "csv", "--mapping", tmp + "/m.yaml", tmp + "/vendor.csv"}, flags...)
		for i, want := range []string{"accepted 2, duplicates 0, rejected 0", "accepted 0, duplicates 2, rejected 0"} {
			code, out, errb := runCLI(t, "", args...)
			if code != 0 || !strings.Contains(out, want) {
				t.Fatalf("import %d: exit %d\n%s%s", i, code, out, errb)
			}
		}
		rows, err := raw().Query(`SELECT event_id, system, account, action, patient_hash FROM events ORDER BY event_id`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var got []string
		for rows.Next() {
			var id, system, account, action, hash string
			if err := rows.Scan(&id, &system, &account, &action, &hash); err != nil {
				t.Fatal(err)
			}
			if hash == "" || strings.Contains(hash, "P-1") {
				t.Errorf("patient hash %q", hash)
			}
			got = append(got, strings.Join([]string{id, system, account, action}, " "))
		}
		if want := "A1 HIS 张医生 view|A2 HIS 张医生 print"; strings.Join(got, "|") != want {
			t.Errorf("stored %q, want %q", strings.Join(got, "|"), want)
		}
	})
}

// TestEventsImportFHIRAndDICOM: `events import --format fhir|dicom` stores the events of
// an IHE BALP Bundle and of a DICOM audit message, through the package's decoders.
func TestEventsImportFHIRAndDICOM(t *testing.T) {
	eachStore(t, func(t *testing.T, flags []string, raw func() *sql.DB) {
		for _, c := range []struct{ format, file string }{
			{"fhir", "../events/decode/testdata/fhir/balp-bundle.json"},
			{"dicom", "../events/decode/testdata/dicom/pdq.xml"},
		} {
			args := append([]string{"events", "import", "--format", c.format, c.file}, flags...)
			code, out, errb := runCLI(t, "", args...)
			if code != 0 || !strings.Contains(out, "accepted ") || strings.Contains(out, "accepted 0,") {
				t.Fatalf("%s import: exit %d\n%s%s", c.format, code, out, errb)
			}
		}
		var n int
		if err := raw().QueryRow(`SELECT COUNT(*) FROM events`).Scan(&n); err != nil || n < 2 {
			t.Fatalf("%d events stored (%v), want at least 2", n, err)
		}
	})
}

// TestEventsSimulateImports: the files of `events simulate` import with `reference
// import` (every row, exit 0) and `events import --format json` (no rejection, no
// duplicate), on SQLite and PostgreSQL.
func TestEventsSimulateImports(t *testing.T) {
	dir := t.TempDir()
	code, out, errb := runCLI(t, "", "events", "simulate", "--out", dir, "--seed", "5", "--days", "2", "--staff", "60", "--patients", "200")
	if code != 0 {
		t.Fatalf("simulate: exit %d\n%s%s", code, out, errb)
	}
	eachStore(t, func(t *testing.T, flags []string, raw func() *sql.DB) {
		for _, kind := range []string{"staff", "patients", "encounters"} {
			args := append([]string{"reference", "import", "--kind", kind, dir + "/" + kind + ".csv"}, flags...)
			if code, out, errb := runCLI(t, "", args...); code != 0 || !strings.Contains(out, " imported, 0 rejected") {
				t.Fatalf("reference import %s: exit %d\n%s%s", kind, code, out, errb)
			}
		}
		code, out, errb := runCLI(t, "", append([]string{"events", "import", dir + "/events.ndjson"}, flags...)...)
		if code != 0 || !strings.HasSuffix(out, "duplicates 0, rejected 0\n") || strings.Contains(out, "accepted 0,") {
			t.Fatalf("events import: exit %d\n%s%s", code, out, errb)
		}
	})
}

// TestSimulateStopsAtSignal: a simulation stops when its context ends (SIGTERM or ^C
// in main) instead of running to the end of a large hospital, and writes nothing.
func TestSimulateStopsAtSignal(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errors.New("terminated"))
	dir := filepath.Join(t.TempDir(), "sim")
	var out, errb bytes.Buffer
	code := run(ctx, []string{"events", "simulate", "--out", dir, "--staff", "20000", "--patients", "1000000"},
		strings.NewReader(""), &out, &errb, noEnv, nil)
	if code == 0 || !strings.Contains(errb.String(), "stopped: terminated") {
		t.Fatalf("exit %d, stderr %q; want a failure saying it stopped", code, errb.String())
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s was written (%v)", dir, err)
	}
}
