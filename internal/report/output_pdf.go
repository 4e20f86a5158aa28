package report

import (
	"bytes"
	"fmt"
	"io"

	"codeberg.org/go-pdf/fpdf"

	"github.com/medguard/medguard/internal/i18n"
)

// PDF layout, in millimetres and points.
const (
	pdfMargin    = 18.0
	pdfBody      = 10.5 // body text size, pt
	pdfLine      = 5.6  // body line height
	pdfCellPad   = 1.5
	pdfChartRate = float64(chartHeight) / float64(chartWidth)
)

// WritePDF renders d as an A4 PDF to w: the embedded CJK TrueType font (subset to the
// glyphs used), a title block, each section's heading, paragraphs, key figures, tables
// (their header repeated after a page break) and charts (drawn from their ECharts
// options), and "page n of m" at the foot of every page. Labels come from cat in
// d.Lang.
func WritePDF(w io.Writer, d Document, cat *i18n.Catalog) error {
	face, err := cjkFont()
	if err != nil {
		return err
	}
	base := fpdf.New("P", "mm", "A4", "")
	pdf := &pdfWriter{Fpdf: base, cjk: face, tr: base.UnicodeTranslatorFromDescriptor("")}
	pdf.SetCompression(true)
	pdf.SetTitle(d.Title, true)
	pdf.SetAuthor("medguard", true)
	pdf.SetCreator("medguard", true)
	pdf.SetCreationDate(d.GeneratedAt)
	pdf.SetModificationDate(d.GeneratedAt)
	pdf.AddUTF8FontFromBytes(fontFamily, "", fontTTF)
	pdf.SetMargins(pdfMargin, pdfMargin, pdfMargin)
	pdf.SetAutoPageBreak(true, pdfMargin)
	pdf.AliasNbPages("{nb}")
	lang := d.Lang
	pw, _ := pdf.GetPageSize()
	width := pw - 2*pdfMargin
	pdf.SetFooterFunc(func() {
		pdf.SetY(-12)
		pdf.font(8.5)
		pdf.SetTextColor(110, 110, 110)
		pdf.cell(width/2, 5, d.Org+" · "+d.Period.String(), "L", 0)
		pdf.cell(width/2, 5, cat.T(lang, "report.pdf.page", pdf.PageNo(), "{nb}"), "R", 0)
	})
	pdf.AddPage()

	// Title block.
	pdf.font(20)
	pdf.SetTextColor(20, 40, 80)
	pdf.text(width, 9, d.Title)
	if d.Subtitle != "" {
		pdf.font(12)
		pdf.SetTextColor(70, 70, 70)
		pdf.text(width, 6.5, d.Subtitle)
	}
	pdf.Ln(2)
	pdf.font(9.5)
	pdf.SetTextColor(70, 70, 70)
	meta := [][2]string{
		{cat.T(lang, "report.field.org"), d.Org},
		{cat.T(lang, "report.field.period"), periodText(cat, lang, d.Period)},
		{cat.T(lang, "report.field.generated_at"), d.GeneratedAt.UTC().Format("2006-01-02 15:04 UTC")},
	}
	for _, m := range meta {
		pdf.cell(32, 5.2, m[0], "L", 0)
		pdf.cell(width-32, 5.2, m[1], "L", 1)
	}
	pdf.SetDrawColor(20, 40, 80)
	pdf.SetLineWidth(0.6)
	pdf.Line(pdfMargin, pdf.GetY()+2, pw-pdfMargin, pdf.GetY()+2)
	pdf.Ln(6)

	if d.Empty() {
		pdf.font(pdfBody)
		pdf.SetTextColor(0, 0, 0)
		pdf.text(width, pdfLine, cat.T(lang, "report.empty"))
	}
	for i, s := range d.Sections {
		pdfSection(pdf, width, i+1, s, cat, lang)
	}
	if err := pdf.Error(); err != nil {
		return fmt.Errorf("report: pdf: %w", err)
	}
	if err := pdf.Output(w); err != nil {
		return fmt.Errorf("report: pdf: %w", err)
	}
	return nil
}

