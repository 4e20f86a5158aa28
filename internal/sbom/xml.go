package sbom

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/text/encoding/ianaindex"
)

// newXMLDecoder returns a strict decoder that understands the character sets a document may
// declare. Input is already UTF-8 (see decodeText), so a declared UTF-16 is taken as is.
func newXMLDecoder(r io.Reader) *xml.Decoder {
	dec := xml.NewDecoder(r)
	dec.CharsetReader = func(label string, in io.Reader) (io.Reader, error) {
		switch strings.ToLower(strings.TrimSpace(label)) {
		case "utf-16", "utf-16le", "utf-16be", "ucs-2", "unicode":
			return in, nil
		}
		enc, err := ianaindex.IANA.Encoding(label)
		if err != nil || enc == nil {
			return nil, fmt.Errorf("unsupported character set %q", label)
		}
		return enc.NewDecoder().Reader(in), nil
	}
	return dec
}

// xmlErrLine prefers the line an xml.SyntaxError names over the decoder's position.
func xmlErrLine(err error, line int) int {
	var syn *xml.SyntaxError
	if errors.As(err, &syn) && syn.Line > 0 {
		return syn.Line
	}
	return line
}

func xmlErrMsg(err error) string {
	var syn *xml.SyntaxError
	if errors.As(err, &syn) {
		return syn.Msg
	}
	return err.Error()
}
