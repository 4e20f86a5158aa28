package sbom

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/spdx/tools-golang/spdx"
	"github.com/spdx/tools-golang/spdx/v2/v2_1"
	"github.com/spdx/tools-golang/spdx/v2/v2_2"
)

// parseSPDXJSON decodes with tools-golang's model types for the declared version (as its
// json reader does, without its extra untyped pass) and converts 2.1/2.2 to 2.3. When the
// strict decoding fails on a cosmetic deviation the document is repaired and decoded again
// (see repairSPDXJSON).
func parseSPDXJSON(text []byte) (*Document, error) {
	const f = FormatSPDXJSON
	if err := checkJSONObject(f, text); err != nil {
		return nil, err
	}
	var head struct {
		SPDXVersion any `json:"spdxVersion"`
	}
	if err := json.Unmarshal(text, &head); err != nil {
		return nil, jsonError(f, text, err, 0)
	}
	version, _ := head.SPDXVersion.(string)
	version = strings.TrimSpace(version)
	switch version {
	case v2_1.Version, v2_2.Version, spdx.Version:
	default:
		place := "document"
		if ptr, off, ok := locateJSONField(text, "spdxVersion", "string"); ok {
			place = placeAt(text, off) + " (" + ptr + ")"
		}
		return nil, &ParseError{Format: f, Place: place, Msg: "unsupported spdxVersion (SPDX-2.1, 2.2 and 2.3 are read)", Detail: fmt.Sprintf("%v", head.SPDXVersion)}
	}
	b := newBuilder(f, version)
	doc, err := decodeSPDXJSON(text, version)
	if err != nil {
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) {
			return nil, jsonError(f, text, err, 0)
		}
		fixed, perr := b.repairSPDXJSON(text)
		if perr != nil {
			return nil, perr
		}
		if fixed == nil {
			return nil, &ParseError{Format: f, Place: "document", Msg: "invalid SPDX document", Detail: err.Error(), Err: err}
		}
		if doc, err = decodeSPDXJSON(fixed, version); err != nil {
			pe := jsonError(f, text, err, 0)
			if !errors.As(err, &typ) {
				pe.Place, pe.Msg = "document", err.Error()
			}
			return nil, pe
		}
	}
	b.fromSPDX(doc)
	return b.doc, nil
}

