package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/auth"
	"github.com/medguard/medguard/internal/dlp"
	dlpsvc "github.com/medguard/medguard/internal/dlp/service"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
	"github.com/medguard/medguard/internal/trail"
)

// Synthetic patient data: valid-checksum identifiers of nobody.
const (
	dlpResidentID = "440306199003071232"
	dlpMobile     = "13812345678"
	dlpNote       = "患者王小明，身份证号" + dlpResidentID + "，手机" + dlpMobile + "，诊断：高血压。\n"
)

// seedDLP gives each hospital a text scan with a resident ID finding; hospital B's
// scan is named after its vendor so that a leak shows in TestOtherHospitalIs404.
func (e *testEnv) seedDLP() {
	t := e.t
	t.Helper()
	ctx := context.Background()
	for _, h := range []struct {
		org  int64
		name string
		sc   *dlpsvc.Scan
		f    *dlpsvc.Finding
	}{{e.HospA.ID, "ward note A", &e.DLPScanA, &e.DLPFindingA}, {e.HospB.ID, "Bsoft export", &e.DLPScanB, &e.DLPFindingB}} {
		res, err := e.DLP.ScanText(ctx, actor.System(), h.org, h.name, dlpNote)
		if err != nil {
			t.Fatalf("seed DLP scan: %v", err)
		}
		*h.sc = res.Scan
		for _, f := range res.Findings {
			if f.Type == dlp.TypeResidentID {
				*h.f = f
			}
		}
		if h.f.ID == 0 {
			t.Fatalf("seeded DLP scan has no resident ID finding: %+v", res.Findings)
		}
	}
}

// docx returns a minimal Word document whose body is text.
func docx(t *testing.T, text string) []byte {
	t.Helper()
	return zipOf(t, map[string][]byte{
		"[Content_Types].xml": []byte(`<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
			`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>` +
			`<Default Extension="xml" ContentType="application/xml"/>` +
			`<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>`),
		"_rels/.rels": []byte(`<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>`),
		"word/document.xml": []byte(`<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">` +
			`<w:body><w:p><w:r><w:t>` + text + `</w:t></w:r></w:p></w:body></w:document>`),
	})
}

// upload posts data as the multipart field "file" named name, with user's token.
func (e *testEnv) upload(path, user, name string, data []byte) (int, []byte) {
	e.t.Helper()
	body, contentType := multipartBody(e.t, mpPart{field: "file", filename: name, data: data})
	code, out, _ := e.raw("POST", path, user, body, contentType)
	return code, out
}

