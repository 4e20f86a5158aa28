package dlpsvc

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/dlp"
	"github.com/medguard/medguard/internal/lease"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
	"github.com/medguard/medguard/internal/trail"
	"github.com/medguard/medguard/internal/trail/trailtest"
)

// Synthetic patient data: valid-checksum identifiers of nobody.
const (
	residentID   = "440306199003071232"
	mobile       = "13812345678"
	clinicalNote = "患者王小明，身份证号" + residentID + "，手机" + mobile + "，诊断：高血压。\n"
	drugNote     = "阿莫西林胶囊 0.5g 口服 tid\n"
	plainNote    = "今天天气很好，会议改到周三下午。\n"
)

type env struct {
	t            *testing.T
	db           *store.DB
	svc          *Service
	alerts       *alert.Service
	tl           *trail.Log
	root         string
	hospA, hospB org.Node
	deptA        org.Node
	privacyA     actor.Actor // may reveal
	auditorA     actor.Actor // may not
	officerB     actor.Actor
}

func newEnv(t *testing.T, db *store.DB) *env {
	t.Helper()
	ctx := context.Background()
	tl, err := trail.New(trail.SHA256, trailtest.Key(t))
	if err != nil {
		t.Fatal(err)
	}
	orgs := org.NewService(db, tl)
	sys := actor.System()
	mk := func(parent int64, kind, name, code string) org.Node {
		n, err := orgs.Create(ctx, sys, org.Input{ParentID: parent, Kind: kind, Name: name, Code: code})
		if err != nil {
			t.Fatalf("create org %s: %v", name, err)
		}
		return n
	}
	region := mk(0, org.KindRegion, "Test City", "CITY")
	e := &env{t: t, db: db, tl: tl, root: t.TempDir()}
	e.hospA = mk(region.ID, org.KindHospital, "Hospital A", "HA")
	e.hospB = mk(region.ID, org.KindHospital, "Hospital B", "HB")
	e.deptA = mk(e.hospA.ID, org.KindDepartment, "Records A", "HA-REC")
	e.privacyA = actor.Actor{UserID: 0, Username: "privacy", Role: "privacy_officer", OrgID: e.hospA.ID, OrgPath: e.hospA.Path}
	e.auditorA = actor.Actor{Username: "auditor", Role: "auditor", OrgID: e.hospA.ID, OrgPath: e.hospA.Path}
	e.officerB = actor.Actor{Username: "secofficer_b", Role: "security_officer", OrgID: e.hospB.ID, OrgPath: e.hospB.Path}
	key := make([]byte, KeySize)
	copy(key, "0123456789abcdef")
	if e.alerts, err = alert.New(db, tl); err != nil {
		t.Fatal(err)
	}
	e.svc, err = New(db, tl, Options{Key: key, ScanRoots: []string{e.root}, Workers: 2, Alerts: e.alerts,
		MayReveal: func(role string) bool { return role == "privacy_officer" || role == "admin" },
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.svc.Close)
	return e
}

func wantProblem(t *testing.T, err error, kind problem.Kind, code string) {
	t.Helper()
	pe, ok := problem.As(err)
	if !ok || pe.Kind != kind || (code != "" && pe.Code != code) {
		t.Fatalf("got %v, want a problem of kind %v code %q", err, kind, code)
	}
}

// trailActions returns the entries of the trail, oldest first.
func (e *env) trailActions() []trail.Entry {
	e.t.Helper()
	es, err := trail.List(context.Background(), e.db, actor.System(), trail.Filter{Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	slices.Reverse(es)
	return es
}

func TestScanTextStoresMaskedFindings(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		res, err := e.svc.ScanText(ctx, e.privacyA, e.hospA.ID, "ward note", clinicalNote)
		if err != nil {
			t.Fatal(err)
		}
		sc := res.Scan
		if sc.Kind != KindText || sc.Status != StatusDone || sc.Files != 1 || sc.HighestLevel != 4 || !sc.IdentifiesPerson ||
			sc.CountsByType[dlp.TypeResidentID] != 1 || sc.CountsByType[dlp.TypeMobile] != 1 || sc.Source != "ward note" {
			t.Fatalf("scan = %+v", sc)
		}
		if len(res.Files) != 1 || !res.Files[0].IdentifiesPerson || res.Files[0].Findings != sc.Findings {
			t.Fatalf("files = %+v", res.Files)
		}
		blob, _ := json.Marshal(res)
		for _, raw := range []string{residentID, mobile, "王小明"} {
			if strings.Contains(string(blob), raw) {
				t.Errorf("result carries the raw value %q: %s", raw, blob)
			}
		}
		var id *Finding
		for i, f := range res.Findings {
			if f.Type == dlp.TypeResidentID {
				id = &res.Findings[i]
			}
		}
		if id == nil || id.Preview == "" || !id.Revealable || id.Start < 0 || clinicalNote[id.Start:id.End] != residentID {
			t.Fatalf("resident ID finding = %+v", id)
		}
		// Stored: the history lists it, in the right organisation only.
		pg, err := e.svc.Scans(ctx, e.auditorA, ScanQuery{})
		if err != nil || pg.Total != 1 || pg.Items[0].ID != sc.ID {
			t.Fatalf("history = %+v, %v", pg, err)
		}
		pgB, err := e.svc.Scans(ctx, e.officerB, ScanQuery{})
		if err != nil || pgB.Total != 0 {
			t.Fatalf("hospital B sees %+v, %v", pgB, err)
		}
		_, err = e.svc.Scan(ctx, e.officerB, sc.ID)
		wantProblem(t, err, problem.KindNotFound, "")
		_, _, err = e.svc.Findings(ctx, e.officerB, FindingQuery{ScanID: sc.ID})
		wantProblem(t, err, problem.KindNotFound, "")
		_, err = e.svc.ScanText(ctx, e.officerB, e.hospA.ID, "x", clinicalNote)
		wantProblem(t, err, problem.KindNotFound, "")
		// Trailed, without the value.
		var found bool
		for _, en := range e.trailActions() {
			if en.Action == "dlp.scan" && en.ObjectID == idString(sc.ID) {
				found = true
				if strings.Contains(en.Summary, residentID) || strings.Contains(en.Summary, mobile) {
					t.Errorf("trail summary carries a raw value: %q", en.Summary)
				}
			}
		}
		if !found {
			t.Error("the scan is not in the trail")
		}
		_, err = e.svc.ScanText(ctx, e.privacyA, e.hospA.ID, "", "  ")
		wantProblem(t, err, problem.KindInvalid, "dlp_text_required")
	})
}

func TestCheckDecisions(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		tests := []struct {
			name, file, body, want string
			reasons                []string
		}{
			{"plain text is allowed", "minutes.txt", plainNote, DecisionAllow, []string{}},
			{"a prescription alerts", "rx.txt", drugNote, DecisionAlert, []string{"level_alert"}},
			{"a patient record is blocked", "note.txt", clinicalNote, DecisionBlock, []string{"level_block", "identifies_person"}},
		}
		for _, tc := range tests {
			res, err := e.svc.Check(ctx, e.privacyA, e.hospA.ID, tc.file, []byte(tc.body))
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if res.Decision != tc.want || res.Scan.Decision != tc.want || strings.Join(res.Reasons, ",") != strings.Join(tc.reasons, ",") {
				t.Errorf("%s: decision %s %v, want %s %v", tc.name, res.Decision, res.Reasons, tc.want, tc.reasons)
			}
		}
		// An encrypted archive cannot be inspected: the default policy blocks (a
		// gateway fails closed), a laxer one alerts.
		enc := encryptedZip(t)
		res, err := e.svc.Check(ctx, e.privacyA, e.hospA.ID, "secret.zip", enc)
		if err != nil || res.Decision != DecisionBlock || strings.Join(res.Reasons, ",") != "unreadable" || res.Scan.Problems == 0 {
			t.Fatalf("encrypted zip: %+v %v", res, err)
		}
		pol := DefaultPolicy()
		pol.Unreadable = DecisionAlert
		pol.AlertLevel = 0
		if _, err := e.svc.SetPolicy(ctx, e.privacyA, e.hospA.ID, pol); err != nil {
			t.Fatal(err)
		}
		res, err = e.svc.Check(ctx, e.privacyA, e.deptA.ID, "secret.zip", enc)
		if err != nil || res.Decision != DecisionAlert || strings.Join(res.Reasons, ",") != "unreadable" {
			t.Fatalf("encrypted zip under a lax policy, from a department: %+v %v", res.Reasons, err)
		}
		res, err = e.svc.Check(ctx, e.privacyA, e.hospA.ID, "rx.txt", []byte(drugNote))
		if err != nil || res.Decision != DecisionAllow {
			t.Fatalf("alerts switched off: %s %v", res.Decision, err)
		}
		pg, err := e.svc.Scans(ctx, e.privacyA, ScanQuery{Kind: KindCheck, Decision: DecisionBlock})
		if err != nil || pg.Total != 2 {
			t.Fatalf("blocked checks = %d, %v", pg.Total, err)
		}
		_, err = e.svc.Scans(ctx, e.privacyA, ScanQuery{Decision: "maybe"})
		wantProblem(t, err, problem.KindInvalid, "")
		sum, err := e.svc.Summary(ctx, e.privacyA, time.Now().Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		counts := map[string]int{}
		for _, c := range sum.Decisions {
			counts[c.Key] = c.N
		}
		if sum.Scans != 6 || counts[DecisionBlock] != 2 || counts[DecisionAlert] != 2 || counts[DecisionAllow] != 2 || sum.IdentifyingFiles != 1 {
			t.Fatalf("summary = %+v", sum)
		}
	})
}

