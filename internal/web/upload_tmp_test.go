package web

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/auth"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// uploadCase is one multipart request to an upload route: its parts (a file part larger
// than multipartMemory is added to each) and the status it must get.
type uploadCase struct {
	name  string
	parts func() []mpPart
	want  int
}

// TestUploadsLeaveNoTempFiles sends, to every route of the route table that accepts an
// upload, accepted, refused (no CSRF token, a role without the permission) and failed
// (bad content) multipart requests with a part larger than the in-memory limit, over
// real HTTP, and checks after each that the temporary folder is empty. A new upload
// route without cases here fails the test.
func TestUploadsLeaveNoTempFiles(t *testing.T) {
	e := newSupplyEnv(t, storetest.Open(t, store.SQLite))
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // os.TempDir, which mime/multipart uses, reads it on each call
	if os.TempDir() != tmp {
		t.Fatalf("os.TempDir() = %q, want %q", os.TempDir(), tmp)
	}

	pad := bytes.Repeat([]byte("p"), multipartMemory+1<<20)
	padded := func(parts ...mpPart) func() []mpPart {
		return func() []mpPart { return append(parts, mpPart{"padding", "padding.bin", pad}) }
	}
	adv, err := os.ReadFile("testdata/supply/osv-new/GHSA-test-0003.json")
	if err != nil {
		t.Fatal(err)
	}
	sbomDoc := supplySBOM(t)
	manifest := mustManifest(t, "1.0", fileOf("app.bin", []byte("x")))
	csv := []byte("code,name,kind,zone\nTMP-1,Temp test server,server,internal\n")
	// bigBad is a bad document larger than the in-memory limit.
	bigBad := bytes.Repeat([]byte("\x00not a document "), (multipartMemory+1<<20)/16)
	plain := func(parts ...mpPart) func() []mpPart { return func() []mpPart { return parts } }

	// Cases per upload route: one accepted and one failed request each; the refusals are
	// made for every route below.
	sbomCases := []uploadCase{
		{"accepted", padded(mpPart{"sbom", "app.cdx.json", sbomDoc}), http.StatusOK},
		{"failed: bad SBOM", plain(mpPart{"sbom", "broken.json", bigBad}), http.StatusBadRequest},
	}
	deliveryCases := []uploadCase{
		{"accepted", padded(mpPart{"manifest", "m.json", manifest}, mpPart{"files", "app.bin", []byte("x")}), http.StatusCreated},
		{"failed: bad manifest", plain(mpPart{"manifest", "m.json", []byte(`{"schema":`)}, mpPart{"files", "app.bin", bigBad}), http.StatusBadRequest},
	}
	vulnCases := []uploadCase{
		{"accepted", padded(mpPart{"file", "GHSA-test-0003.json", adv}), http.StatusOK},
		// A file that is no OSV export is reported as skipped.
		{"failed: bad zip", plain(mpPart{"file", "osv.zip", bigBad}), http.StatusOK},
	}
	notes := bytes.Repeat([]byte("nothing to see here\n"), (multipartMemory+1<<20)/20)
	dlpCases := func(accepted int) []uploadCase {
		return []uploadCase{
			{"accepted", plain(mpPart{"file", "notes.txt", notes}), accepted},
			{"failed: no file", padded(mpPart{"name", "", []byte("x")}), http.StatusBadRequest},
		}
	}
	assetCases := []uploadCase{
		{"accepted", padded(mpPart{"dry_run", "", []byte("true")}, mpPart{"file", "assets.csv", csv}), http.StatusOK},
		// A file with NUL bytes is not text: refused whole (textenc.ErrBinary).
		{"failed: not text", plain(mpPart{"file", "assets.csv", bigBad}), http.StatusBadRequest},
	}
	apkFile, err := os.ReadFile("../apk/testdata/apksig/golden-aligned-v1v2v3-out.apk")
	if err != nil {
		t.Fatal(err)
	}
	apkCases := func(accepted int) []uploadCase {
		return []uploadCase{
			{"accepted", padded(mpPart{"file", "app.apk", apkFile}), accepted},
			{"failed: not an APK", plain(mpPart{"file", "app.apk", bigBad}), http.StatusBadRequest},
		}
	}
	evidence := bytes.Repeat([]byte("14:02 ransom note found on the HIS file share\n"), 64)
	attachmentCases := []uploadCase{
		// The route takes at most 20 MiB, less than multipartMemory: nothing is padded.
		{"accepted", plain(mpPart{"file", "timeline.txt", evidence}), http.StatusCreated},
		{"failed: too large", plain(mpPart{"file", "screen.png", bigBad}), http.StatusBadRequest},
		{"failed: disguised", plain(mpPart{"file", "screen.png", evidence}), http.StatusBadRequest},
	}
	pdf := []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
	evidenceCases := []uploadCase{
		{"accepted", plain(mpPart{"file", "report.pdf", pdf}), http.StatusOK},
		{"failed: not a known type", plain(mpPart{"file", "dump.pdf", []byte("\x00\x01 not a document")}), http.StatusBadRequest},
	}
	// An assessment's evidence: the item is a form field; at most 20 MiB, nothing padded.
	assessCases := func(accepted int) []uploadCase {
		item := mpPart{"item", "", []byte("8.1.4.1.a")}
		return []uploadCase{
			{"accepted", plain(item, mpPart{"file", "report.pdf", pdf}), accepted},
			{"failed: too large", plain(item, mpPart{"file", "report.pdf", bigBad}), http.StatusBadRequest},
			{"failed: disguised", plain(item, mpPart{"file", "report.pdf", evidence}), http.StatusBadRequest},
		}
	}
	// A policy's document and a self-check's report (package policy): at most 20 MiB, like
	// the incident attachments, so nothing is padded.
	policyFileCases := []uploadCase{
		{"accepted", plain(mpPart{"file", "policy.pdf", pdf}), http.StatusCreated},
		{"failed: too large", plain(mpPart{"file", "policy.pdf", bigBad}), http.StatusBadRequest},
		{"failed: disguised", plain(mpPart{"file", "policy.png", evidence}), http.StatusBadRequest},
	}
	vid := strconv.FormatInt(e.VersionA.ID, 10)
	cases := map[string][]uploadCase{
		"POST /api/v1/versions/{id}/sbom":         sbomCases,
		"POST /api/v1/sbom/check":                 sbomCases,
		"POST /api/v1/versions/{id}/deliveries":   deliveryCases,
		"POST /api/v1/vulndb/import":              vulnCases,
		"POST /api/v1/dlp/scan/file":              dlpCases(http.StatusCreated),
		"POST /api/v1/dlp/check":                  dlpCases(http.StatusOK),
		"POST /api/v1/assets/import":              assetCases,
		"POST /supply/versions/{id}/sbom":         sbomCases,
		"POST /supply/versions/{id}/deliveries":   deliveryCases,
		"POST /supply/vulndb":                     vulnCases,
		"POST /dlp/scan":                          dlpCases(http.StatusOK),
		"POST /assets/import":                     assetCases,
		"POST /api/v1/apps/{id}/inspections":      apkCases(http.StatusCreated),
		"POST /apps/{id}/inspections":             apkCases(http.StatusOK),
		"POST /api/v1/incidents/{id}/attachments": attachmentCases,
		"POST /incidents/{id}/attachments":        evidenceCases,
		"POST /api/v1/training/courses/{id}/questions/import": {
			{"accepted", plain(mpPart{"file", "bank.csv", []byte("type,question,answer\ntruefalse,离开电脑要锁屏,对\n")}), http.StatusOK},
			{"failed: not text", plain(mpPart{"file", "bank.csv", bigBad}), http.StatusUnprocessableEntity},
		},
		"POST /training/courses/{id}/questions/import": {
			{"accepted", plain(mpPart{"file", "bank.csv", []byte("题型,题目,答案\n判断,离开电脑要锁屏,对\n")}), http.StatusOK},
			{"failed: not text", plain(mpPart{"file", "bank.csv", bigBad}), http.StatusUnprocessableEntity},
		},
		"POST /api/v1/compliance/assessments/{id}/files": assessCases(http.StatusCreated),
		"POST /compliance/assessments/{id}/files":        assessCases(http.StatusOK),
		"POST /api/v1/policies/{id}/document":            policyFileCases,
		"POST /api/v1/selfchecks/{id}/report":            policyFileCases,
		"POST /policies/{id}/document":                   policyFileCases,
		"POST /selfchecks/{id}/report":                   policyFileCases,
		// Compliance: data flows (package dataflow).
		"POST /api/v1/dataflows/{id}/attachments": attachmentCases,
		"POST /api/v1/dataflows/import": {
			{"accepted", plain(mpPart{"file", "register.csv", []byte("name,recipient,recipient_kind,categories,purpose,legal_basis,source_assets\n" +
				"Stats,Health commission,regulator,public_health:2,monthly statistics,legal_obligation,A-001\n")}), http.StatusCreated},
			{"failed: too large", plain(mpPart{"file", "register.csv", bigBad}), http.StatusBadRequest},
		},
		"POST /dataflows/{id}/attachments": evidenceCases,
		"POST /dataflows/import": {
			{"accepted", plain(mpPart{"file", "register.csv", []byte("name,recipient,recipient_kind,categories,purpose,legal_basis,source_assets\n" +
				"Stats,Health commission,regulator,public_health:2,monthly statistics,legal_obligation,A-001\n")}), http.StatusSeeOther},
			{"failed: a wrong line", plain(mpPart{"file", "register.csv", []byte("name,recipient,recipient_kind,categories,purpose,legal_basis,source_assets\n" +
				"Stats,Health commission,regulator,public_health:9,monthly statistics,legal_obligation,A-001\n")}), http.StatusBadRequest},
			{"failed: too large", plain(mpPart{"file", "register.csv", bigBad}), http.StatusBadRequest},
		},
	}

	check := func(what string) {
		t.Helper()
		ents, err := os.ReadDir(tmp)
		if err != nil {
			t.Fatal(err)
		}
		if len(ents) == 0 {
			return
		}
		var names []string
		for _, ent := range ents {
			names = append(names, ent.Name())
			os.RemoveAll(tmp + "/" + ent.Name())
		}
		t.Errorf("%s left %d temporary files: %s", what, len(ents), strings.Join(names, ", "))
	}
	browsers := map[string]*browser{}
	browserOf := func(user string) *browser {
		if b := browsers[user]; b != nil {
			return b
		}
		b := e.newBrowser()
		b.login(user)
		browsers[user] = b
		return b
	}
	// send posts parts to path as user, through the API (token) or a signed-in browser
	// (with its CSRF token when csrf is set). A refusal before the body is read may close
	// the connection while the client still writes: that is answered 0.
	send := func(rt route, path, user string, parts []mpPart, csrf bool) int {
		t.Helper()
		client := http.DefaultClient
		auth := ""
		if !rt.API {
			b := browserOf(user)
			b.get("/")
			if csrf {
				parts = append([]mpPart{{"csrf", "", []byte(b.csrf)}}, parts...)
			}
			client = b.client
		} else if user != "" {
			auth = "Bearer " + e.Tokens[user]
		}
		body, ct := multipartBody(t, parts...)
		req, _ := http.NewRequest("POST", e.URL+path, body)
		req.Header.Set("Content-Type", ct)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0
		}
		defer resp.Body.Close()
		io.Copy(io.Discard, resp.Body)
		return resp.StatusCode
	}
	// refusedBy names a hospital-A user whose role lacks perm ("" when every role has it).
	refusedBy := func(perm auth.Permission) string {
		for _, role := range []string{auth.RoleAuditor, auth.RoleAppOperator, auth.RolePrivacy, auth.RoleITOps, auth.RoleSecurity} {
			if !auth.Allowed(role, perm) {
				return roleUser[role]
			}
		}
		return ""
	}

	seen := map[string]bool{}
	for _, rt := range e.srv.routes {
		if rt.Upload == 0 {
			continue
		}
		key := rt.Method + " " + rt.Pattern
		seen[key] = true
		cs, ok := cases[key]
		if !ok {
			t.Errorf("upload route %s has no cases in TestUploadsLeaveNoTempFiles", key)
			continue
		}
		path := strings.Replace(rt.Pattern, "{id}", vid, 1)
		if strings.Contains(rt.Pattern, "/apps/") {
			path = strings.Replace(rt.Pattern, "{id}", strconv.FormatInt(e.AppA.ID, 10), 1)
		}
		if strings.Contains(rt.Pattern, "/dataflows/") {
			path = strings.Replace(rt.Pattern, "{id}", strconv.FormatInt(e.DataflowA.ID, 10), 1)
		}
		if strings.Contains(rt.Pattern, "/incidents/") {
			path = strings.Replace(rt.Pattern, "{id}", strconv.FormatInt(e.IncidentA.ID, 10), 1)
		}
		if strings.Contains(rt.Pattern, "/training/") {
			path = strings.Replace(rt.Pattern, "{id}", strconv.FormatInt(e.TrainingCourseA.ID, 10), 1)
		}
		if strings.Contains(rt.Pattern, "/compliance/assessments/") {
			path = strings.Replace(rt.Pattern, "{id}", strconv.FormatInt(e.AssessA.ID, 10), 1)
		}
		if strings.Contains(rt.Pattern, "/policies/") {
			path = strings.Replace(rt.Pattern, "{id}", strconv.FormatInt(e.PolicyA.ID, 10), 1)
		}
		if strings.Contains(rt.Pattern, "/selfchecks/") {
			path = strings.Replace(rt.Pattern, "{id}", strconv.FormatInt(e.SelfCheckA.ID, 10), 1)
		}
		for _, c := range cs {
			code := send(rt, path, "admin", c.parts(), true)
			want := c.want
			if !rt.API && (code == http.StatusSeeOther || code == http.StatusOK) && want/100 == 2 {
				// The pages answer success with a redirect or a page, never 201.
				code = want
			}
			if code != want {
				t.Errorf("%s %s: status %d, want %d", key, c.name, code, want)
			}
			check(key + " " + c.name)
		}
		if u := refusedBy(rt.Perm); u != "" {
			if code := send(rt, path, u, padded()(), true); code != http.StatusForbidden && code != 0 {
				t.Errorf("%s as %s: status %d, want 403", key, u, code)
			}
			check(key + " refused (role)")
		}
		if !rt.API {
			if code := send(rt, path, "admin", cs[0].parts(), false); code != http.StatusForbidden {
				t.Errorf("%s without CSRF token: status %d, want 403", key, code)
			}
			check(key + " refused (no CSRF token)")
		}
	}
	for key := range cases {
		if !seen[key] {
			t.Errorf("%s has cases here but is not an upload route (set Upload in routes.go)", key)
		}
	}

	// A read-only user's large form to a route that takes no upload, without a CSRF
	// token: refused by the gate after it has parsed the form.
	if code := send(route{Pattern: "/logout"}, "/logout", "auditor", padded()(), false); code != http.StatusForbidden {
		t.Errorf("POST /logout without CSRF token: status %d, want 403", code)
	}
	check("POST /logout refused (no CSRF token)")
}

