package report

import (
	"encoding/json"
	"fmt"

	"github.com/go-analyze/charts"
)

// Chart image size in pixels (drawn at twice the size shown, for print).
const (
	chartWidth  = 960
	chartHeight = 480
)

// chartTypes are the ECharts series types a report's charts may use: bar (stacked when
// every series names the same stack), line and pie.
var chartTypes = map[string]bool{"bar": true, "line": true, "pie": true}

// RenderChart draws the ECharts option opt — the same JSON a page hands to ECharts — as
// a PNG image, with the embedded CJK font for every label. Only bar, line and pie
// series are accepted (stacked bars too); anything else is an error, as is an option
// with no series.
func RenderChart(opt json.RawMessage) ([]byte, error) {
	if err := chartFont(); err != nil {
		return nil, err
	}
	var eo charts.EChartsOption
	if err := json.Unmarshal(opt, &eo); err != nil {
		return nil, fmt.Errorf("report: chart option: %w", err)
	}
	if len(eo.Series) == 0 {
		return nil, fmt.Errorf("report: chart option: no series")
	}
	for _, s := range eo.Series {
		if !chartTypes[s.Type] {
			return nil, fmt.Errorf("report: chart option: series type %q is not one of bar, line, pie", s.Type)
		}
	}
	eo.FontFamily = fontFamily
	eo.Title.TextStyle.FontFamily = fontFamily
	co, err := eo.ToOption()
	if err != nil {
		return nil, fmt.Errorf("report: chart option: %w", err)
	}
	co.OutputFormat = charts.ChartOutputPNG
	co.Width, co.Height = chartWidth, chartHeight
	p, err := charts.Render(co)
	if err != nil {
		return nil, fmt.Errorf("report: chart: %w", err)
	}
	b, err := p.Bytes()
	if err != nil {
		return nil, fmt.Errorf("report: chart: %w", err)
	}
	return b, nil
}
