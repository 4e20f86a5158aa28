package web

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/auth"
	dlpsvc "github.com/medguard/medguard/internal/dlp/service"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// TestStoredTextsInReadersLanguage: what a module stores to be shown later (gate reasons,
// alert titles) reaches a Chinese reader in Chinese, and an English reader in English.
func TestStoredTextsInReadersLanguage(t *testing.T) {
	e := newDemoEnv(t)
	var versionID int64
	if err := e.db.QueryRowContext(context.Background(),
		`SELECT version_id FROM gate_results WHERE passed = ? ORDER BY id LIMIT 1`, false).Scan(&versionID); err != nil {
		t.Fatalf("the demo has no failed gate: %v", err)
	}
	version := "/supply/versions/" + strconv.FormatInt(versionID, 10)
	b := e.newBrowser()
	b.login("admin")
	english := []*regexp.Regexp{
		regexp.MustCompile(`affects \d+ product version`),
		regexp.MustCompile(`open vulnerabilities at or above`),
		regexp.MustCompile(`components could not be checked`),
		regexp.MustCompile(`failed its integrity check`),
	}
	chinese := []*regexp.Regexp{
		regexp.MustCompile(`影响 \d+ 个产品版本`),
		regexp.MustCompile(`及以上的未处置漏洞没有已接受的例外`),
	}
	check := func(lang string, must, mustNot []*regexp.Regexp) {
		t.Helper()
		if code, _, _ := b.post("/lang", url.Values{"lang": {lang}}); code != 303 {
			t.Fatalf("switch to %s: %d", lang, code)
		}
		var all strings.Builder
		for _, path := range []string{"/supply/alerts", "/supply", version} {
			code, body, _ := b.get(path)
			if code != 200 {
				t.Fatalf("%s (%s): status %d", path, lang, code)
			}
			for _, re := range mustNot {
				if m := re.FindString(body); m != "" {
					t.Errorf("%s (%s) shows %q", path, lang, m)
				}
			}
			all.WriteString(body)
		}
		for _, re := range must {
			if !re.MatchString(all.String()) {
				t.Errorf("no page in %s shows %s", lang, re)
			}
		}
	}
	check("zh-CN", chinese, english)
	check("en", english[:2], chinese)
}

// TestValidationMessagesTranslated: a form's validation problem reaches a Chinese reader
// in Chinese — the field label and the message itself, not "请检查“供应商”: is required…".
func TestValidationMessagesTranslated(t *testing.T) {
	e := newTestEnv(t, storetest.Open(t, store.SQLite))
	b := e.newBrowser()
	b.login(roleUser[auth.RoleAdmin])
	if code, _, _ := b.post("/lang", url.Values{"lang": {"zh-CN"}}); code != 303 {
		t.Fatalf("switch to zh-CN: %d", code)
	}
	b.get("/supply/products")
	org := strconv.FormatInt(e.HospA.ID, 10)
	tests := []struct {
		name     string
		form     url.Values
		want     string
		mustNots []string
	}{
		{"vendor required", url.Values{"name": {"PACS"}, "source": {"purchased"}, "org_id": {org}},
			"外包、采购和合作开发的软件必须填写", []string{"is required"}},
		{"name required", url.Values{"name": {""}, "source": {"purchased"}, "org_id": {org}},
			"必填", []string{"is required"}},
		{"name too long", url.Values{"name": {strings.Repeat("x", 201)}, "source": {"purchased"}, "org_id": {org}},
			"超过 200 个字符", []string{"is longer than"}},
		{"source one of", url.Values{"name": {"PACS"}, "source": {"bought"}, "org_id": {org}},
			"必须是以下之一", []string{"must be one of"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, body, _ := b.post("/supply/products", tc.form)
			if !strings.Contains(body, tc.want) {
				t.Errorf("the page does not say %q", tc.want)
			}
			for _, s := range tc.mustNots {
				if strings.Contains(body, s) {
					t.Errorf("the page says %q", s)
				}
			}
		})
	}
}

// TestDLPTypeNamesTranslated: the demo's site identifiers (outpatient_no, inpatient_no,
// medical_record_no) are shown by their Chinese names on the patient-data pages and charts.
func TestDLPTypeNamesTranslated(t *testing.T) {
	e := newDemoEnv(t)
	b := e.newBrowser()
	b.login("admin")
	if code, _, _ := b.post("/lang", url.Values{"lang": {"zh-CN"}}); code != 303 {
		t.Fatalf("switch to zh-CN: %d", code)
	}
	var all strings.Builder
	_, body, _ := b.get("/dlp")
	all.WriteString(body)
	for _, m := range regexp.MustCompile(`href="(/dlp/scans/\d+)"`).FindAllStringSubmatch(body, 20) {
		_, page, _ := b.get(m[1])
		all.WriteString(page)
	}
	text := all.String()
	for _, raw := range []string{"outpatient_no", "inpatient_no", "medical_record_no"} {
		if strings.Contains(text, raw) {
			t.Errorf("a patient-data page shows the raw type %q", raw)
		}
	}
	found := false
	for _, zh := range []string{"门诊号", "住院号", "病案号"} {
		found = found || strings.Contains(text, zh)
	}
	if !found {
		t.Error("no patient-data page names a site identifier in Chinese")
	}
}

// TestDLPJobErrorTranslated: the fixed errors the DLP service stores for a job (an
// interrupted job, with how far it got) are shown in the reader's language.
func TestDLPJobErrorTranslated(t *testing.T) {
	e := newTestEnv(t, storetest.Open(t, store.SQLite))
	p := &page{s: e.srv, Lang: "zh-CN"}
	stored := fmt.Sprintf(dlpsvc.JobInterrupted+dlpsvc.JobStopped, 3, 10)
	if got, want := p.JobError(stored), "已中断：任务结束前服务器已停止（在 3 / 10 个文件后停止；已扫描文件的结果已保留）"; got != want {
		t.Errorf("JobError(%q) = %q, want %q", stored, got, want)
	}
	if got := p.JobError("disk full"); got != "disk full" {
		t.Errorf("an unknown error is changed: %q", got)
	}
	p.Lang = "en"
	if got := p.JobError(dlpsvc.JobFailed); got != "The job failed; see the server log" {
		t.Errorf("en: %q", got)
	}
}
