package web

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	dlpsvc "github.com/medguard/medguard/internal/dlp/service"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// nestedZip returns a ZIP holding a ZIP … depth levels deep around a patient note.
func nestedZip(t *testing.T, depth int) []byte {
	t.Helper()
	data := []byte(dlpNote)
	name := "note.txt"
	for i := range depth {
		data = zipOf(t, map[string][]byte{name: data})
		name = "level" + string(rune('a'+i)) + ".zip"
	}
	return data
}

// oversizedZip returns a small ZIP whose one member declares more bytes than a member
// may inflate to (input.DefaultLimits().MaxMemberSize), so that it is not read.
func oversizedZip(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "export/patients.txt", Method: zip.Store,
		CompressedSize64: uint64(len(dlpNote)), UncompressedSize64: 512 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte(dlpNote)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestDLPCheckUnscannableFailsClosed checks that the pre-send check of a gateway blocks,
// under the default policy, an archive it cannot scan in full (nested too deep, or a
// member too large), and that the policy can still say alert.
func TestDLPCheckUnscannableFailsClosed(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newSupplyEnv(t, db)
		files := []struct {
			name, file string
			data       []byte
		}{
			{"too deep", "deep.zip", nestedZip(t, 8)},
			{"too large", "big.zip", oversizedZip(t)},
		}
		check := func(want string) {
			t.Helper()
			for _, f := range files {
				code, body := e.upload("/api/v1/dlp/check", "itops", f.file, f.data)
				var cr dlpsvc.CheckResult
				if code != http.StatusOK || json.Unmarshal(body, &cr) != nil {
					t.Fatalf("%s: %d %s", f.name, code, body)
				}
				if cr.Decision != want || !strings.Contains(strings.Join(cr.Reasons, ","), "unreadable") || cr.Scan.Problems == 0 {
					t.Errorf("%s: decision %s %v (problems %d), want %s for unreadable", f.name, cr.Decision, cr.Reasons, cr.Scan.Problems, want)
				}
				if cr.Decision == dlpsvc.DecisionAllow || strings.Contains(string(body), dlpResidentID) {
					t.Errorf("%s: allowed, or the raw value is in the answer: %s", f.name, body)
				}
			}
		}
		code, body := e.api("GET", "/api/v1/dlp/policy", "privacy", nil)
		if code != http.StatusOK || !strings.Contains(string(body), `"unreadable":"block"`) {
			t.Fatalf("default policy: %d %s", code, body)
		}
		check(dlpsvc.DecisionBlock)
		// An organisation may still choose to let such files through with an alert.
		code, body = e.api("PUT", "/api/v1/dlp/policy", "privacy", map[string]any{"block_level": 0, "alert_level": 0, "unreadable": "alert"})
		if code != http.StatusOK {
			t.Fatalf("put policy: %d %s", code, body)
		}
		check(dlpsvc.DecisionAlert)
	})
}
