package report

import (
	_ "embed"
	"fmt"
	"sync"

	"github.com/go-analyze/charts"
	"github.com/golang/freetype/truetype"
)

// fontTTF is Droid Sans Fallback (Apache-2.0, fonts/README.md): TrueType outlines for
// Latin and CJK, used by the PDF (subset to the glyphs a report uses) and the charts.
//
//go:embed fonts/DroidSansFallbackFull.ttf
var fontTTF []byte

// fontFamily is the name the font is installed under, in fpdf and in the chart renderer.
const fontFamily = "droidsansfallback"

var chartFont = sync.OnceValue(func() error {
	if err := charts.InstallFont(fontFamily, fontTTF); err != nil {
		return fmt.Errorf("report: chart font: %w", err)
	}
	return nil
})

// cjkFont is the embedded font parsed, to tell which characters it has.
var cjkFont = sync.OnceValues(func() (*truetype.Font, error) {
	f, err := truetype.Parse(fontTTF)
	if err != nil {
		return nil, fmt.Errorf("report: font: %w", err)
	}
	return f, nil
})
