package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/dlp"
	dlpsvc "github.com/medguard/medguard/internal/dlp/service"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
	"github.com/medguard/medguard/internal/trail"
)

// A file named after a patient (synthetic: a valid-checksum ID of nobody).
const (
	dlpNameID   = "440305198807150031"
	dlpNameFile = "欧阳锦涛_" + dlpNameID + ".txt"
)

// TestDLPNamesMaskedForAuditors uploads a file named after a patient and runs a job over
// a folder named after one; every list, detail and page an auditor reads shows the
// names masked and never the ID or the name in clear; the privacy officer reveals the ID
// of the name through the finding's reveal, which is trailed.
func TestDLPNamesMaskedForAuditors(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newSupplyEnv(t, db)
		masked := dlp.Mask(dlp.TypeResidentID, []byte(dlpNameID))
		code, body := e.upload("/api/v1/dlp/scan/file", "privacy", dlpNameFile, []byte("会议改到周三下午。"))
		if code != http.StatusCreated || strings.Contains(string(body), dlpNameID) {
			t.Fatalf("upload: %d %s", code, body)
		}
		var up dlpsvc.Result
		if err := json.Unmarshal(body, &up); err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(e.DLPRoot, "转诊_"+dlpNameID)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "minutes.txt"), []byte("会议改到周三下午。"), 0o600); err != nil {
			t.Fatal(err)
		}
		code, body = e.api("POST", "/api/v1/dlp/jobs", "privacy", map[string]any{"path": dir})
		if code != http.StatusAccepted || strings.Contains(string(body), dlpNameID) {
			t.Fatalf("job: %d %s", code, body)
		}
		var job dlpsvc.Scan
		if err := json.Unmarshal(body, &job); err != nil {
			t.Fatal(err)
		}
		e.DLP.Wait()
		up64, job64 := strconv.FormatInt(up.Scan.ID, 10), strconv.FormatInt(job.ID, 10)

		// What an auditor reads: the API and the pages.
		ab := e.newBrowser()
		ab.login("auditor")
		for _, tc := range []struct {
			name, path string
			page       bool
		}{
			{"scan list", "/api/v1/dlp/scans", false},
			{"scan detail", "/api/v1/dlp/scans/" + up64, false},
			{"findings", "/api/v1/dlp/scans/" + up64 + "/findings", false},
			{"job list", "/api/v1/dlp/jobs", false},
			{"job detail", "/api/v1/dlp/jobs/" + job64, false},
			{"scans page", "/dlp/scans", true},
			{"scan page", "/dlp/scans/" + up64, true},
			{"job scan page", "/dlp/scans/" + job64, true},
			{"jobs page", "/dlp/jobs", true},
		} {
			var code int
			var out string
			if tc.page {
				code, out, _ = ab.get(tc.path)
			} else {
				var b []byte
				code, b = e.api("GET", tc.path, "auditor", nil)
				out = string(b)
			}
			if code != http.StatusOK {
				t.Errorf("%s: %d", tc.name, code)
				continue
			}
			for _, raw := range []string{dlpNameID, "欧阳锦涛"} {
				if strings.Contains(out, raw) {
					t.Errorf("%s shows %q to the auditor", tc.name, raw)
				}
			}
			if !strings.Contains(out, masked) {
				t.Errorf("%s: the masked ID %s is missing: %.600s", tc.name, masked, out)
			}
			if tc.page && strings.Contains(out, "/reveal") {
				t.Errorf("%s offers the auditor a reveal", tc.name)
			}
		}

		// The ID of the name is a finding of the file; the auditor may not reveal it,
		// the privacy officer may, and the trail says so without the value.
		var fid int64
		for _, f := range up.Findings {
			if f.Field == dlpsvc.FieldPath && f.Type == dlp.TypeResidentID {
				fid = f.ID
			}
		}
		if fid == 0 || up.Scan.CountsByType[dlp.TypeResidentID] != 1 {
			t.Fatalf("the ID in the name is not a finding: %+v", up)
		}
		path := "/api/v1/dlp/findings/" + strconv.FormatInt(fid, 10) + "/reveal"
		if code, body := e.api("POST", path, "auditor", map[string]string{"reason": "test"}); code != http.StatusForbidden || strings.Contains(string(body), dlpNameID) {
			t.Fatalf("auditor reveal: %d %s", code, body)
		}
		code, body = e.api("POST", path, "privacy", map[string]string{"reason": "test"})
		var rev dlpsvc.Revealed
		if code != http.StatusOK || json.Unmarshal(body, &rev) != nil || rev.Value != dlpNameID || strings.Contains(rev.Path, dlpNameID) {
			t.Fatalf("privacy reveal: %d %s", code, body)
		}
		pb := e.newBrowser()
		pb.login("privacy")
		if code, out, _ := pb.get("/dlp/scans/" + up64); code != http.StatusOK || strings.Contains(out, dlpNameID) ||
			!strings.Contains(out, "/dlp/findings/"+strconv.FormatInt(fid, 10)+"/reveal") {
			t.Fatalf("privacy scan page: %d", code)
		}
		if code, out, _ := pb.post("/dlp/findings/"+strconv.FormatInt(fid, 10)+"/reveal", url.Values{"reason": {"test"}}); code != http.StatusOK || !strings.Contains(out, dlpNameID) {
			t.Fatalf("reveal page: %d", code)
		}
		es, err := trail.List(context.Background(), db, actor.System(), trail.Filter{Action: "dlp.reveal", Limit: 10})
		if err != nil || len(es) != 2 {
			t.Fatalf("reveal trail: %d entries, %v", len(es), err)
		}
		for _, en := range es {
			if en.Actor != "privacy" || en.ObjectID != strconv.FormatInt(fid, 10) || strings.Contains(en.Summary, dlpNameID) {
				t.Errorf("reveal trail entry: %+v", en)
			}
		}
	})
}
