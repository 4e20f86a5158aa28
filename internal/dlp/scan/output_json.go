package scan

import (
	"bufio"
	"encoding/json"
	"io"

	"github.com/medguard/medguard/internal/dlp/input"
)

// jsonFinding is one line of JSON output; the field order is the
// documented one.
type jsonFinding struct {
	Path       string  `json:"path"`
	Type       string  `json:"type"`
	Start      int     `json:"start"`
	End        int     `json:"end"`
	Line       int     `json:"line"`
	Confidence float64 `json:"confidence"`
	Category   string  `json:"category"`
	Level      int     `json:"level"`
	Field      string  `json:"field,omitempty"`
	Preview    string  `json:"preview"`
}

func writeJSON(w io.Writer, res *Result) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for _, fr := range res.Files {
		for _, f := range fr.Findings {
			if err := enc.Encode(jsonFinding{f.Path, f.Type, f.Start, f.End, f.Line, f.Confidence, f.Category, f.Level, f.Field, f.Preview}); err != nil {
				return err
			}
		}
	}
	for _, p := range res.Problems {
		if err := enc.Encode(struct {
			Problem input.Problem `json:"problem"`
		}{p}); err != nil {
			return err
		}
	}
	if err := enc.Encode(struct {
		Summary Summary `json:"summary"`
	}{res.Summary()}); err != nil {
		return err
	}
	return bw.Flush()
}