func pdfSection(pdf *pdfWriter, width float64, n int, s Section, cat *i18n.Catalog, lang string) {
	needSpace(pdf, 45) // the heading with the first rows of what follows it
	pdf.font(15)
	pdf.SetTextColor(20, 40, 80)
	pdf.text(width, 8, fmt.Sprintf("%d. %s", n, s.Heading))
	pdf.SetDrawColor(180, 190, 210)
	pdf.SetLineWidth(0.3)
	x, y := pdf.GetXY()
	pdf.Line(x, y+0.5, x+width, y+0.5)
	pdf.Ln(3)
	pdf.font(pdfBody)
	pdf.SetTextColor(0, 0, 0)
	for _, p := range s.Paragraphs {
		pdf.text(width, pdfLine, p)
		pdf.Ln(1.5)
	}
	if len(s.Figures) > 0 {
		rows := make([][]string, len(s.Figures))
		for i, f := range s.Figures {
			rows[i] = []string{f.Label, f.Value, f.Note}
		}
		pdfTable(pdf, width, Table{Columns: []string{cat.T(lang, "report.figure.label"), cat.T(lang, "report.figure.value"),
			cat.T(lang, "report.figure.note")}, Rows: rows}, []float64{0.42, 0.18, 0.40})
		pdf.Ln(3)
	}
	for _, t := range s.Tables {
		if t.Title != "" {
			needSpace(pdf, 20)
			pdf.font(11.5)
			pdf.SetTextColor(20, 40, 80)
			pdf.text(width, 6.5, t.Title)
		}
		pdfTable(pdf, width, t, nil)
		pdf.Ln(3)
	}
	for i, c := range s.Charts {
		h := width * pdfChartRate
		needSpace(pdf, h+9)
		pdf.font(11.5)
		pdf.SetTextColor(20, 40, 80)
		pdf.text(width, 6.5, c.Title)
		png, err := RenderChart(c.Option)
		if err != nil {
			pdf.font(pdfBody)
			pdf.SetTextColor(160, 0, 0)
			pdf.text(width, pdfLine, cat.T(lang, "report.chart.failed"))
			continue
		}
		name := fmt.Sprintf("chart-%s-%d", s.Key, i)
		pdf.RegisterImageOptionsReader(name, fpdf.ImageOptions{ImageType: "PNG"}, bytes.NewReader(png))
		pdf.ImageOptions(name, pdf.GetX(), pdf.GetY(), width, h, true, fpdf.ImageOptions{ImageType: "PNG"}, 0, "")
		pdf.Ln(3)
	}
	pdf.Ln(2)
}

// needSpace starts a new page unless h millimetres are left above the bottom margin.
func needSpace(pdf *pdfWriter, h float64) {
	_, ph := pdf.GetPageSize()
	if pdf.GetY()+h > ph-pdfMargin {
		pdf.AddPage()
	}
}

// pdfTable draws t across width, columns sized by the fractions frac (nil: equal), each
// row as tall as its longest cell, the header repeated on each new page.
func pdfTable(pdf *pdfWriter, width float64, t Table, frac []float64) {
	cols := len(t.Columns)
	if cols == 0 {
		return
	}
	const lh = 5.0
	pdf.font(9.5)
	ws := columnWidths(pdf, width, t, frac)
	pdf.SetLineWidth(0.2)
	pdf.SetDrawColor(190, 195, 205)
	header := func() {
		pdf.SetFillColor(230, 236, 246)
		pdf.SetTextColor(20, 40, 80)
		pdfRow(pdf, ws, t.Columns, lh, true)
		pdf.SetTextColor(0, 0, 0)
	}
	needSpace(pdf, 2*lh+2*pdfCellPad+4)
	header()
	_, ph := pdf.GetPageSize()
	for _, r := range t.Rows {
		cells := make([]string, cols)
		copy(cells, r)
		if pdf.GetY()+rowHeight(pdf, ws, cells, lh) > ph-pdfMargin {
			pdf.AddPage()
			pdf.font(9.5)
			header()
		}
		pdfRow(pdf, ws, cells, lh, false)
	}
}

func rowHeight(pdf *pdfWriter, ws []float64, cells []string, lh float64) float64 {
	n := 1
	for i, c := range cells {
		n = max(n, len(pdf.wrap(c, ws[i]-2*pdfCellPad)))
	}
	return float64(n)*lh + 2*pdfCellPad
}

func pdfRow(pdf *pdfWriter, ws []float64, cells []string, lh float64, fill bool) {
	h := rowHeight(pdf, ws, cells, lh)
	x0, y0 := pdf.GetXY()
	x := x0
	for i, c := range cells {
		style := "D"
		if fill {
			style = "FD"
		}
		pdf.Rect(x, y0, ws[i], h, style)
		pdf.SetXY(x+pdfCellPad, y0+pdfCellPad)
		for _, line := range pdf.wrap(c, ws[i]-2*pdfCellPad) {
			pdf.SetX(x + pdfCellPad)
			pdf.cell(ws[i]-2*pdfCellPad, lh, line, "L", 2)
		}
		x += ws[i]
	}
	pdf.SetXY(x0, y0+h)
}

// periodText is the period for people: "2026-11 (2026-11-01 – 2026-11-30)".
func periodText(cat *i18n.Catalog, lang string, p Period) string {
	if p.IsZero() {
		return ""
	}
	return cat.T(lang, "report.period.text", cat.T(lang, "report.kind."+p.Kind), p.String(),
		p.Start.Format("2006-01-02"), p.End.AddDate(0, 0, -1).Format("2006-01-02"))
}

// columnWidths shares width among t's columns: by the fractions frac when given, else
// in proportion to each column's widest cell (between 15 and 90 mm).
func columnWidths(pdf *pdfWriter, width float64, t Table, frac []float64) []float64 {
	cols := len(t.Columns)
	ws := make([]float64, cols)
	if len(frac) == cols {
		for i := range ws {
			ws[i] = width * frac[i]
		}
		return ws
	}
	total := 0.0
	for i, c := range t.Columns {
		need := pdf.width(c)
		for _, r := range t.Rows {
			if i < len(r) {
				need = max(need, pdf.width(r[i]))
			}
		}
		ws[i] = min(max(need+2*pdfCellPad+1, 15), 90)
		total += ws[i]
	}
	for i := range ws {
		ws[i] *= width / total
	}
	return ws
}
