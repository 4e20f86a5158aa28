package web

import (
	"bytes"
	"crypto/x509"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/portal"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// upload posts file as the multipart field "file" to path with the remembered CSRF
// token, as the app page's form does.
func (b *browser) upload(path, name string, file []byte) (int, string, http.Header) {
	b.e.t.Helper()
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	mw.WriteField("csrf", b.csrf)
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(file)
	mw.Close()
	req, _ := http.NewRequest("POST", b.e.URL+path, &mp)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := b.client.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), resp.Header
}

// TestAppInspectionPages: the app page uploads an APK and lists the inspection with its
// findings; a file that is not an APK is answered on the page at the file field and
// stores nothing; another hospital's app is not found; the portal check runs on a filed
// address only and its findings join the app's.
func TestAppInspectionPages(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newSupplyEnv(t, db)
		golden, err := os.ReadFile("../apk/testdata/apksig/golden-aligned-v1v2v3-out.apk")
		if err != nil {
			t.Fatal(err)
		}
		page := fmt.Sprintf("/apps/%d", e.AppA.ID)
		b := e.newBrowser()
		b.login("appops")
		if code, body, _ := b.get(page); code != http.StatusOK || !strings.Contains(body, `id="app-inspect"`) || !strings.Contains(body, `id="app-inspections-none"`) {
			t.Fatalf("the app page offers no upload: %d", code)
		}
		code, _, h := b.upload(page+"/inspections", "tinyapp.apk", golden)
		if code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), page+"?flash=flash.app.inspected") {
			t.Fatalf("upload: %d %q", code, h.Get("Location"))
		}
		_, body, _ := b.get(page)
		for _, want := range []string{"tinyapp.apk", "android.appsecurity.cts.tinyapp", `class="badge ok">verified`} {
			if !strings.Contains(body, want) {
				t.Errorf("the app page lacks %q", want)
			}
		}
		findings := body[strings.Index(body, `id="app-findings"`):]
		for _, want := range []string{"APK package differs from the one filed", "APK signed by a certificate no official version names"} {
			if !strings.Contains(findings, want) {
				t.Errorf("the findings lack %q", want)
			}
		}
		code, body, _ = b.upload(page+"/inspections", "notes.txt", []byte("PK\x03\x04 this is no zip"))
		if code != http.StatusBadRequest || !strings.Contains(body, `id="err-file"`) || strings.Count(body, `id="inspection-`) != 1 {
			t.Errorf("not an APK: %d, field error %v, inspections %d", code, strings.Contains(body, `id="err-file"`), strings.Count(body, `id="inspection-`))
		}
		if code, _, _ := b.upload(fmt.Sprintf("/apps/%d/inspections", e.AppB.ID), "tinyapp.apk", golden); code != http.StatusNotFound {
			t.Errorf("another hospital's app: %d", code)
		}

		// The portal check, on a loopback TLS site filed as a channel's address.
		site := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte("<html>portal</html>"))
		}))
		defer site.Close()
		roots := x509.NewCertPool()
		roots.AddCert(site.Certificate())
		e.srv.WebCheck = portal.Options{RootCAs: roots}
		if _, err := db.ExecContext(t.Context(), `UPDATE app_channels SET url = ? WHERE app_id = ?`, site.URL, e.AppA.ID); err != nil {
			t.Fatal(err)
		}
		ops := e.newBrowser()
		ops.login("itops")
		if _, body, _ := ops.get(page); !strings.Contains(body, `<option value="`+site.URL+`">`) {
			t.Fatalf("the check offers no filed address")
		}
		if code, body, _ := ops.post(page+"/webcheck", url.Values{"url": {"https://169.254.169.254/latest/meta-data"}}); code != http.StatusBadRequest ||
			!strings.Contains(body, `id="err-url"`) {
			t.Errorf("an address not filed: %d", code)
		}
		if code, _, h := ops.post(page+"/webcheck", url.Values{"url": {site.URL}}); code != http.StatusSeeOther ||
			!strings.Contains(h.Get("Location"), "flash.app.webchecked") {
			t.Fatalf("check: %d %q", code, h.Get("Location"))
		}
		if _, body, _ := ops.get(page); !strings.Contains(body, site.URL+" · hsts") {
			t.Error("the check's findings are not the app's")
		}
		if code, _, _ := ops.post(fmt.Sprintf("/apps/%d/webcheck", e.AppB.ID), url.Values{"url": {site.URL}}); code != http.StatusNotFound {
			t.Errorf("another hospital's app checked: %d", code)
		}
	})
}