// encryptedZip returns a ZIP archive whose one member is flagged as encrypted.
func encryptedZip(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "patients.csv", Method: zip.Store, Flags: 0x1})
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("\x00garbled ciphertext\x01\x02"))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// zipOf returns a ZIP archive of the given members.
func zipOf(t *testing.T, members map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range members {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(body))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestUploadArchiveAndCustomIdentifiers(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		pol := DefaultPolicy()
		pol.Custom = []dlp.CustomIdentifier{{Name: "medical_record_no", Pattern: `BA\d{8}`, Context: []string{"病案号"}, RequireContext: true}}
		view, err := e.svc.SetPolicy(ctx, e.privacyA, e.hospA.ID, pol)
		if err != nil || view.FromOrgID != e.hospA.ID || len(view.Custom) != 1 {
			t.Fatalf("set policy: %+v %v", view, err)
		}
		// The department inherits the hospital's policy.
		dv, err := e.svc.Policy(ctx, e.auditorA, e.deptA.ID)
		if err != nil || dv.FromOrgID != e.hospA.ID || len(dv.Custom) != 1 {
			t.Fatalf("department policy: %+v %v", dv, err)
		}
		data := zipOf(t, map[string]string{"notes/a.txt": "病案号 BA20250001 " + clinicalNote, "b.csv": "name,phone\n张三," + mobile + "\n"})
		res, err := e.svc.ScanUpload(ctx, e.privacyA, e.deptA.ID, "../../export.zip", data)
		if err != nil {
			t.Fatal(err)
		}
		if res.Scan.Source != "export.zip" || res.Scan.Files != 2 || res.Scan.CountsByType["medical_record_no"] != 1 {
			t.Fatalf("scan = %+v", res.Scan)
		}
		paths := map[string]bool{}
		for _, f := range res.Files {
			paths[f.Path] = true
		}
		if !paths["export.zip!/notes/a.txt"] || !paths["export.zip!/b.csv"] {
			t.Fatalf("file paths = %v", paths)
		}
		// Hospital B's policy is its own (the defaults).
		bv, err := e.svc.Policy(ctx, e.officerB, e.hospB.ID)
		if err != nil || bv.FromOrgID != 0 || len(bv.Custom) != 0 {
			t.Fatalf("hospital B policy: %+v %v", bv, err)
		}
		for _, bad := range []struct {
			name string
			p    Policy
		}{
			{"bad pattern", Policy{Custom: []dlp.CustomIdentifier{{Name: "mrn", Pattern: `(`}}}},
			{"built-in name", Policy{Custom: []dlp.CustomIdentifier{{Name: "email", Pattern: `x`}}}},
			{"level", Policy{BlockLevel: 7}},
			{"unreadable", Policy{Unreadable: "maybe"}},
		} {
			_, err := e.svc.SetPolicy(ctx, e.privacyA, e.hospA.ID, bad.p)
			if pe, ok := problem.As(err); !ok || pe.Kind != problem.KindInvalid {
				t.Errorf("%s: %v, want invalid", bad.name, err)
			}
		}
		_, err = e.svc.SetPolicy(ctx, e.officerB, e.hospA.ID, pol)
		wantProblem(t, err, problem.KindNotFound, "")
	})
}

