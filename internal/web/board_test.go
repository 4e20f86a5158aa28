package web

import (
	"io/fs"
	"strings"
	"testing"
)

// TestBoardWrittenOnce checks that the headline numbers and charts a dashboard opens with
// are written once, in the "board" template, and that every dashboard uses it: a page
// that copies the markup instead would drift from the others (issue 12, point 5).
func TestBoardWrittenOnce(t *testing.T) {
	t.Parallel()
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		t.Fatal(err)
	}
	dashboards := map[string]bool{"templates/dashboard.html": false, "templates/supply_risk.html": false, "templates/dlp_overview.html": false,
		"templates/monitor.html": false}
	for _, n := range names {
		b, err := fs.ReadFile(templateFS, n)
		if err != nil {
			t.Fatal(err)
		}
		src := string(b)
		if n == "templates/_board.html" {
			if !strings.Contains(src, `{{define "board"}}`) {
				t.Errorf("%s does not define the board template", n)
			}
			continue
		}
		// Per-object summaries (an import's counts, a vendor's numbers) may use the kpi
		// style; a list of KPIs and charts is the board's.
		for _, markup := range []string{`.KPIs}}`, `data-chart=`, `class="grid charts"`, `type="application/json"`} {
			if strings.Contains(src, markup) {
				t.Errorf("%s writes %s itself: use {{template \"board\" (part . $d.Board)}}", n, markup)
			}
		}
		if _, ok := dashboards[n]; ok {
			dashboards[n] = strings.Contains(src, `{{template "board"`)
		}
	}
	for n, uses := range dashboards {
		if !uses {
			t.Errorf("%s does not draw its numbers and charts with the board template", n)
		}
	}
}
