package web

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// TestDLPScanAndJobListsShareOnePaging: the scan list and the job list are one list
// (the job list keeps only directory jobs) and report the page size the service
// really used: a limit out of 1..500 is 50 in both, not echoed back.
func TestDLPScanAndJobListsShareOnePaging(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newSupplyEnv(t, db)
		for _, path := range []string{"/api/v1/dlp/scans", "/api/v1/dlp/jobs"} {
			for _, limit := range []string{"0", "1000"} {
				code, body := e.api("GET", path+"?limit="+limit, "auditor", nil)
				if code != http.StatusOK {
					t.Fatalf("%s?limit=%s: %d %s", path, limit, code, body)
				}
				var got struct {
					Page    int `json:"page"`
					PerPage int `json:"per_page"`
				}
				if err := json.Unmarshal(body, &got); err != nil {
					t.Fatal(err)
				}
				// The job list is the scan list of directory jobs only.
				if path == "/api/v1/dlp/jobs" && strings.Contains(string(body), `"kind":"text"`) {
					t.Errorf("job list shows a text scan: %s", body)
				}
				if path == "/api/v1/dlp/scans" && !strings.Contains(string(body), `"kind":"text"`) {
					t.Errorf("scan list misses the text scan: %s", body)
				}
				if got.PerPage != 50 || got.Page != 1 {
					t.Errorf("%s?limit=%s: page %d, per_page %d; want 1, 50 (%s)", path, limit, got.Page, got.PerPage, body)
				}
			}
		}
	})
}
