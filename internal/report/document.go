// Package report owns the periodic reports (周报/月报) of a hospital or a region: a
// document model independent of where its data comes from (Document, filled by a
// Source), its renderers to self-contained HTML and to PDF (an embedded CJK TrueType
// font subset to the glyphs used, charts drawn on the server from the same ECharts
// options the pages use), report templates with the sections they choose, schedules,
// stored reports, and Sweep, which generates every due report for the previous period
// once and announces it through notifications.
package report

import (
	"context"
	"encoding/json"
	"time"

	"github.com/medguard/medguard/internal/actor"
)

// Document is one report, ready to render.
type Document struct {
	Title       string    `json:"title"`
	Subtitle    string    `json:"subtitle"`
	Org         string    `json:"org"`
	Period      Period    `json:"period"`
	GeneratedAt time.Time `json:"generated_at"`
	Lang        string    `json:"lang"`
	Sections    []Section `json:"sections"`
}

// Section is one part of a document: a heading, paragraphs, key figures, tables and
// charts, rendered in that order.
type Section struct {
	Key        string   `json:"key"`
	Heading    string   `json:"heading"`
	Paragraphs []string `json:"paragraphs,omitempty"`
	Figures    []Figure `json:"figures,omitempty"`
	Tables     []Table  `json:"tables,omitempty"`
	Charts     []Chart  `json:"charts,omitempty"`
}

// Figure is a key number of a section ("open risks: 12").
type Figure struct {
	Label string `json:"label"`
	Value string `json:"value"`
	Note  string `json:"note,omitempty"`
}

// Table is a table of text cells; a row shorter than Columns is padded.
type Table struct {
	Title   string     `json:"title,omitempty"`
	Columns []string   `json:"columns"`
	Rows    [][]string `json:"rows"`
}

// Chart is a chart given as an ECharts option (the JSON the pages hand to ECharts); the
// renderers draw it on the server (see RenderChart).
type Chart struct {
	Title  string          `json:"title"`
	Option json.RawMessage `json:"option"`
}

// Empty reports whether d has nothing to report: no section has a paragraph, a figure,
// a table row or a chart.
func (d Document) Empty() bool {
	for _, s := range d.Sections {
		if len(s.Paragraphs) > 0 || len(s.Figures) > 0 || len(s.Charts) > 0 {
			return false
		}
		for _, t := range s.Tables {
			if len(t.Rows) > 0 {
				return false
			}
		}
	}
	return true
}

// Source builds documents from the platform's data. The integrator implements it from
// the overview dashboard's data; Sections lists the section keys a template may choose,
// in the order they appear in a report.
type Source interface {
	Build(ctx context.Context, a actor.Actor, orgID int64, p Period, sections []string, lang string) (Document, error)
	Sections() []string
}
