package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/i18n"
)

// sampleDoc is a monthly report in Chinese with every kind of content, long enough to
// break its table across pages.
func sampleDoc() Document {
	p, _ := ParsePeriod("2026-11")
	var rows [][]string
	for i := 1; i <= 60; i++ {
		rows = append(rows, []string{fmt.Sprintf("R-%03d", i), fmt.Sprintf("核心业务系统第 %d 号风险：未及时修补的中间件漏洞", i), "高", "处置中"})
	}
	return Document{
		Title: "信息安全月度报告", Subtitle: "仁济示范医院 · 2026 年 11 月", Org: "仁济示范医院", Period: p, Lang: i18n.ZhCN,
		GeneratedAt: time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC),
		Sections: []Section{
			{Key: "summary", Heading: "总体情况", Paragraphs: []string{"本月共登记风险 42 项，其中高风险 7 项；发生安全事件 3 起，均已在时限内上报。"},
				Figures: []Figure{{Label: "安全评分", Value: "86", Note: "较上月提高 4 分"}, {Label: "未关闭风险", Value: "42"}, {Label: "安全事件", Value: "3"}},
				Charts: []Chart{{Title: "各模块发现数量", Option: json.RawMessage(`{"xAxis":{"data":["供应链","数据防泄漏","应用","监测"]},"yAxis":{},
					"legend":{"data":["高","中"]},"series":[{"type":"bar","name":"高","stack":"s","data":[3,5,1,2]},{"type":"bar","name":"中","stack":"s","data":[6,2,4,3]}]}`)}}},
			{Key: "risks", Heading: "风险清单", Tables: []Table{{Title: "高风险项", Columns: []string{"编号", "风险", "等级", "状态"}, Rows: rows}},
				Charts: []Chart{{Title: "风险等级分布", Option: json.RawMessage(`{"series":[{"type":"pie","data":[{"name":"高","value":7},{"name":"中","value":20},{"name":"低","value":15}]}]}`)},
					{Title: "安全评分趋势", Option: json.RawMessage(`{"xAxis":{"data":["6月","7月","8月","9月","10月","11月"]},"yAxis":{},"series":[{"type":"line","name":"评分","data":[71,75,78,80,82,86]}]}`)}}},
		},
	}
}

// poppler finds a poppler tool; without it the test is skipped, except on CI.
func poppler(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required on CI (apt-get install -y poppler-utils)", name)
		}
		t.Skipf("%s not found: install poppler-utils to check the PDF's text", name)
	}
	return p
}

func TestWritePDF(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := WritePDF(&buf, sampleDoc(), i18n.MustLoad()); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(buf.Bytes(), []byte("%PDF-")) {
		t.Fatalf("not a PDF: %q", buf.Bytes()[:min(20, buf.Len())])
	}
	// The 4 MB font is subset to the glyphs used.
	if buf.Len() > 1<<20 {
		t.Errorf("PDF is %d bytes, want < 1 MB (is the font subset?)", buf.Len())
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "report.pdf")
	if err := os.WriteFile(file, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(poppler(t, "pdftotext"), "-layout", file, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	text := string(out)
	for _, want := range []string{"信息安全月度报告", "1. 总体情况", "2. 风险清单", "安全评分", "86", "较上月提高 4 分", "高风险项",
		"R-001", "R-060", "核心业务系统第 60 号风险", "统计周期", "月报 2026-11（2026-11-01 至 2026-11-30）", "第 1 页，共 ", "各模块发现数量", "风险等级分布"} {
		if !strings.Contains(text, want) {
			t.Errorf("PDF text lacks %q:\n%s", want, text)
		}
	}
	pages := strings.Count(text, "\f")
	if pages < 2 || !regexp.MustCompile(fmt.Sprintf(`第 %d 页，共 %d\s*页`, pages, pages)).MatchString(text) {
		t.Errorf("want page numbers up to %d of %d in:\n%s", pages, pages, text)
	}
	// The table's header is repeated after the page break.
	if n := strings.Count(text, "编号"); n < 2 {
		t.Errorf("table header printed %d times, want it on each page", n)
	}
	if png := os.Getenv("REPORT_PNG_DIR"); png != "" {
		// To look at: REPORT_PNG_DIR=/tmp/x go test -run TestWritePDF ./internal/report/
		if err := exec.Command(poppler(t, "pdftoppm"), "-png", "-r", "60", file, filepath.Join(png, "page")).Run(); err != nil {
			t.Fatalf("pdftoppm: %v", err)
		}
	}
}

func TestWriteHTML(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	d := sampleDoc()
	d.Sections[0].Paragraphs = append(d.Sections[0].Paragraphs, `<script>alert(1)</script>`)
	if err := WriteHTML(&buf, d, i18n.MustLoad()); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	for _, want := range []string{`<html lang="zh-CN">`, "<h2>1. 总体情况</h2>", "<td>较上月提高 4 分</td>", "核心业务系统第 60 号风险",
		`<img src="data:image/png;base64,`, "&lt;script&gt;"} {
		if !strings.Contains(html, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	for _, bad := range []string{"<script>", "http://", "https://"} {
		if strings.Contains(html, bad) {
			t.Errorf("HTML holds %q: not self-contained or not escaped", bad)
		}
	}
	if n := strings.Count(html, "data:image/png"); n != 3 {
		t.Errorf("%d chart images, want 3", n)
	}
}

func TestRenderChart(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opt     string
		wantErr bool
	}{
		{name: "bar", opt: `{"xAxis":{"data":["一","二"]},"yAxis":{},"series":[{"type":"bar","data":[1,2]}]}`},
		{name: "stacked bar", opt: `{"xAxis":{"data":["一","二"]},"yAxis":{},"series":[{"type":"bar","stack":"a","data":[1,2]},{"type":"bar","stack":"a","data":[3,4]}]}`},
		{name: "line", opt: `{"xAxis":{"data":["一","二"]},"yAxis":{},"series":[{"type":"line","data":[1,2]}]}`},
		{name: "pie", opt: `{"series":[{"type":"pie","data":[{"name":"高","value":1},{"name":"低","value":2}]}]}`},
		{name: "radar refused", opt: `{"series":[{"type":"radar","data":[{"value":[1,2]}]}]}`, wantErr: true},
		{name: "no series", opt: `{"xAxis":{"data":["一"]}}`, wantErr: true},
		{name: "not json", opt: `{`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			png, err := RenderChart(json.RawMessage(tt.opt))
			if tt.wantErr {
				if err == nil {
					t.Fatal("want an error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(png, []byte("\x89PNG")) {
				t.Fatal("not a PNG")
			}
		})
	}
}
