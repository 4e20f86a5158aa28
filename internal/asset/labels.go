package asset

import (
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/text/width"

	"github.com/medguard/medguard/internal/i18n"
)

// The labels an asset import accepts are the ones the UI shows: they are read from the
// same message catalogues as the asset form, so that the two cannot drift apart.

// catalogue is the UI's message catalogue (embedded, read once).
var catalogue = i18n.MustLoad()

// headerIndex maps a header key (see headerKey) to its column: every column name, every
// alias, and the label of every field in every language of the catalogue.
var headerIndex = buildHeaderIndex()

// fieldKey is the catalogue key of the label the asset form shows for column c.
func fieldKey(c int) string { return "asset.field." + Columns[c] }

func buildHeaderIndex() map[string]int {
	ix := map[string]int{}
	add := func(h string, c int) {
		k := headerKey(h)
		if old, ok := ix[k]; ok && old != c {
			panic(fmt.Sprintf("asset: header %q names both %s and %s", h, Columns[old], Columns[c]))
		}
		ix[k] = c
	}
	for c, name := range Columns {
		add(name, c)
	}
	for h, c := range headerAliases {
		add(h, c)
	}
	for _, lang := range i18n.Languages {
		for c := range Columns {
			add(catalogue.T(lang, fieldKey(c)), c)
		}
		add(catalogue.T(lang, "asset.field.org_id"), colOrg)
	}
	return ix
}

// headerKey normalises a header for lookup: full-width letters, digits and spaces become
// their ASCII forms, letters lower case, and white space, underscores, hyphens and the
// form's required-field asterisk are dropped (so "IP 地址", "ＩＰ地址", "ip_地址" and
// "In service since" all match what the form shows).
func headerKey(h string) string {
	h = strings.ToLower(width.Fold.String(strings.TrimPrefix(h, "\ufeff")))
	var b strings.Builder
	for _, r := range h {
		if unicode.IsSpace(r) || r == '_' || r == '-' || r == '*' {
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// enumKey normalises a kind, zone or lifecycle value for lookup: trimmed, ASCII width,
// lower case, spaces and hyphens as underscores (so "Medical device" is medical_device).
func enumKey(v string) string {
	v = strings.ToLower(strings.TrimSpace(width.Fold.String(v)))
	return strings.Join(strings.FieldsFunc(v, func(r rune) bool { return unicode.IsSpace(r) || r == '-' || r == '_' }), "_")
}

// The values of kinds, zones and lifecycles are accepted by the labels the UI shows too.
func init() {
	for _, e := range []struct {
		prefix  string
		values  []string
		aliases map[string]string
	}{{"kind.", Kinds, kindAliases}, {"zone.", Zones, zoneAliases}, {"lifecycle.", Lifecycles, lifecycleAliases}} {
		for _, lang := range i18n.Languages {
			for _, v := range e.values {
				e.aliases[enumKey(catalogue.T(lang, e.prefix+v))] = v
			}
		}
	}
}

// Header returns the CSV header row in lang: the labels the UI shows for the columns,
// or the column names when lang is "" (or not a language of the catalogue).
func Header(lang string) []string {
	out := make([]string, numColumns)
	for c, name := range Columns {
		out[c] = name
		if lang != "" && catalogue.Has(lang, fieldKey(c)) {
			out[c] = catalogue.T(lang, fieldKey(c))
		}
	}
	return out
}

// ColumnInfo describes one CSV column for the import page.
type ColumnInfo struct {
	Name     string // column name (see Columns)
	Label    string // the label in the language asked for
	Required bool
}

// ColumnInfos lists the CSV columns in export order, labelled in lang (see Header).
func ColumnInfos(lang string) []ColumnInfo {
	labels := Header(lang)
	out := make([]ColumnInfo, numColumns)
	for c, name := range Columns {
		out[c] = ColumnInfo{Name: name, Label: labels[c]}
	}
	for _, c := range requiredColumns {
		out[c].Required = true
	}
	return out
}
