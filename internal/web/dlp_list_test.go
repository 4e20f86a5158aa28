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
			// Both lists refuse a page size out of range alike, never clamp it silently.
			for _, limit := range []string{"0", "1000"} {
				code, body := e.api("GET", path+"?limit="+limit, "auditor", nil)
				wantAPIError(t, code, body, http.StatusBadRequest, "limit_out_of_range")
			}
			code, body := e.api("GET", path, "auditor", nil)
			if code != http.StatusOK {
				t.Fatalf("%s: %d %s", path, code, body)
			}
			var got struct {
				Limit  int `json:"limit"`
				Offset int `json:"offset"`
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
			if got.Limit != 50 || got.Offset != 0 {
				t.Errorf("%s: limit %d, offset %d; want 50, 0 (%s)", path, got.Limit, got.Offset, body)
			}
		}
	})
}
