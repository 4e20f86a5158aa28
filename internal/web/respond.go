package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/medguard/medguard/internal/paging"
	"github.com/medguard/medguard/internal/problem"
)

// maxJSONBody bounds every JSON request body.
const maxJSONBody = 1 << 20

// writeJSON writes v as JSON with status code.
func writeJSON(w http.ResponseWriter, code int, v any) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	return enc.Encode(v)
}

// errorBody is the JSON shape of every API error.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

func writeError(w http.ResponseWriter, pe *problem.Error) {
	if pe.Kind == problem.KindUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="medguard"`)
	}
	_ = writeJSON(w, statusOf(pe.Kind), errorBody{Error: errorDetail{Code: pe.Code, Message: pe.Message, Field: pe.Field}})
}

// decodeJSON reads exactly one JSON object into dst, refusing unknown fields, trailing
// data and bodies over maxJSONBody.
func decodeJSON(r *http.Request, dst any) error {
	return decodeJSONFrom(io.LimitReader(r.Body, maxJSONBody+1), dst)
}

// decodeJSONFrom is decodeJSON on a reader; the fuzz tests call it directly. Its errors
// say where the body is wrong (line and column, the schema path of an object) and never
// quote the body; encoding/json's own message is kept as the problem's cause.
func decodeJSONFrom(body io.Reader, dst any) error {
	data, err := io.ReadAll(io.LimitReader(body, maxJSONBody+1))
	var mbe *http.MaxBytesError
	switch {
	case len(data) > maxJSONBody || errors.As(err, &mbe):
		return problem.Invalid("", "request body is larger than %d bytes", maxJSONBody).WithCode("body_too_large").WithMsg("error.msg.body_too_large", maxJSONBody)
	case err != nil:
		return problem.Invalid("", "the request body could not be read").WithCode("bad_json").WithMsg("error.msg.body_unreadable").WithErr(err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		detail := describeJSONError(data, dst, err)
		return problem.Invalid("", "%s", detail).WithCode("bad_json").WithMsg("error.msg.bad_json", detail).WithErr(err)
	}
	if off := dec.InputOffset(); len(bytes.TrimSpace(data[off:])) > 0 {
		l, c := lineCol(data, off+int64(len(data[off:])-len(bytes.TrimLeft(data[off:], " \t\r\n"))))
		return problem.Invalid("", "request body has data after the JSON object (line %d, column %d)", l, c).WithCode("bad_json").
			WithMsg("error.msg.json_trailing", l, c)
	}
	return nil
}

// describeJSONError says what is wrong with a body and where, without echoing its content:
// encoding/json quotes unknown keys, and numbers that do not fit.
func describeJSONError(body []byte, dst any, err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	at := func(off int64) string {
		l, c := lineCol(body, off)
		return fmt.Sprintf("line %d, column %d", l, c)
	}
	switch {
	case errors.As(err, &syn):
		return "malformed JSON at " + at(syn.Offset-1)
	case errors.As(err, &typ):
		// Field is a path of the schema's own names; Value is "number 123" for numbers.
		kind, _, _ := strings.Cut(typ.Value, " ")
		if typ.Field != "" {
			// Offset is where the value ends.
			if want := jsonKindOf(typ.Type); want != kind {
				return fmt.Sprintf("field %q must be a JSON %s, not %s (the value ending at %s)", typ.Field, want, kind, at(typ.Offset-1))
			}
			return fmt.Sprintf("field %q is out of range (the value ending at %s)", typ.Field, at(typ.Offset-1))
		}
		return fmt.Sprintf("the body must be a JSON object (found %s)", kind)
	case errors.Is(err, io.EOF):
		return "request body is empty"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "request body ends in the middle of a JSON value"
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		if path, off, ok := unknownFieldPlace(body, dst); ok {
			return fmt.Sprintf("unknown field at %s in the object %s", at(off), path)
		}
		return "the body has an unknown field"
	}
	return "invalid JSON value"
}

// jsonKindOf names the JSON kind that Go type t is read from.
func jsonKindOf(t reflect.Type) string {
	if t == nil {
		return "value"
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Struct, reflect.Map:
		return "object"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8,
		reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return "number"
	}
	return "value"
}

// pathID parses the {id} path segment.
func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, problem.NotFound("object")
	}
	return id, nil
}

// queryInt reads an integer query parameter, def when absent.
func queryInt(r *http.Request, name string, def int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, problem.Invalid(name, "%s must be an integer", name).WithMsg("error.msg.not_integer")
	}
	return n, nil
}

// listResponse is the envelope of every API list (package paging owns it).
type listResponse[T any] = paging.Envelope[T]

// pageParams reads the paging parameters of a list request under spec.
func pageParams(r *http.Request, spec paging.Spec) (paging.Params, error) {
	return paging.Parse(r.URL.Query(), spec)
}

// writeList answers a list held in full in memory, cut to the request's page.
func writeList[T any](w http.ResponseWriter, r *http.Request, spec paging.Spec, all []T) error {
	p, err := pageParams(r, spec)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, paging.Slice(r.URL, p, all))
}
