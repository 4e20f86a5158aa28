package cli

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/app"
)

// TestReportGenerate makes the seeded hospital's monthly report as HTML and PDF from the
// command line, checks the files and that the reports were stored, and that a command
// line that fails writes nothing.
func TestReportGenerate(t *testing.T) {
	t.Parallel()
	data, tmp := t.TempDir(), t.TempDir()
	mustRun(t, "migrate", "--data", data)
	seedGovernance(t, data, tmp)
	gen := func(args ...string) (int, string) {
		var out, errb bytes.Buffer
		code := run(context.Background(), append([]string{"report", "generate", "--data", data}, args...), strings.NewReader(""), &out, &errb, noEnv, nil)
		return code, out.String() + errb.String()
	}

	// Failures leave no file behind.
	for _, args := range [][]string{
		{"--period", "2026-13", "--format", "pdf", "--out", tmp + "/bad.pdf"},
		{"--period", "2026-12", "--format", "txt", "--out", tmp + "/bad.pdf"},
		{"--period", "2026-12", "--format", "pdf", "--org", "nosuch", "--out", tmp + "/bad.pdf"},
		{"--period", "2026-12", "--format", "pdf", "--sections", "x", "--out", tmp + "/bad.pdf"},
	} {
		if code, out := gen(args...); code == 0 {
			t.Errorf("%v: exit 0\n%s", args, out)
		}
	}
	if _, err := os.Stat(tmp + "/bad.pdf"); err == nil {
		t.Error("a failed report generate wrote its --out file")
	}

	html := filepath.Join(tmp, "月报.html")
	if code, out := gen("--period", "2026-12", "--format", "html", "--out", html); code != 0 {
		t.Fatalf("html: exit %d\n%s", code, out)
	}
	b, err := os.ReadFile(html)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<h1>信息安全月报</h1>", "风险情况", "安全事件", "Ransomware on the PACS archive", "Test City"} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("the HTML report lacks %q", want)
		}
	}

	pdf := filepath.Join(tmp, "report.pdf")
	if code, out := gen("--org", "Hospital A", "--period", "2026-12", "--format", "pdf", "--out", pdf); code != 0 {
		t.Fatalf("pdf: exit %d\n%s", code, out)
	}
	b, err = os.ReadFile(pdf)
	if err != nil || !bytes.HasPrefix(b, []byte("%PDF-")) {
		t.Fatalf("not a PDF (%v): %q", err, b[:min(len(b), 16)])
	}

	// Both are stored with the platform's reports.
	cfg := app.Defaults()
	cfg.DataDir = data
	a, err := app.Open(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	var n int
	err = a.DB.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM reports WHERE period = '2026-12' AND generated_by = ?`, actor.CLI().Username).Scan(&n)
	a.Close()
	if err != nil || n != 2 {
		t.Errorf("%d reports stored (%v), want 2", n, err)
	}

	tool, err := exec.LookPath("pdftotext")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("pdftotext is required on CI (apt-get install -y poppler-utils)")
		}
		t.Skip("pdftotext not found: install poppler-utils to check the PDF's text")
	}
	text, err := exec.Command(tool, "-layout", pdf, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	for _, want := range []string{"信息安全月报", "风险情况", "安全事件", "告警情况", "Hospital A", "未关闭风险", "Ransomware on the PACS archive"} {
		if !strings.Contains(string(text), want) {
			t.Errorf("the PDF's text lacks %q:\n%s", want, text)
		}
	}
}
