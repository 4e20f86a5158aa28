package report

import (
	"strings"
	"unicode"

	"codeberg.org/go-pdf/fpdf"
	"github.com/golang/freetype/truetype"
	"golang.org/x/text/encoding/charmap"
)

// latinFont is the PDF core font that draws what the CJK font lacks: Droid Sans
// Fallback has no Latin letters or digits (on Android they come from Droid Sans), so
// text is written in runs, each in the font that has its characters.
const latinFont = "Helvetica"

// pdfWriter writes text into a PDF in runs of the CJK font and the Latin core font.
type pdfWriter struct {
	*fpdf.Fpdf
	cjk  *truetype.Font
	tr   func(string) string // UTF-8 to the core font's cp1252
	size float64
}

// font sets the text size (pt) of both fonts.
func (w *pdfWriter) font(size float64) { w.size = size }

// run is a piece of text for one font.
type run struct {
	latin bool
	s     string
}

// runs splits s into runs: a character the CJK font lacks that cp1252 can encode goes
// to the Latin font, everything else to the CJK font.
func (w *pdfWriter) runs(s string) []run {
	var out []run
	for _, c := range s {
		_, inCP := charmap.Windows1252.EncodeRune(c)
		latin := c != ' ' && inCP && w.cjk.Index(c) == 0
		if n := len(out); n > 0 && out[n-1].latin == latin {
			out[n-1].s += string(c)
			continue
		}
		out = append(out, run{latin: latin, s: string(c)})
	}
	return out
}

func (w *pdfWriter) use(latin bool) {
	if latin {
		w.SetFont(latinFont, "", w.size)
	} else {
		w.SetFont(fontFamily, "", w.size)
	}
}

func (w *pdfWriter) runWidth(r run) float64 {
	w.use(r.latin)
	if r.latin {
		return w.GetStringWidth(w.tr(r.s))
	}
	return w.GetStringWidth(r.s)
}

// width is the width of s at the current size.
func (w *pdfWriter) width(s string) float64 {
	total := 0.0
	for _, r := range w.runs(s) {
		total += w.runWidth(r)
	}
	return total
}

// cell writes one line s in a box of width cw and height h, aligned "L" or "R", then
// moves like fpdf's CellFormat with ln 0 (right), 1 (next line) or 2 (below).
func (w *pdfWriter) cell(cw, h float64, s, align string, ln int) {
	x0, y0 := w.GetXY()
	x := x0
	if align == "R" {
		x = x0 + cw - w.width(s) - w.GetCellMargin()
	}
	w.SetXY(x, y0)
	for _, r := range w.runs(s) {
		rw := w.runWidth(r)
		txt := r.s
		if r.latin {
			txt = w.tr(txt)
		}
		w.CellFormat(rw, h, txt, "", 0, "L", false, 0, "")
	}
	switch ln {
	case 0:
		w.SetXY(x0+cw, y0)
	case 1:
		l, _, _, _ := w.GetMargins()
		w.SetXY(l, y0+h)
	default:
		w.SetXY(x0, y0+h)
	}
}

// text writes txt wrapped to cw as lines of height h.
func (w *pdfWriter) text(cw, h float64, txt string) {
	for _, l := range w.wrap(txt, cw) {
		w.cell(cw, h, l, "L", 2)
	}
}

// wrap splits txt into lines no wider than cw. A line breaks at a space (dropped) or
// next to a CJK character (kept — fpdf's own SplitText drops the character it breaks
// at), else inside a word too long for a line. Newlines in txt start a new line.
func (w *pdfWriter) wrap(txt string, cw float64) []string {
	var lines []string
	for _, para := range strings.Split(txt, "\n") {
		lines = append(lines, w.wrapLine([]rune(para), cw-2*w.GetCellMargin())...)
	}
	return lines
}

func (w *pdfWriter) wrapLine(s []rune, cw float64) []string {
	var lines []string
	for len(s) > 0 {
		width, cut, brk := 0.0, len(s), -1 // brk: the last index a line may end before
		for i, c := range s {
			if i > 0 && (unicode.IsSpace(c) || cjk(c) || cjk(s[i-1])) {
				brk = i
			}
			width += w.width(string(c))
			if width > cw && i > 0 {
				cut = i
				if brk > 0 {
					cut = brk
				}
				break
			}
		}
		lines = append(lines, strings.TrimRightFunc(string(s[:cut]), unicode.IsSpace))
		s = s[cut:]
		for len(s) > 0 && s[0] == ' ' {
			s = s[1:]
		}
	}
	if len(lines) == 0 {
		lines = []string{""}
	}
	return lines
}

// cjk reports whether c is a Han, kana or Hangul character or CJK punctuation: a line
// may break on either side of it.
func cjk(c rune) bool {
	return unicode.In(c, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul) ||
		(c >= 0x3000 && c <= 0x303F) || (c >= 0xFF00 && c <= 0xFFEF)
}
