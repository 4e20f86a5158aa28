package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

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

// decodeJSONFrom is decodeJSON on a reader; the fuzz tests call it directly.
func decodeJSONFrom(body io.Reader, dst any) error {
	lr := &countingReader{r: body}
	dec := json.NewDecoder(lr)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		if lr.n > maxJSONBody {
			return problem.Invalid("", "request body is larger than %d bytes", maxJSONBody).WithCode("body_too_large")
		}
		return problem.Invalid("", "%s", describeJSONError(err)).WithCode("bad_json")
	}
	if dec.More() {
		return problem.Invalid("", "request body has data after the JSON object").WithCode("bad_json")
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); err != io.EOF {
		return problem.Invalid("", "request body has data after the JSON object").WithCode("bad_json")
	}
	if lr.n > maxJSONBody {
		return problem.Invalid("", "request body is larger than %d bytes", maxJSONBody).WithCode("body_too_large")
	}
	return nil
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// describeJSONError says what is wrong with a body without echoing its content.
func describeJSONError(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("malformed JSON at byte %d", syn.Offset)
	case errors.As(err, &typ):
		if typ.Field != "" {
			return fmt.Sprintf("field %q must be a JSON %s", typ.Field, typ.Type.Kind())
		}
		return fmt.Sprintf("the body must be a JSON object (found %s)", typ.Value)
	case errors.Is(err, io.EOF):
		return "request body is empty"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "request body ends in the middle of a JSON value"
	}
	msg := err.Error()
	if len(msg) > 120 {
		msg = msg[:120]
	}
	return "invalid JSON: " + msg
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
		return 0, problem.Invalid(name, "%s must be an integer", name)
	}
	return n, nil
}

// listResponse is the envelope of every paginated API list.
type listResponse[T any] struct {
	Items   []T `json:"items"`
	Total   int `json:"total"`
	Page    int `json:"page"`
	PerPage int `json:"per_page"`
}