func TestDLPAPI(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newSupplyEnv(t, db)
		// A DOCX inside a ZIP: the path names the member, the findings are masked.
		doc := docx(t, dlpNote)
		code, body := e.upload("/api/v1/dlp/scan/file", "secofficer", "export.zip", zipOf(t, map[string][]byte{"discharge/summary.docx": doc}))
		if code != http.StatusCreated {
			t.Fatalf("scan upload: %d %s", code, body)
		}
		var res dlpsvc.Result
		if err := json.Unmarshal(body, &res); err != nil {
			t.Fatal(err)
		}
		if len(res.Files) != 1 || res.Files[0].Path != "export.zip!/discharge/summary.docx" || !res.Files[0].IdentifiesPerson ||
			res.Scan.CountsByType[dlp.TypeResidentID] != 1 {
			t.Fatalf("upload result: %s", body)
		}
		for _, raw := range []string{dlpResidentID, dlpMobile, "王小明"} {
			if strings.Contains(string(body), raw) {
				t.Errorf("the scan response carries the raw value %q", raw)
			}
		}
		// The pre-send check decides.
		for _, tc := range []struct{ name, file, body, want string }{
			{"allow", "minutes.txt", "今天天气很好，会议改到周三下午。", "allow"},
			{"alert", "rx.txt", "阿莫西林胶囊 0.5g 口服 tid", "alert"},
			{"block", "note.docx", "", "block"},
		} {
			data := []byte(tc.body)
			if tc.file == "note.docx" {
				data = doc
			}
			code, body := e.upload("/api/v1/dlp/check", "itops", tc.file, data)
			var cr dlpsvc.CheckResult
			if code != http.StatusOK || json.Unmarshal(body, &cr) != nil || cr.Decision != tc.want {
				t.Errorf("check %s: %d %s", tc.name, code, body)
			}
			if strings.Contains(string(body), dlpResidentID) {
				t.Errorf("check %s: response carries the raw value", tc.name)
			}
		}
		// Raw body with ?name=.
		code, body = e.api("POST", "/api/v1/dlp/check?name=note.txt", "itops", []byte(dlpNote))
		if code != http.StatusOK || !strings.Contains(string(body), `"decision":"block"`) {
			t.Fatalf("raw check: %d %s", code, body)
		}
		// A gateway's token (scope dlp.check) may call the check and nothing else,
		// reading included; an auditor's may not call it at all (the role does not
		// allow it).
		for _, user := range []string{"itops", "auditor"} {
			plain, _, err := e.Auth.CreateToken(context.Background(), actor.System(), e.Users[user].ID, "mail gateway", auth.ScopeDLPCheck, 0)
			if err != nil {
				t.Fatal(err)
			}
			e.Tokens[user+"-gw"] = plain
		}
		code, body = e.api("POST", "/api/v1/dlp/check?name=note.txt", "itops-gw", []byte(dlpNote))
		if code != http.StatusOK || !strings.Contains(string(body), `"decision":"block"`) {
			t.Fatalf("gateway check: %d %s", code, body)
		}
		for _, req := range []struct{ method, path string }{
			{"POST", "/api/v1/dlp/scan/text"}, {"GET", "/api/v1/dlp/scans"}, {"GET", "/api/v1/assets"}, {"GET", "/api/v1/me"},
		} {
			code, body := e.api(req.method, req.path, "itops-gw", map[string]string{"text": dlpNote})
			if code != http.StatusForbidden || !strings.Contains(string(body), "limited_token") {
				t.Errorf("gateway token %s %s: %d %s", req.method, req.path, code, body)
			}
		}
		if code, body := e.api("POST", "/api/v1/dlp/check?name=note.txt", "auditor-gw", []byte(dlpNote)); code != http.StatusForbidden {
			t.Errorf("auditor's gateway token: %d %s", code, body)
		}
		// Reveal: the auditor may not, the privacy officer may, and the trail says so.
		path := "/api/v1/dlp/findings/" + strconv.FormatInt(e.DLPFindingA.ID, 10) + "/reveal"
		if code, body := e.api("POST", path, "auditor", map[string]string{"reason": "test"}); code != http.StatusForbidden || strings.Contains(string(body), dlpResidentID) {
			t.Fatalf("auditor reveal: %d %s", code, body)
		}
		code, body = e.api("POST", path, "privacy", map[string]string{"reason": "test"})
		var rev dlpsvc.Revealed
		if code != http.StatusOK || json.Unmarshal(body, &rev) != nil || rev.Value != dlpResidentID {
			t.Fatalf("privacy reveal: %d %s", code, body)
		}
		es, err := trail.List(context.Background(), db, actor.System(), trail.Filter{Action: "dlp.reveal", Limit: 10})
		if err != nil || len(es) != 1 || es[0].Actor != "privacy" || strings.Contains(es[0].Summary, dlpResidentID) {
			t.Fatalf("reveal trail: %+v %v", es, err)
		}
		// Policy round trip, then a site identifier is found.
		code, body = e.api("PUT", "/api/v1/dlp/policy", "privacy", map[string]any{"block_level": 5, "block_identifies_person": false,
			"alert_level": 3, "unreadable": "block", "custom": []map[string]any{{"name": "medical_record_no", "pattern": `BA\d{8}`,
				"context": []string{"病案号"}, "require_context": true}}})
		if code != http.StatusOK {
			t.Fatalf("put policy: %d %s", code, body)
		}
		code, body = e.api("POST", "/api/v1/dlp/scan/text", "privacy", map[string]any{"text": "病案号 BA20250001", "name": "mrn"})
		if code != http.StatusCreated || !strings.Contains(string(body), `"medical_record_no":1`) || strings.Contains(string(body), "BA20250001") {
			t.Fatalf("custom identifier scan: %d %s", code, body)
		}
		if code, body := e.api("PUT", "/api/v1/dlp/policy", "privacy", map[string]any{"custom": []map[string]any{{"name": "x1", "pattern": "("}}}); code != http.StatusBadRequest {
			t.Fatalf("bad pattern: %d %s", code, body)
		}
		// Jobs: outside the root is refused with a clear error.
		if code, body := e.api("POST", "/api/v1/dlp/jobs", "itops", map[string]any{"path": "/etc"}); code != http.StatusBadRequest ||
			!strings.Contains(string(body), "dlp_path_outside_roots") {
			t.Fatalf("job outside roots: %d %s", code, body)
		}
		code, body = e.api("POST", "/api/v1/dlp/jobs", "itops", map[string]any{"path": e.DLPRoot})
		if code != http.StatusAccepted {
			t.Fatalf("job: %d %s", code, body)
		}
		e.DLP.Wait()
		code, body = e.api("GET", "/api/v1/dlp/jobs", "auditor", nil)
		if code != http.StatusOK || !strings.Contains(string(body), `"status":"done"`) {
			t.Fatalf("job list: %d %s", code, body)
		}
		code, body = e.api("GET", "/api/v1/dlp/summary?days=7", "regulator", nil)
		if code != http.StatusOK || !strings.Contains(string(body), `"cn_resident_id"`) {
			t.Fatalf("summary: %d %s", code, body)
		}
	})
}

