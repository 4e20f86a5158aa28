package dlpsvc

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/dlp"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
	"github.com/medguard/medguard/internal/trail"
)

// A file named after a patient (synthetic: a valid-checksum ID of nobody).
const (
	nameID      = "440305198807150031"
	patientFile = "欧阳锦涛_" + nameID + ".txt"
)

// clearIDs returns every stored text column of the DLP tables that holds id in clear.
func clearIDs(t *testing.T, db *store.DB, id string) []string {
	t.Helper()
	var out []string
	for _, q := range []string{`SELECT source FROM dlp_scans`, `SELECT error FROM dlp_scans`, `SELECT path FROM dlp_files`,
		`SELECT problem FROM dlp_files`, `SELECT preview FROM dlp_findings`, `SELECT field FROM dlp_findings`,
		`SELECT summary FROM trail`} {
		rows, err := db.QueryContext(context.Background(), q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(s, id) {
				out = append(out, q+": "+s)
			}
		}
		rows.Close()
	}
	return out
}

// nameFinding returns the findings of res found in a file's name or path.
func nameFindings(fs []Finding) []Finding {
	var out []Finding
	for _, f := range fs {
		if f.Field == FieldPath {
			out = append(out, f)
		}
	}
	return out
}

// TestNamesAreMaskedAndSealed checks that a patient identifier in the name of a text, an
// upload, a check or in the path of a job is stored and shown masked, counts as a finding
// of the file, and is revealed (and trailed) like any finding.
func TestNamesAreMaskedAndSealed(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		masked := dlp.Mask(dlp.TypeResidentID, []byte(nameID))
		dir := filepath.Join(e.root, "转诊_"+nameID)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "minutes.txt"), []byte(plainNote), 0o600); err != nil {
			t.Fatal(err)
		}
		var results []Result
		res, err := e.svc.ScanText(ctx, e.privacyA, e.hospA.ID, patientFile, plainNote)
		if err != nil {
			t.Fatal(err)
		}
		results = append(results, res)
		if res, err = e.svc.ScanUpload(ctx, e.privacyA, e.hospA.ID, `C:\导出\`+patientFile, []byte(plainNote)); err != nil {
			t.Fatal(err)
		}
		results = append(results, res)
		cr, err := e.svc.Check(ctx, e.privacyA, e.hospA.ID, patientFile, []byte(plainNote))
		if err != nil {
			t.Fatal(err)
		}
		results = append(results, cr.Result)
		if cr.Decision == DecisionAllow {
			t.Errorf("a file named after a patient's ID passes the check: %s %v", cr.Decision, cr.Reasons)
		}
		sc, err := e.svc.StartJob(ctx, e.privacyA, e.hospA.ID, dir)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(sc.Source, nameID) {
			t.Errorf("the queued job shows its root in clear: %s", sc.Source)
		}
		e.svc.Wait()
		if res, err = e.svc.result(ctx, e.auditorA, sc.ID); err != nil {
			t.Fatal(err)
		}
		results = append(results, res)
		for _, res := range results {
			if strings.Contains(res.Scan.Source, nameID) || !strings.Contains(res.Scan.Source, masked) {
				t.Errorf("%s scan source %q: want the ID masked as %s", res.Scan.Kind, res.Scan.Source, masked)
			}
			if len(res.Files) != 1 || strings.Contains(res.Files[0].Path, nameID) || !strings.Contains(res.Files[0].Path, masked) {
				t.Fatalf("%s scan files: %+v", res.Scan.Kind, res.Files)
			}
			f := res.Files[0]
			nf := nameFindings(res.Findings)
			if f.Findings != len(nf) || f.CountsByType[dlp.TypeResidentID] != 1 || res.Scan.Findings != len(nf) ||
				res.Scan.CountsByType[dlp.TypeResidentID] != 1 {
				t.Errorf("%s scan: the findings in the name are not findings of the file: %+v %+v", res.Scan.Kind, f, res.Scan)
			}
			if res.Scan.Kind != KindJob && f.CountsByType[dlp.TypePersonName] != 1 {
				t.Errorf("%s scan: the name in the file name is not found: %+v", res.Scan.Kind, f)
			}
			i := slices.IndexFunc(nf, func(f Finding) bool { return f.Type == dlp.TypeResidentID })
			if i < 0 || nf[i].Preview != masked || !nf[i].Revealable || nf[i].FileID != f.ID || nf[i].Line != 0 {
				t.Fatalf("%s scan: findings in the name: %+v", res.Scan.Kind, res.Findings)
			}
			nf = nf[i:]
			if _, err := e.svc.Reveal(ctx, e.auditorA, nf[0].ID, "test"); err == nil {
				t.Errorf("the auditor revealed a name")
			}
			rev, err := e.svc.Reveal(ctx, e.privacyA, nf[0].ID, "test")
			if err != nil || rev.Value != nameID || strings.Contains(rev.Path, nameID) {
				t.Errorf("%s scan: reveal = %+v, %v", res.Scan.Kind, rev, err)
			}
		}
		// Scans list and finding list as an auditor sees them.
		pg, err := e.svc.Scans(ctx, e.auditorA, ScanQuery{})
		if err != nil || pg.Total != 4 {
			t.Fatalf("scans: %d %v", pg.Total, err)
		}
		for _, s := range pg.Items {
			if strings.Contains(s.Source, nameID) {
				t.Errorf("scan list shows %q", s.Source)
			}
		}
		for _, raw := range []string{nameID, "欧阳锦涛"} {
			if leaks := clearIDs(t, db, raw); len(leaks) > 0 {
				t.Errorf("stored in clear:\n%s", strings.Join(leaks, "\n"))
			}
		}
		es, err := trail.List(ctx, db, actor.System(), trail.Filter{Action: "dlp.reveal", Limit: 10})
		if err != nil || len(es) != 4 {
			t.Fatalf("reveals trailed: %d %v", len(es), err)
		}
	})
}

// TestMaskStoredNames creates scans as they were stored before names were masked, with
// a patient's ID in clear in the source and paths, and checks that MaskStoredNames masks
// them, adds the findings of the paths (sealed, revealable, counted) and trails it, once.
// The rows are written in the columns of before migration NNNN_dlp_names_masked, whose
// default (names_masked FALSE) is what it gave the scans stored before it; the schema is
// the current one, since today's services write columns later migrations add (the trail's
// summary_msg).
func TestMaskStoredNames(t *testing.T) {
	all, err := store.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	before := 0
	for _, m := range all {
		if m.Name == "dlp_names_masked" {
			before = m.Version - 1
		}
	}
	if before == 0 {
		t.Fatal("no migration NNNN_dlp_names_masked")
	}
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			db := storetest.OpenAt(t, d, before)
			if _, err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			e := newEnv(t, db)
			at := time.Now().UTC().Truncate(time.Second)
			var scanID, fileID int64
			if err := db.QueryRowContext(ctx, `INSERT INTO dlp_scans (org_id, kind, source, status, created_by, created_at, files,
				findings, highest_level, counts) VALUES (?, 'upload', ?, 'done', 'privacy', ?, 1, 1, 3, '{"cn_mobile":1}') RETURNING id`,
				e.hospA.ID, "export_"+nameID+".zip", at).Scan(&scanID); err != nil {
				t.Fatal(err)
			}
			if err := db.QueryRowContext(ctx, `INSERT INTO dlp_files (scan_id, path, kind, size, findings, highest_level, counts)
				VALUES (?, ?, 'text', 30, 1, 3, '{"cn_mobile":1}') RETURNING id`, scanID, "export_"+nameID+".zip!/"+patientFile).Scan(&fileID); err != nil {
				t.Fatal(err)
			}
			if _, err := db.ExecContext(ctx, `INSERT INTO dlp_files (scan_id, path, kind, size) VALUES (?, 'export.zip!/plain.txt', 'text', 3)`, scanID); err != nil {
				t.Fatal(err)
			}
			if _, err := db.ExecContext(ctx, `INSERT INTO dlp_findings (scan_id, file_id, type, start_offset, end_offset, line, confidence,
				category, level, field, preview) VALUES (?, ?, 'cn_mobile', 0, 11, 1, 0.9, 'personal_attribute', 3, '', '138****5678')`,
				scanID, fileID); err != nil {
				t.Fatal(err)
			}
			n, err := e.svc.MaskStoredNames(ctx)
			if err != nil || n != 1 {
				t.Fatalf("MaskStoredNames = %d, %v", n, err)
			}
			if n, err := e.svc.MaskStoredNames(ctx); err != nil || n != 0 {
				t.Fatalf("MaskStoredNames again = %d, %v", n, err)
			}
			if leaks := clearIDs(t, db, nameID); len(leaks) > 0 {
				t.Errorf("stored in clear after MaskStoredNames:\n%s", strings.Join(leaks, "\n"))
			}
			res, err := e.svc.result(ctx, e.auditorA, scanID)
			if err != nil {
				t.Fatal(err)
			}
			masked := dlp.Mask(dlp.TypeResidentID, []byte(nameID))
			if res.Scan.Source != "export_"+masked+".zip" || res.Scan.CountsByType[dlp.TypeResidentID] != 2 ||
				res.Scan.CountsByType[dlp.TypeMobile] != 1 || res.Scan.Findings != 1+len(nameFindings(res.Findings)) {
				t.Errorf("scan after masking: %+v", res.Scan)
			}
			var f File
			for _, x := range res.Files {
				if x.ID == fileID {
					f = x
				}
			}
			if !strings.HasPrefix(f.Path, "export_"+masked+".zip!/") || f.CountsByType[dlp.TypeResidentID] != 2 || f.CountsByType[dlp.TypeMobile] != 1 {
				t.Errorf("file after masking: %+v", f)
			}
			var ids []Finding
			for _, x := range nameFindings(res.Findings) {
				if x.Type == dlp.TypeResidentID {
					ids = append(ids, x)
				}
			}
			if len(ids) != 2 {
				t.Fatalf("ID findings in the path: %+v", res.Findings)
			}
			rev, err := e.svc.Reveal(ctx, e.privacyA, ids[0].ID, "test")
			if err != nil || rev.Value != nameID {
				t.Fatalf("reveal: %+v %v", rev, err)
			}
			var trailed int
			for _, en := range e.trailActions() {
				if en.Action == "dlp.names_masked" {
					trailed++
				}
			}
			if trailed != 1 {
				t.Errorf("%d trail entries of the masking", trailed)
			}
			// A scan stored afterwards is not converted again.
			if _, err := e.svc.ScanUpload(ctx, e.privacyA, e.hospA.ID, patientFile, []byte(plainNote)); err != nil {
				t.Fatal(err)
			}
			if n, err := e.svc.MaskStoredNames(ctx); err != nil || n != 0 {
				t.Fatalf("MaskStoredNames after a new scan = %d, %v", n, err)
			}
		})
	}
}

// TestFileModesAfterFirstScan opens a fresh SQLite store in a data directory as the
// server does, runs a first scan with the raw-value key kept in a file there, and checks
// that the directory is 0700 and the database (with -wal, -shm) and the key file 0600.
func TestFileModesAfterFirstScan(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	db, err := store.Open(ctx, store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, db)
	svc, err := New(db, e.tl, Options{KeyFile: filepath.Join(dir, "dlp.key")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	if _, err := svc.ScanUpload(ctx, e.privacyA, e.hospA.ID, patientFile, []byte(clinicalNote)); err != nil {
		t.Fatal(err)
	}
	modes := map[string]os.FileMode{"": 0o700, "medguard.db": 0o600, "medguard.db-wal": 0o600, "medguard.db-shm": 0o600, "dlp.key": 0o600}
	for name, want := range modes {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("%q: %v", name, err)
			continue
		}
		if got := st.Mode().Perm(); got != want {
			t.Errorf("%q: mode %v, want %v", name, got, want)
		}
	}
}
