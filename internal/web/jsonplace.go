package web

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
)

// unknownFieldPlace finds the first object key in body that the type of dst has no field
// for, the one encoding/json's DisallowUnknownFields refused. It returns the schema path
// of the object holding it ("$", "$.rules", "$.custom[2]") and the key's byte offset; the
// key itself is the client's text and is never returned.
func unknownFieldPlace(body []byte, dst any) (string, int64, bool) {
	t := reflect.TypeOf(dst)
	if t == nil {
		return "", 0, false
	}
	w := &jsonWalker{body: body, dec: json.NewDecoder(bytes.NewReader(body))}
	w.dec.UseNumber()
	w.walk(t, "$", 0)
	return w.path, w.off, w.found
}

type jsonWalker struct {
	body  []byte
	dec   *json.Decoder
	path  string
	off   int64
	found bool
	bad   bool // the body is not JSON the walk can follow
}

// maxWalkDepth bounds the recursion on hostile bodies.
const maxWalkDepth = 200

// walk reads one value of type t (a nil type: any value) at path.
func (w *jsonWalker) walk(t reflect.Type, path string, depth int) {
	if w.found || w.bad {
		return
	}
	if depth > maxWalkDepth {
		w.bad = true
		return
	}
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t != nil && (t == reflect.TypeFor[json.RawMessage]() || t.Kind() == reflect.Interface) {
		t = nil // any value is accepted here
	}
	tok, err := w.dec.Token()
	if err != nil {
		w.bad = true
		return
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return // a scalar
	}
	switch d {
	case '[':
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		for i := 0; w.dec.More() && !w.found && !w.bad; i++ {
			w.walk(elem, path+"["+strconv.Itoa(i)+"]", depth+1)
		}
	case '{':
		for w.dec.More() && !w.found && !w.bad {
			off := w.dec.InputOffset()
			tok, err := w.dec.Token()
			key, ok := tok.(string)
			if err != nil || !ok {
				w.bad = true
				return
			}
			switch {
			case t == nil:
				w.walk(nil, path, depth+1)
			case t.Kind() == reflect.Map:
				// A map's keys are the client's data: its values are all at path[*].
				w.walk(t.Elem(), path+"[*]", depth+1)
			case t.Kind() == reflect.Struct:
				name, ft, known := jsonField(t, key)
				if !known {
					w.path, w.off, w.found = path, w.keyOffset(off), true
					return
				}
				w.walk(ft, path+"."+name, depth+1)
			default:
				w.walk(nil, path, depth+1)
			}
		}
	default:
		return
	}
	if !w.found && !w.bad {
		if _, err := w.dec.Token(); err != nil { // the closing delimiter
			w.bad = true
		}
	}
}

// keyOffset is the offset of the key read after off: past the separator and space that
// InputOffset counts before it.
func (w *jsonWalker) keyOffset(off int64) int64 {
	for off < int64(len(w.body)) && strings.IndexByte(" \t\r\n,", w.body[off]) >= 0 {
		off++
	}
	return off
}

// lineCol returns the 1-based line and column (in characters) of byte offset off.
func lineCol(body []byte, off int64) (int, int) {
	off = min(max(off, 0), int64(len(body)))
	before := body[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	start := bytes.LastIndexByte(before, '\n') + 1
	return line, len([]rune(string(before[start:]))) + 1
}

// jsonField finds the field of struct type t that encoding/json would fill from key
// (exact name first, then case-insensitively), returning its JSON name and type.
func jsonField(t reflect.Type, key string) (string, reflect.Type, bool) {
	fields := jsonFields(t, 0)
	for _, f := range fields {
		if f.name == key {
			return f.name, f.typ, true
		}
	}
	for _, f := range fields {
		if strings.EqualFold(f.name, key) {
			return f.name, f.typ, true
		}
	}
	return "", nil, false
}

type jsonFieldInfo struct {
	name string
	typ  reflect.Type
}

// jsonFields lists the JSON fields of struct type t, with those of embedded structs.
func jsonFields(t reflect.Type, depth int) []jsonFieldInfo {
	var out []jsonFieldInfo
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		ft := f.Type
		if f.Anonymous && name == "" {
			et := ft
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct && depth < 10 {
				out = append(out, jsonFields(et, depth+1)...)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, jsonFieldInfo{name: name, typ: ft})
	}
	return out
}
