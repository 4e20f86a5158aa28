package report

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"

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
	opt, err := upright(opt)
	if err != nil {
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
	if err := applyOption(&co, opt); err != nil {
		return nil, err
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

// echartsExtra is what RenderChart reads of an option beyond go-analyze/charts'
// conversion: the series' colours (on the series, or per data item of a pie) and the
// value axis's interval or integer steps, so that the report draws what the page draws.
type echartsExtra struct {
	YAxis  json.RawMessage `json:"yAxis"`
	Series []struct {
		Type      string                 `json:"type"`
		Color     string                 `json:"color"`
		ItemStyle struct{ Color string } `json:"itemStyle"`
		Data      []json.RawMessage      `json:"data"`
	} `json:"series"`
}

type valueAxis struct {
	Type        string   `json:"type"`
	Min         *float64 `json:"min"`
	Max         *float64 `json:"max"`
	Interval    float64  `json:"interval"`
	MinInterval float64  `json:"minInterval"`
	SplitNumber int      `json:"splitNumber"`
}

// applyOption sets on co the series colours and the value axis's steps of opt.
func applyOption(co *charts.ChartOption, opt json.RawMessage) error {
	var x echartsExtra
	if err := json.Unmarshal(opt, &x); err != nil {
		return fmt.Errorf("report: chart option: %w", err)
	}
	var colors []charts.Color
	for _, s := range x.Series {
		if s.Type == "pie" {
			for _, d := range s.Data {
				var item struct {
					ItemStyle struct{ Color string } `json:"itemStyle"`
				}
				if json.Unmarshal(d, &item) == nil && item.ItemStyle.Color != "" {
					colors = append(colors, charts.ParseColor(item.ItemStyle.Color))
				}
			}
			continue
		}
		c := s.Color
		if c == "" {
			c = s.ItemStyle.Color
		}
		if c == "" && len(s.Data) > 0 { // a bar whose items carry their colours: the first
			var item struct {
				ItemStyle struct{ Color string } `json:"itemStyle"`
			}
			if json.Unmarshal(s.Data[0], &item) == nil {
				c = item.ItemStyle.Color
			}
		}
		if c != "" {
			colors = append(colors, charts.ParseColor(c))
		}
	}
	if len(colors) > 0 {
		theme := co.Theme
		if theme == nil {
			theme = charts.GetDefaultTheme()
		}
		co.Theme = theme.WithSeriesColors(colors)
	}
	if integral(x) { // counts: labels without decimals
		whole := func(f float64) string { return strconv.FormatFloat(math.Round(f), 'f', 0, 64) }
		co.ValueFormatter = whole
		for i := range co.SeriesList {
			co.SeriesList[i].Label.ValueFormatter = whole
			if co.SeriesList[i].Type == charts.ChartTypePie {
				// The legend names each slice with its count (the page's pies do the
				// same); labels beside the slices would cross it.
				co.SeriesList[i].Label.Show = charts.Ptr(false)
			}
		}
	}
	var axes []valueAxis
	if len(x.YAxis) > 0 && x.YAxis[0] == '[' {
		if err := json.Unmarshal(x.YAxis, &axes); err != nil {
			return fmt.Errorf("report: chart option: yAxis: %w", err)
		}
	} else if len(x.YAxis) > 0 {
		var a valueAxis
		if err := json.Unmarshal(x.YAxis, &a); err != nil {
			return fmt.Errorf("report: chart option: yAxis: %w", err)
		}
		axes = []valueAxis{a}
	}
	for i, a := range axes {
		if i >= len(co.YAxis) || a.Type != "value" {
			continue
		}
		y := &co.YAxis[i]
		switch {
		case a.Interval > 0 && a.Min != nil && a.Max != nil:
			y.Unit = a.Interval
			y.LabelCount = int((*a.Max-*a.Min)/a.Interval) + 1
		case a.MinInterval >= 1:
			top := stackedMax(x)
			step := niceStep(top, max(a.SplitNumber, 4))
			lo, hi := 0.0, step*math.Ceil(top/step)
			if hi == 0 {
				hi = step
			}
			y.Min, y.Max, y.Unit, y.LabelCount = &lo, &hi, step, int(hi/step)+1
			y.ValueFormatter = func(f float64) string { return strconv.FormatFloat(math.Round(f), 'f', 0, 64) }
		}
	}
	return nil
}

// stackedMax is the largest value a category reaches in x's bar and line series,
// stacked (an upper bound when they are not): a datum is a number, {"value": n} or null.
func stackedMax(x echartsExtra) float64 {
	var sums []float64
	for _, sr := range x.Series {
		if sr.Type == "pie" {
			continue
		}
		for j, d := range sr.Data {
			var v float64
			if json.Unmarshal(d, &v) != nil {
				var item struct{ Value float64 }
				if json.Unmarshal(d, &item) != nil {
					continue
				}
				v = item.Value
			}
			for len(sums) <= j {
				sums = append(sums, 0)
			}
			sums[j] += math.Max(v, 0)
		}
	}
	m := 0.0
	for _, s := range sums {
		m = math.Max(m, s)
	}
	return m
}

// niceStep is an integer step of 1, 2 or 5 × 10ⁿ that covers top in at most n steps.
func niceStep(top float64, n int) float64 {
	for p := 1.0; ; p *= 10 {
		for _, m := range []float64{1, 2, 5} {
			if step := m * p; top/step <= float64(n) {
				return step
			}
		}
	}
}

// upright turns a horizontal bar chart (a value x axis, a category y axis) into the same
// chart standing up, whose value axis takes its min, max and interval: the renderer
// steps only a vertical value axis.
func upright(opt json.RawMessage) (json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(opt, &m); err != nil {
		return nil, fmt.Errorf("report: chart option: %w", err)
	}
	var x, y struct{ Type string }
	if json.Unmarshal(m["xAxis"], &x) != nil || json.Unmarshal(m["yAxis"], &y) != nil || x.Type != "value" || y.Type != "category" {
		return opt, nil
	}
	m["xAxis"], m["yAxis"] = m["yAxis"], m["xAxis"]
	return json.Marshal(m)
}

// integral reports whether every datum of x's series is a whole number.
func integral(x echartsExtra) bool {
	for _, sr := range x.Series {
		for _, d := range sr.Data {
			var v float64
			if json.Unmarshal(d, &v) != nil {
				var item struct{ Value float64 }
				if json.Unmarshal(d, &item) != nil {
					continue
				}
				v = item.Value
			}
			if v != math.Trunc(v) {
				return false
			}
		}
	}
	return true
}