func TestJobsStayUnderScanRoots(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		outside := t.TempDir()
		write := func(p, body string) {
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		write(filepath.Join(e.root, "ward", "note.txt"), clinicalNote)
		write(filepath.Join(e.root, "ward", "minutes.txt"), plainNote)
		write(filepath.Join(e.root, "exports", "batch.zip"), string(zipOf(t, map[string]string{"p.csv": "phone\n" + mobile + "\n"})))
		write(filepath.Join(outside, "secret.txt"), clinicalNote)
		// A link inside the root that leads out of it is reported, not followed.
		if err := os.Symlink(filepath.Join(outside, "secret.txt"), filepath.Join(e.root, "ward", "escape.txt")); err != nil {
			t.Fatal(err)
		}
		// A link that leads out of the roots is refused as a job path.
		if err := os.Symlink(outside, filepath.Join(e.root, "out")); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct{ name, path, code string }{
			{"outside", outside, "dlp_path_outside_roots"},
			{"dot-dot", filepath.Join(e.root, "..", filepath.Base(outside)), "dlp_path_outside_roots"},
			{"symlink escape", filepath.Join(e.root, "out"), "dlp_path_outside_roots"},
			{"relative", "ward", "dlp_path_invalid"},
			{"missing", filepath.Join(e.root, "nope"), "dlp_path_missing"},
		} {
			_, err := e.svc.StartJob(ctx, e.privacyA, e.hospA.ID, tc.path)
			pe, ok := problem.As(err)
			if !ok || pe.Code != tc.code {
				t.Errorf("%s (%s): %v, want %s", tc.name, tc.path, err, tc.code)
			}
		}
		sc, err := e.svc.StartJob(ctx, e.privacyA, e.hospA.ID, e.root)
		if err != nil {
			t.Fatal(err)
		}
		if sc.Status != StatusQueued || sc.Kind != KindJob {
			t.Fatalf("started job = %+v", sc)
		}
		e.svc.Wait()
		got, err := e.svc.Scan(ctx, e.auditorA, sc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != StatusDone || got.FilesTotal != 3 || got.FilesDone != 3 || got.Files != 3 || got.Problems != 2 ||
			got.HighestLevel != 4 || !got.IdentifiesPerson || got.FinishedAt == nil {
			t.Fatalf("finished job = %+v", got)
		}
		files, total, err := e.svc.Files(ctx, e.auditorA, sc.ID, 100, 0)
		if err != nil || total != 5 {
			t.Fatalf("files: %d %v", total, err)
		}
		// Both links that lead out (to a file, to a directory) are problems, listed first.
		for _, f := range files[:2] {
			if f.Problem != ReasonOutsideRoots || !(strings.HasSuffix(f.Path, "escape.txt") || strings.HasSuffix(f.Path, "out")) {
				t.Errorf("file %+v, want an escaping link as a problem", f)
			}
		}
		for _, f := range files {
			if strings.HasPrefix(f.Path, outside) {
				t.Errorf("the job read %s outside the roots", f.Path)
			}
		}
		actions := map[string]bool{}
		for _, en := range e.trailActions() {
			if en.ObjectID == idString(sc.ID) {
				actions[en.Action] = true
			}
		}
		if !actions["dlp.job_start"] || !actions["dlp.job_done"] {
			t.Errorf("trail of the job: %v", actions)
		}
		pg, err := e.svc.Scans(ctx, e.auditorA, ScanQuery{Kind: KindJob, Status: StatusDone})
		if err != nil || pg.Total != 1 {
			t.Fatalf("job history: %+v %v", pg, err)
		}
	})
}

