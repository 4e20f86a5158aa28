package sbom

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"
)

// parseCycloneDXJSON decodes with cyclonedx-go's BOMDecoder.
func parseCycloneDXJSON(text []byte) (*Document, error) {
	const f = FormatCycloneDXJSON
	if err := checkJSONObject(f, text); err != nil {
		return nil, err
	}
	var bom cdx.BOM
	if err := cdx.NewBOMDecoder(bytes.NewReader(text), cdx.BOMFileFormatJSON).Decode(&bom); err != nil {
		if errors.Is(err, cdx.ErrInvalidSpecVersion) {
			var head struct {
				SpecVersion any `json:"specVersion"`
			}
			_ = json.Unmarshal(text, &head)
			place := "document"
			if ptr, off, ok := locateJSONField(text, "specVersion", "string"); ok {
				place = placeAt(text, off) + " (" + ptr + ")"
			}
			return nil, &ParseError{Format: f, Place: place, Msg: "unsupported CycloneDX specVersion", Detail: fmt.Sprintf("%v", head.SpecVersion), Err: err}
		}
		return nil, jsonError(f, text, err, 0)
	}
	spec := ""
	if bom.SpecVersion > 0 {
		spec = bom.SpecVersion.String()
	}
	b := newBuilder(f, spec)
	b.fromCycloneDX(&bom)
	return b.doc, nil
}

// parseCycloneDXXML decodes the cyclonedx-go BOM type with encoding/xml directly — exactly
// what its BOMDecoder does — so that errors can name the line (Decoder.InputPos) and
// documents declaring another character set can be read.
func parseCycloneDXXML(text []byte) (*Document, error) {
	const f = FormatCycloneDXXML
	dec := newXMLDecoder(bytes.NewReader(text))
	var bom cdx.BOM
	xmlErr := func(err error, what string) error {
		line, _ := dec.InputPos()
		return &ParseError{Format: f, Place: fmt.Sprintf("line %d", xmlErrLine(err, line)), Msg: what, Detail: xmlErrMsg(err), Err: err}
	}
	if err := dec.Decode(&bom); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &ParseError{Format: f, Place: "document", Msg: "no XML element found", Err: err}
		}
		return nil, xmlErr(err, "invalid CycloneDX XML")
	}
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, xmlErr(err, "invalid XML after the bom element")
		}
		switch t := tok.(type) {
		case xml.CharData:
			if len(bytes.TrimSpace(t)) == 0 {
				continue
			}
		case xml.Comment, xml.ProcInst:
			continue
		}
		line, _ := dec.InputPos()
		return nil, &ParseError{Format: f, Place: fmt.Sprintf("line %d", line), Msg: "data after the end of the bom element"}
	}
	ns := bom.XMLName.Space
	if !strings.HasPrefix(ns, cycloneDXNamespacePrefix) {
		return nil, &ParseError{Format: f, Place: "line 1", Msg: fmt.Sprintf("bom element not in the namespace %s1.x", cycloneDXNamespacePrefix), Detail: fmt.Sprintf("namespace %q", ns), Err: ErrNotSBOM}
	}
	b := newBuilder(f, strings.TrimPrefix(ns, cycloneDXNamespacePrefix))
	b.fromCycloneDX(&bom)
	return b.doc, nil
}

// maxNesting is the deepest level of nested components read.
const maxNesting = 256

// cdxItem is a component in flattened document order with the position of its parent.
type cdxItem struct {
	c      *cdx.Component
	parent int // index into the flattened list; -1 for top level, -2 for the subject
}

