package sbom

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// jsonError turns an encoding/json error into a located ParseError. off is the decoder's
// offset when the error has none of its own.
func jsonError(f Format, text []byte, err error, off int64) *ParseError {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		o := syn.Offset
		if o > 0 {
			o-- // Offset is just after the offending byte
		}
		if strings.Contains(syn.Error(), "after top-level value") {
			return &ParseError{Format: f, Place: placeAt(text, o), Msg: "data after the end of the JSON document", Detail: fmt.Sprintf("%q", clip(string(text[o:]), 40)), Err: err}
		}
		return &ParseError{Format: f, Place: placeAt(text, o), Msg: "invalid JSON", Detail: syn.Error(), Err: err}
	case errors.As(err, &typ):
		// Value is "number 123" for numbers: the kind is said, the number kept for Detail.
		// Field is a path of the schema's field names, never of the document's own keys.
		kind, _, _ := strings.Cut(typ.Value, " ")
		msg := fmt.Sprintf("JSON %s where %s was expected", kind, goTypeName(typ))
		if typ.Field != "" {
			msg = fmt.Sprintf("field %s: %s", typ.Field, msg)
		}
		detail := ""
		if kind != typ.Value {
			detail = typ.Value
		}
		// The offset of a type error raised inside a library's custom unmarshaler is
		// relative to the value that unmarshaler was given, so locate the field instead.
		if ptr, o, ok := locateJSONField(text, typ.Field, kind); ok {
			return &ParseError{Format: f, Place: placeAt(text, o) + " (" + ptr + ")", Msg: msg, Detail: detail, Err: err}
		}
		return &ParseError{Format: f, Place: "document", Msg: msg, Detail: detail, Err: err}
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return &ParseError{Format: f, Place: placeAt(text, int64(len(text))), Msg: "invalid JSON: unexpected end of input", Err: err}
	}
	return &ParseError{Format: f, Place: placeAt(text, off), Msg: "invalid value", Detail: err.Error(), Err: err}
}

func goTypeName(typ *json.UnmarshalTypeError) string {
	if typ.Type == nil {
		return "another type"
	}
	switch typ.Type.Kind().String() {
	case "string":
		return "a string"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "float32", "float64":
		return "a number"
	case "bool":
		return "a boolean"
	case "slice", "array":
		return "an array"
	case "struct", "map", "ptr":
		return "an object"
	}
	return typ.Type.String()
}

// checkJSONObject reports a document whose top level is not a JSON object (a bare array,
// for instance). Trailing data after the object is reported by encoding/json itself.
func checkJSONObject(f Format, text []byte) error {
	t := trimLeft(text)
	if len(t) > 0 && t[0] != '{' {
		off := int64(len(text) - len(t))
		return &ParseError{Format: f, Place: placeAt(text, off), Msg: "the document must be a JSON object"}
	}
	return nil
}

// locateJSONField finds the first value in text whose path of object keys ends with the
// dotted field (as encoding/json reports it) and whose JSON kind is kind ("string",
// "number", "object", "array", "bool"). It returns the value's JSON pointer and offset.
func locateJSONField(text []byte, field, kind string) (string, int64, bool) {
	if field == "" {
		return "", 0, false
	}
	want := strings.Split(field, ".")
	return scanJSON(text, func(keys []string, k string, _ func() string) bool {
		if k != kind || len(keys) < len(want) {
			return false
		}
		tail := keys[len(keys)-len(want):]
		for i := range want {
			if tail[i] != want[i] {
				return false
			}
		}
		return true
	})
}

// locateJSONPointer returns the offset of the value at JSON pointer ptr.
func locateJSONPointer(text []byte, ptr string) (int64, bool) {
	_, off, ok := scanJSON(text, func(_ []string, _ string, pointer func() string) bool {
		return pointer() == ptr
	})
	return off, ok
}

// placeOfPointer formats the place of the value at ptr: its line and column when it can be
// found, and the pointer itself.
func placeOfPointer(text []byte, ptr string) string {
	if off, ok := locateJSONPointer(text, ptr); ok {
		return placeAt(text, off) + " (" + ptr + ")"
	}
	return ptr
}

// scanJSON walks the values of text in document order, calling match with the object keys
// on the path to each value held by an object (array indices left out), the value's kind
// and a function building its JSON pointer. It returns the pointer and offset of the first
// value matched.
func scanJSON(text []byte, match func(keys []string, kind string, pointer func() string) bool) (string, int64, bool) {
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	type frame struct {
		array bool
		key   string
		index int
	}
	var stack []frame
	var keys []string
	// expectKey is true when the next string token in an object is a key.
	expectKey := false
	pointer := func() string {
		var b strings.Builder
		for _, fr := range stack {
			b.WriteByte('/')
			if fr.array {
				b.WriteString(strconv.Itoa(fr.index))
			} else {
				b.WriteString(strings.NewReplacer("~", "~0", "/", "~1").Replace(fr.key))
			}
		}
		return b.String()
	}
	// afterValue advances the enclosing frame once a value is complete.
	afterValue := func() {
		if len(stack) == 0 {
			return
		}
		top := &stack[len(stack)-1]
		if top.array {
			top.index++
		} else {
			expectKey = true
		}
	}
	for {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return "", 0, false
		}
		inObject := len(stack) > 0 && !stack[len(stack)-1].array
		if inObject && expectKey {
			if s, ok := tok.(string); ok {
				stack[len(stack)-1].key = s
				keys[len(keys)-1] = s
				expectKey = false
				continue
			}
		}
		var k string
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{':
				k = "object"
			case '[':
				k = "array"
			default:
				if !stack[len(stack)-1].array {
					keys = keys[:len(keys)-1]
				}
				stack = stack[:len(stack)-1]
				afterValue()
				continue
			}
		case string:
			k = "string"
		case json.Number:
			k = "number"
		case bool:
			k = "bool"
		case nil:
			k = "null"
		}
		if len(stack) > 0 && match(keys, k, pointer) {
			// start may point at the separator before the value; skip it.
			o := start
			for o < int64(len(text)) && strings.IndexByte(" \t\r\n,:", text[o]) >= 0 {
				o++
			}
			return pointer(), o, true
		}
		switch k {
		case "object":
			stack = append(stack, frame{})
			keys = append(keys, "")
			expectKey = true
		case "array":
			stack = append(stack, frame{array: true})
		default:
			afterValue()
		}
	}
}