func TestNoScanRoots(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		e.svc.opt.ScanRoots = nil
		_, err := e.svc.StartJob(context.Background(), e.privacyA, e.hospA.ID, e.root)
		wantProblem(t, err, problem.KindInvalid, "dlp_no_scan_roots")
	})
}

func TestRestartMarksRunningJobsFailed(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		var ids []int64
		err := db.InTx(ctx, func(tx *store.Tx) error {
			for _, st := range []string{StatusQueued, StatusRunning, StatusDone} {
				sc := Scan{OrgID: e.hospA.ID, Kind: KindJob, Source: e.root, Status: st, CreatedAt: time.Now().UTC()}
				if err := e.svc.insertScan(ctx, tx, e.privacyA, &sc); err != nil {
					return err
				}
				ids = append(ids, sc.ID)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		n, err := e.svc.Recover(ctx, nil)
		if err != nil || n != 2 {
			t.Fatalf("recover: %d %v", n, err)
		}
		for i, want := range []string{StatusFailed, StatusFailed, StatusDone} {
			sc, err := e.svc.Scan(ctx, e.auditorA, ids[i])
			if err != nil || sc.Status != want || (want == StatusFailed && (sc.Error == "" || sc.FinishedAt == nil)) {
				t.Errorf("scan %d: %+v %v, want %s", i, sc, err, want)
			}
		}
	})
}

// TestRecoverTakesOverOnlyDeadOwnersJobs: a job whose owner's lease lives is left
// alone, whoever recovers; a job whose owner's lease expired, or that has no owner, is
// marked failed. StartJob records this process's lease as the job's owner.
func TestRecoverTakesOverOnlyDeadOwnersJobs(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		t0 := time.Now()
		clock := t0
		alive := lease.New(db, "node:alive", 10*time.Second, nil)
		dead := lease.New(db, "node:dead", 10*time.Second, nil)
		for _, m := range []*lease.Manager{alive, dead} {
			m.SetClock(func() time.Time { return clock })
			if ok, err := m.Acquire(ctx, m.Holder()); err != nil || !ok {
				t.Fatal(ok, err)
			}
		}
		var ids []int64
		err := db.InTx(ctx, func(tx *store.Tx) error {
			for _, owner := range []string{"node:alive", "node:dead", ""} {
				e.svc.SetOwner(owner)
				sc := Scan{OrgID: e.hospA.ID, Kind: KindJob, Source: e.root, Status: StatusRunning, CreatedAt: time.Now().UTC()}
				if err := e.svc.insertScan(ctx, tx, e.privacyA, &sc); err != nil {
					return err
				}
				ids = append(ids, sc.ID)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		status := func() []string {
			var out []string
			for _, id := range ids {
				sc, err := e.svc.Scan(ctx, e.auditorA, id)
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, sc.Status)
			}
			return out
		}
		// Both leases live: only the job without an owner is taken over.
		if n, err := e.svc.Recover(ctx, alive); err != nil || n != 1 {
			t.Fatalf("recover with both owners alive: %d %v", n, err)
		}
		if diff := cmp.Diff([]string{StatusRunning, StatusRunning, StatusFailed}, status()); diff != "" {
			t.Fatal(diff)
		}
		// The dead process stops renewing; the live one renews.
		clock = t0.Add(8 * time.Second)
		if ok, err := alive.Renew(ctx, alive.Holder()); err != nil || !ok {
			t.Fatal(ok, err)
		}
		clock = t0.Add(11 * time.Second)
		if n, err := e.svc.Recover(ctx, alive); err != nil || n != 1 {
			t.Fatalf("recover after the dead owner's lease expired: %d %v", n, err)
		}
		if diff := cmp.Diff([]string{StatusRunning, StatusFailed, StatusFailed}, status()); diff != "" {
			t.Fatal(diff)
		}

		// A job started by this process is owned by its lease.
		e.svc.SetOwner("node:alive")
		sc, err := e.svc.StartJob(ctx, e.privacyA, e.hospA.ID, e.root)
		if err != nil {
			t.Fatal(err)
		}
		e.svc.Wait()
		var owner string
		if err := db.QueryRowContext(ctx, `SELECT owner FROM dlp_scans WHERE id = ?`, sc.ID).Scan(&owner); err != nil || owner != "node:alive" {
			t.Fatalf("owner of a started job: %q %v", owner, err)
		}
	})
}

func TestReveal(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		res, err := e.svc.ScanText(ctx, e.privacyA, e.hospA.ID, "", clinicalNote)
		if err != nil {
			t.Fatal(err)
		}
		var f Finding
		for _, x := range res.Findings {
			if x.Type == dlp.TypeResidentID {
				f = x
			}
		}
		before := len(e.trailActions())
		_, err = e.svc.Reveal(ctx, e.auditorA, f.ID, "test")
		wantProblem(t, err, problem.KindForbidden, "permission_denied")
		adminB := actor.Actor{Username: "admin_b", Role: "admin", OrgID: e.hospB.ID, OrgPath: e.hospB.Path}
		_, err = e.svc.Reveal(ctx, adminB, f.ID, "test")
		wantProblem(t, err, problem.KindNotFound, "")
		if n := len(e.trailActions()); n != before {
			t.Fatalf("refused reveals wrote %d trail entries", n-before)
		}
		got, err := e.svc.Reveal(ctx, e.privacyA, f.ID, "test")
		if err != nil || got.Value != residentID || got.Type != dlp.TypeResidentID || got.ScanID != res.Scan.ID {
			t.Fatalf("reveal = %+v %v", got, err)
		}
		es := e.trailActions()
		last := es[len(es)-1]
		if last.Action != "dlp.reveal" || last.ObjectID != idString(f.ID) || last.Actor != "privacy" ||
			!strings.Contains(last.Summary, dlp.TypeResidentID) || strings.Contains(last.Summary, residentID) {
			t.Fatalf("trail entry of the reveal = %+v", last)
		}
		// The value is sealed at rest: the stored bytes do not contain it.
		var sealed []byte
		if err := db.QueryRowContext(ctx, `SELECT sealed FROM dlp_findings WHERE id = ?`, f.ID).Scan(&sealed); err != nil {
			t.Fatal(err)
		}
		if len(sealed) == 0 || bytes.Contains(sealed, []byte(residentID)) {
			t.Fatalf("sealed value = %x", sealed)
		}
		// Another key does not open it.
		other, _ := newSealer([]byte("fedcba9876543210"))
		if _, err := other.Open(f.ScanID, f.Type, sealed); err == nil {
			t.Fatal("a different key opened the sealed value")
		}
		// After the retention the raw values are purged and reveal says so.
		e.svc.opt.RawRetention = 24 * time.Hour
		e.svc.SetClock(func() time.Time { return time.Now().Add(48 * time.Hour) })
		n, err := e.svc.PurgeExpired(ctx)
		if err != nil || n != res.Scan.Findings {
			t.Fatalf("purged %d of %d: %v", n, res.Scan.Findings, err)
		}
		_, err = e.svc.Reveal(ctx, e.privacyA, f.ID, "test")
		wantProblem(t, err, problem.KindConflict, "dlp_raw_purged")
		ff, err := e.svc.Finding(ctx, e.privacyA, f.ID)
		if err != nil || ff.Revealable || ff.Preview != f.Preview {
			t.Fatalf("purged finding = %+v %v", ff, err)
		}
	})
}