// TestMultipartBodiesAreBounded sends a form to a page that takes no upload, with the
// CSRF token in the header (so the gate has no need to read the body) and a file part
// larger than maxUpload before the form's fields: the gate bounds every multipart body,
// so the form is refused instead of being written to disk in full and acted on.
func TestMultipartBodiesAreBounded(t *testing.T) {
	e := newTestEnv(t, storetest.Open(t, store.SQLite))
	b := e.newBrowser()
	b.login("admin")
	b.get("/orgs")
	body, ct := multipartBody(t, mpPart{"padding", "padding.bin", bytes.Repeat([]byte("p"), maxUpload+multipartOverhead)},
		mpPart{"parent_id", "", []byte(strconv.FormatInt(e.HospA.ID, 10))}, mpPart{"kind", "", []byte("department")},
		mpPart{"name", "", []byte("Bounded dept")}, mpPart{"code", "", []byte("HA-BND")})
	req, _ := http.NewRequest("POST", e.URL+"/orgs", body)
	req.Header.Set("Content-Type", ct)
	req.Header.Set(csrfHeader, b.csrf)
	resp, err := b.client.Do(req)
	if err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusSeeOther {
			t.Fatalf("a %d MiB form was read in full and acted on", (maxUpload+multipartOverhead)>>20)
		}
	}
	nodes, err := e.Orgs.List(context.Background(), actor.System())
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		if n.Name == "Bounded dept" {
			t.Fatalf("the organisation of an oversized form was created: %+v", n)
		}
	}
}
