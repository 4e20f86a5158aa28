package sbom

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

const cycloneDXNamespacePrefix = "http://cyclonedx.org/schema/bom/"

// Detect tells the format of data from its content: JSON with "bomFormat": "CycloneDX" (or a
// CycloneDX "$schema" or "specVersion"), JSON with "spdxVersion", XML whose root is bom in a
// http://cyclonedx.org/schema/bom/1.x namespace, or tag-value text with a line starting
// "SPDXVersion:". A leading byte-order mark and white space are allowed. Anything else gives
// a *ParseError wrapping ErrNotSBOM.
func Detect(data []byte) (Format, error) {
	if len(data) > MaxSize {
		return "", &ParseError{Place: "input", Msg: fmt.Sprintf("document is %d bytes, more than the %d allowed", len(data), MaxSize)}
	}
	text, err := decodeText(data)
	if err != nil {
		return "", &ParseError{Place: "input", Msg: "the text cannot be read", Detail: err.Error(), Err: err}
	}
	t := trimLeft(text)
	if len(t) == 0 {
		return "", notSBOM("document", "empty input")
	}
	switch t[0] {
	case '{', '[':
		return detectJSON(text)
	case '<':
		return detectXML(text)
	}
	if hasTagValueVersion(text) {
		return FormatSPDXTagValue, nil
	}
	return "", notSBOM("document", "")
}

func notSBOM(place, why string) *ParseError {
	msg := ErrNotSBOM.Error()
	if why != "" {
		msg += " (" + why + ")"
	}
	return &ParseError{Place: place, Msg: msg, Err: ErrNotSBOM}
}

// notSBOMFound is notSBOM for a document whose root names something else: why says what
// in general, found quotes it.
func notSBOMFound(place, why, found string) *ParseError {
	e := notSBOM(place, why)
	e.Detail = found
	return e
}

// detectJSON reads the top-level keys of a JSON object until one of them tells the format.
func detectJSON(text []byte) (Format, error) {
	dec := json.NewDecoder(bytes.NewReader(text))
	tok, err := dec.Token()
	if err != nil {
		return "", jsonError("", text, err, dec.InputOffset())
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		if json.Valid(text) {
			return "", notSBOM("document", "a JSON document whose top level is not an object")
		}
		return "", notSBOM("document", "")
	}
	cdxHint := false
	for dec.More() {
		keyTok, err := dec.Token()
		if err != nil {
			return "", jsonError("", text, err, dec.InputOffset())
		}
		key, _ := keyTok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return "", jsonError("", text, err, dec.InputOffset())
		}
		var s string
		if json.Unmarshal(raw, &s) != nil {
			continue
		}
		switch key {
		case "bomFormat":
			if strings.EqualFold(strings.TrimSpace(s), "CycloneDX") {
				return FormatCycloneDXJSON, nil
			}
		case "spdxVersion":
			if strings.HasPrefix(strings.ToUpper(strings.TrimSpace(s)), "SPDX-") {
				return FormatSPDXJSON, nil
			}
		case "$schema":
			if strings.Contains(strings.ToLower(s), "cyclonedx") {
				cdxHint = true
			}
		case "specVersion":
			if strings.HasPrefix(s, "1.") {
				cdxHint = true
			}
		}
	}
	if cdxHint {
		return FormatCycloneDXJSON, nil
	}
	return "", notSBOM("document", "JSON without bomFormat or spdxVersion")
}

// detectXML looks at the root element.
func detectXML(text []byte) (Format, error) {
	dec := newXMLDecoder(bytes.NewReader(text))
	for {
		tok, err := dec.Token()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return "", notSBOM("document", "XML without a root element")
			}
			line, _ := dec.InputPos()
			return "", &ParseError{Place: fmt.Sprintf("line %d", xmlErrLine(err, line)), Msg: "invalid XML", Detail: xmlErrMsg(err), Err: err}
		}
		start, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		line, _ := dec.InputPos()
		place := fmt.Sprintf("line %d", line)
		switch {
		case start.Name.Local == "bom" && strings.HasPrefix(start.Name.Space, cycloneDXNamespacePrefix):
			return FormatCycloneDXXML, nil
		case start.Name.Local == "bom":
			return "", notSBOMFound(place, "root element bom in another namespace", fmt.Sprintf("namespace %q", start.Name.Space))
		case start.Name.Local == "RDF":
			return "", notSBOM(place, "SPDX RDF/XML is not supported; use SPDX JSON or tag-value")
		}
		return "", notSBOMFound(place, "another XML root element", "root element "+quote(start.Name.Local))
	}
}

// hasTagValueVersion reports whether some line of text starts with "SPDXVersion:". Lines
// may end in LF, CRLF or a lone CR.
func hasTagValueVersion(text []byte) bool {
	const tag = "SPDXVersion"
	for off := 0; ; {
		i := bytes.Index(text[off:], []byte(tag))
		if i < 0 {
			return false
		}
		i += off
		off = i + len(tag)
		j := i
		for j > 0 && (text[j-1] == ' ' || text[j-1] == '\t') {
			j--
		}
		if j != 0 && text[j-1] != '\n' && text[j-1] != '\r' {
			continue
		}
		rest := bytes.TrimLeft(text[off:], " \t")
		if len(rest) > 0 && rest[0] == ':' {
			return true
		}
	}
}