func TestLoadOrCreateKey(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "sub", "dlp.key")
	k1, err := LoadOrCreateKey(p)
	if err != nil || len(k1) != KeySize {
		t.Fatalf("create: %x %v", k1, err)
	}
	st, err := os.Stat(p)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v %v", st.Mode(), err)
	}
	k2, err := LoadOrCreateKey(p)
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatalf("reload: %x %v", k2, err)
	}
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateKey(p); err == nil {
		t.Fatal("a world-readable key file was accepted")
	}
	short := filepath.Join(dir, "short.key")
	if err := os.WriteFile(short, []byte("abc"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateKey(short); err == nil {
		t.Fatal("a short key file was accepted")
	}
}

// TestTrailMasksSourceNames uploads a file named after a patient: the scan
// stores its name masked (the raw values are sealed findings of the file, see
// TestNamesAreMaskedAndSealed), and so does the trail (kept for years, never
// edited).
func TestTrailMasksSourceNames(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		name := "出院小结_" + residentID + "_" + mobile + ".txt"
		res, err := e.svc.ScanUpload(ctx, e.privacyA, e.hospA.ID, name, []byte(clinicalNote))
		if err != nil {
			t.Fatal(err)
		}
		if want := "出院小结_" + dlp.Mask(dlp.TypeResidentID, []byte(residentID)) + "_" + dlp.Mask(dlp.TypeMobile, []byte(mobile)) + ".txt"; res.Scan.Source != want {
			t.Errorf("stored source = %q, want %q", res.Scan.Source, want)
		}
		var found bool
		for _, en := range e.trailActions() {
			if en.Action != "dlp.scan" || en.ObjectID != idString(res.Scan.ID) {
				continue
			}
			found = true
			blob, _ := json.Marshal(en)
			for _, raw := range []string{residentID, mobile} {
				if strings.Contains(string(blob), raw) {
					t.Errorf("trail entry carries %q: %s", raw, blob)
				}
			}
			if want := residentID[:3] + "***********" + residentID[14:]; !strings.Contains(en.Summary, want) ||
				!strings.Contains(en.Summary, "出院小结_") {
				t.Errorf("trail summary %q, want the name with %s", en.Summary, want)
			}
		}
		if !found {
			t.Error("the scan is not in the trail")
		}
	})
}

// TestDecideUnreadableFailsClosed: a file that could not be read in full is blocked
// unless the policy says otherwise, also under a stored policy that lacks the field.
func TestDecideUnreadableFailsClosed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ unreadable, want string }{
		{"", DecisionBlock}, {DecisionBlock, DecisionBlock}, {DecisionAlert, DecisionAlert}, {DecisionAllow, DecisionAllow},
	} {
		p := Policy{Unreadable: tc.unreadable}
		if got, _ := p.Decide(0, false, true); got != tc.want {
			t.Errorf("unreadable %q: %s, want %s", tc.unreadable, got, tc.want)
		}
	}
	if p := DefaultPolicy(); p.Unreadable != DecisionBlock {
		t.Errorf("the default policy lets unreadable files %s", p.Unreadable)
	}
}