func TestParseCustomLines(t *testing.T) {
	t.Parallel()
	cs, err := parseCustomLines("medical_record_no | BA\\d{8} | 病案号, 住院号 | required\r\nvisit_no | (MZ|ZY)\\d{10} |\n\nshort | X\\d+\n")
	if err != nil {
		t.Fatal(err)
	}
	want := []dlp.CustomIdentifier{
		{Name: "medical_record_no", Pattern: `BA\d{8}`, Context: []string{"病案号", "住院号"}, RequireContext: true},
		{Name: "visit_no", Pattern: `(MZ|ZY)\d{10}`, Context: []string{}},
		{Name: "short", Pattern: `X\d+`, Context: []string{}},
	}
	if diff := cmp.Diff(want, cs); diff != "" {
		t.Fatalf("parsed lines (-want +got):\n%s", diff)
	}
	if _, err := parseCustomLines("just a name"); err == nil {
		t.Fatal("a line without a pattern was accepted")
	}
}

func TestDLPPages(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newSupplyEnv(t, db)
		br := e.newBrowser()
		br.login("privacy")
		code, body, _ := br.get("/dlp")
		if code != http.StatusOK || !strings.Contains(body, "dlp-type-chart") || !strings.Contains(body, `id="nav-dlp"`) {
			t.Fatalf("overview: %d %.500s", code, body)
		}
		code, body, h := br.post("/dlp/scan", url.Values{"name": {"pasted"}, "text": {dlpNote}})
		if code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/dlp/scans/") {
			t.Fatalf("scan form: %d %s", code, body)
		}
		code, body, _ = br.get(strings.Split(h.Get("Location"), "?")[0])
		if code != http.StatusOK || !strings.Contains(body, "440***********1232") || strings.Contains(body, dlpResidentID) ||
			!strings.Contains(body, "/reveal") {
			t.Fatalf("scan page: %d %.800s", code, body)
		}
		code, body, _ = br.post("/dlp/findings/"+strconv.FormatInt(e.DLPFindingA.ID, 10)+"/reveal", url.Values{"reason": {"test"}})
		if code != http.StatusOK || !strings.Contains(body, dlpResidentID) {
			t.Fatalf("reveal page: %d %.500s", code, body)
		}
		// Without the CSRF token, no reveal.
		code, body, _ = br.post("/dlp/findings/"+strconv.FormatInt(e.DLPFindingA.ID, 10)+"/reveal", url.Values{"csrf": {"forged"}})
		if code != http.StatusForbidden || strings.Contains(body, dlpResidentID) {
			t.Fatalf("forged reveal: %d", code)
		}
		code, body, h = br.post("/dlp/policy", url.Values{"block_level": {"4"}, "alert_level": {"2"}, "unreadable": {"alert"},
			"block_identifies_person": {"1"}, "custom": {"inpatient_no | ZY\\d{7} | 住院号 | required"}})
		if code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/dlp/policy") {
			t.Fatalf("policy form: %d %.500s", code, body)
		}
		code, body, _ = br.get("/dlp/policy")
		if code != http.StatusOK || !strings.Contains(body, "inpatient_no | ZY") {
			t.Fatalf("policy page: %d", code)
		}
		code, body, _ = br.post("/dlp/jobs", url.Values{"path": {"/etc"}})
		if code != http.StatusBadRequest || !strings.Contains(body, "dlp-path") {
			t.Fatalf("job outside roots: %d", code)
		}
		for _, p := range []string{"/dlp/scans", "/dlp/jobs", "/dlp/scan", "/dlp/scans?kind=check&decision=block"} {
			if code, _, _ := br.get(p); code != http.StatusOK {
				t.Errorf("%s: %d", p, code)
			}
		}
		// The auditor sees masked findings but no reveal button.
		ab := e.newBrowser()
		ab.login("auditor")
		code, body, _ = ab.get("/dlp/scans/" + strconv.FormatInt(e.DLPScanA.ID, 10))
		if code != http.StatusOK || strings.Contains(body, "/reveal") || strings.Contains(body, dlpResidentID) {
			t.Fatalf("auditor scan page: %d", code)
		}
	})
}

// FuzzParseCustomLines feeds arbitrary text to the reader of the site-identifier lines of
// the policy form: it never panics, refuses with an invalid-input problem naming the
// field, and what it reads survives a round trip through customLines.
func FuzzParseCustomLines(f *testing.F) {
	f.Fuzz(func(t *testing.T, text string) {
		cs, err := parseCustomLines(text)
		for _, c := range cs {
			if strings.ContainsAny(c.Name+c.Pattern, "\n") {
				t.Fatalf("parse %q: a value spans lines: %+v", text, c)
			}
		}
		if err != nil {
			if pe, ok := problem.As(err); !ok || pe.Kind != problem.KindInvalid || pe.Field != "custom" {
				t.Fatalf("parse %q: %v", text, err)
			}
			return
		}
		again, err := parseCustomLines(customLines(cs))
		if err != nil || len(again) != len(cs) {
			t.Fatalf("round trip of %q: %+v, %v", text, again, err)
		}
		for i := range cs {
			if again[i].Name != cs[i].Name || again[i].Pattern != cs[i].Pattern || again[i].RequireContext != cs[i].RequireContext ||
				strings.Join(again[i].Context, ",") != strings.Join(cs[i].Context, ",") {
				t.Fatalf("round trip of %q: %+v became %+v", text, cs[i], again[i])
			}
		}
	})
}