func decodeSPDXJSON(text []byte, version string) (*spdx.Document, error) {
	switch version {
	case v2_1.Version:
		var d v2_1.Document
		if err := json.Unmarshal(text, &d); err != nil {
			return nil, err
		}
		return toSPDX23(d)
	case v2_2.Version:
		var d v2_2.Document
		if err := json.Unmarshal(text, &d); err != nil {
			return nil, err
		}
		return toSPDX23(d)
	}
	var d spdx.Document
	if err := json.Unmarshal(text, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// repairs counts the repairs made to one document, by kind, for one warning each.
type repairs struct {
	ids, parties, creators, docRefs int
	first                           map[string]string // kind → first example
}

func (r *repairs) note(kind, example string, n *int) {
	*n++
	if r.first == nil {
		r.first = map[string]string{}
	}
	if _, ok := r.first[kind]; !ok {
		r.first[kind] = example
	}
}

func (b *builder) reportRepairs(r *repairs) {
	if r.ids > 0 {
		b.warn("", WarnRepaired, fmt.Sprintf("%d element ids without the SPDXRef- prefix were prefixed (first: %s)", r.ids, quote(r.first["id"])))
	}
	if r.docRefs > 0 {
		b.warn("", WarnRepaired, fmt.Sprintf("%d external document ids without the DocumentRef- prefix were prefixed (first: %s)", r.docRefs, quote(r.first["docref"])))
	}
	if r.parties > 0 {
		b.warn("", WarnRepaired, fmt.Sprintf("%d suppliers or originators without \"Person:\" or \"Organization:\" were read as organisations (first: %s)", r.parties, quote(r.first["party"])))
	}
	if r.creators > 0 {
		b.warn("", WarnRepaired, fmt.Sprintf("%d creators or annotators without \"Person:\", \"Organization:\" or \"Tool:\" were read as tools (first: %s)", r.creators, quote(r.first["creator"])))
	}
}

// fixElementID adds a missing "SPDXRef-" prefix (also after "DocumentRef-x:") and
// corrects its case. special allows NONE and NOASSERTION.
func fixElementID(s string, special bool) (string, bool) {
	if special && (s == "NONE" || s == "NOASSERTION") {
		return s, false
	}
	const p, dp = "SPDXRef-", "DocumentRef-"
	if len(s) >= len(dp) && strings.EqualFold(s[:len(dp)], dp) {
		docPart, elem, found := strings.Cut(s, ":")
		if !found {
			return s, false
		}
		fixed, changed := fixElementID(elem, false)
		if docPart[:len(dp)] != dp {
			docPart, changed = dp+docPart[len(dp):], true
		}
		return docPart + ":" + fixed, changed
	}
	if strings.HasPrefix(s, p) {
		return s, false
	}
	if len(s) >= len(p) && strings.EqualFold(s[:len(p)], p) {
		return p + s[len(p):], true
	}
	return p + s, true
}

// hasPartyType reports whether s starts with one of the types (case-insensitive) followed
// by a colon.
func hasPartyType(s string, types ...string) (string, bool) {
	for _, t := range types {
		if len(s) > len(t) && strings.EqualFold(s[:len(t)], t) && s[len(t)] == ':' {
			return t + s[len(t):], true
		}
	}
	return s, false
}

// repairSPDXJSON fixes, in an untyped copy of the document, what tools-golang refuses in
// SBOMs published by real projects though their meaning is plain: element ids without the
// "SPDXRef-" prefix (syft 0.3x), suppliers and originators without "Organization:" or
// "Person:" (Microsoft sbom-tool), creators and annotators without a type, external
// document ids without "DocumentRef-". Fields these repairs touch must be strings; a value
// that cannot be repaired gives a ParseError naming it. It returns nil when there was
// nothing to repair.
func (b *builder) repairSPDXJSON(text []byte) ([]byte, error) {
	const f = FormatSPDXJSON
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	var root any
	if err := dec.Decode(&root); err != nil {
		return nil, jsonError(f, text, err, dec.InputOffset())
	}
	var r repairs
	fail := func(ptr, msg string) error {
		return &ParseError{Format: f, Place: placeOfPointer(text, ptr), Msg: msg}
	}
	str := func(v any, ptr string) (string, error) {
		s, ok := v.(string)
		if !ok {
			return "", fail(ptr, fmt.Sprintf("expected a string, found %s", jsonKind(v)))
		}
		return strings.TrimSpace(s), nil
	}
	fixID := func(v any, ptr string, special bool) (any, error) {
		s, err := str(v, ptr)
		if err != nil {
			return nil, err
		}
		fixed, changed := fixElementID(s, special)
		if fixed == "SPDXRef-" || strings.HasSuffix(fixed, ":SPDXRef-") {
			return nil, fail(ptr, "empty element id")
		}
		if changed {
			r.note("id", s, &r.ids)
		}
		return fixed, nil
	}
	var walk func(v any, ptr string, depth int) error
	walk = func(v any, ptr string, depth int) error {
		if depth > 200 {
			return fail(ptr, "nested too deeply")
		}
		switch t := v.(type) {
		case []any:
			for i, e := range t {
				if err := walk(e, fmt.Sprintf("%s/%d", ptr, i), depth+1); err != nil {
					return err
				}
			}
		case map[string]any:
			for _, k := range slices.Sorted(maps.Keys(t)) {
				val := t[k]
				p := ptr + "/" + strings.NewReplacer("~", "~0", "/", "~1").Replace(k)
				var err error
				switch k {
				case "SPDXID", "spdxElementId", "snippetFromFile":
					t[k], err = fixID(val, p, false)
				case "relatedSpdxElement":
					t[k], err = fixID(val, p, true)
				case "documentDescribes", "hasFiles":
					arr, ok := val.([]any)
					if !ok {
						return fail(p, fmt.Sprintf("expected an array, found %s", jsonKind(val)))
					}
					for i := range arr {
						if arr[i], err = fixID(arr[i], fmt.Sprintf("%s/%d", p, i), false); err != nil {
							return err
						}
					}
				case "externalDocumentId":
					var s string
					if s, err = str(val, p); err == nil {
						if !strings.HasPrefix(s, "DocumentRef-") {
							r.note("docref", s, &r.docRefs)
							s = "DocumentRef-" + s
						}
						t[k] = s
					}
				case "supplier", "originator":
					var s string
					if s, err = str(val, p); err == nil && s != "NOASSERTION" {
						var ok bool
						if s, ok = hasPartyType(s, "Organization", "Person"); !ok {
							r.note("party", s, &r.parties)
							s = "Organization: " + s
						}
						t[k] = s
					}
				case "creators":
					arr, ok := val.([]any)
					if !ok {
						return fail(p, fmt.Sprintf("expected an array, found %s", jsonKind(val)))
					}
					for i := range arr {
						if arr[i], err = b.fixCreator(arr[i], fmt.Sprintf("%s/%d", p, i), &r, str); err != nil {
							return err
						}
					}
				case "annotator":
					t[k], err = b.fixCreator(val, p, &r, str)
				default:
					err = walk(val, p, depth+1)
				}
				if err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk(root, "", 0); err != nil {
		return nil, err
	}
	if r.ids+r.parties+r.creators+r.docRefs == 0 {
		return nil, nil
	}
	b.reportRepairs(&r)
	return json.Marshal(root)
}

func (b *builder) fixCreator(v any, ptr string, r *repairs, str func(any, string) (string, error)) (any, error) {
	s, err := str(v, ptr)
	if err != nil {
		return nil, err
	}
	if fixed, ok := hasPartyType(s, "Person", "Organization", "Tool"); ok {
		return fixed, nil
	}
	r.note("creator", s, &r.creators)
	return "Tool: " + s, nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	}
	return "an object"
}