// fromCycloneDX maps a decoded BOM. The metadata component is the document's subject, not a
// component; components nested in it or in other components are components with Parent set.
func (b *builder) fromCycloneDX(bom *cdx.BOM) {
	d := b.doc
	d.Serial = strings.TrimSpace(bom.SerialNumber)
	var subject *cdx.Component
	if md := bom.Metadata; md != nil {
		b.created(md.Timestamp)
		d.Tools = cycloneDXTools(md.Tools)
		subject = md.Component
		for _, e := range []*cdx.OrganizationalEntity{md.Supplier, md.Manufacturer, md.Manufacture} {
			if e != nil && d.Supplier == "" {
				d.Supplier = partyName(e.Name)
			}
		}
		if subject != nil {
			d.Name = strings.TrimSpace(subject.Name)
			d.Version = strings.TrimSpace(subject.Version)
			d.SubjectRef = strings.TrimSpace(subject.BOMRef)
			if d.Supplier == "" {
				d.Supplier = componentSupplier(subject)
			}
		}
	}

	// Flatten in document order, a component before the components nested in it.
	var items []cdxItem
	tooDeep := false
	var walk func(cs *[]cdx.Component, parent int, depth int)
	walk = func(cs *[]cdx.Component, parent int, depth int) {
		if cs == nil {
			return
		}
		if depth > maxNesting {
			tooDeep = true
			return
		}
		for i := range *cs {
			c := &(*cs)[i]
			items = append(items, cdxItem{c: c, parent: parent})
			walk(c.Components, len(items)-1, depth+1)
		}
	}
	if subject != nil {
		walk(subject.Components, -2, 1)
	}
	walk(bom.Components, -1, 0)
	if tooDeep {
		b.warn("", WarnTooDeep, fmt.Sprintf("components nested more than %d levels deep were ignored", maxNesting))
	}
	b.index = make(map[string]int, len(items))
	b.declared = make(map[string]bool, len(items)+1)
	d.Components = make([]Component, 0, len(items))
	if bom.Dependencies != nil {
		edges := 0
		for _, dep := range *bom.Dependencies {
			if dep.Dependencies != nil {
				edges += len(*dep.Dependencies)
			}
		}
		b.depSeen = make(map[[2]string]bool, edges)
		b.depIndex = make(map[string]int, len(*bom.Dependencies))
	}
	if d.SubjectRef != "" {
		b.declared[d.SubjectRef] = true
	}
	for _, it := range items {
		if r := strings.TrimSpace(it.c.BOMRef); r != "" {
			b.declared[r] = true
		}
	}
	refs := make([]string, len(items))
	for i, it := range items {
		c := it.c
		comp := Component{
			Ref:      strings.TrimSpace(c.BOMRef),
			Type:     strings.TrimSpace(string(c.Type)),
			Group:    strings.TrimSpace(c.Group),
			Name:     strings.TrimSpace(c.Name),
			Version:  strings.TrimSpace(c.Version),
			PURL:     strings.TrimSpace(c.PackageURL),
			CPE:      strings.TrimSpace(c.CPE),
			Supplier: componentSupplier(c),
			Scope:    strings.TrimSpace(string(c.Scope)),
		}
		switch it.parent {
		case -1:
		case -2:
			comp.Parent = d.SubjectRef
		default:
			comp.Parent = refs[it.parent]
		}
		mark := len(d.Warnings)
		ref := comp.Ref
		if c.Hashes != nil {
			for _, h := range *c.Hashes {
				if hh, ok := b.hash(ref, string(h.Algorithm), h.Value); ok {
					comp.Hashes = appendHash(comp.Hashes, hh)
				}
			}
		}
		comp.License = b.cycloneDXLicense(ref, c.Licenses)
		refs[i] = b.add(comp, mark)
	}

	if bom.Dependencies != nil {
		for _, dep := range *bom.Dependencies {
			var to []string
			if dep.Dependencies != nil {
				to = *dep.Dependencies
			}
			b.dependency(strings.TrimSpace(dep.Ref), to)
		}
	}
}

// componentSupplier names who supplies c: supplier, else manufacturer, publisher, author.
func componentSupplier(c *cdx.Component) string {
	if c.Supplier != nil {
		if n := partyName(c.Supplier.Name); n != "" {
			return n
		}
	}
	if c.Manufacturer != nil {
		if n := partyName(c.Manufacturer.Name); n != "" {
			return n
		}
	}
	if n := partyName(c.Publisher); n != "" {
		return n
	}
	if n := partyName(c.Author); n != "" {
		return n
	}
	if c.Authors != nil {
		for _, a := range *c.Authors {
			if n := partyName(a.Name); n != "" {
				return n
			}
		}
	}
	return ""
}

// cycloneDXTools lists the tools that made the document: legacy tools as "name version",
// tool components and services likewise.
func cycloneDXTools(tc *cdx.ToolsChoice) []string {
	if tc == nil {
		return nil
	}
	var out []string
	add := func(parts ...string) {
		var ps []string
		for _, p := range parts {
			if p = strings.TrimSpace(p); p != "" {
				ps = append(ps, p)
			}
		}
		if len(ps) > 0 {
			out = append(out, strings.Join(ps, " "))
		}
	}
	if tc.Tools != nil {
		for _, t := range *tc.Tools {
			name := t.Name
			if strings.TrimSpace(name) == "" {
				name = t.Vendor
			}
			add(name, t.Version)
		}
	}
	if tc.Components != nil {
		for _, c := range *tc.Components {
			name := c.Name
			if c.Group != "" {
				name = c.Group + "/" + c.Name
			}
			add(name, c.Version)
		}
	}
	if tc.Services != nil {
		for _, s := range *tc.Services {
			add(s.Name, s.Version)
		}
	}
	return out
}
