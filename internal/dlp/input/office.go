package input

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"path"
	"slices"
	"strconv"
	"strings"
)

// officeKind tells an Office Open XML document from an ordinary ZIP by its
// extension or, failing that, by its parts.
func officeKind(ext string, files []*zip.File) string {
	switch ext {
	case "docx", "docm", "dotx":
		return KindDOCX
	case "xlsx", "xlsm", "xltx":
		return KindXLSX
	case "pptx", "pptm", "potx":
		return KindPPTX
	}
	for _, f := range files {
		switch f.Name {
		case "word/document.xml":
			return KindDOCX
		case "xl/workbook.xml":
			return KindXLSX
		case "ppt/presentation.xml":
			return KindPPTX
		}
	}
	return ""
}

// partNumber orders "slide10.xml" after "slide9.xml".
func partNumber(name string) int {
	base := strings.TrimSuffix(path.Base(name), ".xml")
	i := len(base)
	for i > 0 && base[i-1] >= '0' && base[i-1] <= '9' {
		i--
	}
	n, _ := strconv.Atoi(base[i:])
	return n
}

// office extracts the text of a DOCX, XLSX or PPTX document as one unit.
func (d *decoder) office(p, kind string, files []*zip.File) error {
	var parts []*zip.File
	for _, f := range files {
		n := f.Name
		switch kind {
		case KindDOCX:
			if n == "word/document.xml" || strings.HasPrefix(n, "word/") && strings.HasSuffix(n, ".xml") &&
				(strings.HasPrefix(n, "word/header") || strings.HasPrefix(n, "word/footer") ||
					n == "word/footnotes.xml" || n == "word/endnotes.xml" || n == "word/comments.xml") {
				parts = append(parts, f)
			}
		case KindXLSX:
			if n == "xl/sharedStrings.xml" || strings.HasPrefix(n, "xl/worksheets/sheet") && strings.HasSuffix(n, ".xml") {
				parts = append(parts, f)
			}
		case KindPPTX:
			if (strings.HasPrefix(n, "ppt/slides/slide") || strings.HasPrefix(n, "ppt/notesSlides/notesSlide")) && strings.HasSuffix(n, ".xml") {
				parts = append(parts, f)
			}
		}
	}
	slices.SortStableFunc(parts, func(a, b *zip.File) int {
		if c := partRank(a.Name) - partRank(b.Name); c != 0 {
			return c
		}
		if c := partNumber(a.Name) - partNumber(b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	if len(parts) == 0 {
		d.problem(p, ReasonMalformed, "%s without document parts", kind)
		return nil
	}
	var (
		b      = builder{limit: int(d.lim.MaxMemberSize)}
		shared []string
	)
	for _, f := range parts {
		body, ok := d.member(p+"!/"+memberName(f.Name), f)
		if !ok {
			continue
		}
		var err error
		switch {
		case kind == KindDOCX:
			err = runs(&b, memberName(f.Name), body, "t", "p", map[string]string{"tab": "\t", "br": "\n", "cr": "\n"})
		case kind == KindPPTX:
			name := strings.TrimSuffix(path.Base(memberName(f.Name)), ".xml")
			err = runs(&b, name, body, "t", "p", map[string]string{"br": "\n"})
		case f.Name == "xl/sharedStrings.xml":
			shared, err = sharedStrings(body)
		default:
			err = sheet(&b, strings.TrimSuffix(path.Base(memberName(f.Name)), ".xml"), body, shared)
		}
		if errors.Is(err, errTextLimit) {
			d.problem(p, ReasonTooBig, "extracted text beyond %d bytes, the rest not scanned", b.limit)
			break
		}
		if err != nil {
			line := 0
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				line, err = se.Line, errors.New(se.Msg)
			}
			d.problem(p+"!/"+memberName(f.Name), ReasonMalformed, "xml: line %d: %v", line, err)
		}
		b.newline()
	}
	return d.yield(Unit{Path: p, Kind: kind, Text: b.text, field: spanField(b.spans)})
}

// partRank orders the parts of a document: the body (or the shared
// strings a spreadsheet's cells refer to) first, notes last.
func partRank(name string) int {
	switch {
	case name == "word/document.xml" || name == "xl/sharedStrings.xml":
		return 0
	case strings.HasPrefix(name, "ppt/notesSlides/"):
		return 2
	}
	return 1
}

func newXMLDecoder(body []byte) *xml.Decoder {
	dec := xml.NewDecoder(bytes.NewReader(body))
	dec.Strict = false
	dec.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	return dec
}

// runs appends the text of the elements named text (local name) of an
// Office XML part, ending a line at every paragraph element para and
// writing the strings of breaks for the elements named in breaks. The
// whole part is one span named name.
func runs(b *builder, name string, body []byte, text, para string, breaks map[string]string) error {
	start := len(b.text)
	defer func() {
		if len(b.text) > start {
			b.spans = append(b.spans, span{start, len(b.text), name})
		}
	}()
	dec := newXMLDecoder(body)
	inText := 0
	for {
		tok, err := dec.RawToken()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch l := t.Name.Local; {
			case l == text || l == "delText":
				inText++
			case breaks[l] != "":
				b.addString(breaks[l])
			}
		case xml.EndElement:
			switch l := t.Name.Local; {
			case l == text || l == "delText":
				inText = max(0, inText-1)
			case l == para:
				b.newline()
			}
		case xml.CharData:
			if inText > 0 {
				b.add("", t)
				if b.full() {
					return errTextLimit
				}
			}
		}
	}
}

// sharedStrings reads xl/sharedStrings.xml: the text of every <si>,
// without phonetic runs.
func sharedStrings(body []byte) ([]string, error) {
	var (
		out []string
		cur builder
		in  bool
	)
	dec := newXMLDecoder(body)
	skipping, inText := 0, 0
	for {
		tok, err := dec.RawToken()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "si":
				in, cur.text = true, cur.text[:0]
			case "rPh":
				skipping++
			case "t":
				inText++
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "si":
				if in {
					out = append(out, string(cur.text))
				}
				in = false
			case "rPh":
				skipping = max(0, skipping-1)
			case "t":
				inText = max(0, inText-1)
			}
		case xml.CharData:
			if in && inText > 0 && skipping == 0 {
				cur.add("", t)
			}
		}
	}
}

// sheet appends the cells of a worksheet, one row a line and cells
// separated by tabs; each cell's span is named "sheet1!B3".
func sheet(b *builder, name string, body []byte, shared []string) error {
	dec := newXMLDecoder(body)
	var (
		ref, typ string
		val      []byte
		inV      bool
		cells    int
	)
	for {
		tok, err := dec.RawToken()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "row":
				b.newline()
				cells = 0
			case "c":
				ref, typ, val = "", "", val[:0]
				for _, a := range t.Attr {
					switch a.Name.Local {
					case "r":
						ref = a.Value
					case "t":
						typ = a.Value
					}
				}
			case "v", "t":
				inV = true
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "v", "t":
				inV = false
			case "c":
				s := val
				if typ == "s" {
					i, err := strconv.Atoi(strings.TrimSpace(string(val)))
					if err != nil || i < 0 || i >= len(shared) {
						s = nil
					} else {
						s = []byte(shared[i])
					}
				}
				if len(s) > 0 {
					if cells > 0 {
						b.addString("\t")
					}
					b.add(name+"!"+ref, s)
					cells++
					if b.full() {
						return errTextLimit
					}
				}
			}
		case xml.CharData:
			if inV {
				val = append(val, t...)
			}
		}
	}
}
