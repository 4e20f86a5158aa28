package input

import (
	"bytes"
	"encoding/xml"
	"errors"
	"html"
	"io"
	"strings"
)

// xml extracts the character data and attribute values of an XML text.
// Each text is written on its own line after its element's name
// ("name: 张三"), an attribute as "@id: value"; spans are named by element
// path ("/patient/name", "/patient/@id"). A text that does not parse is
// scanned as plain text, markup and all, and reported as malformed.
func (d *decoder) xml(path string, text []byte, enc string) Unit {
	dec := xml.NewDecoder(bytes.NewReader(text))
	dec.Strict = false
	dec.Entity = xml.HTMLEntity
	dec.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil } // already UTF-8
	var (
		b     builder
		stack []string
	)
	elemPath := func(extra string) string {
		var p string
		if len(stack) > maxPathDepth {
			p = "/…/" + strings.Join(stack[len(stack)-maxPathDepth:], "/")
		} else {
			p = "/" + strings.Join(stack, "/")
		}
		if extra != "" {
			if len(stack) > 0 {
				p += "/"
			}
			p += extra
		}
		return p
	}
	for {
		tok, err := dec.RawToken()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line, _ := dec.InputPos()
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				line, err = se.Line, errors.New(se.Msg)
			}
			d.problem(path, ReasonMalformed, "xml: line %d: %v (scanned as text)", line, err)
			return Unit{Path: path, Kind: KindText, Text: text, Encoding: enc}
		}
		switch t := tok.(type) {
		case xml.StartElement:
			stack = append(stack, t.Name.Local)
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || a.Name.Local == "xmlns" || strings.TrimSpace(a.Value) == "" {
					continue
				}
				b.newline()
				b.add("", []byte("@"+a.Name.Local+": "))
				b.add(elemPath("@"+a.Name.Local), []byte(a.Value))
				b.newline()
			}
		case xml.EndElement:
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case xml.CharData:
			if len(bytes.TrimSpace(t)) == 0 {
				continue
			}
			b.newline()
			if len(stack) > 0 {
				b.add("", []byte(stack[len(stack)-1]+": "))
			}
			b.add(elemPath(""), t)
			b.newline()
		}
	}
	return Unit{Path: path, Kind: KindXML, Text: b.text, Encoding: enc, field: spanField(b.spans)}
}

// blockTag reports whether an HTML element breaks lines.
func blockTag(name string) bool {
	switch name {
	case "p", "div", "br", "tr", "td", "th", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table",
		"section", "article", "header", "footer", "ul", "ol", "dt", "dd", "pre", "blockquote",
		"title", "option", "hr", "form", "body", "head", "html":
		return true
	}
	return false
}

// stripMarkup returns the text of an HTML or XML document: tags and the
// content of style elements removed, entities decoded, block elements
// turned into line breaks; comments and scripts are kept as lines of text.
// It never fails.
func stripMarkup(text []byte) []byte {
	var b builder
	for i := 0; i < len(text); {
		lt := bytes.IndexByte(text[i:], '<')
		if lt < 0 {
			lt = len(text) - i
		}
		if lt > 0 {
			chunk := text[i : i+lt]
			if bytes.IndexByte(chunk, '&') >= 0 {
				chunk = []byte(html.UnescapeString(string(chunk)))
			}
			b.add("", chunk)
			i += lt
			continue
		}
		// text[i] == '<'
		rest := text[i:]
		switch {
		case bytes.HasPrefix(rest, []byte("<!--")):
			// Comments are kept: data hidden in them still leaks.
			end := bytes.Index(rest, []byte("-->"))
			if end < 0 {
				end = len(rest)
			}
			b.newline()
			b.add("", rest[4:max(4, end)])
			b.newline()
			i += min(end+3, len(rest))
			continue
		case bytes.HasPrefix(rest, []byte("<![CDATA[")):
			end := bytes.Index(rest, []byte("]]>"))
			if end < 0 {
				end = len(rest)
			}
			b.add("", rest[len("<![CDATA["):end])
			i += min(end+3, len(rest))
			continue
		}
		name := tagName(rest)
		if name == "" && !bytes.HasPrefix(rest, []byte("<!")) && !bytes.HasPrefix(rest, []byte("<?")) {
			b.addString("<") // a lone '<' is text
			i++
			continue
		}
		i += tagEnd(rest)
		closing := len(rest) > 1 && rest[1] == '/'
		if !closing && (name == "script" || name == "style") {
			end := indexFold(text[i:], "</"+name)
			if end < 0 {
				end = len(text) - i
			}
			if name == "script" { // scripts may embed data; styles do not
				b.newline()
				b.add("", text[i:i+end])
				b.newline()
			}
			i += end
			continue
		}
		if blockTag(name) {
			b.newline()
		}
	}
	return b.text
}

// tagName returns the lower-case name of the tag at the start of s.
func tagName(s []byte) string {
	j := 1
	if j < len(s) && s[j] == '/' {
		j++
	}
	k := j
	for k < len(s) && (s[k] >= 'a' && s[k] <= 'z' || s[k] >= 'A' && s[k] <= 'Z' || s[k] >= '0' && s[k] <= '9' || s[k] == ':' || s[k] == '-') {
		k++
	}
	if k == j || !(s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z') {
		return ""
	}
	return strings.ToLower(string(s[j:k]))
}

// tagEnd returns the length of the tag at the start of s, up to and
// including its '>', skipping quoted attribute values.
func tagEnd(s []byte) int {
	var quote byte
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '>':
			return i + 1
		}
	}
	return len(s)
}

// indexFold is bytes.Index for an ASCII lower-case sep, ignoring case.
func indexFold(s []byte, sep string) int {
	for i := 0; i+len(sep) <= len(s); i++ {
		if s[i] == '<' && strings.EqualFold(string(s[i:i+len(sep)]), sep) {
			return i
		}
	}
	return -1
}
