package delivery

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ParseManifest reads a manifest and checks it completely (see the package documentation
// for the rules), including that its signature, if any, is well formed; it does not check
// the signature's mathematics (Verify does). A leading UTF-8 byte order mark is ignored.
// Errors are *problem.Error values of kind KindInvalid whose Field names the place at
// fault, for example "artifacts[2].sha256", or carry a line and column for bad JSON.
func ParseManifest(data []byte) (*Manifest, error) {
	if len(data) > MaxManifestSize {
		return nil, invalid("", "manifest is %d bytes, more than the limit of %d", len(data), MaxManifestSize)
	}
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	if !utf8.Valid(data) {
		return nil, invalid("", "manifest is not valid UTF-8")
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, invalid("", "manifest is empty")
	}
	p := &parser{data: data, dec: json.NewDecoder(bytes.NewReader(data))}
	p.dec.UseNumber()
	m := &Manifest{}
	hasAt := false
	err := p.object("", func(key, field string) error {
		var err error
		switch key {
		case "schema":
			m.Schema, err = p.str(field)
		case "vendor":
			m.Vendor, err = p.str(field)
		case "product":
			m.Product, err = p.str(field)
		case "version":
			m.Version, err = p.str(field)
		case "delivery_id":
			m.DeliveryID, err = p.str(field)
		case "delivered_at":
			var s string
			if s, err = p.str(field); err == nil {
				m.DeliveredAt, err = parseTime(field, s)
				hasAt = true
			}
		case "artifacts":
			m.Artifacts, err = p.artifacts(field)
		case "signature":
			m.Signature, err = p.signature(field)
		default:
			err = p.unknownKey("")
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if _, err := p.dec.Token(); err != io.EOF {
		return nil, invalid("", "%s: unexpected data after the manifest object", p.position(p.dec.InputOffset()))
	}
	if m.Schema == "" {
		return nil, invalid("schema", "required (%q)", SchemaV1)
	}
	if !hasAt {
		return nil, invalid("delivered_at", "required")
	}
	if m.Artifacts == nil {
		return nil, invalid("artifacts", "required")
	}
	if err := m.validate(); err != nil {
		return nil, err
	}
	return m, nil
}

// parseTime reads an RFC 3339 time into UTC.
func parseTime(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, invalid(field, "required")
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, invalid(field, "is not an RFC 3339 time such as \"2026-11-01T08:00:00Z\"")
	}
	return t.UTC(), nil
}

// parser walks the manifest's JSON tokens so that every error can name its place and so
// that repeated or unknown keys are refused rather than silently merged.
type parser struct {
	data   []byte
	dec    *json.Decoder
	keyOff int64 // offset of the object key being read
}

// unknownKey refuses the key just read in the object at field: by its line and column,
// since the key is the client's text.
func (p *parser) unknownKey(field string) error {
	where := "the manifest"
	if field != "" {
		where = field
	}
	return invalid("", "%s: unknown field in %s", p.position(p.keyOff), where)
}

// token reads the next token; a syntax error is reported with its line and column.
func (p *parser) token(field string) (json.Token, error) {
	tok, err := p.dec.Token()
	if err == nil {
		return tok, nil
	}
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		// encoding/json's message quotes the offending character: the place is enough.
		return nil, invalid("", "%s: malformed JSON", p.position(se.Offset)).WithErr(err)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		where := "the manifest"
		if field != "" {
			where = field
		}
		return nil, invalid("", "%s: unexpected end of the document inside %s", p.position(int64(len(p.data))), where)
	default:
		return nil, invalid("", "%s: unreadable JSON", p.position(p.dec.InputOffset())).WithErr(err)
	}
}

// position turns a byte offset into "line L, column C" (columns count characters).
func (p *parser) position(off int64) string {
	off = max(0, min(off, int64(len(p.data))))
	before := p.data[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := utf8.RuneCount(before[bytes.LastIndexByte(before, '\n')+1:]) + 1
	return fmt.Sprintf("line %d, column %d", line, col)
}

// object reads a JSON object, calling each for every key; each must read the key's value.
func (p *parser) object(field string, each func(key, field string) error) error {
	tok, err := p.token(field)
	if err != nil {
		return err
	}
	if tok != json.Delim('{') {
		if field == "" {
			return invalid("", "the manifest must be a JSON object, got %s", describe(tok))
		}
		return invalid(field, "expected a JSON object, got %s", describe(tok))
	}
	return p.members(field, each)
}

// members reads the rest of an object whose opening brace has been read.
func (p *parser) members(field string, each func(key, field string) error) error {
	seen := map[string]bool{}
	for p.dec.More() {
		p.keyOff = p.dec.InputOffset()
		for p.keyOff < int64(len(p.data)) && strings.IndexByte(" \t\r\n,", p.data[p.keyOff]) >= 0 {
			p.keyOff++
		}
		tok, err := p.token(field)
		if err != nil {
			return err
		}
		key, _ := tok.(string) // the decoder only yields string keys inside an object
		kf := key
		if field != "" {
			kf = field + "." + key
		}
		if seen[key] {
			return invalid(kf, "key repeated")
		}
		seen[key] = true
		if err := each(key, kf); err != nil {
			return err
		}
	}
	_, err := p.token(field) // '}'
	return err
}

// str reads a string; null counts as absent (the empty string).
func (p *parser) str(field string) (string, error) {
	tok, err := p.token(field)
	if err != nil {
		return "", err
	}
	switch v := tok.(type) {
	case string:
		return v, nil
	case nil:
		return "", nil
	}
	return "", invalid(field, "expected a string, got %s", describe(tok))
}

func (p *parser) artifacts(field string) ([]Artifact, error) {
	tok, err := p.token(field)
	if err != nil {
		return nil, err
	}
	if tok != json.Delim('[') {
		return nil, invalid(field, "expected an array of artifacts, got %s", describe(tok))
	}
	out := []Artifact{}
	for p.dec.More() {
		if len(out) == MaxArtifacts {
			return nil, invalid(field, "more than %d artifacts", MaxArtifacts)
		}
		af := fmt.Sprintf("%s[%d]", field, len(out))
		var a Artifact
		hasName, hasSize := false, false
		err := p.object(af, func(key, kf string) error {
			var err error
			switch key {
			case "name":
				a.Name, err = p.str(kf)
				hasName = true
			case "size":
				a.Size, err = p.size(kf)
				hasSize = true
			case "sha256":
				a.SHA256, err = p.str(kf)
			case "sm3":
				a.SM3, err = p.str(kf)
			default:
				err = p.unknownKey(af)
			}
			return err
		})
		if err != nil {
			return nil, err
		}
		if !hasName {
			return nil, invalid(af+".name", "required")
		}
		if !hasSize {
			return nil, invalid(af+".size", "required")
		}
		out = append(out, a)
	}
	_, err = p.token(field) // ']'
	return out, err
}

// size reads a non-negative whole number of bytes.
func (p *parser) size(field string) (int64, error) {
	tok, err := p.token(field)
	if err != nil {
		return 0, err
	}
	n, ok := tok.(json.Number)
	if !ok {
		return 0, invalid(field, "expected a number of bytes, got %s", describe(tok))
	}
	v, err := strconv.ParseInt(n.String(), 10, 64)
	if err != nil {
		return 0, invalid(field, "is not a whole number of bytes")
	}
	if v < 0 {
		return 0, invalid(field, "must not be negative")
	}
	return v, nil
}

func (p *parser) signature(field string) (*Signature, error) {
	tok, err := p.token(field)
	if err != nil {
		return nil, err
	}
	switch tok {
	case nil:
		return nil, nil
	case json.Delim('{'):
	default:
		return nil, invalid(field, "expected a JSON object or null, got %s", describe(tok))
	}
	s := &Signature{}
	err = p.members(field, func(key, kf string) error {
		var err error
		switch key {
		case "algorithm":
			s.Algorithm, err = p.str(kf)
		case "certificate":
			s.Certificate, err = p.str(kf)
		case "public_key":
			s.PublicKey, err = p.str(kf)
		case "value":
			s.Value, err = p.str(kf)
		default:
			err = p.unknownKey(field)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// describe names a JSON token's kind for an error message.
func describe(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		switch v {
		case '{':
			return "an object"
		case '[':
			return "an array"
		}
		return fmt.Sprintf("%q", string(v))
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "true or false"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", tok)
}
