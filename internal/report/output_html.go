package report

import (
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"

	"github.com/medguard/medguard/internal/i18n"
)

//go:embed report.html.tmpl
var htmlSource string

var htmlTmpl = template.Must(template.New("report").Parse(htmlSource))

// htmlChart is a chart with its image drawn on the server, as a data URI.
type htmlChart struct {
	Title string
	Src   template.URL
	Err   bool
}

type htmlSection struct {
	Section
	N      int
	Charts []htmlChart
}

// WriteHTML renders d as one self-contained HTML page to w: inline styles, charts drawn
// on the server from their ECharts options and embedded as PNG data URIs, no script and
// nothing fetched from elsewhere. Labels come from cat in d.Lang.
func WriteHTML(w io.Writer, d Document, cat *i18n.Catalog) error {
	secs := make([]htmlSection, len(d.Sections))
	for i, s := range d.Sections {
		hs := htmlSection{Section: s, N: i + 1}
		for _, c := range s.Charts {
			png, err := RenderChart(c.Option)
			if err != nil {
				hs.Charts = append(hs.Charts, htmlChart{Title: c.Title, Err: true})
				continue
			}
			hs.Charts = append(hs.Charts, htmlChart{Title: c.Title,
				Src: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))})
		}
		secs[i] = hs
	}
	lang := d.Lang
	data := map[string]any{
		"Doc":       d,
		"Lang":      lang,
		"Sections":  secs,
		"Period":    periodText(cat, lang, d.Period),
		"Generated": d.GeneratedAt.UTC().Format("2006-01-02 15:04 UTC"),
		"Empty":     d.Empty(),
		"L": map[string]string{
			"org": cat.T(lang, "report.field.org"), "period": cat.T(lang, "report.field.period"),
			"generated": cat.T(lang, "report.field.generated_at"), "empty": cat.T(lang, "report.empty"),
			"label": cat.T(lang, "report.figure.label"), "value": cat.T(lang, "report.figure.value"),
			"note": cat.T(lang, "report.figure.note"), "chart_failed": cat.T(lang, "report.chart.failed"),
		},
	}
	if err := htmlTmpl.Execute(w, data); err != nil {
		return fmt.Errorf("report: html: %w", err)
	}
	return nil
}
